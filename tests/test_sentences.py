"""Sentence splitting in many scripts, the sentence table, and cached sentence embeddings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import regex

from nanomlqa_viz.cache import ArrayCache, fingerprint
from nanomlqa_viz.relevance import normalise_text
from nanomlqa_viz.sentences import (
    SentenceTable,
    sentence_embeddings,
    sentence_spans,
    sentence_table,
    sentence_units,
    split_sentences,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The value is 3.5 percent. Mr. Smith met J. R. R. Tolkien in 1950! Did he? Yes.",
            ["The value is 3.5 percent.", "Mr. Smith met J. R. R. Tolkien in 1950!", "Did he?", "Yes."],
        ),
        (  # German: abbreviations, ordinals, a year ending a sentence
            "Er wurde am 3. Oktober 1990 geboren. Im 19. Jahrhundert gab es z. B. viele Kriege. Das war 1990. "
            "Danach kam Dr. Müller nach St. Gallen.",
            [
                "Er wurde am 3. Oktober 1990 geboren.",
                "Im 19. Jahrhundert gab es z. B. viele Kriege.",
                "Das war 1990.",
                "Danach kam Dr. Müller nach St. Gallen.",
            ],
        ),
        (  # from the replica: "v. Chr." is no sentence end, nor "I.," after a Roman numeral
            "Um 2000 v. Chr. wurde das Sexagesimalsystem verwendet. Eine der ältesten wurde im Grab des Pharaos "
            "Amenhotep I., um 1500 v. Chr. gefunden.",
            [
                "Um 2000 v. Chr. wurde das Sexagesimalsystem verwendet.",
                "Eine der ältesten wurde im Grab des Pharaos Amenhotep I., um 1500 v. Chr. gefunden.",
            ],
        ),
        (
            "El Sr. García y la Sra. Pérez llegaron. Núm. 5 es el mejor.",
            ["El Sr. García y la Sra. Pérez llegaron.", "Núm. 5 es el mejor."],
        ),
        (  # glued sentences as in MLQA contexts
            "increased the stage by over 30%.Exterior shots were filmed in Iceland.",
            ["increased the stage by over 30%.", "Exterior shots were filmed in Iceland."],
        ),
        (
            "Enceladus cách tâm Sao Thổ 238.000 km. Nó quay một vòng hết 32,9 tiếng.Giố",
            ["Enceladus cách tâm Sao Thổ 238.000 km.", "Nó quay một vòng hết 32,9 tiếng.", "Giố"],
        ),
        (  # danda and double danda; Devanagari initials
            "सौर उभार सूरज की सतह से ऊपर होती है। यह कोरोना में उभरे होते हैं। ए. ओ. प का मुख्यालय कुवैत में है॥ अंत",
            ["सौर उभार सूरज की सतह से ऊपर होती है।", "यह कोरोना में उभरे होते हैं।", "ए. ओ. प का मुख्यालय कुवैत में है॥", "अंत"],
        ),
        (  # CJK ends need no space; a closing bracket stays with its sentence
            "1500年葡萄牙探险家发现了巴西。1512年葡萄牙发现了香料群岛！这引起了西班牙的垂涎？「好。」然后",
            ["1500年葡萄牙探险家发现了巴西。", "1512年葡萄牙发现了香料群岛！", "这引起了西班牙的垂涎？", "「好。」", "然后"],
        ),
        (  # Arabic question mark, a glued Arabic full stop
            "هل هذا صحيح؟ نعم بفرط ضغط الدم.في عام 1995، قدّر عدد الأشخاص.",
            ["هل هذا صحيح؟", "نعم بفرط ضغط الدم.", "في عام 1995، قدّر عدد الأشخاص."],
        ),
        ("یہ ایک جملہ ہے۔ یہ دوسرا ہے۔", ["یہ ایک جملہ ہے۔", "یہ دوسرا ہے۔"]),  # Urdu full stop
        ("Հայաստանը երկիր է։ Երևանը մայրաքաղաքն է։", ["Հայաստանը երկիր է։", "Երևանը մայրաքաղաքն է։"]),  # Armenian
        ("ኢትዮጵያ ሀገር ናት። አዲስ አበባ ዋና ከተማ ናት።", ["ኢትዮጵያ ሀገር ናት።", "አዲስ አበባ ዋና ከተማ ናት።"]),  # Ethiopic
        ("កម្ពុជាជាប្រទេស។ ភ្នំពេញជារាជធានី។", ["កម្ពុជាជាប្រទេស។", "ភ្នំពេញជារាជធានី។"]),  # Khmer
        ("ประเทศไทยเป็นประเทศในเอเชีย กรุงเทพมหานครเป็นเมืองหลวง", ["ประเทศไทยเป็นประเทศในเอเชีย", "กรุงเทพมหานครเป็นเมืองหลวง"]),
        (
            'He said "Stop." Then he left. (See below.) Next one.',
            ['He said "Stop."', "Then he left.", "(See below.)", "Next one."],
        ),
        ("No end mark at all", ["No end mark at all"]),
        ("   ", []),
    ],
)
def test_split_sentences_in_many_scripts(text, expected):
    assert split_sentences(text) == expected


def test_long_sentences_are_windowed_at_clause_marks_or_spaces():
    clauses = ", ".join(f"clause number {k} of a very long list" for k in range(40))
    pieces = split_sentences(clauses + ".", max_units=120)
    assert len(pieces) > 5
    assert all(sentence_units(p) <= 120 for p in pieces)
    assert all(p.endswith(",") for p in pieces[:-1])  # cut after a clause mark, not inside a word
    assert " ".join(pieces) == clauses + "."
    cjk = "长城" * 300  # no space, no mark: hard cuts, CJK characters weighing three units
    windows = split_sentences(cjk, max_units=150)
    assert "".join(windows) == cjk and all(len(w) <= 50 for w in windows)


def test_spans_point_into_the_text():
    text = "  Erste Zeile. Zweite Zeile!\n\nDritte?  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["Erste Zeile.", "Zweite Zeile!", "Dritte?"]
    with pytest.raises(ValueError):
        sentence_spans(text, max_units=0)


def test_sentence_units_weigh_cjk():
    assert sentence_units("abc 12!") == 5
    assert sentence_units("长城。") == 6
    assert sentence_units("...") == 0


_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")
_CJK = regex.compile(r"[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Yi}]")


@pytest.mark.parametrize(
    "text",
    [
        "Ünïcödé ﬁne ™ 1½ ٣٤ १९४७ Ⅻ",  # letters, digit-like numbers, a ligature, a trade mark
        "长城。〇々ー カタカナ ひらがな 한국어 ꀀ",  # Han, kana, Hangul, Yi; 〇 and 々 are Han letters, ー is not Han
        "\u2e80\u2f00\u3021 radicals and Hangzhou numerals",  # Han-script symbols that are no letters
        "\ud800 lone surrogate, \U0001f600 emoji, 𝐀𝐁 mathematical letters",
        "",
    ],
)
def test_sentence_units_count_letters_digits_and_cjk_as_the_patterns_say(text):
    # The definition: letters and digits, plus two more per CJK character (a Han symbol that is no letter counts 2).
    assert sentence_units(text) == len(_LETTER_OR_DIGIT.findall(text)) + 2 * len(_CJK.findall(text))


def test_windows_cut_cjk_symbols_by_the_scan_weight():
    # A Han radical is no letter: it counts 2 units but, while a long sentence is scanned for its cut, 3.
    text = "\u2e80" * 30 + "长" * 30
    pieces = split_sentences(text, max_units=100)
    assert "".join(pieces) == text
    assert [len(p) for p in pieces] == [33, 27]  # 33 characters of weight 3 pass 99; the 34th would pass 100
    assert sentence_units(pieces[0]) == 30 * 2 + 3 * 3


def test_a_full_stop_after_a_line_break_reads_the_word_before_the_break():
    # "3" then a line break then ". Oktober": the ordinal rule sees "3" (regex $ matches before a final line break).
    assert split_sentences("Er kam am 3\n. Oktober an. Danach ging er.") == ["Er kam am 3\n. Oktober an.", "Danach ging er."]
    assert split_sentences("Er kam 1990\n. Danach ging er.") == ["Er kam 1990\n.", "Danach ging er."]


TEXTS = [
    "Der Rhein fließt durch Basel. Er mündet in die Nordsee.",
    "The Rhine flows through Basel. It flows into the North Sea.",
    "Der Rhein fließt durch Basel.  Er ist lang.",  # one sentence shared with text 0 (spaces differ)
    ". . .",
]


def test_sentence_table_keeps_each_sentence_once_with_its_places():
    table = sentence_table(TEXTS)
    assert table.n_texts == 4
    assert len(table.sentences) == 5  # "Der Rhein fließt durch Basel." once; ". . ." has no letters
    shared = table.sentences.index("Der Rhein fließt durch Basel.")
    assert table.sentences_of(0).tolist() == [shared, table.sentences.index("Er mündet in die Nordsee.")]
    assert table.sentences_of(2)[0] == shared
    assert table.sentences_of(3).tolist() == []
    assert table.text_count[shared] == 2 and table.text_count.sum() == 6
    assert set(table.scripts) == {"Latin"} and table.units[shared] == len("DerRheinfließtdurchBasel")
    assert sentence_table(["هل هذا صحيح؟ Yes, it is."]).scripts == ("Arabic", "Latin")
    for row, text in enumerate(TEXTS):
        for sid, (s, e) in zip(table.sentences_of(row).tolist(), table.spans_of(row).tolist()):
            assert " ".join(text[s:e].split()) == table.sentences[sid]
    assert table.occurrence_text.tolist() == [0, 0, 1, 1, 2, 2]
    assert table.fingerprint == fingerprint(table.sentences) != sentence_table(TEXTS[:2]).fingerprint
    with pytest.raises(ValueError):
        SentenceTable(
            sentences=("a",), text_offsets=np.array([0, 2]), occurrence_sentence=np.array([0]), occurrence_span=np.zeros((1, 2))
        )


def test_sentence_table_counts_each_sentence_once_and_splits_as_split_sentences():
    texts = [*TEXTS, "长城很长。" * 3 + "It is long. " * 2, "x" * 500 + ". Short one.", "™.", "Thai: ภาษาไทย ง่าย มาก"]
    table = sentence_table(texts, max_units=120)
    assert table.units.tolist() == [sentence_units(s) for s in table.sentences]  # counted while splitting
    for row, text in enumerate(texts):  # the batched window scan cuts as the one-text one does
        spans = [tuple(span) for span in table.spans_of(row).tolist()]
        kept = [(s, e) for s, e in sentence_spans(text, max_units=120) if sentence_units(normalise_text(text[s:e]))]
        assert spans == kept
    assert "TM." in table.sentences  # "™." has no letter as written, its NFKC form has two: a sentence
    with pytest.raises(ValueError):
        SentenceTable(
            sentences=("a",),
            text_offsets=np.array([0, 1]),
            occurrence_sentence=np.array([0]),
            occurrence_span=np.zeros((1, 2)),
            known_units=np.array([1, 2]),
        )
    with pytest.raises(ValueError):
        sentence_table(texts, max_units=0)


@dataclass
class CountingEncoder:
    """A deterministic hashing encoder that records what it was asked to encode."""

    name: str = "counting-test-encoder"
    description: str = "test"
    identity: str = "counting-test-encoder==1"
    calls: list[list[str]] = field(default_factory=list)

    def encode_queries(self, texts):
        raise AssertionError("sentences are encoded as passages")

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            v = np.random.default_rng(int(fingerprint([text]), 16) % 2**32).standard_normal(8).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        if progress:
            progress(len(texts), len(texts))
        return np.stack(rows)


def test_sentence_embeddings_encoded_once_and_cached(tmp_path):
    table = sentence_table(TEXTS)
    enc = CountingEncoder()
    seen = []
    first = sentence_embeddings(table, encoder=enc, cache=ArrayCache(tmp_path), progress=lambda d, t: seen.append((d, t)))
    assert enc.calls == [list(table.sentences)] and seen[-1] == (5, 5)
    again = sentence_embeddings(table, encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 1
    np.testing.assert_array_equal(first, again)
    assert first.shape == (5, 8) and first.dtype == np.float32
    other = sentence_embeddings(sentence_table(TEXTS[:2]), encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 2 and other.shape == (4, 8)
    # a corrupt cache file is rebuilt, never used
    (path,) = [p for p in (tmp_path / "sentences").glob("*.npz") if table.fingerprint in p.name]
    path.write_bytes(b"not a zip")
    rebuilt = sentence_embeddings(table, encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 3
    np.testing.assert_array_equal(rebuilt, first)
