"""The dataset card's published profile of NanoMMTEB-v2 / mlqa, shown beside the reference subsets."""

from __future__ import annotations

from types import MappingProxyType

PUBLISHED_SPLIT = ("hakari-bench/NanoMMTEB-v2", "mlqa")

PUBLISHED: MappingProxyType[str, MappingProxyType[str, float]] = MappingProxyType(
    {
        "bm25": MappingProxyType({"ndcg@10": 0.0390, "hit@10": 0.0663, "recall@100": 0.1429}),
        "harrier_oss_v1_270m": MappingProxyType({"ndcg@10": 0.0959, "hit@10": 0.2194, "recall@100": 0.5561}),
        "reranking_hybrid": MappingProxyType({"ndcg@10": 0.0534, "hit@10": 0.1071, "recall@100": 0.4235}),
    }
)


def published_for(source: str, split: str, config: str) -> MappingProxyType[str, float] | None:
    """The published figures of a reference config, only when the source is the hub's mlqa split."""
    if (source, split) != PUBLISHED_SPLIT:
        return None
    return PUBLISHED.get(config)
