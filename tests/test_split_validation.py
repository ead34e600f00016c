"""A split is a name, never a path: refused before any path is built or any loader runs.

Issue: ``?dataset=hakari-bench/NanoMMTEB-v2&split=/some/folder`` opened that folder's README.md
and listed its configs; a 300-character split crashed with ``OSError: File name too long``.
A spy records every path the process stats, opens or lists while the loader runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import pytest
from conftest import tiny_configs, write_hub_folder

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.loader import declared_splits, load_task
from nanomlqa_viz.sources import HUB_ID, hub_mirror_dir, source_kind, validate_hub_id, validate_split

BAD_SPLITS = {
    "parent": "..",
    "traversal": "../x",
    "deep traversal": "a/../../b",
    "slash": "mlqa/x",
    "absolute": "/etc",
    "file url": "file:///etc",
    "windows drive": "C:\\x",
    "windows drive relative": "C:x",
    "backslash": "a\\b",
    "unc": "\\\\server\\share",
    "nul byte": "mlqa\x00",
    "300 characters": "s" * 300,
    "65 characters": "s" * 65,
    "cyrillic look-alike": "mlq\u0430",
    "full-width look-alike": "ｍｌｑａ",
    "empty": "",
    "whitespace": "   ",
    "padded": " mlqa ",
    "trailing newline": "mlqa\n",
    "tab": "\tmlqa",
    "hidden": ".mlqa",
    "trailing dot": "mlqa.",
    "double dot inside": "a..b",
    "home": "~",
    "home path": "~/x",
    "colon": "a:b",
    "percent-encoded traversal": "%2e%2e%2fx",
    "glob": "mlqa*",
    "option-like": "-mlqa",
    "dash (datasets refuses it)": "ar-en",
}
GOOD_SPLITS = ["mlqa", "test", "xquad", "ar_en", "v1.2", "_private", "MLQA_2", "s" * 64]


class FsSpy:
    """Paths the process stats, opens or lists (os.stat / os.lstat, and the audit events
    ``open``, ``os.listdir``, ``os.scandir``), recorded while ``active``."""

    def __init__(self) -> None:
        self.active = False
        self.paths: list[str] = []
        self.reads: list[str] = []  # opened or listed, not only stat-ed

    def record(self, path: object, *, read: bool = False) -> None:
        if self.active and isinstance(path, (str, bytes, os.PathLike)):
            self.paths.append(os.fsdecode(path))
            if read:
                self.reads.append(os.fsdecode(path))

    def under(self, folder: Path, *, reads_only: bool = False) -> list[str]:
        active, self.active = self.active, False  # resolving paths here stats them: not recorded
        try:
            root = os.path.realpath(folder)
            paths = list(self.reads if reads_only else self.paths)
            return [p for p in paths if os.path.realpath(p) == root or os.path.realpath(p).startswith(root + os.sep)]
        finally:
            self.active = active


_SPY = FsSpy()
_AUDITED = {"open", "os.listdir", "os.scandir"}


def _audit(event: str, args: tuple) -> None:
    if _SPY.active and event in _AUDITED and args:
        _SPY.record(args[0], read=True)


sys.addaudithook(_audit)  # a hook cannot be removed: it records only while a test's spy is active


@pytest.fixture
def spy(monkeypatch):
    real_stat, real_lstat = os.stat, os.lstat

    def stat(path, *args, **kwargs):
        _SPY.record(path)
        return real_stat(path, *args, **kwargs)

    def lstat(path, *args, **kwargs):
        _SPY.record(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", lstat)
    _SPY.paths, _SPY.reads = [], []
    _SPY.active = True
    try:
        yield _SPY
    finally:
        _SPY.active = False


@pytest.fixture
def no_datasets(monkeypatch):
    """Fail the test if the ``datasets`` library is asked to read anything."""
    import datasets

    def refuse(*args, **kwargs):
        raise AssertionError(f"datasets was called with {args!r}")

    monkeypatch.setattr(datasets, "load_dataset", refuse)
    monkeypatch.setattr(datasets, "get_dataset_config_names", refuse)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A valid hub-layout folder outside every source, with a config name no message may show."""
    configs = tiny_configs()
    configs["secret_outside_config"] = configs["bm25"]
    return write_hub_folder(tmp_path / "outside", configs)


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "\r" not in message and len(message) < 400, message
    return message


# --------------------------------------------------------------------------- the name itself


@pytest.mark.parametrize("name", sorted(BAD_SPLITS))
def test_validate_split_refuses(name):
    with pytest.raises(DatasetError) as err:
        validate_split(BAD_SPLITS[name])
    assert "is not a split name" in _one_line(err)


@pytest.mark.parametrize("value", GOOD_SPLITS)
def test_validate_split_accepts_split_names(value):
    assert validate_split(value) == value


def test_refusal_shows_the_value_escaped():
    with pytest.raises(DatasetError) as err:
        validate_split("mlq\u0430")
    assert "'mlq\\u0430'" in str(err.value), "a look-alike letter is shown as its code point"
    with pytest.raises(DatasetError) as err:
        validate_split("x" * 300)
    assert "…" in _one_line(err)


# --------------------------------------------------------------------------- the loader


def _sources(tmp_path: Path, tiny_folder: Path) -> dict[str, str]:
    mirror = hub_mirror_dir(tmp_path / "cache", HUB_ID, "mlqa")
    mirror.parent.mkdir(parents=True)
    write_hub_folder(mirror, tiny_configs())
    return {"demo": "demo", "local": str(tiny_folder), "hub": HUB_ID}


@pytest.mark.parametrize("name", sorted(BAD_SPLITS))
def test_loader_refuses_before_touching_the_filesystem(name, tmp_path, tiny_folder, spy, no_datasets):
    spy.active = False
    sources = _sources(tmp_path, tiny_folder)
    for kind, source in sources.items():
        spy.paths, spy.active = [], True
        with pytest.raises(DatasetError) as err:
            load_task(source=source, split=BAD_SPLITS[name], cache_dir=tmp_path / "cache")
        spy.active = False
        assert "is not a split name" in _one_line(err), kind
        assert spy.paths == [], f"{kind}: touched {spy.paths[:3]}"


@pytest.mark.parametrize("kind", ["hub", "local", "demo"])
def test_an_absolute_folder_as_split_is_never_read(kind, tmp_path, tiny_folder, outside, spy, no_datasets):
    """The issue's case: a folder with a README and configs, passed as the split."""
    source = {"hub": HUB_ID, "local": str(tiny_folder), "demo": "demo"}[kind]
    for split in (str(outside), str(outside / "README.md"), f"file://{outside}", os.path.relpath(outside, Path.cwd())):
        with pytest.raises(DatasetError) as err:
            load_task(source=source, split=split, cache_dir=tmp_path / "cache")
        assert "secret_outside_config" not in _one_line(err)
    assert spy.under(outside) == []
    assert not (tmp_path / "cache").exists()


def test_a_split_the_folder_does_not_declare(tiny_folder, tmp_path, no_datasets):
    with pytest.raises(DatasetError) as err:
        load_task(source=str(tiny_folder), split="xquad", cache_dir=tmp_path / "c")
    message = _one_line(err)
    assert message.startswith(str(tiny_folder / "README.md") + ":")
    assert "split 'xquad' not found — it is not one the source declares (declared: mlqa)" in message


def test_the_demo_and_a_mirror_declare_their_splits_too(tmp_path, no_datasets):
    with pytest.raises(DatasetError) as err:
        load_task(source="demo", split="xquad", cache_dir=tmp_path)
    assert _one_line(err).startswith("demo/README.md:") and "(declared: mlqa)" in str(err.value)
    mirror = hub_mirror_dir(tmp_path, HUB_ID, "test")
    write_hub_folder(mirror, tiny_configs(), split="mlqa")  # a mirror folder whose README says mlqa
    with pytest.raises(DatasetError) as err:
        load_task(source=HUB_ID, split="test", cache_dir=tmp_path)
    assert str(mirror / "README.md") in _one_line(err) and "(declared: mlqa)" in str(err.value)


def test_a_folder_with_several_splits_loads_each(tmp_path):
    folder = write_hub_folder(tmp_path / "two", tiny_configs(), split="mlqa")
    readme = folder / "README.md"
    write_hub_folder(tmp_path / "other", tiny_configs(), split="test")
    for config in tiny_configs():
        (folder / config / "test-00000-of-00001.parquet").write_bytes(
            (tmp_path / "other" / config / "test-00000-of-00001.parquet").read_bytes()
        )
    text = readme.read_text(encoding="utf-8")
    for config in tiny_configs():
        old = f"  - split: mlqa\n    path: {config}/mlqa-00000-of-00001.parquet"
        text = text.replace(old, old + f"\n  - split: test\n    path: {config}/test-00000-of-00001.parquet")
    readme.write_text(text, encoding="utf-8")
    assert declared_splits(str(folder)) == ("mlqa", "test")
    assert load_task(source=str(folder), split="test", cache_dir=tmp_path / "c").split == "test"


@pytest.mark.parametrize(
    "path", ["../outside/corpus/mlqa-00000-of-00001.parquet", "/etc/passwd", "hf://datasets/o/n/x.parquet", "C:\\x.parquet"]
)
def test_readme_data_files_outside_the_folder_are_refused(path, tmp_path, outside, spy, no_datasets):
    spy.active = False
    folder = write_hub_folder(tmp_path / "src", tiny_configs())
    readme = folder / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("corpus/mlqa-00000-of-00001.parquet", path), encoding="utf-8")
    spy.active = True
    with pytest.raises(DatasetError) as err:
        load_task(source=str(folder), cache_dir=tmp_path / "c")
    assert _one_line(err).startswith(f"{readme}: config 'corpus' names data file") and "not inside the folder" in str(err.value)
    assert spy.under(outside) == []


def test_cli_refuses_a_path_as_split(tmp_path, capsys):
    from nanomlqa_viz.cli import main

    assert main(["report", "--dataset", "demo", "--split", "../../etc", "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: demo: split '../../etc' is not a split name") and "\n" not in err


# --------------------------------------------------------------------------- declared splits


def test_declared_splits(tmp_path, tiny_folder):
    assert declared_splits("demo") == ("mlqa",)
    assert declared_splits(str(tiny_folder)) == ("mlqa",)
    assert declared_splits(HUB_ID) == (), "the hub is not asked"
    cache = tmp_path / "cache"
    for split in ("mlqa", "xquad"):
        write_hub_folder(hub_mirror_dir(cache, HUB_ID, split), tiny_configs(), split=split)
    (cache / "hub" / "hakari-bench__NanoMMTEB-v2" / "half-written").mkdir()  # no README: not a mirror
    assert declared_splits(HUB_ID, cache_dir=cache) == ("mlqa", "xquad")
    assert declared_splits("owner/..", cache_dir=cache) == ()


def test_declared_splits_of_a_folder_without_readme_are_its_parquet_names(tmp_path):
    folder = write_hub_folder(tmp_path / "f", tiny_configs(), split="xquad")
    (folder / "README.md").unlink()
    (folder / "corpus" / "not a split-00000-of-00001.parquet").write_bytes(b"")
    assert declared_splits(str(folder)) == ("xquad",)


def test_declared_splits_drop_names_that_are_not_split_names(tmp_path):
    folder = write_hub_folder(tmp_path / "f", tiny_configs())
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8").replace("- split: mlqa\n    path: qrels", "- split: ../x\n    path: qrels", 1)
    readme.write_text(text, encoding="utf-8")
    assert "split: ../x" in readme.read_text(encoding="utf-8")
    assert declared_splits(str(folder)) == ("mlqa",)


# --------------------------------------------------------------------------- hub ids and mirrors

BAD_HUB_IDS = [
    "owner/..",
    "../x",
    "owner/.",
    "a/b/c",
    "owner",
    "/abs/x",
    "owner/na me",
    "own\x00er/x",
    "o--x/y",
    "C:\\x/y",
    "x" * 300,
]


@pytest.mark.parametrize("source", BAD_HUB_IDS)
def test_bad_hub_ids_are_refused(source, tmp_path, no_datasets, monkeypatch):
    here = tmp_path / "a" / "b"  # relative ids resolve in a fresh folder: "../x" is no folder whatever the cwd
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    assert source_kind(source) == "hub", "never an exception while probing for a folder"
    with pytest.raises(DatasetError) as err:
        validate_hub_id(source)
    assert "not a hub dataset id" in _one_line(err)
    with pytest.raises(DatasetError) as err:
        load_task(source=source, cache_dir=tmp_path / "c")
    assert "not a hub dataset id" in _one_line(err)
    with pytest.raises(DatasetError):
        hub_mirror_dir(tmp_path, source, "mlqa")
    assert not (tmp_path / "c").exists()


def test_hub_mirror_dir_is_built_from_validated_parts(tmp_path):
    assert hub_mirror_dir(tmp_path, "owner/name.v2", "mlqa") == tmp_path / "hub" / "owner__name.v2" / "mlqa"
    assert validate_hub_id(HUB_ID) == ("hakari-bench", "NanoMMTEB-v2")
    for split in ("../x", "/abs", "s" * 300):
        with pytest.raises(DatasetError):
            hub_mirror_dir(tmp_path, HUB_ID, split)


def test_a_mirror_symlinked_outside_the_cache_is_refused(tmp_path, outside, spy, no_datasets):
    spy.active = False
    cache = tmp_path / "cache"
    (cache / "hub").mkdir(parents=True)
    (cache / "hub" / "hakari-bench__NanoMMTEB-v2").symlink_to(outside.parent, target_is_directory=True)
    (outside.parent / "mlqa").symlink_to(outside, target_is_directory=True)
    spy.active = True
    with pytest.raises(DatasetError) as err:
        load_task(source=HUB_ID, cache_dir=cache)
    spy.active = False
    assert "does not stay inside" in _one_line(err) and "secret_outside_config" not in str(err.value)
    assert spy.under(outside, reads_only=True) == [], "the symlink target may be resolved, never opened or listed"


def test_the_written_mirror_names_its_source(tiny_folder, tmp_path, monkeypatch):
    import nanomlqa_viz.loader as loader

    monkeypatch.setattr(loader, "hub_reachable", lambda: True)
    monkeypatch.setattr(loader, "source_kind", lambda s: "hub")
    real = loader._read_source
    monkeypatch.setattr(loader, "_read_source", lambda src, **kw: real(str(tiny_folder) if src == "owner/name" else src, **kw))
    with contextlib.redirect_stderr(io.StringIO()):
        load_task(source="owner/name", cache_dir=tmp_path)
    readme = (hub_mirror_dir(tmp_path, "owner/name", "mlqa") / "README.md").read_text(encoding="utf-8")
    assert "Mirror of owner/name split mlqa" in readme
