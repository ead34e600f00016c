"""Language pairs: a metric per query language × passage language, differences between profiles."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_common import escape_markdown, finish_dense, load_app_data, profile_label, set_param, shared_params
from nanomlqa_viz.pairs import (
    METRIC_LABELS,
    by_language,
    language_bars,
    pair_difference,
    pair_heatmap,
    pair_long,
    pair_matrix,
)

EXPLORER = "pages/1_Query_explorer.py"
PENDING = ("dense", "hybrid")  # named in a URL before they are computed: kept, not overwritten


def url_select(label: str, name: str, options: Sequence[str], *, default: str, key: str, fmt=str, **kwargs) -> str:
    """A selectbox mirrored in ``?name=``; the URL changes only when the user picks another value.

    An unknown URL value shows the default and is dropped. A profile that the URL names (or
    that is the default) but is still being computed (dense, hybrid) is shown as the first
    option meanwhile and left in the URL, so the view the link names appears once it is ready.
    """
    raw = st.query_params.get(name)
    waiting = raw is None or (raw in PENDING and raw not in options)
    shown = raw if raw in options else (default if default in options else options[0])
    # keyed by the options too: when dense arrives the widget starts afresh from the URL
    widget_key = f"{key}_{zlib.crc32('|'.join(options).encode()):08x}"
    choice = st.selectbox(label, options, index=list(options).index(shown), format_func=fmt, key=widget_key, **kwargs)
    if raw in options or choice != shown:
        set_param(name, choice, default=default)
    elif not waiting:
        set_param(name, None)  # an unknown value: dropped
    return choice


def explorer_params(pair: str) -> dict[str, str]:
    carried = shared_params()
    return {**carried, "pair": pair}


def open_explorer(pair: str) -> None:
    try:
        st.switch_page(EXPLORER, query_params=explorer_params(pair))
    except StreamlitPageNotFoundError:
        st.warning(escape_markdown(f"The query explorer page is not available in this app; pair {pair} not opened."))


def clicked_pair(event, valid: set[str]) -> str | None:
    """The pair of the clicked heatmap cell (its transparent marker), if any and known."""
    try:
        points = list(event["selection"]["points"]) if event is not None else []
    except (KeyError, TypeError):
        points = []
    for point in points:
        custom = point.get("customdata")
        pair = custom[0] if isinstance(custom, (list, tuple)) and custom else f"{point.get('y')}→{point.get('x')}"
        if pair in valid:
            return pair
    return None


def heatmap(grid, *, metric_label: str, diverging: bool, key: str) -> None:
    long = pair_long(grid)
    if long.empty:
        st.info("No query has a metric value and a known language pair here.")
        return
    event = st.plotly_chart(
        pair_heatmap(grid, metric_label=metric_label, diverging=diverging),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key=key,
    )
    pair = clicked_pair(event, set(long["pair"]))
    if pair is not None:
        open_explorer(pair)


data = load_app_data()
if data is not None:
    st.title("Language pairs")
    profiles = [*data.computed, *data.references]
    metrics = list(METRIC_LABELS)

    c1, c2, _ = st.columns([2, 2, 3])
    with c1:
        profile = url_select("Profile", "profile", profiles, default="dense", key="pairs_profile", fmt=profile_label)
    with c2:
        metric = url_select("Metric", "metric", metrics, default="hit@10", key="pairs_metric", fmt=METRIC_LABELS.get)
    label = METRIC_LABELS[metric]
    per_query = data.per_query[profile]
    grid = pair_matrix(data.table, per_query, metric=metric)
    n_total = int(grid.n.to_numpy().sum())
    st.caption(
        escape_markdown(
            f"{profile_label(profile)} · {label} per query language (rows) × language of the positive passage (columns) · "
            f"n = {n_total:,} queries with a positive · click a cell to open its queries in the query explorer"
        )
    )

    left, right = st.columns([3, 2])
    with left:
        heatmap(grid, metric_label=label, diverging=False, key=f"pairs_heat_{profile}_{metric}")
    with right:
        scored = pd.to_numeric(per_query[metric], errors="coerce").dropna()
        overall = float(scored.mean()) if len(scored) else float("nan")
        for side, title in (("query", "query language"), ("positive", "passage language")):
            frame = by_language(data.table, per_query, metric=metric, side=side)
            if frame.empty:
                st.caption(f"No queries by {title}.")
                continue
            st.markdown(f"**By {title}** · " + escape_markdown(f"all queries {overall:.2f}, n={len(scored):,}"))
            st.plotly_chart(language_bars(frame, metric_label=label, axis_title=title), width="stretch")

    long = pair_long(grid)
    if not long.empty:
        pairs = list(long["pair"])
        n_of = dict(zip(long["pair"], long["n"]))
        p1, p2, _ = st.columns([2, 3, 2], vertical_alignment="bottom")
        with p1:
            chosen = url_select(
                "Pair to open", "pair", pairs, default=pairs[0], key="pairs_pick", fmt=lambda p: f"{p}  (n={n_of[p]})"
            )
        with p2:
            try:
                st.page_link(
                    EXPLORER,
                    label=escape_markdown(f"Open {chosen} in the query explorer"),
                    icon=":material/manage_search:",
                    query_params=explorer_params(chosen),
                )
            except StreamlitPageNotFoundError:
                st.caption("The query explorer page is not available in this app.")

    st.subheader("Difference between two profiles")
    d1, d2, _ = st.columns([2, 2, 3])
    default_b = "bm25" if "bm25" in profiles else profiles[-1]
    with d1:
        a = url_select("Profile A", "a", profiles, default="dense", key="pairs_a", fmt=profile_label)
    with d2:
        b = url_select("Profile B", "b", profiles, default=default_b, key="pairs_b", fmt=profile_label)
    if a == b:
        st.info("Choose two different profiles to compare.")
    else:
        diff = pair_difference(data.table, data.per_query[a], data.per_query[b], metric=metric)
        st.caption(
            escape_markdown(
                f"{label}: {profile_label(a)} − {profile_label(b)}, mean of the per-query difference over the same queries; "
                "green: A is better, red: B is better · click a cell to open its queries"
            )
        )
        dl, dr = st.columns([3, 2])
        with dl:
            heatmap(diff, metric_label=f"Δ {label}", diverging=True, key=f"pairs_diff_{a}_{b}_{metric}")
        with dr:
            table = pair_long(diff).rename(columns={"value": "delta"})
            if not table.empty:
                grid_a = pair_long(pair_matrix(data.table, data.per_query[a], metric=metric)).set_index("pair")["value"]
                grid_b = pair_long(pair_matrix(data.table, data.per_query[b], metric=metric)).set_index("pair")["value"]
                table["A"] = table["pair"].map(grid_a)
                table["B"] = table["pair"].map(grid_b)
                table = table.assign(size=table["delta"].abs()).sort_values(["size", "n"], ascending=[False, False])
                table = table[["pair", "A", "B", "delta", "n"]]  # largest differences, either way, first
                st.dataframe(
                    table,
                    hide_index=True,
                    width="stretch",
                    height=430,
                    column_config={
                        "pair": st.column_config.TextColumn("pair", help="query language → passage language"),
                        "A": st.column_config.NumberColumn(f"A · {profile_label(a)}", format="%.3f"),
                        "B": st.column_config.NumberColumn(f"B · {profile_label(b)}", format="%.3f"),
                        "delta": st.column_config.NumberColumn("A − B", format="%+.3f"),
                        "n": st.column_config.NumberColumn("n", format="%d", help="queries averaged"),
                    },
                )

    with st.expander("How to read this"):
        st.markdown(
            """
- **Cells** — the mean of the chosen per-query metric over the queries of one (query language,
  passage language) pair, and *n*, the number of those queries. Languages are detected from the
  texts. An empty cell has no queries; queries without a positive are left out.
- **Bars** — the same mean by query language alone and by passage language alone, with n on
  each bar; the mean over all queries is in the heading.
- **Difference** — per query, A's metric minus B's, averaged per pair (a paired difference).
- **Reference profiles** (*ref ·*) rank only their own candidate list: a positive outside the
  list scores 0.
"""
        )
    finish_dense(data)
