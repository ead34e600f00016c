"""Overview: the task, its languages, every profile's metrics, and where positives rank."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from app_common import escape_markdown, finish_dense, load_app_data, profile_label
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.relevance import MODE_LABELS
from nanomlqa_viz.report import metrics_frame, modes_frame, rank_distribution

ACCENT = "#2563eb"

data = load_app_data()
if data is not None:
    task = data.task
    st.title("NanoMLQA failure analysis")
    st.caption(f"{escape_markdown(task.label)} · source: {task.source_kind}")

    counts = st.columns(4)
    counts[0].metric("Queries", f"{task.n_queries:,}")
    counts[1].metric("Passages", f"{task.n_docs:,}")
    counts[2].metric("Distinct passage texts", f"{task.distinct_doc_texts:,}")
    counts[3].metric("Qrels", f"{task.n_qrels:,}")

    st.subheader(f"Metrics · {MODE_LABELS[data.mode]}")
    frame = metrics_frame(data.per_query, source=task.source, split=task.split)
    frame.index = [profile_label(p) for p in frame.index]
    show_published = frame[[c for c in frame.columns if c.startswith("published")]].notna().any().any()
    columns = ["n", *METRIC_KEYS] + ([c for c in frame.columns if c.startswith("published")] if show_published else [])
    st.dataframe(
        frame[columns],
        width="stretch",
        column_config={
            "n": st.column_config.NumberColumn("n", format="%d", help="queries averaged over"),
            **{c: st.column_config.NumberColumn(c, format="%.4f") for c in columns if c != "n"},
        },
    )
    if data.dense_pending:
        st.caption("Dense and hybrid rows appear when the dense profile is ready (progress below).")

    st.subheader("Strict qrels vs exact copies vs translations")
    modes = modes_frame(data.per_query_by_mode, metrics=("hit@10", "ndcg@10"))
    modes.index = [profile_label(p) for p in modes.index]
    short = {"strict": "strict", "copies": "+copies", "translations": "+transl."}
    modes.columns = [" ".join([c.split(" · ")[0], short[c.split(" · ")[1]]]) if " · " in c else c for c in modes.columns]
    st.dataframe(
        modes,
        width="stretch",
        column_config={
            "n": st.column_config.NumberColumn("n", format="%d"),
            **{c: st.column_config.NumberColumn(c, format="%.3f", width="small") for c in modes.columns if c != "n"},
        },
    )
    if "translations" not in data.per_query_by_mode:
        st.caption("The translations columns appear once the dense profile is ready (they need its embeddings).")
    with st.expander("What the relevance modes count"):
        st.markdown(
            """
The qrels mark one copy of each positive, but the corpus holds **exact copies** of it under other
ids and its **translations** (MLQA's parallel contexts) in other languages. *strict* scores the qrels
as published; *copies* also counts any passage whose normalised text (NFKC, whitespace collapsed)
equals the positive's; *translations* also counts passages detected as translations of it (dense
similarity checked by shared numbers and names), and their copies. The gap between the columns is
the part of each profile's "failure" that is the benchmark's labelling, not the retriever.
"""
        )

    left, right = st.columns([5, 2])
    with left:
        st.subheader("Where the positive ranks")
        names = [*data.computed, *data.references]
        dist = rank_distribution(data.table, names)
        if dist.empty:
            st.info("No ranks to show yet.")
        else:
            dist["profile"] = dist["profile"].map(profile_label)
            fig = px.ecdf(dist, x="rank", color="profile", log_x=True, ecdfnorm="percent")
            fig.update_layout(
                height=380,
                margin={"l": 10, "r": 10, "t": 10, "b": 10},
                xaxis_title="rank of the positive (log scale)",
                yaxis_title="% of queries, positive at or above",
                legend={"title_text": "", "orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
            )
            st.plotly_chart(fig, width="stretch")
            st.caption(
                "Computed profiles rank the whole corpus (n = all queries); a reference subset only "
                "ranks its own list, so its curve counts the queries whose positive is in it."
            )
    with right:
        st.subheader("Languages")
        langs = (
            pd.DataFrame(
                {
                    "queries": pd.Series(data.languages.query_lang).value_counts(),
                    "passages": pd.Series(data.languages.doc_lang).value_counts(),
                }
            )
            .fillna(0)
            .astype(int)
        )
        langs.index.name = "language"
        st.dataframe(langs, width="stretch")

    with st.expander("How to read this"):
        st.markdown(
            """
- **Metrics** — binary relevance (any positive qrels grade is relevant). nDCG@10 uses the ideal DCG
  over min(|relevant|, 10); hit@k is 1 when a relevant passage is in the top k; recall@100 is the
  share of relevant passages in the top 100; MRR@10 is 1/rank of the first relevant passage within
  10. A query with no relevant passage retrieved, or without a positive, scores 0. *n* is the
  number of queries averaged.
- **Profiles** — *BM25*, *Dense* and *Hybrid* are computed here over the whole corpus; *ref ·* rows
  are the dataset's own candidate subsets, scored as published.
- **Ties** — passages are ordered by score, then (hybrid only) by best single-list rank, then by
  corpus id ascending. Where the positive shares its score with other passages, its rank is shown
  with the interval it could take (e.g. `2–9,731` for a cross-script BM25 query that scores 0).
- **Injected entry** — where the positive was not among a `reranking_hybrid` list's 100 passages,
  the dataset builder appended it as entry 101. That entry is not a rank and is never counted.
"""
        )
    finish_dense(data)
