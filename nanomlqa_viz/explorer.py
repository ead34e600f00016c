"""Headless logic of the query explorer: outcome filters, ranked columns, overlap, highlights.

Everything the explorer page shows is computed here from the query table
(:func:`nanomlqa_viz.analysis.query_table`), the task and its ranked profiles:

* :data:`OUTCOMES` — named predicates over the query table ("dense top-10, BM25 > 100", ...);
  :func:`available_outcomes` keeps those whose columns exist (dense may still be computing);
* :func:`filter_queries` — languages, pair, script relation, outcome and free text;
* :func:`ranked_column` / :func:`reference_column` — the top-k passages of one profile for one
  query, with the positive pinned at its true rank (and tie interval) when it is below k;
* :func:`overlap_at`, :func:`rank_changes`, :func:`rank_summary` — how profiles differ;
* :func:`highlight_spans` — which words of a passage share a tokenizer token with the query.

Ranks of computed profiles follow the tie policy of :mod:`nanomlqa_viz.ranking`; ranks of a
reference subset are list positions, and an injected entry (the positive appended by the
dataset builder after the last real rank) is never a rank.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from types import MappingProxyType

import numpy as np
import pandas as pd
import regex

from nanomlqa_viz.analysis import TextLanguages
from nanomlqa_viz.formatting import format_interval
from nanomlqa_viz.ranking import RankedProfile, RankInfo
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import tokenize

__all__ = [
    "COLUMN_FIELDS",
    "OUTCOMES",
    "SCRIPT_RELATIONS",
    "Outcome",
    "available_outcomes",
    "browse_columns",
    "compare_columns",
    "filter_queries",
    "format_interval",
    "highlight_spans",
    "overlap_at",
    "positive_ranks",
    "rank_changes",
    "rank_summary",
    "ranked_column",
    "reference_column",
    "sort_queries",
    "truncate_text",
]

COMPUTED_PROFILES = ("bm25", "dense", "hybrid")
SCRIPT_RELATIONS = ("any", "same", "different")
_COMPUTED_RANKS = tuple(f"rank_{p}" for p in COMPUTED_PROFILES)
COLUMN_FIELDS = (
    "rank",  # computed: policy rank; reference: list position; <NA> when the positive is not ranked
    "interval",  # the ranks the passage could hold among equal scores ("2–9,731"), else the rank
    "score",  # NaN for reference subsets (lists carry no score)
    "doc_id",
    "lang",
    "script",
    "is_positive",
    "beats_positive",  # ranks above the best positive (or the positive is not ranked at all)
    "pinned",  # an extra row: a positive below k, at its true rank
    "note",  # on pinned rows: where the positive is
    "text",
)


# --------------------------------------------------------------------------- outcome filters


def _rank(table: pd.DataFrame, name: str) -> pd.Series:
    return table[f"rank_{name}"]


def _true(mask: pd.Series) -> pd.Series:
    """A boolean mask where missing values (no positive, not ranked) count as False."""
    return mask.fillna(False).astype(bool)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """A named predicate over the query table; ``needs`` names the columns it reads."""

    key: str  # the URL value
    label: str
    needs: tuple[str, ...]
    predicate: Callable[[pd.DataFrame], pd.Series]
    help: str = ""

    def applies_to(self, table: pd.DataFrame) -> bool:
        return all(c in table.columns for c in self.needs)

    def __call__(self, table: pd.DataFrame) -> pd.Series:
        return _true(self.predicate(table)).reindex(table.index, fill_value=False)


def _outcomes() -> Mapping[str, Outcome]:
    def every_misses(k: int) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda t: _true(
            pd.concat([_rank(t, p) > k for p in COMPUTED_PROFILES], axis=1).all(axis=1) & (t["n_positives"] > 0)
        )

    items = [
        Outcome(key="any", label="any outcome", needs=(), predicate=lambda t: pd.Series(True, index=t.index)),
        Outcome(
            key="dense-not-bm25",
            label="dense top-10, BM25 > 100",
            needs=("rank_dense", "rank_bm25"),
            predicate=lambda t: (_rank(t, "dense") <= 10) & (_rank(t, "bm25") > 100),
            help="the dense profile finds the positive, BM25 loses it (typically cross-script)",
        ),
        Outcome(
            key="bm25-not-dense",
            label="BM25 top-10, dense > 100",
            needs=("rank_bm25", "rank_dense"),
            predicate=lambda t: (_rank(t, "bm25") <= 10) & (_rank(t, "dense") > 100),
            help="BM25 finds the positive, the dense profile loses it",
        ),
        Outcome(
            key="hybrid-below-dense",
            label="hybrid worse than dense",
            needs=("rank_hybrid", "rank_dense"),
            predicate=lambda t: _rank(t, "hybrid") > _rank(t, "dense"),
            help="fusion ranks the positive lower than dense alone",
        ),
        Outcome(
            key="hybrid-below-bm25",
            label="hybrid worse than BM25",
            needs=("rank_hybrid", "rank_bm25"),
            predicate=lambda t: _rank(t, "hybrid") > _rank(t, "bm25"),
            help="fusion ranks the positive lower than BM25 alone",
        ),
        Outcome(
            key="all-miss-10",
            label="every profile misses the top 10",
            needs=(*_COMPUTED_RANKS, "n_positives"),
            predicate=every_misses(10),
            help="BM25, dense and hybrid all rank the positive below 10",
        ),
        Outcome(
            key="all-miss-100",
            label="every profile misses the top 100",
            needs=(*_COMPUTED_RANKS, "n_positives"),
            predicate=every_misses(100),
            help="BM25, dense and hybrid all rank the positive below 100",
        ),
        Outcome(
            key="bm25-tied",
            label="BM25 positive tied (cannot be told apart)",
            needs=("ties_bm25",),
            predicate=lambda t: t["ties_bm25"] > 0,
            help="other passages have exactly the positive's BM25 score, so its rank is only an interval",
        ),
        Outcome(
            key="no-positive",
            label="query without a positive",
            needs=("n_positives",),
            predicate=lambda t: t["n_positives"] == 0,
            help="no relevant passage in the qrels: every metric scores 0",
        ),
    ]
    return MappingProxyType({o.key: o for o in items})


OUTCOMES: Mapping[str, Outcome] = _outcomes()
"""Outcome filters by URL key, in display order; ``"any"`` keeps every query."""


def available_outcomes(table: pd.DataFrame) -> list[str]:
    """Keys of the outcomes whose columns the table has (dense/hybrid may still be computing)."""
    return [key for key, outcome in OUTCOMES.items() if outcome.applies_to(table)]


def filter_queries(
    table: pd.DataFrame,
    *,
    query_langs: Collection[str] = (),
    positive_langs: Collection[str] = (),
    pairs: Collection[str] = (),
    script_relation: str = "any",
    outcome: str = "any",
    text: str = "",
) -> pd.DataFrame:
    """The rows of the query table that pass every filter (an empty collection filters nothing).

    ``text`` is a case-insensitive substring of the query text, the query id or the positive id.
    Raises ``ValueError`` for an unknown script relation or outcome, or an outcome whose
    columns the table lacks.
    """
    if script_relation not in SCRIPT_RELATIONS:
        raise ValueError(f"script_relation must be one of {', '.join(SCRIPT_RELATIONS)}, not {script_relation!r}")
    chosen = OUTCOMES.get(outcome)
    if chosen is None:
        raise ValueError(f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})")
    if not chosen.applies_to(table):
        missing = [c for c in chosen.needs if c not in table.columns]
        raise ValueError(f"outcome {outcome!r} needs the columns {', '.join(missing)}")
    mask = pd.Series(True, index=table.index)
    if query_langs:
        mask &= table["query_lang"].isin(list(query_langs))
    if positive_langs:
        mask &= table["positive_lang"].isin(list(positive_langs))
    if pairs:
        mask &= table["pair"].isin(list(pairs))
    if script_relation != "any":
        mask &= table["script_relation"] == script_relation
    if outcome != "any":
        mask &= chosen(table)
    needle = text.strip()
    if needle:
        found = pd.Series(False, index=table.index)
        for column in ("query_text", "query_id", "positive_id"):
            found |= table[column].astype(str).str.contains(needle, case=False, regex=False)
        mask &= found
    return table[mask]


def sort_queries(table: pd.DataFrame, column: str = "query_id", *, descending: bool = False) -> pd.DataFrame:
    """Rows sorted by one column (missing values last), then by query id; a stable, total order."""
    if column not in table.columns:
        raise ValueError(f"no column {column!r} to sort by")
    if column == "query_id":
        return table.sort_values("query_id", ascending=not descending, kind="stable")
    by_id = table.sort_values("query_id", kind="stable")
    return by_id.sort_values(column, ascending=not descending, na_position="last", kind="stable")


def browse_columns(table: pd.DataFrame, names: Sequence[str], *, ties_for: Sequence[str] = ("bm25",)) -> list[str]:
    """Columns of the one-row-per-query table a page shows: id, pair, a rank per profile, text last.

    ``names`` are profile names (``bm25``, ``reference/<config>``, ...); the ``ties_`` column of
    each profile in ``ties_for`` is added when any of its positives is tied.
    """
    out = [c for c in ("query_id", "pair", "script_relation") if c in table.columns]
    out += [f"rank_{name}" for name in names if f"rank_{name}" in table.columns]
    for name in ties_for:
        ties = f"ties_{name}"
        if ties in table.columns and bool((table[ties].fillna(0) > 0).any()):
            out.append(ties)
    return out + [c for c in ("positive_id", "query_text") if c in table.columns]


def rank_summary(table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Per profile over the given rows: n queries with a positive, hit@1/10/100, median rank.

    A query whose positive a reference subset does not rank counts as a miss (``unranked``).
    """
    with_positive = table[table["n_positives"] > 0] if "n_positives" in table.columns else table
    rows = []
    for name in names:
        column = f"rank_{name}"
        if column not in with_positive.columns:
            continue
        ranks = with_positive[column]
        n = len(ranks)
        ranked = ranks.dropna()
        row: dict[str, object] = {"profile": name, "n": n}
        for k in (1, 10, 100):
            hits = int((ranked <= k).sum())
            row[f"hit@{k}"] = hits / n if n else float("nan")
            row[f"n@{k}"] = hits
        row["median rank"] = float(ranked.median()) if len(ranked) else float("nan")
        row["unranked"] = n - len(ranked)
        rows.append(row)
    columns = ["profile", "n", "n@1", "hit@1", "n@10", "hit@10", "n@100", "hit@100", "median rank", "unranked"]
    return pd.DataFrame(rows, columns=columns).set_index("profile")


# --------------------------------------------------------------------------- ranked columns


def _interval(info: RankInfo) -> str:
    return info.interval()


def _query_index(task: Task, qi: int) -> str:
    if not 0 <= qi < task.n_queries:
        raise IndexError(f"query index {qi} is outside 0..{task.n_queries - 1}")
    return task.query_ids[qi]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMN_FIELDS))
    frame["rank"] = pd.array(frame["rank"].tolist(), dtype="Int64")
    frame["score"] = frame["score"].astype(float)
    for flag in ("is_positive", "beats_positive", "pinned"):
        frame[flag] = frame[flag].astype(bool)
    return frame


def _row(task: Task, languages: TextLanguages, di: int, **fields: object) -> dict[str, object]:
    return {
        "doc_id": task.doc_ids[di],
        "lang": languages.doc_lang[di],
        "script": languages.doc_script[di],
        "text": task.doc_texts[di],
        "note": "",
        "pinned": False,
        **fields,
    }


def ranked_column(task: Task, languages: TextLanguages, profile: RankedProfile, qi: int, *, k: int = 10) -> pd.DataFrame:
    """The top-``k`` passages of a computed profile for query index ``qi`` (columns: :data:`COLUMN_FIELDS`).

    Every positive ranked below ``k`` follows as a ``pinned`` row at its true rank, with its tie
    interval in ``interval`` and a ``note``. ``beats_positive`` marks passages ranked above the
    best positive (by the tie policy: a passage tied with the positive may hold it only by id).
    """
    query_id = _query_index(task, qi)
    positives = {task.doc_index[d] for d in task.positives(query_id)}
    infos = {d: profile.rank_info(qi, d) for d in positives}
    best = min((info.rank for info in infos.values()), default=None)
    top = [int(d) for d in profile.top(qi, k)]
    rows = []
    for di in top:
        info = infos.get(di) or profile.rank_info(qi, di)
        rows.append(
            _row(
                task,
                languages,
                di,
                rank=info.rank,
                interval=_interval(info),
                score=info.score,
                is_positive=di in positives,
                beats_positive=best is not None and info.rank < best,
            )
        )
    for di in sorted(set(positives) - set(top), key=lambda d: infos[d].rank):
        info = infos[di]
        note = f"positive at rank {info.rank:,}"
        if info.ties:
            note += f", tied with {info.ties:,} other passage{'s' if info.ties > 1 else ''} (ranks {_interval(info)})"
        rows.append(
            _row(
                task,
                languages,
                di,
                rank=info.rank,
                interval=_interval(info),
                score=info.score,
                is_positive=True,
                beats_positive=False,
                pinned=True,
                note=note,
            )
        )
    return _frame(rows)


def reference_column(task: Task, languages: TextLanguages, config: str, query_id: str, *, k: int = 10) -> pd.DataFrame:
    """The first ``k`` entries of a reference candidate subset for a query (columns: :data:`COLUMN_FIELDS`).

    ``rank`` is the list position and ``score`` is NaN. A positive below ``k`` is pinned at its
    position; a positive absent from the list is pinned without a rank, noted "not in list" or,
    when the dataset builder appended it after the last real rank, "injected entry (not a rank)".
    """
    if config not in task.candidates:
        raise KeyError(f"no candidate subset {config!r} (have: {', '.join(task.candidates) or 'none'})")
    if query_id not in task.query_index:
        raise KeyError(f"unknown query id {query_id!r}")
    subset = task.candidates[config]
    ranking = subset.ranking(query_id)
    positives = task.positives(query_id)
    positions = {d: i for i, d in enumerate(ranking, start=1) if d in positives}
    best = min(positions.values(), default=None)
    rows = []
    for position, doc_id in enumerate(ranking[:k], start=1):
        rows.append(
            _row(
                task,
                languages,
                task.doc_index[doc_id],
                rank=position,
                interval=f"{position:,}",
                score=np.nan,
                is_positive=doc_id in positives,
                beats_positive=bool(positives) and (best is None or position < best),
            )
        )
    for doc_id in sorted(positives, key=lambda d: (positions.get(d, 1 << 62), d)):
        position = positions.get(doc_id)
        if position is not None and position <= k:
            continue
        if position is not None:
            note, rank, interval = f"positive at list position {position:,}", position, f"{position:,}"
        else:
            rank, interval = None, ""
            if subset.injected.get(query_id) == doc_id:
                note = "injected entry (not a rank)"
            elif query_id not in subset.lists:
                note = "not in list (no list for this query)"
            else:
                note = f"not in list ({len(ranking)} entries)"
        rows.append(
            _row(
                task,
                languages,
                task.doc_index[doc_id],
                rank=rank,
                interval=interval,
                score=np.nan,
                is_positive=True,
                beats_positive=False,
                pinned=True,
                note=note,
            )
        )
    return _frame(rows)


# --------------------------------------------------------------------------- comparing profiles


def overlap_at(a_ids: Sequence[str], b_ids: Sequence[str], k: int) -> int:
    """How many passages the first ``k`` of two rankings share."""
    return len(set(list(a_ids)[:k]) & set(list(b_ids)[:k]))


def _value(row: Mapping[str, object] | pd.Series, column: str) -> int | None:
    value = row.get(column) if hasattr(row, "get") else None
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)


def rank_changes(table_row: Mapping[str, object] | pd.Series, profiles: Sequence[str]) -> pd.DataFrame:
    """Where the positive moved between every pair of profiles (in the given order).

    One row per pair: ``from``, ``to``, their ranks (``<NA>`` when not ranked, e.g. not in a
    reference list), ``change`` (positive = moved up, towards rank 1), ``tied`` (both are ranked
    and either rank is a tie interval, so the move may be the tie-break alone) and a short ``moved`` text
    ("up 12", "down 3", "unchanged", "not ranked").
    """
    rows = []
    for a, b in combinations(profiles, 2):
        ra, rb = _value(table_row, f"rank_{a}"), _value(table_row, f"rank_{b}")
        tied = any((_value(table_row, f"ties_{p}") or 0) > 0 for p in (a, b))
        if ra is None or rb is None:
            change, moved, tied = None, "not ranked", False
        else:
            change = ra - rb
            moved = "unchanged" if change == 0 else f"{'up' if change > 0 else 'down'} {abs(change):,}"
        rows.append({"from": a, "to": b, "rank_from": ra, "rank_to": rb, "change": change, "tied": tied, "moved": moved})
    frame = pd.DataFrame(rows, columns=["from", "to", "rank_from", "rank_to", "change", "tied", "moved"])
    for column in ("rank_from", "rank_to", "change"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame["tied"] = frame["tied"].astype(bool)
    return frame


def compare_columns(columns: Mapping[str, pd.DataFrame], table_row: Mapping[str, object] | pd.Series, *, k: int) -> pd.DataFrame:
    """Every pair of shown columns (:func:`ranked_column` / :func:`reference_column` frames, by profile name).

    The :func:`rank_changes` of the positive between them plus ``overlap``: how many passages
    their first ``k`` (unpinned) rows share.
    """
    frame = rank_changes(table_row, list(columns))
    top = {name: list(col.loc[~col["pinned"], "doc_id"]) for name, col in columns.items()}
    frame["overlap"] = pd.array([overlap_at(top[a], top[b], k) for a, b in zip(frame["from"], frame["to"])], dtype="Int64")
    return frame


def positive_ranks(task: Task, table_row: Mapping[str, object] | pd.Series, names: Sequence[str]) -> pd.DataFrame:
    """Where the query's positive ranks in each named profile: ``rank``, tie ``interval``, ``note``.

    ``table_row`` is the query's row of the query table. A reference subset that does not rank
    the positive gets no rank and a note: "injected entry (not a rank)", "not in list" or
    "no list for this query".
    """
    query_id = str(table_row["query_id"])
    positive = task.first_positive(query_id)
    rows = []
    for name in names:
        rank = _value(table_row, f"rank_{name}")
        interval, note = "", ""
        if name.startswith("reference/"):
            subset = task.candidates.get(name.split("/", 1)[1])
            if rank is not None:
                interval = f"{rank:,}"
            elif positive is None:
                note = "no positive"
            elif subset is not None and subset.injected.get(query_id) == positive:
                note = "injected entry (not a rank)"
            elif subset is not None and query_id not in subset.lists:
                note = "no list for this query"
            else:
                note = "not in list"
        elif rank is None:
            note = "no positive"
        else:
            first, last = _value(table_row, f"tie_first_{name}"), _value(table_row, f"tie_last_{name}")
            interval = format_interval(first or rank, last or rank)
            if first is not None and last is not None and last > first:
                note = f"tied with {last - first:,} other passage{'s' if last - first > 1 else ''}"
        rows.append({"profile": name, "rank": rank, "interval": interval, "note": note})
    frame = pd.DataFrame(rows, columns=["profile", "rank", "interval", "note"])
    frame["rank"] = pd.array(frame["rank"].tolist(), dtype="Int64")
    return frame


# --------------------------------------------------------------------------- highlighting

# Runs of word characters as the tokenizer sees them, plus the invisible characters it drops
# (soft hyphen, zero-width (non-)joiner, word joiner, BOM) so that "Wiki\u00adpedia" stays one run.
_RUN = regex.compile(r"[\p{L}\p{M}\p{N}\u00ad\u200c\u200d\u2060\ufeff]+")
_NO_SPACE = regex.compile(r"[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]")
_GRAPHEME = regex.compile(r"\X")


def _mark_run(run: str, tokens: Collection[str]) -> list[tuple[str, bool]]:
    """Split one word run into (segment, matched) parts, word by word and bigram by bigram."""
    graphemes = _GRAPHEME.findall(run)
    groups: list[tuple[bool, list[str]]] = []  # (unspaced script, graphemes)
    for g in graphemes:
        unspaced = bool(_NO_SPACE.match(g))
        if groups and groups[-1][0] == unspaced:
            groups[-1][1].append(g)
        else:
            groups.append((unspaced, [g]))
    out: list[tuple[str, bool]] = []
    for unspaced, chars in groups:
        if not unspaced:
            word = "".join(chars)
            out.append((word, any(t in tokens for t in tokenize(word))))
            continue
        if len(chars) == 1:
            out.append((chars[0], any(t in tokens for t in tokenize(chars[0]))))
            continue
        marked = [False] * len(chars)
        for i in range(len(chars) - 1):
            if any(t in tokens for t in tokenize(chars[i] + chars[i + 1])):
                marked[i] = marked[i + 1] = True
        out.extend(zip(chars, marked))
    return out


def highlight_spans(text: str, query_tokens: Collection[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (segment, matched) pieces that rejoin to it exactly.

    A word is matched when its tokenizer tokens (:func:`nanomlqa_viz.tokenizer.tokenize`) are
    among ``query_tokens``; in unspaced scripts (Han, kana, Thai, ...) both characters of a
    matched bigram are marked. Adjacent pieces with the same flag are merged.
    """
    tokens = query_tokens if isinstance(query_tokens, (set, frozenset)) else frozenset(query_tokens)
    pieces: list[tuple[str, bool]] = []
    position = 0
    if tokens:
        for match in _RUN.finditer(text):
            if match.start() > position:
                pieces.append((text[position : match.start()], False))
            pieces.extend(_mark_run(match.group(), tokens))
            position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    merged: list[tuple[str, bool]] = []
    for segment, matched in pieces:
        if not segment:
            continue
        if merged and merged[-1][1] == matched:
            merged[-1] = (merged[-1][0] + segment, matched)
        else:
            merged.append((segment, matched))
    return merged


def truncate_text(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to at most ``limit`` characters at a space where one is near, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + " …", True
