"""BM25 vs dense: the positives the dense model finds and BM25 does not, and why (scripts, tokens)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_common import AppData, bm25_index, escape_markdown, finish_dense, load_app_data, param_choice, set_param
from nanomlqa_viz.cross_script import (
    DISTRACTOR_SHARES_MORE,
    FAILURE_REASONS,
    FOUND,
    FOUND_OTHER_VERSION,
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

FAILURE_HEADERS = {FOUND: "found (top 10)", FOUND_OTHER_VERSION: "copy/translation found", **REASON_HEADERS}
ANY = "any"


def url_int(name: str, *, default: int, low: int, high: int) -> int:
    """An integer URL parameter; anything unparsable or out of [low, high] gives the default, itself capped to it."""
    default = min(max(default, low), high)
    try:
        value = int(st.query_params.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


@st.cache_data(show_spinner="Comparing tokens…", max_entries=16)
def evidence(key: tuple, _rows, _data, _index):
    return quadrant_evidence(_rows, task=_data.task, index=_index, bm25=_data.profiles["bm25"])


def failure_overview(reasons: pd.DataFrame) -> pd.DataFrame:
    """Every label of :data:`FAILURE_REASONS` (index, in order, zeros included) with its ``n`` and ``share`` of the rows."""
    n = reasons["reason"].value_counts().reindex(list(FAILURE_REASONS), fill_value=0).astype(int)
    total = int(n.sum())
    out = pd.DataFrame({"n": n, "share": n / total if total else float("nan")})
    out.index.name = "reason"
    return out


def failure_by_pair(reasons: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Queries per language pair (rows, most first, "all pairs" on top) and reason (columns that occur), plus ``n``."""
    pairs = reasons.merge(table[["query_id", "pair"]], on="query_id", how="left")
    if pairs.empty:
        return pd.DataFrame(columns=["n"], dtype=int).rename_axis("pair")
    counts = pd.crosstab(pairs["pair"].fillna("?"), pairs["reason"])
    counts = counts[[r for r in FAILURE_REASONS if r in counts.columns]]
    counts["n"] = counts.sum(axis=1)
    counts = counts.sort_values("n", ascending=False, kind="stable")
    counts.columns.name = None
    return pd.concat([counts.sum().to_frame("all pairs").T, counts]).astype(int).rename_axis("pair")


def failure_rows(reasons: pd.DataFrame, table: pd.DataFrame, reason: str = ANY) -> pd.DataFrame:
    """The queries with ``reason`` (``"any"``: all), with pair, script relation, BM25 tie interval, dense rank, text."""
    dense = [c for c in ("rank_dense",) if c in table.columns]
    keep = ["query_id", "pair", "script_relation", "tie_first_bm25", "tie_last_bm25", "query_text", *dense]
    rows = reasons if reason == ANY else reasons[reasons["reason"] == reason]
    out = rows.merge(table[keep], on="query_id", how="left")
    first, last = out["tie_first_bm25"], out["tie_last_bm25"]
    out["bm25_ties"] = [
        str(r) if pd.isna(f) or f == la else f"{int(f)}–{int(la)}" for r, f, la in zip(out["bm25_rank"], first, last)
    ]
    columns = ["query_id", "pair", "script_relation", "bm25_rank", "bm25_ties", *dense, "reason", "shared_tokens", "query_text"]
    return out[columns].reset_index(drop=True)


def every_query_section(data: AppData) -> None:
    """Why BM25 fails, every query: a reason for each query with a positive, per pair, filterable."""
    st.subheader("Why BM25 fails, every query")
    reasons = data.analysis.bm25_reasons if data.analysis is not None else pd.DataFrame(columns=["query_id", "reason"])
    total = data.task.n_queries
    found = int((reasons["reason"] == FOUND).sum())
    st.caption(
        escape_markdown(
            f"A reason for every query with a positive, n={len(reasons):,} of {total:,} queries · "
            f"BM25 fails (positive below its top 10) on {len(reasons) - found:,} of them"
        )
    )
    if "translations" not in data.per_query_by_mode:
        st.caption(
            "⚠ Translations are not known until the dense profile is ready: "
            "“a copy or translation was found instead” counts exact copies only meanwhile."
        )
    if reasons.empty:
        st.info("No query has a positive: there is nothing for BM25 to find.")
        return
    overview = failure_overview(reasons)
    left, right = st.columns([1, 1])
    with left:
        st.markdown("**All queries** " + escape_markdown(f"(n={len(reasons):,})"))
        st.dataframe(
            overview.assign(share=lambda f: f["share"] * 100),
            width="stretch",
            column_config={
                "reason": st.column_config.TextColumn("reason", width=270),
                "n": st.column_config.NumberColumn("n", format="%d", width=40),
                "share": st.column_config.NumberColumn("%", format="%.0f%%", width=45),
            },
        )
    with right:
        by_pair = failure_by_pair(reasons, data.table)
        st.markdown("**Per language pair** (query language → passage language)")
        st.dataframe(
            by_pair,
            width="stretch",
            height=min(400, 3 + 35 * (len(by_pair) + 1)),
            column_config={r: st.column_config.NumberColumn(short, format="%d", help=r) for r, short in FAILURE_HEADERS.items()}
            | {"n": st.column_config.NumberColumn("n", format="%d", help="queries of the pair with a positive")},
        )

    counts = overview["n"].to_dict()
    options = [ANY, *FAILURE_REASONS]
    f1, _ = st.columns([2, 3])
    with f1:
        reason = st.selectbox(
            "Reason",
            options,
            index=options.index(param_choice("reason", options, ANY)),
            format_func=lambda r: f"any (n={len(reasons):,})" if r == ANY else f"{r} (n={counts.get(r, 0):,})",
            key="xs_reason",
        )
    set_param("reason", reason, default=ANY)
    rows = failure_rows(reasons, data.table, reason)
    if rows.empty:
        st.info(escape_markdown(f"No query has the reason “{reason}”. Choose another reason above."))
    else:
        st.dataframe(
            rows.assign(shared_tokens=rows["shared_tokens"].replace("", "—")),
            hide_index=True,
            width="stretch",
            height=min(320, 38 + 35 * len(rows)),
            column_config={
                "query_id": st.column_config.TextColumn("id"),
                "pair": st.column_config.TextColumn("pair", help="query language → passage language"),
                "script_relation": st.column_config.TextColumn("script", help="same or different script"),
                "bm25_rank": st.column_config.NumberColumn("BM25", format="%d", help="BM25 rank of the positive"),
                "bm25_ties": st.column_config.TextColumn("BM25 could be", help="the ranks it could hold among equal scores"),
                "rank_dense": st.column_config.NumberColumn("dense", format="%d", help="dense rank of the positive"),
                "reason": st.column_config.TextColumn("reason", width=260),
                "shared_tokens": st.column_config.TextColumn("shared tokens (IDF)", width="medium"),
                "query_text": st.column_config.TextColumn("query", width="large"),
            },
        )
    with st.expander("How each query gets its reason"):
        st.markdown(
            """
Every query with a positive gets one reason, checked in this order:
- **found (top 10)** — BM25 ranks the positive within its top 10: not a failure;
- **a copy or translation was found instead** — the positive is below the top 10, but an exact
  copy of it (same text, another id) or a detected translation of it is in the top 10: BM25 found
  the answer, the strict qrels do not count it;
- otherwise the token evidence, as in the table above: *no shared script*, *shared script, no
  shared tokens*, *tokens shared, a distractor shares more* (BM25's best non-relevant passage
  shares tokens of a larger summed IDF), *tokens shared, outscored*.

*n* per pair counts the pair's queries with a positive; the shares add up to 100% of them.
"""
        )


data = load_app_data()
if data is not None:
    st.title("BM25 vs dense: cross-script misses")
    every_query_section(data)
    st.divider()
    st.subheader("BM25 vs dense, positive by positive")
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
