"""Language pairs: a metric per query language × passage language for any profile, differences between two profiles.

URL state: ``profile``, ``metric``, ``vs`` (the profile compared with), ``side`` (the bars' language),
``pair`` (the pair the explorer link opens), validated against the registry and the metric keys.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis, shared_params
from app_widgets import EXPLORER, csv_download, profile_picker, tie_note, url_select
from nanomlqa_viz.formatting import format_tie_range
from nanomlqa_viz.pairs import (
    METRIC_LABELS,
    SIDE_LABELS,
    SIDES,
    clicked_pair,
    heatmap_pairs,
    language_bars,
    overall_mean,
    pair_heatmap,
    pair_long,
    view_by_language,
    view_difference,
    view_difference_table,
    view_pair_grid,
)
from nanomlqa_viz.relevance import MODE_LABELS, RelevanceMode


def open_explorer(pair: str) -> None:
    try:
        st.switch_page(EXPLORER, query_params={**shared_params(), "pair": pair})
    except StreamlitPageNotFoundError:
        st.warning(escape_markdown(f"The query explorer page is not available in this app; pair {pair} not opened."))


def heatmap(grid, *, metric_label: str, key: str, signed: bool = False, parts=()) -> None:
    """A pair heatmap; a click on a cell opens the query explorer filtered on that pair."""
    if grid.n_queries == 0:
        st.info("No query has a metric value and a known language pair here.")
        return
    figure = pair_heatmap(grid, metric_label=metric_label, signed=signed, parts=parts)
    event = st.plotly_chart(figure, width="stretch", on_select="rerun", selection_mode="points", key=key)
    pair = clicked_pair(event, heatmap_pairs(grid))
    if pair is not None:
        open_explorer(pair)


def coverage(view: View, *names: str) -> None:
    for name in dict.fromkeys(names):
        entry = view.registry[name]
        if entry.partial_coverage:
            st.caption(
                escape_markdown(f"⚠ {entry.label} {entry.coverage_note}: the others score 0 and count in n.")
                + " Every mean is over all queries of the cell."
            )


def pair_link(grid) -> None:
    """The fallback to a click: a pair (bound to ``?pair=``) and a link to the explorer filtered on it."""
    cells = pair_long(grid)
    pairs, n_of = list(cells["pair"]), dict(zip(cells["pair"], cells["n"]))
    left, right, _ = st.columns([2, 3, 2], vertical_alignment="bottom")
    with left:
        chosen = url_select(
            "Pair to open", "pair", pairs, default=pairs[0], key="pairs_pick", fmt=lambda p: f"{p}  (n={n_of[p]})"
        )
    with right:
        try:
            st.page_link(
                EXPLORER,
                label=escape_markdown(f"Open {chosen} in the query explorer"),
                icon=":material/manage_search:",
                query_params={**shared_params(), "pair": chosen},
            )
        except StreamlitPageNotFoundError:
            st.caption("The query explorer page is not available in this app.")


def main(view: View) -> None:
    st.title("Language pairs")
    names = view.registry.names()
    default_a = "dense" if "dense" in names else names[0]
    default_b = "bm25" if "bm25" in names and default_a != "bm25" else next((n for n in names if n != default_a), names[0])
    c1, c2, c3, c4 = st.columns([3, 2, 3, 2])
    with c1:
        profile = profile_picker(view, "Profile", param="profile", default=default_a, key="pairs_profile")
    with c2:
        metric = url_select("Metric", "metric", list(METRIC_LABELS), default="hit@10", key="pairs_metric", fmt=METRIC_LABELS.get)
    with c3:
        vs = profile_picker(view, "Compare with", param="vs", default=default_b, key="pairs_vs")
    with c4:
        side = url_select("Bars by", "side", SIDES, default="query", key="pairs_side", fmt=SIDE_LABELS.get)
    if view.mode == RelevanceMode.PARALLEL:
        need_analysis(view)
    label, labels = METRIC_LABELS[metric], view.registry.labels()
    grid = view_pair_grid(view, profile, metric=metric)
    st.caption(
        escape_markdown(
            f"{labels[profile]} · {label} ({MODE_LABELS[view.mode]}) per query language (rows) × language of the "
            f"positive passage (columns) · n = {grid.n_queries:,} of {view.task.n_queries:,} queries (those with a positive) · "
            "tie-aware expected values · click a cell to open its queries in the query explorer"
        )
    )
    coverage(view, profile, vs)

    left, right = st.columns([3, 2])
    with left:
        heatmap(grid, metric_label=label, key=f"pairs_heat_{profile}_{metric}_{view.mode}")
    with right:
        overall = overall_mean(view, profile, metric=metric)
        bars = view_by_language(view, profile, metric=metric, side=side)
        all_queries = format_tie_range(overall["expected"], overall["worst"], overall["best"])
        st.markdown(f"**By {SIDE_LABELS[side]}** · " + escape_markdown(f"all queries {all_queries}, n={overall['n']:,}"))
        if bars.empty:
            st.caption("No query has a language on this side.")
        else:
            st.plotly_chart(
                language_bars(bars, metric_label=label, axis_title=SIDE_LABELS[side], overall=overall["expected"]),
                width="stretch",
                key=f"pairs_bars_{side}",
            )
    if grid.n_queries:
        pair_link(grid)

    st.subheader("Difference between two profiles")
    if vs == profile:
        st.info("Choose two different profiles to compare (Profile and Compare with).")
    else:
        parts = ((labels[profile], grid), (labels[vs], view_pair_grid(view, vs, metric=metric)))
        diff = view_difference(view, profile, vs, metric=metric)
        st.caption(
            escape_markdown(
                f"{label}: {labels[profile]} − {labels[vs]}, per query then averaged over the pair's queries (paired), "
                f"n = {diff.n_queries:,} · green: {labels[profile]} is better, red: {labels[vs]} is better · "
                "[range] over any order of tied scores in either profile"
            )
        )
        dl, dr = st.columns([3, 2])
        with dl:
            heatmap(
                diff, metric_label=f"Δ {label}", signed=True, parts=parts, key=f"pairs_diff_{profile}_{vs}_{metric}_{view.mode}"
            )
        with dr:
            table = view_difference_table(view, profile, vs, metric=metric)
            if not table.empty:
                st.dataframe(
                    table,
                    hide_index=True,
                    width="stretch",
                    height=400,
                    column_config={
                        "pair": st.column_config.TextColumn("pair", help="query language → passage language"),
                        # column headers are plain text (not markdown): the labels as they are
                        "A": st.column_config.TextColumn(labels[profile], alignment="right"),
                        "B": st.column_config.TextColumn(labels[vs], alignment="right"),
                        "delta": st.column_config.NumberColumn("A − B", format="%+.3f"),
                        "delta range": st.column_config.TextColumn("A − B [range]", alignment="right"),
                        "n": st.column_config.NumberColumn("n", format="%d", help="queries averaged"),
                    },
                )
                csv_download(
                    table, file_name=f"pairs_{metric}_difference.csv", help_text="the difference table as shown", key="pairs_csv"
                )
    tie_note()
    with st.expander("How to read this"):
        st.markdown(
            """
- **Cells** — the mean of the chosen per-query metric over the queries of one (query language,
  passage language) pair, and *n*, the number of those queries. Languages are detected from the
  texts. An empty cell has no queries; queries without a positive have no pair and are left out.
- **Tie-aware** — each query's metric is its expected value over a random order of passages with
  equal scores; the hover shows [worst–best]: the means when the relevant passages come last /
  first among them.
- **Bars** — the same means by query language or by passage language, with n on each bar; the
  dashed line and the heading give the mean over all queries.
- **Difference** — per query, the profile's metric minus the compared profile's, averaged per pair
  (a paired difference); the hover also shows both profiles' means.
- **Partial profiles** (runs, *ref ·* candidate subsets) rank only what they list: a query they do
  not rank scores 0 and counts in n, like a positive outside the list.
"""
        )


view = load_view()
if view is not None:
    main(view)
    finish_dense(view)
