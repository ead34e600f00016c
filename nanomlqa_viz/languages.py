"""Script and language identification for NanoMLQA passages and queries.

Two layers:

* :func:`script_of` names the dominant Unicode script of a text from its letters;
* :func:`detect_languages` gives an ISO 639-1 code per text.  The script decides
  alone wherever it is unambiguous (Arabic, Devanagari, Han, kana, Hangul, Thai,
  Greek, Hebrew, ...); langdetect (always seeded) only separates the languages
  that share the Latin or Cyrillic script (or Arabic / Devanagari / Han script
  when ``allowed`` names several of their languages).  Without ``allowed`` the
  candidate languages are learnt from the collection itself: a first pass finds
  the frequent languages and the stray guesses are re-decided among them.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import regex
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

__all__ = [
    "ISO639_3_TO_1",
    "LANGUAGE_NAMES",
    "UNDETERMINED",
    "detect_languages",
    "script_of",
]

UNDETERMINED = "und"
"""Code returned for a text without letters."""

LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "af": "Afrikaans",
        "am": "Amharic",
        "ar": "Arabic",
        "bg": "Bulgarian",
        "bn": "Bengali",
        "bo": "Tibetan",
        "ca": "Catalan",
        "cs": "Czech",
        "cy": "Welsh",
        "da": "Danish",
        "de": "German",
        "dv": "Dhivehi",
        "el": "Greek",
        "en": "English",
        "es": "Spanish",
        "et": "Estonian",
        "fa": "Persian",
        "fi": "Finnish",
        "fr": "French",
        "gu": "Gujarati",
        "he": "Hebrew",
        "hi": "Hindi",
        "hr": "Croatian",
        "hu": "Hungarian",
        "hy": "Armenian",
        "id": "Indonesian",
        "ii": "Sichuan Yi",
        "it": "Italian",
        "ja": "Japanese",
        "ka": "Georgian",
        "km": "Khmer",
        "kn": "Kannada",
        "ko": "Korean",
        "lo": "Lao",
        "lt": "Lithuanian",
        "lv": "Latvian",
        "mk": "Macedonian",
        "ml": "Malayalam",
        "mn": "Mongolian",
        "mr": "Marathi",
        "my": "Burmese",
        "ne": "Nepali",
        "nl": "Dutch",
        "no": "Norwegian",
        "or": "Odia",
        "pa": "Punjabi",
        "pl": "Polish",
        "pt": "Portuguese",
        "ro": "Romanian",
        "ru": "Russian",
        "si": "Sinhala",
        "sk": "Slovak",
        "sl": "Slovenian",
        "so": "Somali",
        "sq": "Albanian",
        "sv": "Swedish",
        "sw": "Swahili",
        "ta": "Tamil",
        "te": "Telugu",
        "th": "Thai",
        "tl": "Tagalog",
        "tr": "Turkish",
        "uk": "Ukrainian",
        "ur": "Urdu",
        "vi": "Vietnamese",
        "zh": "Chinese",
        UNDETERMINED: "Undetermined",
    }
)
"""ISO 639-1 code (plus ``"und"``) -> English language name, for display."""

ISO639_3_TO_1: Mapping[str, str] = MappingProxyType(
    {
        "afr": "af",
        "amh": "am",
        "ara": "ar",
        "arb": "ar",
        "bul": "bg",
        "ben": "bn",
        "bod": "bo",
        "cat": "ca",
        "ces": "cs",
        "cym": "cy",
        "dan": "da",
        "deu": "de",
        "div": "dv",
        "ell": "el",
        "eng": "en",
        "spa": "es",
        "est": "et",
        "fas": "fa",
        "pes": "fa",
        "fin": "fi",
        "fra": "fr",
        "guj": "gu",
        "heb": "he",
        "hin": "hi",
        "hrv": "hr",
        "hun": "hu",
        "hye": "hy",
        "ind": "id",
        "iii": "ii",
        "ita": "it",
        "jpn": "ja",
        "kat": "ka",
        "khm": "km",
        "kan": "kn",
        "kor": "ko",
        "lao": "lo",
        "lit": "lt",
        "lav": "lv",
        "mkd": "mk",
        "mal": "ml",
        "mon": "mn",
        "mar": "mr",
        "mya": "my",
        "nep": "ne",
        "npi": "ne",
        "nld": "nl",
        "nor": "no",
        "nob": "no",
        "ori": "or",
        "ory": "or",
        "pan": "pa",
        "pol": "pl",
        "por": "pt",
        "ron": "ro",
        "rus": "ru",
        "sin": "si",
        "slk": "sk",
        "slv": "sl",
        "som": "so",
        "sqi": "sq",
        "swe": "sv",
        "swa": "sw",
        "swh": "sw",
        "tam": "ta",
        "tel": "te",
        "tha": "th",
        "tgl": "tl",
        "tur": "tr",
        "ukr": "uk",
        "urd": "ur",
        "vie": "vi",
        "zho": "zh",
        "cmn": "zh",
    }
)
"""ISO 639-3 code -> ISO 639-1 code (the MLQA subsets use ara deu eng spa hin vie zho)."""

# --------------------------------------------------------------------------- scripts

COMMON_SCRIPT = "Common"
"""What :func:`script_of` returns for a text without letters."""

OTHER_SCRIPT = "Other"
"""Generic name for letters of a script not in :data:`_SCRIPTS`."""

# Checked in this order (the frequent ones first); names are Unicode script names.
_SCRIPTS: tuple[str, ...] = (
    "Latin",
    "Han",
    "Arabic",
    "Devanagari",
    "Cyrillic",
    "Hiragana",
    "Katakana",
    "Hangul",
    "Thai",
    "Greek",
    "Hebrew",
    "Bengali",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Gujarati",
    "Gurmukhi",
    "Oriya",
    "Sinhala",
    "Georgian",
    "Armenian",
    "Ethiopic",
    "Khmer",
    "Lao",
    "Myanmar",
    "Tibetan",
    "Thaana",
    "Syriac",
    "Mongolian",
    "Bopomofo",
    "Yi",
    "Tifinagh",
    "Cherokee",
    "Canadian_Aboriginal",
    "Javanese",
    "Balinese",
    "Sundanese",
    "Ol_Chiki",
    "Nko",
)
_SCRIPT_PATTERNS: tuple[tuple[str, regex.Pattern[str]], ...] = tuple(
    (name, regex.compile(rf"\p{{Script={name}}}")) for name in _SCRIPTS
)
_LETTER_OR_MARK = regex.compile(r"[\p{L}\p{M}]")
_NO_SCRIPT = regex.compile(r"[\p{Script=Common}\p{Script=Inherited}]")

# One character of these scripts spells a syllable or a morpheme, i.e. about as much
# text as three or four letters of an alphabet; weighting them keeps a Chinese
# sentence around a long English title Chinese.  (In the MLQA replica, Chinese
# passages have at most 3.7 Latin letters per Han character, while Latin-script
# passages quoting Han or Hangul names have at least 20.)
_SYLLABIC_WEIGHT = 4
_SYLLABIC_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Hangul", "Yi", "Bopomofo"})
_KANA = ("Hiragana", "Katakana")
# Kana share of Han + kana from which a Han text counts as Japanese.
_KANA_MIN_SHARE = 0.1


@cache
def _char_script(ch: str) -> str | None:
    """Script of one character when it is a letter or mark of a specific script."""
    if not _LETTER_OR_MARK.match(ch):
        return None
    for name, pattern in _SCRIPT_PATTERNS:
        if pattern.match(ch):
            return name
    if _NO_SCRIPT.match(ch):
        return None
    return OTHER_SCRIPT


def _script_weights(text: str) -> Counter[str]:
    """Weighted letter count per script (see :func:`script_of`)."""
    weights: Counter[str] = Counter()
    for ch, n in Counter(text).items():
        script = _char_script(ch)
        if script is not None:
            weights[script] += n * (_SYLLABIC_WEIGHT if script in _SYLLABIC_SCRIPTS else 1)
    kana = sum(weights[k] for k in _KANA)
    if kana and kana >= _KANA_MIN_SHARE * (kana + weights["Han"]):
        # Japanese: kanji belong with the kana around them.
        main_kana = max(_KANA, key=lambda k: (weights[k], k == "Hiragana"))
        weights[main_kana] += weights.pop("Han", 0)
    return weights


def _dominant(weights: Counter[str]) -> str:
    if not weights:
        return COMMON_SCRIPT
    return min(weights.items(), key=lambda item: (-item[1], item[0]))[0]


def script_of(text: str) -> str:
    """Dominant Unicode script of the letters of ``text``.

    Every letter or combining mark that belongs to a specific script (not
    Common/Inherited: digits, punctuation and generic accents do not count) is
    counted for its script; Han, Hiragana, Katakana, Hangul, Yi and Bopomofo
    characters count four times, since one of them writes a syllable or a
    morpheme, so a Chinese sentence around a long Latin-script title stays "Han".
    The script with the largest weight wins (ties: alphabetical).

    Japanese: when kana make up at least 10 % of the Han + kana weight, the Han
    weight is added to the more frequent kana script, so Japanese text is
    "Hiragana" (or "Katakana" for katakana-heavy text), while Chinese text with
    no or hardly any kana is "Han".

    Returns a Unicode script name such as "Latin", "Arabic", "Devanagari",
    "Han", "Hiragana", "Katakana", "Hangul", "Thai", "Greek", "Cyrillic",
    "Hebrew", "Bengali", "Tamil", ...; "Other" for letters of a script outside
    that list; "Common" when the text has no letters at all.
    """
    return _dominant(_script_weights(text))


# --------------------------------------------------------------------------- languages

# Languages written in each script, the default first.  Scripts absent here map
# to "und".  Latin and Cyrillic are decided by langdetect among these.
_SCRIPT_LANGUAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Latin": (
            *("en", "de", "es", "vi", "fr", "it", "pt", "nl", "af", "ca", "cs", "cy", "da", "et", "fi", "hr"),
            *("hu", "id", "lt", "lv", "no", "pl", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr"),
        ),
        "Cyrillic": ("ru", "uk", "bg", "mk"),
        "Arabic": ("ar", "fa", "ur"),
        "Devanagari": ("hi", "mr", "ne"),
        "Han": ("zh", "ja"),
        "Hiragana": ("ja",),
        "Katakana": ("ja",),
        "Hangul": ("ko",),
        "Thai": ("th",),
        "Greek": ("el",),
        "Hebrew": ("he",),
        "Bengali": ("bn",),
        "Tamil": ("ta",),
        "Telugu": ("te",),
        "Kannada": ("kn",),
        "Malayalam": ("ml",),
        "Gujarati": ("gu",),
        "Gurmukhi": ("pa",),
        "Oriya": ("or",),
        "Sinhala": ("si",),
        "Georgian": ("ka",),
        "Armenian": ("hy",),
        "Ethiopic": ("am",),
        "Khmer": ("km",),
        "Lao": ("lo",),
        "Myanmar": ("my",),
        "Tibetan": ("bo",),
        "Thaana": ("dv",),
        "Mongolian": ("mn",),
        "Bopomofo": ("zh",),
        "Yi": ("ii",),
    }
)
# Scripts whose language is always chosen by langdetect, even without `allowed`.
_LANGDETECT_SCRIPTS = frozenset({"Latin", "Cyrillic"})
# Our code -> langdetect profile names.
_PROFILES: Mapping[str, tuple[str, ...]] = MappingProxyType({"zh": ("zh-cn", "zh-tw")})
_FROM_PROFILE: Mapping[str, str] = MappingProxyType({"zh-cn": "zh", "zh-tw": "zh"})

# What langdetect reads: the first 600 characters, letters of the dominant script only,
# without bracketed asides (native names, translations) when at least 20 letters
# remain, else with them, and without runs of 3+ capitalised words (names, titles)
# when at least 2 letters remain, else the whole start.
_LANGDETECT_MAX_CHARS = 600
_MIN_PLAIN_LETTERS = 20
_MIN_KEPT_LETTERS = 2
_MIN_CAPITALISED_RUN = 3
_BRACKETED = regex.compile(r"\([^()]*\)|\[[^\[\]]*\]|（[^（）]*）")
_WORD = regex.compile(r"[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*")

# Vietnamese: letters no other language written in Latin script uses together
# (ă đ ơ ư and the Latin Extended Additional block with the stacked tone marks).
_VI_LETTERS = regex.compile(r"[ăđơưĂĐƠƯ\u1EA0-\u1EF9]")
_VI_MIN_WORDS = 2  # "vi" when this many distinct words have such letters ...
_VI_MIN_SHARE = 0.15  # ... and they are this share of the distinct Latin words
_VI_ABSENT_MIN_WORDS = 6  # not "vi" when this many distinct words have none

# Spanish: a text opening with ¿ or ¡ (langdetect is weak on short questions).
_OPENING_PUNCTUATION = " \t\n\"'«“„‘‚([-–—"

# Frequent-language pass (allowed=None): a language is kept when it is the first
# guess for at least max(1, min(3, n // 30), ceil(1 % of n)) of the n distinct texts.
_FREQUENT_SHARE = 0.01
_FREQUENT_MIN_COUNT = 3
# First guesses made from this many letters are kept even outside the frequent set:
# langdetect is reliable on long texts, the strays it produces come from short ones.
_RELIABLE_LETTERS = 200


@dataclass(frozen=True, slots=True)
class _Text:
    """A text prepared for language decisions."""

    script: str
    ld_text: str  # what langdetect reads
    ld_letters: int  # letters in ld_text
    vi_words: int  # distinct Latin words with Vietnamese-specific letters
    latin_words: int  # distinct Latin words
    inverted_mark: bool  # starts with ¿ or ¡ (Spanish)


def _drop_capitalised_runs(words: Sequence[str]) -> list[str]:
    """``words`` without runs of three or more consecutive capitalised words.

    Such runs are names and titles ("Thicke, Alan (Mayo de 1999). How Men Have
    Babies: The Pregnant Father's Survival Guide"), often in another language than
    the text around them; shorter runs (German nouns, a sentence's first word, a
    two-word name) stay.
    """
    kept: list[str] = []
    run: list[str] = []
    for word in (*words, ""):
        if word[:1].isupper():
            run.append(word)
            continue
        if len(run) < _MIN_CAPITALISED_RUN:
            kept.extend(run)
        run.clear()
        if word:
            kept.append(word)
    return kept


def _without_brackets(text: str) -> str:
    """``text`` without its (possibly nested) bracketed parts."""
    while True:
        stripped = _BRACKETED.sub(" ", text)
        if stripped == text:
            return text
        text = stripped


def _prepare(text: str) -> _Text:
    text = unicodedata.normalize("NFC", text)
    weights = _script_weights(text)
    script = _dominant(weights)
    if len(_SCRIPT_LANGUAGES.get(script, ())) < 2:
        return _Text(script, "", 0, 0, 0, inverted_mark=False)
    head = text[:_LANGDETECT_MAX_CHARS]
    if len(weights) > 1:  # drop the letters of other scripts (names in parentheses, ...)
        head = "".join(ch if _char_script(ch) in (None, script) else " " for ch in head)
    words = _WORD.findall(head)
    ld_text, ld_letters = head, sum(map(len, words))
    # Asides in brackets (native names, translations) and runs of capitalised words
    # (names, titles) are often in another language than the sentence around them.
    for source, min_letters in ((_without_brackets(head), _MIN_PLAIN_LETTERS), (head, _MIN_KEPT_LETTERS)):
        kept = _drop_capitalised_runs(_WORD.findall(source))
        letters = sum(map(len, kept))
        if letters >= min_letters:
            ld_text, ld_letters = " ".join(kept), letters
            break
    vi_words = latin_words = 0
    if script == "Latin":
        distinct = {word.lower() for word in words}
        latin_words = len(distinct)
        vi_words = sum(1 for word in distinct if _VI_LETTERS.search(word))
    inverted_mark = script == "Latin" and text.lstrip(_OPENING_PUNCTUATION).startswith(("¿", "¡"))
    return _Text(script, ld_text, ld_letters, vi_words, latin_words, inverted_mark=inverted_mark)


@cache
def _factory() -> DetectorFactory:
    """langdetect's profiles, loaded once (a private factory: the global one stays as is)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


@cache
def _known_profiles() -> frozenset[str]:
    return frozenset(_factory().get_lang_list())


def _langdetect(text: str, candidates: Sequence[str], *, seed: int) -> str | None:
    """Most probable of ``candidates`` for ``text`` by langdetect, or None.

    The candidates (ISO 639-1) are the only languages with a non-zero prior, so
    langdetect's answer is restricted to them.  Seeded: same input, same answer.
    """
    known = _known_profiles()
    profiles = {p: c for c in candidates for p in _PROFILES.get(c, (c,)) if p in known}
    if not profiles:
        return None
    prior = dict.fromkeys(profiles, 1.0)
    for attempt in (text, text.lower()):  # langdetect skips ALL-CAPS words
        detector: Detector = _factory().create()
        detector.seed = seed  # DetectorFactory.seed, set per detector (thread-safe)
        detector.set_prior_map(prior)
        detector.append(attempt)
        try:
            detector.get_probabilities()
        except LangDetectException:
            continue
        scores: dict[str, float] = {}
        for profile, p in zip(detector.langlist, detector.langprob, strict=True):
            if profile in profiles:
                code = profiles[profile]
                scores[code] = scores.get(code, 0.0) + p
        return max(candidates, key=lambda c: scores.get(c, -1.0))
    return None


def _decide(item: _Text, allowed: frozenset[str] | None, *, seed: int) -> str:
    """Language of one prepared text, among ``allowed`` when it can be."""
    languages = _SCRIPT_LANGUAGES.get(item.script)
    if not languages:
        return UNDETERMINED
    restricted = allowed is not None and not allowed.isdisjoint(languages)
    candidates = languages
    if allowed is not None and restricted:
        candidates = tuple(c for c in languages if c in allowed)
    if item.script == "Latin" and "vi" in candidates and len(candidates) > 1:
        if item.vi_words >= _VI_MIN_WORDS and item.vi_words >= _VI_MIN_SHARE * item.latin_words:
            return "vi"
        if item.vi_words == 0 and item.latin_words >= _VI_ABSENT_MIN_WORDS:
            candidates = tuple(c for c in candidates if c != "vi")
    if item.inverted_mark and "es" in candidates:
        return "es"
    if len(candidates) == 1:
        return candidates[0]
    if item.script not in _LANGDETECT_SCRIPTS and not restricted:
        return languages[0]  # e.g. Arabic script: "ar" unless `allowed` says otherwise
    return _langdetect(item.ld_text, candidates, seed=seed) or candidates[0]


def _normalize_code(code: str) -> str:
    code = code.strip().lower()
    code = ISO639_3_TO_1.get(code, code)
    return _FROM_PROFILE.get(code, code)


def _frequent_languages(first: Sequence[str]) -> frozenset[str]:
    n = len(first)
    min_count = max(1, min(_FREQUENT_MIN_COUNT, n // 30), math.ceil(_FREQUENT_SHARE * n))
    counts = Counter(first)
    return frozenset(lang for lang, k in counts.items() if k >= min_count)


def detect_languages(
    texts: Sequence[str],
    *,
    allowed: Collection[str] | None = None,
    seed: int = 0,
) -> list[str]:
    """ISO 639-1 code of each text ("und" when a text has no letters).

    The dominant script (:func:`script_of`) decides first: Arabic -> "ar",
    Devanagari -> "hi", Han -> "zh", kana -> "ja", Hangul -> "ko", Thai -> "th",
    Greek -> "el", Hebrew -> "he", ... so mixed texts (a Hindi passage with
    English names, an English passage with a Chinese name in parentheses) go by
    their dominant script.  Latin-script texts are "vi" when many of their
    distinct words carry Vietnamese-only letters (ă đ ơ ư, stacked tone marks)
    and "es" when they open with ¿ or ¡; the other Latin and the Cyrillic texts
    are decided by langdetect, seeded with ``seed``, among the languages written
    in that script.  langdetect reads the first 600 characters, without letters
    of other scripts and without runs of three or more capitalised words (names
    and titles, often foreign: a Spanish reference to an English book is Spanish).

    ``allowed`` (ISO 639-1 or 639-3 codes) restricts each choice to the allowed
    languages of the text's script: Arabic script is "fa" or "ur" only when
    those are allowed and "ar" is not (langdetect separates them when several
    are allowed), likewise "mr"/"ne" for Devanagari and "ja" for kana-less Han.
    A text whose script has no allowed language gets its unrestricted guess.

    Without ``allowed``, the allowed set is learnt from the texts: a first pass
    decides every distinct text freely, the languages that are the first guess
    of at least max(1, min(3, n // 30), ceil(n / 100)) of the n distinct texts
    are kept, and the texts guessed as anything else are re-decided among them,
    unless langdetect read at least 200 letters of them (a long French passage
    in an English corpus stays "fr"; the strays come from short texts).

    Deterministic: the same texts and seed give the same codes; equal texts get
    equal codes (each distinct text is analysed once).
    """
    distinct = list(dict.fromkeys(texts))
    prepared = [_prepare(text) for text in distinct]
    if allowed is not None:
        allowed_set = frozenset(_normalize_code(code) for code in allowed)
        if not allowed_set:
            raise ValueError("allowed must name at least one language (or be None)")
        decided = [_decide(item, allowed_set, seed=seed) for item in prepared]
    else:
        first = [_decide(item, None, seed=seed) for item in prepared]
        frequent = _frequent_languages(first)
        decided = [
            lang
            if lang in frequent or lang == UNDETERMINED or item.ld_letters >= _RELIABLE_LETTERS
            else _decide(item, frequent, seed=seed)
            for item, lang in zip(prepared, first, strict=True)
        ]
    by_text = dict(zip(distinct, decided, strict=True))
    return [by_text[text] for text in texts]
