"""Retrieval profiles of one task, each a :class:`~nanomlqa_viz.ranking.RankedProfile`.

- computed over the whole corpus: BM25, one dense profile per model, the hybrid (RRF of BM25 and
  the first dense model); their score matrices are cached under ``<cache_dir>/profiles/``;
- the dataset's candidate subsets (``reference/<config>``): partial profiles, score = -position;
- a user's run file (:mod:`nanomlqa_viz.runs`): a partial profile with the run's scores.

Every profile carries a ``key``: a fingerprint of everything its scores depend on (task texts
and ids, tokenizer and BM25 parameters, the dense model's identity with its version or
revision, fusion parameters and inputs, the candidate lists, the run file's bytes). Results
derived from a profile are cached by that key, so no result outlives its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import numpy as np

from nanomlqa_viz.bm25 import BM25Index, BM25Params, build_bm25_index
from nanomlqa_viz.cache import ArrayCache, fingerprint, slug
from nanomlqa_viz.dense import DistinctTexts, dense_scores, passage_embeddings, query_embeddings
from nanomlqa_viz.encoders import Encoder, Progress, make_encoder
from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.task import Task
from nanomlqa_viz.tokenizer import TOKENIZER_DESCRIPTION, TOKENIZER_VERSION, tokenize

DENSE_PREFIX = "dense:"  # dense profiles after the first are named dense:<model>
REFERENCE_PREFIX = "reference/"


def task_fingerprint(task: Task) -> str:
    return fingerprint(
        [str(task.n_docs), *task.doc_ids, *task.doc_texts, str(task.n_queries), *task.query_ids, *task.query_texts]
    )


def qrels_fingerprint(task: Task) -> str:
    return fingerprint(sorted(f"{q}\t{d}" for q, docs in task.qrels.items() for d in docs))


def candidates_fingerprint(task: Task) -> str:
    parts = []
    for config, subset in sorted(task.candidates.items()):
        parts.append(f"config={config}")
        for qid, docs in sorted(subset.lists.items()):
            parts.append(f"{qid}\t{' '.join(docs)}")
    return fingerprint(parts)


def _key(*parts: object) -> str:
    return fingerprint([repr(p) for p in parts])


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
        if params == BM25Params():
            from nanomlqa_viz.bm25_tokens import save_token_idf

            save_token_idf(ctx.cache, ctx.fingerprint, index)  # the BM25 reasons read it instead of rebuilding the index
        return {"scores": index.score([tokenize(q) for q in ctx.task.query_texts])}

    arrays = ctx._cached_scores("bm25", key, compute)
    description = {
        "engine": "rank-bm25 BM25Okapi scores (sparse, exact)",
        "tokenizer": TOKENIZER_DESCRIPTION,
        "k1": params.k1,
        "b": params.b,
        "epsilon": params.epsilon,
    }
    return RankedProfile(
        name="bm25",
        scores=arrays["scores"],
        id_rank=ctx.id_rank,
        description=MappingProxyType(description),
        key=_key("bm25", ctx.fingerprint, sorted(key.items())),
    )


def dense_profile_name(model: str, *, primary: bool) -> str:
    """``dense`` for the first dense model, ``dense:<model>`` for the others."""
    return "dense" if primary else f"{DENSE_PREFIX}{model}"


def dense_profile(
    ctx: ProfileContext,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    only_cached: bool = False,
    name: str = "dense",
) -> RankedProfile | None:
    """The dense profile of one model; with ``only_cached`` it returns ``None`` where it would have to encode.

    Scores are cached; from cached embeddings (the demo ships its own) they are one matrix product.
    """
    encoder = encoder or make_encoder(model)

    def embeddings(cached_only: bool) -> tuple[np.ndarray, np.ndarray] | None:
        passages = passage_embeddings(ctx.distinct, encoder=encoder, cache=ctx.cache, progress=progress, only_cached=cached_only)
        queries = query_embeddings(ctx.task.query_texts, encoder=encoder, cache=ctx.cache, only_cached=cached_only)
        return None if passages is None or queries is None else (passages, queries)

    def compute() -> dict[str, np.ndarray]:
        passages, queries = embeddings(False)
        if queries.shape[1] != passages.shape[1]:
            raise DatasetError(
                encoder.name, f"query vectors have {queries.shape[1]} dimensions, passage vectors {passages.shape[1]}"
            )
        return {"scores": dense_scores(queries, passages, ctx.distinct)}

    arrays = ctx._cached_scores("dense", {"model": encoder.identity}, None)
    if arrays is None and (not only_cached or embeddings(True) is not None):
        arrays = ctx._cached_scores("dense", {"model": encoder.identity}, compute)
    if arrays is None:
        return None
    description = {
        "model": encoder.name,
        "identity": encoder.identity,
        "encoder": encoder.description,
        "similarity": "cosine (normalised vectors), each distinct passage text encoded once",
    }
    return RankedProfile(
        name=name,
        scores=arrays["scores"],
        id_rank=ctx.id_rank,
        description=MappingProxyType(description),
        key=_key("dense", ctx.fingerprint, encoder.identity),
    )


def hybrid_profile(
    ctx: ProfileContext, bm25: RankedProfile, dense: RankedProfile, *, params: FusionParams = FusionParams()
) -> RankedProfile:
    """Reciprocal rank fusion of two full-corpus profiles (BM25 and the first dense model)."""
    key = {"inputs": _key(bm25.key, dense.key), **{k: str(v) for k, v in params.describe().items()}}

    def compute() -> dict[str, np.ndarray]:
        fused, best = rrf_scores([bm25.full_ranks(), dense.full_ranks()], params=params)
        return {"scores": fused, "secondary": best}

    arrays = ctx._cached_scores("hybrid", key, compute)
    return RankedProfile(
        name="hybrid",
        scores=arrays["scores"],
        id_rank=ctx.id_rank,
        secondary=arrays["secondary"],
        description=MappingProxyType({"inputs": f"{bm25.name} + {dense.name} (full-corpus ranks)", **params.describe()}),
        key=_key("hybrid", sorted(key.items())),
    )


def reference_profile(ctx: ProfileContext, config: str) -> RankedProfile:
    """One of the dataset's candidate subsets as a partial profile (score = -position; unlisted: -inf).

    An injected 101st entry is not a rank and is not listed.
    """
    task = ctx.task
    subset = task.candidates[config]
    scores = np.full((task.n_queries, task.n_docs), -np.inf, dtype=np.float32)
    covered = np.zeros(task.n_queries, dtype=bool)
    for qi, qid in enumerate(task.query_ids):
        docs = subset.ranking(qid)
        if docs:
            covered[qi] = True
            scores[qi, [task.doc_index[d] for d in docs]] = -np.arange(1, len(docs) + 1, dtype=np.float32)
    return RankedProfile(
        name=f"{REFERENCE_PREFIX}{config}",
        scores=scores,
        id_rank=ctx.id_rank,
        description=MappingProxyType({"source": f"the dataset's candidate subset '{config}'", "depth": subset.depth}),
        partial=True,
        covered=covered,
        scored=False,
        key=_key("reference", ctx.fingerprint, config, candidates_fingerprint(task)),
    )


def run_profile(ctx: ProfileContext, run, *, digest: str) -> RankedProfile:
    """A user's run (:class:`nanomlqa_viz.runs.RunScores`) as a partial profile; ``digest``: of the file's bytes."""
    return RankedProfile(
        name=run.name,
        scores=run.scores,
        id_rank=ctx.id_rank,
        description=MappingProxyType(
            {
                "source": f"run file {run.file_label} ({run.format})",
                "entries": run.n_entries,
                "scored": run.scored,
                "dropped unknown queries": run.dropped_unknown_queries,
                "dropped unknown passages": run.dropped_unknown_passages,
            }
        ),
        partial=True,
        covered=run.covered,
        scored=run.scored,
        key=_key("run", ctx.fingerprint, run.name, digest),
    )
