"""BM25 failure reasons on hand-built cases, and on the demo."""

from __future__ import annotations

import pytest
from conftest import write_hub_folder

from nanomlqa_viz.bm25 import build_bm25_index
from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.cross_script import (
    DISTRACTOR_SHARES_MORE,
    FAILURE_REASONS,
    FOUND,
    FOUND_OTHER_VERSION,
    NO_SHARED_SCRIPT,
    bm25_reasons,
)
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.profiles import ProfileContext, bm25_profile

DOCS = {
    "d1": "The Danube flows through Vienna and Budapest.",
    "d2": "Die Donau fließt durch Wien und Budapest.",
    "d3": "多瑙河流经维也纳和布达佩斯。",
    "d4": "Photosynthesis turns light into chemical energy in plants.",
    "d5": "Marie Curie was born in Warsaw.",
    "d6": "The Nobel prize in physics was awarded to Marie Curie in 1903 for research on radiation.",
}
QUERIES = {
    "q_found": ("Wo fließt die Donau durch?", "d2"),
    "q_version": ("Which cities does the Danube flow through?", "d2"),
    "q_script": ("光合作用是什么？", "d4"),
    "q_distractor": ("Who won the Nobel prize in physics in 1903?", "d5"),
}


@pytest.fixture
def reasons(tmp_path):
    folder = write_hub_folder(
        tmp_path / "ds",
        {
            "corpus": {"_id": list(DOCS), "text": list(DOCS.values())},
            "queries": {"_id": list(QUERIES), "text": [q for q, _ in QUERIES.values()]},
            "qrels": {"query-id": list(QUERIES), "corpus-id": [p for _, p in QUERIES.values()]},
        },
    )
    task = load_task(source=str(folder), cache_dir=tmp_path / "c")
    ctx = ProfileContext.of(task, ArrayCache(tmp_path / "c"))
    relevant = {"q_version": frozenset({"d2", "d1", "d3"}), "q_found": frozenset({"d2", "d1", "d3"})}
    frame = bm25_reasons(task, index=build_bm25_index(task.doc_texts), bm25=bm25_profile(ctx), relevant=relevant, k=1)
    return frame.set_index("query_id")


def test_reason_labels(reasons):
    assert reasons.loc["q_found", "reason"] == FOUND
    assert reasons.loc["q_version", "reason"] == FOUND_OTHER_VERSION, "the English version was found, not the German positive"
    assert reasons.loc["q_script", "reason"] == NO_SHARED_SCRIPT
    assert reasons.loc["q_distractor", "reason"] == DISTRACTOR_SHARES_MORE
    # the positive shares only a near-zero-IDF word; the distractor shares "nobel", "physics", "1903"
    assert reasons.loc["q_distractor", "shared_tokens"].startswith("in (")


def test_every_demo_query_gets_a_reason(tmp_path):
    task = load_task(source="demo", cache_dir=tmp_path)
    ctx = ProfileContext.of(task, ArrayCache(tmp_path))
    frame = bm25_reasons(task, index=build_bm25_index(task.doc_texts), bm25=bm25_profile(ctx))
    assert len(frame) == task.n_queries and set(frame["reason"]) <= set(FAILURE_REASONS)
    assert (frame["reason"] == FOUND).sum() == (frame["bm25_rank"] <= 10).sum()
