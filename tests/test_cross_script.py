"""BM25 cross-script evidence: ranks, the quadrant, token evidence and reasons."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.bm25 import build_bm25_index
from nanomlqa_viz.cross_script import (
    DISTRACTOR_SHARES_MORE,
    NO_SHARED_SCRIPT,
    NO_SHARED_TOKENS,
    REASONS,
    TOKENS_SHARED,
    TOKENS_SHARED_OUTSCORED,
    TokenEvidence,
    distractor_index,
    quadrant,
    quadrant_evidence,
    reason_counts,
    reason_summary,
    scatter_figure,
    scatter_frame,
    token_evidence,
)

CORPUS = [
    # 0: German positive of the Arabic and the Spanish "torre" queries
    "Die Alhambra ist eine Stadtburg auf dem Sabikah-Hügel von Granada in Spanien.",
    # 1: English positive of the Spanish Gutenberg query (shares the name)
    "Johannes Gutenberg introduced printing with movable metal type in Mainz around 1450.",
    # 2: Chinese positive of the Chinese query (shares bigrams)
    "长城是中国古代的军事防御工程，总长度超过两万公里。",
    # 3: a Spanish distractor sharing more with the Spanish Gutenberg query
    "En la ciudad de Maguncia, Johannes Gutenberg trabajó en qué imprenta hasta su muerte en 1468.",
    # 4-6: filler so that idf differs between tokens
    "Der Kaffee stammt ursprünglich aus dem Hochland von Äthiopien.",
    "The monsoon brings heavy rain to South Asia between June and September.",
    "Hà Nội là thủ đô của Việt Nam từ năm 1010.",
]
Q_AR = "ما هو طول سور الصين العظيم؟"  # how long is the Great Wall of China?
Q_ES_NAME = "¿En qué ciudad trabajó Johannes Gutenberg?"
Q_ZH = "长城的总长度是多少？"
Q_ES_NONE = "¿Cuántos metros mide la torre?"
Q_AR_YEAR = "متى بدأ غوتنبرغ الطباعة حوالي عام 1450؟"  # when did Gutenberg start printing, around 1450?


@pytest.fixture(scope="module")
def index():
    return build_bm25_index(CORPUS)


def test_arabic_query_vs_german_positive_has_no_shared_script(index):
    ev = token_evidence(index, Q_AR, 0)
    assert isinstance(ev, TokenEvidence)
    assert ev.query_tokens == ("ما", "هو", "طول", "سور", "الصين", "العظيم")
    assert ev.positive_tokens[:3] == ("die", "alhambra", "ist")
    assert len(set(ev.positive_tokens)) == len(ev.positive_tokens)
    assert ev.shared == () and ev.cannot_match
    assert ev.query_scripts == ("Arabic",) and ev.positive_scripts == ("Latin",)
    assert ev.shared_scripts == ()
    assert ev.reason == NO_SHARED_SCRIPT
    # a distractor does not change "cannot match"
    assert token_evidence(index, Q_AR, 0, top_doc_index=3).reason == NO_SHARED_SCRIPT
    with pytest.raises(FrozenInstanceError):
        ev.reason = TOKENS_SHARED  # type: ignore[misc]


def test_spanish_query_vs_german_positive_shares_script_not_tokens(index):
    ev = token_evidence(index, Q_ES_NONE, 0)
    assert ev.shared == ()
    assert ev.shared_scripts == ("Latin",)
    assert ev.reason == NO_SHARED_TOKENS


def test_spanish_query_vs_english_positive_shares_a_name(index):
    ev = token_evidence(index, Q_ES_NAME, 1)
    assert [t for t, _ in ev.shared] == sorted(["johannes", "gutenberg"], key=lambda t: (-index.token_idf(t), t))
    assert all(idf == pytest.approx(index.token_idf(t)) and idf > 0 for t, idf in ev.shared)
    assert ev.shared_idf == pytest.approx(index.token_idf("johannes") + index.token_idf("gutenberg"))
    assert ev.shared_scripts == ("Latin",)
    assert ev.reason == TOKENS_SHARED and ev.top_doc_index is None
    # BM25's top passage (the Spanish one) shares the name and more: a distractor
    scores = index.score([list(ev.query_tokens)])[0]
    assert int(np.argmax(scores)) == 3
    with_top = token_evidence(index, Q_ES_NAME, 1, top_doc_index=3)
    assert with_top.reason == DISTRACTOR_SHARES_MORE
    assert with_top.top_doc_index == 3
    assert {t for t, _ in with_top.top_shared} >= {"johannes", "gutenberg", "ciudad", "trabajó"}
    assert with_top.top_shared_idf > with_top.shared_idf
    # a top passage sharing less (nothing): the positive was outscored, not out-shared
    assert token_evidence(index, Q_ES_NAME, 1, top_doc_index=4).reason == TOKENS_SHARED_OUTSCORED
    # the positive itself as "top": nothing to compare with
    assert token_evidence(index, Q_ES_NAME, 1, top_doc_index=1).reason == TOKENS_SHARED


def test_chinese_query_vs_chinese_positive_shares_bigrams(index):
    ev = token_evidence(index, Q_ZH, 2)
    assert {t for t, _ in ev.shared} == {"长城", "总长", "长度"}
    assert ev.query_scripts == ("Han",) and ev.shared_scripts == ("Han",)
    assert ev.reason == TOKENS_SHARED
    idfs = [idf for _, idf in ev.shared]
    assert idfs == sorted(idfs, reverse=True)


def test_a_year_matches_across_scripts(index):
    ev = token_evidence(index, Q_AR_YEAR, 1)
    assert [t for t, _ in ev.shared] == ["1450"]
    assert ev.shared_scripts == ()  # digits are no script
    assert ev.query_scripts == ("Arabic",)
    assert ev.reason == TOKENS_SHARED and not ev.cannot_match


# --------------------------------------------------------------------------- ranks and the quadrant


def rank_table() -> pd.DataFrame:
    def ints(values):
        return pd.array(values, dtype="Int64")

    return pd.DataFrame(
        {
            "query_id": ["a", "b", "c", "d", "e"],
            "pair": ["ar→de", "es→en", "zh→zh", "de→en", "hi→en"],
            "query_lang": ["ar", "es", "zh", "de", "hi"],
            "positive_lang": ["de", "en", "zh", "en", "en"],
            "query_script": ["Arabic", "Latin", "Han", "Latin", "Devanagari"],
            "positive_script": ["Latin", "Latin", "Han", "Latin", "Latin"],
            "script_relation": ["different", "same", "same", "same", "different"],
            "rank_bm25": ints([500, 101, 1, 100, None]),
            "rank_dense": ints([3, 10, 1, 2, None]),
            "tie_first_bm25": ints([40, 101, 1, 100, None]),
            "tie_last_bm25": ints([900, 101, 1, 100, None]),
            "score_bm25": [0.0, 1.5, 20.0, 2.0, np.nan],
        }
    )


def test_scatter_frame_and_quadrant_boundaries():
    frame = scatter_frame(rank_table())
    assert list(frame["query_id"]) == ["a", "b", "c", "d"]  # e has no positive
    assert frame["rank_bm25"].dtype.kind == "i" and frame["rank_dense"].dtype.kind == "i"
    q = quadrant(rank_table())
    # dense rank 10 is in (<= 10), BM25 rank 100 is not beyond 100; worst BM25 first
    assert list(q["query_id"]) == ["a", "b"]
    assert list(quadrant(rank_table(), dense_top=3, bm25_beyond=99)["query_id"]) == ["a", "d"]
    assert quadrant(rank_table(), dense_top=1, bm25_beyond=1000).empty
    with pytest.raises(ValueError):
        quadrant(rank_table(), dense_top=0)
    with pytest.raises(KeyError, match="dense"):
        scatter_frame(rank_table().drop(columns="rank_dense"))


def test_scatter_figure_log_axes_and_relations():
    fig = scatter_figure(scatter_frame(rank_table()), dense_top=10, bm25_beyond=100)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names == ["same script (n=3)", "different script (n=1)"]
    assert list(fig.data[1].customdata[0]) == ["a", "ar→de", "40–900"]


def test_reason_counts():
    ev = pd.DataFrame(
        {
            "pair": ["ar→de", "ar→de", "es→en", "ar→de"],
            "reason": [NO_SHARED_SCRIPT, NO_SHARED_SCRIPT, DISTRACTOR_SHARES_MORE, TOKENS_SHARED],
        }
    )
    counts = reason_counts(ev)
    assert list(counts.index) == ["ar→de", "es→en"]
    assert list(counts.columns) == [NO_SHARED_SCRIPT, DISTRACTOR_SHARES_MORE, TOKENS_SHARED, "n"]
    assert counts.loc["ar→de"].tolist() == [2, 0, 1, 3]
    assert counts.loc["es→en"].tolist() == [0, 1, 0, 1]
    assert reason_counts(ev.iloc[:0]).empty


# --------------------------------------------------------------------------- the bundled demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo with BM25 and an oracle "dense" profile (the positive first), so no encoder runs."""
    from nanomlqa_viz.analysis import detect_task_languages, query_table
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile
    from nanomlqa_viz.ranking import RankedProfile

    cache_dir = tmp_path_factory.mktemp("cross_script_demo")
    task = load_task(source="demo", cache_dir=cache_dir)
    ctx = ProfileContext.of(task, ArrayCache(cache_dir))
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    bm25 = bm25_profile(ctx)
    oracle = np.zeros((task.n_queries, task.n_docs))
    for qi, q in enumerate(task.query_ids):
        for d in task.positives(q):
            oracle[qi, task.doc_index[d]] = 1.0
    dense = RankedProfile(name="dense", scores=oracle, id_rank=ctx.id_rank)
    table = query_table(task, languages, {"bm25": bm25, "dense": dense})
    return task, table, ctx.bm25_index, bm25


def test_demo_quadrant_evidence(demo):
    task, table, index, bm25 = demo
    frame = scatter_frame(table)
    assert len(frame) == task.n_queries
    assert (frame["rank_dense"] == 1).all()
    rows = quadrant(table, dense_top=1, bm25_beyond=1)
    assert len(rows) == int((frame["rank_bm25"] > 1).sum()) > 0
    ev = quadrant_evidence(rows, task=task, index=index, bm25=bm25)
    assert list(ev["query_id"]) == list(rows["query_id"])
    assert set(ev["reason"]) <= set(REASONS)
    for row in ev.itertuples():
        if row.bm25_score == 0:  # BM25 scores the positive 0 exactly when nothing is shared
            assert row.reason in (NO_SHARED_SCRIPT, NO_SHARED_TOKENS) and row.shared_tokens == ""
        else:
            assert row.shared_tokens and row.shared_idf > 0
        if row.reason == NO_SHARED_SCRIPT:
            assert row.shared_scripts == "none"
            assert table.set_index("query_id").loc[row.query_id, "script_relation"] == "different"
        if row.reason == DISTRACTOR_SHARES_MORE:
            assert row.distractor_idf > row.shared_idf
        # the distractor is BM25's best passage that is not the positive nor a copy of it
        qi = task.query_index[row.query_id]
        top = distractor_index(task, bm25, qi)
        positive = task.doc_index[task.first_positive(row.query_id)]
        assert top is not None and task.doc_texts[top] != task.doc_texts[positive]
        assert row.distractor_id == task.doc_ids[top]
    counts = reason_counts(ev)
    assert int(counts["n"].sum()) == len(ev)
    assert set(counts.index) == set(ev["pair"])


def test_demo_cross_script_zero_score_queries_cannot_match(demo):
    """Every demo query whose positive is in another script and scores 0: no shared script or no token."""
    task, table, index, bm25 = demo
    zero = table[(table["script_relation"] == "different") & (table["score_bm25"] == 0)]
    for row in zero.itertuples():
        qi = task.query_index[row.query_id]
        ev = token_evidence(index, row.query_text, task.doc_index[row.positive_id])
        assert ev.cannot_match and ev.reason in (NO_SHARED_SCRIPT, NO_SHARED_TOKENS)
        assert bm25.scores[qi, task.doc_index[row.positive_id]] == 0


def test_reason_summary_lists_every_reason():
    ev = pd.DataFrame({"pair": ["ar→de", "ar→de", "es→en", "ar→de"], "reason": [NO_SHARED_SCRIPT] * 3 + [TOKENS_SHARED]})
    summary = reason_summary(ev)
    assert list(summary.index) == list(REASONS)
    assert summary.loc[NO_SHARED_SCRIPT, "n"] == 3 and summary.loc[NO_SHARED_SCRIPT, "share"] == pytest.approx(0.75)
    assert summary.loc[NO_SHARED_TOKENS, "n"] == 0
    empty = reason_summary(ev.iloc[:0])
    assert (empty["n"] == 0).all() and empty["share"].isna().all()
