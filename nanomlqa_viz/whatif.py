"""The hybrid what-if: where positives land under other fusion settings, and why.

Everything here starts from the full 1-based rank arrays of any two profiles A and B (BM25
and dense on the page; :meth:`~nanomlqa_viz.ranking.RankedProfile.full_ranks`, computed once by
the caller) and fuses them exactly as :func:`nanomlqa_viz.fusion.rrf_scores` does — the same
float expression ``w / (k + rank)`` per list within ``depth``, summed A first — with the tie
policy of :mod:`nanomlqa_viz.ranking`: fused score descending, then (``tie_break="best_rank"``)
the best single-list rank, then corpus id. For the default :class:`FusionParams` with A = BM25
and B = dense, the fused rank of a positive therefore equals the hybrid profile's
``rank_info`` rank. Weights may also differ per query (an ``(n_queries, 2)`` array): each
query's list is then fused with its own pair.

Only the positives' fused ranks are needed for metrics, and only the passages inside one of
the two depth-limited lists can score above 0. So a positive's fused rank is
``1 + #{listed passages ahead of it} + #{unlisted passages ahead of it}``; the first term is
computed with numpy over the (at most ``2 · depth``) listed passages of its query, the second
is fixed for a given depth (unlisted passages score exactly 0: they are ahead only when the
positive scores 0 too and wins no tie-break, or when it scores below 0) and is counted once
(:func:`listed_positives`). A sweep over many (k, weights) settings is then a few array
operations per setting (:meth:`ListedPositives.fused_ranks`).

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
    "ListedPositives",
    "Positives",
    "PositivesLike",
    "WeightsLike",
    "fused_metrics",
    "listed_positives",
    "metrics_from_ranks",
    "positive_fused_rank",
    "query_contributions",
    "query_weights",
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
"""(w_a, w_b) weights of the sweep. Only the ratio matters: scaling both keeps every order."""
DEFAULT_NAMES: tuple[str, str] = ("BM25", "dense")
"""Labels of profiles A and B where the caller names none (the page fuses BM25 and dense)."""
CONTRIBUTION_COLUMNS = [
    "doc",
    "fused_rank",
    "fused",
    "rank_a",
    "rank_b",
    "contribution_a",
    "contribution_b",
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
    def of(cls, positives: PositivesLike, *, n_queries: int) -> Positives:
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


PositivesLike = Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray
WeightsLike = tuple[float, float] | Sequence[float] | np.ndarray
"""One ``(w_a, w_b)`` pair for every query, or an array of shape ``(n_queries, 2)``: a pair per query."""


def _check_ranks(ranks_a: np.ndarray, ranks_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(ranks_a)
    b = np.asarray(ranks_b)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"rank arrays must be 2-D and of one shape, got {a.shape} and {b.shape}")
    return a, b


def _id_rank(id_rank: np.ndarray | None, n_docs: int) -> np.ndarray:
    if id_rank is None:
        return np.arange(n_docs, dtype=np.int64)
    out = np.asarray(id_rank, dtype=np.int64)
    if out.shape != (n_docs,):
        raise ValueError(f"id_rank has shape {out.shape}, expected ({n_docs},)")
    return out


def _check_k(k: float) -> None:
    if not np.isfinite(k) or k < 0:
        raise ValueError(f"k must be a finite number ≥ 0, got {k}")


def _check_params(k: float, weights: tuple[float, float], depth: int, tie_break: str) -> None:
    _check_k(k)
    if len(weights) != 2 or not all(np.isfinite(w) for w in weights):
        raise ValueError(f"weights must be two finite numbers (w_a, w_b), got {weights}")
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    if tie_break not in ("best_rank", "id"):
        raise ValueError(f"tie_break must be 'best_rank' or 'id', got {tie_break!r}")


def query_weights(weights: WeightsLike, *, n_queries: int) -> np.ndarray:
    """``weights`` as an ``(n_queries, 2)`` float array: a pair is repeated, a per-query array checked."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape == (2,):
        w = np.broadcast_to(w, (n_queries, 2))
    if w.shape != (n_queries, 2):
        raise ValueError(f"weights must be one (w_a, w_b) pair or of shape ({n_queries}, 2), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError("weights must be finite numbers")
    return w


# --------------------------------------------------------------------------- one query


def query_contributions(
    ranks_a_row: np.ndarray,
    ranks_b_row: np.ndarray,
    *,
    params: FusionParams = FusionParams(),
    top: int = 10,
    id_rank: np.ndarray | None = None,
    extra: Sequence[int] = (),
) -> pd.DataFrame:
    """The fused top ``top`` of one query, each passage with what each list contributed.

    Columns :data:`CONTRIBUTION_COLUMNS`: ``doc`` (corpus index), ``fused_rank`` (1-based, tie
    policy of the module), ``fused`` (score), ``rank_a`` / ``rank_b`` (full-corpus ranks in
    profiles A and B), ``contribution_a`` / ``contribution_b`` (``w / (k + rank)``, 0 beyond
    ``depth``; their sum is ``fused``) and ``in_top``. Passages in ``extra`` (e.g. the positive)
    are added after the top with their own fused rank when they are not in it. ``id_rank``: the
    corpus-id order of :func:`nanomlqa_viz.ranking.id_order` (default: corpus index order).
    """
    a = np.asarray(ranks_a_row).reshape(-1)
    b = np.asarray(ranks_b_row).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"rank rows differ in length: {a.shape} and {b.shape}")
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    n_docs = a.size
    ids = _id_rank(id_rank, n_docs)
    fused, secondary = rrf_scores([a[None, :], b[None, :]], params=params)
    fused, secondary = fused[0], secondary[0]
    order = np.lexsort([ids, secondary, -fused])
    fused_rank = np.empty(n_docs, dtype=np.int64)
    fused_rank[order] = np.arange(1, n_docs + 1)
    shown = list(order[: max(0, min(top, n_docs))])
    shown += [int(x) for x in dict.fromkeys(extra) if 0 <= int(x) < n_docs and fused_rank[int(x)] > len(shown)]
    docs = np.array(shown, dtype=np.int64)
    contribution = {}
    for name, ranks, w in (("a", a, params.weights[0]), ("b", b, params.weights[1])):
        r = ranks[docs].astype(np.float64)
        contribution[name] = np.where(r <= params.depth, w / (params.k + r), 0.0)
    frame = pd.DataFrame(
        {
            "doc": docs,
            "fused_rank": fused_rank[docs],
            "fused": fused[docs],
            "rank_a": a[docs].astype(np.int64),
            "rank_b": b[docs].astype(np.int64),
            "contribution_a": contribution["a"],
            "contribution_b": contribution["b"],
            "in_top": fused_rank[docs] <= top,
        }
    )
    return frame.sort_values("fused_rank", kind="stable").reset_index(drop=True)[CONTRIBUTION_COLUMNS]


# --------------------------------------------------------------------------- many queries


def _tie_keys(a: np.ndarray, b: np.ndarray, ids: np.ndarray, tie_break: str) -> np.ndarray:
    n_docs = ids.size
    if tie_break == "id":
        return np.broadcast_to(ids, a.shape)
    return np.minimum(a, b).astype(np.int64) * (n_docs + 1) + ids


@dataclass(frozen=True, eq=False)
class ListedPositives:
    """Per positive: its query's depth-limited passages (padded to one width) and the fixed counts.

    Built once by :func:`listed_positives` for one depth and tie policy; :meth:`fused_ranks` then
    gives the positives' fused ranks for any k and weights with a few array operations.
    """

    positives: Positives
    depth: int
    tie_break: str
    rank_a: np.ndarray  # (P, M) float64 rank in A of each listed passage
    rank_b: np.ndarray  # (P, M) float64 rank in B
    in_a: np.ndarray  # (P, M) bool: inside A's list
    in_b: np.ndarray  # (P, M) bool
    key: np.ndarray  # (P, M) int64 tie key (smaller first); padding holds the max
    valid: np.ndarray  # (P, M) bool: a real passage, not padding
    pos_rank_a: np.ndarray  # (P,) float64 the positive's full-corpus rank in A
    pos_rank_b: np.ndarray  # (P,)
    pos_key: np.ndarray  # (P,) int64
    n_unlisted: np.ndarray  # (P,) passages outside both lists (they score exactly 0)
    unlisted_before: np.ndarray  # (P,) of those, how many win the tie-break against the positive

    def fused_ranks(self, *, k: float, weights: WeightsLike) -> np.ndarray:
        """1-based fused rank of every positive pair (order of :meth:`Positives.of`) for one k and weights.

        ``weights``: one ``(w_a, w_b)`` pair or an ``(n_queries, 2)`` array (a pair per query). A
        per-query array holding the same pair everywhere gives exactly the ranks of that pair.
        """
        _check_k(float(k))
        w = np.asarray(weights, dtype=np.float64)
        if w.shape == (2,):
            if not np.isfinite(w).all():
                raise ValueError(f"weights must be two finite numbers (w_a, w_b), got {tuple(w)}")
            w_a, w_b = float(w[0]), float(w[1])
            pos_w_a, pos_w_b = w_a, w_b
        else:
            per_query = query_weights(w, n_queries=self.positives.n_queries)
            pos_w_a = per_query[self.positives.query, 0]
            pos_w_b = per_query[self.positives.query, 1]
            w_a, w_b = pos_w_a[:, None], pos_w_b[:, None]
        depth = self.depth
        # the exact expression of fusion.rrf_scores: (0 + w_a / (k + r_a)) + w_b / (k + r_b), 0 beyond depth
        fused = np.where(self.in_a, w_a / (k + self.rank_a), 0.0) + np.where(self.in_b, w_b / (k + self.rank_b), 0.0)
        pos = np.where(self.pos_rank_a <= depth, pos_w_a / (k + self.pos_rank_a), 0.0) + np.where(
            self.pos_rank_b <= depth, pos_w_b / (k + self.pos_rank_b), 0.0
        )
        col = pos[:, None]
        ahead = (fused > col) | ((fused == col) & (self.key < self.pos_key[:, None]))
        listed_ahead = np.count_nonzero(ahead & self.valid, axis=1)
        unlisted_ahead = np.where(pos < 0, self.n_unlisted, np.where(pos == 0, self.unlisted_before, 0))
        return 1 + listed_ahead + unlisted_ahead


def listed_positives(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    depth: int = FusionParams.depth,
    tie_break: str = FusionParams.tie_break,
    id_rank: np.ndarray | None = None,
) -> ListedPositives:
    """The passages that can outscore each positive, listed once for :meth:`ListedPositives.fused_ranks`.

    ``ranks_a`` / ``ranks_b``: full 1-based rank arrays ``(n_queries, n_docs)`` of any two
    profiles; ``positives`` as in :meth:`Positives.of`; ``id_rank`` as in :func:`query_contributions`.
    """
    _check_params(0.0, (1.0, 1.0), depth, tie_break)
    a, b = _check_ranks(ranks_a, ranks_b)
    pos = Positives.of(positives, n_queries=a.shape[0])
    if pos.doc.size and (pos.doc.min() < 0 or pos.doc.max() >= a.shape[1]):
        raise ValueError("a positive's corpus index is outside the rank arrays")
    ids = _id_rank(id_rank, a.shape[1])
    q, docs = pos.query, pos.doc
    inside = (a <= depth) | (b <= depth)  # (n_q, n_docs)
    rows, cols = np.nonzero(inside)
    counts = np.bincount(rows, minlength=a.shape[0])
    width = max(1, int(counts.max()) if counts.size else 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(rows.size) - starts[rows]
    listed = np.zeros((a.shape[0], width), dtype=np.int64)
    listed[rows, slot] = cols
    valid_q = np.arange(width)[None, :] < counts[:, None]

    keys = _tie_keys(a, b, ids, tie_break)
    pos_key = keys[q, docs].astype(np.int64)
    # unlisted passages ahead of a zero-score positive: those winning the tie-break
    unlisted_before = np.count_nonzero(~inside[q] & (keys[q] < pos_key[:, None]), axis=1)
    n_unlisted = a.shape[1] - counts[q]

    cand = listed[q]
    valid = valid_q[q]
    ra = a[q[:, None], cand].astype(np.float64)
    rb = b[q[:, None], cand].astype(np.float64)
    key = np.where(valid, keys[q[:, None], cand], np.iinfo(np.int64).max)
    return ListedPositives(
        positives=pos,
        depth=depth,
        tie_break=tie_break,
        rank_a=ra,
        rank_b=rb,
        in_a=valid & (ra <= depth),
        in_b=valid & (rb <= depth),
        key=key,
        valid=valid,
        pos_rank_a=a[q, docs].astype(np.float64),
        pos_rank_b=b[q, docs].astype(np.float64),
        pos_key=pos_key,
        n_unlisted=n_unlisted.astype(np.int64),
        unlisted_before=unlisted_before.astype(np.int64),
    )


def positive_fused_rank(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    params: FusionParams = FusionParams(),
    weights: WeightsLike | None = None,
    id_rank: np.ndarray | None = None,
) -> np.ndarray:
    """Fused rank of every positive, vectorised over queries.

    ``positives``: one corpus index per query (``-1``: none) or a list per query. The result has
    one entry per (query, positive) pair in the order of :meth:`Positives.of` — with one positive
    per query (MLQA), one per query. ``weights`` (default ``params.weights``): one ``(w_a, w_b)``
    pair or an ``(n_queries, 2)`` array, a pair per query. ``id_rank`` as in :func:`query_contributions`.
    """
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    lists = listed_positives(ranks_a, ranks_b, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    return lists.fused_ranks(k=params.k, weights=params.weights if weights is None else weights)


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
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    ks: Sequence[float] = DEFAULT_KS,
    weight_pairs: Sequence[tuple[float, float]] = DEFAULT_WEIGHT_PAIRS,
    depth: int = FusionParams.depth,
    metric: str | Sequence[str] = "hit@10",
    tie_break: str = FusionParams.tie_break,
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """The fused metric, averaged over all queries, for every k × (w_a, w_b) weight pair.

    One row per setting (k outer, weights inner, in the given order); columns ``k``, ``w_a``,
    ``w_b``, one column per metric (the mean over all queries; a query without a positive
    counts as 0, as in :mod:`nanomlqa_viz.metrics`) and ``n`` (queries averaged).
    """
    names = _metric_names(metric)
    for k in ks:
        for w in weight_pairs:
            _check_params(float(k), tuple(w), depth, tie_break)
    lists = listed_positives(ranks_a, ranks_b, positives, depth=depth, tie_break=tie_break, id_rank=id_rank)
    pos = lists.positives
    rows = []
    for k in ks:
        for w_a, w_b in weight_pairs:
            ranks = lists.fused_ranks(k=float(k), weights=(w_a, w_b))
            means = metrics_from_ranks(ranks, pos)[names].mean() if pos.n_queries else pd.Series(0.0, index=names)
            rows.append({"k": float(k), "w_a": float(w_a), "w_b": float(w_b), **means.to_dict(), "n": pos.n_queries})
    return pd.DataFrame(rows, columns=["k", "w_a", "w_b", *names, "n"])


def fused_metrics(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    params: FusionParams = FusionParams(),
    weights: WeightsLike | None = None,
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-query :data:`METRIC_KEYS` (rows: query index) of the fusion with ``params``.

    ``weights`` (default ``params.weights``): one pair or an ``(n_queries, 2)`` array, as in
    :func:`positive_fused_rank`.
    """
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    lists = listed_positives(ranks_a, ranks_b, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    ranks = lists.fused_ranks(k=params.k, weights=params.weights if weights is None else weights)
    return metrics_from_ranks(ranks, lists.positives)


# --------------------------------------------------------------------------- figure

_LINE_COLORS = ("#0d9488", "#d97706", "#7c3aed", "#6b7280", "#db2777", "#65a30d")


def _plotly_text(text: object) -> str:
    """``text`` safe inside plotly labels and hover text, which render ``<b>``, ``<a>``, ``<br>``."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def weight_label(w_a: float, w_b: float, *, names: tuple[str, str] = DEFAULT_NAMES) -> str:
    """``"BM25:dense 0.5:1"`` — the weights as the page and the figure show them (plain text)."""
    return f"{names[0]}:{names[1]} {w_a:g}:{w_b:g}"


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
    names: tuple[str, str] = DEFAULT_NAMES,
    height: int = 440,
) -> go.Figure:
    """The fused metric as a function of k (log axis), one line per weight pair of :func:`sweep`'s frame.

    ``lines``: the weight pairs drawn (the current one, if among them, in the accent colour).
    ``current`` / ``best``: ``(k, (w_a, w_b), value)`` markers; ``default``: ``(k, value)``
    of the default hybrid; ``references``: ``(label, level)`` horizontal lines (e.g. dense only).
    ``n``: queries averaged, shown in the hover text. ``names``: the two profiles, as labels.
    """
    fig = go.Figure()

    def label(w_a: float, w_b: float) -> str:
        return _plotly_text(weight_label(w_a, w_b, names=names))

    n_text = f" · n={n:,}" if n is not None else ""
    current_w = tuple(current[1]) if current is not None else None
    others = iter(_LINE_COLORS * 4)
    for w in lines:
        part = frame[(frame["w_a"] == w[0]) & (frame["w_b"] == w[1])].sort_values("k")
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
                hovertemplate=f"{label(*w)} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
            )
        )
    for i, (ref_label, level) in enumerate(references):
        if level is None or not np.isfinite(level):
            continue
        fig.add_hline(
            y=level,
            line={"color": "#374151" if i == 0 else "#9ca3af", "dash": "dash" if i == 0 else "dot", "width": 1.2},
            annotation_text=f"{_plotly_text(ref_label)} {level:.3f}",
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
                hovertemplate=f"best · {label(*best[1])} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
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
                hovertemplate=f"current · {label(*current[1])} · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
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
            "title": {"text": _plotly_text(f"{names[0]}:{names[1]}"), "font": {"size": 11}},
        },
        plot_bgcolor="white",
    )
    return fig
