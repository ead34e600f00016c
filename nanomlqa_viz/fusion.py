"""Reciprocal rank fusion, as the dataset builder made ``reranking_hybrid``.

``score(d) = Σ_l w_l / (k + rank_l(d))`` over the lists l in which d ranks within ``depth``.
Equal fused scores are ordered by the best single-list rank, then by corpus id
(``tie_break="best_rank"``, the builder's recipe as published); ``tie_break="id"`` orders them
by corpus id alone, which is what the replica's ``reranking_hybrid`` shows. The fused
order is kept for the whole corpus: documents outside both lists score 0 and follow in order
of their best single-list rank, so the positive's fused rank is known wherever it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class TieBreak(StrEnum):
    """How equal fused scores are ordered (before the corpus id, which always comes last)."""

    BEST_RANK = "best_rank"  # the best single-list rank first: the builder's recipe as published
    ID = "id"  # corpus id alone: what the replica's reranking_hybrid shows


@dataclass(frozen=True)
class FusionParams:
    k: float = 100.0
    depth: int = 500
    weights: tuple[float, float] = (1.0, 1.0)  # (first profile, second profile): BM25, dense for the hybrid
    tie_break: TieBreak = TieBreak.BEST_RANK

    def __post_init__(self) -> None:
        object.__setattr__(self, "tie_break", TieBreak(self.tie_break))

    def describe(self) -> dict[str, object]:
        return {
            "method": "reciprocal rank fusion",
            "k": self.k,
            "depth": self.depth,
            "weights": list(self.weights),
            "tie_break": "best single-list rank, then corpus id" if self.tie_break == TieBreak.BEST_RANK else "corpus id",
        }


def rrf_scores(ranks: Sequence[np.ndarray], *, params: FusionParams = FusionParams()) -> tuple[np.ndarray, np.ndarray]:
    """Fused scores and the secondary key (best single-list rank) from full 1-based rank arrays."""
    if len(ranks) != len(params.weights):
        raise ValueError(f"{len(ranks)} rank arrays but {len(params.weights)} weights")
    fused = np.zeros(ranks[0].shape, dtype=np.float64)
    for r, w in zip(ranks, params.weights):
        inside = r <= params.depth
        fused += np.where(inside, w / (params.k + r.astype(np.float64)), 0.0)
    if params.tie_break == TieBreak.ID:
        return fused, np.zeros(ranks[0].shape, dtype=np.int32)
    best = np.minimum.reduce([np.asarray(r, dtype=np.int32) for r in ranks])
    return fused, best


def rrf_fuse_lists(
    lists: Sequence[Sequence[str]],
    *,
    k: float = 100.0,
    weights: Sequence[float] | None = None,
    tie_break: TieBreak | str = TieBreak.BEST_RANK,
) -> list[str]:
    """Fuse ranked id lists (each already cut to its depth) into one list, same tie policy.

    The list form of :func:`rrf_scores`, used to check the builder's ``reranking_hybrid``.
    """
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    score: dict[str, float] = {}
    best: dict[str, int] = {}
    for ranked, w in zip(lists, weights):
        for r, doc in enumerate(ranked, start=1):
            score[doc] = score.get(doc, 0.0) + w / (k + r)
            best[doc] = min(best.get(doc, r), r)
    if TieBreak(tie_break) == TieBreak.ID:
        return sorted(score, key=lambda d: (-score[d], d))
    return sorted(score, key=lambda d: (-score[d], best[d], d))
