"""BM25 cross-script evidence: token evidence, ranks against another profile, the quadrant, the scatter figure."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest
from page_util import shown_strings

from nanomlqa_viz.bm25 import build_bm25_index
from nanomlqa_viz.cross_script import (
    REASONS,
    TOKEN_REASONS,
    Bm25Reason,
    TokenEvidence,
    bm25_reasons,
    clicked_query,
    distractor_index,
    quadrant,
    quadrant_evidence,
    rank_frame,
    reason_overview,
    reasons_by_pair,
    scatter_figure,
    token_evidence,
)

NO_SHARED_SCRIPT = Bm25Reason.NO_SHARED_SCRIPT
NO_SHARED_TOKENS = Bm25Reason.NO_SHARED_TOKENS
DISTRACTOR_SHARES_MORE = Bm25Reason.DISTRACTOR_SHARES_MORE
TOKENS_SHARED = Bm25Reason.TOKENS_SHARED
OUTSCORED = Bm25Reason.OUTSCORED

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
    assert token_evidence(index, Q_ES_NAME, 1, top_doc_index=4).reason == OUTSCORED
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
            "query_id": ["a", "b", "c", "d", "e", "f"],
            "query_text": ["qa", "qb", "qc", "qd", "qe", "qf"],
            "positive_id": ["pa", "pb", "pc", "pd", "", "pf"],
            "pair": ["ar→de", "es→en", "zh→zh", "de→en", "hi→", "en→en"],
            "script_relation": ["different", "same", "same", "same", "different", "same"],
            "rank_bm25": ints([500, 101, 1, 100, None, 3]),
            "tie_first_bm25": ints([40, 101, 1, 100, None, 3]),
            "tie_last_bm25": ints([900, 101, 1, 100, None, 3]),
            "score_bm25": [0.0, 1.5, 20.0, 2.0, np.nan, 9.0],
            "rank_run": ints([3, 10, 1, 2, None, None]),  # f: a partial run that does not list the positive
            "tie_first_run": ints([3, 9, 1, 2, None, None]),
            "tie_last_run": ints([3, 12, 1, 2, None, None]),
        }
    )


def test_rank_frame_expected_ranks_and_partial_profiles():
    frame = rank_frame(rank_table(), other="run")
    assert list(frame["query_id"]) == ["a", "b", "c", "d"]  # e has no positive, the run does not list f's
    assert list(frame["bm25_expected"]) == [470.0, 101.0, 1.0, 100.0]
    assert list(frame["other_expected"]) == [3.0, 10.5, 1.0, 2.0]
    assert frame["bm25_rank"].dtype.kind == "i" and frame["other_last"].dtype.kind == "i"
    with pytest.raises(KeyError, match="rank_dense"):
        rank_frame(rank_table(), other="dense")


def test_quadrant_uses_expected_ranks_and_boundaries():
    frame = rank_frame(rank_table(), other="run")
    # b: the run ranks it 9–12 (expected 10.5 > 10); d: BM25 rank 100 is not beyond 100
    assert list(quadrant(frame)["query_id"]) == ["a"]
    assert list(quadrant(frame, other_top=11, bm25_beyond=99)["query_id"]) == ["a", "b", "d"]  # worst BM25 first
    assert quadrant(frame, other_top=1, bm25_beyond=1000).empty
    with pytest.raises(ValueError):
        quadrant(frame, other_top=0)


def test_scatter_figure_axes_relations_and_hover():
    fig = scatter_figure(rank_frame(rank_table(), other="run"), other_label="My run", other_top=10, bm25_beyond=100)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert [t.name for t in fig.data] == ["same script (n=3)", "different script (n=1)"]
    different = fig.data[1]
    assert list(different.x) == [470.0] and list(different.y) == [3.0]
    assert [c[0] for c in different.customdata] == ["a"]
    assert different.hovertext[0] == "a · ar→de<br>qa<br>BM25: rank 500 by id, could be 40–900 (expected 470.0)<br>My run: rank 3"
    assert "customdata" not in different.hovertemplate
    assert clicked_query({"selection": {"points": [{"customdata": ["a"]}]}}, ["a", "b"]) == "a"
    assert clicked_query({"selection": {"points": [{"customdata": ["zz"]}]}}, ["a", "b"]) is None
    assert clicked_query(None, ["a"]) is None


def test_scatter_figure_escapes_ids_texts_and_labels():
    table = rank_table()
    table["query_id"] = ["<b>x</b>", "<a href='javascript:alert(1)'>y</a>", "c", "d", "e", "f"]
    table["query_text"] = ["<a href=x>click</a> %{customdata[0]} $x$", "<b>bold</b>", "c", "d", "e", "f"]
    fig = scatter_figure(rank_frame(table, other="run"), other_label="<b>run</b>")
    shown = shown_strings(json.loads(fig.to_json()))
    assert not [s for s in shown if "<b>" in s or "<a" in s or "%{customdata" in s or "$x$" in s]
    assert any("&lt;b&gt;x&lt;/b&gt;" in s for s in shown)
    raw = [c[0] for trace in fig.data for c in trace.customdata]
    assert "<b>x</b>" in raw  # raw ids stay in customdata, for matching a click only


def test_reason_overview_and_pairs_list_every_reason_in_order():
    reasons = pd.DataFrame(
        {
            "query_id": ["a", "b", "c", "d"],
            "reason": [NO_SHARED_SCRIPT.value] * 2 + [DISTRACTOR_SHARES_MORE.value, "a copy or translation was found instead"],
        }
    )
    overview = reason_overview(reasons)
    assert list(overview.index) == [r.value for r in REASONS]
    assert overview.loc[NO_SHARED_SCRIPT, "n"] == 2 and overview.loc[NO_SHARED_SCRIPT, "share"] == pytest.approx(0.5)
    assert overview.loc[Bm25Reason.FOUND_PARALLEL, "n"] == 1  # a legacy label from an older cache is read
    assert overview.loc[NO_SHARED_TOKENS, "n"] == 0
    table = pd.DataFrame({"query_id": ["a", "b", "c", "d"], "pair": ["ar→de", "es→en", "ar→de", "ar→de"]})
    counts = reasons_by_pair(reasons, table)
    assert list(counts.columns) == [*(r.value for r in REASONS), "n"]
    assert list(counts.index) == ["all pairs", "ar→de", "es→en"]
    assert counts.loc["ar→de", "n"] == 3 and counts.loc["all pairs", "n"] == 4
    assert counts.loc["ar→de", NO_SHARED_SCRIPT] == 1 and counts.loc["es→en", NO_SHARED_SCRIPT] == 1
    empty = reason_overview(reasons.iloc[:0])
    assert (empty["n"] == 0).all() and empty["share"].isna().all()
    assert reasons_by_pair(reasons.iloc[:0], table).loc["all pairs", "n"] == 0


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
    frame = rank_frame(table, other="dense")
    assert len(frame) == task.n_queries
    assert (frame["other_rank"] == 1).all()
    rows = quadrant(frame, other_top=1, bm25_beyond=1)
    assert len(rows) == int((frame["bm25_expected"] > 1).sum()) > 0
    ev = quadrant_evidence(rows, task=task, index=index, bm25=bm25)
    assert list(ev["query_id"]) == list(rows["query_id"])
    assert set(ev["reason"]) <= {r.value for r in TOKEN_REASONS}
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
    # given the reasons of bm25_reasons, the quadrant shows exactly those
    reasons = bm25_reasons(task, index=index, bm25=bm25)
    given = quadrant_evidence(rows, task=task, index=index, bm25=bm25, reasons=reasons)
    assert list(given["reason"]) == list(rows["query_id"].map(reasons.set_index("query_id")["reason"]))
    counts = reasons_by_pair(ev, table)
    assert int(counts.loc["all pairs", "n"]) == len(ev)
    assert set(counts.index) - {"all pairs"} == set(ev["pair"])


def test_demo_cross_script_zero_score_queries_cannot_match(demo):
    """Every demo query whose positive is in another script and scores 0: no shared script or no token."""
    task, table, index, bm25 = demo
    zero = table[(table["script_relation"] == "different") & (table["score_bm25"] == 0)]
    assert len(zero) > 0
    for row in zero.itertuples():
        qi = task.query_index[row.query_id]
        ev = token_evidence(index, row.query_text, task.doc_index[row.positive_id])
        assert ev.cannot_match and ev.reason in (NO_SHARED_SCRIPT, NO_SHARED_TOKENS)
        assert bm25.scores[qi, task.doc_index[row.positive_id]] == 0
