"""BM25 failure reasons: the enum, hand-built cases (ties, modes, several positives), cached frames, and the demo."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_hub_folder

from nanomlqa_viz.bm25 import build_bm25_index
from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.cross_script import REASON_COLUMNS, REASONS, TOKEN_REASONS, Bm25Reason, bm25_reasons
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.profiles import ProfileContext, bm25_profile
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.tokenizer import tokenize

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
VERSIONS = {"q_version": frozenset({"d2", "d1", "d3"}), "q_found": frozenset({"d2", "d1", "d3"})}


def make_task(tmp_path, docs=DOCS, queries=QUERIES, qrels=None):
    qrels = qrels or {"query-id": list(queries), "corpus-id": [p for _, p in queries.values()]}
    folder = write_hub_folder(
        tmp_path / "ds",
        {
            "corpus": {"_id": list(docs), "text": list(docs.values())},
            "queries": {"_id": list(queries), "text": [q for q, _ in queries.values()]},
            "qrels": qrels,
        },
    )
    task = load_task(source=str(folder), cache_dir=tmp_path / "c")
    return task, ProfileContext.of(task, ArrayCache(tmp_path / "c"))


@pytest.fixture
def case(tmp_path):
    task, ctx = make_task(tmp_path)
    return task, build_bm25_index(task.doc_texts), bm25_profile(ctx)


def test_the_enum_values_order_and_legacy_labels():
    assert [r.value for r in REASONS] == [
        "found (top 10)",
        "a copy or parallel passage was found instead",
        "no shared script",
        "shared script, no shared tokens",
        "tokens shared, a distractor shares more",
        "tokens shared, outscored",
        "tokens shared",
    ]
    assert REASONS[2:] == TOKEN_REASONS and not Bm25Reason.FOUND.is_failure and Bm25Reason.OUTSCORED.is_failure
    assert Bm25Reason("a copy or translation was found instead") is Bm25Reason.FOUND_PARALLEL  # older caches
    assert all("translation" not in r.value and "translation" not in r.short for r in REASONS)
    with pytest.raises(ValueError):
        Bm25Reason("bogus")


def test_reason_labels(case):
    task, index, bm25 = case
    reasons = bm25_reasons(task, index=index, bm25=bm25, relevant=VERSIONS, k=1).set_index("query_id")
    assert list(reasons.reset_index().columns) == list(REASON_COLUMNS)
    assert reasons.loc["q_found", "reason"] == Bm25Reason.FOUND
    assert reasons.loc["q_version", "reason"] == Bm25Reason.FOUND_PARALLEL, "the English version was found, not the German"
    assert reasons.loc["q_script", "reason"] == Bm25Reason.NO_SHARED_SCRIPT
    assert reasons.loc["q_distractor", "reason"] == Bm25Reason.DISTRACTOR_SHARES_MORE
    # the positive shares only a near-zero-IDF word; the distractor shares "nobel", "physics", "1903"
    assert reasons.loc["q_distractor", "shared_tokens"].startswith("in (")
    assert all(type(r) is str for r in reasons["reason"]), "plain value strings, so cached frames round-trip"
    # under strict qrels nothing else counts: the version found is no excuse
    strict = bm25_reasons(task, index=index, bm25=bm25, k=1).set_index("query_id")
    assert strict.loc["q_version", "reason"] in {r.value for r in TOKEN_REASONS}
    assert (strict["reason"] != Bm25Reason.FOUND_PARALLEL).all()


def test_found_needs_the_top_k_whatever_the_order_of_ties(case):
    """A positive BM25 ties with passages beyond k is not certainly found, even where the ids put it first."""
    task, index, _ = case
    qi = task.query_index["q_found"]
    scores = np.zeros((task.n_queries, task.n_docs))
    scores[qi, task.doc_index["d2"]] = 1.0  # the positive ties with d1 and d6 at the top
    scores[qi, task.doc_index["d1"]] = 1.0
    scores[qi, task.doc_index["d6"]] = 1.0
    tied = RankedProfile(name="bm25", scores=scores, id_rank=id_order(task.doc_ids))
    assert tied.rank_info(qi, task.doc_index["d2"]).rank == 2  # the ids put it in the top 2
    frame = bm25_reasons(task, index=index, bm25=tied, k=2).set_index("query_id")
    assert frame.loc["q_found", "bm25_tie_first"] == 1 and frame.loc["q_found", "bm25_tie_last"] == 3
    assert frame.loc["q_found", "reason"] != Bm25Reason.FOUND
    assert bm25_reasons(task, index=index, bm25=tied, k=3).set_index("query_id").loc["q_found", "reason"] == Bm25Reason.FOUND
    # a relevant version tied beyond k is no more found than the positive
    versions = {"q_found": frozenset({"d2", "d1"})}
    frame = bm25_reasons(task, index=index, bm25=tied, relevant=versions, k=2).set_index("query_id")
    assert frame.loc["q_found", "reason"] in {r.value for r in TOKEN_REASONS}
    # every query scores 0 everywhere else: a rank by id ≤ k is not a find
    others = frame.drop(index="q_found")
    assert (others["bm25_tie_last"] == task.n_docs).all() and (others["reason"] != Bm25Reason.FOUND).all()


def test_several_positives_the_best_scored_one_explains(tmp_path):
    queries = {"q": ("Who won the Nobel prize in physics in 1903?", "d5")}
    task, ctx = make_task(tmp_path, queries=queries, qrels={"query-id": ["q", "q"], "corpus-id": ["d5", "d6"]})
    frame = bm25_reasons(task, index=ctx.bm25_index, bm25=bm25_profile(ctx), k=1)
    assert frame.loc[0, "positive_id"] == "d6" and frame.loc[0, "bm25_rank"] == 1
    assert frame.loc[0, "reason"] == Bm25Reason.FOUND


def test_a_cached_frame_round_trips(case):
    from nanomlqa_viz.explain import _frame_from_arrays, _frame_to_arrays

    task, index, bm25 = case
    frame = bm25_reasons(task, index=index, bm25=bm25, relevant=VERSIONS, k=1)
    back = _frame_from_arrays(_frame_to_arrays(frame, prefix="reason_"), prefix="reason_")
    assert list(back.columns) == list(frame.columns)
    assert [Bm25Reason(r) for r in back["reason"]] == [Bm25Reason(r) for r in frame["reason"]]
    assert list(back["bm25_tie_last"]) == list(frame["bm25_tie_last"])


def test_every_demo_query_gets_a_reason(tmp_path):
    task = load_task(source="demo", cache_dir=tmp_path)
    ctx = ProfileContext.of(task, ArrayCache(tmp_path))
    frame = bm25_reasons(task, index=ctx.bm25_index, bm25=bm25_profile(ctx))
    assert len(frame) == task.n_queries and set(frame["reason"]) <= {r.value for r in REASONS}
    assert (frame["reason"] == Bm25Reason.FOUND).sum() == (frame["bm25_tie_last"] <= 10).sum() > 0
    assert (frame["reason"] != Bm25Reason.FOUND_PARALLEL).all()  # strict: nothing else is relevant
    assert (frame["bm25_tie_first"] <= frame["bm25_rank"]).all() and (frame["bm25_rank"] <= frame["bm25_tie_last"]).all()


def test_reasons_from_the_cached_idf_equal_those_from_the_index(tmp_path):
    from nanomlqa_viz.bm25_tokens import TokenIdf, load_token_idf, token_idf

    task = load_task(source="demo", cache_dir=tmp_path)
    ctx = ProfileContext.of(task, ArrayCache(tmp_path / "c"))
    bm25 = bm25_profile(ctx)  # builds the index, caches its idf
    expected = bm25_reasons(task, index=ctx.bm25_index, bm25=bm25)
    fresh = ProfileContext.of(task, ArrayCache(tmp_path / "c"))  # another process: the scores and the idf on disk
    tokens = token_idf(fresh)
    assert "bm25_index" not in vars(fresh)  # no index built
    for qi, text in enumerate(task.query_texts[:5]):
        for token in tokenize(text):
            assert tokens.token_idf(token) == ctx.bm25_index.token_idf(token)
        assert tokens.document_tokens(qi) == ctx.bm25_index.document_tokens(qi)
    assert tokens.token_idf("no-such-token-anywhere") == 0.0
    frame = bm25_reasons(task, index=tokens, bm25=bm25_profile(fresh))
    assert frame.equals(expected)
    empty = ProfileContext.of(task, ArrayCache(tmp_path / "d"))  # no idf cached: the index is built once, its idf cached
    assert isinstance(token_idf(empty), TokenIdf) and "bm25_index" in vars(empty)
    assert load_token_idf(empty.cache, empty.fingerprint, task.doc_texts) is not None


def test_top_and_kth_largest_among_many_equal_scores():
    from nanomlqa_viz.cross_script import _kth_largest, _top

    rng = np.random.default_rng(0)
    n = 500
    scores = np.zeros((6, n))
    scores[0, rng.choice(n, 3, replace=False)] = [2.0, 1.0, 1.0]  # fewer scored passages than k
    scores[1, rng.choice(n, 40, replace=False)] = rng.integers(1, 4, 40)  # ties above zero
    scores[2] = rng.standard_normal(n)  # no ties
    scores[3] = -1.0  # all equal
    scores[4, :] = rng.integers(0, 2, n)  # half ones
    scores[5] = np.where(rng.random(n) < 0.9, 0.0, rng.random(n))
    ids = [f"d{int(x):04d}" for x in rng.permutation(n)]
    profile = RankedProfile(name="bm25", scores=scores, id_rank=id_order(ids))
    for qi in range(len(scores)):
        for k in (1, 2, 10, 20, n - 1, n):
            np.testing.assert_array_equal(_top(profile, qi, k), profile.top(qi, k))
            assert _kth_largest(scores[qi], k) == np.partition(scores[qi], n - k)[n - k]
