"""BM25Index must reproduce rank_bm25.BM25Okapi.get_scores exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from nanomlqa_viz.bm25 import (
    BM25Index,
    BM25Params,
    build_bm25_index,
    build_bm25_index_from_tokens,
)
from nanomlqa_viz.tokenizer import tokenize

REPLICA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "nanomlqa-replica"

CORPUS = [
    "Der Rhein ist ein Fluss in Europa. Der Rhein fließt durch Deutschland.",
    "The Danube is the second-longest river in Europe, after the Volga.",
    "北京是中华人民共和国的首都，也是全国的政治中心。",
    "The Danube is the second-longest river in Europe, after the Volga.",  # duplicate of 1
    "हिन्दी भारत की राजभाषा है। यह देवनागरी लिपि में लिखी जाती है।",
    "El Danubio es el segundo río más largo de Europa.",
    "القاهرة هي عاصمة مصر منذ عام 1952.",
    "Hà Nội là thủ đô của Việt Nam từ năm 1976.",
    "北京是中华人民共和国的首都，也是全国的政治中心。",  # duplicate of 2
    "The river Rhine flows into the North Sea; the river is 1,230 km long.",
    "",  # an empty passage
    "The Danube is the second-longest river in Europe, after the Volga.",  # duplicate of 1
]
QUERIES = [
    "Which river is the second-longest in Europe?",
    "Danube Danube river river river",  # repeated tokens: each occurrence adds
    "北京是哪个国家的首都？",
    "हिन्दी किस लिपि में लिखी जाती है?",
    "zzz-unknown qqq 未知词",  # only unknown tokens
    "",  # empty query
    "Rhein Rhine Rin ريـن",  # mix of known and unknown
    "What is the capital of Egypt? القاهرة",
    "Thủ đô của Việt Nam là gì? 1976",
]


def _rank_bm25_scores(
    corpus_tokens: list[list[str]], query_tokens: list[list[str]], params: BM25Params
) -> tuple[BM25Okapi, np.ndarray]:
    reference = BM25Okapi(corpus_tokens, k1=params.k1, b=params.b, epsilon=params.epsilon)
    scores = np.vstack([reference.get_scores(tokens) for tokens in query_tokens])
    return reference, scores


def _assert_matches_rank_bm25(corpus_tokens: list[list[str]], query_tokens: list[list[str]], params: BM25Params) -> BM25Index:
    index = build_bm25_index_from_tokens(corpus_tokens, params=params)
    reference, expected = _rank_bm25_scores(corpus_tokens, query_tokens, params)
    scores = index.score(query_tokens)
    assert scores.shape == (len(query_tokens), len(corpus_tokens))
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-12)
    for token, idf in reference.idf.items():
        assert index.token_idf(token) == pytest.approx(idf, rel=1e-12, abs=1e-12)
    assert index.avgdl == pytest.approx(reference.avgdl, rel=1e-15)
    assert index.average_idf == pytest.approx(reference.average_idf, rel=1e-12)
    return index


@pytest.mark.parametrize(
    "params",
    [BM25Params(), BM25Params(k1=1.2, b=0.5, epsilon=0.1), BM25Params(k1=2.0, b=1.0)],
    ids=["defaults", "k1=1.2,b=0.5,eps=0.1", "k1=2,b=1"],
)
def test_small_multilingual_corpus_matches_rank_bm25(params: BM25Params) -> None:
    corpus_tokens = [tokenize(text) for text in CORPUS]
    if params.b == 1.0:
        # rank_bm25 divides 0 by 0 for an empty document when b == 1 (NaN scores); see
        # the module docstring of nanomlqa_viz.bm25. Compare on a non-empty document there.
        corpus_tokens[10] = ["placeholder"]
    query_tokens = [tokenize(text) for text in QUERIES]
    assert query_tokens[1].count("river") == 3 and query_tokens[5] == []
    index = _assert_matches_rank_bm25(corpus_tokens, query_tokens, params)

    # Duplicates are stored once but counted in the statistics, and score identically.
    assert index.n_documents == len(CORPUS)
    assert index.n_distinct == len(set(map(tuple, corpus_tokens)))
    assert index.n_distinct < index.n_documents
    scores = index.score(query_tokens)
    np.testing.assert_array_equal(scores[:, 1], scores[:, 3])
    np.testing.assert_array_equal(scores[:, 1], scores[:, 11])
    np.testing.assert_array_equal(scores[:, 2], scores[:, 8])
    # Unknown-only and empty queries score 0 everywhere.
    assert not scores[4].any() and not scores[5].any()
    # Repetition is additive: "river" three times weighs three times "river" once.
    river = index.score([["river"]])[0]
    np.testing.assert_allclose(index.score([["river"] * 3])[0], 3 * river, rtol=1e-15)


def test_build_from_texts_equals_build_from_tokens() -> None:
    from_texts = build_bm25_index(CORPUS)
    from_tokens = build_bm25_index_from_tokens([tokenize(text) for text in CORPUS])
    query_tokens = [tokenize(text) for text in QUERIES]
    np.testing.assert_array_equal(from_texts.score(query_tokens), from_tokens.score(query_tokens))
    assert dict(from_texts.vocabulary) == dict(from_tokens.vocabulary)
    for i, text in enumerate(CORPUS):
        assert from_texts.document_tokens(i) == tokenize(text)


def test_custom_tokenize_is_used() -> None:
    index = build_bm25_index(["a b", "b c", "c d"], tokenize=str.split)
    assert set(index.vocabulary) == {"a", "b", "c", "d"}
    assert index.document_tokens(1) == ["b", "c"]


def test_epsilon_floor_for_terms_in_more_than_half_of_the_documents() -> None:
    corpus_tokens = [
        ["the", "cat", "sat"],
        ["the", "dog", "ran"],
        ["the", "bird", "flew", "away"],
        ["the", "fish", "swam", "cat"],
        ["a", "cow", "dog"],
        ["the", "cat"],
    ]
    query_tokens = [["the"], ["the", "cat"], ["the", "the", "cow"], ["cat"], ["unknown"]]
    index = _assert_matches_rank_bm25(corpus_tokens, query_tokens, BM25Params())

    n = len(corpus_tokens)
    raw_the = np.log(n - 5 + 0.5) - np.log(5 + 0.5)  # "the" is in 5 of 6 documents
    assert raw_the < 0
    floor = 0.25 * index.average_idf
    assert index.token_idf("the") == pytest.approx(floor, rel=1e-12)
    assert index.token_idf("the") > 0
    # "cat" is in exactly half of the documents: raw idf 0.0 is not negative, so not floored.
    assert index.token_idf("cat") == 0.0
    assert index.token_idf("unknown") == 0.0
    assert index.token_idf("cow") == pytest.approx(np.log(n - 1 + 0.5) - np.log(1 + 0.5))


def test_arrays_are_read_only_and_index_is_immutable() -> None:
    index = build_bm25_index(CORPUS)
    for array in (
        index.idf,
        index.document_lengths,
        index.distinct_index,
        index.weights.data,
        index.weights.indices,
        index.weights.indptr,
    ):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[...] = 0
    with pytest.raises(TypeError):
        index.vocabulary["new"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        index.avgdl = 1.0  # type: ignore[misc]
    assert index.weights.shape == (index.n_distinct, len(index.vocabulary))


def test_document_tokens_and_lengths() -> None:
    corpus_tokens = [tokenize(text) for text in CORPUS]
    index = build_bm25_index_from_tokens(corpus_tokens)
    for i, tokens in enumerate(corpus_tokens):
        assert index.document_tokens(i) == tokens
        assert index.document_lengths[i] == len(tokens)
    returned = index.document_tokens(0)
    returned.append("mutated")
    assert index.document_tokens(0) == corpus_tokens[0]


def test_input_validation() -> None:
    index = build_bm25_index(CORPUS)
    with pytest.raises(TypeError):
        index.score("danube river")
    with pytest.raises(TypeError):
        index.score(["danube", "river"])
    with pytest.raises(ValueError):
        build_bm25_index([])
    with pytest.raises(ValueError):
        BM25Params(k1=-1.0)
    with pytest.raises(ValueError):
        BM25Params(b=1.5)
    assert index.score([]).shape == (0, len(CORPUS))


def test_replica_slice_matches_rank_bm25() -> None:
    corpus_file = REPLICA / "corpus" / "mlqa-00000-of-00001.parquet"
    queries_files = sorted((REPLICA / "queries").glob("*.parquet"))
    if not corpus_file.is_file() or not queries_files:
        pytest.skip(f"NanoMLQA replica not found at {REPLICA} (corpus/ and queries/ parquet)")
    pq = pytest.importorskip("pyarrow.parquet")
    passages = pq.read_table(corpus_file, columns=["_id", "text"]).column("text").to_pylist()
    queries = pq.read_table(queries_files[0], columns=["_id", "text"]).column("text").to_pylist()
    passages = passages[:1000]
    step = max(1, len(queries) // 30)
    queries = queries[::step][:30]
    assert len(passages) == 1000 and len(queries) == 30

    corpus_tokens = [tokenize(text) for text in passages]
    query_tokens = [tokenize(text) for text in queries]
    index = _assert_matches_rank_bm25(corpus_tokens, query_tokens, BM25Params())
    assert index.n_documents == 1000
    # The slice has duplicated passages, so deduplication is exercised on real data too.
    assert index.n_distinct <= len(set(passages)) < len(passages)
