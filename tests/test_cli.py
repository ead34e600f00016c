"""The headless CLI: report --json and export on the demo and the replica, and --cache-dir."""

from __future__ import annotations

import csv
import json

import pytest

from nanomlqa_viz.cli import main
from nanomlqa_viz.metrics import METRIC_KEYS


def _report(capsys, *args) -> dict:
    assert main(["report", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_report_on_demo_has_every_profile(capsys, tmp_path):
    report = _report(capsys, "--dataset", "demo", "--cache-dir", str(tmp_path))
    assert report["dataset"] == "demo" and report["split"] == "mlqa"
    counts = report["counts"]
    assert counts["queries"] == sum(report["languages"]["queries"].values())
    assert counts["documents"] == sum(report["languages"]["documents"].values())
    assert counts["distinct_document_texts"] < counts["documents"], "the demo has exact copies"
    expected = {"reference/bm25", "reference/multilingual_e5_small_q4", "reference/reranking_hybrid", "bm25", "dense", "hybrid"}
    assert set(report["metrics"]) == expected
    for values in report["metrics"].values():
        assert set(values) == set(METRIC_KEYS) and all(0.0 <= v <= 1.0 for v in values.values())
    assert set(report["profiles"]) == {"bm25", "dense", "hybrid"}
    assert report["profiles"]["hybrid"]["k"] == 100 and report["profiles"]["hybrid"]["depth"] == 500
    assert "bigram" in report["profiles"]["bm25"]["tokenizer"]
    assert any((tmp_path / "profiles").rglob("*.npz")), "--cache-dir is where the profiles went"


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
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and set(rows[0]) >= {
        "query_id",
        "query_text",
        "query_lang",
        "query_script",
        "positive_id",
        "positive_lang",
        "positive_script",
        "rank_reference/bm25",
        "rank_reference/reranking_hybrid",
        "rank_bm25",
        "rank_dense",
        "rank_hybrid",
        "score_bm25",
        "ties_bm25",
        "ties_dense",
    }
    for row in rows:
        assert int(row["rank_bm25"]) >= 1 and int(row["rank_dense"]) >= 1
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


def test_report_explains_failures_on_demo(capsys, tmp_path):
    report = _report(capsys, "--dataset", "demo", "--cache-dir", str(tmp_path))
    modes = report["relevance_modes"]
    assert set(modes) == {"strict", "copies", "translations"}
    assert modes["strict"] == report["metrics"]
    for name in ("bm25", "dense", "hybrid"):
        assert modes["strict"][name]["hit@10"] <= modes["copies"][name]["hit@10"] <= modes["translations"][name]["hit@10"]
        assert modes["strict"][name]["hit@100"] <= modes["translations"][name]["hit@100"]
    dup = report["duplicates"]
    assert dup["positives_with_copies"] == report["counts"]["queries"], "the demo copies every positive"
    assert 1.0 <= dup["mean_copies_per_positive"] <= 3.0
    assert all(0 < row["confidence"] <= 1 for row in report["label_audit"])
    assert sum(report["bm25_reasons"].values()) == report["counts"]["queries"]


def test_export_explanation_columns(tmp_path):
    out = tmp_path / "q.csv"
    assert main(["export", "--dataset", "demo", "--cache-dir", str(tmp_path / "c"), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    for row in rows:
        assert int(row["copies_of_positive"]) >= 1
        assert int(row["translations_of_positive"]) >= 1
        ids = row["translation_ids"].split(";")
        assert row["positive_id"] not in ids and len(ids) >= int(row["translations_of_positive"])
        assert int(row["best_rank_any_copy_dense"]) <= int(row["rank_dense"])
        assert int(row["best_rank_any_translation_dense"]) <= int(row["best_rank_any_copy_dense"])
        assert row["bm25_reason"] and row["label_suspect"] in {"True", "False"}
