"""Why BM25 misses passages the dense model finds: scripts and tokens, query by query.

BM25 can only score a passage through tokens it shares with the query. A cross-lingual query
whose positive is written in another script usually shares none (a year or another number
may still match: digits are normalised by the tokenizer), so BM25 gives the positive 0 and its
rank is only a position inside a block of ties. :func:`token_evidence` tells the cases apart:

* ``no shared script``: the two texts have no script in common (digits and punctuation are not
  a script) and share no token — BM25 cannot match them at all;
* ``shared script, no shared tokens``: same script, but no word or bigram in common;
* ``tokens shared, a distractor shares more``: tokens are shared, but BM25's top passage shares
  tokens of a larger summed IDF with the query;
* ``tokens shared, outscored``: the top passage shares no more IDF than the positive, yet
  scores higher (term frequency, passage length);
* ``tokens shared``: tokens are shared and there is no other passage to compare with.

The scatter figure at the end (plotly, no Streamlit) is what the page shows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.bm25 import BM25Index
from nanomlqa_viz.languages import COMMON_SCRIPT, script_of
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import tokenize

__all__ = [
    "DISTRACTOR_SHARES_MORE",
    "NO_SHARED_SCRIPT",
    "NO_SHARED_TOKENS",
    "REASONS",
    "TOKENS_SHARED",
    "TOKENS_SHARED_OUTSCORED",
    "TokenEvidence",
    "distractor_index",
    "quadrant",
    "quadrant_evidence",
    "reason_counts",
    "reason_summary",
    "scatter_figure",
    "scatter_frame",
    "token_evidence",
]

NO_SHARED_SCRIPT = "no shared script"
NO_SHARED_TOKENS = "shared script, no shared tokens"
DISTRACTOR_SHARES_MORE = "tokens shared, a distractor shares more"
TOKENS_SHARED_OUTSCORED = "tokens shared, outscored"
TOKENS_SHARED = "tokens shared"
REASONS: tuple[str, ...] = (NO_SHARED_SCRIPT, NO_SHARED_TOKENS, DISTRACTOR_SHARES_MORE, TOKENS_SHARED_OUTSCORED, TOKENS_SHARED)
"""Every reason label, from "cannot match" to "could match"."""

RELATION_COLORS = {"different": "#2563eb", "same": "#9ca3af"}


# --------------------------------------------------------------------------- ranks


def scatter_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per query with a positive: its BM25 and dense rank, BM25 tie interval and score, script relation.

    Columns: query_id, pair, query_lang, positive_lang, query_script, positive_script,
    script_relation, rank_bm25, rank_dense (int), bm25_tie_first, bm25_tie_last, bm25_score.
    Raises ``KeyError`` when the table has no dense ranks (the dense profile is not computed).
    """
    needed = ["rank_bm25", "rank_dense", "tie_first_bm25", "tie_last_bm25", "score_bm25"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise KeyError(f"the query table lacks {', '.join(missing)} (is the dense profile computed?)")
    keep = table["rank_bm25"].notna() & table["rank_dense"].notna()
    src = table[keep]
    out = pd.DataFrame(
        {
            "query_id": src["query_id"].astype(str),
            "pair": src["pair"].astype(str),
            "query_lang": src["query_lang"].astype(str),
            "positive_lang": src["positive_lang"].astype(str),
            "query_script": src["query_script"].astype(str),
            "positive_script": src["positive_script"].astype(str),
            "script_relation": src["script_relation"].astype(str),
            "rank_bm25": src["rank_bm25"].astype(int),
            "rank_dense": src["rank_dense"].astype(int),
            "bm25_tie_first": src["tie_first_bm25"].astype(int),
            "bm25_tie_last": src["tie_last_bm25"].astype(int),
            "bm25_score": src["score_bm25"].astype(float),
        }
    )
    return out.reset_index(drop=True)


def quadrant(table: pd.DataFrame, *, dense_top: int = 10, bm25_beyond: int = 100) -> pd.DataFrame:
    """Dense finds it, BM25 does not: rank_dense <= ``dense_top`` and rank_bm25 > ``bm25_beyond``.

    Rows of :func:`scatter_frame`, worst BM25 rank first (then query id).
    """
    if int(dense_top) < 1 or int(bm25_beyond) < 0:
        raise ValueError(f"need dense_top >= 1 and bm25_beyond >= 0, got {dense_top}, {bm25_beyond}")
    frame = scatter_frame(table)
    sel = frame[(frame["rank_dense"] <= int(dense_top)) & (frame["rank_bm25"] > int(bm25_beyond))]
    return sel.sort_values(["rank_bm25", "query_id"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------- tokens


@lru_cache(maxsize=200_000)
def _token_script(token: str) -> str:
    return script_of(token)


def _scripts(tokens: Iterable[str]) -> tuple[str, ...]:
    """Scripts of the tokens' letters, most tokens first (digits-only tokens have none)."""
    counts = Counter(_token_script(t) for t in tokens)
    counts.pop(COMMON_SCRIPT, None)
    return tuple(s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _shared(index: BM25Index, query: Sequence[str], doc: Iterable[str]) -> tuple[tuple[str, float], ...]:
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
    reason: str  # one of REASONS
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
    index: BM25Index,
    query_text: str,
    positive_doc_index: int,
    *,
    top_doc_index: int | None = None,
) -> TokenEvidence:
    """Tokens and scripts a query shares with its positive (document ``positive_doc_index`` of ``index``).

    ``top_doc_index``: BM25's top passage for the query (see :func:`distractor_index`); when it
    is given and is not the positive, the reason compares the summed IDF of the tokens each
    passage shares with the query.
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
        reason = NO_SHARED_TOKENS if shared_scripts else NO_SHARED_SCRIPT
    elif not compare:
        reason = TOKENS_SHARED
    elif sum(i for _, i in top_shared) > sum(i for _, i in shared):
        reason = DISTRACTOR_SHARES_MORE
    else:
        reason = TOKENS_SHARED_OUTSCORED
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


def distractor_index(task: Task, bm25: RankedProfile, query_index: int, *, depth: int = 20) -> int | None:
    """BM25's best passage for a query that is neither relevant nor a copy of a relevant text."""
    relevant = {task.doc_index[d] for d in task.positives(task.query_ids[query_index]) if d in task.doc_index}
    relevant_texts = {task.doc_texts[i] for i in relevant}
    for di in bm25.top(query_index, depth):
        di = int(di)
        if di not in relevant and task.doc_texts[di] not in relevant_texts:
            return di
    return None


def _fmt_shared(shared: Sequence[tuple[str, float]], *, limit: int = 12) -> str:
    text = ", ".join(f"{t} ({idf:.1f})" for t, idf in shared[:limit])
    return text + (f", … +{len(shared) - limit}" if len(shared) > limit else "")


def _fmt_tokens(tokens: Sequence[str], *, limit: int) -> str:
    text = " ".join(tokens[:limit])
    return text + (f" … +{len(tokens) - limit}" if len(tokens) > limit else "")


def quadrant_evidence(
    rows: pd.DataFrame,
    *,
    task: Task,
    index: BM25Index,
    bm25: RankedProfile,
    positive_token_limit: int = 25,
) -> pd.DataFrame:
    """One row per query of ``rows`` (from :func:`quadrant`): tokens, shared tokens with IDF, scripts, reason.

    Text columns are ready to show; ``shared_idf`` / ``distractor_idf`` are the summed IDF of
    the tokens the positive / BM25's best other passage (``distractor_id``) shares with the query.
    """
    records = []
    for row in rows.itertuples(index=False):
        qi = task.query_index[row.query_id]
        positive = task.first_positive(row.query_id)
        if positive is None or positive not in task.doc_index:
            continue
        di = task.doc_index[positive]
        top = distractor_index(task, bm25, qi)
        ev = token_evidence(index, task.query_texts[qi], di, top_doc_index=top)
        bm25_rank = str(row.rank_bm25) if row.bm25_tie_first == row.bm25_tie_last else f"{row.bm25_tie_first}–{row.bm25_tie_last}"
        records.append(
            {
                "query_id": row.query_id,
                "pair": row.pair,
                "rank_dense": int(row.rank_dense),
                "rank_bm25": int(row.rank_bm25),
                "bm25_ties": bm25_rank,
                "bm25_score": float(row.bm25_score),
                "query_text": task.query_texts[qi],
                "query_tokens": " ".join(ev.query_tokens),
                "positive_tokens": _fmt_tokens(ev.positive_tokens, limit=positive_token_limit),
                "n_positive_tokens": len(ev.positive_tokens),
                "shared_tokens": _fmt_shared(ev.shared),
                "shared_idf": ev.shared_idf,
                "query_scripts": ", ".join(ev.query_scripts) or "—",
                "positive_scripts": ", ".join(ev.positive_scripts) or "—",
                "shared_scripts": ", ".join(ev.shared_scripts) or "none",
                "distractor_id": task.doc_ids[ev.top_doc_index] if ev.top_doc_index is not None else "",
                "distractor_shared": _fmt_shared(ev.top_shared),
                "distractor_idf": ev.top_shared_idf,
                "reason": ev.reason,
            }
        )
    columns = [
        "query_id", "pair", "rank_dense", "rank_bm25", "bm25_ties", "bm25_score", "query_text", "query_tokens",
        "positive_tokens", "n_positive_tokens", "shared_tokens", "shared_idf", "query_scripts", "positive_scripts",
        "shared_scripts", "distractor_id", "distractor_shared", "distractor_idf", "reason",
    ]  # fmt: skip
    return pd.DataFrame(records, columns=columns)


def reason_counts(evidence: pd.DataFrame) -> pd.DataFrame:
    """Queries per language pair (rows, most first) and reason (columns, in :data:`REASONS` order), plus ``n``.

    Only reasons that occur get a column; a frame without rows gives an empty frame with ``n``.
    """
    if evidence.empty:
        return pd.DataFrame(columns=["n"], dtype=int).rename_axis("pair")
    counts = pd.crosstab(evidence["pair"], evidence["reason"])
    counts = counts[[r for r in REASONS if r in counts.columns]]
    counts["n"] = counts.sum(axis=1)
    counts = counts.sort_values(["n"], ascending=False, kind="stable")
    counts.columns.name = None
    return counts.astype(int)


def reason_summary(evidence: pd.DataFrame) -> pd.DataFrame:
    """Every reason of :data:`REASONS` (index, in order, zeros included) with its ``n`` and ``share`` of the rows."""
    n = pd.Series(0, index=list(REASONS), dtype=int)
    if len(evidence):
        n = evidence["reason"].value_counts().reindex(list(REASONS), fill_value=0).astype(int)
    total = int(n.sum())
    out = pd.DataFrame({"n": n, "share": n / total if total else np.nan})
    out.index.name = "reason"
    return out


# --------------------------------------------------------------------------- figure


def scatter_figure(
    frame: pd.DataFrame,
    *,
    dense_top: int | None = None,
    bm25_beyond: int | None = None,
    n_docs: int | None = None,
) -> go.Figure:
    """BM25 rank (x) vs dense rank (y) of the positive, log axes, one colour per script relation.

    Rank 1 is at the top left. With both thresholds, dashed lines mark them and the quadrant
    "dense finds it, BM25 does not" (top right) is shaded. Hover: query id, pair, ranks, ties.
    ``n_docs`` (the corpus size) ends both axes; by default the largest rank does.
    """
    fig = go.Figure()
    for relation in ("same", "different"):
        part = frame[frame["script_relation"] == relation]
        if part.empty:
            continue
        ties = np.where(
            part["bm25_tie_first"] == part["bm25_tie_last"],
            part["rank_bm25"].astype(str),
            part["bm25_tie_first"].astype(str) + "–" + part["bm25_tie_last"].astype(str),
        )
        fig.add_trace(
            go.Scattergl(
                x=part["rank_bm25"],
                y=part["rank_dense"],
                mode="markers",
                name=f"{relation} script (n={len(part)})",
                marker={"color": RELATION_COLORS[relation], "size": 6, "opacity": 0.75 if relation == "different" else 0.6},
                customdata=np.stack([part["query_id"], part["pair"], ties], axis=1),
                hovertemplate=(
                    "%{customdata[0]} · %{customdata[1]}<br>BM25 rank %{x} (ties %{customdata[2]})"
                    "<br>dense rank %{y}<extra></extra>"
                ),
            )
        )
    largest = int(n_docs) if n_docs else int(max(frame["rank_bm25"].max(), frame["rank_dense"].max(), 10) if len(frame) else 10)
    low, high = math.log10(0.7), math.log10(largest * 1.4)
    line = {"color": "#6b7280", "dash": "dash", "width": 1}
    if dense_top is not None:
        fig.add_hline(y=dense_top + 0.5, line=line)
    if bm25_beyond is not None:
        fig.add_vline(x=bm25_beyond + 0.5, line=line)
    if dense_top is not None and bm25_beyond is not None:
        fig.add_shape(
            type="rect",
            x0=bm25_beyond + 0.5,
            x1=10**high,
            y0=10**low,
            y1=dense_top + 0.5,
            fillcolor="rgba(37, 99, 235, 0.06)",
            line={"width": 0},
            layer="below",
        )
    axis = {"type": "log", "dtick": 1, "tickformat": "d", "showgrid": True, "gridcolor": "#eef0f3", "zeroline": False}
    fig.update_layout(
        height=440,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={**axis, "title": "BM25 rank of the positive (log)", "range": [low, high]},
        yaxis={**axis, "title": "dense rank of the positive (log)", "range": [high, low]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        plot_bgcolor="white",
    )
    return fig


FOUND = "found (top 10)"
FOUND_OTHER_VERSION = "a copy or translation was found instead"
FAILURE_REASONS: tuple[str, ...] = (FOUND, FOUND_OTHER_VERSION, *REASONS)
"""Every label :func:`bm25_reasons` gives, from "not a failure" to "could match"."""


def bm25_reasons(
    task: Task,
    *,
    index: BM25Index,
    bm25: RankedProfile,
    relevant: Mapping[str, frozenset[str]] | None = None,
    k: int = 10,
) -> pd.DataFrame:
    """A reason for every query: found; a copy/translation found instead; or :func:`token_evidence`'s.

    ``relevant``: the positives with their exact copies and translations (the ``translations``
    relevance mode); without it only the strict positives count.
    """
    rows = []
    for qi, query_id in enumerate(task.query_ids):
        positive = task.first_positive(query_id)
        if positive is None:
            continue
        di = task.doc_index[positive]
        rank = bm25.rank_info(qi, di).rank
        versions = (relevant or {}).get(query_id, frozenset()) - task.positives(query_id)
        top = {int(d) for d in bm25.top(qi, k)}
        if rank <= k:
            reason, evidence = FOUND, None
        elif any(task.doc_index[d] in top for d in versions):
            reason, evidence = FOUND_OTHER_VERSION, None
        else:
            evidence = token_evidence(index, task.query_texts[qi], di, top_doc_index=distractor_index(task, bm25, qi))
            reason = evidence.reason
        rows.append(
            {
                "query_id": query_id,
                "bm25_rank": rank,
                "reason": reason,
                "shared_tokens": _fmt_shared(evidence.shared) if evidence else "",
            }
        )
    return pd.DataFrame(rows, columns=["query_id", "bm25_rank", "reason", "shared_tokens"])
