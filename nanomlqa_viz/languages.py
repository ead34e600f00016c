"""Script and language identification for passages and queries.

Two layers:

* :func:`script_of` names the dominant Unicode script of a text from its letters;
* :func:`detect_languages` gives an ISO 639-1 code per text.  The rules, in order:

  1. The dominant script gives the candidate languages.  Where langdetect has
     profiles for several languages of the script, they all are candidates:
     Latin (31 languages), Cyrillic (ru uk bg mk), Arabic (ar fa ur), Devanagari
     (hi mr ne), Han (zh ja; kana-rich text is kana script, see :func:`script_of`).
     The other scripts have one language each: kana -> ja, Hangul -> ko, Thai ->
     th, Greek -> el, Hebrew -> he, Bengali -> bn, Tamil -> ta, ...  A text
     without letters, or whose letters are of a script outside the table, is "und".
  2. ``allowed`` narrows the candidates to the languages it names, unless it
     names none of the script's languages (then rule 1's candidates stay).
  3. A text opening with ¿ or ¡ keeps only the candidates whose spelling uses
     these marks (Spanish, Catalan).  If both remain, langdetect's profiles
     decide by the likelihood of all the text's n-grams plus a 100:1 prior for
     Spanish (Catalan spelling rarely uses the marks): a short, ambiguous
     question is Spanish, a Catalan one with clearly Catalan words stays Catalan.
  4. One candidate left: that language.  Otherwise langdetect, seeded, chooses
     among the candidates.  It reads the first 600 characters, letters of the
     dominant script only, without bracketed asides (when at least 20 letters
     remain) and without runs of three or more capitalised words (names, titles;
     when at least 2 letters remain).  If it finds nothing to read, the first
     candidate in table order (en, ru, ar, hi, zh) is returned.
  5. Without ``allowed``, the candidates are learnt from the collection: a
     first pass decides every distinct text by rules 1-4; per script, the
     languages that are the first guess of at least max(1, min(3, n // 30),
     ceil(n / 100)) of the script's n distinct texts are its frequent languages;
     a text whose first guess is not frequent and for which langdetect read
     fewer than 200 letters is decided again with the frequent languages of its
     script as ``allowed`` (short texts produce the strays; long ones are trusted).

No rule overrides langdetect's choice between languages it knows: rule 3 only
narrows the candidates and breaks near-ties, and no letter or script decides a
language that shares its script with another language langdetect knows.
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
from langdetect.utils.ngram import NGram

__all__ = [
    "DETECTOR_VERSION",
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

DETECTOR_VERSION = "2"
"""Version of the language rules below; part of the cache key of detected languages."""

# Languages written in each script.  Where a script has several, all are languages
# langdetect has a profile for, and it chooses among them; the first one is the
# fallback when langdetect finds nothing to read.
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

# Texts opening with ¿ or ¡: only languages whose spelling uses these marks stay
# candidates (Galician and Asturian use them too, but langdetect has no profile for
# them).  Between these, langdetect's profiles decide, with a prior for how often each
# language opens a sentence with the marks: Spanish always, Catalan rarely (its
# standard spelling does without them), so a short, ambiguous Spanish question
# ("¿Qué es un leptoma?") is Spanish while a Catalan one with clearly Catalan words
# ("¿On desemboca l'Ebre?") stays Catalan.
_INVERTED_MARK_PRIOR: Mapping[str, float] = MappingProxyType({"es": 1.0, "ca": 0.01})
_OPENING_PUNCTUATION = " \t\n\"'«“„‘‚([-–—"

# Frequent-language pass (allowed=None): a language is frequent in a script when it is
# the first guess for at least max(1, min(3, n // 30), ceil(1 % of n)) of the n distinct
# texts of that script.
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
    inverted_mark: bool  # starts with ¿ or ¡


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
        return _Text(script, "", 0, inverted_mark=False)
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
    inverted_mark = text.lstrip(_OPENING_PUNCTUATION).startswith(("¿", "¡"))
    return _Text(script, ld_text, ld_letters, inverted_mark=inverted_mark)


@cache
def _factory() -> DetectorFactory:
    """langdetect's profiles, loaded once (a private factory: the global one stays as is)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


@cache
def _known_profiles() -> frozenset[str]:
    return frozenset(_factory().get_lang_list())


@cache
def _ngram_char(ch: str) -> str:
    """``ch`` as langdetect's n-grams read it (NGram.normalize, cached)."""
    return NGram.normalize(ch)


class _CandidateDetector(Detector):
    """langdetect's detector, faster, with exactly langdetect's numbers.

    Every language outside the prior starts at probability 0 and stays 0 (each
    update multiplies, each normalisation divides), so the updates skip them: a
    loop over the candidates instead of all 55 profiles at each n-gram draw.  The
    n-grams are extracted as langdetect's NGram does, with the per-character
    normalisation cached.
    """

    def __init__(self, factory: DetectorFactory, columns: Sequence[int]) -> None:
        super().__init__(factory)
        self._columns = columns

    def _extract_ngrams(self) -> list[str]:
        known = self.word_lang_prob_map
        result: list[str] = []
        grams, capital_word = " ", False
        for raw in self.text:
            ch = _ngram_char(raw)
            last = grams[-1]
            if last == " ":
                grams, capital_word = " ", False
                if ch == " ":
                    continue
            elif len(grams) >= NGram.N_GRAM:
                grams = grams[1:]
            grams += ch
            capital_word = ch.isupper() and (capital_word or last.isupper())
            if capital_word:
                continue
            for n in range(1, min(len(grams), NGram.N_GRAM) + 1):
                gram = grams[-n:]
                if gram != " " and gram in known:
                    result.append(gram)
        return result

    def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
        if word is None or word not in self.word_lang_prob_map:
            return False
        lang_prob_map = self.word_lang_prob_map[word]
        weight = alpha / self.BASE_FREQ
        for i in self._columns:
            prob[i] *= weight + lang_prob_map[i]
        return True

    def _normalize_prob(self, prob: list[float]) -> float:
        maxp, sump = 0.0, sum(prob)
        for i in self._columns:
            p = prob[i] / sump
            if maxp < p:
                maxp = p
            prob[i] = p
        return maxp

    def log_likelihoods(self) -> dict[str, float]:
        """Profile -> log-likelihood of all the text's n-grams, each read once (no sampling).

        langdetect's own estimate samples n-grams until one language passes 0.99999, so
        it has no usable margin; this one does, for tie-breaks with a prior.
        """
        self.cleaning_text()
        grams = self._extract_ngrams()
        weight = self.ALPHA_DEFAULT / self.BASE_FREQ
        return {
            self.langlist[i]: sum(math.log(weight + self.word_lang_prob_map[gram][i]) for gram in grams) for i in self._columns
        }


@cache
def _profile_columns(candidates: tuple[str, ...]) -> tuple[Mapping[str, str], tuple[int, ...]]:
    """langdetect profile -> candidate code, and the profiles' columns in langdetect's tables."""
    known = _known_profiles()
    profiles = {p: c for c in candidates for p in _PROFILES.get(c, (c,)) if p in known}
    columns = tuple(i for i, p in enumerate(_factory().langlist) if p in profiles)
    return MappingProxyType(profiles), columns


def _detector(text: str, candidates: tuple[str, ...], *, seed: int) -> _CandidateDetector:
    profiles, columns = _profile_columns(candidates)
    detector = _CandidateDetector(_factory(), columns)
    detector.seed = seed  # DetectorFactory.seed, set per detector (thread-safe)
    detector.set_prior_map(dict.fromkeys(profiles, 1.0))
    detector.append(text)
    return detector


def _langdetect(text: str, candidates: tuple[str, ...], *, seed: int) -> str | None:
    """Most probable of ``candidates`` for ``text`` by langdetect, or None.

    The candidates (ISO 639-1) are the only languages with a non-zero prior, so
    langdetect's answer is restricted to them.  Seeded: same input, same answer.
    """
    profiles, _ = _profile_columns(candidates)
    if not profiles:
        return None
    for attempt in (text, text.lower()):  # langdetect skips ALL-CAPS words
        detector = _detector(attempt, candidates, seed=seed)
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


def _most_likely(text: str, prior: Mapping[str, float]) -> str:
    """The language with the largest log prior + log-likelihood of ``text`` under langdetect's profiles."""
    candidates = tuple(prior)
    profiles, _ = _profile_columns(candidates)
    log_likelihood: dict[str, float] = {}
    for profile, value in _detector(text, candidates, seed=0).log_likelihoods().items():  # no sampling: no seed
        code = profiles[profile]
        log_likelihood[code] = max(log_likelihood.get(code, -math.inf), value)
    return max(candidates, key=lambda c: math.log(prior[c]) + log_likelihood.get(c, -math.inf))


def _decide(item: _Text, allowed: frozenset[str] | None, *, seed: int) -> str:
    """Language of one prepared text, among ``allowed`` when it can be."""
    languages = _SCRIPT_LANGUAGES.get(item.script)
    if not languages:
        return UNDETERMINED
    candidates = languages
    if allowed is not None and not allowed.isdisjoint(languages):
        candidates = tuple(c for c in languages if c in allowed)
    if item.inverted_mark and not _INVERTED_MARK_PRIOR.keys().isdisjoint(candidates):
        candidates = tuple(c for c in candidates if c in _INVERTED_MARK_PRIOR)
        if len(candidates) > 1:
            return _most_likely(item.ld_text, {c: _INVERTED_MARK_PRIOR[c] for c in candidates})
    if len(candidates) == 1:
        return candidates[0]
    return _langdetect(item.ld_text, candidates, seed=seed) or candidates[0]


def _normalize_code(code: str) -> str:
    code = code.strip().lower()
    code = ISO639_3_TO_1.get(code, code)
    return _FROM_PROFILE.get(code, code)


def _frequent_languages(scripts: Sequence[str], first: Sequence[str]) -> Mapping[str, frozenset[str]]:
    """Script -> the languages that are the first guess of enough of that script's texts."""
    by_script: dict[str, Counter[str]] = {}
    for script, lang in zip(scripts, first, strict=True):
        by_script.setdefault(script, Counter())[lang] += 1
    frequent: dict[str, frozenset[str]] = {}
    for script, counts in by_script.items():
        n = sum(counts.values())
        min_count = max(1, min(_FREQUENT_MIN_COUNT, n // 30), math.ceil(_FREQUENT_SHARE * n))
        frequent[script] = frozenset(lang for lang, k in counts.items() if k >= min_count)
    return frequent


def detect_languages(
    texts: Sequence[str],
    *,
    allowed: Collection[str] | None = None,
    seed: int = 0,
) -> list[str]:
    """ISO 639-1 code of each text ("und" when a text has no letters).

    The rules are those of the module docstring: the dominant script gives the
    candidate languages (all languages langdetect knows for that script, e.g.
    ar / fa / ur for Arabic script, hi / mr / ne for Devanagari), langdetect,
    seeded with ``seed``, chooses among them, and texts opening with ¿ or ¡ are
    Spanish or Catalan.

    ``allowed`` (ISO 639-1 or 639-3 codes) restricts each choice to the allowed
    languages of the text's script; a text whose script has no allowed language
    gets its unrestricted guess.  Without ``allowed``, the candidates are learnt
    from the texts: per script, the frequent first guesses (see the module
    docstring, rule 5) are the languages short stray guesses are re-decided among.

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
        frequent = _frequent_languages([item.script for item in prepared], first)
        decided = [
            lang
            if lang in frequent[item.script] or lang == UNDETERMINED or item.ld_letters >= _RELIABLE_LETTERS
            else _decide(item, frequent[item.script], seed=seed)
            for item, lang in zip(prepared, first, strict=True)
        ]
    by_text = dict(zip(distinct, decided, strict=True))
    return [by_text[text] for text in texts]
