"""The query explorer page under Streamlit's AppTest, on the bundled demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_common import escape_markdown

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "1_Query_explorer.py")  # AppTest resolves relative paths against this file


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("explorer_page_cache")  # shared: the dense profile is computed once


@pytest.fixture
def app(monkeypatch, cache_dir):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_DATASET", "demo")
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(cache_dir))

    def make(**params: str) -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=120)
        for name, value in params.items():
            at.query_params[name] = value
        return at.run()

    return make


@pytest.fixture(scope="module")
def demo_table(cache_dir):
    """The demo's query table as the page computes it (same loader, same languages)."""
    from nanomlqa_viz.analysis import detect_task_languages, query_table
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile
    from nanomlqa_viz.sources import DEMO_SEED_CACHE

    task = load_task(source="demo", cache_dir=cache_dir)
    cache = ArrayCache(cache_dir, seeds=(DEMO_SEED_CACHE,))
    ctx = ProfileContext.of(task, cache)
    languages = detect_task_languages(task, cache=cache, fingerprint=ctx.fingerprint)
    return task, query_table(task, languages, {"bm25": bm25_profile(ctx)})


def _query_table(at: AppTest):
    tables = [d.value for d in at.dataframe if "query_id" in d.value.columns]
    assert len(tables) == 1
    return tables[0]


def _profile_columns(at: AppTest) -> dict[str, list[str]]:
    """Markdown texts of each profile column, by its header ("**BM25** · top 10" -> "BM25")."""
    out = {}
    for column in at.columns:
        texts = [m.value for m in column.markdown]
        if texts and texts[0].endswith("· top 10"):
            out[texts[0].split("**")[1]] = texts
    return out


def test_renders_the_table_without_exception(app, demo_table):
    task, _ = demo_table
    at = app()
    assert not at.exception
    table = _query_table(at)
    assert len(table) == min(task.n_queries, 50)
    assert {"rank_bm25", "rank_dense", "rank_hybrid"} <= set(table.columns)  # dense computed on the first run
    assert any(f"n = {task.n_queries:,} of {task.n_queries:,} queries" in m.value for m in at.markdown)


def test_query_language_filter_reduces_the_rows_and_goes_to_the_url(app, demo_table):
    task, table = demo_table
    lang = table["query_lang"].value_counts().index[-1]
    expected = int((table["query_lang"] == lang).sum())
    at = app()
    at.multiselect(key="w_qlang").select(lang).run()
    assert not at.exception
    assert at.query_params["qlang"] == lang
    shown = _query_table(at)
    assert 0 < len(shown) == expected < task.n_queries
    assert {p.split("→")[0] for p in shown["pair"]} == {lang}


def test_filters_from_the_url_and_unknown_values_fall_back(app, demo_table):
    task, _ = demo_table
    at = app(script="different", outcome="no-such-outcome", page="99", qlang="xx,yy")
    assert not at.exception
    shown = _query_table(at)
    assert 0 < len(shown) < task.n_queries and set(shown["script_relation"]) == {"different"}
    assert at.selectbox(key="w_outcome").value == "any"
    empty = app(text="no query has this text")
    assert not empty.exception
    assert any("No query matches" in i.value for i in empty.info)


def test_opening_a_query_shows_its_positive_in_every_profile_column(app, demo_table):
    task, table = demo_table
    cross = table[table["script_relation"] == "different"]
    query_id = (cross if len(cross) else table)["query_id"].iloc[0]
    positive = task.first_positive(query_id)
    at = app(query=query_id, refs=",".join(task.candidates))
    assert not at.exception and not at.warning
    columns = _profile_columns(at)
    expected = ["BM25", "Dense", "Hybrid (RRF)", *(f"ref · {c}" for c in task.candidates)]
    assert set(columns) == {escape_markdown(n) for n in expected}
    for name, texts in columns.items():
        marked = [t for t in texts if ":blue-badge[positive]" in t and escape_markdown(positive) in t]
        assert len(marked) == 1, name  # in the top 10, or pinned: at its rank, "not in list" or "injected entry"
    assert any(escape_markdown(task.query_texts[task.query_index[query_id]]) in m.value for m in at.markdown)


def test_unknown_query_id_warns_without_exception(app):
    at = app(query="<script>alert(1)</script>")
    assert not at.exception
    assert len(at.warning) == 1 and "is not in" in at.warning[0].value
    assert "<script>" not in at.warning[0].value  # shown as escaped text
    assert _profile_columns(at) == {}


def test_dense_still_computing_shows_what_exists(app, demo_table, monkeypatch):
    """Dense never arrives (its encoder fails): BM25 and the reference subsets still work."""
    import app_common
    from nanomlqa_viz.errors import DatasetError

    def no_dense(ctx, *, model=None, only_cached=False, **_):
        if only_cached:
            return None
        raise DatasetError("test encoder", "not available in this test")

    monkeypatch.setattr(app_common, "dense_profile", no_dense)
    monkeypatch.setenv("NANOMLQA_DENSE_MODEL", "test-pending-model")  # a URL may only name a configured model
    task, table = demo_table
    query_id = table["query_id"].iloc[0]
    at = app(query=query_id, model="test-pending-model", outcome="dense-not-bm25", refs=next(iter(task.candidates)))
    assert not at.exception
    assert any("dense profile, still computing" in c.value for c in at.caption)  # the URL's outcome waits
    assert at.selectbox(key="w_outcome").value == "any"
    assert "rank_dense" not in _query_table(at).columns
    columns = _profile_columns(at)
    assert set(columns) == {"BM25", escape_markdown(f"ref · {next(iter(task.candidates))}")}
    assert any("Dense profile unavailable" in e.value for e in at.error)
