"""BM25 cross-script: a reason for every BM25 failure; BM25's rank against any other profile's, and why it misses.

URL state: ``reason`` (a :class:`Bm25Reason` value or ``any``), ``other`` (a dense model, fusion or
run of the registry), ``other_top`` and ``bm25_beyond`` (the quadrant's thresholds), validated.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis, set_param, shared_params
from app_widgets import EXPLORER, csv_download, profile_picker, url_select
from nanomlqa_viz.cross_script import (
    REASONS,
    Bm25Reason,
    clicked_query,
    default_other,
    other_names,
    reason_overview,
    reason_rows,
    reasons_by_pair,
    scatter_figure,
    sparse_name,
    view_quadrant,
    view_rank_frame,
    view_reasons,
)
from nanomlqa_viz.relevance import MODE_LABELS, RelevanceMode

ANY = "any"
TEXT = st.column_config.TextColumn
NUMBER = st.column_config.NumberColumn
COLUMNS = {
    "query_id": TEXT("id"),
    "pair": TEXT("pair", help="query language → passage language"),
    "script_relation": TEXT("script", help="same or different script"),
    "bm25_rank": NUMBER("BM25", format="%d", help="BM25 rank of the positive (ties by id)"),
    "bm25_ties": TEXT("BM25 could be", help="the ranks it could hold among equal scores"),
    "other_ties": TEXT("other", help="the other profile's rank of the positive (with ties)"),
    "reason": TEXT("reason", width="medium"),
    "shared_tokens": TEXT("shared tokens (IDF)", width="medium"),
    "shared_idf": NUMBER("Σ IDF positive", format="%.1f"),
    "query_scripts": TEXT("query scripts"),
    "positive_scripts": TEXT("passage scripts"),
    "query_tokens": TEXT("query tokens", width="medium"),
    "positive_tokens": TEXT("passage tokens (first 25)", width="medium"),
    "distractor_id": TEXT("BM25 top", help="BM25's best non-relevant passage"),
    "distractor_shared": TEXT("top shares (IDF)", width="medium"),
    "distractor_idf": NUMBER("Σ IDF top", format="%.1f"),
    "query_text": TEXT("query", width="large"),
}
REASON_HEADERS = {r.value: NUMBER(r.short, format="%d", help=r.value) for r in REASONS} | {
    "n": NUMBER("n", format="%d", help="queries with a positive")
}
EVIDENCE_SHOWN = [
    "query_id", "pair", "other_ties", "bm25_ties", "reason", "shared_tokens", "shared_idf", "query_scripts",
    "positive_scripts", "query_tokens", "positive_tokens", "distractor_id", "distractor_shared", "distractor_idf", "query_text",
]  # fmt: skip


def url_int(name: str, *, default: int, low: int, high: int) -> int:
    """An integer URL parameter; anything unparsable or out of [low, high] gives the default, itself capped to it."""
    default = min(max(default, low), high)
    try:
        value = int(st.query_params.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


def reason_tables(reasons: pd.DataFrame, table: pd.DataFrame, *, what: str) -> None:
    """Counts of every reason over ``what`` (n, %), and per language pair."""
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{what}** " + escape_markdown(f"(n={len(reasons):,})"))
        overview = reason_overview(reasons)
        st.dataframe(
            overview.assign(share=overview["share"] * 100),
            width="stretch",
            column_config={
                "reason": TEXT("reason", width=280),
                "n": NUMBER("n", format="%d"),
                "share": NUMBER("%", format="%.0f%%"),
            },
        )
    with right:
        by_pair = reasons_by_pair(reasons, table)
        st.markdown("**Per language pair** (query language → passage language)")
        st.dataframe(by_pair, width="stretch", height=min(320, 38 + 35 * len(by_pair)), column_config=REASON_HEADERS)


def reasons_section(view: View) -> None:
    st.subheader("Why BM25 fails, every query")
    reasons, table = view_reasons(view), view.table()
    found = sum(Bm25Reason(r) is Bm25Reason.FOUND for r in reasons["reason"])
    st.caption(
        escape_markdown(
            f"A reason for every query with a positive, n={len(reasons):,} of {view.task.n_queries:,} queries · BM25 misses "
            f"{len(reasons) - found:,} of them (positive not in its top 10 whatever the order of ties) · relevance: "
            f"{MODE_LABELS[view.mode]}"
        )
    )
    if view.mode == RelevanceMode.STRICT:
        st.caption("“A copy or parallel passage was found instead” counts only under the + copies / + parallel relevance modes.")
    if reasons.empty:
        st.info("No query has a positive: there is nothing for BM25 to find.")
        return
    reason_tables(reasons, table, what="All queries")
    counts = reason_overview(reasons)["n"].to_dict()
    options = [ANY, *(r.value for r in REASONS)]
    f1, _ = st.columns([2, 3])
    with f1:
        chosen = url_select(
            "Reason",
            "reason",
            options,
            default=ANY,
            key="xs_reason",
            fmt=lambda r: f"any (n={len(reasons):,})" if r == ANY else f"{r} (n={counts.get(r, 0):,})",
        )
    rows = reason_rows(reasons, table, None if chosen == ANY else Bm25Reason(chosen))
    if rows.empty:
        st.info(escape_markdown(f"No query has the reason “{chosen}” here. Choose another reason above."))
        return
    st.dataframe(rows, hide_index=True, width="stretch", height=min(320, 38 + 35 * len(rows)), column_config=COLUMNS)
    csv_download(rows, file_name="bm25_reasons.csv", help_text="the queries shown, with their reason", key="xs_reasons_csv")


def thresholds(view: View) -> tuple[int, int]:
    n_docs = view.task.n_docs
    c2, c3 = st.columns(2)
    top = c2.number_input(
        "Other finds it: rank ≤",
        min_value=1,
        max_value=n_docs,
        value=url_int("other_top", default=10, low=1, high=n_docs),
        key="xs_other_top",
    )
    beyond = c3.number_input(
        "BM25 does not: rank >",
        min_value=0,
        max_value=n_docs,
        value=url_int("bm25_beyond", default=100, low=0, high=n_docs),
        step=10,
        key="xs_bm25_beyond",
    )
    set_param("other_top", str(int(top)), default=str(min(10, n_docs)))
    set_param("bm25_beyond", str(int(beyond)), default=str(min(100, n_docs)))
    return int(top), int(beyond)


def compare_section(view: View) -> None:
    names = other_names(view)
    if not names:
        st.info("No dense model, fusion or run to compare BM25 with yet; this part fills in once one is ready.")
        return
    c1, c2 = st.columns([2, 3])
    with c1:
        default = default_other(view) or names[0]
        other = profile_picker(view, "Compare BM25 with", param="other", default=default, key="xs_other", names=names)
    label = view.registry[other].label
    with c2:
        top, beyond = thresholds(view)
    st.subheader(escape_markdown(f"BM25 vs {label}, positive by positive"))
    frame = view_rank_frame(view, other)
    ev = view_quadrant(view, other, other_top=top, bm25_beyond=beyond)
    n_diff = int((ev["query_id"].map(dict(zip(frame["query_id"], frame["script_relation"]))) == "different").sum())
    missing = view.task.n_queries - len(frame)
    st.caption(
        escape_markdown(
            f"Expected rank of the positive (middle of its tie interval), n={len(frame):,} queries both rank"
            + (f" ({missing:,} without a positive or not listed by {label})" if missing else "")
            + f" · quadrant ({label} ≤ {top}, BM25 > {beyond}): {len(ev):,} queries, {n_diff:,} with the positive in another "
            "script · click a point to open the query in the explorer"
        )
    )
    event = st.plotly_chart(
        scatter_figure(frame, other_label=label, other_top=top, bm25_beyond=beyond, n_docs=view.task.n_docs),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key=f"xs_scatter_{other}",
    )
    query = clicked_query(event, frame["query_id"])
    if query is not None:
        try:
            st.switch_page(EXPLORER, query_params={**shared_params(), "query": query})
        except StreamlitPageNotFoundError:
            st.warning("The query explorer page is not available in this app.")
    st.markdown("**" + escape_markdown(f"{label} finds it, BM25 does not") + "**")
    if ev.empty:
        st.info(
            escape_markdown(
                f"No query has its positive at {label} rank ≤ {top} and BM25 rank > {beyond} "
                f"(of {len(frame):,} queries, {view.task.n_docs:,} passages). Lower the BM25 threshold or raise the other."
            )
        )
        return
    reason_tables(ev, view.table(), what="Queries in the quadrant")
    shown = ev[EVIDENCE_SHOWN].replace({"shared_tokens": {"": "—"}, "distractor_shared": {"": "—"}, "distractor_id": {"": "—"}})
    columns = {**COLUMNS, "other_ties": TEXT(label, help="its rank of the positive (with ties)")}  # headers are plain text
    st.dataframe(shown, hide_index=True, width="stretch", height=min(600, 38 + 35 * len(ev)), column_config=columns)
    csv_download(ev, file_name="bm25_quadrant.csv", help_text="the quadrant's queries with their tokens", key="xs_quadrant_csv")


HELP = """
- **Reasons** — every query with a positive gets one, checked in this order: *found (top 10)*: a
  positive is in BM25's top 10 whatever the order of tied scores; *a copy or parallel passage was
  found instead*: another passage relevant under the relevance mode (an exact copy, a parallel
  passage) is; *no shared script*: query and passage share neither a script nor a token, BM25
  cannot match them at all; *shared script, no shared tokens*: same script, no word or bigram in
  common; *tokens shared, a distractor shares more*: BM25's best non-relevant passage shares
  tokens of a larger summed IDF; *tokens shared, outscored*: it shares no more IDF but still scores
  higher (term frequency, passage length). Digits are normalised, so a year can match across scripts.
- **Scatter** — one point per query: the expected rank of its positive under BM25 (x) and the other
  profile (y), log scales, best at the top left; blue: query and positive in different scripts. The
  quadrant at the top right holds the positives the other profile finds and BM25 does not.
- **Ranks** — a positive BM25 scores 0 ties with every passage scoring 0: *BM25 could be* shows the
  whole range; the expected rank is its middle.
- **Tokens** — the BM25 tokenizer's output, distinct, in order; IDF is BM25's (floored) IDF.
"""

view = load_view()
if view is not None:
    st.title("BM25 cross-script")
    if sparse_name(view) is None:
        st.info("This view has no BM25 profile.")
    else:
        if view.mode == RelevanceMode.PARALLEL:
            need_analysis(view)
        reasons_section(view)
        st.divider()
        compare_section(view)
        with st.expander("How to read this"):
            st.markdown(HELP)
    finish_dense(view)
