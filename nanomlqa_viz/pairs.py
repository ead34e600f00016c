"""Metrics per language pair: query language × language of the positive passage.

Every function joins the per-query table (:func:`nanomlqa_viz.analysis.query_table`) with a
per-query metrics frame (index ``query_id``, one column per metric) on ``query_id``. A query
counts where it has a metric value and a known language on every axis used: a query without a
positive (empty ``positive_lang``) is left out of the pair grid and of the passage-language
means, but counts for its query language. ``n`` is always the number of queries averaged; a
cell without queries holds NaN with ``n == 0``.

The figure builders at the end (plotly, no Streamlit) draw exactly what the pages show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "ACCENT",
    "DIVERGING",
    "METRIC_LABELS",
    "PairGrid",
    "by_language",
    "language_bars",
    "pair_difference",
    "pair_heatmap",
    "pair_long",
    "pair_matrix",
]

ACCENT = "#2563eb"
METRIC_LABELS: dict[str, str] = {"hit@10": "hit@10", "ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "recall@100": "recall@100"}
"""The metrics the language pages offer (key in the metrics frame -> display name)."""

DIVERGING = [[0.0, "#b91c1c"], [0.25, "#f0a8a8"], [0.5, "#f8fafc"], [0.75, "#9fd8ae"], [1.0, "#15803d"]]
"""Red (negative) - near white (0) - green (positive), for differences."""

Side = Literal["query", "positive"]
_SIDE_COLUMN = {"query": "query_lang", "positive": "positive_lang"}


class PairGrid(NamedTuple):
    """``values`` (mean metric) and ``n`` (queries averaged), both query_lang rows × positive_lang columns."""

    values: pd.DataFrame
    n: pd.DataFrame


def _joined(table: pd.DataFrame, per_query: pd.DataFrame, *, metric: str, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the table with the metric as column ``value``; rows without a value or language dropped."""
    if metric not in per_query.columns:
        raise KeyError(f"metric {metric!r} is not a column of the per-query metrics ({', '.join(map(str, per_query.columns))})")
    missing = [c for c in ("query_id", *columns) if c not in table.columns]
    if missing:
        raise KeyError(f"the query table lacks column(s) {', '.join(missing)}")
    values = pd.to_numeric(per_query[metric], errors="coerce").rename("value")
    values.index = values.index.astype(str)
    frame = table[["query_id", *columns]].copy()
    frame["query_id"] = frame["query_id"].astype(str)
    frame = frame.join(values, on="query_id", how="inner")
    keep = frame["value"].notna()
    for column in columns:
        keep &= frame[column].notna() & (frame[column].astype(str) != "")
    out = frame[keep].copy()
    for column in columns:
        out[column] = out[column].astype(str)
    return out


def _axis_languages(table: pd.DataFrame) -> list[str]:
    """Every language of the table on either side, sorted, so that both axes share one order."""
    langs = pd.concat([table["query_lang"], table["positive_lang"]]).dropna().astype(str)
    return sorted({lang for lang in langs if lang})


def _grid(frame: pd.DataFrame, languages: Sequence[str]) -> PairGrid:
    grouped = frame.groupby(["query_lang", "positive_lang"])["value"]
    values = grouped.mean().unstack().reindex(index=languages, columns=languages).astype(float)
    n = grouped.size().unstack().reindex(index=languages, columns=languages).fillna(0).astype(int)
    values.index.name, values.columns.name = "query_lang", "positive_lang"
    n.index.name, n.columns.name = "query_lang", "positive_lang"
    return PairGrid(values=values, n=n)


def pair_matrix(table: pd.DataFrame, per_query: pd.DataFrame, *, metric: str) -> PairGrid:
    """Mean ``metric`` and query count per (query language, positive's language) pair.

    Rows and columns are the same sorted list of every language in the table, so the diagonal
    is the same-language pairs; a pair without queries is NaN with n = 0.
    """
    frame = _joined(table, per_query, metric=metric, columns=("query_lang", "positive_lang"))
    return _grid(frame, _axis_languages(table))


def pair_difference(table: pd.DataFrame, per_a: pd.DataFrame, per_b: pd.DataFrame, *, metric: str) -> PairGrid:
    """Mean of (a − b) per pair over the queries both frames score (paired); n counts those queries."""
    a = _joined(table, per_a, metric=metric, columns=("query_lang", "positive_lang"))
    b = _joined(table, per_b, metric=metric, columns=("query_lang", "positive_lang"))
    both = a.merge(b[["query_id", "value"]], on="query_id", suffixes=("_a", "_b"))
    both["value"] = both["value_a"] - both["value_b"]
    return _grid(both, _axis_languages(table))


def by_language(table: pd.DataFrame, per_query: pd.DataFrame, *, metric: str, side: Side = "query") -> pd.DataFrame:
    """Mean ``metric`` and n per language of the query (``side="query"``) or of its positive.

    Index: language (sorted, only languages with queries); columns ``mean`` and ``n``.
    """
    if side not in _SIDE_COLUMN:
        raise ValueError(f"side must be 'query' or 'positive', got {side!r}")
    column = _SIDE_COLUMN[side]
    frame = _joined(table, per_query, metric=metric, columns=(column,))
    grouped = frame.groupby(column)["value"]
    out = pd.DataFrame({"mean": grouped.mean().astype(float), "n": grouped.size().astype(int)}).sort_index()
    out.index.name = column
    return out


def pair_long(grid: PairGrid) -> pd.DataFrame:
    """The cells with queries, one row each: pair ("ql→pl"), query_lang, positive_lang, value, n (row-major)."""
    rows = [
        {"pair": f"{ql}→{pl}", "query_lang": ql, "positive_lang": pl, "value": float(grid.values.loc[ql, pl]), "n": n}
        for ql in grid.n.index
        for pl in grid.n.columns
        if (n := int(grid.n.loc[ql, pl])) > 0
    ]
    return pd.DataFrame(rows, columns=["pair", "query_lang", "positive_lang", "value", "n"])


# --------------------------------------------------------------------------- figures


def _cell_text(grid: PairGrid, *, signed: bool) -> list[list[str]]:
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return [
        [
            "" if int(n) == 0 or not math.isfinite(v) else f"{fmt.format(v)}<br>n={int(n)}"
            for v, n in zip(grid.values.loc[ql].to_numpy(float), grid.n.loc[ql].to_numpy(int))
        ]
        for ql in grid.values.index
    ]


def pair_heatmap(grid: PairGrid, *, metric_label: str, diverging: bool = False, height: int = 500) -> go.Figure:
    """Heatmap of a :class:`PairGrid`: query language rows, passage language columns, value and n per cell.

    A transparent marker sits on every cell with queries (``customdata`` = the pair) so that a
    click selects it: plotly heatmap cells cannot be selected themselves. ``diverging`` centres
    the red-yellow-green scale on 0 with a symmetric range (for differences); otherwise the
    scale spans 0-1.
    """
    rows, cols = list(grid.values.index), list(grid.values.columns)
    z = grid.values.to_numpy(dtype=float)
    finite = z[np.isfinite(z)]
    if diverging:
        span = float(np.max(np.abs(finite))) if finite.size else 1.0
        span = span if span > 0 else 1.0
        scale = {"zmin": -span, "zmax": span, "zmid": 0.0, "colorscale": DIVERGING}
    else:
        scale = {"zmin": 0.0, "zmax": 1.0, "colorscale": "RdYlGn"}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=_cell_text(grid, signed=diverging),
            texttemplate="%{text}",
            textfont={"size": 11},
            colorbar={"title": {"text": metric_label, "side": "right"}, "thickness": 12, "len": 0.9},
            hoverinfo="skip",
            xgap=1,
            ygap=1,
            **scale,
        )
    )
    xs, ys, custom = [], [], []
    for ql in rows:
        for pl in cols:
            n = int(grid.n.loc[ql, pl])
            if n > 0:
                v = float(grid.values.loc[ql, pl])
                xs.append(pl)
                ys.append(ql)
                custom.append([f"{ql}→{pl}", f"{v:+.3f}" if diverging else f"{v:.3f}", n])
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            marker={"symbol": "square", "size": 36, "color": "rgba(0,0,0,0)", "opacity": 0.01},
            customdata=custom,
            hovertemplate=f"%{{customdata[0]}}<br>{metric_label} %{{customdata[1]}} · n=%{{customdata[2]}}<extra></extra>",
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


def language_bars(frame: pd.DataFrame, *, metric_label: str, axis_title: str, overall: float | None = None) -> go.Figure:
    """Bars of :func:`by_language` (mean per language, n on each bar), optional dashed overall mean."""
    labels = [f"{m:.2f}<br>n={n}" for m, n in zip(frame["mean"], frame["n"])]
    fig = go.Figure(
        go.Bar(
            x=[str(i) for i in frame.index],
            y=frame["mean"],
            text=labels,
            textposition="outside",
            textfont={"size": 11},
            cliponaxis=False,
            marker_color=ACCENT,
            customdata=frame["n"],
            hovertemplate=f"%{{x}}: {metric_label} %{{y:.3f}} · n=%{{customdata}}<extra></extra>",
        )
    )
    if overall is not None and math.isfinite(overall):
        fig.add_hline(
            y=overall,
            line={"color": "#6b7280", "dash": "dash", "width": 1},
        )
    top = float(frame["mean"].max()) if len(frame) else 1.0
    fig.update_layout(
        height=230,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": axis_title, "type": "category"},
        yaxis={"title": metric_label, "range": [0, max(1.0, top) * 1.18]},
        showlegend=False,
    )
    return fig
