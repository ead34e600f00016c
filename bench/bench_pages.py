"""Page timings with warm caches, run by hand (Streamlit AppTest, median of several runs).

    python -m nanomlqa_viz precompute --dataset ../shared/datasets/nanomlqa-replica
    python bench/bench_pages.py [SOURCE] [--runs 5]

First, the first page of a NEW process (a child process per run: import, load the task, read every
cached profile and the cached failure analysis, draw the overview), the median of ``--runs``
processes. Then one script run of each page after a first (warm-up) run in the same AppTest
session, a filter change on the explorer and its query view. Goals on the replica: first page
of a new process <= 1.5 s, query view <= 300 ms, filter change <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_SOURCE = ROOT.parent / "shared" / "datasets" / "nanomlqa-replica"
PAGES = {
    "overview": "app.py",
    "query explorer": "pages/1_Query_explorer.py",
    "language pairs": "pages/2_Language_pairs.py",
    "bm25 cross-script": "pages/3_BM25_cross_script.py",
    "label audit": "pages/4_Label_audit.py",
    "hybrid what-if": "pages/5_Hybrid_what_if.py",
    "significance": "pages/6_Significance.py",
}


def _median_run(at, runs: int, prepare=None) -> float:
    times = []
    for i in range(runs):
        if prepare:
            prepare(at, i)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return statistics.median(times)


_CHILD = """
import os, sys, time
start = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=600).run()
assert not at.exception, [e.value for e in at.exception]
print(time.perf_counter() - start)
"""


def first_page_of_a_new_process(runs: int) -> float:
    """Median wall time of a fresh Python process that imports Streamlit and draws the overview (warm disk caches)."""
    import subprocess

    code = _CHILD.format(app=str(ROOT / PAGES["overview"]))
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=os.environ, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    from streamlit.testing.v1 import AppTest

    parser = argparse.ArgumentParser()
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["NANOMLQA_DATASET"] = args.source
    os.environ.setdefault("NANOMLQA_CACHE_DIR", str(ROOT / "data_cache"))
    os.chdir(ROOT)

    AppTest.from_file(str(ROOT / PAGES["overview"]), default_timeout=1800).run()  # fill the disk caches once
    rows = [("first page of a new process (overview, warm disk caches)", first_page_of_a_new_process(args.runs), 1.5)]
    for name, path in PAGES.items():
        if not (ROOT / path).is_file():
            continue
        at = AppTest.from_file(str(ROOT / path), default_timeout=600)
        start = time.perf_counter()
        at.run()
        first = time.perf_counter() - start
        rows.append((f"{name} (first run in process)", first, None))
        rows.append((f"{name} (rerun)", _median_run(at, args.runs), None))

    explorer = AppTest.from_file(str(ROOT / PAGES["query explorer"]), default_timeout=600).run()
    table = explorer.dataframe[0].value if explorer.dataframe else None
    options = list(explorer.multiselect(key="w_qlang").options)

    def flip_filter(at, i):
        at.multiselect(key="w_qlang").set_value([options[i % len(options)]] if options else [])

    rows.append(("explorer filter change", _median_run(explorer, args.runs, flip_filter), 0.2))
    query_ids = list(table["query_id"]) if table is not None and "query_id" in table else []

    def open_query(at, i):
        at.query_params["query"] = query_ids[(i * 37) % len(query_ids)]

    if query_ids:
        view = AppTest.from_file(str(ROOT / PAGES["query explorer"]), default_timeout=600)
        view.query_params["query"] = query_ids[0]
        view.run()
        rows.append(("explorer query view (another query each run)", _median_run(view, args.runs, open_query), 0.3))

    print(f"source: {args.source}  (median of {args.runs} runs, seconds)")
    print(f"{'page':<52}{'s':>8}  goal")
    for label, seconds, goal in rows:
        verdict = "" if goal is None else (f"<= {goal:.1f} " + ("PASS" if seconds <= goal else "MISS"))
        print(f"{label:<52}{seconds:>8.3f}  {verdict}")


if __name__ == "__main__":
    main()
