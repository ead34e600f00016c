"""The Hybrid what-if and Significance pages, run headless by Streamlit's AppTest on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from page_util import by_label, run_page
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
WHATIF = "pages/5_Hybrid_what_if.py"
SIGNIFICANCE = "pages/6_Significance.py"


def url(at: AppTest, name: str) -> str | None:
    """A URL parameter after a run (AppTest keeps a str or a one-element list, depending on how it was set)."""
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def metric_value(at: AppTest, label: str) -> str:
    return by_label(at.metric, label).value


def test_whatif_renders_and_sliders_move_the_metric_and_the_positive(demo_env):
    at = run_page(WHATIF)
    assert at.title[0].value == "Hybrid what-if"
    assert not at.error
    specs = [el.proto.spec for el in at.get("plotly_chart")]
    assert specs and '"log"' in specs[0] and "dense only" in specs[0] and "(current)" in specs[0]
    # the default sliders reproduce the hybrid profile
    assert metric_value(at, "hit@10 · current sliders") == metric_value(at, "hit@10 · default hybrid")
    assert metric_value(at, "Fused rank · current") == metric_value(at, "Fused rank · default")
    table = at.dataframe[-1].value
    assert {"fused_rank", "bm25_rank", "dense_rank", "bm25_contribution", "dense_contribution", "default_rank"} <= set(
        table.columns
    )
    assert (table["positive"] == "✓").sum() == 1
    before_rank = metric_value(at, "Fused rank · current")

    # BM25 weight 0: dense alone within the depth, so the fused hit@10 is dense's
    by_label(at.slider, "BM25 weight").set_value(0.0).run()
    assert not at.exception
    assert url(at, "wb") == "0"
    assert metric_value(at, "hit@10 · current sliders") == metric_value(at, "hit@10 · dense only")
    assert metric_value(at, "hit@10 · current sliders") != metric_value(at, "hit@10 · default hybrid")
    assert metric_value(at, "Fused rank · current") != before_rank

    by_label(at.select_slider, "RRF k").set_value(10).run()
    by_label(at.select_slider, "Depth").set_value(50).run()
    assert not at.exception
    assert url(at, "k") == "10" and url(at, "depth") == "50"


def test_whatif_reads_and_validates_the_url(demo_env):
    at = run_page(WHATIF, k="60", wb="0.5", wd="abc", depth="7", metric="ndcg@10", query="nope")
    assert by_label(at.select_slider, "RRF k").value == 60
    assert by_label(at.slider, "BM25 weight").value == pytest.approx(0.5)
    assert by_label(at.slider, "Dense weight").value == pytest.approx(1.0)  # unparsable: default
    assert by_label(at.select_slider, "Depth").value == 500  # not an option: default
    assert by_label(at.selectbox, "Metric").value == "ndcg@10"
    assert "wd" not in at.query_params and "depth" not in at.query_params
    query = by_label(at.selectbox, "Query")
    other = next(q for q in query.options if not q.startswith(query.value))
    query.set_value(other.split(" · ")[0]).run()
    assert not at.exception
    assert url(at, "query") == other.split(" · ")[0]


def test_significance_has_one_row_per_language_pair(demo_env):
    at = run_page(SIGNIFICANCE)
    assert at.title[0].value == "Significance"
    assert not at.error
    assert by_label(at.selectbox, "Profile A").value == "dense"
    assert by_label(at.selectbox, "Profile B").value == "bm25"
    table = at.dataframe[0].value
    from nanomlqa_viz.loader import load_task

    task = load_task(source="demo", cache_dir=demo_env)
    assert task.n_queries == int(metric_value(at, "n"))
    assert len(table) == table["pair"].nunique()
    assert table["n"].sum() == task.n_queries  # every demo query has a positive and a known pair
    assert {"wins", "ties", "losses", "mean_diff", "p_randomization", "holm_randomization", "p_ttest", "holm_ttest"} <= set(
        table.columns
    )
    assert all("→" in p for p in table["pair"])
    assert ((table["holm_randomization"] >= table["p_randomization"] - 1e-12) | table["p_randomization"].isna()).all()

    by_label(at.selectbox, "Metric").set_value("hit@10").run()
    by_label(at.selectbox, "Profile B").set_value("reference/bm25").run()
    by_label(at.selectbox, "Sort pairs by").set_value("p").run()
    assert not at.exception
    assert url(at, "metric") == "hit@10" and url(at, "b") == "reference/bm25"
    assert url(at, "sort") == "p"
    sorted_p = at.dataframe[0].value["holm_randomization"].dropna().tolist()
    assert sorted_p == sorted(sorted_p)

    by_label(at.selectbox, "Profile B").set_value("dense").run()
    assert any("two different profiles" in i.value for i in at.info)


def test_significance_pair_count_matches_the_query_table(demo_env):
    at = run_page(SIGNIFICANCE, a="hybrid", b="dense", metric="bogus")
    assert by_label(at.selectbox, "Metric").value == "ndcg@10"
    assert "metric" not in at.query_params
    pairs = at.dataframe[0].value["pair"]
    expected = 49  # the demo covers every pair of its seven languages
    assert len(pairs) == expected
