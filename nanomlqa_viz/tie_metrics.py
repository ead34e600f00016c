"""Retrieval metrics that do not depend on how tied scores are broken.

Exact copies of a passage get identical dense scores, so the rank a tie-breaker (corpus id) gives
a relevant passage inside its block of equal scores is an accident of the ids. Following McSherry
& Najork ("Computing information retrieval performance measures efficiently in the presence of
tied scores", ECIR 2008), every metric of :data:`~nanomlqa_viz.metrics.METRIC_KEYS` is reported
as its exact expected value over a uniformly random order inside every tie block, beside the
worst case (relevant documents last in their blocks) and the best case (first).

Only the blocks that hold a relevant document matter. A block of ``m`` documents sharing one
score, ``g`` documents scoring higher and ``r`` of its documents relevant occupies positions
``g+1 .. g+m``; each relevant document is uniformly distributed over them, so

* DCG@k and recall@k (linear in the relevant documents' positions) get ``r/m`` of the gain of
  each of the block's positions within ``k``;
* hit@k is ``1 - P(no relevant document in the top k)``: a block with ``c`` of its positions
  within ``k`` contributes ``C(m-r, c) / C(m, c)`` to that probability (blocks are independent);
* MRR@k comes from the first block holding a relevant document: the first relevant document is
  at offset ``j`` of it with probability ``C(m-r, j-1) / C(m, j-1) * r / (m-j+1)``.

The probabilities are products of at most ``k`` ratios of integers, exact to rounding for any
block size. Conventions are those of :mod:`nanomlqa_viz.metrics` (binary relevance, ideal DCG over
``min(|relevant|, k)``, zeros for a query without a relevant document or without a ranking).
``-inf`` is an ordinary score (a run's unlisted documents form one block at the bottom); NaN
scores rank below everything, as in :meth:`~nanomlqa_viz.ranking.RankedProfile.order`. With
``partial=True`` (a candidate list, a run file) a relevant document scored ``-inf`` is not
retrieved at all, as trec_eval and the published figures count it: it adds nothing in any case,
and still counts in ``|relevant|``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nanomlqa_viz.metrics import METRIC_KEYS

NDCG_K = 10
MRR_K = 10
HIT_KS = (1, 10, 100)
RECALL_K = 100

# Above this many distinct relevant scores in one row, one sort of the row beats two comparison
# passes per score (measured crossover: ~45 at 10k documents, ~110 at 100k).
_SORT_ABOVE = 64

CASES = ("expected", "worst", "best")


@dataclass(frozen=True, eq=False)
class TieAwareMetrics:
    """Per-query metrics (rows: query ids, columns: :data:`METRIC_KEYS`) in three tie cases."""

    expected: pd.DataFrame  # uniformly random order inside every block of tied scores
    worst: pd.DataFrame  # relevant documents last in their blocks
    best: pd.DataFrame  # relevant documents first in their blocks

    def to_array(self) -> np.ndarray:
        """(3, n_queries, n_metrics) float64: expected, worst, best — what a cache file holds."""
        return np.stack([getattr(self, case)[list(METRIC_KEYS)].to_numpy(dtype=np.float64) for case in CASES])

    @classmethod
    def from_array(cls, values: np.ndarray, query_ids: Sequence[str]) -> TieAwareMetrics:
        """The inverse of :meth:`to_array` for a task with these query ids."""
        if values.shape != (len(CASES), len(query_ids), len(METRIC_KEYS)):
            raise ValueError(f"expected shape {(len(CASES), len(query_ids), len(METRIC_KEYS))}, got {values.shape}")
        index = pd.Index(list(query_ids), name="query_id")
        return cls(**{case: pd.DataFrame(values[i], index=index, columns=list(METRIC_KEYS)) for i, case in enumerate(CASES)})

    def summary(self) -> dict[str, dict[str, float]]:
        """``metric -> {"expected", "worst", "best"}``, each the mean over all queries (0 for none)."""
        frames = {"expected": self.expected, "worst": self.worst, "best": self.best}
        return {
            key: {case: float(frame[key].mean()) if len(frame) else 0.0 for case, frame in frames.items()} for key in METRIC_KEYS
        }


@dataclass(frozen=True)
class TieBlocks:
    """The tie blocks that hold a relevant document, over all queries, sorted by query then position."""

    query: np.ndarray  # query index of each block
    above: np.ndarray  # g: documents ranked strictly before the block
    size: np.ndarray  # m: documents in the block
    relevant: np.ndarray  # r: relevant documents in the block (>= 1)


def _doc_indices(relevant: Iterable[int], n_docs: int, qi: int) -> np.ndarray:
    idx = np.unique(np.fromiter(relevant, dtype=np.int64))
    if idx.size and (idx[0] < 0 or idx[-1] >= n_docs):
        raise ValueError(f"query {qi}: relevant document index out of range 0..{n_docs - 1}: {idx.tolist()}")
    return idx


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality where NaN equals NaN (one block of unscored documents)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _group(values: np.ndarray, secondary: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct (score, secondary) keys of the relevant documents and how many share each."""
    if len(values) == 1:
        return values, np.ones(1, dtype=np.int64), secondary
    order = np.lexsort((values,) if secondary is None else (secondary, values))
    vals = values[order]
    sec = None if secondary is None else secondary[order]
    new = np.ones(len(vals), dtype=bool)
    if len(vals) > 1:
        change = ~_same(vals[1:], vals[:-1])
        if sec is not None:
            change |= sec[1:] != sec[:-1]
        new[1:] = change
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(vals)))
    return vals[starts], counts, None if sec is None else sec[starts]


def _row_blocks(row: np.ndarray, rel_idx: np.ndarray, sec_row: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(g, m, r) of every block of one row that holds a relevant document."""
    keys, r, sec_keys = _group(row[rel_idx], None if sec_row is None else sec_row[rel_idx])
    n = row.shape[0]
    g = np.empty(len(keys), dtype=np.int64)
    m = np.empty(len(keys), dtype=np.int64)
    nan_keys = np.isnan(keys)
    n_valid = n - int(np.count_nonzero(np.isnan(row))) if nan_keys.any() or len(keys) > _SORT_ABOVE else n
    if sec_row is None and len(keys) > _SORT_ABOVE:
        ordered = np.sort(row)[:n_valid]  # NaN sorts last
        left = np.searchsorted(ordered, keys, side="left")
        right = np.searchsorted(ordered, keys, side="right")
        g[:] = n_valid - right
        m[:] = right - left
        g[nan_keys] = n_valid
        m[nan_keys] = n - n_valid
        return g, m, r
    for i, v in enumerate(keys):
        if nan_keys[i]:
            greater, tied = n_valid, np.isnan(row)
        else:
            greater, tied = int(np.count_nonzero(row > v)), row == v
        if sec_row is None:
            equal = int(np.count_nonzero(tied))
        else:
            tied_sec = sec_row[tied]
            greater += int(np.count_nonzero(tied_sec < sec_keys[i]))
            equal = int(np.count_nonzero(tied_sec == sec_keys[i]))
        g[i], m[i] = greater, equal
    return g, m, r


def _blocks(
    scores: np.ndarray,
    relevant: Sequence[Iterable[int]],
    covered: np.ndarray,
    secondary: np.ndarray | None,
    partial: bool = False,
) -> tuple[TieBlocks, np.ndarray]:
    """All relevant-holding blocks, and each query's number of relevant documents (0 if uncovered)."""
    n_queries, n_docs = scores.shape
    n_relevant = np.zeros(n_queries, dtype=np.int64)
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    for qi in range(n_queries):
        idx = _doc_indices(relevant[qi], n_docs, qi)
        if not covered[qi] or idx.size == 0:
            continue
        n_relevant[qi] = idx.size
        if partial:
            idx = idx[np.isfinite(scores[qi, idx])]  # unlisted: not retrieved
            if idx.size == 0:
                continue
        g, m, r = _row_blocks(scores[qi], idx, None if secondary is None else secondary[qi])
        order = np.argsort(g, kind="stable")
        parts.append((qi, g[order], m[order], r[order]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return TieBlocks(empty, empty, empty, empty), n_relevant
    query = np.concatenate([np.full(len(g), qi, dtype=np.int64) for qi, g, _, _ in parts])
    above, size, rel = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 3))
    return TieBlocks(query, above, size, rel), n_relevant


def _discount_prefix(k: int) -> np.ndarray:
    """``D[p] = sum_{i=1..p} 1/log2(i+1)`` for ``p = 0..k``: the DCG of positions 1..p."""
    return np.concatenate([[0.0], np.cumsum([1.0 / math.log2(i + 1) for i in range(1, k + 1)])])


def _survival(size: np.ndarray, rel: np.ndarray, c: np.ndarray, width: int) -> np.ndarray:
    """``S[b, j] = C(m-r, j) / C(m, j)`` for ``j = 0..width`` (j > c[b] left at S[b, c[b]]).

    The probability that the first ``j`` positions of a block hold none of its ``r`` relevant
    documents, as a running product of ``(m-r-i)/(m-i)``.
    """
    i = np.arange(width, dtype=np.int64)[None, :]
    m = size[:, None]
    ratio = np.maximum(m - rel[:, None] - i, 0) / np.maximum(m - i, 1)
    ratio = np.where(i < c[:, None], ratio, 1.0)
    return np.concatenate([np.ones((len(size), 1)), np.cumprod(ratio, axis=1)], axis=1)


def _per_query(values: np.ndarray, query: np.ndarray, n_queries: int) -> np.ndarray:
    return np.bincount(query, weights=values, minlength=n_queries).astype(np.float64)


def _first_block(query: np.ndarray) -> np.ndarray:
    """Index of each query's first block (blocks are sorted by query, then position)."""
    if query.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], query[1:] != query[:-1]]))


def metric_arrays(blocks: TieBlocks, n_relevant: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """``case -> metric -> (n_queries,)`` values from the blocks."""
    n_queries = len(n_relevant)
    q, g, m, r = blocks.query, blocks.above, blocks.size, blocks.relevant
    has_rel = n_relevant > 0
    denom_rel = np.where(has_rel, n_relevant, 1).astype(np.float64)
    dcg_prefix = _discount_prefix(NDCG_K)
    ideal = np.where(has_rel, dcg_prefix[np.minimum(n_relevant, NDCG_K)], 1.0)
    first = _first_block(q)
    first_q = q[first]
    out: dict[str, dict[str, np.ndarray]] = {}

    # expected: every relevant document uniform over its block's positions
    share = r / m
    dcg = share * (dcg_prefix[np.minimum(g + m, NDCG_K)] - dcg_prefix[np.minimum(g, NDCG_K)])
    found = share * (np.minimum(g + m, RECALL_K) - np.minimum(g, RECALL_K))
    expected = {
        "ndcg@10": _per_query(dcg, q, n_queries) / ideal,
        "recall@100": _per_query(found, q, n_queries) / denom_rel,
    }
    for k in HIT_KS:
        c = np.clip(k - g, 0, m)
        near = np.flatnonzero(c > 0)
        none_in_top = np.ones(n_queries)
        if near.size:
            surv = _survival(m[near], r[near], c[near], k)
            np.multiply.at(none_in_top, q[near], surv[np.arange(near.size), c[near]])
        expected[f"hit@{k}"] = np.where(has_rel, 1.0 - none_in_top, 0.0)
    rr = np.zeros(n_queries)
    fg, fm, fr = g[first], m[first], r[first]
    c = np.clip(MRR_K - fg, 0, fm)  # the first block's positions within k
    live = np.flatnonzero(c > 0)
    if live.size:
        surv = _survival(fm[live], fr[live], c[live], MRR_K)[:, :MRR_K]  # S[j-1], j = 1..k
        j = np.arange(1, MRR_K + 1, dtype=np.int64)[None, :]
        p_first = surv * fr[live, None] / np.maximum(fm[live, None] - j + 1, 1)
        p_first = np.where(j <= c[live, None], p_first, 0.0)
        rr[first_q[live]] = (p_first / (fg[live, None] + j)).sum(axis=1)
    expected["mrr@10"] = rr
    out["expected"] = expected

    # worst / best: the relevant documents form a run starting after `start` documents
    for case, start in (("worst", g + m - r), ("best", g)):
        dcg = dcg_prefix[np.minimum(start + r, NDCG_K)] - dcg_prefix[np.minimum(start, NDCG_K)]
        values = {
            "ndcg@10": _per_query(dcg, q, n_queries) / ideal,
            "recall@100": _per_query(np.clip(RECALL_K - start, 0, r), q, n_queries) / denom_rel,
        }
        for k in HIT_KS:
            values[f"hit@{k}"] = (_per_query(np.clip(k - start, 0, r), q, n_queries) > 0).astype(np.float64)
        rr = np.zeros(n_queries)
        first_rank = start[first] + 1
        rr[first_q] = np.where(first_rank <= MRR_K, 1.0 / first_rank, 0.0)
        values["mrr@10"] = rr
        out[case] = values
    return out


def _validate(scores: np.ndarray, n_relevant_rows: int, secondary: np.ndarray | None) -> None:
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n_queries, n_docs), got shape {scores.shape}")
    if not np.issubdtype(scores.dtype, np.floating):
        raise ValueError(f"scores must be floating point, got {scores.dtype}")
    if n_relevant_rows != scores.shape[0]:
        raise ValueError(f"{scores.shape[0]} score rows but {n_relevant_rows} relevant sets")
    if secondary is not None and secondary.shape != scores.shape:
        raise ValueError(f"secondary has shape {secondary.shape}, scores {scores.shape}")


def tie_aware_metrics(
    scores: np.ndarray,
    relevant: Sequence[Iterable[int]],
    *,
    query_ids: Sequence[str],
    covered: np.ndarray | None = None,
    secondary: np.ndarray | None = None,
    partial: bool = False,
) -> TieAwareMetrics:
    """Expected, worst and best value of every metric for every query.

    ``scores``: (n_queries, n_docs), larger is better, any float dtype. ``relevant[qi]``: the
    document indices relevant for query ``qi`` (empty: all zeros). ``covered[qi] == False``: the
    query has no ranking, all zeros. ``secondary`` (optional, (n_queries, n_docs), smaller first):
    a tie-breaker that is part of the ranking's definition (the hybrid's best single-list rank);
    blocks are then the documents equal in score and secondary key. ``partial``: relevant
    documents scored ``-inf`` are not retrieved (a candidate list or run that does not list them).
    """
    scores = np.asarray(scores)
    _validate(scores, len(relevant), secondary)
    n_queries = scores.shape[0]
    if len(query_ids) != n_queries:
        raise ValueError(f"{n_queries} score rows but {len(query_ids)} query ids")
    if covered is None:
        covered = np.ones(n_queries, dtype=bool)
    covered = np.asarray(covered, dtype=bool)
    if covered.shape != (n_queries,):
        raise ValueError(f"covered must have shape ({n_queries},), got {covered.shape}")
    blocks, n_relevant = _blocks(scores, relevant, covered, secondary, partial)
    arrays = metric_arrays(blocks, n_relevant)
    index = pd.Index(list(query_ids), name="query_id")
    frames = {case: pd.DataFrame({key: arrays[case][key] for key in METRIC_KEYS}, index=index) for case in CASES}
    return TieAwareMetrics(**frames)


def query_tie_metrics(
    scores: np.ndarray, relevant: Iterable[int], *, secondary: np.ndarray | None = None
) -> dict[str, tuple[float, float, float]]:
    """``metric -> (expected, worst, best)`` for one query's score row over all documents."""
    row = np.asarray(scores)
    if row.ndim != 1:
        raise ValueError(f"scores of one query must be 1-D, got shape {row.shape}")
    sec = None if secondary is None else np.asarray(secondary)[None, :]
    result = tie_aware_metrics(row[None, :], [list(relevant)], query_ids=["q"], secondary=sec)
    return {key: tuple(float(getattr(result, case).iloc[0][key]) for case in CASES) for key in METRIC_KEYS}
