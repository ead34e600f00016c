"""The overview's figures from a view: the metrics table, the relevance-mode table, the rank distribution.

Tables carry plain numbers and text; the figure's every label from the data goes through
:func:`nanomlqa_viz.escaping.plotly_text`.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.escaping import plotly_text
from nanomlqa_viz.formatting import format_range
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.pipeline import View
from nanomlqa_viz.published import published_for
from nanomlqa_viz.relevance import RelevanceMode

PUBLISHED_KEYS = ("ndcg@10", "hit@10", "recall@100")


def metrics_table(view: View, *, mode: RelevanceMode | None = None) -> pd.DataFrame:
    """One row per profile (its label): n, queries covered, each metric's tie-aware expected value, published figures.

    ``published <metric>`` columns appear only where the dataset card publishes a figure.
    """
    task = view.task
    rows = []
    for name, m in view.tie_metrics(mode).items():
        entry = view.registry[name]
        summary = m.summary()
        row: dict[str, object] = {"profile": entry.label, "n": task.n_queries, "covered": entry.n_covered}
        row.update({k: summary[k]["expected"] for k in METRIC_KEYS})
        published = published_for(task.source, task.split, name.split("/", 1)[1]) if name.startswith("reference/") else None
        for key in PUBLISHED_KEYS:
            row[f"published {key}"] = published[key] if published else float("nan")
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.drop(columns=[c for c in frame.columns if c.startswith("published") and frame[c].isna().all()])


def tie_ranges_table(view: View, *, mode: RelevanceMode | None = None) -> pd.DataFrame:
    """The profiles and metrics whose value ties can move: ``worst–best`` text cells (the expected value is
    :func:`metrics_table`'s); empty when no metric of any profile depends on how tied scores are ordered."""
    rows = []
    moving: set[str] = set()
    for name, m in view.tie_metrics(mode).items():
        summary = m.summary()
        moves = {k for k in METRIC_KEYS if round(summary[k]["worst"], 4) != round(summary[k]["best"], 4)}
        if moves:
            moving |= moves
            rows.append((view.registry[name].label, summary))
    columns = [k for k in METRIC_KEYS if k in moving]
    return pd.DataFrame(
        [
            {"profile": label, **{k: format_range(summary[k]["worst"], summary[k]["best"]) for k in columns}}
            for label, summary in rows
        ],
        columns=["profile", *columns],
    )


def modes_table(view: View, *, metrics: tuple[str, ...] = ("hit@10", "ndcg@10")) -> pd.DataFrame:
    """One row per profile, one column per (metric, relevance mode), tie-aware expected: the labelling effect at a glance."""
    short = {RelevanceMode.STRICT: "strict", RelevanceMode.COPIES: "+copies", RelevanceMode.PARALLEL: "+parallel"}
    per_mode = {mode: view.per_query(mode) for mode in view.modes}
    frame = pd.DataFrame({"profile": [e.label for e in view.registry], "n": view.task.n_queries})
    for metric in metrics:
        for mode, per in per_mode.items():
            frame[f"{metric} {short[mode]}"] = [float(per[e.name][metric].mean()) for e in view.registry]
    return frame


def languages_table(view: View) -> pd.DataFrame:
    """Queries and passages per detected language."""
    frame = pd.DataFrame(
        {"queries": pd.Series(Counter(view.languages.query_lang)), "passages": pd.Series(Counter(view.languages.doc_lang))}
    )
    frame = frame.fillna(0).astype(int).sort_values(["queries", "passages"], ascending=False)
    frame.index.name = "language"
    return frame.reset_index()


def rank_distribution(table: pd.DataFrame, profiles: list[str]) -> pd.DataFrame:
    """Long frame (profile, rank) of the positive's rank per query, for the distribution chart.

    Partial profiles (candidate subsets, runs) contribute only queries whose positive they list.
    """
    parts = [pd.DataFrame({"profile": name, "rank": table[f"rank_{name}"].dropna().astype(int).to_numpy()}) for name in profiles]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["profile", "rank"])


def rank_figure(view: View) -> go.Figure:
    """Cumulative share of queries whose positive ranks at or above r, one line per profile (log r)."""
    table = view.table()
    n = view.task.n_queries
    fig = go.Figure()
    for entry in view.registry:
        ranks = table[f"rank_{entry.name}"].dropna().astype(int).sort_values().to_numpy()
        if len(ranks) == 0:
            continue
        share = [100 * (i + 1) / n for i in range(len(ranks))]
        label = plotly_text(entry.label)
        fig.add_trace(
            go.Scatter(
                x=ranks,
                y=share,
                mode="lines",
                line={"shape": "hv", "color": entry.colour, "width": 1.6},
                name=label,
                hovertemplate=f"{label}<br>rank ≤ %{{x:,}}: %{{y:.1f}}% of {n:,} queries<extra></extra>",
            )
        )
    fig.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"type": "log", "title": "rank of the positive (log scale)"},
        yaxis={"title": f"% of {n:,} queries, positive at or above", "range": [0, 100]},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        plot_bgcolor="white",
    )
    return fig
