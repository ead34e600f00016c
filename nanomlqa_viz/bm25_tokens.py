"""What BM25 reasons read from the BM25 index (each token's idf, a passage's tokens), without building the index.

Building the index tokenizes every passage and fills its weight matrix: seconds per 100,000
passages. A BM25 reason (:func:`nanomlqa_viz.cross_script.bm25_reasons`) needs the idf of the
few tokens a query shares with two passages, and those passages' tokens. :class:`TokenIdf`
holds the vocabulary's idf — the index's own values — and tokenizes a passage when asked.

:func:`token_idf` takes it from the index when this process has built it, else reads it from the
cache (:func:`save_token_idf` writes it whenever the BM25 profile is computed), else builds the
index once and caches its idf.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from nanomlqa_viz.bm25 import BM25Index, BM25Params
from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.tokenizer import TOKENIZER_VERSION, tokenize

if TYPE_CHECKING:
    from nanomlqa_viz.profiles import ProfileContext

__all__ = ["TokenIdf", "load_token_idf", "save_token_idf", "token_idf"]

_SEPARATOR = "\n"  # tokens are runs of letters, marks and numbers: never a line break


@dataclass(frozen=True, eq=False)
class TokenIdf:
    """A corpus's BM25 idf per token and its passages' tokens, as :class:`~nanomlqa_viz.bm25.BM25Index` gives them."""

    vocabulary: Mapping[str, int]
    """Token -> position in ``idf``."""
    idf: np.ndarray
    """(n_terms,) float64: the index's (floored) idf."""
    texts: Sequence[str]
    """The passages (document ``i`` is ``texts[i]``)."""

    @classmethod
    def of_index(cls, index: BM25Index, texts: Sequence[str]) -> TokenIdf:
        return cls(vocabulary=index.vocabulary, idf=index.idf, texts=texts)

    def token_idf(self, token: str) -> float:
        """The (floored) idf of ``token``; 0.0 for a token not in the corpus (as the index)."""
        column = self.vocabulary.get(token)
        return 0.0 if column is None else float(self.idf[column])

    def document_tokens(self, i: int) -> list[str]:
        """The tokens of document ``i`` in order (as the index stores them)."""
        return list(tokenize(self.texts[int(i)]))


def _name(task_fingerprint: str) -> str:
    return f"bm25_idf/{task_fingerprint}"


def _key(task_fingerprint: str, params: BM25Params) -> dict[str, object]:
    return {"task": task_fingerprint, "tokenizer": TOKENIZER_VERSION, "k1": params.k1, "b": params.b, "epsilon": params.epsilon}


def save_token_idf(cache: ArrayCache, task_fingerprint: str, index: BM25Index) -> bool:
    """Cache ``index``'s vocabulary and idf for the task with this fingerprint; False when not written."""
    tokens = list(index.vocabulary)
    if any(_SEPARATOR in t for t in tokens):
        return False
    arrays = {
        "tokens": np.frombuffer(_SEPARATOR.join(tokens).encode("utf-8", "surrogatepass"), dtype=np.uint8),
        "count": np.array(len(tokens), dtype=np.int64),
        "idf": np.asarray(index.idf, dtype=np.float64),
    }
    return cache.save(_name(task_fingerprint), key=_key(task_fingerprint, index.params), arrays=arrays)


def load_token_idf(
    cache: ArrayCache, task_fingerprint: str, texts: Sequence[str], *, params: BM25Params = BM25Params()
) -> TokenIdf | None:
    """The cached :class:`TokenIdf` of the task with this fingerprint and ``texts``, else ``None``."""
    found = cache.load(_name(task_fingerprint), key=_key(task_fingerprint, params))
    if found is None or {"tokens", "count", "idf"} - found.keys():
        return None
    count, idf = int(found["count"]), found["idf"]
    tokens = found["tokens"].tobytes().decode("utf-8", "surrogatepass").split(_SEPARATOR) if count else []
    if len(tokens) != count or idf.shape != (count,):
        return None
    return TokenIdf(vocabulary=MappingProxyType(dict(zip(tokens, range(count)))), idf=idf, texts=texts)


_READ: weakref.WeakKeyDictionary[ProfileContext, TokenIdf] = weakref.WeakKeyDictionary()
_READ_LOCK = threading.Lock()


def token_idf(ctx: ProfileContext) -> TokenIdf:
    """The task's :class:`TokenIdf` for the default BM25 parameters (see the module docstring); read once per context."""
    texts = ctx.task.doc_texts
    if "bm25_index" in vars(ctx):  # built in this process
        return TokenIdf.of_index(ctx.bm25_index, texts)
    with _READ_LOCK:
        found = _READ.get(ctx)
        if found is None:
            found = load_token_idf(ctx.cache, ctx.fingerprint, texts)
            if found is None:
                save_token_idf(ctx.cache, ctx.fingerprint, ctx.bm25_index)
                found = TokenIdf.of_index(ctx.bm25_index, texts)
            _READ[ctx] = found
    return found
