"""Label audit: why no vote ranks a query's positive in its top 10 — a wrong label, a parallel passage, a vague question, a miss.

Draws :meth:`View.audit` through :mod:`nanomlqa_viz.audit_view`. URL state: ``votes`` (independent
profiles and runs of the registry), ``verdict`` (a verdict or ``all``), ``query`` (the open query),
each validated.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis, set_param
from app_widgets import csv_download, explorer_link, lang_badge, passage_text, profiles_picker, select_row_to_param, url_select
from nanomlqa_viz import audit_view as av
from nanomlqa_viz.audit import far_rank
from nanomlqa_viz.tokenizer import tokenize

SNIPPET, MAX_ID = 700, 200
TABLE_KEY, IDS_KEY, PICK_KEY = "audit_table", "_audit_ids", "audit_query"
TEXT, NUMBER = st.column_config.TextColumn, st.column_config.NumberColumn
RELATION_COLOURS = {"copy": "green", "parallel passage": "green", "same topic": "orange", "other": "red"}


def _votes(view: View) -> list[str]:
    options = av.vote_options(view.registry)
    return profiles_picker(
        view,
        "Votes",
        param="votes",
        names=options,
        default=av.default_votes(view.registry),
        key="audit_votes",
        help_text="independent profiles that judge each positive: BM25, dense models, your runs; a fusion such as the "
        "hybrid never votes (it would count BM25 and dense twice)",
    )


def _counts(view: View, verdicts: pd.DataFrame, votes: list[str]) -> None:
    task = view.task
    far = far_rank()
    n_positive = sum(1 for q in task.query_ids if task.positives(q))
    st.markdown(
        escape_markdown(
            f"Audited: n={len(verdicts):,} of {task.n_queries:,} queries ({n_positive:,} with a positive) — the positive "
            f"beyond rank {far:,} in every vote ({len(votes)} vote{'s' if len(votes) != 1 else ''})."
        )
    )
    st.dataframe(
        av.verdict_counts(verdicts, n_queries=task.n_queries),
        hide_index=True,
        width="content",
        column_config={
            "verdict": TEXT("verdict", width=300),
            "n": NUMBER("n", format="%d"),
            "of audited": TEXT("of audited", alignment="right", help="n / audited queries"),
            "of all queries": TEXT("of all queries", alignment="right", help="n / every query of the task"),
        },
    )
    if view.primary_dense is None:
        st.caption("No dense model is ready: only copies and detected translations can be told, the rest is a retriever miss.")


def _table(view: View, verdicts: pd.DataFrame, votes: list[str]) -> None:
    options = [*av.VERDICTS, av.ALL]
    left, _, download = st.columns([2, 3, 1], vertical_alignment="bottom")
    with left:
        chosen = url_select(
            "Verdict",
            "verdict",
            options,
            default=av.DEFAULT_VERDICT,
            key="audit_verdict",
            fmt=lambda v: av.verdict_option_label(v, verdicts),
        )
    rows = av.filter_verdicts(verdicts, chosen)
    query_ids, doc_ids = av.task_short_ids(view)
    shown, export = av.audit_rows(rows, view.table(), votes=votes, query_ids=query_ids, doc_ids=doc_ids)
    with download:
        csv_download(export, file_name="nanomlqa_label_audit.csv", key="audit_csv", help_text="the rows shown, full ids")
    if rows.empty:
        st.info(f"No audited query has this verdict (n=0 of {len(verdicts):,}). Choose another verdict above.")
        return
    st.session_state[IDS_KEY] = list(shown["query_id"])
    headers = av.column_headers(view.registry, votes)
    config = {c: TEXT(label, help=help_text) for c, (label, help_text) in headers.items()}
    config["question"] = TEXT("question", help=headers["question"][1], width=av.QUESTION_WIDTH_PX, pinned=True)
    config["confidence"] = NUMBER("confidence", format="%.2f", help=headers["confidence"][1])
    for column in ["candidate_rank", *(f"best_rank_{v}" for v in votes)]:
        config[column] = NUMBER(headers[column][0], format="%d", help=headers[column][1])
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 460),
        key=TABLE_KEY,
        column_order=list(headers),
        column_config=config,
        placeholder="—",
        on_select=select_row_to_param(TABLE_KEY, IDS_KEY),
        selection_mode="single-row",
    )
    st.caption(f"n = {len(rows):,} of {len(verdicts):,} audited · most confident first · select a row to open it.")
    for vote in votes:
        if (entry := view.registry[vote]).partial_coverage:
            st.caption(
                f"⚠ {escape_markdown(entry.label)} {entry.coverage_note}: a query it does not rank counts as not found by it."
            )


def _pick(verdicts: pd.DataFrame, wanted: str | None) -> str | None:
    ids = list(verdicts["query_id"])
    valid = wanted if wanted in ids else None
    labels = dict(zip(verdicts["query_id"], verdicts["verdict_label"]))
    texts = dict(zip(verdicts["query_id"], verdicts["query_text"]))
    st.session_state[PICK_KEY] = valid or ""
    st.selectbox(
        "Open an audited query",
        ["", *ids],
        key=PICK_KEY,
        format_func=lambda q: "— none —" if not q else f"{q[:60]} · {labels[q]} · {texts[q][:70]}",  # plain text
        on_change=lambda: set_param("query", st.session_state.get(PICK_KEY) or None),
    )
    return valid


def _passage(view: View, doc_id: str, tokens: frozenset[str], *, title: str, badge: str) -> None:
    task, langs = view.task, view.languages
    di = task.doc_index[doc_id]
    st.markdown(f"**{title}** {badge} · {escape_markdown(doc_id)} {lang_badge(langs.doc_lang[di], langs.doc_script[di])}")
    passage_text(task.doc_texts[di], tokens, limit=SNIPPET, caption=False)


def _detail(view: View, row: pd.Series, votes: list[str]) -> None:
    task, qid = view.task, str(row["query_id"])
    qi = task.query_index[qid]
    tokens = frozenset(tokenize(task.query_texts[qi]))
    head, link = st.columns([3, 2], vertical_alignment="bottom")
    head.subheader(f"Query {escape_markdown(qid)}")
    with link:
        explorer_link(qid)
    badge = lang_badge(view.languages.query_lang[qi], view.languages.query_script[qi])
    st.markdown(f"**Question** {badge} · {escape_markdown(task.query_texts[qi])}")
    relation = av.candidate_relation(view, row)
    rel = (
        f":{RELATION_COLOURS.get(relation[0], 'gray')}-badge[{escape_markdown(relation[0])}] "
        f"(similarity to the positive z {relation[1]:+.1f})"
        if relation
        else ":gray-badge[relation unknown without a dense model]"
    )
    st.markdown(
        f"**{escape_markdown(str(row['verdict_label']))}** · confidence {float(row['confidence']):.2f} · "
        f"candidate: {escape_markdown(str(row['candidate_kind']))}, best rank {int(row['candidate_rank']):,} · "
        f"relation to the positive: {rel}"
    )
    side = {c: TEXT(c, alignment="right") for c in ("dataset's positive", "candidate")}
    st.dataframe(av.passage_table(view, row, votes=votes), width="stretch", column_config={"measure": TEXT("measure"), **side})
    left, right = st.columns(2, gap="medium")
    with left:
        n_positives = len(task.positives(qid))
        title = "Dataset's positive" + (f" (the first of {n_positives})" if n_positives > 1 else "")
        _passage(view, str(row["positive_id"]), tokens, title=title, badge=":gray-badge[qrels]")
    with right:
        kind = f":blue-badge[{escape_markdown(str(row['candidate_kind']))}]"
        _passage(view, str(row["candidate_id"]), tokens, title="Candidate", badge=kind)
    st.markdown("**Evidence**")
    st.dataframe(
        av.evidence_table(row),
        hide_index=True,
        width="stretch",
        column_config={"value": TEXT("value", alignment="right"), "what it says": TEXT("what it says", width="large")},
    )
    with st.expander("How the verdicts are reached"):
        st.markdown(av.verdict_rules())


def _open_query(view: View, verdicts: pd.DataFrame, votes: list[str]) -> None:
    wanted = st.query_params.get("query")
    if verdicts.empty and not wanted:
        return
    st.divider()
    valid = _pick(verdicts, wanted) if not verdicts.empty else None
    if wanted and valid is None:
        shown = escape_markdown(wanted[:MAX_ID])
        if wanted in view.task.query_index:
            st.warning(f"Query “{shown}” is not audited: a vote ranks its positive in its top 10 (or it has none).")
            explorer_link(wanted)
        else:
            st.warning(f"Query id “{shown}” is not in {escape_markdown(view.task.label)}; pick an audited query above.")
    elif valid is not None:
        _detail(view, verdicts.set_index("query_id", drop=False).loc[valid], votes)


view = load_view()
if view is not None:
    st.title("Label audit")
    st.caption(
        f"{escape_markdown(view.task.short_label)} · the labelled positive judged by independent votes; "
        "the relevance mode does not change the audit"
    )
    votes = _votes(view)
    if not votes:
        st.info("Choose at least one vote above.")
    else:
        need_analysis(view)
        verdicts = view.audit(votes)
        _counts(view, verdicts, votes)
        _table(view, verdicts, votes)
        with st.expander("What the audit can and cannot tell"):
            st.markdown(av.CAN_AND_CANNOT)
        _open_query(view, verdicts, votes)
    finish_dense(view)
