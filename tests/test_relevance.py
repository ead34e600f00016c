"""Exact-copy groups and relevance modes, checked against the demo's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nanomlqa_viz.loader import load_task
from nanomlqa_viz.metrics import mean_metrics, ranking_metrics
from nanomlqa_viz.relevance import copy_groups, expanded_qrels, normalise_text, passage_groups

TRUTH = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return load_task(source="demo", cache_dir=tmp_path_factory.mktemp("c"))


def test_normalisation_joins_whitespace_and_unicode_variants():
    assert normalise_text("Die  Donau\u00a0fließt\n") == normalise_text("Die Donau fließt")
    assert normalise_text("ＡＢＣ 12") == "ABC 12"
    assert list(copy_groups(["a  b", "a b", "a c"])) == [0, 0, 1]


def test_copy_groups_match_ground_truth(demo):
    groups = copy_groups(demo.doc_texts)
    truth = TRUTH["passages"]
    key = {d: (truth[d]["paragraph"], truth[d]["lang"]) for d in demo.doc_ids}
    for i, a in enumerate(demo.doc_ids):
        for j in range(i + 1, len(demo.doc_ids)):
            b = demo.doc_ids[j]
            assert (groups[i] == groups[j]) == (key[a] == key[b]), (a, b)


def _truth_translation_pairs(task):
    truth = TRUTH["passages"]
    by_paragraph: dict[str, list[int]] = {}
    for i, d in enumerate(task.doc_ids):
        by_paragraph.setdefault(truth[d]["paragraph"], []).append(i)
    return [(docs[0], d) for docs in by_paragraph.values() for d in docs[1:]]


def test_modes_expand_monotonically(demo):
    groups = passage_groups(demo.doc_texts, translation_pairs=_truth_translation_pairs(demo))
    strict = expanded_qrels(demo, groups, mode="strict")
    copies = expanded_qrels(demo, groups, mode="copies")
    translations = expanded_qrels(demo, groups, mode="translations")
    truth = TRUTH["passages"]
    for q in demo.query_ids:
        (pos,) = strict[q]
        assert strict[q] < copies[q] <= translations[q]
        assert {d for d in copies[q]} == {
            d for d in demo.doc_ids if truth[d]["paragraph"] == truth[pos]["paragraph"] and truth[d]["lang"] == truth[pos]["lang"]
        }
        assert {d for d in translations[q]} == {d for d in demo.doc_ids if truth[d]["paragraph"] == truth[pos]["paragraph"]}
    lists = demo.candidates["multilingual_e5_small_q4"].lists
    hit = [
        mean_metrics(ranking_metrics(lists, qrels, demo.query_ids).values())["hit@10"] for qrels in (strict, copies, translations)
    ]
    assert hit[0] <= hit[1] <= hit[2] and hit[2] > hit[0]


def test_unknown_mode_is_rejected(demo):
    with pytest.raises(ValueError, match="unknown relevance mode"):
        expanded_qrels(demo, passage_groups(demo.doc_texts), mode="loose")
