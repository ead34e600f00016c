"""The three computed retrieval profiles — BM25, dense, hybrid — over the whole corpus, cached.

Each profile is a :class:`~nanomlqa_viz.ranking.RankedProfile`: the score of every query
against every passage. Score matrices are cached under ``<cache_dir>/profiles/`` keyed by a
fingerprint of the task's ids and texts and by everything that changes the scores
(tokenizer version and BM25 parameters; dense model; fusion parameters), so a warm start
reads three arrays and computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np

from nanomlqa_viz.bm25 import BM25Index, BM25Params, build_bm25_index
from nanomlqa_viz.cache import ArrayCache, fingerprint, slug
from nanomlqa_viz.dense import DistinctTexts, dense_scores, passage_embeddings, query_embeddings
from nanomlqa_viz.encoders import Encoder, Progress, make_encoder
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import TOKENIZER_DESCRIPTION, TOKENIZER_VERSION, tokenize

COMPUTED = ("bm25", "dense", "hybrid")


def task_fingerprint(task: Task) -> str:
    return fingerprint(
        [str(task.n_docs), *task.doc_ids, *task.doc_texts, str(task.n_queries), *task.query_ids, *task.query_texts]
    )


def qrels_fingerprint(task: Task) -> str:
    return fingerprint(sorted(f"{q}\t{d}" for q, docs in task.qrels.items() for d in docs))


@dataclass(frozen=True, eq=False)
class ProfileContext:
    """What every profile of one task shares: the task, its cache, its id order."""

    task: Task
    cache: ArrayCache
    fingerprint: str
    id_rank: np.ndarray
    distinct: DistinctTexts

    @classmethod
    def of(cls, task: Task, cache: ArrayCache) -> ProfileContext:
        return cls(
            task=task,
            cache=cache,
            fingerprint=task_fingerprint(task),
            id_rank=id_order(task.doc_ids),
            distinct=DistinctTexts.of(task.doc_texts),
        )

    @cached_property
    def bm25_index(self) -> BM25Index:
        """The corpus's BM25 index (default parameters; token IDF, document tokens), built once."""
        return build_bm25_index(self.task.doc_texts)

    def _cached_scores(self, name: str, key: Mapping[str, object], compute) -> dict[str, np.ndarray] | None:
        """The cached arrays of a profile, else ``compute()`` (cached), or ``None`` if compute is None."""
        path = f"profiles/{self.fingerprint}/{slug(name)}-{fingerprint(sorted(f'{k}={v}' for k, v in key.items()))}"
        full_key = {"task": self.fingerprint, **key}
        shape = (self.task.n_queries, self.task.n_docs)
        cached = self.cache.load(path, key=full_key)
        if cached is not None and all(a.shape == shape for a in cached.values()):
            return cached
        if compute is None:
            return None
        arrays = compute()
        self.cache.save(path, key=full_key, arrays=arrays)
        return arrays


def bm25_profile(ctx: ProfileContext, *, params: BM25Params = BM25Params()) -> RankedProfile:
    key = {"tokenizer": TOKENIZER_VERSION, "k1": params.k1, "b": params.b, "epsilon": params.epsilon}

    def compute() -> dict[str, np.ndarray]:
        index = ctx.bm25_index if params == BM25Params() else build_bm25_index(ctx.task.doc_texts, params=params)
        return {"scores": index.score([tokenize(q) for q in ctx.task.query_texts])}

    arrays = ctx._cached_scores("bm25", key, compute)
    description = {
        "engine": "rank-bm25 BM25Okapi scores (sparse, exact)",
        "tokenizer": TOKENIZER_DESCRIPTION,
        "k1": params.k1,
        "b": params.b,
        "epsilon": params.epsilon,
    }
    return RankedProfile(name="bm25", scores=arrays["scores"], id_rank=ctx.id_rank, description=MappingProxyType(description))


def dense_profile(
    ctx: ProfileContext,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    only_cached: bool = False,
) -> RankedProfile | None:
    """The dense profile; with ``only_cached`` it returns ``None`` instead of encoding."""
    encoder = encoder or make_encoder(model)
    key = {"model": encoder.name}

    def compute() -> dict[str, np.ndarray]:
        passages = passage_embeddings(ctx.distinct, encoder=encoder, cache=ctx.cache, progress=progress)
        queries = query_embeddings(ctx.task.query_texts, encoder=encoder, cache=ctx.cache)
        return {"scores": dense_scores(queries, passages, ctx.distinct)}

    arrays = ctx._cached_scores("dense", key, None if only_cached else compute)
    if arrays is None:
        return None
    description = {
        "model": encoder.name,
        "encoder": encoder.description,
        "similarity": "cosine (normalised vectors), each distinct passage text encoded once",
    }
    return RankedProfile(name="dense", scores=arrays["scores"], id_rank=ctx.id_rank, description=MappingProxyType(description))


def hybrid_profile(
    ctx: ProfileContext, bm25: RankedProfile, dense: RankedProfile, *, params: FusionParams = FusionParams()
) -> RankedProfile:
    key = {
        "bm25": fingerprint([repr(sorted(bm25.description.items()))]),
        "dense": str(dense.description.get("model")),
        **{k: str(v) for k, v in params.describe().items()},
    }

    def compute() -> dict[str, np.ndarray]:
        fused, best = rrf_scores([bm25.full_ranks(), dense.full_ranks()], params=params)
        return {"scores": fused, "secondary": best}

    arrays = ctx._cached_scores("hybrid", key, compute)
    return RankedProfile(
        name="hybrid",
        scores=arrays["scores"],
        id_rank=ctx.id_rank,
        secondary=arrays["secondary"],
        description=MappingProxyType({"inputs": "bm25 + dense (full-corpus ranks)", **params.describe()}),
    )


@dataclass(frozen=True, eq=False)
class Profiles:
    """The computed profiles of one task (dense and hybrid may still be missing)."""

    items: Mapping[str, RankedProfile] = field(default_factory=dict)

    def get(self, name: str) -> RankedProfile | None:
        return self.items.get(name)


def compute_profiles(
    ctx: ProfileContext,
    *,
    model: str | None = None,
    fusion: FusionParams = FusionParams(),
    progress: Progress | None = None,
) -> Profiles:
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, model=model, progress=progress)
    hybrid = hybrid_profile(ctx, bm25, dense, params=fusion)
    return Profiles(items=MappingProxyType({"bm25": bm25, "dense": dense, "hybrid": hybrid}))
