"""The hybrid what-if: where positives land under other fusion settings, and why.

Everything here starts from the full 1-based rank arrays of the BM25 and dense profiles
(:meth:`~nanomlqa_viz.ranking.RankedProfile.full_ranks`, computed once by the caller) and
fuses them exactly as :func:`nanomlqa_viz.fusion.rrf_scores` does — the same float
expression ``w / (k + rank)`` per list within ``depth``, summed BM25 first — with the tie
policy of :mod:`nanomlqa_viz.ranking`: fused score descending, then (``tie_break="best_rank"``)
the best single-list rank, then corpus id. For the default :class:`FusionParams` the fused
rank of a positive therefore equals the hybrid profile's ``rank_info`` rank.

Only the positives' fused ranks are needed for metrics, and only the passages inside one of
the two depth-limited lists can score above 0. So a positive's fused rank is
``1 + #{listed passages ahead of it} + #{unlisted passages ahead of it}``; the first term is
computed with numpy over the (at most ``2 · depth``) listed passages of its query, the second
is fixed for a given depth (unlisted passages score exactly 0: they are ahead only when the
positive scores 0 too and wins no tie-break, or when it scores below 0) and is counted once.
A sweep over many (k, weights) settings is then a few array operations per setting.

Metrics follow :mod:`nanomlqa_viz.metrics` (binary relevance, nDCG@10 over
``min(|relevant|, 10)``, hit@k, recall@100, MRR@10; a query without a positive scores 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.metrics import METRIC_KEYS

__all__ = [
    "ACCENT",
    "CONTRIBUTION_COLUMNS",
    "DEFAULT_KS",
    "DEFAULT_WEIGHT_PAIRS",
    "Positives",
    "fused_metrics",
    "metrics_from_ranks",
    "positive_fused_rank",
    "query_contributions",
    "sweep",
    "sweep_figure",
    "weight_label",
]

ACCENT = "#2563eb"

DEFAULT_KS: tuple[float, ...] = (1, 5, 10, 20, 40, 60, 100, 200, 500, 1000)
"""RRF k values of the page's sweep (k = 60 is the usual choice, 100 the dataset builder's)."""
DEFAULT_WEIGHT_PAIRS: tuple[tuple[float, float], ...] = (
    (0.0, 1.0),
    (0.25, 1.0),
    (0.5, 1.0),
    (0.75, 1.0),
    (1.0, 1.0),
    (1.0, 0.75),
    (1.0, 0.5),
    (1.0, 0.25),
    (1.0, 0.0),
)
"""(BM25, dense) weights of the sweep. Only the ratio matters: scaling both keeps every order."""
CONTRIBUTION_COLUMNS = [
    "doc",
    "fused_rank",
    "fused",
    "bm25_rank",
    "dense_rank",
    "bm25_contribution",
    "dense_contribution",
    "in_top",
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class Positives:
    """Relevant passages as (query index, corpus index) pairs, and how many each query has."""

    query: np.ndarray  # (n_pairs,) int64
    doc: np.ndarray  # (n_pairs,) int64
    n_relevant: np.ndarray  # (n_queries,) int64
    n_queries: int

    @classmethod
    def of(cls, positives: Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray, *, n_queries: int) -> Positives:
        """From one corpus index per query (``-1``: none) or a list of corpus indices per query."""
        if isinstance(positives, Positives):
            if positives.n_queries != n_queries:
                raise ValueError(f"positives are for {positives.n_queries} queries, not {n_queries}")
            return positives
        items = list(positives)
        if len(items) != n_queries:
            raise ValueError(f"{len(items)} positive entries for {n_queries} queries")
        per_query = [
            [int(x) for x in item] if isinstance(item, Iterable) else ([int(item)] if int(item) >= 0 else []) for item in items
        ]
        query = np.array([qi for qi, docs in enumerate(per_query) for _ in docs], dtype=np.int64)
        doc = np.array([d for docs in per_query for d in docs], dtype=np.int64)
        n_relevant = np.array([len(docs) for docs in per_query], dtype=np.int64)
        return cls(query=query, doc=doc, n_relevant=n_relevant, n_queries=n_queries)


def _check_ranks(bm25_ranks: np.ndarray, dense_ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(bm25_ranks)
    d = np.asarray(dense_ranks)
    if b.ndim != 2 or b.shape != d.shape:
        raise ValueError(f"rank arrays must be 2-D and of one shape, got {b.shape} and {d.shape}")
    return b, d


def _id_rank(id_rank: np.ndarray | None, n_docs: int) -> np.ndarray:
    if id_rank is None:
        return np.arange(n_docs, dtype=np.int64)
    out = np.asarray(id_rank, dtype=np.int64)
    if out.shape != (n_docs,):
        raise ValueError(f"id_rank has shape {out.shape}, expected ({n_docs},)")
    return out


def _check_params(k: float, weights: tuple[float, float], depth: int, tie_break: str) -> None:
    if not np.isfinite(k) or k < 0:
        raise ValueError(f"k must be a finite number ≥ 0, got {k}")
    if len(weights) != 2 or not all(np.isfinite(w) for w in weights):
        raise ValueError(f"weights must be two finite numbers (bm25, dense), got {weights}")
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    if tie_break not in ("best_rank", "id"):
        raise ValueError(f"tie_break must be 'best_rank' or 'id', got {tie_break!r}")


# --------------------------------------------------------------------------- one query


def query_contributions(
    bm25_ranks_row: np.ndarray,
    dense_ranks_row: np.ndarray,
    *,
    params: FusionParams = FusionParams(),
    top: int = 10,
    id_rank: np.ndarray | None = None,
    extra: Sequence[int] = (),
) -> pd.DataFrame:
    """The fused top ``top`` of one query, each passage with what each list contributed.

    Columns :data:`CONTRIBUTION_COLUMNS`: ``doc`` (corpus index), ``fused_rank`` (1-based, tie
    policy of the module), ``fused`` (score), ``bm25_rank`` / ``dense_rank`` (full-corpus ranks),
    ``bm25_contribution`` / ``dense_contribution`` (``w / (k + rank)``, 0 beyond ``depth``; their
    sum is ``fused``) and ``in_top``. Passages in ``extra`` (e.g. the positive) are added after
    the top with their own fused rank when they are not in it. ``id_rank``: the corpus-id order
    of :func:`nanomlqa_viz.ranking.id_order` (default: corpus index order).
    """
    b = np.asarray(bm25_ranks_row).reshape(-1)
    d = np.asarray(dense_ranks_row).reshape(-1)
    if b.shape != d.shape:
        raise ValueError(f"rank rows differ in length: {b.shape} and {d.shape}")
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    n_docs = b.size
    ids = _id_rank(id_rank, n_docs)
    fused, secondary = rrf_scores([b[None, :], d[None, :]], params=params)
    fused, secondary = fused[0], secondary[0]
    order = np.lexsort([ids, secondary, -fused])
    fused_rank = np.empty(n_docs, dtype=np.int64)
    fused_rank[order] = np.arange(1, n_docs + 1)
    shown = list(order[: max(0, min(top, n_docs))])
    shown += [int(x) for x in dict.fromkeys(extra) if 0 <= int(x) < n_docs and fused_rank[int(x)] > len(shown)]
    docs = np.array(shown, dtype=np.int64)
    w_b, w_d = params.weights
    contribution = {}
    for name, ranks, w in (("bm25", b, w_b), ("dense", d, w_d)):
        r = ranks[docs].astype(np.float64)
        contribution[name] = np.where(r <= params.depth, w / (params.k + r), 0.0)
    frame = pd.DataFrame(
        {
            "doc": docs,
            "fused_rank": fused_rank[docs],
            "fused": fused[docs],
            "bm25_rank": b[docs].astype(np.int64),
            "dense_rank": d[docs].astype(np.int64),
            "bm25_contribution": contribution["bm25"],
            "dense_contribution": contribution["dense"],
            "in_top": fused_rank[docs] <= top,
        }
    )
    return frame.sort_values("fused_rank", kind="stable").reset_index(drop=True)[CONTRIBUTION_COLUMNS]


# --------------------------------------------------------------------------- many queries


@dataclass(frozen=True, eq=False)
class _Listed:
    """Per positive: its query's depth-limited passages (padded to one width) and the fixed counts."""

    depth: int
    rb: np.ndarray  # (P, M) float64 BM25 rank of each listed passage
    rd: np.ndarray  # (P, M) float64 dense rank
    in_b: np.ndarray  # (P, M) bool: inside the BM25 list
    in_d: np.ndarray  # (P, M) bool
    key: np.ndarray  # (P, M) int64 tie key (smaller first); padding holds the max
    valid: np.ndarray  # (P, M) bool: a real passage, not padding
    pos_rb: np.ndarray  # (P,) float64
    pos_rd: np.ndarray  # (P,)
    pos_key: np.ndarray  # (P,) int64
    n_unlisted: np.ndarray  # (P,) passages outside both lists (they score exactly 0)
    unlisted_before: np.ndarray  # (P,) of those, how many win the tie-break against the positive


def _tie_keys(b: np.ndarray, d: np.ndarray, ids: np.ndarray, tie_break: str) -> np.ndarray:
    n_docs = ids.size
    if tie_break == "id":
        return np.broadcast_to(ids, b.shape)
    return np.minimum(b, d).astype(np.int64) * (n_docs + 1) + ids


def _listed(b: np.ndarray, d: np.ndarray, pos: Positives, *, depth: int, tie_break: str, ids: np.ndarray) -> _Listed:
    q, docs = pos.query, pos.doc
    inside = (b <= depth) | (d <= depth)  # (n_q, n_docs)
    rows, cols = np.nonzero(inside)
    counts = np.bincount(rows, minlength=b.shape[0])
    width = max(1, int(counts.max()) if counts.size else 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(rows.size) - starts[rows]
    listed = np.zeros((b.shape[0], width), dtype=np.int64)
    listed[rows, slot] = cols
    valid_q = np.arange(width)[None, :] < counts[:, None]

    keys = _tie_keys(b, d, ids, tie_break)
    pos_key = keys[q, docs].astype(np.int64)
    # unlisted passages ahead of a zero-score positive: those winning the tie-break
    unlisted_before = np.count_nonzero(~inside[q] & (keys[q] < pos_key[:, None]), axis=1)
    n_unlisted = b.shape[1] - counts[q]

    cand = listed[q]
    valid = valid_q[q]
    rb = b[q[:, None], cand].astype(np.float64)
    rd = d[q[:, None], cand].astype(np.float64)
    key = np.where(valid, keys[q[:, None], cand], np.iinfo(np.int64).max)
    return _Listed(
        depth=depth,
        rb=rb,
        rd=rd,
        in_b=valid & (rb <= depth),
        in_d=valid & (rd <= depth),
        key=key,
        valid=valid,
        pos_rb=b[q, docs].astype(np.float64),
        pos_rd=d[q, docs].astype(np.float64),
        pos_key=pos_key,
        n_unlisted=n_unlisted.astype(np.int64),
        unlisted_before=unlisted_before.astype(np.int64),
    )


def _fused_ranks(lists: _Listed, *, den_b: np.ndarray, den_d: np.ndarray, pos_den_b, pos_den_d, weights) -> np.ndarray:
    """1-based fused rank of every positive for one setting (denominators ``k + rank`` precomputed)."""
    w_b, w_d = weights
    depth = lists.depth
    # the exact expression of fusion.rrf_scores: (0 + w_b / (k + r_b)) + w_d / (k + r_d), 0 beyond depth
    fused = np.where(lists.in_b, w_b / den_b, 0.0) + np.where(lists.in_d, w_d / den_d, 0.0)
    pos = np.where(lists.pos_rb <= depth, w_b / pos_den_b, 0.0) + np.where(lists.pos_rd <= depth, w_d / pos_den_d, 0.0)
    col = pos[:, None]
    ahead = (fused > col) | ((fused == col) & (lists.key < lists.pos_key[:, None]))
    listed_ahead = np.count_nonzero(ahead & lists.valid, axis=1)
    unlisted_ahead = np.where(pos < 0, lists.n_unlisted, np.where(pos == 0, lists.unlisted_before, 0))
    return 1 + listed_ahead + unlisted_ahead


def _prepare(bm25_ranks, dense_ranks, positives, *, depth, tie_break, id_rank) -> tuple[Positives, _Listed]:
    b, d = _check_ranks(bm25_ranks, dense_ranks)
    pos = Positives.of(positives, n_queries=b.shape[0])
    if pos.doc.size and (pos.doc.min() < 0 or pos.doc.max() >= b.shape[1]):
        raise ValueError("a positive's corpus index is outside the rank arrays")
    ids = _id_rank(id_rank, b.shape[1])
    return pos, _listed(b, d, pos, depth=depth, tie_break=tie_break, ids=ids)


def positive_fused_rank(
    bm25_ranks: np.ndarray,
    dense_ranks: np.ndarray,
    positives: Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray,
    *,
    params: FusionParams = FusionParams(),
    id_rank: np.ndarray | None = None,
) -> np.ndarray:
    """Fused rank of every positive, vectorised over queries.

    ``positives``: one corpus index per query (``-1``: none) or a list per query. The result has
    one entry per (query, positive) pair in the order of :meth:`Positives.of` — with one positive
    per query (MLQA), one per query. ``id_rank`` as in :func:`query_contributions`.
    """
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    _, lists = _prepare(bm25_ranks, dense_ranks, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    k = params.k
    return _fused_ranks(
        lists,
        den_b=k + lists.rb,
        den_d=k + lists.rd,
        pos_den_b=k + lists.pos_rb,
        pos_den_d=k + lists.pos_rd,
        weights=params.weights,
    )


def metrics_from_ranks(ranks: np.ndarray, positives: Positives) -> pd.DataFrame:
    """Per-query :data:`METRIC_KEYS` (rows: query index) from the fused rank of every positive pair."""
    r = np.asarray(ranks, dtype=np.float64)
    q = positives.query
    n_q = positives.n_queries
    n_rel = positives.n_relevant.astype(np.float64)
    gains = np.where(r <= 10, 1.0 / np.log2(r + 1.0), 0.0)
    dcg = np.bincount(q, weights=gains, minlength=n_q)
    ideal_terms = np.cumsum(1.0 / np.log2(np.arange(1, 11) + 1.0))
    ideal = np.where(n_rel > 0, ideal_terms[np.clip(positives.n_relevant, 1, 10) - 1], 1.0)
    best = np.full(n_q, np.inf)
    np.minimum.at(best, q, r)
    within100 = np.bincount(q, weights=(r <= 100).astype(np.float64), minlength=n_q)
    out = {
        "ndcg@10": np.where(n_rel > 0, dcg / ideal, 0.0),
        "hit@1": (best <= 1).astype(np.float64),
        "hit@10": (best <= 10).astype(np.float64),
        "hit@100": (best <= 100).astype(np.float64),
        "recall@100": np.divide(within100, n_rel, out=np.zeros(n_q), where=n_rel > 0),
        "mrr@10": np.where(best <= 10, 1.0 / best, 0.0),
    }
    return pd.DataFrame(out, columns=list(METRIC_KEYS))


def _metric_names(metric: str | Sequence[str]) -> list[str]:
    names = [metric] if isinstance(metric, str) else list(metric)
    unknown = [m for m in names if m not in METRIC_KEYS]
    if unknown or not names:
        raise KeyError(f"unknown metric(s) {unknown or names}; choose from {', '.join(METRIC_KEYS)}")
    return names


def sweep(
    bm25_ranks: np.ndarray,
    dense_ranks: np.ndarray,
    positives: Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray,
    *,
    ks: Sequence[float] = DEFAULT_KS,
    weight_pairs: Sequence[tuple[float, float]] = DEFAULT_WEIGHT_PAIRS,
    depth: int = FusionParams.depth,
    metric: str | Sequence[str] = "hit@10",
    tie_break: str = FusionParams.tie_break,
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """The fused metric, averaged over all queries, for every k × (BM25, dense) weight pair.

    One row per setting (k outer, weights inner, in the given order); columns ``k``,
    ``w_bm25``, ``w_dense``, one column per metric (the mean over all queries; a query without
    a positive counts as 0, as in :mod:`nanomlqa_viz.metrics`) and ``n`` (queries averaged).
    """
    names = _metric_names(metric)
    for k in ks:
        for w in weight_pairs:
            _check_params(float(k), tuple(w), depth, tie_break)
    pos, lists = _prepare(bm25_ranks, dense_ranks, positives, depth=depth, tie_break=tie_break, id_rank=id_rank)
    rows = []
    for k in ks:
        den_b, den_d = k + lists.rb, k + lists.rd
        pos_den_b, pos_den_d = k + lists.pos_rb, k + lists.pos_rd
        for w_b, w_d in weight_pairs:
            ranks = _fused_ranks(lists, den_b=den_b, den_d=den_d, pos_den_b=pos_den_b, pos_den_d=pos_den_d, weights=(w_b, w_d))
            means = metrics_from_ranks(ranks, pos)[names].mean() if pos.n_queries else pd.Series(0.0, index=names)
            rows.append({"k": float(k), "w_bm25": float(w_b), "w_dense": float(w_d), **means.to_dict(), "n": pos.n_queries})
    return pd.DataFrame(rows, columns=["k", "w_bm25", "w_dense", *names, "n"])


def fused_metrics(
    bm25_ranks: np.ndarray,
    dense_ranks: np.ndarray,
    positives: Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray,
    *,
    params: FusionParams = FusionParams(),
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-query :data:`METRIC_KEYS` (rows: query index) of the fusion with ``params``."""
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    b, _ = _check_ranks(bm25_ranks, dense_ranks)
    pos = Positives.of(positives, n_queries=b.shape[0])
    ranks = positive_fused_rank(bm25_ranks, dense_ranks, pos, params=params, id_rank=id_rank)
    return metrics_from_ranks(ranks, pos)


# --------------------------------------------------------------------------- figure

_LINE_COLORS = ("#0d9488", "#d97706", "#7c3aed", "#6b7280", "#db2777", "#65a30d")


def weight_label(w_bm25: float, w_dense: float) -> str:
    """``"BM25:dense 0.5:1"`` — the weights as the page and the figure show them."""
    return f"BM25:dense {w_bm25:g}:{w_dense:g}"


def sweep_figure(
    frame: pd.DataFrame,
    *,
    metric: str,
    lines: Sequence[tuple[float, float]],
    current: tuple[float, tuple[float, float], float] | None = None,
    best: tuple[float, tuple[float, float], float] | None = None,
    default: tuple[float, float] | None = None,
    references: Sequence[tuple[str, float]] = (),
    n: int | None = None,
    height: int = 440,
) -> go.Figure:
    """The fused metric as a function of k (log axis), one line per weight pair of :func:`sweep`'s frame.

    ``lines``: the weight pairs drawn (the current one, if among them, in the accent colour).
    ``current`` / ``best``: ``(k, (w_bm25, w_dense), value)`` markers; ``default``: ``(k, value)``
    of the default hybrid; ``references``: ``(label, level)`` horizontal lines (e.g. dense only).
    ``n``: queries averaged, shown in the hover text.
    """
    fig = go.Figure()
    n_text = f" · n={n:,}" if n is not None else ""
    current_w = tuple(current[1]) if current is not None else None
    others = iter(_LINE_COLORS * 4)
    for w in lines:
        part = frame[(frame["w_bm25"] == w[0]) & (frame["w_dense"] == w[1])].sort_values("k")
        if part.empty:
            continue
        is_current = tuple(w) == current_w
        fig.add_trace(
            go.Scatter(
                x=part["k"],
                y=part[metric],
                mode="lines+markers",
                name=f"{w[0]:g}:{w[1]:g}" + (" (current)" if is_current else ""),
                line={"color": ACCENT if is_current else next(others), "width": 3 if is_current else 1.5},
                marker={"size": 5},
                hovertemplate=f"{weight_label(*w)} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
            )
        )
    for i, (label, level) in enumerate(references):
        if level is None or not np.isfinite(level):
            continue
        fig.add_hline(
            y=level,
            line={"color": "#374151" if i == 0 else "#9ca3af", "dash": "dash" if i == 0 else "dot", "width": 1.2},
            annotation_text=f"{label} {level:.3f}",
            annotation_position="top right" if i == 0 else "bottom right",
            annotation_font={"size": 11, "color": "#374151"},
        )
    if default is not None:
        fig.add_trace(
            go.Scatter(
                x=[default[0]],
                y=[default[1]],
                mode="markers",
                name="default",
                marker={"symbol": "circle-open", "size": 19, "color": "#111827", "line": {"width": 2}},
                hovertemplate=f"default hybrid · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
            )
        )
    if best is not None:
        fig.add_trace(
            go.Scatter(
                x=[best[0]],
                y=[best[2]],
                mode="markers",
                name=f"best ({best[1][0]:g}:{best[1][1]:g}, k={best[0]:g})",
                marker={"symbol": "diamond", "size": 13, "color": "#16a34a", "line": {"width": 1, "color": "white"}},
                hovertemplate=f"best · {weight_label(*best[1])} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
            )
        )
    if current is not None:
        fig.add_trace(
            go.Scatter(
                x=[current[0]],
                y=[current[2]],
                mode="markers",
                name="current",
                marker={"symbol": "star", "size": 13, "color": ACCENT, "line": {"width": 1, "color": "white"}},
                hovertemplate=f"current · {weight_label(*current[1])} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
            )
        )
    levels = np.array([lv for _, lv in references if lv is not None], dtype=float)
    finite = np.concatenate([frame[metric].to_numpy(dtype=float), levels])
    finite = finite[np.isfinite(finite)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 1.0
    pad = max(0.02, (high - low) * 0.12)
    ticks = sorted({float(k) for k in frame["k"] if k > 0})
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={
            "title": "RRF k (log scale)",
            "type": "log",
            "tickvals": ticks,
            "ticktext": [f"{t:g}" for t in ticks],
            "showgrid": True,
            "gridcolor": "#eef0f3",
        },
        yaxis={
            "title": f"{metric}, mean over queries",
            "range": [max(0.0, low - pad), min(1.0, high + pad)],
            "gridcolor": "#eef0f3",
        },
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.16,
            "x": 0,
            "font": {"size": 11},
            "title": {"text": "BM25:dense", "font": {"size": 11}},
        },
        plot_bgcolor="white",
    )
    return fig
