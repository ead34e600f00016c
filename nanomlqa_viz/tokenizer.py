"""Language-agnostic tokenizer for the seven MLQA languages (ar, de, en, es, hi, vi, zh).

One function, :func:`tokenize`, used for both queries and passages:

1. Unicode NFKC normalisation (full-width Latin and digits, half-width katakana, ligatures,
   composed Vietnamese diacritics, ...), then full case folding (``"Straße"`` -> ``"strasse"``).
2. Invisible format characters that only steer rendering (soft hyphen, zero-width joiner and
   non-joiner, word joiner, BOM) are removed, so ``"Wiki\\u00adpedia"`` stays one word.
3. Every decimal digit (Arabic-Indic ``١٩٥٢``, Devanagari ``१९४७``, ...) becomes its ASCII digit,
   so years and other numbers match across scripts.
4. Words are maximal runs of letters, combining marks and numbers (``regex`` module classes
   ``\\p{L}\\p{M}\\p{N}``). Combining marks stay inside words: Python's ``re`` ``\\w`` splits the
   Devanagari ``"हिन्दी"`` at its vowel signs, this does not.
5. Runs of scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao,
   Khmer, Myanmar, by Unicode Script_Extensions) become overlapping bigrams of user-perceived
   characters (grapheme clusters, so a Thai consonant keeps its vowel and tone marks); a run of
   one character is kept as a unigram. Such runs are split off neighbouring words:
   ``"DNA复制"`` -> ``["dna", "复制"]``. Hangul is written with spaces and stays word-based.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

import regex

__all__ = ["TOKENIZER_DESCRIPTION", "TOKENIZER_VERSION", "tokenize"]

TOKENIZER_VERSION = "1"
TOKENIZER_DESCRIPTION = (
    "NFKC + casefold; letter/mark/number words (regex \\p{L}\\p{M}\\p{N}, all decimal digits "
    "mapped to 0-9); Han/Hiragana/Katakana/Thai/Lao/Khmer/Myanmar runs as overlapping "
    "grapheme bigrams (single character -> unigram)"
)

# Scripts whose words are not separated by spaces, by Script_Extensions so that shared
# characters (the katakana prolonged sound mark, the ideographic iteration mark, combining
# (semi-)voiced sound marks) stay inside their runs.
_NO_SPACE_SCRIPTS = (
    r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}"
    r"\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}"
)
_WORD_CHARS = r"\p{L}\p{M}\p{N}"
_WORDS = regex.compile(rf"[{_WORD_CHARS}]+")
_HAS_NO_SPACE = regex.compile(rf"[{_NO_SPACE_SCRIPTS}]")
_RUNS = regex.compile(
    rf"(?V1)(?P<nospace>[[{_WORD_CHARS}]&&[{_NO_SPACE_SCRIPTS}]]+)"
    rf"|(?P<word>[[{_WORD_CHARS}]--[{_NO_SPACE_SCRIPTS}]]+)"
)
_GRAPHEME = regex.compile(r"\X")
_NON_ASCII_DIGIT = regex.compile(r"[^\P{Nd}0-9]")
# Soft hyphen, zero-width non-joiner / joiner, word joiner, zero-width no-break space (BOM).
_IGNORABLE = ("\u00ad", "\u200c", "\u200d", "\u2060", "\ufeff")


def _ascii_digit(match: regex.Match[str]) -> str:
    return str(unicodedata.decimal(match.group()))


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for character in _IGNORABLE:
        if character in text:
            text = text.replace(character, "")
    text = text.casefold()
    # Case folding can leave a string that is no longer NFKC (rare); re-normalise only then.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _NON_ASCII_DIGIT.sub(_ascii_digit, text)


def _bigrams(run: str) -> list[str]:
    chars = _GRAPHEME.findall(run)
    if len(chars) == 1:
        return chars
    return [first + second for first, second in pairwise(chars)]


def tokenize(text: str) -> list[str]:
    """Tokens of ``text``: normalised words, and grapheme bigrams for unspaced scripts.

    >>> tokenize("Việt Nam: DNA复制, ＡＢＣ 2024")
    ['việt', 'nam', 'dna', '复制', 'abc', '2024']
    """
    text = _normalize(text)
    if not _HAS_NO_SPACE.search(text):  # fast path: no unspaced script anywhere
        return _WORDS.findall(text)
    tokens: list[str] = []
    for match in _RUNS.finditer(text):
        if match.lastgroup == "nospace":
            tokens.extend(_bigrams(match.group()))
        else:
            tokens.append(match.group())
    return tokens
