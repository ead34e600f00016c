"""Tie-aware metrics benchmark, run by hand: one call per relevance mode at 10k and 100k passages.

    python bench/bench_tie_metrics.py [--sizes 10000,100000] [--runs 5]

Random data with heavy ties, 196 queries, float32 scores:

* ``dense``: scores rounded to 3 decimals in [0.70, 0.90) (200 levels), every relevant passage's
  score copied from the positive's (exact copies tie with it);
* ``bm25``: 90% of the passages score 0 (one giant block), the rest 1 decimal in (0, 20).

Relevance modes: strict (1 relevant passage), copies (the positive + 3 copies), parallel (+ 1..30
passages at random scores). Printed per call: median ``tie_aware_metrics`` time, and side by side
the id-broken path behind ``View.id_metrics`` (``RankedProfile.retrieved_rank`` of every relevant
passage + ``query_metrics``, as :func:`nanomlqa_viz.analysis.profile_query_metrics` does) with the
ratio. Goal: < 50 ms per call at 10k.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from nanomlqa_viz.metrics import query_metrics
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.tie_metrics import tie_aware_metrics

N_QUERIES = 196


def make_scores(kind: str, n_docs: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "dense":
        return np.round(rng.uniform(0.70, 0.90, size=(N_QUERIES, n_docs)), 3).astype(np.float32)
    scores = np.round(rng.uniform(0.0, 20.0, size=(N_QUERIES, n_docs)), 1).astype(np.float32)
    scores[rng.random((N_QUERIES, n_docs)) < 0.9] = 0.0
    return scores


def make_relevant(scores: np.ndarray, rng: np.random.Generator) -> dict[str, list[list[int]]]:
    n_docs = scores.shape[1]
    strict, copies, parallel = [], [], []
    for qi in range(N_QUERIES):
        docs = rng.choice(n_docs, size=34, replace=False).tolist()
        positive, dupes, extra = docs[0], docs[1:4], docs[4 : 4 + int(rng.integers(1, 31))]
        scores[qi, dupes] = scores[qi, positive]
        strict.append([positive])
        copies.append([positive, *dupes])
        parallel.append([positive, *dupes, *extra])
    return {"strict": strict, "copies": copies, "parallel": parallel}


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    query_ids = [f"q{i}" for i in range(N_QUERIES)]
    print(f"{'docs':>7} {'scores':>6} {'mode':>12} {'rel/q':>6} {'tie-aware ms':>13} {'id-broken ms':>13} {'ratio':>6}")
    for n_docs in (int(s) for s in args.sizes.split(",")):
        for kind in ("dense", "bm25"):
            scores = make_scores(kind, n_docs, rng)
            modes = make_relevant(scores, rng)
            profile = RankedProfile(name=kind, scores=scores, id_rank=rng.permutation(n_docs))
            for mode, relevant in modes.items():
                tie_s = median_time(lambda s=scores, rel=relevant: tie_aware_metrics(s, rel, query_ids=query_ids), args.runs)

                def id_broken(p=profile, rel=relevant) -> None:
                    for qi in range(N_QUERIES):
                        ranks = sorted(r for d in rel[qi] if (r := p.retrieved_rank(qi, int(d))) is not None)
                        query_metrics(ranks, len(rel[qi]))

                base_s = median_time(id_broken, max(1, args.runs // 2))
                per_q = statistics.mean(len(r) for r in relevant)
                print(
                    f"{n_docs:>7} {kind:>6} {mode:>12} {per_q:>6.1f} {tie_s * 1e3:>13.1f} {base_s * 1e3:>13.1f}"
                    f" {tie_s / base_s:>6.2f}"
                )


if __name__ == "__main__":
    main()
