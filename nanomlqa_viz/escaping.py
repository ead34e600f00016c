"""Every string from a dataset or a URL, made safe for the place it is shown: markdown, plotly, CSV.

Ids, texts, config names and messages that carry them are data, never markup. Each output kind
has one helper; a page never shows such a string without it:

- :func:`markdown_text` for ``st.markdown`` / ``st.caption`` / ``st.error`` / widget labels;
- :func:`plotly_text` / :func:`plotly_labels` for hover labels, tick labels, legend entries,
  titles and annotations (plotly renders a subset of HTML there);
- :func:`csv_bytes` for downloads (a cell starting with ``=`` is a formula in a spreadsheet).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

WORD_JOINER = "\u2060"  # invisible, zero width, no line break: splits a token without showing anything
_NBSP = "\u00a0"

# --------------------------------------------------------------------------- markdown

_MARKDOWN_SPECIAL = frozenset(string.punctuation)  # CommonMark: any ASCII punctuation may be backslash-escaped
# Streamlit's markdown runs plugins on the *text* left after escapes are resolved: GFM autolinks
# ("http://", "www.", "a@b.c"), emoji / icon / logo shortcodes (":smile:", ":material_x:",
# ":streamlit:") and typography ("a -> b" becomes an arrow). A backslash cannot stop those; a word
# joiner inside the token can.
_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)")
_EMAIL_AT = re.compile(r"(?<=[\w.+-])@(?=[\w-])")
_SHORTCODE_COLON = re.compile(r":(?=[A-Za-z0-9_+-]+:)")
_TYPOGRAPHY = re.compile(r"(?<!\S)(<)(?=->(?!\S))|(?<!\S)([-<>~])(?=[->=](?!\S))")
_LEADING_BLANKS = re.compile(r"(?m)^[ \t]+")  # four leading spaces would make an indented code block


def markdown_text(text: str) -> str:
    """Text that ``st.markdown`` shows literally: every ASCII punctuation mark backslash-escaped.

    Streamlit never renders raw HTML without ``unsafe_allow_html``; escaping also stops markdown
    links, images, emphasis, headings, lists, tables, KaTeX (``$...$``) and directives such as
    ``:red[...]`` from taking effect, and a word joiner (U+2060, invisible) inside ``://``,
    ``www.``, ``a@b``, ``:shortcode:`` and ``->`` stops bare URLs, e-mail addresses, emoji / icon
    shortcodes and typographic arrows from being rendered. Leading blanks of a line become
    no-break spaces (no indented code block); newlines are kept as line breaks.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _AUTOLINK.sub(lambda m: WORD_JOINER.join(g for g in m.groups() if g), text)
    text = _EMAIL_AT.sub("@" + WORD_JOINER, text)
    text = _SHORTCODE_COLON.sub(":" + WORD_JOINER, text)
    text = _TYPOGRAPHY.sub(lambda m: (m.group(1) or m.group(2)) + WORD_JOINER, text)
    text = _LEADING_BLANKS.sub(lambda m: _NBSP * len(m.group()), text)
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text).replace("\n", "  \n")


# --------------------------------------------------------------------------- plotly

# plotly.js (src/lib/svg_text_utils.js, buildSVGText) splits a string on ``<...>``, honours the
# tags b i em s u sub sup span a br, and decodes entities (&amp; &lt; &gt; &nbsp; &mu; &times;
# &plusmn; &deg; and any numeric one) in one pass per text run, added as a DOM text node. Without
# a "<" there is no tag; "&" must be escaped so a literal "&lt;" stays literal. "$...$" is TeX when
# MathJax is on the page and "%{...}" is a hovertemplate field: numeric entities keep both literal.
_PLOTLY_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;", "%": "&#37;"})


def plotly_text(text: str) -> str:
    """Text that plotly shows literally in hover labels, ticks, legends, titles and annotations."""
    return str(text).translate(_PLOTLY_ENTITIES)


def plotly_labels(values: Iterable[str]) -> list[str]:
    """:func:`plotly_text` of each value (category names, legend names, hover texts)."""
    return [plotly_text(v) for v in values]


# --------------------------------------------------------------------------- display


def short_label(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut (never inside a mark)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and (unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0f"):
        cut -= 1  # keep a base letter with its combining marks / joiners
    return text[:cut].rstrip() + "…"


# --------------------------------------------------------------------------- CSV

# OWASP CSV injection: a spreadsheet runs a cell that starts with one of these as a formula
# (full-width forms too: Excel with an East Asian IME treats them as the ASCII ones).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """A string that starts like a formula gets a leading ``'``; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose string cells, column names and index labels cannot run as formulas.

    Numeric columns are not touched (``-1.5`` stays a number); a string that looks like a negative
    number (``"-1"`` in a text column) is text and gets the quote, as OWASP asks.
    """
    import pandas as pd

    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if (
            pd.api.types.is_object_dtype(column)
            or pd.api.types.is_string_dtype(column)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            out.isetitem(position, column.astype(object).map(csv_cell))
    out.columns = _safe_labels(out.columns)
    out.index = _safe_labels(out.index)
    return out


def _safe_labels(labels: pd.Index) -> pd.Index:
    import pandas as pd

    if isinstance(labels, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(
            [tuple(csv_cell(part) for part in label) for label in labels], names=[csv_cell(n) for n in labels.names]
        )
    if not any(isinstance(label, str) for label in labels) and not isinstance(labels.name, str):
        return labels
    return pd.Index([csv_cell(label) for label in labels], name=csv_cell(labels.name), dtype=object)


def csv_bytes(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    """``frame`` as a UTF-8 CSV download that a spreadsheet opens safely and legibly.

    Cells are neutralised by :func:`csv_safe_frame`; text fields are quoted, numbers are not
    (``QUOTE_NONNUMERIC``), so a reader keeps numbers numeric. The file starts with a UTF-8 byte
    order mark: without it Excel reads a CSV in the legacy code page and shows Arabic, Hindi or
    Chinese text as mojibake; pandas, LibreOffice and Google Sheets skip the mark.
    """
    import csv

    text = csv_safe_frame(frame).to_csv(index=index, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return text.encode("utf-8-sig")
