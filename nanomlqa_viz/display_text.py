"""Text as Streamlit's data grid shows it, readable in every script, and ids shortened to what tells them apart.

Display copies only: filter, match and export the raw text and the full ids.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import regex

from nanomlqa_viz.escaping import short_label

LRM, FSI, PDI = "\u200e", "\u2068", "\u2069"
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_GRID_PADDING_PX = 20
# Glyph widths at the grid's 14 px Source Sans, measured in Chromium (canvas measureText) on the demo's
# 50 questions, per character: Latin, Vietnamese, Devanagari (vowel signs take no width) mean 6.1, max
# 6.65; Arabic mean 6.16, max 6.85; Han 14.0–14.3. Right-to-left text takes the upper bound: its beginning
# is the end of the line that a too-long copy would lose; elsewhere a long line only loses its end.
_PX_WIDE, _PX_RTL, _PX_OTHER = 14.5, 7.0, 6.3


def _char_px(char: str) -> float:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _PX_WIDE
    return _PX_RTL if unicodedata.bidirectional(char) in ("R", "AL") else _PX_OTHER


def grid_text(text: str, *, width_px: int) -> str:
    """The copy of ``text`` that Streamlit's data grid shows in a cell ``width_px`` wide: readable in every script.

    The grid (glide-data-grid) draws a cell whose first strong character is right-to-left with
    canvas ``direction = "rtl"`` aligned to the cell's right edge: in a column wider than the
    visible part of the grid (the stretched last column) an Arabic question sits outside the view
    and the cell looks blank; with left alignment it is drawn leftwards out of the cell. The copy
    starts with a LEFT-TO-RIGHT MARK (the grid then aligns it left, like every other row) and holds
    the text in a FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, so the text is laid out in its
    own direction (Arabic words right to left, numbers and Latin names in place). It is one line,
    cut with "…" to what fits the cell (estimated glyph widths, generous for right-to-left
    scripts), so the beginning of a right-to-left question — the right end of the isolate — is
    never clipped. Explicit
    embeddings, overrides and isolates inside the text are dropped from the copy (invisible; an
    override could reorder the rest of the cell). Filter and export the raw text, never this copy.
    """
    line = " ".join(text.translate(_BIDI_CONTROLS).split())
    budget = max(4 * _PX_OTHER, width_px - _GRID_PADDING_PX)
    used, cut = 0.0, len(line)
    for i, char in enumerate(line):
        used += _char_px(char)
        if used > budget:
            cut = i
            break
    shown = line if cut == len(line) else short_label(line, max(cut, 1))
    return f"{LRM}{FSI}{shown}{PDI}"


_ID_PARTS = regex.compile(r"[\p{L}\p{N}]+|[^\p{L}\p{N}]+")
_ID_WORD = regex.compile(r"[\p{L}\p{N}]")


@dataclass(frozen=True)
class ShortIds:
    """Ids shortened to the parts that differ between them (``mlqa__ara-deu::q::Q1`` -> ``ara-deu::Q1``)."""

    short: Mapping[str, str]  # full id -> short id (unique); the full id itself when no shorter form is unique
    template: str  # the shape of the full ids, "…" where they differ ("mlqa__…-…::q::…"); "" when not shortened

    def __call__(self, full_id: str) -> str:
        return self.short.get(full_id, full_id)


def _split_id(value: str) -> list[str]:
    return _ID_PARTS.findall(value)


def _is_word(part: str) -> bool:
    return bool(_ID_WORD.match(part))


def short_ids(ids: Collection[str]) -> ShortIds:
    """The shortest unique form of every id: the word parts every id shares are left out.

    Ids of one shape (the same separators in the same places) keep their differing word parts,
    each with the separator before it (``mlqa__ara-deu::q::Q1`` -> ``ara-deu::Q1``, ``query-007``
    -> ``007``); ids of mixed shapes lose only a common prefix and suffix of whole parts. When the
    short forms would not be unique (or there is a single id), the full ids are kept.
    """
    distinct = sorted({i for i in ids if i})
    identity = ShortIds(short={i: i for i in distinct}, template="")
    if len(distinct) < 2:
        return identity
    parts = [_split_id(i) for i in distinct]
    shape = [tuple(p if not _is_word(p) else "" for p in split) for split in parts]
    if len(set(shape)) == 1:
        varying = [j for j in range(len(parts[0])) if _is_word(parts[0][j]) and len({p[j] for p in parts}) > 1]
        short = {}
        for full, split in zip(distinct, parts):
            kept = []
            for j in varying:
                if kept and j > 0 and not _is_word(split[j - 1]):
                    kept.append(split[j - 1])
                kept.append(split[j])
            short[full] = "".join(kept)
        template = "".join("…" if j in varying else p for j, p in enumerate(parts[0]))
    else:
        prefix = 0
        while all(len(p) > prefix + 1 and p[prefix] == parts[0][prefix] for p in parts):
            prefix += 1
        suffix = 0
        while all(len(p) > prefix + suffix + 1 and p[-1 - suffix] == parts[0][-1 - suffix] for p in parts):
            suffix += 1
        short = {}
        for full, split in zip(distinct, parts):
            middle = split[prefix : len(split) - suffix]
            while middle and not _is_word(middle[0]):
                middle = middle[1:]
            while middle and not _is_word(middle[-1]):
                middle = middle[:-1]
            short[full] = "".join(middle)
        template = "".join(parts[0][:prefix]) + "…" + "".join(parts[0][len(parts[0]) - suffix :])
    values = list(short.values())
    if not all(values) or len(set(values)) != len(values) or all(s == f for f, s in short.items()):
        return identity
    return ShortIds(short=short, template=template)
