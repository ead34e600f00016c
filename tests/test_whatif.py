"""The hybrid what-if: fused ranks agree with the hybrid profile and with a brute-force fusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.analysis import positive_doc_indices
from nanomlqa_viz.fusion import FusionParams, rrf_scores
from nanomlqa_viz.metrics import METRIC_KEYS, query_metrics
from nanomlqa_viz.ranking import RankedProfile, id_order
from nanomlqa_viz.tie_metrics import tie_aware_metrics
from nanomlqa_viz.whatif import (
    CONTRIBUTION_COLUMNS,
    DEFAULT_KS,
    DEFAULT_WEIGHT_PAIRS,
    PLACEMENT_COLUMNS,
    Positives,
    best_per_weight,
    contributions_table,
    default_query,
    fusable_names,
    fused_metrics,
    fused_tie_metrics,
    fusion_ranks,
    levels,
    listed_positives,
    metrics_from_ranks,
    placement_table,
    positive_fused_rank,
    query_contributions,
    query_weights,
    relevant_indices,
    sweep,
    sweep_figure,
    top_overlap,
    view_fused_metrics,
    view_ranks,
    view_sweep,
    view_sweep_figure,
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


def brute_tie_metrics(a, b, relevant, *, params, weights=None):
    """Tie-aware metrics of the full fused score matrix (fusion.rrf_scores, row by row with per-query weights)."""
    if weights is None:
        fused, secondary = rrf_scores([a, b], params=params)
    else:
        rows = [
            rrf_scores([a[qi : qi + 1], b[qi : qi + 1]], params=FusionParams(k=params.k, depth=params.depth,
                       weights=tuple(weights[qi]), tie_break=params.tie_break))
            for qi in range(a.shape[0])
        ]  # fmt: skip
        fused, secondary = np.vstack([r[0] for r in rows]), np.vstack([r[1] for r in rows])
    ids = [str(i) for i in range(a.shape[0])]
    return tie_aware_metrics(fused, [list(r) for r in relevant], query_ids=ids, secondary=secondary)


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
        brute = brute_tie_metrics(demo["b"], demo["d"], positives, params=params).expected
        assert row["hit@10"] == pytest.approx(brute["hit@10"].mean(), abs=1e-12)
        assert row["ndcg@10"] == pytest.approx(brute["ndcg@10"].mean(), abs=1e-12)
    # the default setting reproduces the hybrid profile (tie-aware); B alone within the depth is dense's id-broken order at @10
    from nanomlqa_viz.analysis import profile_query_metrics

    relevant = positive_doc_indices(task)
    hybrid_mean = tie_aware_metrics(demo["hybrid"].scores, relevant, query_ids=task.query_ids, secondary=demo["hybrid"].secondary)
    hybrid_mean = hybrid_mean.expected["hit@10"].mean()
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
    relevant = [[int(p)] for p in demo["positives"]]
    brute = brute_tie_metrics(demo["d"], hybrid, relevant, params=params).expected
    assert frame["hit@10"].iloc[0] == pytest.approx(brute["hit@10"].mean(), abs=1e-12)


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


# --------------------------------------------------------------------------- tie-aware fusion


def random_case(rng, *, n_q=6, n_docs=30, partial=False):
    a = np.stack([rng.permutation(n_docs) + 1 for _ in range(n_q)])
    b = np.stack([rng.permutation(n_docs) + 1 for _ in range(n_q)])
    if partial:  # a run listing half the passages; the last query not at all
        a[a > n_docs // 2] = n_docs + 1
        a[-1] = n_docs + 1
    relevant = [sorted({int(x) for x in rng.integers(0, n_docs, size=int(rng.integers(0, 4)))}) for _ in range(n_q)]
    return a, b, relevant


@pytest.mark.parametrize("seed", range(6))
def test_tie_aware_metrics_equal_those_of_the_full_fused_matrix(seed):
    """Blocks of equal fused score and best rank (frequent with equal weights) in every case the page can reach."""
    rng = np.random.default_rng(seed)
    cases = [
        FusionParams(k=100.0, depth=10),  # A-only rank r and B-only rank r tie exactly
        FusionParams(k=0.0, depth=3, weights=(1.0, 1.0)),  # most relevant passages unlisted: ties at score 0
        FusionParams(k=5.0, depth=8, weights=(0.0, 1.0)),  # A's listed passages score 0 with the unlisted ones
        FusionParams(k=2.0, depth=12, weights=(-0.5, 1.0)),  # negative weight: the unlisted block is ahead
        FusionParams(k=10.0, depth=30, weights=(0.7, 0.3), tie_break="id"),  # blocks by score alone
    ]
    for partial in (False, True):
        a, b, relevant = random_case(rng, partial=partial)
        for params in cases:
            fast = fused_tie_metrics(a, b, relevant, params=params)
            brute = brute_tie_metrics(a, b, relevant, params=params)
            for case in ("expected", "worst", "best"):
                pd.testing.assert_frame_equal(getattr(fast, case), getattr(brute, case), check_exact=False, atol=1e-12)
        weights = rng.choice([0.0, 0.5, 1.0], size=(a.shape[0], 2))
        weights[:, 1] = 1.0
        params = FusionParams(k=3.0, depth=9)
        fast = fused_tie_metrics(a, b, relevant, params=params, weights=weights)
        brute = brute_tie_metrics(a, b, relevant, params=params, weights=weights)
        pd.testing.assert_frame_equal(fast.expected, brute.expected, check_exact=False, atol=1e-12)


def test_ties_change_the_expected_value_and_the_interval_shows_them():
    """Passage 0 at A-rank 1 only and passage 1 at B-rank 1 only: equal score and best rank, one block of 2."""
    a = np.array([[1, 5, 2, 3, 4]])
    b = np.array([[5, 1, 2, 3, 4]])
    params = FusionParams(k=10.0, depth=1)
    metrics = fused_tie_metrics(a, b, [[1]], params=params)
    assert metrics.expected["hit@1"].iloc[0] == pytest.approx(0.5)
    assert metrics.worst["hit@1"].iloc[0] == 0.0 and metrics.best["hit@1"].iloc[0] == 1.0
    assert metrics.expected["mrr@10"].iloc[0] == pytest.approx(0.75)
    frame = query_contributions(a[0], b[0], params=params, top=2)
    assert frame["doc"].tolist() == [0, 1]  # id-broken: passage 0 first
    assert frame[["tie_first", "tie_last"]].values.tolist() == [[1, 2], [1, 2]]
    assert positive_fused_rank(a, b, [1], params=params).tolist() == [2]


def test_fusion_ranks_move_unlisted_passages_beyond_every_depth():
    scores = np.array([[3.0, -np.inf, 1.0, -np.inf], [-np.inf] * 4], dtype=np.float32)
    run = RankedProfile(name="r", scores=scores, id_rank=np.arange(4), partial=True, covered=np.array([True, False]))
    ranks = fusion_ranks(run)
    assert ranks.tolist() == [[1, 5, 2, 5], [5, 5, 5, 5]]
    full = RankedProfile(name="f", scores=np.array([[0.1, 0.3, 0.2, 0.0]]), id_rank=np.arange(4))
    assert fusion_ranks(full).tolist() == [[3, 1, 2, 4]]
    # fused with a full profile, a query the run does not rank is the other profile alone
    other = np.array([[2, 1, 3, 4], [4, 3, 2, 1]])
    fused = fused_metrics(ranks, other, [[0], [3]], params=FusionParams(depth=4))
    assert fused["hit@1"].tolist() == [1.0, 1.0]


# --------------------------------------------------------------------------- from a view


def write_demo_run(path, task, bm25, *, n_queries=30, depth=20):
    """A TREC run of BM25's top ``depth`` for the first ``n_queries`` queries (the others not ranked)."""
    lines = []
    for qi, qid in enumerate(task.query_ids[:n_queries]):
        for rank, doc in enumerate(bm25.top(qi, depth), start=1):
            lines.append(f"{qid} Q0 {task.doc_ids[doc]} {rank} {depth - rank + 1}.5 test")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    from nanomlqa_viz.encoders import default_dense_model
    from nanomlqa_viz.pipeline import Pipeline, RunFile

    tmp = tmp_path_factory.mktemp("whatif_views")
    pipeline = Pipeline(source="demo", split="mlqa", cache_dir=tmp)
    run = RunFile.from_path(name="my.run-1", path=write_demo_run(tmp / "run.trec", pipeline.task, pipeline.bm25))
    return {
        mode: pipeline.view(dense_models=[default_dense_model()], runs=[run], mode=mode)
        for mode in ("strict", "copies", "parallel")
    }


@pytest.mark.parametrize("mode", ["strict", "copies", "parallel"])
def test_default_fusion_of_bm25_and_dense_is_the_hybrid_in_every_mode(views, mode):
    view = views[mode]
    fused = view_fused_metrics(view, "bm25", "dense")
    hybrid = view.tie_metrics()["hybrid"]
    for case in ("expected", "worst", "best"):
        pd.testing.assert_frame_equal(getattr(fused, case), getattr(hybrid, case), check_exact=False, atol=1e-12)
    swapped = view_fused_metrics(view, "dense", "bm25")  # A first or B first: the same sums
    pd.testing.assert_frame_equal(swapped.expected, hybrid.expected, check_exact=False, atol=1e-12)
    grid = view_sweep(view, "bm25", "dense", depth=500, ks=(60, 100), weight_pairs=[(1.0, 1.0), (0.0, 1.0)])
    at = grid.set_index(["k", "w_a", "w_b"])
    assert at.loc[(100.0, 1.0, 1.0), "ndcg@10"] == pytest.approx(hybrid.expected["ndcg@10"].mean(), abs=1e-12)
    assert (grid["n"] == view.task.n_queries).all()
    lv = levels(view, "bm25", "dense", FusionParams(), "hit@10")
    assert lv["current"] == lv["default"] == hybrid.summary()["hit@10"]
    assert lv["a"] == pytest.approx(view.per_query()["bm25"]["hit@10"].mean())
    assert lv["b"] == pytest.approx(view.per_query()["dense"]["hit@10"].mean())


def test_results_follow_the_relevance_mode(views):
    strict, parallel = views["strict"], views["parallel"]
    params = FusionParams(k=60.0, weights=(0.5, 1.0))
    s = view_fused_metrics(strict, "bm25", "dense", params).expected["hit@10"].mean()
    p = view_fused_metrics(parallel, "bm25", "dense", params).expected["hit@10"].mean()
    assert p > s  # parallel passages count as relevant: more hits
    n_strict = sum(len(r) for r in relevant_indices(strict))
    assert n_strict == strict.task.n_qrels < sum(len(r) for r in relevant_indices(parallel))
    sweeps = [view_sweep(v, "bm25", "dense", depth=500, ks=(100,), weight_pairs=[(1.0, 1.0)]) for v in (strict, parallel)]
    assert sweeps[0]["hit@10"].iloc[0] != sweeps[1]["hit@10"].iloc[0]


def test_a_run_fuses_with_a_full_profile(views):
    view = views["strict"]
    assert "my.run-1" in fusable_names(view) and "hybrid" in fusable_names(view)
    assert not any(n.startswith("reference/") for n in fusable_names(view))
    run = view.registry["my.run-1"].profile
    ranks = view_ranks(view, "my.run-1")
    expected = run.full_ranks()
    expected[~np.isfinite(run.scores)] = view.task.n_docs + 1
    np.testing.assert_array_equal(ranks, expected)
    params = FusionParams(k=20.0, depth=50, weights=(1.0, 0.5))
    relevant = relevant_indices(view)
    brute = brute_tie_metrics(ranks, view.registry["dense"].profile.full_ranks(), relevant, params=params).expected
    fused = view_fused_metrics(view, "my.run-1", "dense", params).expected
    np.testing.assert_allclose(fused.to_numpy(), brute.to_numpy(), atol=1e-12)
    # a query the run does not rank: its rank column says so, and the fusion is dense alone there
    qid = view.task.query_ids[-1]
    place = placement_table(view, "my.run-1", "dense", params, qid)
    assert list(place.columns) == PLACEMENT_COLUMNS and (place["rank_a"] == "not listed").all()
    assert (place["contribution_a"] == 0).all()
    top = contributions_table(view, "my.run-1", "dense", params, qid)
    assert top["rank_a"].isna().all() and (top["contribution_a"] == 0).all()


def test_one_query_tables_in_the_parallel_mode(views):
    view = views["parallel"]
    task = view.task
    qid = default_query(view, "bm25", "dense")
    assert qid in task.query_ids
    qi = task.query_index[qid]
    place = placement_table(view, "bm25", "dense", FusionParams(), qid)
    assert len(place) == min(25, len(relevant_indices(view)[qi]))
    assert set(place["relation"]) <= {"qrels", "copy", "parallel"} and "qrels" in set(place["relation"])
    assert (place["fused_rank"] == place["default_rank"]).all()  # the default sliders are the default fusion
    hybrid = view.registry["hybrid"].profile
    first = place.iloc[0]
    info = hybrid.rank_info(qi, task.doc_index[first["doc_id"]])
    assert first["fused_rank"] == info.interval()
    dense = view.registry["dense"].profile.rank_info(qi, task.doc_index[first["doc_id"]])
    assert first["rank_b"] == (f"{dense.rank:,}" if dense.ties == 0 else f"{dense.rank:,} (tied {dense.interval()})")
    tied = place[place["rank_a"].str.contains("tied")]
    assert all(
        int(r.split(" ")[0].replace(",", "")) >= int(r.split("(tied ")[1].split("–")[0].replace(",", "")) for r in tied["rank_a"]
    )
    top = contributions_table(view, "bm25", "dense", FusionParams(k=10.0), qid)
    assert top["fused_rank"].tolist()[:10] == list(range(1, 11))
    relevant = {task.doc_ids[d] for d in relevant_indices(view)[qi]}
    assert top["relevant"].eq("✓").tolist() == [d in relevant for d in top["doc_id"]]
    np.testing.assert_allclose(top["contribution_a"] + top["contribution_b"], top["fused"], atol=1e-15)
    overlap = top_overlap(view, "bm25", "dense")
    assert overlap["both"] + overlap["a_only"] + overlap["b_only"] + overlap["neither"] == overlap["n"] == task.n_queries


def test_best_per_weight_and_the_page_figure(views):
    view = views["strict"]
    params = FusionParams(k=30.0, weights=(0.4, 1.0))
    figure, grid = view_sweep_figure(view, "bm25", "dense", params, "ndcg@10")
    assert len(grid) == len(DEFAULT_KS) * len(DEFAULT_WEIGHT_PAIRS)
    names = [t.name for t in figure.data]
    assert "0.4:1 (current)" in names and "current" in names and "default" in names
    current = next(t for t in figure.data if t.name == "current")
    assert current.y[0] == pytest.approx(view_fused_metrics(view, "bm25", "dense", params).expected["ndcg@10"].mean())
    table = best_per_weight(grid, "ndcg@10")
    assert len(table) == len(DEFAULT_WEIGHT_PAIRS) and table["ndcg@10"].is_monotonic_decreasing
    assert (table["n"] == view.task.n_queries).all()
    one = grid[(grid["w_a"] == 1.0) & (grid["w_b"] == 1.0)]
    assert table.set_index("weights").loc["1:1", "ndcg@10"] == pytest.approx(one["ndcg@10"].max())
