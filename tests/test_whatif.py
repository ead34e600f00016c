"""The hybrid what-if: fused ranks agree with the hybrid profile and with a brute-force fusion."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.analysis import positive_doc_indices
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.metrics import METRIC_KEYS, query_metrics
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.whatif import (
    CONTRIBUTION_COLUMNS,
    DEFAULT_KS,
    DEFAULT_WEIGHT_PAIRS,
    Positives,
    fused_metrics,
    listed_positives,
    metrics_from_ranks,
    positive_fused_rank,
    query_contributions,
    query_weights,
    sweep,
    sweep_figure,
    weight_label,
)


@pytest.fixture(scope="module")
def demo(demo_profiles):
    task, ctx, profiles = demo_profiles
    bm25, dense, hybrid = profiles["bm25"], profiles["dense"], profiles["hybrid"]
    positives = [task.doc_index[task.first_positive(q)] for q in task.query_ids]
    return {
        "task": task,
        "ctx": ctx,
        "bm25": bm25,
        "dense": dense,
        "hybrid": hybrid,
        "b": bm25.full_ranks(),
        "d": dense.full_ranks(),
        "positives": np.array(positives),
    }


def brute_ranks(b, d, positives, *, params, id_rank):
    """Fused ranks of the positives through a full RankedProfile built from rrf_scores."""
    fused, secondary = rrf_scores([b, d], params=params)
    profile = RankedProfile(name="x", scores=fused, id_rank=id_rank, secondary=secondary)
    return np.array([profile.rank_info(qi, int(p)).rank for qi, p in enumerate(positives)])


def test_default_params_match_the_hybrid_profile(demo):
    ranks = positive_fused_rank(demo["b"], demo["d"], demo["positives"], id_rank=demo["ctx"].id_rank)
    expected = [demo["hybrid"].rank_info(qi, int(p)).rank for qi, p in enumerate(demo["positives"])]
    assert ranks.tolist() == expected


@pytest.mark.parametrize(
    "params",
    [
        FusionParams(k=1.0, depth=5, weights=(1.0, 1.0)),  # most positives outside both lists: tie-break counts
        FusionParams(k=60.0, depth=50, weights=(0.3, 1.0)),
        FusionParams(k=10.0, depth=20, weights=(1.0, 0.0)),  # zero weight: listed passages score 0 too
        FusionParams(k=0.0, depth=1000, weights=(2.0, 0.5)),
        FusionParams(k=100.0, depth=3, weights=(1.0, 1.0), tie_break="id"),
        FusionParams(k=5.0, depth=30, weights=(-0.5, 1.0)),  # negative weight: unlisted passages ahead
    ],
)
def test_other_params_match_a_brute_force_fusion(demo, params):
    ids = demo["ctx"].id_rank
    ranks = positive_fused_rank(demo["b"], demo["d"], demo["positives"], params=params, id_rank=ids)
    assert ranks.tolist() == brute_ranks(demo["b"], demo["d"], demo["positives"], params=params, id_rank=ids).tolist()


def test_random_ranks_with_many_ties_match_brute_force():
    rng = np.random.default_rng(3)
    n_q, n_docs = 6, 40
    b = np.stack([rng.permutation(n_docs) + 1 for _ in range(n_q)])
    d = np.stack([rng.permutation(n_docs) + 1 for _ in range(n_q)])
    ids = id_order([f"doc{rng.integers(1000):04d}-{i}" for i in range(n_docs)])
    positives = rng.integers(0, n_docs, size=n_q)
    for params in (FusionParams(k=0.0, depth=4), FusionParams(k=2.0, depth=10, weights=(1.0, 1.0)), FusionParams(depth=40)):
        ranks = positive_fused_rank(b, d, positives, params=params, id_rank=ids)
        assert ranks.tolist() == brute_ranks(b, d, positives, params=params, id_rank=ids).tolist()


def test_query_contributions_add_up_and_follow_the_hybrid_order(demo):
    hybrid, ids = demo["hybrid"], demo["ctx"].id_rank
    for qi in (0, 7, 23):
        pos = int(demo["positives"][qi])
        frame = query_contributions(demo["b"][qi], demo["d"][qi], params=FusionParams(), top=10, id_rank=ids, extra=[pos])
        assert list(frame.columns) == CONTRIBUTION_COLUMNS
        top = frame[frame["in_top"]]
        assert top["doc"].tolist() == hybrid.top(qi, 10).tolist()
        assert top["fused_rank"].tolist() == list(range(1, 11))
        np.testing.assert_allclose(frame["contribution_a"] + frame["contribution_b"], frame["fused"], rtol=0, atol=1e-15)
        np.testing.assert_array_equal(frame["fused"], hybrid.scores[qi, frame["doc"]])
        assert frame["rank_a"].tolist() == demo["b"][qi, frame["doc"]].tolist()
        assert frame["rank_b"].tolist() == demo["d"][qi, frame["doc"]].tolist()
        row = frame[frame["doc"] == pos].iloc[0]
        assert row["fused_rank"] == hybrid.rank_info(qi, pos).rank
        assert len(frame) == 10 + (row["fused_rank"] > 10)


def test_contributions_are_zero_beyond_the_depth():
    b = np.array([1, 2, 3, 4])
    d = np.array([4, 3, 2, 1])
    frame = query_contributions(b, d, params=FusionParams(k=10.0, depth=2), top=4)
    by_doc = frame.set_index("doc")
    assert by_doc.loc[0, "contribution_a"] == pytest.approx(1 / 11) and by_doc.loc[0, "contribution_b"] == 0.0
    assert by_doc.loc[2, "contribution_a"] == 0.0 and by_doc.loc[2, "contribution_b"] == pytest.approx(1 / 12)
    # docs 0 and 3 tie (1/11) and docs 1 and 2 tie (1/12); best single-list rank ties too, then id
    assert frame["doc"].tolist() == [0, 3, 1, 2]


def test_metrics_from_ranks_follow_the_project_conventions():
    pos = Positives.of([[3, 5], [1], [], [2]], n_queries=4)
    ranks = np.array([2, 15, 1, 120])
    frame = metrics_from_ranks(ranks, pos)
    expected = [query_metrics([2, 15], 2), query_metrics([1], 1), query_metrics([], 0), query_metrics([120], 1)]
    pd.testing.assert_frame_equal(frame, pd.DataFrame(expected, columns=list(METRIC_KEYS)), check_exact=False, rtol=1e-12)


def test_sweep_matches_per_setting_metrics_and_the_profiles(demo):
    task, ids = demo["task"], demo["ctx"].id_rank
    positives = positive_doc_indices(task)
    ks = (1, 10, 100)
    weights = ((0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.5, 1.0))
    frame = sweep(
        demo["b"], demo["d"], positives, ks=ks, weight_pairs=weights, depth=500, metric=["hit@10", "ndcg@10"], id_rank=ids
    )
    assert len(frame) == len(ks) * len(weights)
    assert list(frame.columns) == ["k", "w_a", "w_b", "hit@10", "ndcg@10", "n"]
    assert (frame["n"] == task.n_queries).all()
    for row in frame.to_dict("records"):
        params = FusionParams(k=row["k"], depth=500, weights=(row["w_a"], row["w_b"]))
        brute = brute_ranks(demo["b"], demo["d"], demo["positives"], params=params, id_rank=ids)
        per_query = pd.DataFrame([query_metrics([r], 1) for r in brute])
        assert row["hit@10"] == pytest.approx(per_query["hit@10"].mean())
        assert row["ndcg@10"] == pytest.approx(per_query["ndcg@10"].mean())
    # the default setting reproduces the hybrid profile; dense-only reproduces dense at @10
    from nanomlqa_viz.analysis import profile_query_metrics

    hybrid_mean = profile_query_metrics(task, demo["hybrid"])["hit@10"].mean()
    dense_mean = profile_query_metrics(task, demo["dense"])["hit@10"].mean()
    at = frame.set_index(["k", "w_a", "w_b"])["hit@10"]
    assert at[(100.0, 1.0, 1.0)] == pytest.approx(hybrid_mean)
    assert at[(100.0, 0.0, 1.0)] == pytest.approx(dense_mean)
    current = fused_metrics(demo["b"], demo["d"], positives, params=FusionParams(), id_rank=ids)
    assert current["hit@10"].mean() == pytest.approx(hybrid_mean)


def test_sweep_rejects_bad_input(demo):
    with pytest.raises(KeyError):
        sweep(demo["b"], demo["d"], demo["positives"], metric="p@5")
    with pytest.raises(ValueError):
        sweep(demo["b"], demo["d"], demo["positives"], depth=0)
    with pytest.raises(ValueError):
        positive_fused_rank(demo["b"], demo["d"][:3], demo["positives"])
    with pytest.raises(ValueError):
        positive_fused_rank(demo["b"], demo["d"], demo["positives"][:3])


def test_sweep_is_fast_on_a_corpus_sized_input():
    rng = np.random.default_rng(0)
    n_q, n_docs = 196, 10_000
    b = np.argsort(rng.random((n_q, n_docs)), axis=1).argsort(axis=1).astype(np.int32) + 1
    d = np.argsort(rng.random((n_q, n_docs)), axis=1).argsort(axis=1).astype(np.int32) + 1
    positives = rng.integers(0, n_docs, size=n_q)
    started = time.perf_counter()
    frame = sweep(b, d, positives, ks=DEFAULT_KS, weight_pairs=DEFAULT_WEIGHT_PAIRS, depth=500, metric="hit@10")
    elapsed = time.perf_counter() - started
    assert len(frame) == len(DEFAULT_KS) * len(DEFAULT_WEIGHT_PAIRS)
    assert elapsed < 10.0, f"sweep took {elapsed:.1f}s"


def test_sweep_figure_draws_lines_markers_and_references(demo):
    frame = sweep(demo["b"], demo["d"], demo["positives"], metric="hit@10", id_rank=demo["ctx"].id_rank)
    best = frame.loc[frame["hit@10"].idxmax()]
    fig = sweep_figure(
        frame,
        metric="hit@10",
        lines=[(0.5, 1.0), (1.0, 1.0)],
        current=(60.0, (1.0, 1.0), 0.3),
        best=(best["k"], (best["w_a"], best["w_b"]), best["hit@10"]),
        default=(100.0, 0.22),
        references=[("dense only", 0.34), ("BM25 only", 0.2)],
        n=50,
    )
    names = [t.name for t in fig.data]
    assert names[:2] == ["0.5:1", "1:1 (current)"]
    assert {"default", "current"} <= set(names)
    assert any(name.startswith("best (") for name in names)
    assert weight_label(0.5, 1.0) in fig.data[0].hovertemplate
    assert len(fig.layout.shapes) == 2 and fig.layout.xaxis.type == "log"


def brute_ranks_per_query(a, b, positives, *, weights, params, id_rank):
    """Each query fused on its own with its own (w_a, w_b), through rrf_scores and a RankedProfile."""
    out = []
    for qi, p in enumerate(positives):
        row = FusionParams(k=params.k, depth=params.depth, weights=tuple(weights[qi]), tie_break=params.tie_break)
        out.append(brute_ranks(a[qi : qi + 1], b[qi : qi + 1], [p], params=row, id_rank=id_rank)[0])
    return np.array(out)


@pytest.mark.parametrize(
    "params",
    [FusionParams(), FusionParams(k=1.0, depth=5), FusionParams(k=60.0, depth=50, weights=(0.3, 0.7), tie_break="id")],
)
def test_constant_per_query_weights_reproduce_the_pair_exactly(demo, params):
    ids = demo["ctx"].id_rank
    n_q = demo["b"].shape[0]
    plain = positive_fused_rank(demo["b"], demo["d"], demo["positives"], params=params, id_rank=ids)
    per_query = np.tile(np.array(params.weights), (n_q, 1))
    ranks = positive_fused_rank(demo["b"], demo["d"], demo["positives"], params=params, weights=per_query, id_rank=ids)
    np.testing.assert_array_equal(ranks, plain)
    pd.testing.assert_frame_equal(
        fused_metrics(demo["b"], demo["d"], demo["positives"], params=params, weights=per_query, id_rank=ids),
        fused_metrics(demo["b"], demo["d"], demo["positives"], params=params, id_rank=ids),
        check_exact=True,
    )


def test_per_query_weights_fuse_each_query_with_its_own_pair(demo):
    ids = demo["ctx"].id_rank
    n_q = demo["b"].shape[0]
    rng = np.random.default_rng(5)
    weights = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=(n_q, 1))
    weights = np.hstack([weights, 1.0 - weights])
    assert len({tuple(w) for w in weights}) > 2
    for params in (FusionParams(), FusionParams(k=5.0, depth=20)):
        ranks = positive_fused_rank(demo["b"], demo["d"], demo["positives"], params=params, weights=weights, id_rank=ids)
        expected = brute_ranks_per_query(demo["b"], demo["d"], demo["positives"], weights=weights, params=params, id_rank=ids)
        assert ranks.tolist() == expected.tolist()
        # a query's rank depends on its own pair only
        for qi in (0, 9):
            alone = positive_fused_rank(
                demo["b"], demo["d"], demo["positives"], params=params, weights=tuple(weights[qi]), id_rank=ids
            )
            assert ranks[qi] == alone[qi]


def test_any_two_profiles_fuse_like_rrf_scores(demo):
    """Not only BM25 + dense: dense fused with the hybrid, A and B in either order."""
    ids = demo["ctx"].id_rank
    hybrid = demo["hybrid"].full_ranks()
    params = FusionParams(k=20.0, depth=30, weights=(1.0, 0.4))
    for a, b in ((demo["d"], hybrid), (hybrid, demo["d"])):
        ranks = positive_fused_rank(a, b, demo["positives"], params=params, id_rank=ids)
        assert ranks.tolist() == brute_ranks(a, b, demo["positives"], params=params, id_rank=ids).tolist()
    frame = sweep(demo["d"], hybrid, demo["positives"], ks=(20.0,), weight_pairs=[(1.0, 0.4)], depth=30, id_rank=ids)
    per_query = metrics_from_ranks(positive_fused_rank(demo["d"], hybrid, demo["positives"], params=params, id_rank=ids),
                                   Positives.of(demo["positives"], n_queries=len(demo["positives"])))  # fmt: skip
    assert frame["hit@10"].iloc[0] == pytest.approx(per_query["hit@10"].mean())


def test_listed_positives_give_single_profile_ranks_and_check_weights(demo):
    lists = listed_positives(demo["b"], demo["d"], demo["positives"], id_rank=demo["ctx"].id_rank)
    q, docs = lists.positives.query, lists.positives.doc
    np.testing.assert_array_equal(lists.pos_rank_a, demo["b"][q, docs])
    np.testing.assert_array_equal(lists.pos_rank_b, demo["d"][q, docs])
    n_q = lists.positives.n_queries
    with pytest.raises(ValueError):
        lists.fused_ranks(k=100.0, weights=np.ones((n_q - 1, 2)))
    with pytest.raises(ValueError):
        lists.fused_ranks(k=100.0, weights=(1.0, np.nan))
    with pytest.raises(ValueError):
        lists.fused_ranks(k=-1.0, weights=(1.0, 1.0))
    assert query_weights((0.2, 0.8), n_queries=3).tolist() == [[0.2, 0.8]] * 3


def test_sweep_figure_names_the_profiles_and_escapes_them(demo):
    frame = sweep(demo["d"], demo["b"], demo["positives"], ks=(10, 100), weight_pairs=[(1.0, 1.0)], metric="hit@10")
    fig = sweep_figure(frame, metric="hit@10", lines=[(1.0, 1.0)], names=("<b>dense</b>", "A&B"), references=[("<i>x</i>", 0.2)])
    assert "&lt;b&gt;dense&lt;/b&gt;:A&amp;B 1:1" in fig.data[0].hovertemplate
    assert "<b>" not in fig.data[0].hovertemplate
    assert fig.layout.legend.title.text == "&lt;b&gt;dense&lt;/b&gt;:A&amp;B"
    assert fig.layout.annotations[0].text.startswith("&lt;i&gt;x&lt;/i&gt;")
    assert weight_label(0.5, 1.0, names=("dense", "hybrid")) == "dense:hybrid 0.5:1"
