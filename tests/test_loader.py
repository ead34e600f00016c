"""Loading: the three kinds of source, what a task holds, and every bad-input case of issue 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import tiny_configs, write_hub_folder

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.sources import hub_mirror_dir


def test_local_folder_loads_immutable_task(tiny_folder, tmp_path):
    task = load_task(source=str(tiny_folder), cache_dir=tmp_path / "cache")
    assert task.n_docs == 6 and task.n_queries == 3 and task.n_qrels == 3
    assert task.distinct_doc_texts == 5
    assert task.qrels["q1"] == frozenset({"d3"})
    assert list(task.candidates) == ["bm25"]
    bm25 = task.candidates["bm25"]
    assert bm25.depth == 3
    # q3's 4th entry is its positive appended after the last real rank: injected, not a rank.
    assert dict(bm25.injected) == {"q3": "d6"}
    assert bm25.lists["q3"] == ("d1", "d2", "d4")
    # q1's positive sits at real rank 3 of a depth-3 list: kept.
    assert bm25.lists["q1"] == ("d1", "d2", "d3")
    with pytest.raises(TypeError):
        task.candidates["x"] = bm25  # type: ignore[index]
    with pytest.raises(AttributeError):
        task.doc_ids = ()  # type: ignore[misc]
    assert not (tmp_path / "cache").exists(), "a local source writes nothing to the cache"


def test_replica_loads_with_discovered_configs(replica_task):
    task = replica_task
    assert (task.n_queries, task.n_docs, task.n_qrels, task.distinct_doc_texts) == (196, 10000, 196, 3373)
    assert list(task.candidates) == ["bm25", "multilingual_e5_small_q4", "reranking_hybrid"]
    hybrid = task.candidates["reranking_hybrid"]
    # candidates.json: 142 rows got the positive appended as entry 101.
    assert hybrid.depth == 100 and len(hybrid.injected) == 142
    assert all(len(v) == 100 for v in hybrid.lists.values())
    assert task.candidates["bm25"].depth == 500 and not task.candidates["bm25"].injected


def test_demo_loads(tmp_path):
    task = load_task(source="demo", cache_dir=tmp_path)
    assert task.source_kind == "demo" and task.n_queries >= 40 and task.n_docs >= 300
    assert {"bm25", "reranking_hybrid"} <= set(task.candidates)
    assert task.candidates["reranking_hybrid"].injected


def test_hub_unreachable_falls_back_to_demo_at_once(tmp_path):
    import time

    start = time.monotonic()
    task = load_task(source="hakari-bench/NanoMMTEB-v2", cache_dir=tmp_path)
    assert time.monotonic() - start < 10
    assert task.source_kind == "demo"
    assert task.notice and "cannot be reached" in task.notice and "demo" in task.notice


def test_hub_mirror_is_read_offline(tiny_folder, tmp_path):
    """A hub split mirrored under data_cache/hub/ loads by the hub id without the network."""
    import shutil

    mirror = hub_mirror_dir(tmp_path, "hakari-bench/NanoMMTEB-v2", "mlqa")
    shutil.copytree(tiny_folder, mirror)
    task = load_task(source="hakari-bench/NanoMMTEB-v2", cache_dir=tmp_path)
    assert task.source_kind == "hub-mirror" and task.n_docs == 6 and task.notice is None


def test_hub_mirror_written_after_a_hub_load(tiny_folder, tmp_path, monkeypatch):
    """The hub path (reachable) validates, then mirrors the split; the mirror then loads offline."""
    import nanomlqa_viz.loader as loader

    monkeypatch.setattr(loader, "hub_reachable", lambda: True)
    monkeypatch.setattr(loader, "source_kind", lambda s: "hub")
    real = loader._read_source

    def from_folder(src, **kw):  # the hub id resolved to a local folder in the same layout
        return real(str(tiny_folder) if src == "owner/name" else src, **kw)

    monkeypatch.setattr(loader, "_read_source", from_folder)
    first = load_task(source="owner/name", cache_dir=tmp_path)
    mirror = hub_mirror_dir(tmp_path, "owner/name", "mlqa")
    assert (mirror / "README.md").is_file() and (mirror / "corpus" / "mlqa-00000-of-00001.parquet").is_file()
    second = load_task(source="owner/name", cache_dir=tmp_path)
    assert second.source_kind == "hub-mirror"
    assert second.doc_texts == first.doc_texts and dict(second.qrels) == dict(first.qrels)


def test_integer_ids_are_read_as_strings(tmp_path):
    cfg = tiny_configs()
    cfg["corpus"]["_id"] = list(range(1, 7))
    cfg["qrels"]["corpus-id"] = [3, 5, 6]
    cfg["bm25"]["corpus-ids"] = [[1, 2, 3], [5, 4, 1], [1, 2, 4, 6]]
    task = load_task(source=str(write_hub_folder(tmp_path / "ints", cfg)), cache_dir=tmp_path / "c")
    assert task.doc_ids[0] == "1" and task.qrels["q1"] == frozenset({"3"})


def test_query_without_positive_warns_and_scores_zero(tmp_path):
    cfg = tiny_configs()
    cfg["qrels"] = {"query-id": ["q1", "q2"], "corpus-id": ["d3", "d5"]}
    task = load_task(source=str(write_hub_folder(tmp_path / "nopos", cfg)), cache_dir=tmp_path / "c")
    assert any("1 of 3 queries have no positive" in w for w in task.warnings)
    assert task.positives("q3") == frozenset()


def test_graded_qrels_are_binary(tmp_path):
    cfg = tiny_configs()
    cfg["qrels"] = {"query-id": ["q1", "q1", "q2", "q3"], "corpus-id": ["d3", "d1", "d5", "d6"], "score": [2, 0, 1, 1]}
    task = load_task(source=str(write_hub_folder(tmp_path / "graded", cfg)), cache_dir=tmp_path / "c")
    assert task.qrels["q1"] == frozenset({"d3"})


def _broken(tmp_path: Path, mutate) -> Path:
    cfg = tiny_configs()
    mutate(cfg)
    return write_hub_folder(tmp_path / "broken", cfg)


BAD_CASES = {
    "missing config": (lambda c: c.pop("qrels"), "missing config 'qrels'"),
    "missing column": (lambda c: c["corpus"].pop("text"), "missing column 'text'"),
    "empty corpus": (lambda c: c.update(corpus={"_id": pa.array([], pa.string()), "text": pa.array([], pa.string())}), "no rows"),
    "duplicate corpus ids": (lambda c: c["corpus"]["_id"].__setitem__(1, "d1"), "duplicate _id 'd1'"),
    "duplicate query ids": (lambda c: c["queries"]["_id"].__setitem__(1, "q1"), "duplicate _id 'q1'"),
    "qrels corpus id unknown": (
        lambda c: c["qrels"]["corpus-id"].__setitem__(0, "nope"),
        "corpus-id 'nope' is not in the corpus",
    ),
    "qrels query id unknown": (lambda c: c["qrels"]["query-id"].__setitem__(0, "qX"), "query-id 'qX' is not in the queries"),
    "candidate id unknown": (lambda c: c["bm25"]["corpus-ids"].__setitem__(0, ["d1", "ghost"]), "corpus id 'ghost'"),
    "candidate query unknown": (lambda c: c["bm25"]["query-id"].__setitem__(0, "q9"), "query-id 'q9' is not in the queries"),
    "candidate duplicates": (lambda c: c["bm25"]["corpus-ids"].__setitem__(1, ["d5", "d5"]), "repeats corpus id 'd5'"),
    "empty text": (lambda c: c["corpus"]["text"].__setitem__(2, "   "), "empty or missing (NaN) text"),
    "null text": (lambda c: c["queries"]["text"].__setitem__(1, None), "empty or missing (NaN) text"),
    "text wrong type": (lambda c: c["corpus"].__setitem__("text", [1, 2, 3, 4, 5, 6]), "must hold strings"),
    "ids wrong type": (lambda c: c["corpus"].__setitem__("_id", [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]), "string or integer ids"),
    "candidate ids not lists": (lambda c: c["bm25"].__setitem__("corpus-ids", ["d1", "d2", "d3"]), "lists of ids"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_clear_line(case, tmp_path):
    mutate, expected = BAD_CASES[case]
    folder = _broken(tmp_path, mutate)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as err:
        load_task(source=str(folder), cache_dir=cache)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message
    assert str(folder) in message, "the message names the file"
    assert not cache.exists(), "nothing is written to the cache"


def test_not_parquet_is_named(tmp_path):
    folder = write_hub_folder(tmp_path / "np", tiny_configs())
    (folder / "qrels" / "mlqa-00000-of-00001.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(DatasetError) as err:
        load_task(source=str(folder), cache_dir=tmp_path / "c")
    assert "qrels" in str(err.value) and "cannot be read" in str(err.value)


def test_folder_without_dataset(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError) as err:
        load_task(source=str(tmp_path / "empty"), cache_dir=tmp_path / "c")
    assert "no dataset found" in str(err.value)


def test_unknown_split(tiny_folder, tmp_path):
    with pytest.raises(DatasetError) as err:
        load_task(source=str(tiny_folder), split="xnli", cache_dir=tmp_path / "c")
    assert "split 'xnli' not found" in str(err.value)


def test_cli_bad_source_exits_2_without_traceback(tmp_path):
    folder = _broken(tmp_path, lambda c: c["corpus"].pop("text"))
    cache = tmp_path / "cache"
    proc = subprocess.run(
        [sys.executable, "-m", "nanomlqa_viz", "report", "--dataset", str(folder), "--cache-dir", str(cache), "--json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "missing column 'text'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not cache.exists()


def test_pq_roundtrip_helper_is_hub_layout(tiny_folder):
    assert pq.read_table(tiny_folder / "corpus" / "mlqa-00000-of-00001.parquet").num_rows == 6
