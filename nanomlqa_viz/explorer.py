"""Headless logic of the query explorer: outcome filters, the query table, profile columns, comparisons, highlights.

Everything the explorer page shows is computed here from a :class:`~nanomlqa_viz.pipeline.View`
(its query table, registry, tie-aware metrics and analysis) or from the parts of one:

* :func:`outcomes` — named predicates over the query table, offered only when the profiles they
  read are in the registry ("dense top-10, BM25 > 100", "a run finds it, every computed profile
  misses", ...); :func:`filter_queries` — languages, pair, script relation, outcome, free text;
* :func:`query_rows` — the table a person reads: question first (a display copy that the data grid
  draws in every script, right-to-left included: :func:`grid_text`), pair, script relation, a rank
  per shown profile, tie intervals where relevant, short ids last (:func:`short_ids`); and the
  CSV of exactly those columns with the raw text and full ids;
* :func:`hit_counts` / :func:`hit_line` — positives in the top 10 per profile, tie-aware
  (expected count with [worst–best]) over the filtered queries, with n;
* :func:`ranked_column` — the top-k passages of any profile for one query, the positive pinned at
  its true rank with its tie interval, or with a note where a partial profile does not rank it;
* :func:`positive_ranks`, :func:`compare_columns`, :func:`beaten_table` — where the positive
  ranks in every profile, how it moved between the shown ones, what beat it;
* :func:`verdict_row` — the label audit's verdict on one query, with its evidence;
* :func:`highlight_spans` — which words of a passage share a tokenizer token with the query.

Ranks follow the tie policy of :mod:`nanomlqa_viz.ranking`; a candidate subset's rank is its list
position, and an injected entry (the positive appended by the dataset builder after the last
real rank) is never a rank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import regex

from nanomlqa_viz.analysis import TextLanguages
from nanomlqa_viz.display_text import ShortIds, grid_text, short_ids
from nanomlqa_viz.escaping import markdown_text
from nanomlqa_viz.formatting import format_interval
from nanomlqa_viz.profiles import REFERENCE_PREFIX
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.registry import ProfileKind, ProfileRegistry
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import tokenize

if TYPE_CHECKING:
    from nanomlqa_viz.explain import Explanations
    from nanomlqa_viz.pipeline import View
    from nanomlqa_viz.tie_metrics import TieAwareMetrics

__all__ = [
    "BEATEN_COLUMNS",
    "BETWEEN_COLUMNS",
    "COLUMNS_HELP",
    "COLUMN_FIELDS",
    "COMPUTED_KINDS",
    "DEFAULT_COLUMNS",
    "EVIDENCE_COLUMNS",
    "MAX_COLUMNS",
    "OUTCOME_LABELS",
    "POSITIVE_RANK_COLUMNS",
    "QUESTION_WIDTH_PX",
    "SCRIPT_RELATIONS",
    "TOP_K",
    "ColumnSpec",
    "FilterSpec",
    "Outcome",
    "QueryVerdict",
    "ShortIds",
    "beaten_table",
    "compare_columns",
    "default_columns",
    "filter_queries",
    "filter_specs",
    "format_interval",
    "grid_text",
    "highlight_spans",
    "hit_counts",
    "hit_line",
    "injected_positive",
    "moves_table",
    "outcome_fallback",
    "outcomes",
    "overlap_at",
    "positive_caption",
    "positive_ranks",
    "query_rows",
    "query_table_columns",
    "query_verdict",
    "rank_changes",
    "ranked_column",
    "short_ids",
    "shown_profiles",
    "sort_label",
    "sort_options",
    "sort_queries",
    "truncate_text",
    "unranked_note",
    "verdict_row",
]

SCRIPT_RELATIONS = ("any", "same", "different")
DEFAULT_COLUMNS = ("bm25", "dense", "hybrid")  # the side-by-side default, when present
MAX_COLUMNS = 4  # profiles side by side: four fit 1280 px
TOP_K = 10  # passages per profile column
COMPUTED_KINDS = (ProfileKind.SPARSE, ProfileKind.DENSE, ProfileKind.FUSED)  # rank the whole corpus
COLUMN_FIELDS = (
    "rank",  # policy rank (a candidate subset's list position); <NA> when the profile does not rank the passage
    "interval",  # the ranks the passage could hold among equal scores ("2–9,731"), else the rank
    "score",  # NaN for unscored profiles (a candidate list's order only)
    "doc_id",
    "lang",
    "script",
    "is_positive",
    "beats_positive",  # ranks above the best positive (or the profile does not rank the positive at all)
    "pinned",  # an extra row: a positive below k at its true rank, or one the profile does not rank
    "note",  # on pinned rows: where the positive is
    "text",
)


# --------------------------------------------------------------------------- profiles shown side by side


def default_columns(names: Sequence[str]) -> list[str]:
    """BM25, dense and hybrid where the registry has them, else its first profiles (at most :data:`MAX_COLUMNS`)."""
    present = [n for n in DEFAULT_COLUMNS if n in names]
    return present or list(names[:MAX_COLUMNS])


def shown_profiles(registry: ProfileRegistry, chosen: Sequence[str], outcome: Outcome | None = None) -> list[str]:
    """The profiles with a rank column: the chosen ones, plus those the active outcome reads, in registry order."""
    wanted = set(chosen) | set(outcome.profiles if outcome is not None else ())
    return [n for n in registry.names() if n in wanted]


# --------------------------------------------------------------------------- outcome filters


def _rank(table: pd.DataFrame, name: str) -> pd.Series:
    return table[f"rank_{name}"]


def _true(mask: pd.Series) -> pd.Series:
    """A boolean mask where missing values (no positive, not ranked) count as False."""
    return mask.astype("boolean").fillna(False).astype(bool)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """A named predicate over the query table; ``profiles`` are the profiles whose columns it reads."""

    key: str  # the URL value
    label: str
    help: str
    profiles: tuple[str, ...]
    predicate: Callable[[pd.DataFrame], pd.Series]

    def __call__(self, table: pd.DataFrame) -> pd.Series:
        return _true(self.predicate(table)).reindex(table.index, fill_value=False)


OUTCOME_LABELS = {
    "any": "any outcome",
    "all-miss-10": "every full-corpus profile misses the top 10",
    "all-miss-100": "every full-corpus profile misses the top 100",
    "dense-not-bm25": "dense top-10, BM25 > 100",
    "bm25-not-dense": "BM25 top-10, dense > 100",
    "hybrid-below-dense": "hybrid worse than dense",
    "hybrid-below-bm25": "hybrid worse than BM25",
    "run-finds": "a run finds it, every computed profile misses",
    "bm25-tied": "BM25 positive tied",
    "no-positive": "query without a positive",
}
"""Every outcome the explorer knows, by URL key (which of them a view offers: :func:`outcomes`)."""


def _every_misses(names: Sequence[str], k: int) -> Callable[[pd.DataFrame], pd.Series]:
    def predicate(t: pd.DataFrame) -> pd.Series:
        misses = pd.concat([_true(_rank(t, n) > k) for n in names], axis=1).all(axis=1)
        return misses & (t["n_positives"] > 0)

    return predicate


def _run_finds(runs: Sequence[str], computed: Sequence[str]) -> Callable[[pd.DataFrame], pd.Series]:
    def predicate(t: pd.DataFrame) -> pd.Series:
        found = pd.concat([_true(_rank(t, n) <= 10) for n in runs], axis=1).any(axis=1)
        return found & _every_misses(computed, 10)(t)

    return predicate


def outcomes(registry: ProfileRegistry) -> dict[str, Outcome]:
    """The outcomes this registry can answer, by URL key, ``"any"`` first; one that needs an absent profile is left out.

    Outcomes read the positive's rank (the tie policy's, as the rank columns show it); a query
    without a positive matches no rank-based outcome.
    """
    names = registry.names()
    computed = registry.names(*COMPUTED_KINDS)
    runs = registry.names(ProfileKind.RUN)
    out = [
        Outcome(key="any", label=OUTCOME_LABELS["any"], help="", profiles=(), predicate=lambda t: pd.Series(True, index=t.index))
    ]
    if computed:
        for k in (10, 100):
            out.append(
                Outcome(
                    key=f"all-miss-{k}",
                    label=OUTCOME_LABELS[f"all-miss-{k}"],
                    help=f"every profile that ranks the whole corpus ranks the positive below {k}",
                    profiles=tuple(computed),
                    predicate=_every_misses(computed, k),
                )
            )
    if {"dense", "bm25"} <= set(names):
        out.append(
            Outcome(
                key="dense-not-bm25",
                label=OUTCOME_LABELS["dense-not-bm25"],
                help="the dense profile finds the positive, BM25 loses it (typically cross-script)",
                profiles=("bm25", "dense"),
                predicate=lambda t: (_rank(t, "dense") <= 10) & (_rank(t, "bm25") > 100),
            )
        )
        out.append(
            Outcome(
                key="bm25-not-dense",
                label=OUTCOME_LABELS["bm25-not-dense"],
                help="BM25 finds the positive, the dense profile loses it",
                profiles=("bm25", "dense"),
                predicate=lambda t: (_rank(t, "bm25") <= 10) & (_rank(t, "dense") > 100),
            )
        )
    for other in ("dense", "bm25"):
        if {"hybrid", other} <= set(names):
            out.append(
                Outcome(
                    key=f"hybrid-below-{other}",
                    label=OUTCOME_LABELS[f"hybrid-below-{other}"],
                    help=f"the fusion ranks the positive lower than {registry[other].label} alone",
                    profiles=("hybrid", other),
                    predicate=lambda t, other=other: _rank(t, "hybrid") > _rank(t, other),
                )
            )
    if runs and computed:
        out.append(
            Outcome(
                key="run-finds",
                label=OUTCOME_LABELS["run-finds"],
                help="one of your runs ranks the positive in its top 10; no computed profile does",
                profiles=(*computed, *runs),
                predicate=_run_finds(runs, computed),
            )
        )
    if "bm25" in names:
        out.append(
            Outcome(
                key="bm25-tied",
                label=OUTCOME_LABELS["bm25-tied"],
                help="other passages have exactly the positive's BM25 score, so its rank is only an interval",
                profiles=("bm25",),
                predicate=lambda t: t["ties_bm25"] > 0,
            )
        )
    out.append(
        Outcome(
            key="no-positive",
            label=OUTCOME_LABELS["no-positive"],
            help="no relevant passage in the qrels: every metric scores 0",
            profiles=(),
            predicate=lambda t: t["n_positives"] == 0,
        )
    )
    return {o.key: o for o in out}


@dataclass(frozen=True, kw_only=True)
class FilterSpec:
    """One filter widget: its label, the values it offers (a URL value outside them is dropped), their labels."""

    label: str
    options: tuple[str, ...]
    many: bool  # several values (languages, pairs) or one (script relation, outcome)
    default: str = ""
    help: str = ""
    labels: Mapping[str, str] | None = None


def filter_specs(table: pd.DataFrame, offered: Mapping[str, Outcome]) -> dict[str, FilterSpec]:
    """The explorer's filters by URL parameter, in display order, with the values this table offers."""
    return {
        "qlang": FilterSpec(label="Query lang", options=tuple(sorted(table["query_lang"].unique())), many=True),
        "plang": FilterSpec(
            label="Positive lang", options=tuple(sorted(table["positive_lang"].replace("", pd.NA).dropna().unique())), many=True
        ),
        "pair": FilterSpec(
            label="Pair",
            options=tuple(sorted(table["pair"].unique())),
            many=True,
            help="query language → positive's language (detected from the texts)",
        ),
        "script": FilterSpec(
            label="Script",
            options=SCRIPT_RELATIONS,
            many=False,
            default="any",
            help="same / different script between the query and its positive",
        ),
        "outcome": FilterSpec(
            label="Outcome",
            options=tuple(offered),
            many=False,
            default="any",
            help=markdown_text(" · ".join(f"{o.label}: {o.help}" for o in offered.values() if o.help)),
            labels={k: o.label for k, o in offered.items()},
        ),
    }


def filter_queries(
    table: pd.DataFrame,
    *,
    outcome: Outcome | None = None,
    query_langs: Collection[str] = (),
    positive_langs: Collection[str] = (),
    pairs: Collection[str] = (),
    script_relation: str = "any",
    text: str = "",
) -> pd.DataFrame:
    """The rows of the query table that pass every filter (an empty collection filters nothing).

    ``text`` is a case-insensitive substring (not a pattern) of the raw query text, the query id or
    the positive id. Raises ``ValueError`` for an unknown script relation.
    """
    if script_relation not in SCRIPT_RELATIONS:
        raise ValueError(f"script_relation must be one of {', '.join(SCRIPT_RELATIONS)}, not {script_relation!r}")
    mask = pd.Series(True, index=table.index)
    if query_langs:
        mask &= table["query_lang"].isin(list(query_langs))
    if positive_langs:
        mask &= table["positive_lang"].isin(list(positive_langs))
    if pairs:
        mask &= table["pair"].isin(list(pairs))
    if script_relation != "any":
        mask &= table["script_relation"] == script_relation
    if outcome is not None:
        mask &= outcome(table)
    needle = text.strip()
    if needle:
        found = pd.Series(False, index=table.index)
        for column in ("query_text", "query_id", "positive_id"):
            found |= table[column].astype(str).str.contains(needle, case=False, regex=False)
        mask &= found
    return table[mask]


def sort_options(names: Sequence[str]) -> list[str]:
    """Sort keys: ``query_id`` and ``rank_<name>`` per shown profile, each also descending (``-`` prefix)."""
    keys = ["query_id", *(f"rank_{n}" for n in names)]
    return keys + [f"-{k}" for k in keys]


def sort_queries(table: pd.DataFrame, key: str = "query_id") -> pd.DataFrame:
    """Rows sorted by one column (``-column``: descending; missing values last), then by query id: a total order."""
    column, descending = key.removeprefix("-"), key.startswith("-")
    if column not in table.columns:
        raise ValueError(f"no column {column!r} to sort by")
    by_id = table.sort_values("query_id", ascending=not descending if column == "query_id" else True, kind="stable")
    if column == "query_id":
        return by_id
    return by_id.sort_values(column, ascending=not descending, na_position="last", kind="stable")


# --------------------------------------------------------------------------- the query table

QUESTION_WIDTH_PX = 340  # with pair, script and three ranks: visible at 1280 px beside the open sidebar


def query_rows(
    table: pd.DataFrame,
    names: Sequence[str],
    *,
    scored: Collection[str],
    query_ids: ShortIds,
    positive_ids: ShortIds,
    question_width_px: int = QUESTION_WIDTH_PX,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the query table as shown, and the same rows and columns for the CSV.

    Columns, in reading order: ``question`` (shown: :func:`grid_text`; CSV: the raw text),
    ``pair``, ``script``, ``rank_<name>`` per profile in ``names``, ``tied_<name>`` (the tie
    interval, "3–464", where the positive shares its score) for each ``scored`` profile whose
    positive is tied in any of these rows, then the ids: ``query`` / ``positive`` shown short,
    ``query_id`` / ``positive_id`` full in the CSV. The shown frame also carries the full
    ``query_id`` (last; for row selection, not drawn).
    """
    shown = pd.DataFrame(index=table.index)
    export = pd.DataFrame(index=table.index)
    shown["question"] = [grid_text(t, width_px=question_width_px) for t in table["query_text"]]
    export["question"] = table["query_text"]
    for frame in (shown, export):
        frame["pair"] = table["pair"]
        frame["script"] = table["script_relation"]
        for name in names:
            frame[f"rank_{name}"] = table[f"rank_{name}"]
    for name in names:
        if name not in scored:
            continue
        ranked = table[f"rank_{name}"].notna()
        tied = (table[f"ties_{name}"].fillna(0) > 0) & ranked
        if not tied.any():
            continue
        intervals = [
            format_interval(int(first), int(last)) if is_tied else ""
            for first, last, is_tied in zip(table[f"tie_first_{name}"].fillna(0), table[f"tie_last_{name}"].fillna(0), tied)
        ]
        shown[f"tied_{name}"] = intervals
        export[f"tied_{name}"] = intervals
    shown["query"] = [query_ids(q) for q in table["query_id"]]
    shown["positive"] = [positive_ids(p) if p else "" for p in table["positive_id"]]
    shown["query_id"] = table["query_id"]
    export["query_id"] = table["query_id"]
    export["positive_id"] = table["positive_id"]
    return shown.reset_index(drop=True), export.reset_index(drop=True)


@dataclass(frozen=True, kw_only=True)
class ColumnSpec:
    """How the page configures one column of a table (``help`` is markdown, escaped here)."""

    label: str
    kind: str = "text"  # "text", "number" (format "%d") or "check"
    help: str = ""
    width: int | None = None
    pinned: bool = False
    align: str | None = None


def _id_help(kind: str, ids: ShortIds) -> str:
    if not ids.template:
        return markdown_text(f"the {kind} id; the CSV holds the same")
    example = next(iter(ids.short))
    return markdown_text(
        f"the part of the {kind} id that differs between ids (full ids: {ids.template}, e.g. {example}); "
        "the full id is in the CSV and in the open query"
    )


def query_table_columns(
    registry: ProfileRegistry, shown: Collection[str], *, query_ids: ShortIds, positive_ids: ShortIds
) -> dict[str, ColumnSpec]:
    """Column specs of :func:`query_rows`' shown frame (``shown``: its columns), in its order; ``query_id`` is not drawn."""
    specs = {
        "question": ColumnSpec(
            label="question",
            width=QUESTION_WIDTH_PX,
            help="cut to fit the cell; the open query shows it whole, the CSV holds the raw text",
        ),
        "pair": ColumnSpec(label="pair", width=70, help="query language → positive's language (detected from the texts)"),
        "script": ColumnSpec(label="script", width=74, help="same or different script between the query and its positive"),
    }
    for entry in registry:
        label, note = entry.label, f" ({entry.coverage_note})" if entry.partial_coverage else ""
        what = "list position" if entry.profile.partial else "rank over the whole corpus"
        specs[f"rank_{entry.name}"] = ColumnSpec(
            label=label,
            kind="number",
            width=min(max(76, 7 * len(label) + 18), 140),  # the header whole ("Hybrid (RRF)"), numbers right-aligned
            help=markdown_text(
                f"{label}{note}: {what} of the positive, ties by the documented policy; empty: not listed "
                "(an injected entry is not a rank) or no ranking for the query"
            ),
        )
        specs[f"tied_{entry.name}"] = ColumnSpec(
            label=f"{label} tie",
            width=84,
            align="right",
            help=markdown_text(f"the ranks the positive could hold in {label} among passages with exactly its score"),
        )
    specs["query"] = ColumnSpec(label="query", width=90, help=_id_help("query", query_ids))
    specs["positive"] = ColumnSpec(label="positive", width=100, help=_id_help("passage", positive_ids))
    return {c: specs[c] for c in shown if c in specs}


POSITIVE_RANK_COLUMNS = {
    "profile": ColumnSpec(label="profile"),
    "rank": ColumnSpec(label="rank", kind="number", width=64, help="—: not ranked"),
    "interval": ColumnSpec(label="could be", width=90, help="the ranks it could hold among equal scores"),
    "note": ColumnSpec(label="note"),
}
EVIDENCE_COLUMNS = {"evidence": ColumnSpec(label="evidence"), "value": ColumnSpec(label="value", align="right")}
BETWEEN_COLUMNS = {
    "profiles": ColumnSpec(label="profiles"),
    "overlap": ColumnSpec(label=f"overlap@{TOP_K}", kind="number", width=80, help=f"passages both top {TOP_K}s share"),
    "moved": ColumnSpec(label="positive moved", width=100, help="from the first profile to the second; up = towards rank 1"),
    "tied": ColumnSpec(label="tie", kind="check", width=40, help="a rank is a tie interval: the move may be the tie-break alone"),
}
BEATEN_COLUMNS = {
    "profile": ColumnSpec(label="profile"),
    "above positive": ColumnSpec(label="above", kind="number", width=60, help="passages ranked above the positive (first 1,000)"),
    "copy": ColumnSpec(label="copy", kind="number", width=50, help="the positive's text under another id"),
    "parallel passage": ColumnSpec(
        label="parallel", kind="number", width=64, help="a version of the positive's paragraph in another language"
    ),
    "same topic": ColumnSpec(label="topic", kind="number", width=54, help="same topic: unusually similar to the positive"),
    "other": ColumnSpec(label="other", kind="number", width=54),
}


def sort_label(key: str, labels: Mapping[str, str]) -> str:
    """``"query id"``, ``"BM25 rank, best first"`` ... for a :func:`sort_options` key."""
    column, descending = key.removeprefix("-"), key.startswith("-")
    if column == "query_id":
        return "query id" + (", descending" if descending else "")
    name = column.removeprefix("rank_")
    return f"{labels.get(name, name)} rank, {'worst' if descending else 'best'} first"


def outcome_fallback(wanted: str, offered: Collection[str], *, pending: bool) -> str | None:
    """The caption when the URL names an outcome this view does not offer (plain text: escape it), else ``None``."""
    if wanted in offered:
        return None
    known = OUTCOME_LABELS.get(wanted)
    if known is None:
        return f"⚠ “{wanted[:60]}” is not an outcome; showing any outcome."
    why = "needs a profile that is still computing" if pending else "needs a profile this view does not have"
    return f"⚠ Outcome “{known}” {why}; showing any outcome."


# --------------------------------------------------------------------------- tie-aware hit counts


def hit_counts(
    metrics: Mapping[str, TieAwareMetrics], query_ids: Sequence[str], names: Sequence[str], *, k: int = 10
) -> pd.DataFrame:
    """Per profile, over ``query_ids``: ``n`` and how many have a relevant passage in the top ``k``.

    ``expected`` is the sum of the tie-aware expected hit@k (a random order of equal scores),
    ``worst`` / ``best`` the counts with relevant passages last / first among them.
    """
    metric = f"hit@{k}"
    rows = []
    for name in names:
        m = metrics[name]
        rows.append(
            {
                "profile": name,
                "n": len(query_ids),
                **{case: float(getattr(m, case).loc[list(query_ids), metric].sum()) for case in ("expected", "worst", "best")},
            }
        )
    return pd.DataFrame(rows, columns=["profile", "n", "expected", "worst", "best"]).set_index("profile")


def _count(value: float) -> str:
    return f"{round(value):,}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def hit_line(counts: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """``"BM25 1.3 [1–2] of 7 (19%) · Dense 2 of 7 (29%)"``: expected count, [worst–best] where ties can change it, n, rate."""
    parts = []
    for name, row in counts.iterrows():
        n = int(row["n"])
        if not n:
            continue
        value = _count(row["expected"])
        if round(row["worst"]) != round(row["best"]):
            value += f" [{_count(row['worst'])}–{_count(row['best'])}]"
        parts.append(f"{labels.get(name, name)} {value} of {n:,} ({row['expected'] / n:.0%})")
    return " · ".join(parts)


# --------------------------------------------------------------------------- one profile's column for one query


def _query_id(task: Task, qi: int) -> str:
    if not 0 <= qi < task.n_queries:
        raise IndexError(f"query index {qi} is outside 0..{task.n_queries - 1}")
    return task.query_ids[qi]


def injected_positive(task: Task, name: str, query_id: str) -> str | None:
    """The passage a candidate subset's builder appended for this query after its last real rank (not a rank), if any."""
    if not name.startswith(REFERENCE_PREFIX):
        return None
    subset = task.candidates.get(name.removeprefix(REFERENCE_PREFIX))
    return subset.injected.get(query_id) if subset is not None else None


def _n_listed(profile: RankedProfile, qi: int) -> int:
    return int(np.count_nonzero(np.isfinite(profile.scores[qi]))) if profile.partial else profile.n_docs


def unranked_note(task: Task, profile: RankedProfile, qi: int, doc_id: str) -> str:
    """Why a partial profile gives no rank to ``doc_id``: no ranking for the query, an injected entry, or not listed."""
    query_id = _query_id(task, qi)
    if not profile.covers(qi):
        return "no ranking for this query"
    if injected_positive(task, profile.name, query_id) == doc_id:
        return "injected entry (not a rank)"
    return f"not in list ({_n_listed(profile, qi):,} entries)"


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
    """The top-``k`` passages of any profile for query index ``qi`` (columns: :data:`COLUMN_FIELDS`).

    A positive below ``k`` follows as a ``pinned`` row at its true rank, with its tie interval and a
    note. A positive a partial profile (a run, a candidate subset) does not rank is pinned without a
    rank, noted "not in list (N entries)", "injected entry (not a rank)" (a candidate subset's
    appended positive) or "no ranking for this query". ``beats_positive`` marks passages ranked
    above the best positive (all listed ones when the profile does not rank it). ``score`` is NaN
    for an unscored profile (a candidate list's order only).
    """
    query_id = _query_id(task, qi)
    positives = sorted(task.doc_index[d] for d in task.positives(query_id))
    infos = {d: profile.rank_info(qi, d) for d in positives if profile.listed(qi, d)}
    best = min((info.rank for info in infos.values()), default=None)
    top = [int(d) for d in profile.top(qi, k) if profile.listed(qi, int(d))] if profile.covers(qi) else []
    rows = []
    for di in top:
        info = infos.get(di) or profile.rank_info(qi, di)
        rows.append(
            _row(
                task,
                languages,
                di,
                rank=info.rank,
                interval=info.interval(),
                score=info.score if profile.scored else np.nan,
                is_positive=di in positives,
                beats_positive=bool(positives) and (best is None or info.rank < best),
            )
        )
    for di in sorted(set(positives) - set(top), key=lambda d: (infos[d].rank if d in infos else math.inf, d)):
        info = infos.get(di)
        if info is not None:
            note = f"positive at rank {info.rank:,}"
            if info.ties:
                note += f", tied with {info.ties:,} other passage{'s' if info.ties > 1 else ''} (ranks {info.interval()})"
            fields = {"rank": info.rank, "interval": info.interval(), "score": info.score if profile.scored else np.nan}
        else:
            note = unranked_note(task, profile, qi, task.doc_ids[di])
            fields = {"rank": None, "interval": "", "score": np.nan}
        rows.append(_row(task, languages, di, **fields, is_positive=True, beats_positive=False, pinned=True, note=note))
    return _frame(rows)


def positive_caption(frame: pd.DataFrame) -> str:
    """One line under a column's header: where its positive is and how many shown passages beat it."""
    positives = frame[frame["is_positive"]]
    if positives.empty:
        return "no positive for this query"
    first = positives.iloc[0]
    if pd.isna(first["rank"]):
        return f"positive: {first['note']}"
    return f"positive at {first['interval']} · {int(frame['beats_positive'].sum())} shown above it"


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

    One row per pair: ``from``, ``to``, their ranks (``<NA>`` when not ranked), ``change``
    (positive = moved up, towards rank 1), ``tied`` (both ranked and either rank is a tie interval,
    so the move may be the tie-break alone) and ``moved`` ("up 12", "down 3", "unchanged", "not ranked").
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
    """Every pair of shown columns (:func:`ranked_column` frames, by profile name): :func:`rank_changes` plus
    ``overlap``, how many passages their first ``k`` (unpinned) rows share."""
    frame = rank_changes(table_row, list(columns))
    top = {name: list(col.loc[~col["pinned"], "doc_id"]) for name, col in columns.items()}
    frame["overlap"] = pd.array([overlap_at(top[a], top[b], k) for a, b in zip(frame["from"], frame["to"])], dtype="Int64")
    return frame


def moves_table(
    columns: Mapping[str, pd.DataFrame], table_row: Mapping[str, object] | pd.Series, labels: Mapping[str, str], *, k: int
) -> pd.DataFrame:
    """:func:`compare_columns` as shown (:data:`BETWEEN_COLUMNS`): ``profiles`` ("BM25 → Dense"), overlap, move, tie."""
    frame = compare_columns(columns, table_row, k=k)
    frame["profiles"] = [f"{labels.get(a, a)} → {labels.get(b, b)}" for a, b in zip(frame["from"], frame["to"])]
    return frame[list(BETWEEN_COLUMNS)].reset_index(drop=True)


def positive_ranks(
    task: Task,
    table_row: Mapping[str, object] | pd.Series,
    registry: ProfileRegistry,
    *,
    explanations: Explanations | None = None,
) -> pd.DataFrame:
    """Where the query's positive ranks in every profile of the registry: ``rank``, tie ``interval``, ``note``.

    ``table_row`` is the query's row of the query table. A partial profile that does not rank the
    positive gets no rank and :func:`unranked_note`'s note; a run that ranks few queries says so.
    With ``explanations``, the :func:`beaten_table` columns follow: what ranks above the positive.
    """
    query_id = str(table_row["query_id"])
    qi = task.query_index[query_id]
    positive = task.first_positive(query_id)
    rows = []
    for entry in registry:
        name = entry.name
        rank = _value(table_row, f"rank_{name}")
        interval, note = "", ""
        if positive is None:
            note = "no positive"
        elif rank is None:
            note = unranked_note(task, entry.profile, qi, positive)
        else:
            first, last = _value(table_row, f"tie_first_{name}"), _value(table_row, f"tie_last_{name}")
            interval = format_interval(first or rank, last or rank)
            if first is not None and last is not None and last > first:
                note = f"tied with {last - first:,} other passage{'s' if last - first > 1 else ''}"
        if entry.kind == ProfileKind.RUN and entry.partial_coverage:
            note = "; ".join(filter(None, [note, f"run {entry.coverage_note}"]))
        rows.append({"profile": entry.label, "rank": rank, "interval": interval, "note": note})
    frame = pd.DataFrame(rows, columns=["profile", "rank", "interval", "note"])
    frame["rank"] = pd.array(frame["rank"].tolist(), dtype="Int64")
    if explanations is not None:
        beaten = beaten_table(task, explanations, registry, registry.names(), query_id)
        frame = pd.concat([frame, beaten.drop(columns="profile")], axis=1)
    return frame


def beaten_table(
    task: Task, explanations: Explanations, registry: ProfileRegistry, names: Sequence[str], query_id: str
) -> pd.DataFrame:
    """Per named profile (its label): how many passages rank above the positive, by label (copy / parallel passage / ...).

    Counts cover the first 1,000 passages above it (:func:`nanomlqa_viz.explain.beaten_by`);
    ``above positive`` is their total.
    """
    from nanomlqa_viz.explain import LABELS, beaten_by

    rows = []
    for name in names:
        counts = beaten_by(task, explanations, registry[name].profile, query_id)
        rows.append({"profile": registry[name].label, "above positive": sum(counts.values()), **counts})
    return pd.DataFrame(rows, columns=["profile", "above positive", *(str(label) for label in LABELS)])


# --------------------------------------------------------------------------- the label audit's verdict

_VERDICT_FIELDS = frozenset({"query_id", "query_text", "positive_id", "verdict", "verdict_label", "confidence", "candidate_id"})


@dataclass(frozen=True, kw_only=True)
class QueryVerdict:
    """The label audit's verdict on one query, with its evidence as (name, shown value) pairs."""

    verdict: str
    confidence: float
    candidate_id: str
    evidence: tuple[tuple[str, str], ...]


def _evidence_value(value: object) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else f"{float(value):.3g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value) or None
    text = str(value)
    return text or None


def query_verdict(audit: pd.DataFrame, query_id: str) -> QueryVerdict | None:
    """The verdict row of ``query_id`` in a label-audit frame (one row per judged query), or ``None``.

    Columns read: ``query_id``, ``verdict`` (``verdict_label`` preferred when present), ``confidence``,
    ``candidate_id``; every other column except the question and positive is evidence, shown as it
    is (numbers to 3 significant digits; empty values left out).
    """
    if audit is None or audit.empty or "query_id" not in audit.columns:
        return None
    rows = audit[audit["query_id"] == query_id]
    if rows.empty:
        return None
    row = rows.iloc[0]
    label = row.get("verdict_label")
    verdict = str(label) if isinstance(label, str) and label else str(row.get("verdict", ""))
    confidence = row.get("confidence")
    candidate = row.get("candidate_id")
    evidence = tuple(
        (str(column), shown)
        for column in audit.columns
        if column not in _VERDICT_FIELDS and (shown := _evidence_value(row[column])) is not None
    )
    return QueryVerdict(
        verdict=verdict,
        confidence=float(confidence) if confidence is not None and pd.notna(confidence) else float("nan"),
        candidate_id=str(candidate) if isinstance(candidate, str) else "",
        evidence=evidence,
    )


def verdict_row(view: View, query_id: str) -> QueryVerdict | None:
    """The view's label-audit verdict on ``query_id``; ``None`` when the query is not judged or the audit is not installed.

    Guards the transition to the rewritten audit: ``View.audit`` imports ``audit_verdicts``, and a
    build without it raises ``ImportError`` — the explorer then shows no verdict.
    """
    try:
        audit = view.audit()
    except ImportError:
        return None
    return query_verdict(audit, query_id)


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
    matched bigram are marked. Adjacent pieces with the same flag are merged. A pure function of
    its inputs, memoised per process (a query view highlights the same passages in several
    columns and on every rerun).
    """
    return list(_highlight_spans(text, frozenset(query_tokens)))


@lru_cache(maxsize=2048)
def _highlight_spans(text: str, tokens: frozenset[str]) -> tuple[tuple[str, bool], ...]:
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
    return tuple(merged)


def truncate_text(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to at most ``limit`` characters at a space where one is near, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + " …", True


COLUMNS_HELP = """
- **Rank** — full-corpus profiles rank every passage; equal scores are ordered by the tie policy (hybrid: best
  single-list rank, then corpus id) and a tied rank shows the interval it could take (`2–9,731`). A run or a
  candidate subset ranks only what it lists: its positive may be *not in list*, an *injected entry (not a
  rank)* — the dataset builder appended the positive after the last real rank — or have *no ranking for this
  query*. A candidate subset's rank is its list position; it has no score, and none is shown.
- **▲** — ranks above the positive, labelled **copy** (same text, other id), **parallel passage** (a version of
  the positive's paragraph in another language, detected from text), **same topic** (unusually similar to the
  positive or one of its parallel passages) or **other**.
- **Highlight** — words sharing a BM25 token with the question (a cross-script pair shares few or none).
- **Overlap@10** — passages two shown profiles share in their top 10; **positive moved** — between their ranks
  of the positive (a tie interval means the move may be the tie-break alone).
- **Outcome filters** read the positive's rank as the rank columns show it; the *in the top 10* line above the
  table is tie-aware and follows the relevance mode.
"""
