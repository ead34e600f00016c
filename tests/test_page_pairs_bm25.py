"""The Language pairs and BM25 cross-script pages, run headless by Streamlit's AppTest on the demo."""

from __future__ import annotations

from pathlib import Path

from page_util import by_label, run_page
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAIRS = "pages/2_Language_pairs.py"
BM25 = "pages/3_BM25_cross_script.py"


def plotly_figures(at: AppTest) -> list[str]:
    return [el.proto.spec for el in at.get("plotly_chart")]


def test_pairs_page_renders_and_follows_selectors(demo_env):
    at = run_page(PAIRS)
    assert at.title[0].value == "Language pairs"
    assert not at.error
    specs = plotly_figures(at)
    assert len(specs) >= 4  # heatmap, two bar charts, difference heatmap
    assert any('"heatmap"' in s and "n=" in s for s in specs)
    profile = by_label(at.selectbox, "Profile")
    assert profile.value == "dense"
    profile.set_value("bm25").run()
    assert not at.exception
    assert at.query_params["profile"] == "bm25"
    metric = by_label(at.selectbox, "Metric")
    metric.set_value("mrr@10").run()
    assert not at.exception
    assert at.query_params["metric"] == "mrr@10"
    assert any("MRR@10" in c.value.replace("\\", "") for c in at.caption)  # captions are markdown-escaped
    # same profile on both sides of the difference: a message, not a figure
    by_label(at.selectbox, "Profile B").set_value("dense").run()
    assert any("two different profiles" in i.value for i in at.info)


def test_pairs_page_reads_and_validates_the_url(demo_env):
    at = run_page(PAIRS, profile="reference/bm25", metric="ndcg@10", a="bogus")
    assert by_label(at.selectbox, "Profile").value == "reference/bm25"
    assert by_label(at.selectbox, "Metric").value == "ndcg@10"
    assert by_label(at.selectbox, "Profile A").value == "dense"  # unknown value: the default
    assert "a" not in at.query_params
    pair = by_label(at.selectbox, "Pair to open")
    assert "→" in pair.value


def test_bm25_page_renders_with_quadrant_or_message(demo_env):
    at = run_page(BM25)
    assert at.title[0].value.startswith("BM25 vs dense")
    assert not at.error
    specs = plotly_figures(at)
    assert specs and '"log"' in specs[0]
    frames = at.dataframe
    messages = [i.value for i in at.info]
    assert any("No query has its positive" in m for m in messages) or len(frames) >= 2
    # thresholds are widgets mirrored in the URL
    by_label(at.number_input, "BM25 does not: BM25 rank >").set_value(1).run()
    by_label(at.number_input, "Dense finds it: dense rank ≤").set_value(50).run()
    assert not at.exception
    assert at.query_params["bm25_beyond"] == "1" and at.query_params["dense_top"] == "50"
    table = at.dataframe[-1].value
    assert len(table) > 0
    assert {"reason", "shared_tokens", "query_scripts", "positive_scripts"} <= set(table.columns)


def test_bm25_page_validates_url_thresholds(demo_env):
    at = run_page(BM25, dense_top="abc", bm25_beyond="-5")
    assert by_label(at.number_input, "Dense finds it: dense rank ≤").value == 10
    assert by_label(at.number_input, "BM25 does not: BM25 rank >").value == 100
    at = run_page(BM25, dense_top="20", bm25_beyond="5")
    assert by_label(at.number_input, "Dense finds it: dense rank ≤").value == 20
    assert by_label(at.number_input, "BM25 does not: BM25 rank >").value == 5


def test_pairs_page_links_a_pair_to_the_explorer(demo_env):
    """Run as part of the multipage app: the fallback link opens the explorer filtered to the pair."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/2_Language_pairs.py")
    at.query_params["pair"] = "de→en"
    at.query_params["rel"] = "copies"  # shared URL state travels with the link
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    links = [el.proto for el in at.get("page_link")]
    assert links, "no link to the query explorer"
    assert links[0].page == "Query_explorer"
    assert "pair=de%E2%86%92en" in links[0].query_string
    assert "rel=copies" in links[0].query_string


def queries_by_reason(at: AppTest):
    """The table of queries under the reason filter (it has the BM25 rank and the script relation)."""
    frames = [f.value for f in at.dataframe if {"bm25_rank", "script_relation", "reason"} <= set(f.value.columns)]
    assert frames, "no table of queries by reason"
    return frames[0]


def test_bm25_page_gives_a_reason_for_every_query(demo_env):
    from nanomlqa_viz.cross_script import FAILURE_REASONS, FOUND, FOUND_OTHER_VERSION

    at = run_page(BM25)
    assert any(h.value == "Why BM25 fails, every query" for h in at.subheader)
    overview = [f.value for f in at.dataframe if FOUND in f.value.index]
    assert overview, "no reason counts over all queries"
    counts = overview[0]
    assert list(counts.index) == list(FAILURE_REASONS)
    assert int(counts["n"].sum()) == 50  # every demo query has a positive
    assert abs(counts["share"].sum() - 100) < 1e-6  # shown in %
    by_pair = [
        f.value for f in at.dataframe if "all pairs" in f.value.index and {FOUND, FOUND_OTHER_VERSION} & set(f.value.columns)
    ]
    assert by_pair and int(by_pair[0].loc["all pairs", "n"]) == 50
    assert int(by_pair[0].drop(index="all pairs")["n"].sum()) == 50
    # the reason filter is mirrored in the URL and filters the table of queries
    by_label(at.selectbox, "Reason").set_value(FOUND_OTHER_VERSION).run()
    assert not at.exception
    assert at.query_params["reason"] == FOUND_OTHER_VERSION
    rows = queries_by_reason(at)
    assert len(rows) == int(counts.loc[FOUND_OTHER_VERSION, "n"])
    assert set(rows["reason"]) <= {FOUND_OTHER_VERSION}
    # an unknown reason in the URL falls back to all queries
    at = run_page(BM25, reason="bogus")
    assert by_label(at.selectbox, "Reason").value == "any"
    assert "reason" not in at.query_params
    assert len(queries_by_reason(at)) == 50
