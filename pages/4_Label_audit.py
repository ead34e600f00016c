"""Label audit: queries whose positive looks wrong, judged from the rankings alone.

A thin view over :func:`nanomlqa_viz.audit.label_audit` (computed once per task in
``data.analysis.audit``): the flagged queries as a table, and for the open one (``?query=``)
the question, the dataset's positive and the passage every profile agrees on, side by side.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_common import (
    AppData,
    escape_markdown,
    finish_dense,
    full_text_expander,
    load_app_data,
    profile_label,
    set_param,
    shared_params,
)
from nanomlqa_viz.audit import AuditParams, far_rank
from nanomlqa_viz.explain import SAME_TOPIC_Z
from nanomlqa_viz.explorer import highlight_spans, truncate_text
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.tokenizer import tokenize

EXPLORER = "pages/1_Query_explorer.py"
MAX_ID_CHARS = 200
SNIPPET_CHARS = 700
TABLE_KEY = "audit_table"
PICK_KEY = "audit_query"


# --------------------------------------------------------------------------- plain data -> frames


def flagged_table(audit: pd.DataFrame, table: pd.DataFrame, doc_lang: Mapping[str, str]) -> pd.DataFrame:
    """The audit's rows (its order) with the pair (query language → positive's language) and the candidate's language."""
    out = audit.join(table.set_index("query_id")[["pair"]], on="query_id")
    out["candidate_lang"] = out["candidate_id"].map(doc_lang).fillna("")
    ranks = [c for c in audit.columns if c.startswith("best_rank_")]
    columns = [
        "query_id", "pair", "query_text", "confidence", "agreement", "best_relevant_rank", *ranks, "dense_margin",
        "positive_id", "candidate_id", "candidate_lang",
    ]  # fmt: skip
    return out[columns].reset_index(drop=True)


def rank_rows(profiles: Mapping[str, RankedProfile], qi: int, di: int) -> pd.DataFrame:
    """One row per profile: the rank of document ``di`` for query ``qi``, its tie interval and score."""
    rows = []
    for name, profile in profiles.items():
        info = profile.rank_info(qi, di)
        rows.append({"profile": name, "rank": info.rank, "could be": info.interval(), "score": info.score})
    return pd.DataFrame(rows, columns=["profile", "rank", "could be", "score"])


# --------------------------------------------------------------------------- URL <-> widgets


def _on_pick() -> None:
    set_param("query", st.session_state.get(PICK_KEY) or None)


def _on_table_select() -> None:
    event = st.session_state.get(TABLE_KEY)
    rows = list(event.selection.rows) if event is not None else []
    ids = st.session_state.get("_audit_ids", [])
    if rows and rows[0] < len(ids):
        set_param("query", ids[rows[0]])


def _explorer_link(query_id: str) -> None:
    carried = shared_params()
    try:
        st.page_link(
            EXPLORER,
            label=escape_markdown(f"Open {query_id} in the query explorer"),
            icon=":material/manage_search:",
            query_params={**carried, "query": query_id},
        )
    except StreamlitPageNotFoundError:
        st.caption("The query explorer page is not available in this app.")


# --------------------------------------------------------------------------- renderers


def _badge(*parts: str) -> str:
    return ":gray-badge[" + escape_markdown(" ".join(p or "?" for p in parts)) + "]"


def _text(text: str, tokens: frozenset[str]) -> None:
    """The passage, escaped, words sharing a query token in bold accent; long ones cut with the rest in an expander."""

    def marked(part: str) -> str:
        return "".join(f":blue[**{escape_markdown(s)}**]" if m else escape_markdown(s) for s, m in highlight_spans(part, tokens))

    snippet, cut = truncate_text(text, SNIPPET_CHARS)
    st.markdown(marked(snippet))
    if cut:
        full_text_expander(text, marked)


def _ranks(data: AppData, qi: int, di: int) -> None:
    frame = rank_rows(data.profiles, qi, di)
    frame["profile"] = frame["profile"].map(profile_label)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn("rank", format="%d", help="over the whole corpus, ties broken by id"),
            "could be": st.column_config.TextColumn("could be", help="the ranks it could hold among equal scores"),
            "score": st.column_config.NumberColumn("score", format="%.4g", help="BM25 score, cosine, or RRF score"),
        },
    )


def _passage(data: AppData, qi: int, di: int, tokens: frozenset[str], *, title: str, relation: str, note: str = "") -> None:
    task, langs = data.task, data.languages
    st.markdown(
        f"**{title}** · {escape_markdown(task.doc_ids[di])} {_badge(langs.doc_lang[di], langs.doc_script[di])} {relation}"
    )
    facts = (
        [f"dense cosine to the question {float(data.profiles['dense'].scores[qi, di]):.4f}"] if "dense" in data.profiles else []
    )
    if facts or note:
        st.caption(escape_markdown(" · ".join([*facts, *([note] if note else [])])))
    _text(task.doc_texts[di], tokens)
    _ranks(data, qi, di)


def _family_line(data: AppData, positive: int) -> str:
    g = data.analysis.groups
    copies = len(g.copies_of(positive)) - 1
    line = f"the positive has {copies:,} exact cop{'y' if copies == 1 else 'ies'} under other ids"
    if g.translations_known:
        translations = len(g.translations_of(positive))
        line += f" and {translations:,} passage{'' if translations == 1 else 's'} detected as its translations"
    else:
        line += "; translations not known yet (dense pending)"
    return line


def _detail(data: AppData, row: pd.Series) -> None:
    task = data.task
    qid = str(row["query_id"])
    qi = task.query_index[qid]
    positive = task.doc_index[str(row["positive_id"])]
    candidate = task.doc_index[str(row["candidate_id"])]
    tokens = frozenset(tokenize(task.query_texts[qi]))
    explanations = data.analysis.explanations

    title, link = st.columns([3, 2], vertical_alignment="bottom")
    title.subheader(f"Query {escape_markdown(qid)}")
    with link:
        _explorer_link(qid)
    st.markdown(
        f"**Question** {_badge(data.languages.query_lang[qi], data.languages.query_script[qi])} · "
        + escape_markdown(task.query_texts[qi])
    )
    margin = "—" if pd.isna(row["dense_margin"]) else f"{row['dense_margin']:+.3f}"
    st.caption(
        escape_markdown(
            f"confidence {row['confidence']:.2f} · agreement {row['agreement']:.0%} of {len(data.profiles)} profiles · "
            f"best relevant rank {int(row['best_relevant_rank']):,} · dense margin {margin} · {_family_line(data, positive)}"
        )
    )
    if explanations is not None:
        relation = f":blue-badge[{escape_markdown(explanations.label(candidate, positive))}]"
        z = explanations.similarity_z(positive, candidate)
        note = f"similarity to the positive z {z:+.1f} (same topic from {SAME_TOPIC_Z:g})"
    else:
        relation, note = ":gray-badge[relation unknown until dense is ready]", ""
    left, right = st.columns(2, gap="medium")
    with left:
        _passage(data, qi, positive, tokens, title="Dataset's positive", relation=":gray-badge[qrels]")
    with right:
        _passage(data, qi, candidate, tokens, title="Agreed best candidate", relation=relation, note=note)


def _help(n_docs: int) -> None:
    params = AuditParams()
    with st.expander("How the audit flags a query"):
        st.markdown(
            f"""
A query is **flagged** when no computed profile ranks its positive — or any exact copy or
translation of it — within the top **{far_rank(n_docs, params):,}** (1% of the corpus, at least 10
and at most 100), while the profiles' top-1 passages agree: at least {params.min_agreement:.0%} of
them fall in one copy/translation group. The *agreed best candidate* is that group's passage.

**Confidence** is the mean of three parts, each in [0, 1]:
- **agreement** — the share of computed profiles whose top-1 passage is in the majority group;
- **distance** — how far down the best relevant passage is, log-scaled to the corpus size;
- **margin** — how much better the dense model matches the question to the candidate than to the
  best relevant passage (cosine difference; {params.margin_scale:g} or more counts fully; 0 without dense).

**Relation** of the candidate to the positive, from the dense embeddings: *copy*, *translation*,
*same topic* (cosine z ≥ {SAME_TOPIC_Z:g} over the positive's cosines to the corpus) or *other* — a candidate of
another topic that every profile prefers is the strongest sign of a wrong label. **best rank**
columns are the best rank of any relevant version under each profile.

It is a triage list for a person to read, not a verdict: open a query to see the evidence.
"""
        )


# --------------------------------------------------------------------------- page


def _page(data: AppData) -> None:
    task = data.task
    st.title("Label audit")
    audit = data.analysis.audit if data.analysis is not None else pd.DataFrame()
    n_positive = sum(1 for q in task.query_ids if task.first_positive(q) is not None)
    st.caption(
        escape_markdown(
            f"{task.label} · positives no profile finds while the profiles agree on another passage · "
            f"{len(audit):,} flagged of {task.n_queries:,} queries ({len(audit) / max(n_positive, 1):.0%} of "
            f"n={n_positive:,} with a positive)"
        )
    )
    if "dense" not in data.profiles:
        st.info(
            "The dense profile is not ready: translations are not known yet, so the list counts exact copies "
            "only and rests on BM25 alone (one profile always agrees with itself). It fills in when dense is computed."
        )
    if audit.empty:
        st.info(
            escape_markdown(
                f"No query is flagged: for every query some profile ranks the positive, or a copy or translation of it, "
                f"within the top {far_rank(task.n_docs):,}, or the profiles disagree on the top passage."
            )
        )
    else:
        doc_lang = dict(zip(task.doc_ids, data.languages.doc_lang))
        shown = flagged_table(audit, data.table, doc_lang)
        st.session_state["_audit_ids"] = list(shown["query_id"])
        head, download = st.columns([5, 1], vertical_alignment="bottom")
        head.markdown(f"**n = {len(shown):,} flagged of {task.n_queries:,} queries** · most confident first")
        download.download_button(
            "CSV",
            icon=":material/download:",
            data=shown.to_csv(index=False).encode("utf-8"),
            file_name="nanomlqa_label_audit.csv",
            mime="text/csv",
            width="stretch",
            help=f"the {len(shown):,} flagged queries, exactly the columns of the table",
        )
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height=min(38 + 35 * len(shown), 420),
            key=TABLE_KEY,
            on_select=_on_table_select,
            selection_mode="single-row",
            placeholder="—",
            column_config=_column_config(shown.columns),
        )
        st.caption("Select a row (left edge) or pick a query below to open it. Column headers sort the table.")
    _help(task.n_docs)

    wanted = st.query_params.get("query")
    ids = list(audit["query_id"]) if not audit.empty else []
    valid = wanted if wanted in ids else None
    if ids or wanted:
        st.divider()
    if ids:
        texts = dict(zip(audit["query_id"], audit["query_text"]))
        confidence = dict(zip(audit["query_id"], audit["confidence"]))
        st.session_state[PICK_KEY] = valid or ""
        st.selectbox(
            "Open flagged query",
            ["", *ids],
            key=PICK_KEY,
            format_func=lambda q: "— none —" if not q else f"{q} · {confidence[q]:.2f} · {texts[q][:80]}",
            on_change=_on_pick,
            help="the open query is kept in the URL (?query=…)",
        )
    if wanted and valid is None:
        shown_id = escape_markdown(wanted[:MAX_ID_CHARS])
        if wanted in task.query_index:
            st.warning(f"Query “{shown_id}” is not flagged by the audit; open it in the query explorer instead.")
            _explorer_link(wanted)
        else:
            st.warning(f"Query id “{shown_id}” is not in {escape_markdown(task.label)}; pick a flagged query above.")
    elif valid is not None:
        _detail(data, audit.set_index("query_id", drop=False).loc[valid])


def _column_config(columns) -> dict[str, object]:
    def number(label: str, fmt: str, help_text: str, width: int) -> object:
        return st.column_config.NumberColumn(label, format=fmt, help=help_text, width=width)

    config: dict[str, object] = {
        "query_id": st.column_config.TextColumn("query", width=82),
        "pair": st.column_config.TextColumn(
            "pair", help="query language → positive's language (detected from the texts)", width=52
        ),
        "confidence": number("confidence", "%.3f", "mean of agreement, distance and margin (see below)", 76),
        "agreement": number("agree", "%.2f", "share of the profiles whose top-1 is in the majority group", 50),
        "best_relevant_rank": number("best rank", "%d", "best rank of the positive or any copy/translation, any profile", 68),
        "dense_margin": number("margin", "%.3f", "dense cosine: question–candidate minus question–best relevant passage", 58),
        "positive_id": st.column_config.TextColumn("positive", width=80),
        "candidate_id": st.column_config.TextColumn("candidate", help="the passage the profiles agree on", width=80),
        "candidate_lang": st.column_config.TextColumn("cand.", help="the candidate's language", width=46),
        "query_text": st.column_config.TextColumn("question", width=200),
    }
    for column in columns:
        if column.startswith("best_rank_"):
            name = profile_label(column.removeprefix("best_rank_"))
            config[column] = number(name.removesuffix(" (RRF)"), "%d", f"best rank of any relevant version under {name}", 54)
    return config


app_data = load_app_data()
if app_data is not None:
    _page(app_data)
    finish_dense(app_data)
