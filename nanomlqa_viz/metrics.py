"""Retrieval metrics with the dataset's conventions.

Binary relevance; nDCG@k with the ideal DCG over ``min(|relevant|, k)`` documents; hit@k;
recall@k; MRR@k (reciprocal rank of the first relevant document within k). A query with no
relevant document retrieved within k scores 0, and so does a query without any positive.
Everything is computed from the 1-based ranks at which relevant documents were retrieved, so
candidate lists and full-corpus rankings share one implementation.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

METRIC_KEYS: tuple[str, ...] = ("ndcg@10", "hit@1", "hit@10", "hit@100", "recall@100", "mrr@10")


def relevant_ranks(ranking: Sequence[str], relevant: Collection[str]) -> tuple[int, ...]:
    """1-based positions of relevant ids in ``ranking`` (an injected entry must not be in it)."""
    return tuple(i for i, doc_id in enumerate(ranking, start=1) if doc_id in relevant)


def ndcg_at(ranks: Iterable[int], n_relevant: int, k: int) -> float:
    if n_relevant <= 0:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in ranks if r <= k)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, k) + 1))
    return dcg / ideal


def hit_at(ranks: Iterable[int], k: int) -> float:
    return 1.0 if any(r <= k for r in ranks) else 0.0


def recall_at(ranks: Iterable[int], n_relevant: int, k: int) -> float:
    if n_relevant <= 0:
        return 0.0
    return sum(1 for r in ranks if r <= k) / n_relevant


def mrr_at(ranks: Iterable[int], k: int) -> float:
    best = min((r for r in ranks if r <= k), default=None)
    return 0.0 if best is None else 1.0 / best


def query_metrics(ranks: Sequence[int], n_relevant: int) -> dict[str, float]:
    """All of :data:`METRIC_KEYS` for one query, given where its relevant documents ranked."""
    return {
        "ndcg@10": ndcg_at(ranks, n_relevant, 10),
        "hit@1": hit_at(ranks, 1),
        "hit@10": hit_at(ranks, 10),
        "hit@100": hit_at(ranks, 100),
        "recall@100": recall_at(ranks, n_relevant, 100),
        "mrr@10": mrr_at(ranks, 10),
    }


def mean_metrics(per_query: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Average per-query metrics; an empty input gives zeros."""
    rows = list(per_query)
    if not rows:
        return {key: 0.0 for key in METRIC_KEYS}
    return {key: sum(row[key] for row in rows) / len(rows) for key in METRIC_KEYS}


def ranking_metrics(
    rankings: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Collection[str]],
    query_ids: Sequence[str],
) -> dict[str, dict[str, float]]:
    """Per-query metrics of ranked id lists; queries missing from ``rankings`` score 0."""
    out: dict[str, dict[str, float]] = {}
    for qid in query_ids:
        relevant = qrels.get(qid, ())
        out[qid] = query_metrics(relevant_ranks(rankings.get(qid, ()), relevant), len(relevant))
    return out
