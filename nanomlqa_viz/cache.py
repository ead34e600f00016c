"""The on-disk cache under ``data_cache/``: fingerprints, atomic writes, validated reads.

Every cached array is one ``.npz`` file holding the arrays plus a ``meta`` JSON string with
the cache format version and the key it was computed for. A file that cannot be opened, was
written by another format version or for another key is reported as a miss (and later
overwritten), never used. Writes go to a temporary file in the same folder and are renamed
into place, so an interrupted run leaves no half file. When the folder cannot be written
(read-only, disk full) the cache turns itself off and says so; results stay in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1


def fingerprint(parts: Iterable[str]) -> str:
    """A stable 16-hex-digit digest of a sequence of strings (order matters)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:16]


def slug(text: str) -> str:
    """A file-name-safe form of a model id or config name."""
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return keep.strip("._")[:80] or "x"


@dataclass
class ArrayCache:
    """Validated, atomic ``.npz`` storage under one folder. ``disabled_reason`` says why it is off."""

    root: Path
    seeds: tuple[Path, ...] = ()  # read-only folders consulted on a miss (the demo ships one)
    disabled_reason: str | None = None
    _checked: bool = field(default=False, repr=False)

    @property
    def enabled(self) -> bool:
        self._check_writable()
        return self.disabled_reason is None

    def _check_writable(self) -> None:
        if self._checked:
            return
        self._checked = True
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            self.disabled_reason = f"caching is off: {self.root} is not writable ({exc.strerror or exc})"
            log.warning(self.disabled_reason)

    def path(self, name: str) -> Path:
        return self.root / f"{name}.npz"

    def load(self, name: str, *, key: Mapping[str, object]) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``name`` for exactly ``key`` (here or in a seed), else ``None``."""
        for root in (self.root, *self.seeds):
            found = self._load(root / f"{name}.npz", key=key)
            if found is not None:
                return found
        return None

    def _load(self, path: Path, *, key: Mapping[str, object]) -> dict[str, np.ndarray] | None:
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("version") != CACHE_FORMAT_VERSION or meta.get("key") != _jsonable(key):
                    log.info("cache %s is for another version or input; rebuilding", path)
                    return None
                return {k: data[k] for k in data.files if k != "meta"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            log.warning("cache %s is unreadable (%s); rebuilding", path, exc)
            return None

    def save(self, name: str, *, key: Mapping[str, object], arrays: Mapping[str, np.ndarray]) -> bool:
        """Store atomically; returns False (and turns caching off) when the folder cannot be written."""
        if not self.enabled:
            return False
        path = self.path(name)
        meta = json.dumps({"version": CACHE_FORMAT_VERSION, "key": _jsonable(key)}, sort_keys=True)
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=np.array(meta), **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
            return True
        except OSError as exc:
            self.disabled_reason = f"caching is off: cannot write {path} ({exc.strerror or exc})"
            log.warning(self.disabled_reason)
            return False
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold an exclusive lock for computing ``name`` so two processes compute it once."""
        if not self.enabled:
            yield
            return
        target = self.root / name
        lock_path = target.with_name(f".{target.name}.lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(lock_path, "a+b")  # noqa: SIM115 - closed below
        except OSError:
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()


def _jsonable(key: Mapping[str, object]) -> dict[str, object]:
    return json.loads(json.dumps(dict(key), sort_keys=True, default=str))
