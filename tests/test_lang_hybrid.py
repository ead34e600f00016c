"""Language-aware hybrid: per-group weights fitted on half the queries, measured on the other half."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.analysis import detect_task_languages, positive_doc_indices, query_table
from nanomlqa_viz.fusion import FusionParams
from nanomlqa_viz.lang_hybrid import (
    BASELINES,
    NO_POSITIVE,
    PAIR_TABLE_COLUMNS,
    PER_PAIR_COLUMNS,
    LangHybridParams,
    gain_figure,
    language_aware_hybrid,
    language_aware_hybrid_report,
    pair_table,
    query_groups,
    view_language_aware_hybrid,
    weights_figure,
)
from nanomlqa_viz.whatif import fused_metrics, metrics_from_ranks, positive_fused_rank

N_DOCS = 400


def ranks_with_positive(rng, positive: int, rank: int) -> np.ndarray:
    """A random full ranking of N_DOCS passages (1-based) with ``positive`` at ``rank``."""
    order = [d for d in rng.permutation(N_DOCS) if d != positive]
    order.insert(rank - 1, positive)
    ranks = np.empty(N_DOCS, dtype=np.int32)
    ranks[np.array(order)] = np.arange(1, N_DOCS + 1)
    return ranks


def synthetic(*, n_per_group: int = 40, effect: bool, seed: int = 1):
    """Two groups of queries; with ``effect`` profile A is perfect for "x" and useless for "y".

    With the effect, A puts the positive first for "x" and beyond the depth (200) for "y"; B
    puts it at a random rank in 101..200 for "x" (weak) and in 1..12 for "y" (useful), so equal
    weights serve neither group. Without the effect both groups are alike: A at 1..40, B at 1..12.
    """
    rng = np.random.default_rng(seed)
    groups = ["x"] * n_per_group + ["y"] * n_per_group
    positives = rng.integers(0, N_DOCS, size=len(groups))
    a, b = [], []
    for g, p in zip(groups, positives):
        if effect:
            rank_a = 1 if g == "x" else int(rng.integers(300, N_DOCS + 1))
            rank_b = int(rng.integers(101, 201)) if g == "x" else int(rng.integers(1, 13))
        else:
            rank_a, rank_b = int(rng.integers(1, 41)), int(rng.integers(1, 13))
        a.append(ranks_with_positive(rng, p, rank_a))
        b.append(ranks_with_positive(rng, p, rank_b))
    pairs = [f"{g}→{'x' if i % 2 else 'y'}" for i, g in enumerate(groups)]
    return np.stack(a), np.stack(b), positives, groups, pairs


PARAMS = LangHybridParams(depth=200, splits=12, metric="ndcg@10", min_group=5)


def share_a(weights: tuple[float, float]) -> float:
    return weights[0] / (weights[0] + weights[1])


def test_a_group_effect_is_found_and_survives_held_out_queries():
    a, b, positives, groups, pairs = synthetic(effect=True)
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS, names=("A", "B"))
    assert share_a(result.chosen["x"]) > 0.5 > share_a(result.chosen["y"])
    fitted = result.split_weights.groupby("group")["share_a"]
    assert fitted.min()["x"] > 0.5 and fitted.max()["y"] < 0.5  # on every split's fit half too
    o = result.overall
    assert o["n"] == len(groups)
    for baseline in BASELINES:
        assert o[f"gain_vs_{baseline}"] > 0.05, baseline
        assert o[f"p_vs_{baseline}"] < 0.01, baseline
        assert (result.held_out[f"gain_vs_{baseline}"] > 0).all(), baseline
    assert o["lang_aware"] == pytest.approx(result.per_query["lang_aware"].mean())
    # x queries: A alone finds every positive at rank 1 (nDCG 1) and the fit keeps it on held-out x queries
    x = result.per_query[result.per_query["group"] == "x"]
    assert (x["lang_aware"] == 1.0).all()


def test_no_group_effect_gives_no_held_out_gain():
    a, b, positives, groups, pairs = synthetic(effect=False, seed=2)
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS)
    o = result.overall
    # in sample, per-group weights can only match or beat one weight: the held-out gain has no such floor
    assert o["in_sample_lang_aware"] >= o["in_sample_global_tuned"] - 1e-12
    assert o["in_sample_lang_aware"] - o["in_sample_global_tuned"] > o["gain_vs_global_tuned"]
    # held out, fitting noise per group costs a little: ~0 or below, never a gain
    assert -0.03 < o["gain_vs_global_tuned"] <= 0.0
    assert (result.held_out["gain_vs_global_tuned"] < 0).any()


def test_per_query_values_agree_with_the_what_if_fusion():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=20, seed=3)
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS)
    # plain RRF is the default FusionParams, the same on every split
    plain = fused_metrics(a, b, positives, params=FusionParams())["ndcg@10"].to_numpy()
    np.testing.assert_allclose(result.per_query["plain_rrf"], plain, rtol=0, atol=1e-15)
    # the weights chosen on all queries, as a per-query array, reproduce the in-sample metric
    per_query = np.array([result.chosen[g] for g in groups])
    params = FusionParams(k=result.chosen_k, depth=PARAMS.depth)
    in_sample = fused_metrics(a, b, positives, params=params, weights=per_query)["ndcg@10"].mean()
    assert in_sample == pytest.approx(result.overall["in_sample_lang_aware"], abs=1e-12)
    # a constant per-query array is the plain fusion, rank for rank
    constant = np.tile([1.0, 1.0], (len(groups), 1))
    np.testing.assert_array_equal(
        positive_fused_rank(a, b, positives, weights=constant), positive_fused_rank(a, b, positives, params=FusionParams())
    )
    # the best single profile's values are A's or B's own
    from nanomlqa_viz.whatif import Positives

    pos = Positives.of(positives, n_queries=len(groups))
    single_a = metrics_from_ranks(a[np.arange(len(groups)), positives], pos)["ndcg@10"].to_numpy()
    single_b = metrics_from_ranks(b[np.arange(len(groups)), positives], pos)["ndcg@10"].to_numpy()
    best = result.per_query["best_single"].to_numpy()
    assert np.all((best >= np.minimum(single_a, single_b) - 1e-12) & (best <= np.maximum(single_a, single_b) + 1e-12))


def test_splits_are_stratified_and_cover_every_query():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=21, seed=4)
    groups = [*groups[:-1], "z"]  # a group of one: always below min_group, uses the global weight
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS)
    sizes = pd.Series(groups).value_counts()
    for row in result.split_weights.to_dict("records"):
        n = sizes[row["group"]]
        assert row["n_fit"] in (n // 2, (n + 1) // 2)
        assert row["fallback"] == (row["n_fit"] < PARAMS.min_group)
    assert (result.held_out["n_fit"] + result.held_out["n_eval"] == len(groups)).all()
    assert (result.per_query["evaluations"] > 0).all()
    assert result.per_query["evaluations"].sum() == result.held_out["n_eval"].sum()
    assert "z" in result.fallback_groups and result.chosen["z"] == result.global_weights
    z_rows = result.split_weights[result.split_weights["group"] == "z"]
    assert z_rows["fallback"].all()


def test_groups_below_min_group_use_the_global_weight():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=20, seed=5)
    params = LangHybridParams(depth=200, splits=6, min_group=1_000)
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=params)
    assert set(result.fallback_groups) == {"x", "y"}
    assert set(result.chosen.values()) == {result.global_weights}
    assert result.overall["gain_vs_global_tuned"] == 0.0
    np.testing.assert_array_equal(result.per_query["lang_aware"], result.per_query["global_tuned"])


def test_results_are_deterministic_for_a_seed():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=15, seed=6)
    run = lambda seed: language_aware_hybrid(  # noqa: E731
        a, b, positives, groups=groups, pairs=pairs, params=LangHybridParams(depth=200, splits=8, seed=seed)
    )
    first, again, other = run(0), run(0), run(1)
    pd.testing.assert_frame_equal(first.held_out, again.held_out)
    pd.testing.assert_frame_equal(first.per_query, again.per_query)
    pd.testing.assert_frame_equal(first.per_pair, again.per_pair)
    assert first.to_json() == again.to_json()
    assert not first.per_query["evaluations"].equals(other.per_query["evaluations"])  # other halves


def test_a_k_grid_is_fitted_once_for_all_groups():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=20, seed=7)
    params = LangHybridParams(depth=200, splits=5, ks=(1.0, 100.0), scheme="fixed_b", weights=(0.0, 0.5, 1.0, 2.0))
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=params)
    assert set(result.held_out["k"]) <= {1.0, 100.0}
    assert result.chosen_k in (1.0, 100.0)
    assert all(w[1] == 1.0 for w in result.chosen.values())
    assert result.chosen["x"][0] > result.chosen["y"][0]


def test_input_is_checked():
    a, b, positives, groups, pairs = synthetic(effect=False, n_per_group=6, seed=8)
    with pytest.raises(ValueError):
        language_aware_hybrid(a, b, positives, groups=groups[:-1], pairs=pairs)
    with pytest.raises(ValueError):
        language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=LangHybridParams(by="doc_lang"))
    with pytest.raises(KeyError):
        language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=LangHybridParams(metric="p@5"))
    with pytest.raises(ValueError):
        language_aware_hybrid(
            a, b, positives, groups=groups, pairs=pairs, params=LangHybridParams(weights=(0.0,), scheme="fixed_b", ks=())
        )
    with pytest.raises(ValueError):
        language_aware_hybrid(a, b[:3], positives, groups=groups, pairs=pairs)


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(demo_profiles):
    task, ctx, profiles = demo_profiles
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    table = query_table(task, languages, {})
    return task, ctx, profiles, table


@pytest.mark.parametrize("by", ["query_lang", "query_script", "script_relation"])
def test_demo_profiles_give_tables_of_the_right_shape(demo, by):
    task, ctx, profiles, table = demo
    groups = query_groups(table, by=by)
    result = language_aware_hybrid(
        profiles["bm25"].full_ranks(),
        profiles["dense"].full_ranks(),
        positive_doc_indices(task),
        groups=groups,
        pairs=table["pair"].tolist(),
        params=LangHybridParams(by=by),
        names=("bm25", "dense"),
        query_ids=task.query_ids,
        id_rank=ctx.id_rank,
    )
    assert len(result.held_out) == LangHybridParams().splits
    assert (result.held_out["n_fit"] + result.held_out["n_eval"] == task.n_queries).all()
    assert list(result.per_query.index) == list(task.query_ids)
    assert list(result.per_pair.columns) == PER_PAIR_COLUMNS
    assert sorted(result.per_pair["pair"]) == sorted(set(table["pair"]))
    assert result.per_pair["n"].sum() == task.n_queries
    assert set(result.chosen) == set(groups) and sum(result.group_counts.values()) == task.n_queries
    # plain RRF is the demo's hybrid profile (tie-aware expected values, as the app shows it)
    from nanomlqa_viz.tie_metrics import tie_aware_metrics

    hybrid = profiles["hybrid"]
    relevant = positive_doc_indices(task)
    hybrid = tie_aware_metrics(hybrid.scores, relevant, query_ids=task.query_ids, secondary=hybrid.secondary).expected
    np.testing.assert_allclose(result.per_query["plain_rrf"], hybrid["ndcg@10"].reindex(result.per_query.index), atol=1e-12)
    out = result.to_json()
    json.dumps(out, allow_nan=False)
    assert out["params"]["oracle"] is (by == "script_relation")
    assert out["held_out"]["oracle"] is (by == "script_relation")
    assert set(out["chosen_on_all_queries"]["groups"]) == set(groups)
    assert len(out["per_pair"]) == len(result.per_pair)
    for figure in (gain_figure(result), gain_figure(result, against="global_tuned"), weights_figure(result)):
        assert figure.data


def test_query_groups_read_the_query_table(demo):
    _, _, _, table = demo
    assert query_groups(table, by="query_lang") == table["query_lang"].tolist()
    relation = query_groups(table, by="script_relation")
    assert set(relation) <= {"same", "different", NO_POSITIVE}
    with pytest.raises(ValueError):
        query_groups(table, by="positive_lang")
    no_positive = table.assign(positive_id=["", *table["positive_id"].tolist()[1:]])
    assert query_groups(no_positive, by="script_relation")[0] == NO_POSITIVE


def test_figures_escape_text_from_the_data():
    a, b, positives, groups, _ = synthetic(effect=True, n_per_group=10, seed=9)
    groups = ["<b>x</b>" if g == "x" else "y&z" for g in groups]
    pairs = ["<a href='u'>p</a>"] * len(groups)
    result = language_aware_hybrid(
        a, b, positives, groups=groups, pairs=pairs, params=LangHybridParams(depth=200, splits=3), names=("<i>A</i>", "B")
    )
    bars = gain_figure(result)
    shown = json.dumps(bars.to_plotly_json())
    assert "<a href" not in shown and "<b>x" not in shown
    n = int(result.per_pair["n"].iloc[0])
    assert list(bars.data[0].y) == [f"all (n={result.overall['n']})", f"&lt;a href='u'&gt;p&lt;/a&gt; (n={n})"]
    weights = weights_figure(result)
    shown = json.dumps(weights.to_plotly_json())
    assert "<b>x" not in shown and "<i>A" not in shown and "y&amp;z (n=10" in shown


def test_single_values_are_the_callers_and_are_checked():
    a, b, positives, groups, pairs = synthetic(effect=True, n_per_group=10, seed=10)
    n = len(groups)
    single = (np.full(n, 0.25), np.linspace(0.0, 1.0, n))
    result = language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS, single=single)
    best = result.per_query["best_single"].to_numpy()
    assert np.all(np.isclose(best, single[0]) | np.isclose(best, single[1]))
    with pytest.raises(ValueError):
        language_aware_hybrid(a, b, positives, groups=groups, pairs=pairs, params=PARAMS, single=(single[0], single[1][:-1]))


# --------------------------------------------------------------------------- from a view


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from nanomlqa_viz.pipeline import Pipeline

    return Pipeline(source="demo", split="mlqa", cache_dir=tmp_path_factory.mktemp("lang_hybrid_views"))


def dense_view(pipeline, mode):
    from nanomlqa_viz.encoders import default_dense_model

    return pipeline.view(dense_models=[default_dense_model()], mode=mode)


@pytest.mark.parametrize("mode", ["strict", "parallel"])
def test_view_study_uses_the_modes_relevant_passages_and_tie_aware_values(pipeline, mode):
    view = dense_view(pipeline, mode)
    params = LangHybridParams(splits=6, metric="hit@10")
    result = view_language_aware_hybrid(view, "bm25", "dense", params)
    assert view_language_aware_hybrid(view, "bm25", "dense", params) is result  # memoised
    per_query = view.per_query()
    held = result.per_query[result.per_query["evaluations"] > 0]  # a query always on the fit side has no value
    assert len(held) > 0.9 * view.task.n_queries and result.per_query["plain_rrf"].isna().sum() == view.task.n_queries - len(held)
    hybrid = per_query["hybrid"]["hit@10"].reindex(held.index)
    np.testing.assert_allclose(held["plain_rrf"], hybrid, atol=1e-12)  # the same on every split: no averaging
    singles = [per_query[n]["hit@10"].reindex(held.index).to_numpy() for n in ("bm25", "dense")]
    best = held["best_single"].to_numpy()  # a mean over splits of A's or B's own values
    assert np.all((best >= np.minimum(*singles) - 1e-12) & (best <= np.maximum(*singles) + 1e-12))
    assert result.per_pair["n"].sum() == len(held)
    frame = pair_table(result, against="global_tuned")
    assert list(frame.columns) == PAIR_TABLE_COLUMNS and len(frame) == len(result.per_pair)
    np.testing.assert_allclose(frame["gain"], frame["lang_aware"] - frame["baseline"], atol=1e-12)


def test_view_study_differs_between_modes(pipeline):
    params = LangHybridParams(splits=4, metric="hit@10")
    strict = view_language_aware_hybrid(dense_view(pipeline, "strict"), "bm25", "dense", params)
    parallel = view_language_aware_hybrid(dense_view(pipeline, "parallel"), "bm25", "dense", params)
    assert parallel.overall["plain_rrf"] > strict.overall["plain_rrf"]


def test_report_json(pipeline):
    view = dense_view(pipeline, "parallel")
    report = language_aware_hybrid_report(view)  # 20 splits: every query held out at least once
    json.dumps(report, allow_nan=False)
    assert report["relevance_mode"] == "parallel"
    assert report["profiles"] == {"a": "bm25", "b": "dense"}
    assert report["params"]["by"] == "query_lang" and report["params"]["oracle"] is False
    assert report["held_out"]["n"] == view.task.n_queries
    assert {"gain_vs_plain_rrf", "p_vs_best_single", "gain_vs_global_tuned"} <= set(report["held_out"])
    assert all({"pair", "n", "holm_vs_plain_rrf"} <= set(row) for row in report["per_pair"])
    without_dense = pipeline.view(dense_models=[], mode="strict")
    skipped = language_aware_hybrid_report(without_dense)
    assert set(skipped) == {"skipped"} and "dense" in skipped["skipped"]
