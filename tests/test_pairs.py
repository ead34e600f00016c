"""Metrics per language pair: exact means and counts on hand-built frames, and the bundled demo."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nanomlqa_viz.pairs import (
    METRIC_LABELS,
    PairGrid,
    by_language,
    language_bars,
    pair_difference,
    pair_heatmap,
    pair_long,
    pair_matrix,
)


@pytest.fixture
def table() -> pd.DataFrame:
    # q5 has no positive (empty positive_lang); q6 has no metric row; q7 is only in the metrics.
    return pd.DataFrame(
        {
            "query_id": ["q1", "q2", "q3", "q4", "q5", "q6"],
            "query_lang": ["de", "de", "en", "en", "ar", "zh"],
            "positive_lang": ["ar", "ar", "en", "de", "", "en"],
        }
    )


def metrics(values: dict[str, float]) -> pd.DataFrame:
    frame = pd.DataFrame({"hit@10": values, "ndcg@10": {k: v / 2 for k, v in values.items()}})
    frame.index.name = "query_id"
    return frame


@pytest.fixture
def per_a() -> pd.DataFrame:
    return metrics({"q1": 1.0, "q2": 0.0, "q3": 1.0, "q4": 0.5, "q5": 0.0, "q7": 1.0})


def test_pair_matrix_exact_means_counts_and_nan(table, per_a):
    grid = pair_matrix(table, per_a, metric="hit@10")
    assert isinstance(grid, PairGrid)
    values, n = grid  # a tuple (values, n)
    langs = ["ar", "de", "en", "zh"]  # every language on either side, sorted, on both axes
    assert list(values.index) == langs and list(values.columns) == langs
    assert list(n.index) == langs and list(n.columns) == langs
    assert values.loc["de", "ar"] == pytest.approx(0.5) and n.loc["de", "ar"] == 2
    assert values.loc["en", "en"] == pytest.approx(1.0) and n.loc["en", "en"] == 1
    assert values.loc["en", "de"] == pytest.approx(0.5) and n.loc["en", "de"] == 1
    # zh→en has no metric row, ar has no positive: NaN with n = 0; every other cell too
    assert math.isnan(values.loc["zh", "en"]) and n.loc["zh", "en"] == 0
    assert values.loc["ar"].isna().all() and (n.loc["ar"] == 0).all()
    assert int(n.to_numpy().sum()) == 4
    assert int(values.notna().to_numpy().sum()) == 3
    assert n.dtypes.map(lambda d: d.kind == "i").all()
    # another metric column of the same frame
    assert pair_matrix(table, per_a, metric="ndcg@10").values.loc["de", "ar"] == pytest.approx(0.25)


def test_pair_matrix_ignores_nan_metric_and_checks_inputs(table, per_a):
    per = per_a.copy()
    per.loc["q2", "hit@10"] = np.nan
    grid = pair_matrix(table, per, metric="hit@10")
    assert grid.values.loc["de", "ar"] == pytest.approx(1.0) and grid.n.loc["de", "ar"] == 1
    with pytest.raises(KeyError, match="mrr@10"):
        pair_matrix(table, per_a, metric="mrr@10")
    with pytest.raises(KeyError, match="positive_lang"):
        pair_matrix(table.drop(columns="positive_lang"), per_a, metric="hit@10")


def test_pair_difference_is_paired(table, per_a):
    per_b = metrics({"q1": 0.0, "q2": 0.0, "q3": 0.25, "q5": 1.0})  # no q4
    diff = pair_difference(table, per_a, per_b, metric="hit@10")
    assert diff.values.loc["de", "ar"] == pytest.approx(0.5) and diff.n.loc["de", "ar"] == 2
    assert diff.values.loc["en", "en"] == pytest.approx(0.75) and diff.n.loc["en", "en"] == 1
    # q4 is only scored by A: not compared
    assert math.isnan(diff.values.loc["en", "de"]) and diff.n.loc["en", "de"] == 0
    same = pair_difference(table, per_a, per_a, metric="hit@10")
    assert (same.values.fillna(0).to_numpy() == 0).all()
    assert same.n.equals(pair_matrix(table, per_a, metric="hit@10").n)


def test_by_language_both_sides(table, per_a):
    q = by_language(table, per_a, metric="hit@10", side="query")
    assert list(q.columns) == ["mean", "n"]
    assert list(q.index) == ["ar", "de", "en"]  # zh has no metric value; ar counts (no positive needed)
    assert q.loc["ar", "mean"] == 0.0 and q.loc["ar", "n"] == 1
    assert q.loc["de", "mean"] == pytest.approx(0.5) and q.loc["de", "n"] == 2
    assert q.loc["en", "mean"] == pytest.approx(0.75) and q.loc["en", "n"] == 2
    p = by_language(table, per_a, metric="hit@10", side="positive")
    assert list(p.index) == ["ar", "de", "en"]
    assert p.loc["ar", "mean"] == pytest.approx(0.5) and p.loc["ar", "n"] == 2
    assert p.loc["de", "mean"] == pytest.approx(0.5) and p.loc["de", "n"] == 1
    assert p.loc["en", "mean"] == pytest.approx(1.0) and p.loc["en", "n"] == 1
    with pytest.raises(ValueError, match="side"):
        by_language(table, per_a, metric="hit@10", side="passage")


def test_pair_long_and_figures(table, per_a):
    grid = pair_matrix(table, per_a, metric="hit@10")
    long = pair_long(grid)
    assert list(long["pair"]) == ["de→ar", "en→de", "en→en"]
    assert list(long["n"]) == [2, 1, 1]
    fig = pair_heatmap(grid, metric_label="hit@10")
    heat, clicks = fig.data
    assert heat.type == "heatmap" and heat.texttemplate == "%{text}"
    assert heat.zmin == 0 and heat.zmax == 1
    assert heat.text[1][0] == "0.50<br>n=2"  # row de, column ar
    assert heat.text[3][0] == ""  # zh→ar: no queries, no text
    assert [c[0] for c in clicks.customdata] == ["de→ar", "en→de", "en→en"]
    diff = pair_difference(table, per_a, metrics({"q1": 0.0, "q2": 0.0, "q3": 0.25, "q4": 1.0}), metric="hit@10")
    dfig = pair_heatmap(diff, metric_label="Δ", diverging=True)
    assert dfig.data[0].zmid == 0 and dfig.data[0].zmin == -dfig.data[0].zmax
    assert dfig.data[0].text[2][1] == "-0.50<br>n=1"
    bars = language_bars(by_language(table, per_a, metric="hit@10"), metric_label="hit@10", axis_title="query", overall=0.5)
    assert list(bars.data[0].text) == ["0.00<br>n=1", "0.50<br>n=2", "0.75<br>n=2"]
    assert set(METRIC_LABELS) == {"hit@10", "ndcg@10", "mrr@10", "recall@100"}


# --------------------------------------------------------------------------- the bundled demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from nanomlqa_viz.analysis import detect_task_languages, profile_query_metrics, query_table, reference_query_metrics
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile

    cache_dir = tmp_path_factory.mktemp("pairs_demo")
    task = load_task(source="demo", cache_dir=cache_dir)
    ctx = ProfileContext.of(task, ArrayCache(cache_dir))
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    bm25 = bm25_profile(ctx)
    per_query = {"bm25": profile_query_metrics(task, bm25)}
    per_query.update({f"reference/{c}": reference_query_metrics(task, c) for c in task.candidates})
    return task, query_table(task, languages, {"bm25": bm25}), per_query


@pytest.mark.parametrize("metric", sorted(METRIC_LABELS))
def test_demo_grid_agrees_with_overall_means(demo, metric):
    task, table, per_query = demo
    for per in per_query.values():
        grid = pair_matrix(table, per, metric=metric)
        with_positive = table["positive_lang"].astype(bool)
        assert int(grid.n.to_numpy().sum()) == int(with_positive.sum()) == task.n_queries
        values = grid.values.to_numpy()
        assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
        assert (np.isnan(values) == (grid.n.to_numpy() == 0)).all()
        # the n-weighted mean of the cells is the overall mean
        weighted = np.nansum(values * grid.n.to_numpy()) / grid.n.to_numpy().sum()
        assert weighted == pytest.approx(per[metric].mean())
        for side in ("query", "positive"):
            langs = by_language(table, per, metric=metric, side=side)
            assert int(langs["n"].sum()) == task.n_queries
            assert (langs["mean"] * langs["n"]).sum() / langs["n"].sum() == pytest.approx(per[metric].mean())
        # one cell per pair of the table
        assert set(pair_long(grid)["pair"]) == set(table["pair"])


def test_demo_difference_and_figure(demo):
    _, table, per_query = demo
    names = list(per_query)
    a, b = names[0], names[1]
    diff = pair_difference(table, per_query[a], per_query[b], metric="hit@10")
    ga = pair_matrix(table, per_query[a], metric="hit@10").values
    gb = pair_matrix(table, per_query[b], metric="hit@10").values
    assert np.allclose((ga - gb).to_numpy(), diff.values.to_numpy(), equal_nan=True)
    fig = pair_heatmap(diff, metric_label="Δ hit@10", diverging=True)
    cells = [t for row in fig.data[0].text for t in row if t]
    assert len(cells) == len(pair_long(diff)) and all("n=" in t for t in cells)
