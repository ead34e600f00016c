"""Widgets several pages draw: CSV downloads, row selection, URL-bound pickers, passage text, links.

Every string that comes from the data or a URL goes through :mod:`nanomlqa_viz.escaping`
(markdown for text, the CSV helper for downloads). Drawing only: nothing here computes a figure.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app_common import View, set_param, shared_params
from nanomlqa_viz.escaping import csv_bytes, markdown_text
from nanomlqa_viz.explorer import highlight_spans, truncate_text
from nanomlqa_viz.formatting import TIE_NOTE
from nanomlqa_viz.registry import ProfileKind

EXPLORER = "pages/1_Query_explorer.py"
FULL_TEXT_CHARS = 20_000  # what an expander shows of a very long passage (the index keeps it whole)
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


# --------------------------------------------------------------------------- downloads and tables


def csv_download(frame: pd.DataFrame, *, file_name: str, help_text: str, key: str | None = None) -> None:
    """A CSV download of exactly ``frame``; cells a spreadsheet would run as formulas are neutralised."""
    st.download_button(
        "CSV",
        icon=":material/download:",
        data=csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        width="stretch",
        help=help_text,
        key=key,
    )


def select_row_to_param(table_key: str, ids_key: str, *, param: str = "query") -> Callable[[], None]:
    """An ``on_select`` callback: the selected row's id (from ``st.session_state[ids_key]``) goes into ``?param=``."""

    def callback() -> None:
        event = st.session_state.get(table_key)
        rows = list(event.selection.rows) if event is not None else []
        ids = st.session_state.get(ids_key, [])
        if rows and rows[0] < len(ids):
            set_param(param, ids[rows[0]])

    return callback


# --------------------------------------------------------------------------- URL-bound pickers


def url_select(
    label: str,
    name: str,
    options: Sequence[str],
    *,
    default: str,
    key: str,
    fmt: Callable[[str], str] = str,
    help_text: str | None = None,
    keep: Sequence[str] = (),
) -> str:
    """A selectbox mirrored in ``?name=``; an unknown value shows the default and is dropped.

    Options are shown as plain text (Streamlit renders no markdown in ``format_func`` output: an
    escaped label would show its backslashes), so ``fmt`` returns the label as it is.

    A value in ``keep`` (a dense profile still being computed) stays in the URL while the default
    is shown, so the view the link names appears once it is ready.
    """
    options = list(options)
    raw = st.query_params.get(name)
    shown = raw if raw in options else (default if default in options else options[0])
    # dropdown options are drawn as plain text (never markdown): the label goes in as it is
    choice = st.selectbox(label, options, index=options.index(shown), format_func=fmt, key=key, help=help_text)
    if not (raw in keep and raw not in options and choice == shown):
        set_param(name, choice, default=default)
    return choice


def profile_select(view: View, label: str, *, param: str, default: str, key: str, kinds: Sequence[ProfileKind] = ()) -> str:
    """One profile of the view's registry, by its label, bound to ``?param=``."""
    names = view.registry.names(*kinds)
    labels = view.registry.labels()
    return url_select(label, param, names, default=default, key=key, fmt=lambda n: labels[n], keep=view.pending_names)


def profile_picker(view: View, label: str, *, param: str, default: str, key: str, names: Sequence[str] | None = None) -> str:
    """One profile of ``names`` (default: the whole registry) bound to ``?param=``, a partial profile marked in its label.

    The widget key follows the options, so the widget starts afresh from the URL when a profile
    still being computed (named in the URL, kept there meanwhile) arrives.
    """
    names = list(view.registry.names() if names is None else names)
    digest = zlib.crc32("|".join(names).encode()) & 0xFFFFFFFF

    def fmt(name: str) -> str:
        entry = view.registry[name]
        return entry.label + (f" · ⚠ {entry.coverage_note}" if entry.partial_coverage else "")

    return url_select(label, param, names, default=default, key=f"{key}_{digest:08x}", fmt=fmt, keep=view.pending_names)


def profiles_multiselect(
    view: View, label: str, *, param: str, default: Sequence[str], key: str, max_selections: int | None = None
) -> list[str]:
    """Several profiles of the view's registry (their order kept), bound to ``?param=``; labels as plain text."""
    names = view.registry.names()
    labels = view.registry.labels()
    raw = st.query_params.get(param)
    wanted = [n for n in dict.fromkeys(raw.split(",")) if n in names] if raw else []
    wanted = wanted or [n for n in default if n in names]  # a URL naming no known profile shows the default
    if max_selections:
        wanted = wanted[:max_selections]
    chosen = st.multiselect(
        label,
        names,
        default=wanted,
        format_func=lambda n: labels[n],  # plain text in a dropdown
        key=key,
        max_selections=max_selections,
    )
    waiting = bool(raw) and any(n in view.pending_names for n in raw.split(","))  # a dense profile still computing
    if not (waiting and chosen == wanted):  # the link's choice stays in the URL until it can be shown
        set_param(param, chosen, default=",".join(n for n in default if n in names))
    return chosen


# --------------------------------------------------------------------------- text


def lang_badge(lang: str, script: str, *, short: bool = False) -> str:
    shown = SCRIPT_CODES.get(script, script[:4]) if short else script
    return f":gray-badge[{markdown_text(lang or '?')} {markdown_text(shown or '?')}]"


def highlighted(text: str, tokens: frozenset[str]) -> str:
    """Markdown of the text, every segment escaped first; words sharing a query token in bold accent.

    A segment that continues a line keeps its leading blanks as they are: ``markdown_text`` turns a
    line's leading blanks into no-break spaces (no code block), which inside a line glue two words.
    """
    out, line_start = [], True
    for segment, matched in highlight_spans(text, tokens):
        lead = 0 if line_start else len(segment) - len(segment.lstrip(" \t"))
        escaped = segment[:lead] + markdown_text(segment[lead:])
        out.append(f":blue[**{escaped}**]" if matched else escaped)
        line_start = segment.endswith("\n")
    return "".join(out)


def full_text_expander(text: str, render: Callable[[str], str]) -> None:
    """An expander with the passage's text (markdown from ``render``), capped for very long passages."""
    with st.expander(f"full text · {len(text):,} chars", type="compact"):
        shown, cut = truncate_text(text, FULL_TEXT_CHARS)
        st.markdown(render(shown))
        if cut:
            st.caption(f"the first {FULL_TEXT_CHARS:,} of {len(text):,} characters are shown; the index holds all of them")


def passage_text(text: str, tokens: frozenset[str], *, limit: int, caption: bool = True) -> None:
    """A passage's first ``limit`` characters, query tokens highlighted; the rest in an expander."""
    snippet, cut = truncate_text(text, limit)
    (st.caption if caption else st.markdown)(highlighted(snippet, tokens))
    if cut:
        full_text_expander(text, lambda shown: highlighted(shown, tokens))


def tie_note() -> None:
    st.caption(TIE_NOTE)


def explorer_link(query_id: str, *, label: str | None = None, **params: str) -> None:
    """A link that opens a query (and optional filters) in the query explorer, carrying the shared URL state."""
    try:
        st.page_link(
            EXPLORER,
            label=markdown_text(label or f"Open {query_id} in the query explorer"),
            icon=":material/manage_search:",
            query_params={**shared_params(), **({"query": query_id} if query_id else {}), **params},
        )
    except StreamlitPageNotFoundError:
        st.caption("The query explorer page is not available in this app.")


def coverage_notes(view: View) -> None:
    """One caption per profile that ranks fewer queries than the task has (a run covering few queries)."""
    for entry in view.registry:
        if entry.partial_coverage and entry.kind == ProfileKind.RUN:
            st.caption(
                f"⚠ {markdown_text(entry.label)} {entry.coverage_note}: the others have no ranking and score 0 (counted in n)."
            )


def profile_pair(
    view: View,
    places: Sequence,
    *,
    defaults: tuple[str, str],
    key: str,
    kinds: Sequence[ProfileKind] = (),
    params: tuple[str, str] = ("a", "b"),
) -> tuple[str, str]:
    """Profiles A and B of the registry, in the two containers ``places``, bound to ``?a=`` / ``?b=``.

    A default that is not in the view (yet) falls back to the first other profile and is not
    written to the URL; the widgets start afresh once pending dense profiles arrive, so the real
    defaults then apply. A URL naming a pending profile keeps it until it is ready.
    """
    names = view.registry.names(*kinds)
    first = defaults[0] if defaults[0] in names else names[0]
    others = [n for n in names if n != first] or [first]
    second = defaults[1] if defaults[1] in others else others[0]
    state = "pending" if view.pending else "ready"
    chosen = []
    for place, label, param, default in zip(places, ("Profile A", "Profile B"), params, (first, second)):
        with place:
            chosen.append(profile_select(view, label, param=param, default=default, key=f"{key}_{param}_{state}", kinds=kinds))
    return chosen[0], chosen[1]


def _url_float(name: str) -> float | None:
    try:
        value = float(st.query_params.get(name, ""))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def url_select_slider(
    label: str,
    name: str,
    options: Sequence[int | float],
    *,
    default: int | float,
    key: str,
    fmt: Callable[[int | float], str] = lambda v: f"{v:,}",
    help_text: str | None = None,
    container=None,
) -> int | float:
    """A ``select_slider`` over numeric ``options`` mirrored in ``?name=``; a value not among them shows the default."""
    wanted = _url_float(name)
    value = next((o for o in options if wanted is not None and o == wanted), default)
    place = container if container is not None else st
    choice = place.select_slider(label, options=list(options), value=value, key=key, format_func=fmt, help=help_text)
    set_param(name, f"{choice:g}", default=f"{default:g}")
    return choice


def url_slider(
    label: str,
    name: str,
    *,
    low: float,
    high: float,
    step: float,
    default: float,
    key: str,
    help_text: str | None = None,
    container=None,
) -> float:
    """A float slider mirrored in ``?name=``; a value outside [low, high] shows the default, others snap to the step."""
    wanted = _url_float(name)
    value = default if wanted is None or not low <= wanted <= high else low + round((wanted - low) / step) * step
    place = container if container is not None else st
    choice = place.slider(label, low, high, round(value, 6), step, key=key, help=help_text, format="%.2f")
    choice = round(float(choice), 6)
    set_param(name, f"{choice:g}", default=f"{default:g}")
    return choice


def profiles_picker(
    view: View,
    label: str,
    *,
    param: str,
    names: Sequence[str],
    default: Sequence[str],
    key: str,
    help_text: str | None = None,
) -> list[str]:
    """Several profiles among ``names`` (returned in that order), bound to ``?param=``, a partial profile marked.

    Unknown names in the URL are dropped (none left: the default); a profile still being computed
    (named in the URL) stays there meanwhile, and the widget starts afresh from the URL once the
    options change (it arrived).
    """
    names = list(names)
    digest = zlib.crc32("|".join(names).encode()) & 0xFFFFFFFF
    raw = st.query_params.get(param)
    asked = list(dict.fromkeys(raw.split(","))) if raw else []
    from_url = [n for n in asked if n in names]
    wanted = from_url or [n for n in default if n in names]
    waiting = [n for n in asked if n not in names and n in view.pending_names]

    def fmt(name: str) -> str:
        entry = view.registry[name]
        return entry.label + (f" · ⚠ {entry.coverage_note}" if entry.partial_coverage else "")

    picked = st.multiselect(label, names, default=wanted, format_func=fmt, key=f"{key}_{digest:08x}", help=help_text)
    chosen = [n for n in names if n in picked]
    untouched = not from_url and chosen == wanted  # the default shown while the URL names only pending profiles
    shown_default = ",".join(n for n in default if n in names)
    set_param(param, waiting if waiting and untouched else [*chosen, *waiting], default=shown_default)
    return chosen
