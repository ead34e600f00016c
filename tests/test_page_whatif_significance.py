"""The Hybrid what-if and Significance pages, run headless by Streamlit's AppTest on the demo.

A "fresh process" is a new AppTest after every Streamlit cache of this process is cleared, so a
number it shows cannot come from an earlier run. The numbers the pages must show are computed
here from a pipeline view of the same data and mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from page_util import by_label, run_page
from streamlit.testing.v1 import AppTest

from nanomlqa_viz.analysis import positive_doc_indices
from nanomlqa_viz.formatting import format_tie_range
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.significance import compare, fmt_p, language_pairs
from nanomlqa_viz.tie_metrics import tie_aware_metrics

WHATIF = "pages/5_Hybrid_what_if.py"
SIGNIFICANCE = "pages/6_Significance.py"
RUN = "my.run-1"


def url(at: AppTest, name: str) -> str | None:
    """A URL parameter after a run (AppTest keeps a str or a one-element list, depending on how it was set)."""
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def url_params(at: AppTest) -> dict[str, str]:
    return {name: url(at, name) for name in at.query_params}


def fresh(script: str, **params: str) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    return run_page(script, **params)


def cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def demo_view(cache_dir, mode: str, runs=()):
    from nanomlqa_viz.encoders import default_dense_model
    from nanomlqa_viz.pipeline import Pipeline

    return Pipeline(source="demo", split="mlqa", cache_dir=cache_dir).view(
        dense_models=[default_dense_model()], runs=runs, mode=mode
    )


def hybrid_value(view, metric: str = "hit@10") -> str:
    return format_tie_range(**view.tie_metrics()["hybrid"].summary()[metric])


def write_run(path, view, *, n_queries: int = 30, depth: int = 20):
    """A TREC run: BM25's top ``depth`` for the first ``n_queries`` queries of the demo."""
    task, bm25 = view.task, view.registry["bm25"].profile
    lines = [
        f"{qid} Q0 {task.doc_ids[doc]} {rank} {depth - rank + 1}.25 test"
        for qi, qid in enumerate(task.query_ids[:n_queries])
        for rank, doc in enumerate(bm25.top(qi, depth), start=1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the relevance mode, switched in one process


def test_whatif_follows_the_relevance_mode_and_profiles_switched_in_one_process(demo_env):
    at = fresh(WHATIF)
    assert at.title[0].value == "Hybrid what-if" and not at.error
    strict = cards(at)
    # default sliders: the hybrid profile's tie-aware value in the same mode
    assert strict["hit@10 · current sliders"] == strict["hit@10 · default RRF"] == hybrid_value(demo_view(demo_env, "strict"))

    at.radio(key="relevance_mode").set_value("parallel").run()
    assert not at.exception, [e.value for e in at.exception]
    switched = cards(at)
    parallel = hybrid_value(demo_view(demo_env, "parallel"))
    assert switched["hit@10 · current sliders"] == switched["hit@10 · default RRF"] == parallel
    assert parallel != strict["hit@10 · current sliders"]
    assert url(at, "rel") == "parallel"
    assert switched == cards(fresh(WHATIF, rel="parallel"))  # every card, the language-aware ones too

    # other profiles, in the same process: exactly what a fresh process shows for the same URL
    at = run_page(WHATIF, rel="parallel")
    by_label(at.selectbox, "Profile A").set_value("dense").run()
    by_label(at.selectbox, "Profile B").set_value("hybrid").run()
    by_label(at.slider, "Weight of A").set_value(0.5).run()
    by_label(at.selectbox, "Metric").set_value("ndcg@10").run()  # hit@10 is 1 for every query with parallel passages
    assert not at.exception
    assert url(at, "a") == "dense" and url(at, "b") == "hybrid" and url(at, "wa") == "0.5"
    shown = cards(at)
    assert shown == cards(fresh(WHATIF, **url_params(at)))
    assert shown["ndcg@10 · current sliders"] != shown["ndcg@10 · default RRF"]


def test_significance_follows_the_relevance_mode_and_profiles_switched_in_one_process(demo_env):
    at = fresh(SIGNIFICANCE)
    assert at.title[0].value == "Significance" and not at.error
    assert by_label(at.selectbox, "Profile A").value == "dense" and by_label(at.selectbox, "Profile B").value == "bm25"
    strict = cards(at)
    at.radio(key="relevance_mode").set_value("parallel").run()
    assert not at.exception
    switched = cards(at)
    view = demo_view(demo_env, "parallel")
    per_query = view.per_query()
    expected = compare(per_query["dense"], per_query["bm25"], metric="ndcg@10", groups=language_pairs(view)).iloc[0]
    assert switched["mean Δ (A − B)"] == f"{expected['mean_diff']:+.4f}"
    assert switched["p (rand.)"] == fmt_p(expected["p_randomization"]) and switched["p (t-test)"] == fmt_p(expected["p_ttest"])
    assert switched["mean Δ (A − B)"] != strict["mean Δ (A − B)"]
    assert any("parallel passages" in c.value and "tie-aware expected" in c.value for c in at.caption)
    assert switched == cards(fresh(SIGNIFICANCE, rel="parallel"))

    at = run_page(SIGNIFICANCE, rel="parallel")
    by_label(at.selectbox, "Profile B").set_value("hybrid").run()
    by_label(at.selectbox, "Metric").set_value("hit@10").run()
    assert not at.exception
    pairs = at.dataframe[0].value
    again = fresh(SIGNIFICANCE, **url_params(at))
    assert cards(at) == cards(again)
    pd.testing.assert_frame_equal(pairs, again.dataframe[0].value)


# --------------------------------------------------------------------------- what the pages show


def test_whatif_sliders_move_the_fusion_and_the_query_tables(demo_env):
    at = run_page(WHATIF)
    place, top = at.dataframe[1].value, at.dataframe[2].value
    assert {"rank_a", "rank_b", "contribution_a", "contribution_b", "fused_rank", "default_rank", "relation"} <= set(
        place.columns
    )
    assert (place["fused_rank"] == place["default_rank"]).all()
    assert top["fused_rank"].tolist()[:10] == list(range(1, 11)) and (top["relevant"] == "✓").sum() >= 1
    # A's weight 0: B (dense) alone within the depth, its ranking with ties broken by corpus id
    by_label(at.slider, "Weight of A").set_value(0.0).run()
    assert not at.exception and url(at, "wa") == "0"
    dense = demo_view(demo_env, "strict").id_metrics()["dense"]["hit@10"].mean()
    assert cards(at)["hit@10 · current sliders"].startswith(f"{dense:.3f}")
    assert cards(at)["hit@10 · current sliders"] != cards(at)["hit@10 · default RRF"]
    by_label(at.select_slider, "RRF k").set_value(10).run()
    by_label(at.select_slider, "Depth").set_value(50).run()
    assert not at.exception
    assert url(at, "k") == "10" and url(at, "depth") == "50"
    by_label(at.selectbox, "Weights per").set_value("script_relation").run()
    assert any("Oracle" in w.value for w in at.warning)
    assert url(at, "by") == "script_relation"


def test_any_two_profiles_including_a_run(demo_env, tmp_path, monkeypatch):
    from nanomlqa_viz.pipeline import RunFile

    path = write_run(tmp_path / "run.trec", demo_view(demo_env, "strict"))
    monkeypatch.setenv("NANOMLQA_RUNS", f"{RUN}={path}")
    view = demo_view(demo_env, "strict", runs=[RunFile.from_path(name=RUN, path=path)])
    at = run_page(WHATIF, a=RUN, b="dense", k="20", wb="0.5")
    assert not at.error
    assert by_label(at.selectbox, "Profile A").value == RUN
    # brute force: the run's ranks (unlisted passages beyond any depth) fused with dense, tie-aware on the full matrix
    run = view.registry[RUN].profile
    ranks = run.full_ranks()
    ranks[~np.isfinite(run.scores)] = view.task.n_docs + 1
    fused, secondary = rrf_scores(
        [ranks, view.registry["dense"].profile.full_ranks()], params=FusionParams(k=20.0, weights=(1.0, 0.5))
    )
    metrics = tie_aware_metrics(fused, positive_doc_indices(view.task), query_ids=view.task.query_ids, secondary=secondary)
    assert cards(at)["hit@10 · current sliders"] == format_tie_range(**metrics.summary()["hit@10"])
    assert any("ranks 30 of 50 queries" in c.value for c in at.caption)
    options = by_label(at.selectbox, "Profile A").options  # labels: the dataset's candidate subsets are not fused
    assert len(options) == 4 and not any(o.startswith("ref") for o in options)

    at = run_page(SIGNIFICANCE, a=RUN, b="bm25", metric="hit@10")
    per_query = view.per_query()
    diff = per_query[RUN]["hit@10"].mean() - per_query["bm25"]["hit@10"].mean()
    assert cards(at)["mean Δ (A − B)"] == f"{diff:+.4f}"
    assert cards(at)["n"] == f"{view.task.n_queries:,}"


def test_significance_has_one_row_per_language_pair(demo_env):
    at = run_page(SIGNIFICANCE, a="hybrid", b="dense", metric="bogus")
    assert by_label(at.selectbox, "Metric").value == "ndcg@10" and "metric" not in at.query_params
    table = at.dataframe[0].value
    assert len(table) == table["pair"].nunique() == 49  # the demo covers every pair of its seven languages
    assert table["n"].sum() == int(cards(at)["n"])
    assert ((table["holm_randomization"] >= table["p_randomization"] - 1e-12) | table["p_randomization"].isna()).all()
    by_label(at.selectbox, "Sort pairs by").set_value("p").run()
    assert url(at, "sort") == "p"
    sorted_p = at.dataframe[0].value["holm_randomization"].dropna().tolist()
    assert sorted_p == sorted(sorted_p)
    by_label(at.selectbox, "Profile B").set_value("hybrid").run()
    assert any("two different profiles" in i.value for i in at.info)


# --------------------------------------------------------------------------- URL state


@pytest.mark.parametrize(
    "params",
    [
        {"a": "../../etc/passwd", "b": "reference/bm25", "k": "abc", "wa": "5", "wb": "-1", "depth": "7", "metric": "bogus"},
        {"a": "<b>x</b>", "k": "nan", "wa": "inf", "depth": "1e9", "query": "nope", "by": "doc_lang", "vs": "x"},
    ],
)
def test_whatif_validates_the_url(demo_env, params):
    at = run_page(WHATIF, **params)
    assert not at.error
    assert by_label(at.selectbox, "Profile A").value == "bm25" and by_label(at.selectbox, "Profile B").value == "dense"
    assert by_label(at.select_slider, "RRF k").value == 100 and by_label(at.select_slider, "Depth").value == 500
    assert by_label(at.slider, "Weight of A").value == pytest.approx(1.0)
    assert by_label(at.slider, "Weight of B").value == pytest.approx(1.0)
    assert by_label(at.selectbox, "Metric").value == "hit@10"
    assert by_label(at.selectbox, "Weights per").value == "query_lang"
    assert not set(params) & set(at.query_params)  # every bad value dropped from the URL
    assert by_label(at.selectbox, "Query").value in demo_view(demo_env, "strict").task.query_ids


def test_whatif_reads_a_valid_url_and_old_links(demo_env):
    at = run_page(WHATIF, k="60", wa="0.25", depth="50", metric="ndcg@10", by="query_script", vs="global_tuned")
    assert by_label(at.select_slider, "RRF k").value == 60 and by_label(at.select_slider, "Depth").value == 50
    assert by_label(at.slider, "Weight of A").value == pytest.approx(0.25)
    assert by_label(at.selectbox, "Metric").value == "ndcg@10"
    assert by_label(at.selectbox, "Gain over").value == "global_tuned"
    query = by_label(at.selectbox, "Query")
    other = next(q for q in demo_view(demo_env, "strict").task.query_ids if q != query.value)
    query.set_value(other).run()
    assert not at.exception and url(at, "query") == other
    # a link from before A/B: wb was BM25's weight, wd dense's
    old = run_page(WHATIF, wb="0.5", wd="0.75")
    assert by_label(old.slider, "Weight of A").value == pytest.approx(0.5)
    assert by_label(old.slider, "Weight of B").value == pytest.approx(0.75)
    assert "wd" not in old.query_params


def test_significance_validates_the_url(demo_env):
    at = run_page(SIGNIFICANCE, a="nope", b="<i>x</i>", metric="p@5", sort="rank")
    assert not at.error
    assert by_label(at.selectbox, "Profile A").value == "dense" and by_label(at.selectbox, "Profile B").value == "bm25"
    assert by_label(at.selectbox, "Sort pairs by").value == "pair"
    assert not {"a", "b", "metric", "sort"} & set(at.query_params)
