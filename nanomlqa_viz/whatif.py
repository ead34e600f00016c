"""The hybrid what-if: where relevant passages land under other fusions of any two profiles, and why.

Everything starts from the full 1-based rank arrays of two profiles A and B (:func:`fusion_ranks`:
:meth:`~nanomlqa_viz.ranking.RankedProfile.full_ranks`, with the passages a partial profile does
not list moved beyond every depth) and fuses them exactly as :func:`nanomlqa_viz.fusion.rrf_scores`
does — the same float expression ``w / (k + rank)`` per list within ``depth``, summed A first —
with the tie policy of :mod:`nanomlqa_viz.ranking`: fused score descending, then
(``tie_break="best_rank"``) the best single-list rank, then corpus id. For the default
:class:`FusionParams` with A = BM25 and B = the first dense model the fusion is the hybrid
profile. Weights may also differ per query (an ``(n_queries, 2)`` array: a pair per query).

Metrics are **tie-aware**, as everywhere in the app (:mod:`nanomlqa_viz.tie_metrics`): passages
equal in fused score and in the secondary key (best single-list rank; nothing more with
``tie_break="id"``) form a block in random order, and each metric is its expected value over that
order, with the worst and best case beside it. For the default setting of BM25 and dense they
are exactly the hybrid profile's ``View.per_query`` values. :func:`positive_fused_rank` gives the
id-broken rank (the order shown for one query).

Only the relevant passages' blocks are needed, and only passages inside one of the two
depth-limited lists can score above 0. For each relevant passage the passages ahead of it and
tied with it are counted with numpy over the (at most ``2 · depth``) listed passages of its query,
plus the unlisted ones: they score exactly 0, so they are ahead or tied only when the relevant
passage scores 0 too (by their secondary key), or ahead when it scores below 0; they are counted
once per depth (:func:`listed_positives`). A sweep over many (k, weights) settings is then a few
array operations per setting (:meth:`ListedPositives.tie_metrics`).

Metrics follow :mod:`nanomlqa_viz.metrics` (binary relevance, nDCG@10 over ``min(|relevant|, 10)``,
hit@k, recall@100, MRR@10; a query without a relevant passage scores 0).

The second half reads a :class:`~nanomlqa_viz.pipeline.View`: the relevant passages of the view's
relevance mode, the profiles of its registry, each expensive result memoised with
``View.cached`` under a complete key (profile keys, relevance mode, parameters).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.escaping import plotly_text
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.pipeline import View
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.registry import ProfileKind
from nanomlqa_viz.relevance import RelevanceMode
from nanomlqa_viz.tie_metrics import CASES, TieAwareMetrics, TieBlocks, metric_arrays

__all__ = [
    "ACCENT",
    "CONTRIBUTION_COLUMNS",
    "DEFAULT_KS",
    "DEFAULT_WEIGHT_PAIRS",
    "FUSABLE_KINDS",
    "PLACEMENT_COLUMNS",
    "SWEEP_LINES",
    "ListedPositives",
    "Positives",
    "PositivesLike",
    "WeightsLike",
    "best_per_weight",
    "contributions_table",
    "default_query",
    "fusable_names",
    "fused_metrics",
    "fused_tie_metrics",
    "fusion_ranks",
    "k_span",
    "levels",
    "listed_positives",
    "metrics_from_ranks",
    "placement_table",
    "positive_fused_rank",
    "query_contributions",
    "query_weights",
    "relevant_indices",
    "sweep",
    "sweep_figure",
    "top_overlap",
    "view_fused_metrics",
    "view_listed",
    "view_ranks",
    "view_sweep",
    "view_sweep_figure",
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
DEFAULT_NAMES: tuple[str, str] = ("A", "B")
"""Labels of profiles A and B where the caller names none."""
FUSABLE_KINDS: tuple[ProfileKind, ...] = (ProfileKind.SPARSE, ProfileKind.DENSE, ProfileKind.FUSED, ProfileKind.RUN)
"""Profiles the what-if fuses: full-corpus rankings (BM25, dense models, the hybrid) and the user's runs.

The dataset's candidate subsets are left out: they are 100-passage cuts of the same BM25, e5 and
hybrid rankings the computed profiles rank in full (and one holds injected entries).
"""
CONTRIBUTION_COLUMNS = [
    "doc",
    "fused_rank",
    "tie_first",
    "tie_last",
    "fused",
    "rank_a",
    "rank_b",
    "contribution_a",
    "contribution_b",
    "in_top",
]
_CHUNK = 4_000_000  # (pairs × listed passages) compared per batch: bounds memory at a few tens of MB


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class Positives:
    """Relevant passages as (query index, corpus index) pairs, sorted by query, and how many each query has."""

    query: np.ndarray  # (n_pairs,) int64
    doc: np.ndarray  # (n_pairs,) int64
    n_relevant: np.ndarray  # (n_queries,) int64
    n_queries: int

    @classmethod
    def of(cls, positives: PositivesLike, *, n_queries: int) -> Positives:
        """From one corpus index per query (``-1``: none) or a collection of corpus indices per query."""
        if isinstance(positives, Positives):
            if positives.n_queries != n_queries:
                raise ValueError(f"positives are for {positives.n_queries} queries, not {n_queries}")
            return positives
        items = list(positives)
        if len(items) != n_queries:
            raise ValueError(f"{len(items)} positive entries for {n_queries} queries")
        per_query = [
            list(dict.fromkeys(int(x) for x in item)) if isinstance(item, Iterable) else ([int(item)] if int(item) >= 0 else [])
            for item in items
        ]
        query = np.array([qi for qi, docs in enumerate(per_query) for _ in docs], dtype=np.int64)
        doc = np.array([d for docs in per_query for d in docs], dtype=np.int64)
        n_relevant = np.array([len(docs) for docs in per_query], dtype=np.int64)
        return cls(query=query, doc=doc, n_relevant=n_relevant, n_queries=n_queries)


PositivesLike = Positives | Sequence[int] | Sequence[Sequence[int]] | np.ndarray
WeightsLike = tuple[float, float] | Sequence[float] | np.ndarray
"""One ``(w_a, w_b)`` pair for every query, or an array of shape ``(n_queries, 2)``: a pair per query."""


def fusion_ranks(profile: RankedProfile) -> np.ndarray:
    """(n_queries, n_docs) 1-based ranks of a profile as fusion reads them.

    A full-corpus profile: :meth:`~nanomlqa_viz.ranking.RankedProfile.full_ranks`. A partial one
    (a run, a candidate subset): the listed passages keep their ranks; every passage it does not
    list (all of them for a query it does not rank) gets ``n_docs + 1``, beyond any depth, so it
    contributes nothing — and all of them tie on that rank in the best-rank tie-break.
    """
    ranks = profile.full_ranks()
    if not profile.partial and profile.covered is None:
        return ranks
    unlisted = ~np.isfinite(profile.scores)
    if profile.covered is not None:
        unlisted |= ~np.asarray(profile.covered, dtype=bool)[:, None]
    ranks[unlisted] = profile.n_docs + 1
    return ranks


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
    policy of the module), ``tie_first`` / ``tie_last`` (the ranks it could hold among passages
    equal in fused score and secondary key), ``fused`` (score), ``rank_a`` / ``rank_b``
    (the input ranks, :func:`fusion_ranks`), ``contribution_a`` / ``contribution_b``
    (``w / (k + rank)``, 0 beyond ``depth``; their sum is ``fused``) and ``in_top``. Passages in
    ``extra`` (e.g. the relevant ones) are added after the top with their own fused rank when they
    are not in it. ``id_rank``: the corpus-id order of :func:`nanomlqa_viz.ranking.id_order`
    (default: corpus index order).
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
    tie_first, tie_last = [], []
    for d in docs:
        same = fused == fused[d]
        tied_sec = secondary[same]
        first = int(np.count_nonzero(fused > fused[d])) + int(np.count_nonzero(tied_sec < secondary[d])) + 1
        tie_first.append(first)
        tie_last.append(first + int(np.count_nonzero(tied_sec == secondary[d])) - 1)
    contribution = {}
    for name, ranks, w in (("a", a, params.weights[0]), ("b", b, params.weights[1])):
        r = ranks[docs].astype(np.float64)
        contribution[name] = np.where(r <= params.depth, w / (params.k + r), 0.0)
    frame = pd.DataFrame(
        {
            "doc": docs,
            "fused_rank": fused_rank[docs],
            "tie_first": np.array(tie_first, dtype=np.int64),
            "tie_last": np.array(tie_last, dtype=np.int64),
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


@dataclass(frozen=True, eq=False)
class ListedPositives:
    """Per query its depth-limited passages (padded to one width), per relevant passage the fixed counts.

    Built once by :func:`listed_positives` for one depth and tie policy; :meth:`fused_ranks` and
    :meth:`tie_metrics` then answer any k and weights with a few array operations.
    """

    positives: Positives
    depth: int
    tie_break: str
    n_docs: int
    id_rank: np.ndarray  # (n_docs,) int64 corpus-id order
    listed: np.ndarray  # (Q, M) int32 corpus index of each listed passage (padding: 0)
    rank_a: np.ndarray  # (Q, M) int32 its rank in A
    rank_b: np.ndarray  # (Q, M) int32 its rank in B
    valid: np.ndarray  # (Q, M) bool: a real passage, not padding
    pos_rank_a: np.ndarray  # (P,) float64 the relevant passage's rank in A
    pos_rank_b: np.ndarray  # (P,)
    pos_secondary: np.ndarray  # (P,) float64
    pos_key: np.ndarray  # (P,) int64
    n_unlisted: np.ndarray  # (P,) passages of its query outside both lists (they score exactly 0)
    unlisted_before: np.ndarray  # (P,) of those, how many come first in the id-broken order
    unlisted_sec_before: np.ndarray  # (P,) of those, how many have a smaller secondary key
    unlisted_sec_equal: np.ndarray  # (P,) of those, how many have the same one (itself included when unlisted)

    def _scores(self, k: float, weights: WeightsLike) -> tuple[np.ndarray, np.ndarray]:
        """Fused scores of the listed passages ``(Q, M)`` and of the relevant passages ``(P,)``."""
        _check_k(float(k))
        w = np.asarray(weights, dtype=np.float64)
        q = self.positives.query
        if w.shape == (2,):
            if not np.isfinite(w).all():
                raise ValueError(f"weights must be two finite numbers (w_a, w_b), got {tuple(w)}")
            w_a, w_b = float(w[0]), float(w[1])
            pos_w_a, pos_w_b = w_a, w_b
        else:
            per_query = query_weights(w, n_queries=self.positives.n_queries)
            w_a, w_b = per_query[:, 0:1], per_query[:, 1:2]
            pos_w_a, pos_w_b = per_query[q, 0], per_query[q, 1]
        # the exact expression of fusion.rrf_scores: (0 + w_a / (k + r_a)) + w_b / (k + r_b), 0 beyond depth
        depth = self.depth
        rank_a, rank_b = self.rank_a.astype(np.float64), self.rank_b.astype(np.float64)
        fused = np.where(rank_a <= depth, w_a / (k + rank_a), 0.0) + np.where(rank_b <= depth, w_b / (k + rank_b), 0.0)
        pos = np.where(self.pos_rank_a <= depth, pos_w_a / (k + self.pos_rank_a), 0.0) + np.where(
            self.pos_rank_b <= depth, pos_w_b / (k + self.pos_rank_b), 0.0
        )
        return fused, pos

    def _counts(self, k: float, weights: WeightsLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per relevant passage: passages ahead in the id-broken order, ahead of its tie block, in its block."""
        fused, pos = self._scores(k, weights)
        q = self.positives.query
        n_pairs = q.size
        greater = np.zeros(n_pairs, dtype=np.int64)
        ahead_id = np.zeros(n_pairs, dtype=np.int64)
        sec_before = np.zeros(n_pairs, dtype=np.int64)
        tied = np.zeros(n_pairs, dtype=np.int64)
        step = max(1, _CHUNK // max(1, fused.shape[1]))
        for start in range(0, n_pairs, step):
            part = slice(start, start + step)
            rows = q[part]
            f, valid, p = fused[rows], self.valid[rows], pos[part, None]
            greater[part] = np.count_nonzero((f > p) & valid, axis=1)
            # equal scores are few: compare their secondary keys (and corpus ids) one by one
            pair, col = np.nonzero((f == p) & valid)
            row = rows[pair]
            sec = (
                np.minimum(self.rank_a[row, col], self.rank_b[row, col]) if self.tie_break == "best_rank" else np.zeros(col.size)
            )
            psec = self.pos_secondary[start + pair]
            key = sec.astype(np.int64) * (self.n_docs + 1) + self.id_rank[self.listed[row, col]]
            size = min(step, n_pairs - start)
            ahead_id[part] = np.bincount(pair, weights=key < self.pos_key[start + pair], minlength=size).astype(np.int64)
            sec_before[part] = np.bincount(pair, weights=sec < psec, minlength=size).astype(np.int64)
            tied[part] = np.bincount(pair, weights=sec == psec, minlength=size).astype(np.int64)
        below_zero, at_zero = pos < 0, pos == 0
        ahead_id += greater + np.where(below_zero, self.n_unlisted, np.where(at_zero, self.unlisted_before, 0))
        above = greater + sec_before + np.where(below_zero, self.n_unlisted, np.where(at_zero, self.unlisted_sec_before, 0))
        tied += np.where(at_zero, self.unlisted_sec_equal, 0)
        return ahead_id, above, tied

    def fused_ranks(self, *, k: float, weights: WeightsLike) -> np.ndarray:
        """1-based id-broken fused rank of every relevant passage (order of :meth:`Positives.of`).

        ``weights``: one ``(w_a, w_b)`` pair or an ``(n_queries, 2)`` array (a pair per query). A
        per-query array holding the same pair everywhere gives exactly the ranks of that pair.
        """
        return 1 + self._counts(k, weights)[0]

    def tie_blocks(self, *, k: float, weights: WeightsLike) -> tuple[np.ndarray, np.ndarray]:
        """Per relevant passage: passages ranked strictly before its tie block, and the block's size."""
        _, above, tied = self._counts(k, weights)
        return above, tied

    def tie_metrics(self, *, k: float, weights: WeightsLike, query_ids: Sequence[str] | None = None) -> TieAwareMetrics:
        """Per-query :data:`METRIC_KEYS` of the fusion, expected / worst / best over its ties.

        Rows: ``query_ids`` (default ``"0", "1", …``); the same values as
        :func:`nanomlqa_viz.tie_metrics.tie_aware_metrics` on the full fused score matrix with its
        secondary key.
        """
        above, size = self.tie_blocks(k=k, weights=weights)
        return _block_metrics(self.positives, above, size, query_ids=query_ids)


def _block_metrics(
    positives: Positives, above: np.ndarray, size: np.ndarray, *, query_ids: Sequence[str] | None
) -> TieAwareMetrics:
    """Tie-aware metrics from each relevant passage's block (relevant passages of one block share ``above``)."""
    n_q = positives.n_queries
    ids = [str(i) for i in range(n_q)] if query_ids is None else [str(i) for i in query_ids]
    if len(ids) != n_q:
        raise ValueError(f"{len(ids)} query ids for {n_q} queries")
    q = positives.query
    order = np.lexsort([above, q])
    q, g, m = q[order], above[order], size[order]
    new = np.ones(q.size, dtype=bool)
    new[1:] = (q[1:] != q[:-1]) | (g[1:] != g[:-1])
    starts = np.flatnonzero(new)
    relevant = np.diff(np.append(starts, q.size)).astype(np.int64)
    blocks = TieBlocks(query=q[starts], above=g[starts], size=m[starts], relevant=relevant)
    arrays = metric_arrays(blocks, positives.n_relevant.astype(np.int64))
    index = pd.Index(ids, name="query_id")
    frames = {case: pd.DataFrame({key: arrays[case][key] for key in METRIC_KEYS}, index=index) for case in CASES}
    return TieAwareMetrics(**frames)


def listed_positives(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    depth: int = FusionParams.depth,
    tie_break: str = FusionParams.tie_break,
    id_rank: np.ndarray | None = None,
) -> ListedPositives:
    """The passages that can outscore each relevant passage, listed once for :class:`ListedPositives`.

    ``ranks_a`` / ``ranks_b``: 1-based rank arrays ``(n_queries, n_docs)`` of any two profiles
    (:func:`fusion_ranks`); ``positives`` as in :meth:`Positives.of`; ``id_rank`` as in
    :func:`query_contributions`.
    """
    _check_params(0.0, (1.0, 1.0), depth, tie_break)
    a, b = _check_ranks(ranks_a, ranks_b)
    n_q, n_docs = a.shape
    pos = Positives.of(positives, n_queries=n_q)
    if pos.doc.size and (pos.doc.min() < 0 or pos.doc.max() >= n_docs):
        raise ValueError("a positive's corpus index is outside the rank arrays")
    ids = _id_rank(id_rank, n_docs)
    best_rank = tie_break == "best_rank"
    inside = (a <= depth) | (b <= depth)  # (n_q, n_docs)
    rows, cols = np.nonzero(inside)
    counts = np.bincount(rows, minlength=n_q)
    width = max(1, int(counts.max()) if counts.size else 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    slot = np.arange(rows.size) - starts[rows]
    listed = np.zeros((n_q, width), dtype=np.int32 if n_docs < 2**31 else np.int64)
    listed[rows, slot] = cols
    valid = np.arange(width)[None, :] < counts[:, None]
    rank_a = np.take_along_axis(a, listed, axis=1)
    rank_b = np.take_along_axis(b, listed, axis=1)

    q, docs = pos.query, pos.doc
    pos_rank_a = a[q, docs].astype(np.float64)
    pos_rank_b = b[q, docs].astype(np.float64)
    pos_secondary = np.minimum(pos_rank_a, pos_rank_b) if best_rank else np.zeros(q.size)
    pos_key = pos_secondary.astype(np.int64) * (n_docs + 1) + ids[docs]
    unlisted_before = np.zeros(q.size, dtype=np.int64)
    sec_before = np.zeros(q.size, dtype=np.int64)
    sec_equal = np.zeros(q.size, dtype=np.int64)
    for qi in np.unique(q):  # the unlisted passages of each query with relevant passages, sorted once
        pairs = np.flatnonzero(q == qi)
        outside = ~inside[qi]
        sec = np.minimum(a[qi, outside], b[qi, outside]).astype(np.int64) if best_rank else np.zeros(int(outside.sum()))
        keys = np.sort(sec * (n_docs + 1) + ids[outside]) if best_rank else np.sort(ids[outside])
        sec = np.sort(sec.astype(np.float64))
        unlisted_before[pairs] = np.searchsorted(keys, pos_key[pairs], side="left")
        left = np.searchsorted(sec, pos_secondary[pairs], side="left")
        sec_before[pairs] = left
        sec_equal[pairs] = np.searchsorted(sec, pos_secondary[pairs], side="right") - left
    return ListedPositives(
        positives=pos,
        depth=depth,
        tie_break=tie_break,
        n_docs=n_docs,
        id_rank=ids,
        listed=listed,
        rank_a=rank_a,
        rank_b=rank_b,
        valid=valid,
        pos_rank_a=pos_rank_a,
        pos_rank_b=pos_rank_b,
        pos_secondary=pos_secondary,
        pos_key=pos_key,
        n_unlisted=(n_docs - counts[q]).astype(np.int64),
        unlisted_before=unlisted_before,
        unlisted_sec_before=sec_before,
        unlisted_sec_equal=sec_equal,
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
    """Id-broken fused rank of every relevant passage, vectorised over queries.

    ``positives``: one corpus index per query (``-1``: none) or a list per query. The result has
    one entry per (query, passage) pair in the order of :meth:`Positives.of`. ``weights`` (default
    ``params.weights``): one ``(w_a, w_b)`` pair or an ``(n_queries, 2)`` array, a pair per query.
    """
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    lists = listed_positives(ranks_a, ranks_b, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    return lists.fused_ranks(k=params.k, weights=params.weights if weights is None else weights)


def metrics_from_ranks(ranks: np.ndarray, positives: Positives) -> pd.DataFrame:
    """Per-query :data:`METRIC_KEYS` (rows: query index) from the rank of every relevant pair (ties broken)."""
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
    ranks_a: np.ndarray | ListedPositives,
    ranks_b: np.ndarray | None = None,
    positives: PositivesLike | None = None,
    *,
    ks: Sequence[float] = DEFAULT_KS,
    weight_pairs: Sequence[tuple[float, float]] = DEFAULT_WEIGHT_PAIRS,
    depth: int = FusionParams.depth,
    metric: str | Sequence[str] = "hit@10",
    tie_break: str = FusionParams.tie_break,
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """The fused metric (tie-aware expected), averaged over all queries, for every k × (w_a, w_b) pair.

    Either the two rank arrays and ``positives``, or a :class:`ListedPositives` as first argument
    (its depth and tie policy are used). One row per setting (k outer, weights inner, in the given
    order); columns ``k``, ``w_a``, ``w_b``, one column per metric (the mean over all queries; a
    query without a relevant passage counts as 0) and ``n`` (queries averaged).
    """
    names = _metric_names(metric)
    if isinstance(ranks_a, ListedPositives):
        lists = ranks_a
        depth, tie_break = lists.depth, lists.tie_break
    else:
        lists = None
    for k in ks:
        for w in weight_pairs:
            _check_params(float(k), tuple(w), depth, tie_break)
    if lists is None:
        lists = listed_positives(ranks_a, ranks_b, positives, depth=depth, tie_break=tie_break, id_rank=id_rank)
    n = lists.positives.n_queries
    rows = []
    for k in ks:
        for w_a, w_b in weight_pairs:
            expected = lists.tie_metrics(k=float(k), weights=(w_a, w_b)).expected
            means = expected[names].mean() if n else pd.Series(0.0, index=names)
            rows.append({"k": float(k), "w_a": float(w_a), "w_b": float(w_b), **means.to_dict(), "n": n})
    return pd.DataFrame(rows, columns=["k", "w_a", "w_b", *names, "n"])


def fused_tie_metrics(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    params: FusionParams = FusionParams(),
    weights: WeightsLike | None = None,
    id_rank: np.ndarray | None = None,
    query_ids: Sequence[str] | None = None,
) -> TieAwareMetrics:
    """Per-query :data:`METRIC_KEYS` of the fusion with ``params``: expected, worst and best over ties.

    ``weights`` (default ``params.weights``): one pair or an ``(n_queries, 2)`` array, as in
    :func:`positive_fused_rank`; ``query_ids``: the rows (default ``"0", "1", …``).
    """
    _check_params(params.k, params.weights, params.depth, params.tie_break)
    lists = listed_positives(ranks_a, ranks_b, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    return lists.tie_metrics(k=params.k, weights=params.weights if weights is None else weights, query_ids=query_ids)


def fused_metrics(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    params: FusionParams = FusionParams(),
    weights: WeightsLike | None = None,
    id_rank: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-query tie-aware expected :data:`METRIC_KEYS` (rows: query index) of the fusion with ``params``."""
    metrics = fused_tie_metrics(ranks_a, ranks_b, positives, params=params, weights=weights, id_rank=id_rank)
    return metrics.expected.reset_index(drop=True)


def k_span(ks: np.ndarray, reach: np.ndarray) -> str:
    """The k reaching the best value, compactly: "all", "10", "100–1000" (a run of the grid) or "1, 20 …"."""
    hits = np.flatnonzero(reach)
    if hits.size == len(ks):
        return "all"
    if hits.size and hits[-1] - hits[0] + 1 == hits.size:
        return f"{ks[hits[0]]:g}" if hits.size == 1 else f"{ks[hits[0]]:g}–{ks[hits[-1]]:g}"
    return ", ".join(f"{k:g}" for k in ks[hits[:2]]) + (" …" if hits.size > 2 else "")


def best_per_weight(grid: pd.DataFrame, metric: str, *, default_k: float = FusionParams.k) -> pd.DataFrame:
    """One row per weight pair of a :func:`sweep` frame: its best value over the k of the grid, the k
    reaching it, the value at ``default_k``; best first. Columns ``weights``, ``metric``, ``ks``,
    ``at_default_k``, ``n``."""
    rows = []
    for (w_a, w_b), part in grid.groupby(["w_a", "w_b"], sort=False):
        top = float(part[metric].max())
        reach = np.isclose(part[metric].to_numpy(dtype=float), top, rtol=0, atol=1e-12)
        at_default = part.loc[part["k"] == default_k, metric]
        rows.append(
            {
                "weights": f"{w_a:g}:{w_b:g}",
                metric: top,
                "ks": k_span(part["k"].to_numpy(dtype=float), reach),
                "at_default_k": float(at_default.iloc[0]) if len(at_default) else np.nan,
                "n": int(part["n"].iloc[0]),
            }
        )
    columns = ["weights", metric, "ks", "at_default_k", "n"]
    return pd.DataFrame(rows, columns=columns).sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- figure

_LINE_COLORS = ("#0d9488", "#d97706", "#7c3aed", "#6b7280", "#db2777", "#65a30d")


def weight_label(w_a: float, w_b: float, *, names: tuple[str, str] = DEFAULT_NAMES) -> str:
    """``"BM25:Dense 0.5:1"`` — the weights as the page and the figure show them (plain text)."""
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
    of the default fusion; ``references``: ``(label, level)`` horizontal lines (e.g. A alone).
    ``n``: queries averaged, shown in the hover text. ``names``: the two profiles, as labels.
    Every label from the data goes through :func:`~nanomlqa_viz.escaping.plotly_text`.
    """
    fig = go.Figure()

    def label(w_a: float, w_b: float) -> str:
        return plotly_text(weight_label(w_a, w_b, names=names))

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
            annotation_text=f"{plotly_text(ref_label)} {level:.3f}",
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
                hovertemplate=f"default RRF · k=%{{x:g}}<br>{metric} %{{y:.3f}}{n_text}<extra></extra>",
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
            "title": {"text": plotly_text(f"{names[0]}:{names[1]}"), "font": {"size": 11}},
        },
        plot_bgcolor="white",
    )
    return fig


# --------------------------------------------------------------------------- from a view


def fusable_names(view: View) -> list[str]:
    """The profiles of the view the what-if can fuse (:data:`FUSABLE_KINDS`), in registry order."""
    return view.registry.names(*FUSABLE_KINDS)


def view_ranks(view: View, name: str) -> np.ndarray:
    """:func:`fusion_ranks` of one profile of the view (memoised; the same in every relevance mode)."""
    profile = view.registry[name].profile
    return view.cached("whatif.ranks", lambda: fusion_ranks(profile), profiles=(name,), mode=RelevanceMode.STRICT)


def relevant_indices(view: View) -> list[list[int]]:
    """Per query, the corpus indices of its relevant passages under the view's relevance mode."""
    task = view.task

    def compute() -> list[list[int]]:
        relevant = view.relevant(view.mode)
        return [sorted(task.doc_index[d] for d in relevant.get(q, ())) for q in task.query_ids]

    return view.cached("whatif.relevant", compute)


def view_listed(view: View, a: str, b: str, *, depth: int, tie_break: str = FusionParams.tie_break) -> ListedPositives:
    """:func:`listed_positives` of profiles ``a`` and ``b`` for the view's relevant passages (memoised)."""

    def compute() -> ListedPositives:
        return listed_positives(
            view_ranks(view, a),
            view_ranks(view, b),
            relevant_indices(view),
            depth=depth,
            tie_break=tie_break,
            id_rank=view.pipeline.ctx.id_rank,
        )

    return view.cached("whatif.listed", compute, profiles=(a, b), params=(depth, tie_break))


def view_fused_metrics(view: View, a: str, b: str, params: FusionParams = FusionParams()) -> TieAwareMetrics:
    """Per-query tie-aware metrics (rows: query ids) of the fusion of ``a`` and ``b`` in the view's mode (memoised)."""
    _check_params(params.k, params.weights, params.depth, params.tie_break)

    def compute() -> TieAwareMetrics:
        lists = view_listed(view, a, b, depth=params.depth, tie_break=params.tie_break)
        return lists.tie_metrics(k=params.k, weights=params.weights, query_ids=view.task.query_ids)

    return view.cached("whatif.metrics", compute, profiles=(a, b), params=(params,))


def view_sweep(
    view: View,
    a: str,
    b: str,
    *,
    depth: int,
    ks: Sequence[float] = DEFAULT_KS,
    weight_pairs: Sequence[tuple[float, float]] = DEFAULT_WEIGHT_PAIRS,
) -> pd.DataFrame:
    """:func:`sweep` of every metric for ``a`` and ``b`` at ``depth`` in the view's mode (memoised)."""
    ks = tuple(float(k) for k in ks)
    pairs = tuple((float(w_a), float(w_b)) for w_a, w_b in weight_pairs)

    def compute() -> pd.DataFrame:
        lists = view_listed(view, a, b, depth=depth)
        return sweep(lists, ks=ks, weight_pairs=pairs, metric=list(METRIC_KEYS))

    return view.cached("whatif.sweep", compute, profiles=(a, b), params=(depth, ks, pairs))


def _best_relevant_ranks(lists: ListedPositives, ranks: np.ndarray) -> np.ndarray:
    """Per query, the best of its relevant passages' ranks (``inf`` without one)."""
    best = np.full(lists.positives.n_queries, np.inf)
    np.minimum.at(best, lists.positives.query, np.asarray(ranks, dtype=np.float64))
    return best


def top_overlap(view: View, a: str, b: str, *, top: int = 10) -> dict[str, int]:
    """Queries whose best relevant passage (view's mode) is in the top ``top`` of both inputs, A only, B only, neither."""
    lists = view_listed(view, a, b, depth=FusionParams.depth)
    in_a = _best_relevant_ranks(lists, lists.pos_rank_a) <= top
    in_b = _best_relevant_ranks(lists, lists.pos_rank_b) <= top
    return {
        "both": int(np.count_nonzero(in_a & in_b)),
        "a_only": int(np.count_nonzero(in_a & ~in_b)),
        "b_only": int(np.count_nonzero(~in_a & in_b)),
        "neither": int(np.count_nonzero(~in_a & ~in_b)),
        "n": lists.positives.n_queries,
    }


def default_query(view: View, a: str, b: str, *, top: int = 10) -> str:
    """The query the default fusion of ``a`` and ``b`` hurts most against the better input on it.

    First the queries whose best relevant passage one input has in the top ``top`` and the fusion
    does not, then by the ratio fused rank / best input rank (id-broken ranks, view's mode).
    """
    task = view.task
    if task.n_queries == 0:
        return ""
    lists = view_listed(view, a, b, depth=FusionParams.depth)
    params = FusionParams()
    fused = _best_relevant_ranks(lists, lists.fused_ranks(k=params.k, weights=params.weights))
    single = np.minimum(_best_relevant_ranks(lists, lists.pos_rank_a), _best_relevant_ranks(lists, lists.pos_rank_b))
    with np.errstate(invalid="ignore"):
        gap = np.nan_to_num(np.log(fused) - np.log(single), nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
    lost = ((single <= top) & (fused > top)).astype(float)
    return str(task.query_ids[int(np.lexsort([gap, lost])[-1])])


def _rank_text(profile: RankedProfile, qi: int, doc: int) -> str:
    """The rank fusion reads (ties broken by corpus id) and, where scores tie, the interval: ``"84 (tied 76–531)"``."""
    if not profile.listed(qi, doc):
        return "not listed"
    info = profile.rank_info(qi, doc)
    return f"{info.rank:,}" if info.ties == 0 else f"{info.rank:,} (tied {info.interval()})"


PLACEMENT_COLUMNS = [
    "doc_id",
    "lang",
    "relation",
    "rank_a",
    "rank_b",
    "contribution_a",
    "contribution_b",
    "fused",
    "fused_rank",
    "default_rank",
]


def _relations(view: View, query_id: str, docs: Sequence[int]) -> list[str]:
    """``qrels`` (a positive as published), ``copy`` (its text under another id) or ``parallel``."""
    task = view.task
    positives = [task.doc_index[p] for p in task.positives(query_id)]
    groups = view.groups(view.mode)
    out = []
    for d in docs:
        if d in positives:
            out.append("qrels")
        elif groups is not None and any(groups.copy_group[d] == groups.copy_group[p] for p in positives):
            out.append("copy")
        else:
            out.append("parallel")
    return out


def placement_table(view: View, a: str, b: str, params: FusionParams, query_id: str, *, limit: int = 25) -> pd.DataFrame:
    """Where one query's relevant passages (view's mode) land: one row per passage, best fused rank first.

    Columns :data:`PLACEMENT_COLUMNS`: ``rank_a`` / ``rank_b`` are each input's rank as fusion reads
    it (ties broken by corpus id) with its tie interval where scores tie (``"84 (tied 76–9,731)"``;
    ``"not listed"`` for a partial profile), ``fused_rank`` the fused rank's tie interval under
    ``params`` (``"7"``, ``"7–8"``), ``default_rank`` under the default fusion. At most ``limit``
    rows (the best placed).
    """
    task = view.task
    qi = task.query_index[query_id]
    docs = relevant_indices(view)[qi]
    if not docs:
        return pd.DataFrame(columns=PLACEMENT_COLUMNS)
    ranks_a, ranks_b = view_ranks(view, a)[qi], view_ranks(view, b)[qi]
    ids = view.pipeline.ctx.id_rank
    now = query_contributions(ranks_a, ranks_b, params=params, top=0, id_rank=ids, extra=docs).set_index("doc")
    before = query_contributions(ranks_a, ranks_b, params=FusionParams(), top=0, id_rank=ids, extra=docs).set_index("doc")
    now = now.loc[docs].sort_values("fused_rank", kind="stable").head(limit)
    shown = now.index.to_numpy()
    pa, pb = view.registry[a].profile, view.registry[b].profile
    return pd.DataFrame(
        {
            "doc_id": [task.doc_ids[d] for d in shown],
            "lang": [view.languages.doc_lang[d] for d in shown],
            "relation": _relations(view, query_id, shown),
            "rank_a": [_rank_text(pa, qi, int(d)) for d in shown],
            "rank_b": [_rank_text(pb, qi, int(d)) for d in shown],
            "contribution_a": now["contribution_a"].to_numpy(),
            "contribution_b": now["contribution_b"].to_numpy(),
            "fused": now["fused"].to_numpy(),
            "fused_rank": [_interval(f, t) for f, t in zip(now["tie_first"], now["tie_last"])],
            "default_rank": [_interval(f, t) for f, t in zip(before.loc[shown, "tie_first"], before.loc[shown, "tie_last"])],
        },
        columns=PLACEMENT_COLUMNS,
    )


def _interval(first: int, last: int) -> str:
    from nanomlqa_viz.formatting import format_interval

    return format_interval(int(first), int(last))


def contributions_table(
    view: View, a: str, b: str, params: FusionParams, query_id: str, *, top: int = 10, below: int = 3, snippet: int = 110
) -> pd.DataFrame:
    """The fused top ``top`` of one query under ``params`` and the ``below`` best-placed relevant passages under it.

    Columns: ``fused_rank``, ``fused_ties`` (its tie interval), ``relevant`` (✓ under the view's
    mode), ``doc_id``, ``lang``, ``rank_a`` / ``rank_b`` (input ranks; ``<NA>``: not listed by a
    partial profile), ``contribution_a`` / ``contribution_b``, ``fused``, ``default_rank`` (the
    default fusion's rank), ``text`` (the first ``snippet`` characters).
    """
    task = view.task
    qi = task.query_index[query_id]
    relevant = relevant_indices(view)[qi]
    ranks_a, ranks_b = view_ranks(view, a)[qi], view_ranks(view, b)[qi]
    ids = view.pipeline.ctx.id_rank
    frame = query_contributions(ranks_a, ranks_b, params=params, top=top, id_rank=ids, extra=relevant)
    frame = pd.concat([frame[frame["in_top"]], frame[~frame["in_top"]].head(below)], ignore_index=True)
    default = query_contributions(ranks_a, ranks_b, params=FusionParams(), top=0, id_rank=ids, extra=frame["doc"].tolist())
    unlisted = task.n_docs + 1
    docs = frame["doc"].to_numpy()
    texts = [task.doc_texts[d] for d in docs]
    return pd.DataFrame(
        {
            "fused_rank": frame["fused_rank"].to_numpy(),
            "fused_ties": [_interval(f, t) for f, t in zip(frame["tie_first"], frame["tie_last"])],
            "relevant": ["✓" if d in set(relevant) else "" for d in docs],
            "doc_id": [task.doc_ids[d] for d in docs],
            "lang": [view.languages.doc_lang[d] for d in docs],
            "rank_a": pd.array([None if r >= unlisted else int(r) for r in frame["rank_a"]], dtype="Int64"),
            "rank_b": pd.array([None if r >= unlisted else int(r) for r in frame["rank_b"]], dtype="Int64"),
            "contribution_a": frame["contribution_a"].to_numpy(),
            "contribution_b": frame["contribution_b"].to_numpy(),
            "fused": frame["fused"].to_numpy(),
            "default_rank": frame["doc"].map(dict(zip(default["doc"], default["fused_rank"]))).to_numpy(),
            "text": [t[:snippet] + ("…" if len(t) > snippet else "") for t in texts],
        }
    )


def levels(view: View, a: str, b: str, params: FusionParams, metric: str) -> dict[str, object]:
    """The page's cards: the current fusion (expected, worst, best), the default fusion, A and B alone; n.

    All tie-aware, in the view's relevance mode; A and B alone are the profiles' own
    ``View.per_query`` values.
    """
    if metric not in METRIC_KEYS:
        raise KeyError(f"unknown metric {metric!r}; choose from {', '.join(METRIC_KEYS)}")
    current = view_fused_metrics(view, a, b, params).summary()[metric]
    default = view_fused_metrics(view, a, b, FusionParams()).summary()[metric]
    per_query = view.per_query(view.mode)
    return {
        "current": current,
        "default": default,
        "a": float(per_query[a][metric].mean()) if view.task.n_queries else math.nan,
        "b": float(per_query[b][metric].mean()) if view.task.n_queries else math.nan,
        "n": view.task.n_queries,
    }


SWEEP_LINES: tuple[tuple[float, float], ...] = ((0.25, 1.0), (0.5, 1.0), (1.0, 1.0), (1.0, 0.5))
"""Weight pairs the page draws as lines besides the current one."""


def view_sweep_figure(view: View, a: str, b: str, params: FusionParams, metric: str) -> tuple[go.Figure, pd.DataFrame]:
    """The page's sweep: :func:`sweep_figure` of ``a`` and ``b`` at the current depth, the current weights' line
    over every k of the grid and the current k, markers for the current, best and default settings, A and B alone
    as references; and the grid itself (:func:`view_sweep`)."""
    grid = view_sweep(view, a, b, depth=params.depth)
    line = view_sweep(view, a, b, depth=params.depth, ks=sorted({*grid["k"], params.k}), weight_pairs=[params.weights])
    top = grid.sort_values(metric, ascending=False, kind="stable").iloc[0]
    lv = levels(view, a, b, params, metric)
    labels = view.registry.labels()
    figure = sweep_figure(
        pd.concat([grid, line], ignore_index=True),
        metric=metric,
        lines=list(dict.fromkeys([*SWEEP_LINES, tuple(params.weights)])),
        current=(params.k, tuple(params.weights), lv["current"]["expected"]),
        best=(float(top["k"]), (float(top["w_a"]), float(top["w_b"])), float(top[metric])),
        default=(FusionParams.k, lv["default"]["expected"]),
        references=[(f"{labels[a]} alone", lv["a"]), (f"{labels[b]} alone", lv["b"])],
        n=lv["n"],
        names=(labels[a], labels[b]),
    )
    return figure, grid
