"""Dense scores: each distinct passage text encoded once, cached, cosine over the whole corpus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from nanomlqa_viz.cache import ArrayCache, fingerprint, slug
from nanomlqa_viz.encoders import Encoder, Progress


@dataclass(frozen=True, eq=False)
class DistinctTexts:
    """The distinct texts of a corpus and, per document, the row of its text."""

    texts: tuple[str, ...]
    row_of_doc: np.ndarray  # (n_docs,) int

    @classmethod
    def of(cls, texts: Sequence[str]) -> DistinctTexts:
        rows: dict[str, int] = {}
        row_of_doc = np.fromiter((rows.setdefault(t, len(rows)) for t in texts), dtype=np.int64, count=len(texts))
        row_of_doc.flags.writeable = False
        return cls(texts=tuple(rows), row_of_doc=row_of_doc)

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.texts)  # hashed once: every cache name and key of the corpus's vectors holds it


def passage_embeddings(
    distinct: DistinctTexts,
    *,
    encoder: Encoder,
    cache: ArrayCache,
    progress: Progress | None = None,
    only_cached: bool = False,
) -> np.ndarray | None:
    """Embeddings of ``distinct.texts`` (one row each), from the cache or encoded and cached.

    Keyed by the encoder's identity (model and version or revision) and the texts. Two processes
    asking at once: the second waits for the first and reads its file. ``only_cached``: ``None``
    instead of encoding.
    """

    def name() -> str:  # an unloaded hub model learns its revision when it loads: name and key are read again
        return f"embeddings/{slug(encoder.identity)}-{distinct.fingerprint}"

    def key() -> dict[str, object]:
        return {"model": encoder.identity, "texts": distinct.fingerprint, "n": len(distinct.texts)}

    cached = cache.load(name(), key=key())
    if cached is not None and _valid(cached.get("embeddings"), len(distinct.texts)):
        return cached["embeddings"]
    if only_cached:
        return None
    with cache.lock(name()):
        cached = cache.load(name(), key=key())
        if cached is not None and _valid(cached.get("embeddings"), len(distinct.texts)):
            return cached["embeddings"]
        emb = encoder.encode_passages(distinct.texts, progress=progress)
        cache.save(name(), key=key(), arrays={"embeddings": emb})
    return emb


def _valid(emb: np.ndarray | None, n: int) -> bool:
    return emb is not None and emb.ndim == 2 and emb.shape[0] == n and emb.dtype == np.float32 and bool(np.isfinite(emb).all())


def query_embeddings(
    texts: Sequence[str], *, encoder: Encoder, cache: ArrayCache, only_cached: bool = False
) -> np.ndarray | None:
    """Query embeddings, cached like passages (queries are few; this saves loading a model)."""
    cached = cache.load(
        f"embeddings/{slug(encoder.identity)}-queries-{fingerprint(texts)}",
        key={"model": encoder.identity, "queries": fingerprint(texts), "n": len(texts)},
    )
    if cached is not None and _valid(cached.get("embeddings"), len(texts)):
        return cached["embeddings"]
    if only_cached:
        return None
    emb = encoder.encode_queries(list(texts))
    cache.save(
        f"embeddings/{slug(encoder.identity)}-queries-{fingerprint(texts)}",
        key={"model": encoder.identity, "queries": fingerprint(texts), "n": len(texts)},
        arrays={"embeddings": emb},
    )
    return emb


def dense_scores(query_emb: np.ndarray, passage_emb: np.ndarray, distinct: DistinctTexts) -> np.ndarray:
    """Cosine scores (n_queries, n_docs), float32: computed on distinct texts, spread to documents."""
    return np.ascontiguousarray((query_emb @ passage_emb.T)[:, distinct.row_of_doc], dtype=np.float32)
