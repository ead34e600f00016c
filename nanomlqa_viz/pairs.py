"""Metrics per language pair: query language × language of the positive passage, tie-aware.

The pure functions join the per-query table (:meth:`~nanomlqa_viz.pipeline.View.table`: query_id,
query_lang, positive_lang, ...) with a profile's :class:`~nanomlqa_viz.tie_metrics.TieAwareMetrics`
(rows: query ids, one column per metric; ``expected`` / ``worst`` / ``best``) on ``query_id``.
A cell's value is the mean of the *expected* per-query metric (the tie-aware value every page
averages); its range is the mean of the worst and of the best case. A query counts where it has
a metric row and a known language on every axis used: a query without a positive (empty
``positive_lang``) is left out of the pair grid and of the passage-language means, but counts for
its query language. A query a partial profile (a run, a candidate subset) does not rank scores 0
in the metric frames and counts in ``n`` like any other. ``n`` is always the number of queries
averaged; a cell without queries holds NaN with ``n == 0``.

The ``view_*`` helpers read a :class:`~nanomlqa_viz.pipeline.View` (its relevance mode unless one
is given); the figure builders at the end (plotly, no Streamlit) draw exactly what the page
shows, every text from the data through :func:`~nanomlqa_viz.escaping.plotly_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.escaping import plotly_labels, plotly_text
from nanomlqa_viz.formatting import format_tie_range
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.tie_metrics import TieAwareMetrics

if TYPE_CHECKING:
    from nanomlqa_viz.pipeline import View
    from nanomlqa_viz.relevance import RelevanceMode

__all__ = [
    "ACCENT",
    "DIVERGING",
    "HEAT",
    "METRIC_LABELS",
    "SIDES",
    "SIDE_LABELS",
    "PairGrid",
    "by_language",
    "clicked_pair",
    "difference_grid",
    "difference_table",
    "heatmap_pairs",
    "language_bars",
    "overall_mean",
    "pair_grid",
    "pair_heatmap",
    "pair_long",
    "view_by_language",
    "view_difference",
    "view_difference_table",
    "view_pair_grid",
]

ACCENT = "#2563eb"
_NAMES = {"ndcg@10": "nDCG@10", "mrr@10": "MRR@10"}
METRIC_LABELS = MappingProxyType({key: _NAMES.get(key, key) for key in METRIC_KEYS})
"""Every metric the page offers (key in the metric frames -> display name)."""

HEAT = [[0.0, "#b91c1c"], [0.5, "#fde68a"], [1.0, "#15803d"]]
"""Red (0) - pale yellow - green (1), for metric values."""
DIVERGING = [[0.0, "#b91c1c"], [0.25, "#f0a8a8"], [0.5, "#f8fafc"], [0.75, "#9fd8ae"], [1.0, "#15803d"]]
"""Red (negative) - near white (0) - green (positive), for differences."""

Side = Literal["query", "positive"]
SIDES: tuple[Side, ...] = ("query", "positive")
SIDE_LABELS = MappingProxyType({"query": "query language", "positive": "passage language"})
_SIDE_COLUMN = {"query": "query_lang", "positive": "positive_lang"}
_CASES = ("value", "worst", "best")


@dataclass(frozen=True, kw_only=True)
class PairGrid:
    """Query-language rows × positive-language columns: mean expected ``values``, ``worst``, ``best`` and ``n``."""

    values: pd.DataFrame
    worst: pd.DataFrame
    best: pd.DataFrame
    n: pd.DataFrame

    @property
    def languages(self) -> list[str]:
        return [str(lang) for lang in self.values.index]

    @property
    def n_queries(self) -> int:
        return int(self.n.to_numpy().sum())


# --------------------------------------------------------------------------- frames


def _metric_column(frame: pd.DataFrame, metric: str) -> pd.Series:
    if metric not in frame.columns:
        raise KeyError(f"metric {metric!r} is not a column of the per-query metrics ({', '.join(map(str, frame.columns))})")
    values = pd.to_numeric(frame[metric], errors="coerce")
    values.index = values.index.astype(str)
    return values


def _joined(table: pd.DataFrame, metrics: TieAwareMetrics, *, metric: str, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the table with the metric as ``value`` (expected), ``worst`` and ``best``.

    Rows without an expected value or without a language on one of ``columns`` are dropped.
    """
    missing = [c for c in ("query_id", *columns) if c not in table.columns]
    if missing:
        raise KeyError(f"the query table lacks column(s) {', '.join(missing)}")
    cases = {
        "value": _metric_column(metrics.expected, metric),
        "worst": _metric_column(metrics.worst, metric),
        "best": _metric_column(metrics.best, metric),
    }
    frame = table[["query_id", *columns]].copy()
    frame["query_id"] = frame["query_id"].astype(str)
    frame = frame.join(pd.DataFrame(cases), on="query_id", how="inner")
    keep = frame["value"].notna()
    for column in columns:
        keep &= frame[column].notna() & (frame[column].astype(str) != "")
    out = frame[keep].copy()
    for column in columns:
        out[column] = out[column].astype(str)
    out["worst"] = out["worst"].fillna(out["value"])
    out["best"] = out["best"].fillna(out["value"])
    return out


def _axis_languages(table: pd.DataFrame) -> list[str]:
    """Every language of the table on either side, sorted, so that both axes share one order."""
    langs = pd.concat([table["query_lang"], table["positive_lang"]]).dropna().astype(str)
    return sorted({lang for lang in langs if lang})


def _grid(frame: pd.DataFrame, languages: Sequence[str]) -> PairGrid:
    def square(series: pd.Series | None, *, count: bool = False) -> pd.DataFrame:
        if series is None:  # no query at all
            out = pd.DataFrame(0 if count else np.nan, index=list(languages), columns=list(languages))
        else:
            out = series.unstack().reindex(index=languages, columns=languages)
        out = out.fillna(0).astype(int) if count else out.astype(float)
        out.index.name, out.columns.name = "query_lang", "positive_lang"
        return out

    grouped = frame.groupby(["query_lang", "positive_lang"]) if len(frame) else None
    means = {case: square(grouped[case].mean() if grouped is not None else None) for case in _CASES}
    n = square(grouped.size() if grouped is not None else None, count=True)
    return PairGrid(values=means["value"], worst=means["worst"], best=means["best"], n=n)


def pair_grid(table: pd.DataFrame, metrics: TieAwareMetrics, *, metric: str) -> PairGrid:
    """Mean expected ``metric`` (with the worst / best case means) and n per (query language, positive's language).

    Rows and columns are the same sorted list of every language in the table, so the diagonal
    holds the same-language pairs; a pair without queries is NaN with n = 0.
    """
    frame = _joined(table, metrics, metric=metric, columns=("query_lang", "positive_lang"))
    return _grid(frame, _axis_languages(table))


def difference_grid(table: pd.DataFrame, a: TieAwareMetrics, b: TieAwareMetrics, *, metric: str) -> PairGrid:
    """Mean of (a − b) per pair over the queries both profiles score (paired); n counts those queries.

    The range is what the difference can be over any order of tied scores in either profile:
    [a's worst − b's best, a's best − b's worst].
    """
    ja = _joined(table, a, metric=metric, columns=("query_lang", "positive_lang"))
    jb = _joined(table, b, metric=metric, columns=())
    both = ja.merge(jb[["query_id", *_CASES]], on="query_id", suffixes=("_a", "_b"))
    both["value"] = both["value_a"] - both["value_b"]
    both["worst"] = both["worst_a"] - both["best_b"]
    both["best"] = both["best_a"] - both["worst_b"]
    return _grid(both, _axis_languages(table))


def by_language(table: pd.DataFrame, metrics: TieAwareMetrics, *, metric: str, side: Side = "query") -> pd.DataFrame:
    """Mean expected ``metric``, worst / best case means and n per language of the query or of its positive.

    Index: language (sorted, only languages with queries); columns ``mean``, ``worst``, ``best``, ``n``.
    """
    if side not in _SIDE_COLUMN:
        raise ValueError(f"side must be 'query' or 'positive', got {side!r}")
    column = _SIDE_COLUMN[side]
    frame = _joined(table, metrics, metric=metric, columns=(column,))
    grouped = frame.groupby(column)
    out = pd.DataFrame(
        {
            "mean": grouped["value"].mean().astype(float),
            "worst": grouped["worst"].mean().astype(float),
            "best": grouped["best"].mean().astype(float),
            "n": grouped.size().astype(int),
        }
    ).sort_index()
    out.index.name = column
    return out


def pair_long(grid: PairGrid) -> pd.DataFrame:
    """The cells with queries, one row each (row-major): pair ("ql→pl"), query_lang, positive_lang, value, worst, best, n."""
    rows = [
        {
            "pair": f"{ql}→{pl}",
            "query_lang": ql,
            "positive_lang": pl,
            "value": float(grid.values.loc[ql, pl]),
            "worst": float(grid.worst.loc[ql, pl]),
            "best": float(grid.best.loc[ql, pl]),
            "n": n,
        }
        for ql in grid.n.index
        for pl in grid.n.columns
        if (n := int(grid.n.loc[ql, pl])) > 0
    ]
    return pd.DataFrame(rows, columns=["pair", "query_lang", "positive_lang", "value", "worst", "best", "n"])


def difference_table(table: pd.DataFrame, a: TieAwareMetrics, b: TieAwareMetrics, *, metric: str) -> pd.DataFrame:
    """One row per pair with queries, largest difference (either way) first.

    Columns: pair, ``A`` and ``B`` (tie-aware text, ``expected [worst–best]``), ``delta`` (mean of
    A − B, expected), ``delta range`` (text) and n. The per-profile means are over the same queries.
    """
    ga, gb = pair_grid(table, a, metric=metric), pair_grid(table, b, metric=metric)
    diff = pair_long(difference_grid(table, a, b, metric=metric))
    la, lb = pair_long(ga).set_index("pair"), pair_long(gb).set_index("pair")

    def ranged(frame: pd.DataFrame, pair: str, *, signed: bool = False) -> str:
        row = frame.loc[pair]
        text = format_tie_range(row["value"], row["worst"], row["best"])
        return text if not signed else _signed_range(row["value"], row["worst"], row["best"])

    out = pd.DataFrame(
        {
            "pair": diff["pair"],
            "A": [ranged(la, p) for p in diff["pair"]],
            "B": [ranged(lb, p) for p in diff["pair"]],
            "delta": diff["value"],
            "delta range": [ranged(diff.set_index("pair"), p, signed=True) for p in diff["pair"]],
            "n": diff["n"].astype(int),
        }
    )
    order = out.assign(size=out["delta"].abs()).sort_values(["size", "n", "pair"], ascending=[False, False, True]).index
    return out.loc[order].reset_index(drop=True)


def _signed_range(value: float, worst: float, best: float) -> str:
    if any(not math.isfinite(v) for v in (value, worst, best)):
        return "—"
    if round(worst, 4) == round(best, 4):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{worst:+.3f}–{best:+.3f}]"


# --------------------------------------------------------------------------- from a view


def view_pair_grid(view: View, name: str, *, metric: str, mode: RelevanceMode | None = None) -> PairGrid:
    """:func:`pair_grid` of profile ``name`` under the view's relevance mode (or ``mode``)."""
    return pair_grid(view.table(), view.tie_metrics(mode)[name], metric=metric)


def view_difference(view: View, a: str, b: str, *, metric: str, mode: RelevanceMode | None = None) -> PairGrid:
    metrics = view.tie_metrics(mode)
    return difference_grid(view.table(), metrics[a], metrics[b], metric=metric)


def view_difference_table(view: View, a: str, b: str, *, metric: str, mode: RelevanceMode | None = None) -> pd.DataFrame:
    metrics = view.tie_metrics(mode)
    return difference_table(view.table(), metrics[a], metrics[b], metric=metric)


def view_by_language(view: View, name: str, *, metric: str, side: Side, mode: RelevanceMode | None = None) -> pd.DataFrame:
    return by_language(view.table(), view.tie_metrics(mode)[name], metric=metric, side=side)


def overall_mean(view: View, name: str, *, metric: str, mode: RelevanceMode | None = None) -> dict[str, float]:
    """The profile's mean ``metric`` over every query of the task: ``expected``, ``worst``, ``best`` and ``n``."""
    metrics = view.tie_metrics(mode)[name]
    cases = {"expected": metrics.expected, "worst": metrics.worst, "best": metrics.best}
    out = {case: float(_metric_column(frame, metric).mean()) if len(frame) else math.nan for case, frame in cases.items()}
    return {**out, "n": len(metrics.expected)}


# --------------------------------------------------------------------------- figures


def _fmt(value: float, *, signed: bool) -> str:
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _cell_hover(
    grid: PairGrid, ql: str, pl: str, *, metric_label: str, signed: bool, parts: Sequence[tuple[str, PairGrid]]
) -> str:
    """Escaped hover text of one cell: pair, expected [worst–best], n, and each compared profile's value."""
    v, w, b, n = (float(grid.values.loc[ql, pl]), float(grid.worst.loc[ql, pl]), float(grid.best.loc[ql, pl]), grid.n.loc[ql, pl])
    value = _signed_range(v, w, b) if signed else format_tie_range(v, w, b)
    lines = [f"{plotly_text(ql)} → {plotly_text(pl)}", f"{plotly_text(metric_label)} {value} · n={int(n):,}"]
    for label, part in parts:
        pv, pw, pb = (float(part.values.loc[ql, pl]), float(part.worst.loc[ql, pl]), float(part.best.loc[ql, pl]))
        lines.append(f"{plotly_text(label)}: {format_tie_range(pv, pw, pb)}")
    lines.append("click: open these queries in the explorer")
    return "<br>".join(lines)


def pair_heatmap(
    grid: PairGrid,
    *,
    metric_label: str,
    signed: bool = False,
    parts: Sequence[tuple[str, PairGrid]] = (),
    height: int = 460,
) -> go.Figure:
    """Heatmap of a :class:`PairGrid`: query-language rows, passage-language columns, value and n in every cell.

    ``signed``: a difference (diverging red-white-green scale centred on 0, symmetric range, values
    with their sign); otherwise the red-yellow-green scale spans 0-1. The hover of a cell shows the
    expected value, [worst–best] and n (plus, for a difference, each compared profile of ``parts``:
    ``(label, grid)``). A transparent marker sits on every cell with queries, ``customdata`` the raw
    pair, so a click selects it (plotly heatmap cells cannot be selected themselves).
    """
    rows, cols = grid.languages, [str(c) for c in grid.values.columns]
    z = grid.values.to_numpy(dtype=float)
    n = grid.n.to_numpy(dtype=int)
    finite = z[np.isfinite(z)]
    if signed:
        span = float(np.max(np.abs(finite))) if finite.size else 1.0
        scale = {"zmin": -(span or 1.0), "zmax": span or 1.0, "zmid": 0.0, "colorscale": DIVERGING}
    else:
        scale = {"zmin": 0.0, "zmax": 1.0, "colorscale": HEAT}

    def cell(i: int, j: int) -> str:
        return "" if n[i, j] == 0 or not math.isfinite(z[i, j]) else f"{_fmt(z[i, j], signed=signed)}<br>n={n[i, j]:,}"

    text = [[cell(i, j) for j in range(z.shape[1])] for i in range(z.shape[0])]
    x_labels, y_labels = plotly_labels(cols), plotly_labels(rows)
    hover = [
        [
            _cell_hover(grid, ql, pl, metric_label=metric_label, signed=signed, parts=parts) if n[i, j] else ""
            for j, pl in enumerate(cols)
        ]
        for i, ql in enumerate(rows)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x_labels,
            y=y_labels,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            colorbar={"title": {"text": plotly_text(metric_label), "side": "right"}, "thickness": 12, "len": 0.9},
            xgap=1,
            ygap=1,
            **scale,
        )
    )
    cells = [(i, j) for i in range(len(rows)) for j in range(len(cols)) if n[i, j] > 0]
    fig.add_trace(
        go.Scatter(
            x=[x_labels[j] for _, j in cells],
            y=[y_labels[i] for i, _ in cells],
            mode="markers",
            marker={"symbol": "square", "size": 40, "color": "rgba(0,0,0,0)", "opacity": 0.01},
            customdata=[[f"{rows[i]}→{cols[j]}"] for i, j in cells],  # raw pair: matched on click, never shown
            hovertext=[hover[i][j] for i, j in cells],
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        # fixed ranges: the click markers must not pad the axes
        xaxis={"title": "passage language (positive)", "type": "category", "range": [-0.5, len(cols) - 0.5], "showgrid": False},
        yaxis={"title": "query language", "type": "category", "range": [len(rows) - 0.5, -0.5], "showgrid": False},
        plot_bgcolor="#f3f4f6",
        clickmode="event+select",
    )
    return fig


def heatmap_pairs(grid: PairGrid) -> list[str]:
    """The raw pairs a heatmap's click markers carry (the cells with queries), in the figure's order."""
    return [f"{ql}→{pl}" for ql in grid.n.index for pl in grid.n.columns if int(grid.n.loc[ql, pl]) > 0]


def clicked_pair(event: object, valid: Sequence[str]) -> str | None:
    """The raw pair of a clicked heatmap cell from a Streamlit selection event, if it is one of ``valid``."""
    try:
        points = list(event["selection"]["points"]) if event is not None else []  # type: ignore[index]
    except (KeyError, TypeError):
        points = []
    for point in points:
        custom = point.get("customdata") if isinstance(point, dict) else None
        pair = custom[0] if isinstance(custom, (list, tuple)) and custom else None
        if pair in valid:
            return pair
    return None


def language_bars(frame: pd.DataFrame, *, metric_label: str, axis_title: str, overall: float | None = None) -> go.Figure:
    """Bars of :func:`by_language` (mean per language, n on each bar; hover with [worst–best]), dashed overall mean."""
    languages = [str(i) for i in frame.index]
    labels = [f"{m:.2f}<br>n={n:,}" for m, n in zip(frame["mean"], frame["n"])]
    name = plotly_text(metric_label)
    hover = [
        f"{plotly_text(lang)}<br>{name} {format_tie_range(m, w, b)} · n={n:,}"
        for lang, m, w, b, n in zip(languages, frame["mean"], frame["worst"], frame["best"], frame["n"])
    ]
    fig = go.Figure(
        go.Bar(
            x=plotly_labels(languages),
            y=frame["mean"],
            text=labels,
            textposition="outside",
            textfont={"size": 11},
            cliponaxis=False,
            marker_color=ACCENT,
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    if overall is not None and math.isfinite(overall):
        fig.add_hline(y=overall, line={"color": "#6b7280", "dash": "dash", "width": 1})
    top = float(frame["mean"].max()) if len(frame) else 1.0
    fig.update_layout(
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": plotly_text(axis_title), "type": "category"},
        yaxis={"title": name, "range": [0, max(1.0, top) * 1.18]},
        showlegend=False,
    )
    return fig
