"""Tie policy, tie intervals, top-k, and reciprocal rank fusion (vectorised vs list form, vs the replica)."""

from __future__ import annotations

import numpy as np
import pytest

from nanomlqa_viz.fusion import FusionParams, rrf_fuse_lists, rrf_scores
from nanomlqa_viz.ranking import RankedProfile, id_order


def _profile(scores, ids, secondary=None):
    return RankedProfile(name="t", scores=np.asarray(scores, dtype=np.float64), id_rank=id_order(ids), secondary=secondary)


def test_ties_break_by_id_and_report_interval():
    ids = ["d3", "d1", "d4", "d2"]
    p = _profile([[0.0, 0.0, 2.0, 0.0]], ids)  # a cross-script query: most of the corpus scores 0
    info = p.rank_info(0, 0)  # d3 among three zeros (d1, d2, d3)
    assert (info.rank, info.tie_first, info.tie_last, info.ties) == (4, 2, 4, 2)
    assert info.interval() == "2–4"
    assert p.rank_info(0, 1).rank == 2 and p.rank_info(0, 3).rank == 3
    assert p.rank_info(0, 2).interval() == "1"
    assert [ids[i] for i in p.order(0)] == ["d4", "d1", "d2", "d3"]
    assert list(p.top(0, 2)) == list(p.order(0)[:2])
    assert list(p.top(0, 0)) == [] and list(p.top(0, 99)) == list(p.order(0))


def test_secondary_key_comes_before_id():
    ids = ["a", "b", "c"]
    p = _profile([[1.0, 1.0, 1.0]], ids, secondary=np.array([[3, 1, 2]], dtype=np.int32))
    assert [ids[i] for i in p.order(0)] == ["b", "c", "a"]
    assert p.rank_info(0, 0).rank == 3 and p.rank_info(0, 0).tie_first == 1


def test_top_and_full_ranks_agree_with_order():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(3, 200)).astype(np.float32)  # many ties
    ids = [f"d{i:03d}" for i in rng.permutation(200)]
    p = _profile(scores, ids)
    full = p.full_ranks()
    for qi in range(3):
        order = p.order(qi)
        assert list(p.top(qi, 17)) == list(order[:17])
        assert all(p.rank_info(qi, int(d)).rank == full[qi, d] for d in order[:50])
        assert sorted(full[qi]) == list(range(1, 201))


@pytest.mark.parametrize("tie_break", ["best_rank", "id"])
def test_vectorised_rrf_equals_list_rrf(tie_break):
    rng = np.random.default_rng(1)
    n, depth = 300, 40
    ids = [f"p{i:04d}" for i in range(n)]
    params = FusionParams(k=60, depth=depth, tie_break=tie_break)
    for _ in range(5):
        a, b = rng.permutation(n), rng.permutation(n)
        ranks_a = np.empty(n, dtype=np.int32)
        ranks_b = np.empty(n, dtype=np.int32)
        ranks_a[a] = np.arange(1, n + 1)
        ranks_b[b] = np.arange(1, n + 1)
        fused, secondary = rrf_scores([ranks_a[None], ranks_b[None]], params=params)
        profile = _profile(fused, ids, secondary=secondary)
        expected = rrf_fuse_lists([[ids[i] for i in a[:depth]], [ids[i] for i in b[:depth]]], k=60, tie_break=tie_break)
        got = [ids[i] for i in profile.order(0)[: len(expected)]]
        assert got == expected


def test_rrf_hand_checked_example():
    """RRF written out by hand (k = 60): A = [a, b, c], B = [c, a, d].

    a: 1/61 + 1/62 = 0.032522  c: 1/63 + 1/61 = 0.032266  b: 1/62 = 0.016129  d: 1/63 = 0.015873
    """
    assert rrf_fuse_lists([["a", "b", "c"], ["c", "a", "d"]], k=60) == ["a", "c", "b", "d"]
    # equal fused scores: x (ranks 1, 2) and y (ranks 2, 1) tie at 1/61 + 1/62; best single-list rank ties too (1),
    # so the id decides; with weights 2:1 x wins outright (2/61 + 1/62 > 2/62 + 1/61)
    assert rrf_fuse_lists([["y", "x"], ["x", "y"]], k=60) == ["x", "y"]
    assert rrf_fuse_lists([["x", "y"], ["y", "x"]], k=60, weights=[2, 1]) == ["x", "y"]
    assert rrf_fuse_lists([["y", "x"], ["x", "y"]], k=60, weights=[2, 1]) == ["y", "x"]


def test_hybrid_profile_reproduces_demo_reranking_hybrid(demo_profiles):
    """The full-corpus (vectorised) fusion of the demo's own candidate lists gives its reranking_hybrid lists."""
    task = demo_profiles[0]
    c = task.candidates
    depth = c["reranking_hybrid"].depth
    index = {d: i for i, d in enumerate(task.doc_ids)}
    ids = task.doc_ids
    for q in task.query_ids:
        ranks = []
        for config in ("bm25", "multilingual_e5_small_q4"):
            r = np.full(len(ids), len(ids) + 1, dtype=np.int64)
            listed = c[config].lists[q]
            r[[index[d] for d in listed]] = np.arange(1, len(listed) + 1)
            ranks.append(r[None])
        fused, secondary = rrf_scores(ranks, params=FusionParams(k=100, depth=len(ids), tie_break="id"))
        order = _profile(fused, ids, secondary=secondary).order(0)[:depth]
        assert [ids[i] for i in order] == list(c["reranking_hybrid"].lists[q]), q


def test_rrf_reproduces_replica_reranking_hybrid(replica_task):
    """The replica's builder fused its bm25 and e5 top-500 lists with k=100; ties there go by id."""
    c = replica_task.candidates
    same = sum(
        rrf_fuse_lists([c["bm25"].lists[q], c["multilingual_e5_small_q4"].lists[q]], k=100, tie_break="id")[:100]
        == list(c["reranking_hybrid"].lists[q])
        for q in replica_task.query_ids
    )
    assert same == replica_task.n_queries
