"""BM25 scores identical to ``rank_bm25.BM25Okapi.get_scores``, computed with a sparse index.

``rank_bm25`` walks every document's term-count dict for every query token. Here the corpus
statistics (document frequency, idf with rank_bm25's epsilon floor, average document length)
come from ALL documents, duplicates included, exactly as rank_bm25 counts them, while the
per-term weights are stored once per DISTINCT document (the NanoMLQA corpus has 10,000
passages but only 3,373 distinct texts) in a term-major sparse matrix ``weights``::

    weights[d, t] = idf[t] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))

A query's scores are the sum of the weight columns of its tokens, one addition per occurrence,
in query order - the same floating-point operations rank_bm25 performs, so the scores are
bit-identical, not merely close - and are then broadcast back to all documents through
``distinct_index``.

Deviation from rank_bm25, only in degenerate cases it cannot handle either: where rank_bm25
divides 0 by 0 (``k1 == 0``, or an empty document with ``b == 1``) and returns NaN for a
document without the term, this returns 0; an empty corpus raises ``ValueError`` and a corpus
of empty documents scores 0 everywhere (rank_bm25 raises ``ZeroDivisionError`` for both).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from nanomlqa_viz.tokenizer import tokenize as default_tokenize

if TYPE_CHECKING:  # scipy is imported where an index is built: a process that reads cached scores never loads it
    import scipy.sparse as sp

__all__ = ["BM25Index", "BM25Params", "build_bm25_index", "build_bm25_index_from_tokens"]


@dataclass(frozen=True)
class BM25Params:
    """Okapi BM25 parameters, with rank_bm25's defaults and its idf floor ``epsilon``.

    A term in more than half of the documents has a negative raw idf; rank_bm25 replaces it by
    ``epsilon * average_idf`` (average over the whole vocabulary, before flooring).
    """

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25

    def __post_init__(self) -> None:
        if not (math.isfinite(self.k1) and self.k1 >= 0):
            raise ValueError(f"k1 must be a finite number >= 0, got {self.k1!r}")
        if not (math.isfinite(self.b) and 0 <= self.b <= 1):
            raise ValueError(f"b must be in [0, 1], got {self.b!r}")
        if not math.isfinite(self.epsilon):
            raise ValueError(f"epsilon must be finite, got {self.epsilon!r}")


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class BM25Index:
    """A BM25Okapi index over one corpus; build it with :func:`build_bm25_index`.

    All arrays are read-only. ``n_distinct`` rows are stored; document ``i`` is row
    ``distinct_index[i]``.
    """

    params: BM25Params
    vocabulary: Mapping[str, int]
    """Token -> column, in order of first occurrence in the corpus (read-only mapping)."""
    idf: np.ndarray
    """(n_terms,) float64 idf per column, negative values already floored as in rank_bm25."""
    average_idf: float
    """Mean raw idf over the vocabulary (before flooring); the floor is ``epsilon`` times it."""
    avgdl: float
    """Mean token count over ALL documents, duplicates included."""
    document_lengths: np.ndarray
    """(n_documents,) int64 token count of every document."""
    distinct_index: np.ndarray
    """(n_documents,) int64: the distinct row that holds document ``i``."""
    weights: sp.csc_array
    """(n_distinct, n_terms) float64 BM25 term weights per distinct document (CSC)."""
    _distinct_tokens: tuple[tuple[str, ...], ...] = field(repr=False)

    @property
    def n_documents(self) -> int:
        return int(self.distinct_index.shape[0])

    @property
    def n_distinct(self) -> int:
        return len(self._distinct_tokens)

    def token_idf(self, token: str) -> float:
        """The (floored) idf of ``token``; 0.0 for a token not in the corpus, as rank_bm25."""
        column = self.vocabulary.get(token)
        return 0.0 if column is None else float(self.idf[column])

    def document_tokens(self, i: int) -> list[str]:
        """The tokens of document ``i`` in order (a fresh list; duplicates share storage)."""
        return list(self._distinct_tokens[self.distinct_index[i]])

    def score(self, query_tokens: Sequence[Sequence[str]]) -> np.ndarray:
        """BM25 scores, shape (n_queries, n_documents) float64, = rank_bm25 ``get_scores``.

        ``query_tokens`` holds one token sequence per query. Every occurrence of a token adds
        its weight again; tokens not in the corpus add nothing.
        """
        if isinstance(query_tokens, str):
            raise TypeError("query_tokens must be a sequence of token sequences, not a str")
        indptr, rows, data = self.weights.indptr, self.weights.indices, self.weights.data
        vocabulary = self.vocabulary
        distinct_scores = np.zeros((len(query_tokens), self.n_distinct), dtype=np.float64)
        for q, tokens in enumerate(query_tokens):
            if isinstance(tokens, str):
                raise TypeError(f"query {q} is a str; pass a sequence of tokens per query, e.g. [tokens]")
            row = distinct_scores[q]
            for token in tokens:
                column = vocabulary.get(token)
                if column is not None:
                    start, stop = indptr[column], indptr[column + 1]
                    # Row indices are unique within a column, so fancy "+=" is exact.
                    row[rows[start:stop]] += data[start:stop]
        return distinct_scores[:, self.distinct_index]


def _deduplicate(keys: Sequence[object]) -> tuple[list[int], np.ndarray]:
    """First position of every distinct key (in order) and each key's distinct row."""
    row_of: dict[object, int] = {}
    first: list[int] = []
    inverse = np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        row = row_of.get(key)
        if row is None:
            row = row_of[key] = len(first)
            first.append(i)
        inverse[i] = row
    return first, inverse


def _build(
    distinct_tokens: tuple[tuple[str, ...], ...],
    distinct_index: np.ndarray,
    params: BM25Params,
) -> BM25Index:
    import scipy.sparse as sp

    n_documents = int(distinct_index.shape[0])
    if n_documents == 0:
        raise ValueError("cannot build a BM25 index over an empty corpus")
    n_distinct = len(distinct_tokens)

    # Columns in order of first occurrence, like rank_bm25's document-frequency dict, so that
    # the average idf below is summed in the same order.
    vocabulary = {token: column for column, token in enumerate(dict.fromkeys(chain.from_iterable(distinct_tokens)))}
    n_terms = len(vocabulary)
    distinct_lengths = np.fromiter(map(len, distinct_tokens), dtype=np.int64, count=n_distinct)
    columns = np.fromiter(
        map(vocabulary.__getitem__, chain.from_iterable(distinct_tokens)),
        dtype=np.int64,
        count=int(distinct_lengths.sum()),
    )
    rows = np.repeat(np.arange(n_distinct, dtype=np.int64), distinct_lengths)
    term_counts = sp.csc_array(
        (np.ones(columns.shape[0], dtype=np.int64), (rows, columns)),
        shape=(n_distinct, n_terms),
    )
    term_counts.sum_duplicates()  # canonical: sorted, unique row indices per column
    tf = term_counts.data
    nnz_rows = term_counts.indices.astype(np.int64)
    nnz_columns = np.repeat(np.arange(n_terms, dtype=np.int64), np.diff(term_counts.indptr))

    # Statistics over ALL documents: a distinct row counts once per document holding it.
    multiplicity = np.bincount(distinct_index, minlength=n_distinct)
    document_frequency = np.bincount(nnz_columns, weights=multiplicity[nnz_rows], minlength=n_terms).astype(np.int64)
    document_lengths = distinct_lengths[distinct_index]
    avgdl = int(document_lengths.sum()) / n_documents

    # rank_bm25: idf = log(N - df + 0.5) - log(df + 0.5) with math.log (evaluated once per
    # distinct df), average over the vocabulary summed in insertion order (cumsum is
    # sequential), negative idf replaced by epsilon * average idf.
    distinct_df, df_inverse = np.unique(document_frequency, return_inverse=True)
    raw_idf = np.array(
        [math.log(n_documents - df + 0.5) - math.log(df + 0.5) for df in distinct_df.tolist()],
        dtype=np.float64,
    )[df_inverse]
    average_idf = float(np.cumsum(raw_idf)[-1]) / n_terms if n_terms else 0.0
    idf = np.where(raw_idf < 0, params.epsilon * average_idf, raw_idf)

    # Same operations, in the same order, as rank_bm25.get_scores for one (document, term).
    k1, b = params.k1, params.b
    # (avgdl == 0 only when every document is empty: then there are no weights to compute.)
    length_norm = k1 * (1 - b + b * distinct_lengths / avgdl) if avgdl > 0 else np.zeros(n_distinct)
    weight_data = idf[nnz_columns] * (tf * (k1 + 1) / (tf + length_norm[nnz_rows]))
    weights = sp.csc_array((weight_data, term_counts.indices, term_counts.indptr), shape=(n_distinct, n_terms))
    for array in (weights.data, weights.indices, weights.indptr):
        _read_only(array)

    return BM25Index(
        params=params,
        vocabulary=MappingProxyType(vocabulary),
        idf=_read_only(idf),
        average_idf=average_idf,
        avgdl=avgdl,
        document_lengths=_read_only(document_lengths),
        distinct_index=_read_only(distinct_index),
        weights=weights,
        _distinct_tokens=distinct_tokens,
    )


def build_bm25_index_from_tokens(documents: Sequence[Sequence[str]], *, params: BM25Params = BM25Params()) -> BM25Index:
    """Index already tokenized documents; identical token sequences share one weight row."""
    keys = [tuple(tokens) for tokens in documents]
    first, distinct_index = _deduplicate(keys)
    return _build(tuple(keys[i] for i in first), distinct_index, params)


def build_bm25_index(
    texts: Sequence[str],
    *,
    params: BM25Params = BM25Params(),
    tokenize: Callable[[str], Sequence[str]] = default_tokenize,
) -> BM25Index:
    """Tokenize ``texts`` (each distinct text once) and index them.

    ``index.score([tokenize(q) for q in queries])`` then equals
    ``BM25Okapi([tokenize(t) for t in texts], k1, b, epsilon).get_scores(tokenize(q))`` per query.
    """
    first_text, text_row = _deduplicate(texts)
    token_keys = [tuple(tokenize(texts[i])) for i in first_text]
    first_tokens, token_row = _deduplicate(token_keys)
    distinct_index = token_row[text_row]
    return _build(tuple(token_keys[i] for i in first_tokens), distinct_index, params)
