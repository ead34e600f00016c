"""Full-corpus rankings from score matrices, with one tie policy used everywhere.

Tie policy: documents are ordered by score, descending; equal scores are ordered by a
profile's secondary key when it has one (the hybrid: best single-list rank), then by corpus
id ascending, as the dataset builder did. That order gives each document one rank. Because
a rank inside a block of equal scores says little (a cross-script BM25 query scores 0 for
most of the corpus), every rank also carries its tie interval: the first and last rank the
document could hold among the documents with exactly its score.

A *partial* profile (a candidate subset of the dataset, a run file) lists some passages per
query; the others score ``-inf`` and form one tie block below every listed passage. For the
id-broken metrics (which reproduce published figures and trec_eval) an unlisted passage is
not retrieved at all; tie-aware metrics (:mod:`nanomlqa_viz.tie_metrics`) take the block as
it is. A query a partial profile does not cover has no ranking and scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class RankInfo:
    """Where one document ranks for one query."""

    rank: int  # 1-based, ties broken by the documented policy
    score: float
    tie_first: int  # first rank among documents with exactly this score
    tie_last: int  # last rank among them

    @property
    def ties(self) -> int:
        """How many other documents share this exact score."""
        return self.tie_last - self.tie_first

    def interval(self) -> str:
        """The ranks it could hold among equal scores (``"7"``, ``"2–9,731"``)."""
        from nanomlqa_viz.formatting import format_interval

        return format_interval(self.tie_first, self.tie_last)


def id_order(doc_ids: Sequence[str]) -> np.ndarray:
    """Position of each document when all ids are sorted ascending (the last tie-breaker)."""
    order = np.argsort(np.asarray(doc_ids, dtype=object), kind="stable")
    rank = np.empty(len(doc_ids), dtype=np.int64)
    rank[order] = np.arange(len(doc_ids))
    rank.flags.writeable = False
    return rank


@dataclass(frozen=True, eq=False)
class RankedProfile:
    """Scores of every query against every document, and everything derived from them."""

    name: str
    scores: np.ndarray  # (n_queries, n_docs)
    id_rank: np.ndarray  # (n_docs,) from :func:`id_order`
    description: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    secondary: np.ndarray | None = None  # (n_queries, n_docs), smaller is better, before the id
    partial: bool = False  # lists some passages per query; the rest score -inf (not retrieved)
    covered: np.ndarray | None = None  # (n_queries,) bool: the query has a ranking; None: every query
    scored: bool = True  # False: the scores only encode an order (a candidate list's -position)
    key: str = ""  # a fingerprint of everything the scores depend on (results derived from them are cached by it)

    def __post_init__(self) -> None:
        for arr in (self.scores, self.id_rank, self.secondary, self.covered):
            if arr is not None:
                arr.flags.writeable = False

    @property
    def n_docs(self) -> int:
        return int(self.scores.shape[1])

    @property
    def n_queries(self) -> int:
        return int(self.scores.shape[0])

    def covers(self, qi: int) -> bool:
        """Does the profile rank anything for query ``qi``?"""
        return self.covered is None or bool(self.covered[qi])

    @property
    def n_covered(self) -> int:
        return self.n_queries if self.covered is None else int(np.count_nonzero(self.covered))

    def listed(self, qi: int, di: int) -> bool:
        """Is document ``di`` retrieved for query ``qi`` (always, unless the profile is partial)?"""
        return self.covers(qi) and (not self.partial or bool(np.isfinite(self.scores[qi, di])))

    def retrieved_rank(self, qi: int, di: int) -> int | None:
        """The id-broken rank of a retrieved document; ``None`` when a partial profile does not list it."""
        return self.rank_info(qi, di).rank if self.listed(qi, di) else None

    def order(self, qi: int) -> np.ndarray:
        """All document indices for query ``qi``, best first."""
        keys = [self.id_rank]
        if self.secondary is not None:
            keys.append(self.secondary[qi])
        keys.append(-self.scores[qi].astype(np.float64))
        return np.lexsort(keys)

    def top(self, qi: int, k: int) -> np.ndarray:
        """The best ``k`` document indices for query ``qi``, best first."""
        k = min(k, self.n_docs)
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        row = self.scores[qi]
        if k < self.n_docs:
            # everything scoring at least the k-th best score, then exact ordering of those
            kth = np.partition(row, self.n_docs - k)[self.n_docs - k]
            cand = np.flatnonzero(row >= kth)
        else:
            cand = np.arange(self.n_docs)
        keys = [self.id_rank[cand]]
        if self.secondary is not None:
            keys.append(self.secondary[qi, cand])
        keys.append(-row[cand].astype(np.float64))
        return cand[np.lexsort(keys)][:k]

    def rank_info(self, qi: int, di: int) -> RankInfo:
        row = self.scores[qi]
        s = row[di]
        greater = int(np.count_nonzero(row > s))
        equal_mask = row == s
        equal = int(np.count_nonzero(equal_mask))
        if self.secondary is not None:
            sec = self.secondary[qi]
            before = equal_mask & ((sec < sec[di]) | ((sec == sec[di]) & (self.id_rank < self.id_rank[di])))
        else:
            before = equal_mask & (self.id_rank < self.id_rank[di])
        rank = greater + int(np.count_nonzero(before)) + 1
        return RankInfo(rank=rank, score=float(s), tie_first=greater + 1, tie_last=greater + equal)

    def full_ranks(self) -> np.ndarray:
        """(n_queries, n_docs) int32: the 1-based rank of every document for every query."""
        out = np.empty(self.scores.shape, dtype=np.int32)
        positions = np.arange(1, self.n_docs + 1, dtype=np.int32)
        for qi in range(self.scores.shape[0]):
            out[qi, self.order(qi)] = positions
        return out
