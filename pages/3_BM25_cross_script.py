"""BM25 vs dense: the positives the dense model finds and BM25 does not, and why (scripts, tokens)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_common import bm25_index, escape_markdown, finish_dense, load_app_data, set_param
from nanomlqa_viz.cross_script import (
    DISTRACTOR_SHARES_MORE,
    NO_SHARED_SCRIPT,
    NO_SHARED_TOKENS,
    TOKENS_SHARED,
    TOKENS_SHARED_OUTSCORED,
    quadrant,
    quadrant_evidence,
    reason_counts,
    reason_summary,
    scatter_figure,
    scatter_frame,
)

SHOWN = [
    "query_id", "pair", "rank_dense", "bm25_ties", "reason", "shared_tokens", "query_scripts", "positive_scripts",
    "query_tokens", "positive_tokens", "distractor_id", "distractor_shared", "shared_idf", "distractor_idf", "query_text",
]  # fmt: skip

REASON_HEADERS = {
    NO_SHARED_SCRIPT: "no shared script",
    NO_SHARED_TOKENS: "no shared token",
    DISTRACTOR_SHARES_MORE: "distractor shares more",
    TOKENS_SHARED_OUTSCORED: "outscored",
    TOKENS_SHARED: "tokens shared",
}


def url_int(name: str, *, default: int, low: int, high: int) -> int:
    """An integer URL parameter; anything unparsable or out of [low, high] gives the default."""
    try:
        value = int(st.query_params.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


@st.cache_data(show_spinner="Comparing tokens…", max_entries=16)
def evidence(key: tuple, _rows, _data, _index):
    return quadrant_evidence(_rows, task=_data.task, index=_index, bm25=_data.profiles["bm25"])


data = load_app_data()
if data is not None:
    st.title("BM25 vs dense: cross-script misses")
    if "dense" not in data.profiles:
        st.info("The dense profile is not ready yet: this page compares BM25 with it and fills in once it is computed.")
    else:
        n_docs = data.task.n_docs
        c1, c2, _ = st.columns([2, 2, 3])
        with c1:
            dense_top = st.number_input(
                "Dense finds it: dense rank ≤",
                min_value=1,
                max_value=n_docs,
                value=url_int("dense_top", default=10, low=1, high=n_docs),
                step=1,
                key="xs_dense_top",
            )
        with c2:
            bm25_beyond = st.number_input(
                "BM25 does not: BM25 rank >",
                min_value=0,
                max_value=n_docs,
                value=url_int("bm25_beyond", default=100, low=0, high=n_docs),
                step=10,
                key="xs_bm25_beyond",
            )
        dense_top, bm25_beyond = int(dense_top), int(bm25_beyond)
        set_param("dense_top", str(dense_top), default="10")
        set_param("bm25_beyond", str(bm25_beyond), default="100")

        frame = scatter_frame(data.table)
        rows = quadrant(data.table, dense_top=dense_top, bm25_beyond=bm25_beyond)
        n_diff = int((rows["script_relation"] == "different").sum())
        st.caption(
            escape_markdown(
                f"Rank of the positive under BM25 and dense, {len(frame):,} queries with a positive · "
                f"quadrant (dense rank ≤ {dense_top}, BM25 rank > {bm25_beyond}): {len(rows):,} queries, "
                f"{n_diff:,} of them with the positive in another script"
            )
        )

        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(scatter_figure(frame, dense_top=dense_top, bm25_beyond=bm25_beyond, n_docs=n_docs), width="stretch")
        key = (data.ctx.fingerprint, data.dense_model, dense_top, bm25_beyond)
        ev = evidence(key, rows, data, bm25_index(data))
        with right:
            st.markdown("**Why BM25 misses them** " + escape_markdown(f"(queries in the quadrant, n={len(ev):,})"))
            st.dataframe(
                reason_summary(ev).assign(share=lambda f: f["share"] * 100),
                width="stretch",
                column_config={
                    "reason": st.column_config.TextColumn("reason", width=232),
                    "n": st.column_config.NumberColumn("n", format="%d", width=40),
                    "share": st.column_config.NumberColumn("%", format="%.0f%%", width=45),
                },
            )
            st.caption(
                "No shared script: BM25 cannot match at all. Shared script, no shared tokens: it could, "
                "but nothing matches. Tokens shared: it matches, and another passage wins."
            )

        counts = reason_counts(ev)
        if not counts.empty:
            st.markdown("**Reasons per language pair** (query language → passage language)")
            counts = pd.concat([counts.sum().to_frame("all pairs").T, counts])  # the total first
            st.dataframe(
                counts,
                width="stretch",
                height=min(400, 3 + 35 * (len(counts) + 1)),
                column_config={
                    r: st.column_config.NumberColumn(short, format="%d", help=r) for r, short in REASON_HEADERS.items()
                }
                | {"n": st.column_config.NumberColumn("n", format="%d", help="queries in the quadrant")},
            )

        st.subheader("Dense finds it, BM25 does not")
        if ev.empty:
            st.info(
                escape_markdown(
                    f"No query has its positive at dense rank ≤ {dense_top} and BM25 rank > {bm25_beyond} "
                    f"(of {len(frame):,} queries, {n_docs:,} passages). Lower the BM25 threshold or raise the dense one."
                )
            )
        else:
            shown = ev[SHOWN].copy()
            for column in ("shared_tokens", "distractor_shared", "distractor_id"):
                shown[column] = shown[column].replace("", "—")
            st.dataframe(
                shown,
                hide_index=True,
                width="stretch",
                height=min(600, 38 + 35 * len(ev)),
                column_config={
                    "query_id": st.column_config.TextColumn("id"),
                    "pair": st.column_config.TextColumn("pair", help="query language → passage language"),
                    "rank_dense": st.column_config.NumberColumn("dense", format="%d", help="dense rank of the positive"),
                    "bm25_ties": st.column_config.TextColumn(
                        "BM25", help="BM25 rank of the positive; a range where it ties with other passages (e.g. all at 0)"
                    ),
                    "reason": st.column_config.TextColumn("reason", width=260),
                    "shared_tokens": st.column_config.TextColumn("shared tokens (IDF)", width="medium"),
                    "query_scripts": st.column_config.TextColumn("query scripts"),
                    "positive_scripts": st.column_config.TextColumn("passage scripts"),
                    "query_tokens": st.column_config.TextColumn("query tokens", width="medium"),
                    "positive_tokens": st.column_config.TextColumn("passage tokens (first 25)", width="medium"),
                    "distractor_id": st.column_config.TextColumn("BM25 top", help="BM25's best non-relevant passage"),
                    "distractor_shared": st.column_config.TextColumn("top shares (IDF)", width="medium"),
                    "shared_idf": st.column_config.NumberColumn("Σ IDF positive", format="%.1f"),
                    "distractor_idf": st.column_config.NumberColumn("Σ IDF top", format="%.1f"),
                    "query_text": st.column_config.TextColumn("query", width="large"),
                },
            )

        with st.expander("How to read this"):
            st.markdown(
                """
- **Scatter** — one point per query: the rank of its positive under BM25 (x) and under the
  dense model (y), both on log scales, best at the top left. Blue: the query and the positive
  are written in different scripts. The dashed lines are the thresholds; the quadrant at the top
  right holds the positives the dense model finds and BM25 does not.
- **Ranks** — equal scores are ordered by corpus id; a positive BM25 scores 0 ties with every
  other passage scoring 0, and the *BM25* column then shows the whole range it could take.
- **Reasons** — *no shared script*: query and passage share neither a script nor a token, so
  BM25 cannot match them at all; *shared script, no shared tokens*: same script, no word or
  bigram in common; *tokens shared, a distractor shares more*: BM25's best non-relevant passage
  shares tokens of a larger summed IDF; *tokens shared, outscored*: it shares no more IDF but
  still scores higher (term frequency, passage length). Digits are normalised, so a year can
  match across scripts.
- **Tokens** — the BM25 tokenizer's output, distinct, in order; IDF is BM25's (floored) IDF.
"""
            )
    finish_dense(data)
