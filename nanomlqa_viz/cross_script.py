"""Why BM25 misses a positive: a reason for every query, and BM25's rank against any other profile's.

BM25 can only score a passage through tokens it shares with the query. A cross-lingual query
whose positive is written in another script usually shares none (a year or another number may
still match: digits are normalised by the tokenizer), so BM25 gives the positive 0 and its rank is
only a position inside a block of ties. :func:`bm25_reasons` gives every query with a positive one
:class:`Bm25Reason`, checked in this order:

* ``found (top 10)``: a positive is in BM25's top 10 whatever the order of tied scores;
* ``a copy or parallel passage was found instead``: otherwise another relevant passage (an exact
  copy or a parallel passage of the positive, under the relevance mode given) is;
* ``no shared script``: the two texts have no script in common (digits and punctuation are not a
  script) and share no token — BM25 cannot match them at all;
* ``shared script, no shared tokens``: same script, but no word or bigram in common;
* ``tokens shared, a distractor shares more``: BM25's best non-relevant passage shares tokens of a
  larger summed IDF with the query;
* ``tokens shared, outscored``: it shares no more IDF than the positive, yet scores higher (term
  frequency, passage length);
* ``tokens shared``: tokens are shared and there is no other passage to compare with.

The ``view_*`` helpers read a :class:`~nanomlqa_viz.pipeline.View` and memoise through
:meth:`~nanomlqa_viz.pipeline.View.cached`; the scatter figure (plotly, no Streamlit) is what the
page shows, every text from the data through :func:`~nanomlqa_viz.escaping.plotly_text`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.bm25 import BM25Index
from nanomlqa_viz.bm25_tokens import TokenIdf, token_idf
from nanomlqa_viz.escaping import plotly_text, short_label
from nanomlqa_viz.formatting import format_interval
from nanomlqa_viz.languages import COMMON_SCRIPT, script_of
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.registry import ProfileKind
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import tokenize

if TYPE_CHECKING:
    from nanomlqa_viz.pipeline import View
    from nanomlqa_viz.relevance import RelevanceMode

__all__ = [
    "OTHER_KINDS",
    "REASONS",
    "REASON_COLUMNS",
    "TOKEN_REASONS",
    "Bm25Reason",
    "TokenEvidence",
    "bm25_reasons",
    "default_other",
    "distractor_index",
    "other_names",
    "quadrant",
    "quadrant_evidence",
    "rank_frame",
    "reason_overview",
    "reason_rows",
    "reasons_by_pair",
    "scatter_figure",
    "sparse_name",
    "token_evidence",
    "view_quadrant",
    "view_rank_frame",
    "view_reasons",
]

REASONS_VERSION = "2"  # bump when a reason's rule changes: memoised frames are keyed by it


class Bm25Reason(StrEnum):
    """Why BM25 does (not) rank a query's positive in its top 10, from "not a failure" to "could match"."""

    FOUND = "found (top 10)"
    FOUND_PARALLEL = "a copy or parallel passage was found instead"
    NO_SHARED_SCRIPT = "no shared script"
    NO_SHARED_TOKENS = "shared script, no shared tokens"
    DISTRACTOR_SHARES_MORE = "tokens shared, a distractor shares more"
    OUTSCORED = "tokens shared, outscored"
    TOKENS_SHARED = "tokens shared"

    @classmethod
    def _missing_(cls, value: object) -> Bm25Reason | None:
        return _LEGACY_REASONS.get(value) if isinstance(value, str) else None

    @property
    def short(self) -> str:
        """A column header."""
        return _SHORT[self]

    @property
    def is_failure(self) -> bool:
        return self is not Bm25Reason.FOUND


_LEGACY_REASONS = MappingProxyType({"a copy or translation was found instead": Bm25Reason.FOUND_PARALLEL})  # older caches
_SHORT = MappingProxyType(
    {
        Bm25Reason.FOUND: "found",
        Bm25Reason.FOUND_PARALLEL: "copy/parallel found",
        Bm25Reason.NO_SHARED_SCRIPT: "no shared script",
        Bm25Reason.NO_SHARED_TOKENS: "no shared token",
        Bm25Reason.DISTRACTOR_SHARES_MORE: "distractor shares more",
        Bm25Reason.OUTSCORED: "outscored",
        Bm25Reason.TOKENS_SHARED: "tokens shared",
    }
)
REASONS: tuple[Bm25Reason, ...] = tuple(Bm25Reason)
TOKEN_REASONS: tuple[Bm25Reason, ...] = REASONS[2:]
"""The reasons :func:`token_evidence` gives, from "cannot match" to "could match"."""
REASON_COLUMNS = ("query_id", "positive_id", "bm25_rank", "bm25_tie_first", "bm25_tie_last", "reason", "shared_tokens")

OTHER_KINDS = (ProfileKind.DENSE, ProfileKind.FUSED, ProfileKind.RUN)
"""The kinds of profile BM25 is compared with, positive by positive."""
RELATION_COLOURS = MappingProxyType({"different": "#2563eb", "same": "#9ca3af"})


# --------------------------------------------------------------------------- tokens


@lru_cache(maxsize=200_000)
def _token_script(token: str) -> str:
    return script_of(token)


def _scripts(tokens: Iterable[str]) -> tuple[str, ...]:
    """Scripts of the tokens' letters, most tokens first (digits-only tokens have none)."""
    counts = Counter(_token_script(t) for t in tokens)
    counts.pop(COMMON_SCRIPT, None)
    return tuple(s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _shared(index: BM25Index | TokenIdf, query: Sequence[str], doc: Iterable[str]) -> tuple[tuple[str, float], ...]:
    doc_set = set(doc)
    pairs = [(t, index.token_idf(t)) for t in query if t in doc_set]
    return tuple(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class TokenEvidence:
    """What a query and its positive passage share for BM25, and why BM25 misses it."""

    query_tokens: tuple[str, ...]  # distinct, in order of first occurrence
    positive_tokens: tuple[str, ...]  # distinct, in order of first occurrence
    shared: tuple[tuple[str, float], ...]  # (token, idf), idf descending, then token
    query_scripts: tuple[str, ...]  # scripts of the query's tokens, most tokens first
    positive_scripts: tuple[str, ...]
    shared_scripts: tuple[str, ...]  # sorted
    reason: Bm25Reason  # one of TOKEN_REASONS
    top_doc_index: int | None = None  # the passage compared with (BM25's best other passage)
    top_shared: tuple[tuple[str, float], ...] = ()  # what it shares with the query

    @property
    def shared_idf(self) -> float:
        return float(sum(idf for _, idf in self.shared))

    @property
    def top_shared_idf(self) -> float:
        return float(sum(idf for _, idf in self.top_shared))

    @property
    def cannot_match(self) -> bool:
        """True when BM25 has nothing to match on: no shared token (whatever the scripts)."""
        return not self.shared


def token_evidence(
    index: BM25Index | TokenIdf, query_text: str, positive_doc_index: int, *, top_doc_index: int | None = None
) -> TokenEvidence:
    """Tokens and scripts a query shares with its positive (document ``positive_doc_index`` of ``index``).

    ``top_doc_index``: BM25's best other passage for the query (see :func:`distractor_index`);
    when it is given and is not the positive, the reason compares the summed IDF of the tokens
    each passage shares with the query.
    """
    query_tokens = tuple(dict.fromkeys(tokenize(query_text)))
    positive_tokens = tuple(dict.fromkeys(index.document_tokens(int(positive_doc_index))))
    shared = _shared(index, query_tokens, positive_tokens)
    query_scripts = _scripts(query_tokens)
    positive_scripts = _scripts(positive_tokens)
    shared_scripts = tuple(sorted(set(query_scripts) & set(positive_scripts)))
    top_shared: tuple[tuple[str, float], ...] = ()
    compare = top_doc_index is not None and int(top_doc_index) != int(positive_doc_index)
    if compare:
        top_shared = _shared(index, query_tokens, index.document_tokens(int(top_doc_index)))
    if not shared:
        reason = Bm25Reason.NO_SHARED_TOKENS if shared_scripts else Bm25Reason.NO_SHARED_SCRIPT
    elif not compare:
        reason = Bm25Reason.TOKENS_SHARED
    elif sum(i for _, i in top_shared) > sum(i for _, i in shared):
        reason = Bm25Reason.DISTRACTOR_SHARES_MORE
    else:
        reason = Bm25Reason.OUTSCORED
    return TokenEvidence(
        query_tokens=query_tokens,
        positive_tokens=positive_tokens,
        shared=shared,
        query_scripts=query_scripts,
        positive_scripts=positive_scripts,
        shared_scripts=shared_scripts,
        reason=reason,
        top_doc_index=int(top_doc_index) if compare else None,
        top_shared=top_shared,
    )


def distractor_index(
    task: Task, bm25: RankedProfile, query_index: int, *, depth: int = 20, relevant: Iterable[str] = ()
) -> int | None:
    """BM25's best passage for a query that is neither relevant (its positives, ``relevant``) nor a copy of one."""
    query_id = task.query_ids[query_index]
    excluded = {task.doc_index[d] for d in (*task.positives(query_id), *relevant) if d in task.doc_index}
    excluded_texts = {task.doc_texts[i] for i in excluded}
    for di in _top(bm25, query_index, depth):
        di = int(di)
        if di not in excluded and task.doc_texts[di] not in excluded_texts:
            return di
    return None


def _top(profile: RankedProfile, qi: int, k: int) -> np.ndarray:
    """``profile.top(qi, k)``, without sorting a large block of equal scores (a cross-script BM25 query's zeros)."""
    row = profile.scores[qi]
    n = row.shape[0]
    if profile.secondary is not None or not 0 < k < n or not np.isfinite(row).all():
        return profile.top(qi, k)
    kth = _kth_largest(row, k)
    above = np.flatnonzero(row > kth)
    above = above[np.lexsort((profile.id_rank[above], -row[above].astype(np.float64)))]
    tied = np.flatnonzero(row == kth)
    wanted = k - len(above)  # the tied passages with the lowest id ranks fill the top k
    if wanted < len(tied):
        tied = tied[np.argpartition(profile.id_rank[tied], wanted - 1)[:wanted]]
    return np.concatenate([above, tied[np.argsort(profile.id_rank[tied], kind="stable")]])


def _fmt_shared(shared: Sequence[tuple[str, float]], *, limit: int = 12) -> str:
    text = ", ".join(f"{t} ({idf:.1f})" for t, idf in shared[:limit])
    return text + (f", … +{len(shared) - limit}" if len(shared) > limit else "")


def _fmt_tokens(tokens: Sequence[str], *, limit: int) -> str:
    text = " ".join(tokens[:limit])
    return text + (f" … +{len(tokens) - limit}" if len(tokens) > limit else "")


# --------------------------------------------------------------------------- a reason for every query


def _kth_largest(row: np.ndarray, k: int) -> float:
    """The ``k``-th largest value of ``row`` (1 <= k <= len(row), no NaN), as ``np.partition`` finds it.

    A BM25 row of a cross-script query is mostly its lowest score: only the values above it are
    partitioned (a selection among many equal values is slow).
    """
    low = row.min()
    above = row[row > low]
    if len(above) < k:
        return low
    return np.partition(above, len(above) - k)[len(above) - k]


def _certain_top(row: np.ndarray, k: int) -> float:
    """The score a passage must exceed to be in the top ``k`` whatever the order of tied scores."""
    n = row.shape[0]
    if n <= k:
        return -math.inf
    if np.isnan(row).any():
        return float(np.partition(row, n - k - 1)[n - k - 1])
    return float(_kth_largest(row, k + 1))  # the (k+1)-th best score


def bm25_reasons(
    task: Task,
    *,
    index: BM25Index | TokenIdf,
    bm25: RankedProfile,
    relevant: Mapping[str, frozenset[str]] | None = None,
    k: int = 10,
) -> pd.DataFrame:
    """One :class:`Bm25Reason` for every query with a positive (the ``reason`` column holds the values).

    ``relevant``: every query's relevant passages under a relevance mode (the positives with their
    exact copies and parallel passages); without it only the positives count and no query gets
    ``FOUND_PARALLEL``. "In the top ``k``" means whatever the order of tied scores (a positive that
    ties with the passages at ranks 9-12 is not certainly found). The reason, the rank and the tie
    interval are those of the query's best-scored positive (``positive_id``).

    Columns: :data:`REASON_COLUMNS` (``shared_tokens``: what the positive shares with the query,
    with IDF, for the token reasons). ``index``: the BM25 index, or its idf alone
    (:func:`nanomlqa_viz.bm25_tokens.token_idf`: the same reasons without building the index).
    """
    rows = []
    for qi, query_id in enumerate(task.query_ids):
        positives = sorted({task.doc_index[d] for d in task.positives(query_id) if d in task.doc_index})
        if not positives:
            continue
        row = bm25.scores[qi]
        best = min(positives, key=lambda d: (-row[d], bm25.id_rank[d]))
        info = bm25.rank_info(qi, best)
        threshold = _certain_top(row, k)
        mine = (relevant or {}).get(query_id, frozenset())
        versions = [task.doc_index[d] for d in mine - task.positives(query_id) if d in task.doc_index]
        evidence = None
        if row[best] > threshold:
            reason = Bm25Reason.FOUND
        elif any(row[d] > threshold for d in versions):
            reason = Bm25Reason.FOUND_PARALLEL
        else:
            top = distractor_index(task, bm25, qi, relevant=mine)
            evidence = token_evidence(index, task.query_texts[qi], best, top_doc_index=top)
            reason = evidence.reason
        rows.append(
            {
                "query_id": query_id,
                "positive_id": task.doc_ids[best],
                "bm25_rank": info.rank,
                "bm25_tie_first": info.tie_first,
                "bm25_tie_last": info.tie_last,
                "reason": reason.value,
                "shared_tokens": _fmt_shared(evidence.shared) if evidence else "",
            }
        )
    return pd.DataFrame(rows, columns=list(REASON_COLUMNS))


def reason_overview(reasons: pd.DataFrame) -> pd.DataFrame:
    """Every :class:`Bm25Reason` (index: its value, in order, zeros included) with ``n`` and ``share`` of the rows."""
    values = [Bm25Reason(r).value for r in reasons["reason"]]
    n = pd.Series(Counter(values), dtype=int).reindex([r.value for r in REASONS], fill_value=0).astype(int)
    total = int(n.sum())
    out = pd.DataFrame({"n": n, "share": n / total if total else np.nan})
    out.index.name = "reason"
    return out


def reasons_by_pair(reasons: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Queries per language pair (rows: "all pairs", then pairs by n) and reason (every value, in order), plus ``n``."""
    columns = [r.value for r in REASONS]
    frame = reasons[["query_id", "reason"]].merge(table[["query_id", "pair"]], on="query_id", how="left")
    frame["reason"] = [Bm25Reason(r).value for r in frame["reason"]]
    if frame.empty:
        return pd.DataFrame(0, index=pd.Index(["all pairs"], name="pair"), columns=[*columns, "n"])
    counts = pd.crosstab(frame["pair"].fillna("?"), frame["reason"]).reindex(columns=columns, fill_value=0)
    counts["n"] = counts.sum(axis=1)
    counts = counts.reset_index().sort_values(["n", "pair"], ascending=[False, True]).set_index("pair")
    counts.columns.name = None
    out = pd.concat([counts.sum().to_frame("all pairs").T, counts]).astype(int)
    out.index.name = "pair"
    return out


def reason_rows(reasons: pd.DataFrame, table: pd.DataFrame, reason: Bm25Reason | None = None) -> pd.DataFrame:
    """The queries with ``reason`` (``None``: all) to show: id, pair, script relation, BM25 rank and ties, reason, text."""
    rows = reasons if reason is None else reasons[[Bm25Reason(r) is reason for r in reasons["reason"]]]
    out = rows.merge(table[["query_id", "pair", "script_relation", "query_text"]], on="query_id", how="left")
    out["bm25_ties"] = [format_interval(int(f), int(la)) for f, la in zip(out["bm25_tie_first"], out["bm25_tie_last"])]
    columns = ["query_id", "pair", "script_relation", "bm25_rank", "bm25_ties", "reason", "shared_tokens", "query_text"]
    return out[columns].reset_index(drop=True)


# --------------------------------------------------------------------------- BM25 vs another profile


def rank_frame(table: pd.DataFrame, *, other: str, sparse: str = "bm25") -> pd.DataFrame:
    """Per query whose positive both profiles rank: BM25's and ``other``'s rank, tie interval and expected rank.

    The expected rank is the middle of the tie interval (the rank under a random order of equal
    scores): what the scatter plots and the quadrant filters on. A partial ``other`` (a run) that
    does not list the positive, or a query without a positive, is left out.
    """
    needed = [f"{p}_{name}" for name in (sparse, other) for p in ("rank", "tie_first", "tie_last")] + [f"score_{sparse}"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise KeyError(f"the query table lacks {', '.join(missing)} (is the profile computed?)")
    keep = table[f"rank_{sparse}"].notna() & table[f"rank_{other}"].notna()
    src = table[keep]
    out = pd.DataFrame(
        {
            "query_id": src["query_id"].astype(str),
            "query_text": src["query_text"].astype(str),
            "positive_id": src["positive_id"].astype(str),
            "pair": src["pair"].astype(str),
            "script_relation": src["script_relation"].astype(str),
            "bm25_score": src[f"score_{sparse}"].astype(float),
        }
    )
    for side, name in (("bm25", sparse), ("other", other)):
        out[f"{side}_rank"] = src[f"rank_{name}"].astype(int)
        out[f"{side}_first"] = src[f"tie_first_{name}"].astype(int)
        out[f"{side}_last"] = src[f"tie_last_{name}"].astype(int)
        out[f"{side}_expected"] = (out[f"{side}_first"] + out[f"{side}_last"]) / 2
    return out.reset_index(drop=True)


def quadrant(frame: pd.DataFrame, *, other_top: int = 10, bm25_beyond: int = 100) -> pd.DataFrame:
    """The other profile finds it, BM25 does not: expected other rank ≤ ``other_top``, expected BM25 rank > ``bm25_beyond``.

    Rows of :func:`rank_frame`, worst expected BM25 rank first (then query id).
    """
    if int(other_top) < 1 or int(bm25_beyond) < 0:
        raise ValueError(f"need other_top >= 1 and bm25_beyond >= 0, got {other_top}, {bm25_beyond}")
    sel = frame[(frame["other_expected"] <= int(other_top)) & (frame["bm25_expected"] > int(bm25_beyond))]
    return sel.sort_values(["bm25_expected", "query_id"], ascending=[False, True]).reset_index(drop=True)


EVIDENCE_COLUMNS = (
    "query_id", "pair", "other_ties", "bm25_ties", "reason", "shared_tokens", "shared_idf", "query_scripts",
    "positive_scripts", "shared_scripts", "query_tokens", "positive_tokens", "n_positive_tokens", "distractor_id",
    "distractor_shared", "distractor_idf", "bm25_score", "query_text",
)  # fmt: skip


def quadrant_evidence(
    rows: pd.DataFrame,
    *,
    task: Task,
    index: BM25Index | TokenIdf,
    bm25: RankedProfile,
    reasons: pd.DataFrame | None = None,
    relevant: Mapping[str, frozenset[str]] | None = None,
    positive_token_limit: int = 25,
) -> pd.DataFrame:
    """One row per query of ``rows`` (from :func:`quadrant`): the tokens each side has and shares (with IDF), the scripts.

    ``reason``: the query's reason in ``reasons`` (:func:`bm25_reasons` under the same relevance
    mode) when given, else the token evidence's. ``shared_idf`` / ``distractor_idf``: the summed IDF
    of the tokens the positive / BM25's best non-relevant passage (``distractor_id``) shares with
    the query. Text columns hold plain text (escaped where they are shown).
    """
    given = dict(zip(reasons["query_id"], reasons["reason"])) if reasons is not None else {}
    records = []
    for row in rows.itertuples(index=False):
        if row.positive_id not in task.doc_index:
            continue
        qi = task.query_index[row.query_id]
        top = distractor_index(task, bm25, qi, relevant=(relevant or {}).get(row.query_id, ()))
        ev = token_evidence(index, task.query_texts[qi], task.doc_index[row.positive_id], top_doc_index=top)
        reason = Bm25Reason(given[row.query_id]) if row.query_id in given else ev.reason
        records.append(
            {
                "query_id": row.query_id,
                "pair": row.pair,
                "other_ties": format_interval(row.other_first, row.other_last),
                "bm25_ties": format_interval(row.bm25_first, row.bm25_last),
                "reason": reason.value,
                "shared_tokens": _fmt_shared(ev.shared),
                "shared_idf": ev.shared_idf,
                "query_scripts": ", ".join(ev.query_scripts) or "—",
                "positive_scripts": ", ".join(ev.positive_scripts) or "—",
                "shared_scripts": ", ".join(ev.shared_scripts) or "none",
                "query_tokens": " ".join(ev.query_tokens),
                "positive_tokens": _fmt_tokens(ev.positive_tokens, limit=positive_token_limit),
                "n_positive_tokens": len(ev.positive_tokens),
                "distractor_id": task.doc_ids[ev.top_doc_index] if ev.top_doc_index is not None else "",
                "distractor_shared": _fmt_shared(ev.top_shared),
                "distractor_idf": ev.top_shared_idf,
                "bm25_score": float(row.bm25_score),
                "query_text": task.query_texts[qi],
            }
        )
    return pd.DataFrame(records, columns=list(EVIDENCE_COLUMNS))


def scatter_figure(
    frame: pd.DataFrame,
    *,
    other_label: str,
    other_top: int | None = None,
    bm25_beyond: int | None = None,
    n_docs: int | None = None,
) -> go.Figure:
    """Expected BM25 rank (x) vs the other profile's (y) of the positive, log axes, one colour per script relation.

    Rank 1 is at the top left. With both thresholds, dashed lines mark them and the quadrant "the
    other profile finds it, BM25 does not" (top right) is shaded. The hover of a point shows the
    query id, pair, text and both ranks with their tie intervals, escaped; ``customdata`` holds
    the raw query id (matched on click, never shown). ``n_docs`` ends both axes.
    """
    other = plotly_text(other_label)
    fig = go.Figure()
    for relation in ("same", "different"):
        part = frame[frame["script_relation"] == relation]
        if part.empty:
            continue
        hover = [
            f"{plotly_text(r.query_id)} · {plotly_text(r.pair)}<br>{plotly_text(short_label(r.query_text, 80))}"
            f"<br>BM25: {_rank_text(r.bm25_rank, r.bm25_first, r.bm25_last)}"
            f"<br>{other}: {_rank_text(r.other_rank, r.other_first, r.other_last)}"
            for r in part.itertuples(index=False)
        ]
        fig.add_trace(
            go.Scattergl(
                x=part["bm25_expected"],
                y=part["other_expected"],
                mode="markers",
                name=plotly_text(f"{relation} script (n={len(part):,})"),
                marker={"color": RELATION_COLOURS[relation], "size": 6, "opacity": 0.75 if relation == "different" else 0.6},
                customdata=[[q] for q in part["query_id"]],
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    largest = int(n_docs) if n_docs else int(max(frame["bm25_last"].max(), frame["other_last"].max(), 10) if len(frame) else 10)
    low, high = math.log10(0.7), math.log10(largest * 1.4)
    line = {"color": "#6b7280", "dash": "dash", "width": 1}
    if other_top is not None:
        fig.add_hline(y=other_top + 0.5, line=line)
    if bm25_beyond is not None:
        fig.add_vline(x=bm25_beyond + 0.5, line=line)
    if other_top is not None and bm25_beyond is not None:
        fig.add_shape(
            type="rect",
            x0=bm25_beyond + 0.5,
            x1=10**high,
            y0=10**low,
            y1=other_top + 0.5,
            fillcolor="rgba(37, 99, 235, 0.06)",
            line={"width": 0},
            layer="below",
        )
    axis = {"type": "log", "dtick": 1, "tickformat": "d", "showgrid": True, "gridcolor": "#eef0f3", "zeroline": False}
    fig.update_layout(
        height=440,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={**axis, "title": "BM25 rank of the positive (expected, log)", "range": [low, high]},
        yaxis={**axis, "title": f"{other} rank of the positive (expected, log)", "range": [high, low]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        plot_bgcolor="white",
        clickmode="event+select",
    )
    return fig


def _rank_text(rank: int, first: int, last: int) -> str:
    if first == last:
        return f"rank {rank:,}"
    return f"rank {rank:,} by id, could be {format_interval(first, last)} (expected {(first + last) / 2:,.1f})"


def clicked_query(event: object, valid: Iterable[str]) -> str | None:
    """The raw query id of a clicked scatter point from a Streamlit selection event, if it is one of ``valid``."""
    try:
        points = list(event["selection"]["points"]) if event is not None else []  # type: ignore[index]
    except (KeyError, TypeError):
        points = []
    valid = set(valid)
    for point in points:
        custom = point.get("customdata") if isinstance(point, dict) else None
        query_id = custom[0] if isinstance(custom, (list, tuple)) and custom else None
        if query_id in valid:
            return query_id
    return None


# --------------------------------------------------------------------------- from a view


def sparse_name(view: View) -> str | None:
    """The BM25 profile the page explains (``bm25`` when present, else the registry's first sparse profile)."""
    names = view.registry.names(ProfileKind.SPARSE)
    return "bm25" if "bm25" in names else (names[0] if names else None)


def other_names(view: View) -> list[str]:
    """The profiles BM25 can be compared with: every dense model, fusion and run of the registry."""
    return view.registry.names(*OTHER_KINDS)


def default_other(view: View) -> str | None:
    """The primary dense profile when there is one, else the first comparable profile."""
    names = other_names(view)
    primary = view.primary_dense.name if view.primary_dense is not None else None
    return primary if primary in names else ("dense" if "dense" in names else (names[0] if names else None))


def view_reasons(view: View, *, mode: RelevanceMode | None = None, k: int = 10) -> pd.DataFrame:
    """:func:`bm25_reasons` under the view's relevance mode (or ``mode``), memoised under the view's complete key.

    Call it after the failure analysis is ready when the mode is ``parallel`` (it needs the groups).
    """
    sparse = sparse_name(view)
    if sparse is None:
        return pd.DataFrame(columns=list(REASON_COLUMNS))

    def compute() -> pd.DataFrame:
        relevant = view.relevant(mode)
        return bm25_reasons(
            view.task, index=token_idf(view.pipeline.ctx), bm25=view.registry[sparse].profile, relevant=relevant, k=k
        )

    return view.cached("bm25_reasons", compute, profiles=(sparse,), params=(REASONS_VERSION, k), mode=mode)


def view_rank_frame(view: View, other: str) -> pd.DataFrame:
    return rank_frame(view.table(), other=other, sparse=sparse_name(view) or "bm25")


def view_quadrant(view: View, other: str, *, other_top: int, bm25_beyond: int, mode: RelevanceMode | None = None) -> pd.DataFrame:
    """:func:`quadrant_evidence` of the quadrant (``other`` finds it within ``other_top``, BM25 beyond ``bm25_beyond``)."""
    sparse = sparse_name(view) or "bm25"

    def compute() -> pd.DataFrame:
        rows = quadrant(view_rank_frame(view, other), other_top=other_top, bm25_beyond=bm25_beyond)
        return quadrant_evidence(
            rows,
            task=view.task,
            index=token_idf(view.pipeline.ctx),
            bm25=view.registry[sparse].profile,
            reasons=view_reasons(view, mode=mode),
            relevant=view.relevant(mode),
        )

    params = (REASONS_VERSION, int(other_top), int(bm25_beyond))
    return view.cached("bm25_quadrant", compute, profiles=(sparse, other), params=params, mode=mode)
