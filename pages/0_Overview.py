"""Overview: the task, its languages, every profile's metrics (tie-aware), the labelling effect, where positives rank."""

from __future__ import annotations

import streamlit as st

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis
from app_widgets import coverage_notes, tie_note
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.overview import languages_table, metrics_table, modes_table, rank_figure, tie_ranges_table
from nanomlqa_viz.relevance import MODE_LABELS


def _metrics(view: View) -> None:
    st.subheader(f"Metrics · {MODE_LABELS[view.mode]}")
    frame = metrics_table(view)
    partial = bool((frame["covered"] < frame["n"]).any())
    columns = ["profile", "n", *(["covered"] if partial else []), *METRIC_KEYS]
    columns += [c for c in frame.columns if c.startswith("published")]
    st.dataframe(
        frame[columns],
        hide_index=True,
        width="stretch",
        column_config={
            "profile": st.column_config.TextColumn("profile", pinned=True),
            "n": st.column_config.NumberColumn("n", format="%d", help="queries averaged over (every query of the task)"),
            "covered": st.column_config.NumberColumn("ranked", format="%d", help="queries the profile has a ranking for"),
            **{k: st.column_config.NumberColumn(k, format="%.4f", help="tie-aware expected value") for k in METRIC_KEYS},
            **{
                c: st.column_config.NumberColumn(c.replace("published ", "pub. "), format="%.4f")
                for c in columns
                if "published" in c
            },
        },
    )
    ranges = tie_ranges_table(view)
    if not ranges.empty:
        st.markdown("**Where ties move the value** · worst–best (the expected value is the one above)")
        st.dataframe(
            ranges,
            hide_index=True,
            width="stretch",
            column_config={
                "profile": st.column_config.TextColumn("profile", pinned=True),
                **{k: st.column_config.TextColumn(k, alignment="right") for k in ranges.columns if k != "profile"},
            },
        )
    tie_note()
    coverage_notes(view)


def _modes(view: View) -> None:
    st.subheader("Strict qrels vs exact copies vs parallel passages")
    need_analysis(view)
    frame = modes_table(view)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "profile": st.column_config.TextColumn("profile", pinned=True),
            "n": st.column_config.NumberColumn("n", format="%d"),
            **{c: st.column_config.NumberColumn(c, format="%.3f") for c in frame.columns if c not in ("profile", "n")},
        },
    )
    if len(view.modes) < 3:
        st.caption("The parallel-passage columns appear once a dense model is ready (the detector needs its embeddings).")
    with st.expander("What the relevance modes count"):
        st.markdown(
            """
The qrels mark one copy of each positive, but the corpus holds **exact copies** of it under other
ids and **parallel passages**: versions of the positive's paragraph in other languages that carry
the same answer sentence (MLQA asks one question against several languages' Wikipedia paragraphs).
*strict* scores the qrels as published; *+copies* also counts any passage whose normalised text (NFKC,
whitespace collapsed) equals the positive's; *+parallel* also counts the positive's parallel passages
(found from text: sentence pairs that are mutual best matches with a clear margin, numbers and names
agreeing) and their copies. The gap between the columns is the part of each profile's "failure" that
is the benchmark's labelling, not the retriever. Values are tie-aware expected values.
"""
        )


def _ranks_and_languages(view: View) -> None:
    left, right = st.columns([5, 2])
    with left:
        st.subheader("Where the positive ranks")
        st.plotly_chart(rank_figure(view), width="stretch")
        st.caption(
            "Full-corpus profiles rank every query's positive; a candidate subset or a run only ranks what it lists, "
            "so its curve stops below 100%. n = all queries."
        )
    with right:
        st.subheader("Languages")
        st.dataframe(
            languages_table(view),
            hide_index=True,
            width="stretch",
            column_config={
                "language": st.column_config.TextColumn("language"),
                "queries": st.column_config.NumberColumn("queries", format="%d"),
                "passages": st.column_config.NumberColumn("passages", format="%d"),
            },
        )


def _help() -> None:
    with st.expander("How to read this"):
        st.markdown(
            """
- **Metrics** — binary relevance (any positive qrels grade is relevant). nDCG@10 uses the ideal DCG
  over min(|relevant|, 10); hit@k is 1 when a relevant passage is in the top k; recall@100 is the
  share of relevant passages in the top 100; MRR@10 is 1/rank of the first relevant passage within
  10. A query with no relevant passage retrieved, no positive, or no ranking in a run scores 0. *n* is
  the number of queries averaged.
- **Ties** — exact copies of the positive get the same dense score, and a cross-script BM25 query
  scores 0 for most of the corpus. Each metric is the expected value over a random order of equal
  scores, [worst–best] when the relevant passages come last / first among them. The command line's
  `metrics` keep the ties-by-id value, which reproduces published figures.
- **Profiles** — *BM25*, *Dense* and *Hybrid* rank the whole corpus here; *ref ·* rows are the dataset's
  own candidate subsets, scored as published; runs you load are scored the same way (unlisted passages
  rank below every listed one).
- **Injected entry** — where the positive was not among a `reranking_hybrid` list's 100 passages,
  the dataset builder appended it as entry 101. That entry is not a rank and is never counted.
"""
        )


view = load_view()
if view is not None:
    task = view.task
    st.title("Overview")
    st.caption(f"{escape_markdown(task.short_label)} · source: {task.source_kind}")
    counts = st.columns(4)
    counts[0].metric("Queries", f"{task.n_queries:,}")
    counts[1].metric("Passages", f"{task.n_docs:,}")
    counts[2].metric("Distinct passage texts", f"{task.distinct_doc_texts:,}")
    counts[3].metric("Qrels", f"{task.n_qrels:,}")
    _metrics(view)
    _ranks_and_languages(view)
    _modes(view)
    _help()
    finish_dense(view)
