"""The Label audit page, run headless by Streamlit's AppTest: the demo, and a demo with swapped positives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from page_util import run_page
from streamlit.testing.v1 import AppTest

from nanomlqa_viz.sources import DEMO_PATH

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "pages" / "4_Label_audit.py"
TRUTH = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))
QRELS = "qrels/mlqa-00000-of-00001.parquet"


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", "demo")
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def flagged_frame(at: AppTest):
    """The flagged-queries table (the one with a confidence column), or None when the list is empty."""
    frames = [f.value for f in at.dataframe if "confidence" in f.value.columns]
    return frames[0] if frames else None


def plain(text: str) -> str:
    return text.replace("\\", "")  # shown text is markdown-escaped


def markdown_text(at: AppTest) -> str:
    return "\n".join(plain(m.value) for m in at.markdown)


def test_audit_page_renders_table_or_empty_message(demo_env):
    at = run_page(AUDIT)
    assert at.title[0].value == "Label audit"
    assert not at.error
    frame = flagged_frame(at)
    if frame is None:
        assert any("No query is flagged" in i.value for i in at.info)
    else:
        assert {"query_id", "pair", "confidence", "agreement", "best_relevant_rank", "dense_margin"} <= set(frame.columns)
        assert any(c.startswith("best_rank_") for c in frame.columns)
        assert any(f"{len(frame)} flagged of 50 queries" in plain(m.value) for m in at.markdown)
    assert any("flagged of 50 queries" in plain(c.value) for c in at.caption)
    assert [e for e in at.expander if e.label == "How the audit flags a query"]
    if frame is not None and len(frame):
        qid = frame["query_id"].iloc[0]
        at = run_page(AUDIT, query=qid)
        text = markdown_text(at)
        assert "Dataset's positive" in text and "Agreed best candidate" in text


def test_unknown_query_in_the_url_warns(demo_env):
    at = run_page(AUDIT, query="no-such-query<b>")
    assert not at.exception
    assert any("is not in" in w.value for w in at.warning)


def _swapped_folder(root: Path, n: int = 2) -> tuple[Path, dict[str, str]]:
    """The demo in the hub layout, with the first ``n`` positives swapped for passages of other articles."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "swapped"
    shutil.copytree(DEMO_PATH, folder, ignore=shutil.ignore_patterns("seed_cache"))
    table = pq.read_table(folder / QRELS)
    frame = table.to_pandas()
    passages = TRUTH["passages"]
    swapped: dict[str, str] = {}
    for i in range(n):
        positive = frame.loc[i, "corpus-id"]
        other = next(
            d
            for d, p in sorted(passages.items())
            if p["topic"] != passages[positive]["topic"] and p["lang"] == passages[positive]["lang"] and p["copy_of"] is None
        )
        swapped[frame.loc[i, "query-id"]] = other
        frame.loc[i, "corpus-id"] = other
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), folder / QRELS)
    return folder, swapped


def test_swapped_positives_are_listed(monkeypatch, tmp_path):
    folder, swapped = _swapped_folder(tmp_path)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", str(folder))
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))
    # app_common keys the query table and the analysis by a fingerprint of ids and texts only, and
    # this folder differs from the demo in its qrels alone: start from empty Streamlit caches
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = run_page(AUDIT)
        assert not at.error
        frame = flagged_frame(at)
        assert frame is not None, [i.value for i in at.info]
        assert set(swapped) <= set(frame["query_id"]), frame[["query_id", "confidence"]]
        qid, wrong = next(iter(swapped.items()))
        assert frame.set_index("query_id").loc[qid, "positive_id"] == wrong
        # opening one shows the question, both passages and the relation of the candidate
        at = run_page(AUDIT, query=qid)
        text = markdown_text(at)
        assert "Dataset's positive" in text and "Agreed best candidate" in text
        assert wrong in text and frame.set_index("query_id").loc[qid, "candidate_id"] in text
        assert any(label in text for label in ("other", "same topic"))
        assert at.selectbox(key="audit_query").value == qid
        assert not at.warning
        # within the multipage app, the open query links to the query explorer
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("pages/4_Label_audit.py")
        at.query_params["query"] = qid
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        links = [el.proto for el in at.get("page_link")]
        assert links and links[0].page == "Query_explorer"
        assert f"query={qid}" in links[0].query_string
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_without_dense_the_list_uses_copies_only(demo_env, monkeypatch):
    """A dense model that cannot load: BM25 alone, translations unknown, the page still lists and opens queries."""
    monkeypatch.setenv("NANOMLQA_DENSE_MODEL", str(demo_env / "no-such-model"))
    at = run_page(AUDIT)
    assert any("Dense profile unavailable" in e.value for e in at.error)
    assert any("translations are not known yet" in i.value for i in at.info)
    frame = flagged_frame(at)
    assert frame is not None and len(frame) > 0  # BM25 alone misses every cross-script positive of the demo
    assert "best_rank_dense" not in frame.columns and frame["dense_margin"].isna().all()
    at = run_page(AUDIT, query=frame["query_id"].iloc[0])
    text = markdown_text(at)
    assert "Dataset's positive" in text and "relation unknown" in text
