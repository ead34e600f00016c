"""Query explorer: filter the queries, open one, see what each profile ranks above its positive.

A thin view over :mod:`nanomlqa_viz.explorer`. All state lives in the URL: the filters
(``qlang``, ``plang``, ``pair``, ``script``, ``outcome``, ``text``), the table's ``sort`` and
``page``, the open ``query`` and the ticked reference subsets (``refs``). Widgets are set from
the URL on every run and write it back in their callbacks, so a copied URL reopens the view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from app_common import (
    AppData,
    escape_markdown,
    finish_dense,
    full_text_expander,
    load_app_data,
    param_choice,
    param_list,
    profile_label,
    set_param,
)
from nanomlqa_viz import explorer as ex
from nanomlqa_viz.explain import beaten_by, label_rows
from nanomlqa_viz.tokenizer import tokenize

PAGE_SIZE = 50
TOP_K = 10
LABEL_COLOURS = {"copy": "green", "translation": "green", "same topic": "orange", "other": "gray"}
SNIPPET_CHARS = 420  # the positive, above the columns
COLUMN_SNIPPET_CHARS = 170
MAX_TEXT_PARAM = 200


# --------------------------------------------------------------------------- URL <-> widgets


def _to_url(param: str, key: str, default: str = "", *, resets_page: bool = True) -> None:
    """Widget callback: write the widget's value into the URL (dropping defaults)."""
    value = st.session_state.get(key)
    if isinstance(value, str):
        value = value.strip()[:MAX_TEXT_PARAM]
    set_param(param, value, default=default)
    if resets_page:
        set_param("page", None)


def _bind(key: str, value: object) -> None:
    """Put the URL's (validated) value into a widget's state before the widget is drawn."""
    st.session_state[key] = value


def _on_pick_query() -> None:
    set_param("query", st.session_state.get("w_query") or None)


def _on_table_select() -> None:
    event = st.session_state.get("w_table")
    rows = list(event.selection.rows) if event is not None else []
    ids = st.session_state.get("_page_ids", [])
    if rows and rows[0] < len(ids):
        set_param("query", ids[rows[0]])


# --------------------------------------------------------------------------- small renderers

SCRIPT_CODES = {
    "Latin": "Latn",
    "Arabic": "Arab",
    "Devanagari": "Deva",
    "Han": "Hani",
    "Cyrillic": "Cyrl",
    "Greek": "Grek",
    "Hebrew": "Hebr",
    "Hangul": "Hang",
    "Hiragana": "Hira",
    "Katakana": "Kana",
    "Thai": "Thai",
}


def _lang_badge(lang: str, script: str, *, short: bool = False) -> str:
    shown = SCRIPT_CODES.get(script, script[:4]) if short else script
    return f":gray-badge[{escape_markdown(lang or '?')} {escape_markdown(shown or '?')}]"


def _highlighted(text: str, tokens: frozenset[str]) -> str:
    """Markdown of the text, every segment escaped first; words sharing a query token in bold accent."""
    parts = []
    for segment, matched in ex.highlight_spans(text, tokens):
        escaped = escape_markdown(segment)
        parts.append(f":blue[**{escaped}**]" if matched else escaped)
    return "".join(parts)


def _passage_text(text: str, tokens: frozenset[str], *, limit: int) -> None:
    snippet, cut = ex.truncate_text(text, limit)
    st.caption(_highlighted(snippet, tokens))
    if cut:
        full_text_expander(text, lambda shown: _highlighted(shown, tokens))


def _passage_row(row: pd.Series, tokens: frozenset[str]) -> None:
    with st.container(gap="xxsmall"):
        if row["pinned"]:
            st.caption(f"⋯ {escape_markdown(row['note'])}")
        rank = "—" if pd.isna(row["rank"]) else f"{row['rank']:,}"
        head = f"**{rank}**"
        if row["interval"] and row["interval"] != rank:
            head += f" ({escape_markdown(row['interval'])})"
        head += f" · {escape_markdown(row['doc_id'])} {_lang_badge(row['lang'], row['script'], short=True)}"
        if not math.isnan(row["score"]):
            head += f" {row['score']:.4g}"
        if row["beats_positive"]:
            head += " ▲"
            if row.get("label"):
                head += f" :{LABEL_COLOURS[row['label']]}-badge[{escape_markdown(row['label'])}]"
        if row["is_positive"]:
            head += " :blue-badge[positive]"
        st.markdown(head)
        _passage_text(row["text"], tokens, limit=COLUMN_SNIPPET_CHARS)


def _positive_caption(frame: pd.DataFrame) -> str:
    pos = frame[frame["is_positive"]]
    if pos.empty:
        return "no positive for this query"
    first = pos.iloc[0]
    if pd.isna(first["rank"]):
        return f"positive: {first['note']}"
    return f"positive at {first['interval']} · {int(frame['beats_positive'].sum())} shown above it"


# --------------------------------------------------------------------------- filters and the table


def _filters(data: AppData) -> dict[str, object]:
    table = data.table
    qlangs = sorted(table["query_lang"].unique())
    plangs = sorted(table["positive_lang"].replace("", pd.NA).dropna().unique())
    pairs = sorted(table["pair"].unique())
    outcomes = ex.available_outcomes(table)

    _bind("w_qlang", param_list("qlang", qlangs))
    _bind("w_plang", param_list("plang", plangs))
    _bind("w_pair", param_list("pair", pairs))
    _bind("w_script", param_choice("script", ex.SCRIPT_RELATIONS, "any"))
    _bind("w_outcome", param_choice("outcome", outcomes, "any"))
    _bind("w_text", st.query_params.get("text", "")[:MAX_TEXT_PARAM])

    cols = st.columns([1, 1, 1.1, 1.1, 1.8, 1.1])
    cols[0].multiselect("Query lang", qlangs, key="w_qlang", on_change=_to_url, args=("qlang", "w_qlang"), placeholder="any")
    cols[1].multiselect("Positive lang", plangs, key="w_plang", on_change=_to_url, args=("plang", "w_plang"), placeholder="any")
    cols[2].multiselect(
        "Pair",
        pairs,
        key="w_pair",
        on_change=_to_url,
        args=("pair", "w_pair"),
        placeholder="any",
        help="query language → positive's language",
    )
    cols[3].selectbox(
        "Script",
        ex.SCRIPT_RELATIONS,
        key="w_script",
        on_change=_to_url,
        args=("script", "w_script", "any"),
        help="same / different script between the query and its positive",
    )
    cols[4].selectbox(
        "Outcome",
        outcomes,
        key="w_outcome",
        format_func=lambda k: ex.OUTCOMES[k].label,
        on_change=_to_url,
        args=("outcome", "w_outcome", "any"),
        help="; ".join(f"{o.label}: {o.help}" for k, o in ex.OUTCOMES.items() if k in outcomes and o.help),
    )
    cols[5].text_input("Text / id", key="w_text", on_change=_to_url, args=("text", "w_text"), placeholder="substring")
    wanted = st.query_params.get("outcome")
    if wanted in ex.OUTCOMES and wanted not in outcomes:
        st.caption(f"⚠ Outcome “{ex.OUTCOMES[wanted].label}” needs the dense profile, still computing; showing any outcome.")
    return {
        "query_langs": st.session_state["w_qlang"],
        "positive_langs": st.session_state["w_plang"],
        "pairs": st.session_state["w_pair"],
        "script_relation": st.session_state["w_script"],
        "outcome": st.session_state["w_outcome"],
        "text": st.session_state["w_text"],
    }


def _sort_label(key: str) -> str:
    column = key.lstrip("-")
    name = "query id" if column == "query_id" else profile_label(column.removeprefix("rank_")) + " rank"
    if column == "query_id":
        return f"{name}{', descending' if key.startswith('-') else ''}"
    return f"{name}, {'worst' if key.startswith('-') else 'best'} first"


def _hit_line(filtered: pd.DataFrame, names: Sequence[str]) -> str:
    summary = ex.rank_summary(filtered, names)
    parts = [
        f"{profile_label(name)} {int(row['n@10'])}/{int(row['n'])} ({row['hit@10']:.0%})"
        for name, row in summary.iterrows()
        if row["n"]
    ]
    return "positive in the top 10 — " + " · ".join(parts) if parts else ""


def _table_section(data: AppData, filtered: pd.DataFrame) -> None:
    names = [*data.computed, *data.references]
    total = len(data.table)
    sort_options = ["query_id", *[f"rank_{n}" for n in names if f"rank_{n}" in data.table.columns]]
    sort_options += [f"-{c}" for c in sort_options]
    _bind("w_sort", param_choice("sort", sort_options, "query_id"))

    info, sorter, pager, download = st.columns([2.6, 1.6, 0.8, 0.8], vertical_alignment="bottom")
    sort = sorter.selectbox(
        "Sort (all pages)",
        sort_options,
        key="w_sort",
        format_func=_sort_label,
        on_change=_to_url,
        args=("sort", "w_sort", "query_id"),
    )
    ordered = ex.sort_queries(filtered, sort.lstrip("-"), descending=sort.startswith("-"))
    n_pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    pages = [str(p) for p in range(1, n_pages + 1)]
    page = int(param_choice("page", pages, "1"))
    info.markdown(f"**n = {len(filtered):,} of {total:,} queries**")
    _bind("w_page", str(page))
    pager.selectbox(
        f"Page of {n_pages}",
        pages,
        key="w_page",
        on_change=_to_url,
        args=("page", "w_page", "1"),
        kwargs={"resets_page": False},
        disabled=n_pages == 1,
    )
    download.download_button(
        "CSV",
        icon=":material/download:",
        data=ordered.to_csv(index=False).encode("utf-8"),
        file_name="nanomlqa_queries_filtered.csv",
        mime="text/csv",
        width="stretch",
        help=f"all {len(ordered):,} filtered queries (every page), every column of the query table",
    )
    if hit_line := _hit_line(filtered, names):
        st.caption(escape_markdown(hit_line))
    if ordered.empty:
        st.info("No query matches these filters. Clear a filter above to see more.")
        return
    shown = ordered.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    columns = ex.browse_columns(data.table, names)
    st.session_state["_page_ids"] = list(shown["query_id"])
    st.dataframe(
        shown[columns],
        width="stretch",
        hide_index=True,
        height=min(38 + 35 * len(shown), 460),
        key="w_table",
        on_select=_on_table_select,
        selection_mode="single-row",
        column_config=_column_config(columns),
        placeholder="—",
    )
    st.caption(
        "Select a row (left edge) or pick a query below to open it. Column headers sort this page only; "
        "*Sort* orders all pages. — in a reference column: the positive is not in that list."
    )


def _column_config(columns: Sequence[str]) -> dict[str, object]:
    config: dict[str, object] = {
        "query_id": st.column_config.TextColumn("query", width="small"),
        "query_text": st.column_config.TextColumn("question"),
        "pair": st.column_config.TextColumn("pair", help="query language → positive's language (detected from the texts)"),
        "script_relation": st.column_config.TextColumn("script", help="same or different script", width="small"),
        "positive_id": st.column_config.TextColumn("positive", width="small"),
    }
    for column in columns:
        if column.startswith("rank_"):
            name = column.removeprefix("rank_")
            help_text = (
                "list position of the positive; empty: not in the list (an injected entry is not a rank)"
                if name.startswith("reference/")
                else "rank of the positive over the whole corpus (ties broken by id; see ties)"
            )
            config[column] = st.column_config.NumberColumn(profile_label(name), format="%d", help=help_text, width="small")
        elif column.startswith("ties_"):
            name = column.removeprefix("ties_")
            config[column] = st.column_config.NumberColumn(
                f"{profile_label(name)} ties", format="%d", help="other passages with exactly the positive's score", width="small"
            )
    return config


# --------------------------------------------------------------------------- one query


def _query_picker(data: AppData, filtered: pd.DataFrame, current: str | None) -> None:
    ids = list(filtered["query_id"])
    if current and current not in ids:
        ids.insert(0, current)
    options = ["", *ids]
    texts = dict(zip(data.table["query_id"], data.table["query_text"]))
    pairs = dict(zip(data.table["query_id"], data.table["pair"]))
    _bind("w_query", current or "")

    def label(qid: str) -> str:
        if not qid:
            return "— none —"
        text = texts.get(qid, "")
        return f"{qid} · {pairs.get(qid, '')} · {text[:70]}{'…' if len(text) > 70 else ''}"

    st.selectbox(
        "Open query",
        options,
        key="w_query",
        format_func=label,
        on_change=_on_pick_query,
        help="the filtered queries; the open query is kept in the URL (?query=…)",
    )


def _query_view(data: AppData, query_id: str) -> None:
    task, table = data.task, data.table
    qi = task.query_index[query_id]
    row = table.iloc[qi]
    tokens = frozenset(tokenize(task.query_texts[qi]))

    st.subheader(f"Query {escape_markdown(query_id)}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Question** · {_lang_badge(row['query_lang'], row['query_script'])}")
        st.markdown(escape_markdown(task.query_texts[qi]))
    with right:
        positive = task.first_positive(query_id)
        if positive is None:
            st.markdown("**Positive**")
            st.info("This query has no positive in the qrels: every metric scores 0 for it.")
        else:
            di = task.doc_index[positive]
            more = f" · {row['n_positives']} positives, showing the first" if row["n_positives"] > 1 else ""
            st.markdown(
                f"**Positive** {escape_markdown(positive)} · "
                f"{_lang_badge(data.languages.doc_lang[di], data.languages.doc_script[di])} · "
                f"{escape_markdown(row['script_relation'])} script{more}"
            )
            _passage_text(task.doc_texts[di], tokens, limit=SNIPPET_CHARS)

    references = list(task.candidates)
    _bind("w_refs", param_list("refs", references))
    if references:
        st.pills(
            "Reference subsets (the dataset's own candidate lists) to add as columns",
            references,
            selection_mode="multi",
            key="w_refs",
            on_change=_to_url,
            args=("refs", "w_refs"),
            kwargs={"resets_page": False},
        )
    names = [*data.computed, *(f"reference/{c}" for c in st.session_state.get("w_refs", []))]
    frames = {
        name: (
            ex.reference_column(task, data.languages, name.split("/", 1)[1], query_id, k=TOP_K)
            if name.startswith("reference/")
            else ex.ranked_column(task, data.languages, data.profiles[name], qi, k=TOP_K)
        )
        for name in names
    }
    explanations = data.analysis.explanations if data.analysis else None
    if explanations is not None:
        frames = {name: label_rows(frame, task, explanations, query_id) for name, frame in frames.items()}
    _comparison(data, row, frames)
    _beaten_by(data, query_id)

    if data.dense_pending:
        st.caption("Dense and hybrid columns appear when the dense profile is ready (progress at the bottom).")
    columns = st.columns(len(frames))
    for column, (name, frame) in zip(columns, frames.items()):
        with column:
            st.markdown(f"**{escape_markdown(profile_label(name))}** · top {TOP_K}")
            st.caption(escape_markdown(_positive_caption(frame)))
            if frame.empty:
                st.caption("no candidate list for this query")
            for _, passage in frame.iterrows():
                _passage_row(passage, tokens)
    with st.expander("How to read the columns"):
        st.markdown(
            """
- **Rank** — computed profiles rank the whole corpus; equal scores are ordered by the tie policy
  (hybrid: best single-list rank, then corpus id), and a tied rank is shown as the interval it could
  take (`2–9,731`). A reference subset's rank is the position in the dataset's candidate list; it has
  no score.
- **▲** — the passage ranks above the (best) positive. **positive** marks a relevant passage. A
  passage above the positive is labelled **copy** (same text, other id), **translation** (a version
  of the positive in another language, detected from text), **same topic** (unusually similar to the
  positive or one of its translations: another paragraph of the same article, typically) or **other**.
- **Pinned row** — when the positive is below the top 10 it follows the list at its true rank. In a
  reference subset it may be *not in list*, or an *injected entry (not a rank)*: the dataset builder
  appended the positive after the last real rank, and that entry is never counted.
- **Highlight** — words of a passage that share a token with the question under the BM25 tokenizer
  (NFKC, case-folded words; Han/Thai/kana as character bigrams, both characters of a matched bigram
  marked). A cross-script pair shares few or none: that is why BM25 cannot rank its positive.
- **Overlap@10** — passages two profiles share in their top 10.
"""
        )


def _beaten_by(data: AppData, query_id: str) -> None:
    """Per computed profile: how many passages above the positive are copies, translations, same topic."""
    explanations = data.analysis.explanations if data.analysis else None
    if explanations is None:
        st.caption("Labels of the passages above the positive (copy / translation / same topic) appear with the dense profile.")
        return
    counts = pd.DataFrame(
        {profile_label(name): beaten_by(data.task, explanations, data.profiles[name], query_id) for name in data.computed}
    ).T
    counts.insert(0, "above positive", counts.sum(axis=1))
    st.markdown("**What beat the positive** (every passage ranked above it, first 1,000)")
    st.dataframe(counts, width="content", column_config={c: st.column_config.NumberColumn(c, format="%d") for c in counts})


def _comparison(data: AppData, row: pd.Series, frames: dict[str, pd.DataFrame]) -> None:
    """Where the positive ranks in every profile; between the shown columns, how it moved and overlap@10."""
    ranks, between = st.columns([1, 1])
    with ranks:
        st.markdown("**Positive rank by profile**")
        table = ex.positive_ranks(data.task, row, [*data.computed, *data.references])
        table["profile"] = table["profile"].map(profile_label)
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "profile": st.column_config.TextColumn("profile"),
                "rank": st.column_config.NumberColumn("rank", format="%d", help="—: not ranked"),
                "interval": st.column_config.TextColumn("could be", help="the ranks it could hold among equal scores"),
                "note": st.column_config.TextColumn("note"),
            },
            placeholder="—",
        )
    with between:
        st.markdown("**Between the shown columns**")
        pairs = ex.compare_columns(frames, row, k=TOP_K)
        pairs["from"] = pairs["from"].map(profile_label)
        pairs["to"] = pairs["to"].map(profile_label)
        st.dataframe(
            pairs[["from", "to", "overlap", "moved", "tied"]],
            hide_index=True,
            width="stretch",
            column_config={
                "moved": st.column_config.TextColumn("positive moved", help="up = towards rank 1"),
                "tied": st.column_config.CheckboxColumn(
                    "tie", help="either rank is a tie interval: the move may be the tie-break alone"
                ),
                "overlap": st.column_config.NumberColumn(
                    f"overlap@{TOP_K}", format="%d", help=f"passages both top {TOP_K}s share"
                ),
            },
        )


# --------------------------------------------------------------------------- page


def _page(data: AppData) -> None:
    st.title("Query explorer")
    st.caption(
        f"{escape_markdown(data.task.label)} · one row per query · rank of the positive in every profile"
        + (" · dense and hybrid still computing (progress at the bottom)" if data.dense_pending else "")
    )
    chosen = _filters(data)
    filtered = ex.filter_queries(
        data.table,
        query_langs=chosen["query_langs"],
        positive_langs=chosen["positive_langs"],
        pairs=chosen["pairs"],
        script_relation=str(chosen["script_relation"]),
        outcome=str(chosen["outcome"]),
        text=str(chosen["text"]),
    )
    _table_section(data, filtered)

    st.divider()
    wanted = st.query_params.get("query")
    valid = wanted if wanted in data.task.query_index else None
    _query_picker(data, filtered, valid)
    if wanted and valid is None:
        st.warning(
            f"Query id “{escape_markdown(wanted[:MAX_TEXT_PARAM])}” is not in {escape_markdown(data.task.label)}; "
            "pick a query above."
        )
    elif valid is not None:
        _query_view(data, valid)


app_data = load_app_data()
if app_data is not None:
    _page(app_data)
    finish_dense(app_data)
