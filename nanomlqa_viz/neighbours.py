"""Nearest neighbours by inner product (cosine of L2-normalised vectors): exact where small, faiss where large.

:func:`vector_index` builds a searchable index of a set of vectors once; :meth:`VectorIndex.search`
returns each query's ``k`` best rows, best first. :func:`nearest_neighbours` does both in one call.

Methods (all with the same signature and result):

* ``"exact"``: blockwise matrix products with numpy; memory per block is bounded by
  ``block_bytes`` whatever the size of the searched set; ties go to the lower row;
* ``"flat"``: faiss ``IndexFlatIP``, exact as well (faiss's own BLAS and heaps; many threads);
* ``"hnsw"``: faiss ``IndexHNSWFlat`` (approximate; recall about 0.99 with the defaults). Its
  graph is built on one thread, so that the index, and every result, is the same on each run;
* ``"auto"``: while the searched set has at most ``exact_limit`` vectors, ``"exact"`` for small
  products (``expected_queries`` × vectors at most ``flat_from``, 20 million: the NanoMLQA
  replica's searches, at most 2 million, and ten times them stay bit-identical to exact search)
  and ``"flat"`` for larger ones (same rows but for floating-point ties: 99.996 % of them on
  14k × 14k × 384, k = 20, 7x faster than numpy, whose ``argpartition`` dominates); above
  ``exact_limit`` vectors ``"flat"`` when few queries are expected (``expected_queries`` at most
  1 % of the set: scanning is cheaper than building a graph), else ``"hnsw"``.

faiss is imported only when a faiss method is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EXACT_LIMIT", "FLAT_FROM", "METHODS", "Neighbours", "VectorIndex", "nearest_neighbours", "vector_index"]

EXACT_LIMIT = 200_000
"""Searched sets up to this many vectors are searched exactly by ``"auto"`` (numpy or faiss flat)."""
FLAT_FROM = 20_000_000
"""Expected queries × vectors above which ``"auto"`` searches a set of at most ``EXACT_LIMIT`` with faiss flat."""
METHODS = ("auto", "exact", "flat", "hnsw")
_BLOCK_BYTES = 256 * 2**20


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Per query, its nearest rows of the searched set, best first."""

    rows: np.ndarray
    """(queries, k) int64: rows of the searched set; -1 where it has fewer than k rows."""
    sims: np.ndarray
    """(queries, k) float32: inner products; nan where ``rows`` is -1."""


@dataclass(frozen=True, eq=False)
class VectorIndex:
    """A searchable set of vectors (float32 rows); build with :func:`vector_index`."""

    vectors: np.ndarray
    method: str
    """The method chosen: "exact", "flat" or "hnsw"."""
    hnsw_ef_search: int = 128
    block_bytes: int = _BLOCK_BYTES
    _faiss_index: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, *, k: int) -> Neighbours:
        """The ``k`` nearest rows of each query (best first; rows -1 and sims nan beyond the set's size)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or (len(queries) and len(self.vectors) and queries.shape[1] != self.vectors.shape[1]):
            raise ValueError(f"queries {queries.shape} and vectors {self.vectors.shape} must be 2-d with one dimension")
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        sims = np.full((len(queries), k), np.nan, dtype=np.float32)
        kk = min(k, len(self.vectors))
        if kk == 0 or len(queries) == 0:
            return Neighbours(rows=rows, sims=sims)
        if self.method == "exact":
            found_rows, found_sims = _exact(queries, self.vectors, kk, self.block_bytes)
        else:
            if self.method == "hnsw":
                self._faiss_index.hnsw.efSearch = max(self.hnsw_ef_search, 2 * kk)
            found_sims, found_rows = self._faiss_index.search(queries, kk)
            found_rows = found_rows.astype(np.int64)
            missing = found_rows < 0
            found_sims = np.where(missing, np.nan, found_sims).astype(np.float32)
        rows[:, :kk] = found_rows
        sims[:, :kk] = found_sims
        return Neighbours(rows=rows, sims=sims)


def _exact(queries: np.ndarray, vectors: np.ndarray, k: int, block_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(vectors)
    block = max(1, block_bytes // (4 * n))
    rows = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    index = np.arange(n, dtype=np.int64)
    for start in range(0, len(queries), block):
        products = queries[start : start + block] @ vectors.T
        if k < n:
            top = np.argpartition(-products, k - 1, axis=1)[:, :k]
            # Ties at the k-th value: argpartition picks arbitrarily, so take every row tied with it, then the lowest.
            kth = np.take_along_axis(products, top, axis=1).min(axis=1)
            for r in np.flatnonzero((products >= kth[:, None]).sum(axis=1) > k):
                better = np.flatnonzero(products[r] > kth[r])
                same = np.flatnonzero(products[r] == kth[r])[: k - len(better)]
                top[r] = np.concatenate([better, same])
        else:
            top = np.broadcast_to(index, (len(products), n)).copy()
        top_sims = np.take_along_axis(products, top, axis=1)
        order = np.lexsort((top, -top_sims), axis=1)  # best first, lower row first among equals
        rows[start : start + block] = np.take_along_axis(top, order, axis=1)
        sims[start : start + block] = np.take_along_axis(top_sims, order, axis=1)
    return rows, sims


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is in requirements.txt
        raise RuntimeError("this search needs faiss (pip install faiss-cpu)") from exc
    return faiss


def vector_index(
    vectors: np.ndarray,
    *,
    method: str = "auto",
    expected_queries: int | None = None,
    exact_limit: int = EXACT_LIMIT,
    flat_from: int = FLAT_FROM,
    block_bytes: int = _BLOCK_BYTES,
    hnsw_m: int = 32,
    hnsw_ef_construction: int = 80,
    hnsw_ef_search: int = 128,
) -> VectorIndex:
    """An index of ``vectors`` (rows) for :meth:`VectorIndex.search`; see the module docstring for ``method``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-d, not {vectors.shape}")
    n = len(vectors)
    if method == "auto":
        if n <= exact_limit:
            method = "flat" if expected_queries is not None and expected_queries * n > flat_from else "exact"
        elif expected_queries is not None and expected_queries <= n // 100:
            method = "flat"
        else:
            method = "hnsw"
    if method == "exact" or n == 0:
        return VectorIndex(vectors=vectors, method="exact", block_bytes=block_bytes)
    faiss = _faiss()
    d = vectors.shape[1]
    if method == "flat":
        index = faiss.IndexFlatIP(d)
        index.add(vectors)
    else:
        index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = hnsw_ef_construction
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # parallel insertion makes the graph depend on thread timing
        try:
            index.add(vectors)
        finally:
            faiss.omp_set_num_threads(threads)
    return VectorIndex(vectors=vectors, method=method, hnsw_ef_search=hnsw_ef_search, _faiss_index=index)


def nearest_neighbours(
    queries: np.ndarray,
    vectors: np.ndarray,
    *,
    k: int,
    method: str = "auto",
    exact_limit: int = EXACT_LIMIT,
    flat_from: int = FLAT_FROM,
) -> Neighbours:
    """The ``k`` nearest rows of ``vectors`` for each row of ``queries`` (inner product, best first)."""
    index = vector_index(vectors, method=method, expected_queries=len(queries), exact_limit=exact_limit, flat_from=flat_from)
    return index.search(queries, k=k)
