"""Metrics against ir-measures (pytrec_eval) on the demo's and the replica's candidate subsets, plus hand cases."""

from __future__ import annotations

import math

import pytest

from nanomlqa_viz.metrics import METRIC_KEYS, mean_metrics, query_metrics, ranking_metrics, relevant_ranks


def test_hand_computed_values():
    m = query_metrics((3,), 1)
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(4))
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert (m["hit@1"], m["hit@10"], m["hit@100"], m["recall@100"]) == (0.0, 1.0, 1.0, 1.0)
    # two relevant, one found at rank 1: ideal DCG over min(|rel|, k) = 2 documents
    m = query_metrics((1,), 2)
    assert m["ndcg@10"] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert m["recall@100"] == 0.5
    # nothing found, or no positive at all: zeros
    assert set(query_metrics((), 1).values()) == {0.0}
    assert set(query_metrics((), 0).values()) == {0.0}
    assert query_metrics((11,), 1)["ndcg@10"] == 0.0 and query_metrics((11,), 1)["mrr@10"] == 0.0
    assert query_metrics((101,), 1)["recall@100"] == 0.0


def test_relevant_ranks_and_missing_queries_score_zero():
    assert relevant_ranks(["a", "b", "c"], {"c", "x"}) == (3,)
    per_query = ranking_metrics({"q1": ["a", "b"]}, {"q1": {"b"}, "q2": {"z"}}, ["q1", "q2"])
    assert per_query["q2"]["hit@100"] == 0.0
    assert mean_metrics(per_query.values())["hit@10"] == 0.5


def _ir_measures(task, config):
    import ir_measures
    from ir_measures import RR, R, Success, nDCG

    measures = {
        "ndcg@10": nDCG @ 10,
        "hit@1": Success @ 1,
        "hit@10": Success @ 10,
        "hit@100": Success @ 100,
        "recall@100": R @ 100,
        "mrr@10": RR @ 10,
    }
    qrels = [ir_measures.Qrel(q, d, 1) for q in task.query_ids for d in task.positives(q)]
    run = [
        ir_measures.ScoredDoc(q, d, float(-rank))
        for q, ranking in task.candidates[config].lists.items()
        for rank, d in enumerate(ranking, start=1)
    ]
    per_query = {q: dict.fromkeys(measures, 0.0) for q in task.query_ids}  # no hit, no row: 0
    by_measure = {v: k for k, v in measures.items()}
    for row in ir_measures.iter_calc(list(measures.values()), qrels, run):
        per_query[row.query_id][by_measure[row.measure]] = row.value
    return per_query


@pytest.fixture(scope="module")
def demo_task(tmp_path_factory):
    from nanomlqa_viz.loader import load_task

    return load_task(source="demo", cache_dir=tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("config", ["bm25", "multilingual_e5_small_q4", "reranking_hybrid"])
def test_metrics_match_ir_measures_on_demo(demo_task, config):
    """The reference check that ships with the tests: the bundled demo's candidate subsets (missing positives included)."""
    ours = ranking_metrics(demo_task.candidates[config].lists, demo_task.qrels, demo_task.query_ids)
    theirs = _ir_measures(demo_task, config)
    for q in demo_task.query_ids:
        for key in METRIC_KEYS:
            assert ours[q][key] == pytest.approx(theirs[q][key], abs=1e-12), (config, q, key)
    assert {round(v, 6) for q in theirs for v in theirs[q].values()} - {0.0, 1.0}, "the check sees graded values, not only 0/1"


@pytest.mark.parametrize("config", ["bm25", "multilingual_e5_small_q4", "reranking_hybrid"])
def test_metrics_match_ir_measures_on_replica(replica_task, config):
    task = replica_task
    ours = ranking_metrics(task.candidates[config].lists, task.qrels, task.query_ids)
    theirs = _ir_measures(task, config)
    for q in task.query_ids:
        for key in METRIC_KEYS:
            assert ours[q][key] == pytest.approx(theirs[q][key], abs=1e-12), (q, key)
    mean = mean_metrics(ours.values())
    assert mean["hit@10"] == pytest.approx(sum(theirs[q]["hit@10"] for q in theirs) / len(theirs))


def test_injected_entry_does_not_count(replica_task):
    """The 101st safeguard entry is not a rank: hybrid hit@100 == share of positives in its real top 100."""
    subset = replica_task.candidates["reranking_hybrid"]
    per_query = ranking_metrics(subset.lists, replica_task.qrels, replica_task.query_ids)
    injected = set(subset.injected)
    assert all(per_query[q]["hit@100"] == 0.0 for q in injected)
    assert sum(per_query[q]["hit@100"] for q in per_query) == len(per_query) - len(injected)
