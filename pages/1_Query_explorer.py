"""Query explorer: filter the queries, read them, open one and see what each profile ranks above its positive.

Draws what :mod:`nanomlqa_viz.explorer` computes. All state lives in the URL: filters (``qlang``,
``plang``, ``pair``, ``script``, ``outcome``, ``text``), the table's ``sort`` and ``page``, the open
``query`` and the profiles side by side (``cols``); every value is validated, widgets are set from
the URL on each run and write it back in their callbacks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis, param_choice, param_list, set_param
from app_widgets import (
    coverage_notes,
    csv_download,
    lang_badge,
    passage_text,
    profiles_multiselect,
    select_row_to_param,
    tie_note,
)
from nanomlqa_viz import explorer as ex
from nanomlqa_viz.explain import label_rows
from nanomlqa_viz.relevance import MODE_LABELS, RelevanceMode
from nanomlqa_viz.tokenizer import tokenize

PAGE_SIZE, MAX_TEXT, SNIPPET, COLUMN_SNIPPET = 50, 200, 420, 170
LABEL_COLOURS = {"copy": "green", "parallel passage": "green", "same topic": "orange", "other": "gray"}


def _to_url(param: str, key: str, default: str = "", resets_page: bool = True) -> None:
    value = st.session_state.get(key)
    set_param(param, value.strip()[:MAX_TEXT] if isinstance(value, str) else value, default=default)
    if resets_page:
        set_param("page", None)


def _bound(widget: Callable, label: str, options: Sequence[str], *, param: str, default: str = "", resets_page=True, **kw):
    """A widget whose value is the URL's (validated against ``options``) and goes back to ``?param=`` when changed."""
    key = f"w_{param}"
    many = widget is st.multiselect
    st.session_state[key] = param_list(param, options) if many else param_choice(param, options, default)
    return widget(label, options, key=key, on_change=_to_url, args=(param, key, default, resets_page), **kw)


def _columns(specs: dict[str, ex.ColumnSpec]) -> dict[str, object]:
    """Streamlit column configs from the package's column specs."""
    out: dict[str, object] = {}
    for column, s in specs.items():
        common = {"label": s.label, "help": s.help or None, "width": s.width, "pinned": s.pinned or None}
        if s.kind == "number":
            out[column] = st.column_config.NumberColumn(**common, format="%d", alignment=s.align)
        elif s.kind == "check":
            out[column] = st.column_config.CheckboxColumn(**common)
        else:
            out[column] = st.column_config.TextColumn(**common, alignment=s.align)
    return out


def _filters(view: View, table: pd.DataFrame, offered: dict[str, ex.Outcome]) -> tuple[ex.Outcome, pd.DataFrame]:
    columns, values = st.columns([1, 1, 1.1, 1, 2, 1.1]), {}
    for column, (param, f) in zip(columns, ex.filter_specs(table, offered).items()):
        with column:
            fmt = lambda v, labels=f.labels or {}: labels.get(v, v)  # noqa: E731  (options are plain text)
            extra = {"placeholder": "any"} if f.many else {}
            widget = st.multiselect if f.many else st.selectbox
            values[param] = _bound(
                widget, f.label, f.options, param=param, default=f.default, help=f.help or None, format_func=fmt, **extra
            )
    st.session_state["w_text"] = st.query_params.get("text", "")[:MAX_TEXT]
    text = columns[5].text_input("Text / id", key="w_text", on_change=_to_url, args=("text", "w_text"), placeholder="substring")
    if fallback := ex.outcome_fallback(st.query_params.get("outcome", "any"), offered, pending=bool(view.pending_names)):
        st.caption(escape_markdown(fallback))
    outcome = offered[values["outcome"]]
    chosen = {"query_langs": values["qlang"], "positive_langs": values["plang"], "pairs": values["pair"]}
    return outcome, ex.filter_queries(table, outcome=outcome, script_relation=values["script"], text=text, **chosen)


def _table(view: View, table: pd.DataFrame, filtered: pd.DataFrame, names: list[str]) -> None:
    labels = view.registry.labels()
    info, sorter, pager, download = st.columns([2.6, 1.6, 0.8, 0.8], vertical_alignment="bottom")
    with sorter:
        fmt = lambda k: ex.sort_label(k, labels)  # noqa: E731
        sort = _bound(st.selectbox, "Sort (all pages)", ex.sort_options(names), param="sort", default="query_id", format_func=fmt)
    ordered = ex.sort_queries(filtered, sort)
    pages = [str(p) for p in range(1, max(1, math.ceil(len(ordered) / PAGE_SIZE)) + 1)]
    with pager:
        page = int(
            _bound(
                st.selectbox,
                f"Page of {len(pages)}",
                pages,
                param="page",
                default="1",
                resets_page=False,
                disabled=len(pages) == 1,
            )
        )
    info.markdown(f"**n = {len(filtered):,} of {len(table):,} queries**")
    scored = [n for n in names if view.registry[n].profile.scored]
    qids, pids = ex.short_ids(table["query_id"]), ex.short_ids(table["positive_id"])
    shown, export = ex.query_rows(ordered, names, scored=scored, query_ids=qids, positive_ids=pids)
    with download:
        help_csv = f"all {len(export):,} filtered queries (every page): the shown columns, raw text, full ids"
        csv_download(export, file_name="nanomlqa_queries.csv", key="w_csv", help_text=help_csv)
    counts = ex.hit_counts(view.tie_metrics(), list(filtered["query_id"]), names, k=ex.TOP_K)
    what = "positive" if view.mode == RelevanceMode.STRICT else f"relevant passage ({MODE_LABELS[view.mode]})"
    if line := ex.hit_line(counts, labels):
        st.caption(f"{escape_markdown(what)} in the top {ex.TOP_K} — {escape_markdown(line)}")
    if ordered.empty:
        st.info("No query matches these filters. Clear a filter above to see more.")
        return
    rows = shown.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    st.session_state["_explorer_ids"] = list(rows["query_id"])
    specs = ex.query_table_columns(view.registry, rows.columns, query_ids=qids, positive_ids=pids)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 460),
        key="w_table",
        column_order=list(specs),
        column_config=_columns(specs),
        placeholder="—",
        on_select=select_row_to_param("w_table", "_explorer_ids"),
        selection_mode="single-row",
    )
    st.caption("Select a row (left edge) or pick a query below to open it. Column headers sort this page; *Sort* all pages.")
    tie_note()
    coverage_notes(view)


def _passage(row: pd.Series, tokens: frozenset[str]) -> None:
    with st.container(gap="xxsmall"):
        if row["pinned"]:
            st.caption(f"⋯ {escape_markdown(row['note'])}")
        rank = "—" if pd.isna(row["rank"]) else f"{row['rank']:,}"
        head = f"**{rank}**" + (f" ({escape_markdown(row['interval'])})" if row["interval"] not in ("", rank) else "")
        head += f" · {escape_markdown(row['doc_id'])} {lang_badge(row['lang'], row['script'], short=True)}"
        head += "" if math.isnan(row["score"]) else f" {row['score']:.4g}"
        if row["beats_positive"] and row.get("label"):
            head += f" ▲ :{LABEL_COLOURS[row['label']]}-badge[{escape_markdown(row['label'])}]"
        st.markdown(head + (" :blue-badge[positive]" if row["is_positive"] else ""))
        passage_text(row["text"], tokens, limit=COLUMN_SNIPPET)


def _question_and_positive(view: View, row: pd.Series, tokens: frozenset[str]) -> None:
    task, query_id = view.task, str(row["query_id"])
    left, right = st.columns(2)
    left.markdown(f"**Question** · {lang_badge(row['query_lang'], row['query_script'])}")
    left.markdown(escape_markdown(task.query_texts[task.query_index[query_id]]))
    with right:
        positive = task.first_positive(query_id)
        if positive is None:
            st.info("This query has no positive in the qrels: every metric scores 0 for it.")
            return
        di = task.doc_index[positive]
        more = f" · {row['n_positives']} positives, showing the first" if row["n_positives"] > 1 else ""
        badge = lang_badge(view.languages.doc_lang[di], view.languages.doc_script[di])
        st.markdown(f"**Positive** {escape_markdown(positive)} · {badge} · {row['script_relation']} script{more}")
        passage_text(task.doc_texts[di], tokens, limit=SNIPPET)


def _verdict(view: View, query_id: str) -> None:
    if (verdict := ex.verdict_row(view, query_id)) is None:
        return
    with st.container(border=True):
        candidate = f" · candidate {escape_markdown(verdict.candidate_id)}" if verdict.candidate_id else ""
        st.markdown(f"**Label audit** · {escape_markdown(verdict.verdict)} · confidence {verdict.confidence:.2f}{candidate}")
        evidence = pd.DataFrame(verdict.evidence, columns=["evidence", "value"])
        st.dataframe(evidence, hide_index=True, width="content", column_config=_columns(ex.EVIDENCE_COLUMNS))


def _query_view(view: View, query_id: str, names: list[str]) -> None:
    task, labels = view.task, view.registry.labels()
    qi = task.query_index[query_id]
    row = view.table().iloc[qi]
    tokens = frozenset(tokenize(task.query_texts[qi]))
    st.subheader(f"Query {escape_markdown(query_id)}")
    _question_and_positive(view, row, tokens)
    explanations = need_analysis(view).explanations
    _verdict(view, query_id)
    frames = {n: ex.ranked_column(task, view.languages, view.registry[n].profile, qi, k=ex.TOP_K) for n in names}
    if explanations is not None:
        frames = {n: label_rows(frame, task, explanations, query_id) for n, frame in frames.items()}
    st.markdown("**Positive rank by profile** · every profile, and what ranks above it (first 1,000, labelled)")
    ranks = ex.positive_ranks(task, row, view.registry, explanations=explanations)
    specs = {**ex.POSITIVE_RANK_COLUMNS, **{c: s for c, s in ex.BEATEN_COLUMNS.items() if c != "profile"}}
    st.dataframe(ranks, hide_index=True, width="stretch", placeholder="—", column_config=_columns(specs))
    if explanations is None:
        st.caption("What ranks above the positive, labelled copy / parallel passage / same topic, needs a dense model.")
    between, reading = st.columns([3, 2])
    between.markdown(f"**Between the shown columns** · overlap@{ex.TOP_K}, where the positive moved")
    moves = ex.moves_table(frames, row, labels, k=ex.TOP_K)
    between.dataframe(moves, hide_index=True, width="stretch", column_config=_columns(ex.BETWEEN_COLUMNS))
    reading.expander("How to read the columns").markdown(ex.COLUMNS_HELP)
    for column, (name, frame) in zip(st.columns(len(frames)), frames.items()):
        with column:
            st.markdown(f"**{escape_markdown(labels[name])}** · top {ex.TOP_K}")
            st.caption(escape_markdown(ex.positive_caption(frame)))
            for _, passage in frame.iterrows():
                _passage(passage, tokens)


def _page(view: View) -> None:
    st.title("Query explorer")
    st.caption(f"{escape_markdown(view.task.short_label)} · one row per query · the positive's rank in the chosen profiles")
    table, offered = view.table(), ex.outcomes(view.registry)
    default = ex.default_columns(view.registry.names())
    label = f"Profiles side by side (up to {ex.MAX_COLUMNS})"
    chosen = profiles_multiselect(view, label, param="cols", key="w_cols", default=default, max_selections=ex.MAX_COLUMNS)
    chosen = chosen or default
    if view.pending_names:
        st.caption("⚠ Still computing: " + ", ".join(escape_markdown(n) for n in view.pending_names) + " (progress below).")
    outcome, filtered = _filters(view, table, offered)
    _table(view, table, filtered, ex.shown_profiles(view.registry, chosen, outcome))
    st.divider()
    wanted = st.query_params.get("query")
    current = wanted if wanted in view.task.query_index else None
    ids = list(filtered["query_id"])
    ids = ids if current is None or current in ids else [current, *ids]
    texts = dict(zip(table["query_id"], zip(table["pair"], table["query_text"])))
    st.session_state["w_query"] = current or ""
    st.selectbox(
        "Open query",
        ["", *ids],
        key="w_query",
        help="the filtered queries; the open query is kept in the URL",
        format_func=lambda q: "— none —" if not q else f"{q} · {texts[q][0]} · {texts[q][1][:70]}",
        on_change=lambda: set_param("query", st.session_state.get("w_query") or None),
    )
    if wanted and current is None:
        st.warning(f"Query id “{escape_markdown(wanted[:MAX_TEXT])}” is not in {escape_markdown(view.task.short_label)}.")
    elif current is not None:
        _query_view(view, current, chosen)


view = load_view()
if view is not None:
    _page(view)
    finish_dense(view)
