"""Tokenizer tests on real sentences in the MLQA languages (and the other unspaced scripts)."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

import pytest
import regex

from nanomlqa_viz.tokenizer import TOKENIZER_DESCRIPTION, TOKENIZER_VERSION, tokenize


def test_hindi_sentence_keeps_words_with_vowel_signs() -> None:
    sentence = "हिन्दी भारत की राजभाषा है। यह देवनागरी लिपि में लिखी जाती है।"
    assert tokenize(sentence) == [
        "हिन्दी",
        "भारत",
        "की",
        "राजभाषा",
        "है",
        "यह",
        "देवनागरी",
        "लिपि",
        "में",
        "लिखी",
        "जाती",
        "है",
    ]
    # The reason for the `regex` module: `re`'s \w splits Devanagari words at vowel signs.
    assert re.findall(r"\w+", "हिन्दी") != ["हिन्दी"]
    assert tokenize("हिन्दी") == ["हिन्दी"]


def test_chinese_sentence_gives_overlapping_bigrams() -> None:
    assert tokenize("北京是中华人民共和国的首都。") == [
        "北京",
        "京是",
        "是中",
        "中华",
        "华人",
        "人民",
        "民共",
        "共和",
        "和国",
        "国的",
        "的首",
        "首都",
    ]


def test_single_han_character_is_a_unigram_and_runs_split_at_digits() -> None:
    assert tokenize("我") == ["我"]
    assert tokenize("第2次世界大战") == ["第", "2", "次世", "世界", "界大", "大战"]


def test_mixed_latin_and_han_run_splits_into_word_and_bigrams() -> None:
    assert tokenize("DNA复制是一个过程") == [
        "dna",
        "复制",
        "制是",
        "是一",
        "一个",
        "个过",
        "过程",
    ]
    assert tokenize("A中B") == ["a", "中", "b"]


def test_thai_sentence_gives_bigrams_not_one_giant_token() -> None:
    assert tokenize("ภาษาไทย") == ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]
    sentence = "ประเทศไทยมีกรุงเทพมหานครเป็นเมืองหลวง"
    tokens = tokenize(sentence)
    assert len(tokens) > 20
    assert tokens[:4] == ["ปร", "ระ", "ะเ", "เท"]
    # Bigrams of grapheme clusters: a consonant keeps its vowel/tone marks ("มี", "เป็").
    assert "ยมี" in tokens and "เป็" in tokens
    # Overlapping bigrams of grapheme clusters over the whole unspaced run.
    graphemes = regex.findall(r"\X", sentence)
    assert tokens == [first + second for first, second in pairwise(graphemes)]
    assert "ไทย" not in tokens and sentence not in tokens


def test_arabic_sentence_and_arabic_indic_digits() -> None:
    assert tokenize("القاهرة هي عاصمة مصر منذ عام ١٩٥٢.") == [
        "القاهرة",
        "هي",
        "عاصمة",
        "مصر",
        "منذ",
        "عام",
        "1952",
    ]
    # Harakat are combining marks: they stay inside the word.
    assert tokenize("مُحَمَّد رسول") == ["مُحَمَّد", "رسول"]


def test_devanagari_digits_become_ascii() -> None:
    assert tokenize("भारत १९४७ में स्वतंत्र हुआ") == ["भारत", "1947", "में", "स्वतंत्र", "हुआ"]


def test_vietnamese_keeps_diacritics_and_composes_nfd_input() -> None:
    assert tokenize("Việt Nam") == ["việt", "nam"]
    sentence = "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam."
    expected = [
        "hà",
        "nội",
        "là",
        "thủ",
        "đô",
        "của",
        "nước",
        "cộng",
        "hòa",
        "xã",
        "hội",
        "chủ",
        "nghĩa",
        "việt",
        "nam",
    ]
    assert tokenize(sentence) == expected
    assert tokenize(unicodedata.normalize("NFD", sentence)) == expected


def test_german_casefold_sharp_s() -> None:
    assert tokenize("Die Straße in GROSSBRITANNIEN ist größer.") == [
        "die",
        "strasse",
        "in",
        "grossbritannien",
        "ist",
        "grösser",
    ]
    assert tokenize("STRASSE") == tokenize("straße") == tokenize("STRAẞE") == ["strasse"]


def test_nfkc_full_width_latin_digits_and_half_width_katakana() -> None:
    assert tokenize("ＡＢＣ１２３ ＤＮＡ") == ["abc123", "dna"]
    assert tokenize("ｶﾀｶﾅ") == tokenize("カタカナ") == ["カタ", "タカ", "カナ"]


def test_japanese_mixed_kana_and_kanji() -> None:
    assert tokenize("東京タワーに行きました。") == [
        "東京",
        "京タ",
        "タワ",
        "ワー",
        "ーに",
        "に行",
        "行き",
        "きま",
        "まし",
        "した",
    ]


def test_korean_hangul_stays_word_based() -> None:
    assert tokenize("대한민국의 수도는 서울이다.") == ["대한민국의", "수도는", "서울이다"]


def test_english_and_spanish_numbers_and_punctuation() -> None:
    assert tokenize("In 1998, the U.S. population was 270 million.") == [
        "in",
        "1998",
        "the",
        "u",
        "s",
        "population",
        "was",
        "270",
        "million",
    ]
    assert tokenize("¿Cuántos años tenía Cervantes en 1605?") == [
        "cuántos",
        "años",
        "tenía",
        "cervantes",
        "en",
        "1605",
    ]


def test_invisible_format_characters_do_not_split_words() -> None:
    assert tokenize("Wiki\u00adpedia") == ["wikipedia"]
    assert tokenize("\ufeffमैं\u200d") == ["मैं"]


@pytest.mark.parametrize("text", ["", "   ", "...!? — «» “”", "。、「」", "\u200b\u00ad"])
def test_empty_or_punctuation_only_gives_no_tokens(text: str) -> None:
    assert tokenize(text) == []


def test_metadata_strings() -> None:
    assert TOKENIZER_VERSION and isinstance(TOKENIZER_VERSION, str)
    assert TOKENIZER_DESCRIPTION and "\n" not in TOKENIZER_DESCRIPTION
