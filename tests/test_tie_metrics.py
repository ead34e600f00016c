"""Tie-aware metrics: hand-checked cases, exhaustive enumeration of tie orders, and the tie-broken rank."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nanomlqa_viz.metrics import METRIC_KEYS, query_metrics
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.tie_metrics import TieAwareMetrics, query_tie_metrics, tie_aware_metrics


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def assert_values(got: dict[str, tuple[float, float, float]], want: dict[str, tuple[float, float, float]]) -> None:
    assert set(got) == set(METRIC_KEYS)
    for key in METRIC_KEYS:
        assert all(close(g, w) for g, w in zip(got[key], want[key])), (key, got[key], want[key])


def disc(rank: int) -> float:
    return 1.0 / math.log2(rank + 1)


# ---------------------------------------------------------------------------------------------
# brute force: every ordering of every tie block, each equally likely
# ---------------------------------------------------------------------------------------------


def tie_blocks(scores: np.ndarray, secondary: np.ndarray | None = None) -> list[list[int]]:
    """Documents grouped by equal (score, secondary), best block first; NaN scores last."""
    sec = np.zeros(len(scores)) if secondary is None else secondary
    key = [(math.isnan(s), 0.0 if math.isnan(s) else -s, float(t)) for s, t in zip(scores.tolist(), sec.tolist())]
    blocks: dict[tuple[bool, float, float], list[int]] = {}
    for doc, k in enumerate(key):
        blocks.setdefault(k, []).append(doc)
    return [blocks[k] for k in sorted(blocks)]


def brute_force(
    scores: np.ndarray, relevant: list[int], secondary: np.ndarray | None = None
) -> dict[str, tuple[float, float, float]]:
    """(mean, min, max) over all orderings of :func:`query_metrics` on the relevant documents' ranks."""
    blocks = tie_blocks(scores, secondary)
    rel = set(relevant)
    per_ordering: list[dict[str, float]] = []
    for choice in itertools.product(*(itertools.permutations(b) for b in blocks)):
        order = [doc for block in choice for doc in block]
        ranks = tuple(i for i, doc in enumerate(order, start=1) if doc in rel)
        per_ordering.append(query_metrics(ranks, len(rel)))
    return {
        key: (
            math.fsum(m[key] for m in per_ordering) / len(per_ordering),
            min(m[key] for m in per_ordering),
            max(m[key] for m in per_ordering),
        )
        for key in METRIC_KEYS
    }


def n_orderings(scores: np.ndarray, secondary: np.ndarray | None = None) -> int:
    return math.prod(math.factorial(len(b)) for b in tie_blocks(scores, secondary))


def random_case(rng: np.random.Generator, prefix: int) -> tuple[np.ndarray, list[int]]:
    """``prefix`` distinct top scores, then ~10 documents on a few tied levels (and -inf), several relevant."""
    while True:
        n_tail = int(rng.integers(5, 11))
        levels = np.array([3.0, 2.0, 1.0, 0.0, -np.inf])
        tail = levels[rng.integers(0, len(levels), n_tail)]
        head = 10.0 + rng.permutation(prefix).astype(np.float64)
        scores = np.concatenate([head, tail])
        if n_orderings(scores) > 6000:
            continue
        n_rel = int(rng.integers(1, 5))
        pool = np.arange(len(scores)) if prefix < 20 else np.arange(prefix - 3, len(scores))
        relevant = sorted(rng.choice(pool, size=min(n_rel, len(pool)), replace=False).tolist())
        perm = rng.permutation(len(scores))  # document indices need not follow score order
        inv = np.argsort(perm)
        return scores[perm], [int(inv[d]) for d in relevant]


# ---------------------------------------------------------------------------------------------
# hand-checked
# ---------------------------------------------------------------------------------------------


def test_positive_tied_with_two_copies_at_the_top():
    # 10 documents; the positive (doc 0) and its two copies (docs 1, 2) share the top score.
    scores = np.array([0.9, 0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2], dtype=np.float32)
    got = query_tie_metrics(scores, [0])
    # The positive is at rank 1, 2 or 3 with probability 1/3 each.
    # hit@1: only rank 1 counts -> 1/3; worst (rank 3) 0; best (rank 1) 1.
    # hit@10, hit@100, recall@100: every rank is within 10 -> 1 in all three cases.
    # MRR@10 = (1/1 + 1/2 + 1/3) / 3 = 11/18; worst 1/3; best 1.
    # nDCG@10 (ideal = 1/log2(2) = 1): (1/log2 2 + 1/log2 3 + 1/log2 4) / 3 = (1 + 0.6309298 + 0.5) / 3
    #   = 0.7103099; worst 1/log2(4) = 0.5; best 1.
    want = {
        "ndcg@10": ((1 + 1 / math.log2(3) + 0.5) / 3, 0.5, 1.0),
        "hit@1": (1 / 3, 0.0, 1.0),
        "hit@10": (1.0, 1.0, 1.0),
        "hit@100": (1.0, 1.0, 1.0),
        "recall@100": (1.0, 1.0, 1.0),
        "mrr@10": (11 / 18, 1 / 3, 1.0),
    }
    assert_values(got, want)
    assert close(got["ndcg@10"][0], 0.7103099178571526)


def test_two_relevant_in_a_block_straddling_10_and_100():
    # 5 documents above, then a block of m = 200 tied documents (positions 6..205) holding r = 2
    # relevant ones, then 95 lower documents. c positions of the block lie within k: c = k - 5.
    # P(no relevant in those c) = C(198, c) / C(200, c) = (200 - c)(199 - c) / (200 * 199).
    n = 300
    scores = np.concatenate([np.arange(10.0, 5.0, -1.0), np.zeros(200), -np.arange(1.0, 96.0)])
    relevant = [7, 150]
    got = query_tie_metrics(scores, relevant)
    hit10 = 1 - (195 * 194) / (200 * 199)  # c = 5
    hit100 = 1 - (105 * 104) / (200 * 199)  # c = 95
    # recall@100: each relevant document is within 100 with probability 95/200.
    # nDCG@10: each relevant document gets 1/200 of positions 6..10; ideal over 2 documents.
    ndcg = 2 * sum(disc(p) for p in range(6, 11)) / 200 / (1 + disc(2))
    # MRR@10: first relevant at offset j with P = C(200 - j, 1) / C(200, 2) = (200 - j) / 19900.
    mrr = sum((200 - j) / 19900 / (5 + j) for j in range(1, 6))
    # worst: relevant at 204, 205 (nothing within 100); best: at 6, 7.
    want = {
        "ndcg@10": (ndcg, 0.0, (disc(6) + disc(7)) / (1 + disc(2))),
        "hit@1": (0.0, 0.0, 0.0),
        "hit@10": (hit10, 0.0, 1.0),
        "hit@100": (hit100, 0.0, 1.0),
        "recall@100": (95 / 200, 0.0, 1.0),
        "mrr@10": (mrr, 0.0, 1 / 6),
    }
    assert_values(got, want)
    assert n == len(scores)
    assert_values(got, brute_force_by_subsets(scores, relevant))


def brute_force_by_subsets(scores: np.ndarray, relevant: list[int]) -> dict[str, tuple[float, float, float]]:
    """Like :func:`brute_force`, for big blocks: enumerate which positions of each block the relevant
    documents take (every subset equally likely under a uniform order) instead of every ordering."""
    blocks = tie_blocks(scores)
    rel = set(relevant)
    choices = []
    start = 0
    for block in blocks:
        r = len(rel.intersection(block))
        positions = range(start + 1, start + len(block) + 1)
        choices.append(list(itertools.combinations(positions, r)))
        start += len(block)
    rows = [query_metrics(tuple(sorted(p for c in pick for p in c)), len(rel)) for pick in itertools.product(*choices)]
    return {
        key: (math.fsum(r[key] for r in rows) / len(rows), min(r[key] for r in rows), max(r[key] for r in rows))
        for key in METRIC_KEYS
    }


def test_bottom_block_of_unscored_documents():
    # A run listed 3 documents; the other 997 score -inf and form one block at positions 4..1000.
    scores = np.full(1000, -np.inf)
    scores[[10, 20, 30]] = [3.0, 2.0, 1.0]
    got = query_tie_metrics(scores, [500])
    # Uniform over 997 positions: P(within 10) = 7/997, P(within 100) = 97/997.
    ndcg = sum(disc(p) for p in range(4, 11)) / 997
    mrr = sum(1 / 997 / p for p in range(4, 11))
    want = {
        "ndcg@10": (ndcg, 0.0, disc(4)),
        "hit@1": (0.0, 0.0, 0.0),
        "hit@10": (7 / 997, 0.0, 1.0),
        "hit@100": (97 / 997, 0.0, 1.0),
        "recall@100": (97 / 997, 0.0, 1.0),
        "mrr@10": (mrr, 0.0, 1 / 4),
    }
    assert_values(got, want)
    # a relevant document that the run did list is unaffected by the block below it
    assert_values(query_tie_metrics(scores, [20]), {k: (v, v, v) for k, v in query_metrics((2,), 1).items()})


def test_one_huge_block_is_exact():
    # m = 100,000 tied documents, one relevant: P(rank <= k) = k / m exactly.
    m = 100_000
    got = query_tie_metrics(np.zeros(m, dtype=np.float32), [12345])
    for k in (1, 10, 100):
        assert close(got[f"hit@{k}"][0], k / m)
    assert close(got["recall@100"][0], 100 / m)
    assert close(got["mrr@10"][0], sum(1 / p for p in range(1, 11)) / m)
    assert close(got["ndcg@10"][0], sum(disc(p) for p in range(1, 11)) / m)
    # 30 relevant among them: hit@1 = 30/m; hit@10 = 1 - prod_{i<10} (m - 30 - i) / (m - i)
    rel = list(range(0, 3000, 100))
    got = query_tie_metrics(np.zeros(m), rel)
    assert close(got["hit@1"][0], 30 / m)
    assert close(got["hit@10"][0], 1 - math.prod((m - 30 - i) / (m - i) for i in range(10)))
    assert close(got["hit@100"][0], 1 - math.comb(m - 30, 100) / math.comb(m, 100))


# ---------------------------------------------------------------------------------------------
# exhaustive agreement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [0, 3, 7, 95])
def test_matches_every_ordering_of_the_tie_blocks(prefix):
    rng = np.random.default_rng(prefix)
    for _ in range(8):
        scores, relevant = random_case(rng, prefix)
        assert_values(query_tie_metrics(scores, relevant), brute_force(scores, relevant))


def test_matches_enumeration_with_large_blocks_across_10_and_100():
    rng = np.random.default_rng(7)
    for _ in range(6):
        # blocks of 2..40 documents on a few levels, so blocks straddle positions 10 and 100
        sizes = rng.integers(2, 41, size=int(rng.integers(3, 7)))
        scores = np.concatenate([np.full(s, float(-i)) for i, s in enumerate(sizes)])
        scores = np.concatenate([scores, np.full(int(rng.integers(0, 50)), -np.inf)])
        relevant = sorted(rng.choice(len(scores), size=int(rng.integers(1, 4)), replace=False).tolist())
        assert_values(query_tie_metrics(scores, relevant), brute_force_by_subsets(scores, relevant))


def test_batch_equals_rows_and_secondary_key_splits_blocks():
    rng = np.random.default_rng(11)
    cases = [random_case(rng, p) for p in (0, 2, 4, 6)]
    n = max(len(s) for s, _ in cases)
    scores = np.full((len(cases), n), -np.inf)
    for qi, (s, _) in enumerate(cases):
        scores[qi, : len(s)] = s
    relevant = [r for _, r in cases]
    result = tie_aware_metrics(scores, relevant, query_ids=["a", "b", "c", "d"])
    for qi, qid in enumerate("abcd"):
        want = brute_force(scores[qi], relevant[qi])
        got = {k: tuple(float(getattr(result, c).loc[qid, k]) for c in ("expected", "worst", "best")) for k in METRIC_KEYS}
        assert_values(got, want)
    # with a secondary key, only documents equal in score and key are tied
    secondary = rng.integers(0, 2, size=scores.shape).astype(np.float64)
    for qi in range(len(cases)):
        if n_orderings(scores[qi], secondary[qi]) <= 6000:
            got = query_tie_metrics(scores[qi], relevant[qi], secondary=secondary[qi])
            assert_values(got, brute_force(scores[qi], relevant[qi], secondary[qi]))


# ---------------------------------------------------------------------------------------------
# consistency with the tie-broken ranking
# ---------------------------------------------------------------------------------------------


def test_without_ties_all_three_equal_query_metrics():
    rng = np.random.default_rng(3)
    n_q, n_docs = 6, 400
    scores = rng.permutation(n_q * n_docs).reshape(n_q, n_docs).astype(np.float64)
    relevant = [set(rng.choice(n_docs, size=int(rng.integers(1, 8)), replace=False).tolist()) for _ in range(n_q)]
    # plus the document at rank 1, 3, 5, 9, 13 or 151, so every metric varies
    extra_rank = [1, 3, 5, 9, 13, 151]
    relevant = [sorted(rel | {int(np.argsort(-scores[qi])[extra_rank[qi] - 1])}) for qi, rel in enumerate(relevant)]
    result = tie_aware_metrics(scores, relevant, query_ids=[f"q{i}" for i in range(n_q)])
    for qi in range(n_q):
        ranks = np.empty(n_docs, dtype=np.int64)
        ranks[np.argsort(-scores[qi])] = np.arange(1, n_docs + 1)
        want = query_metrics(tuple(sorted(ranks[relevant[qi]].tolist())), len(relevant[qi]))
        for frame in (result.expected, result.worst, result.best):
            assert all(close(frame.iloc[qi][k], want[k]) for k in METRIC_KEYS)
    # relevant docs are spread over 400 ranks, so the values vary and the check has teeth
    assert all(result.expected[k].nunique() > 1 for k in METRIC_KEYS)


@pytest.mark.parametrize("with_secondary", [False, True])
def test_id_broken_ranking_lies_between_worst_and_best(with_secondary):
    rng = np.random.default_rng(5)
    n_q, n_docs = 20, 3000
    scores = (rng.integers(0, 40, size=(n_q, n_docs)) / 4).astype(np.float32)  # 40 levels of ~60 documents
    scores[:, rng.choice(n_docs, 500, replace=False)] = -np.inf
    secondary = rng.integers(0, 3, size=(n_q, n_docs)).astype(np.float64) if with_secondary else None
    profile = RankedProfile(name="t", scores=scores, id_rank=rng.permutation(n_docs), secondary=secondary)
    ranks = profile.full_ranks()
    # 1..30 random relevant documents; in every other query one more from the top block, so that
    # hit@1 / MRR@10 are in play
    relevant = [set(rng.choice(n_docs, size=int(rng.integers(1, 31)), replace=False).tolist()) for _ in range(n_q)]
    relevant = [sorted(rel | {int(np.argmax(scores[qi]))} if qi % 2 else rel) for qi, rel in enumerate(relevant)]
    result = tie_aware_metrics(scores, relevant, query_ids=[str(i) for i in range(n_q)], secondary=secondary)
    tie_broken = []
    for qi in range(n_q):
        broken = query_metrics(tuple(sorted(ranks[qi, relevant[qi]].tolist())), len(relevant[qi]))
        tie_broken.append(broken)
        for k in METRIC_KEYS:
            worst, expected, best = result.worst.iloc[qi][k], result.expected.iloc[qi][k], result.best.iloc[qi][k]
            assert worst - 1e-12 <= broken[k] <= best + 1e-12, (qi, k, worst, broken[k], best)
            assert worst - 1e-12 <= expected <= best + 1e-12
    # ties matter here: every metric has a query whose worst and best differ
    for k in METRIC_KEYS:
        assert (result.best[k] > result.worst[k]).any(), k


def test_nan_scores_rank_last_like_the_profile():
    scores = np.array([[1.0, np.nan, 0.5, np.nan, -np.inf, 0.5]])
    profile = RankedProfile(name="t", scores=scores, id_rank=np.arange(6))
    ranks = profile.full_ranks()[0]
    assert ranks[1] > ranks[4] and ranks[3] > ranks[4]  # NaN below -inf in the profile's order
    assert_values(query_tie_metrics(scores[0], [1]), brute_force(scores[0], [1]))
    got = query_tie_metrics(scores[0], [1])
    assert got["mrr@10"] == (pytest.approx((1 / 5 + 1 / 6) / 2), 1 / 6, 1 / 5)
    # a secondary key splits the NaN block too
    secondary = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    for rel in ([1], [3], [1, 3], [2, 5]):
        assert_values(query_tie_metrics(scores[0], rel, secondary=secondary), brute_force(scores[0], rel, secondary))


# ---------------------------------------------------------------------------------------------
# zeros, frames, summary, errors
# ---------------------------------------------------------------------------------------------


def test_uncovered_and_unlabelled_queries_are_zero_and_count_in_the_mean():
    scores = np.array([[0.9, 0.9, 0.1], [0.9, 0.9, 0.1], [0.9, 0.9, 0.1]], dtype=np.float32)
    result = tie_aware_metrics(scores, [[0], [0], []], query_ids=["q1", "q2", "q3"], covered=np.array([True, False, True]))
    assert isinstance(result, TieAwareMetrics)
    for frame in (result.expected, result.worst, result.best):
        assert list(frame.columns) == list(METRIC_KEYS)
        assert frame.index.name == "query_id" and list(frame.index) == ["q1", "q2", "q3"]
        assert (frame.loc[["q2", "q3"]] == 0.0).all().all()
    assert result.expected.loc["q1", "hit@1"] == 0.5
    summary = result.summary()
    assert set(summary) == set(METRIC_KEYS)
    assert summary["hit@1"] == {"expected": pytest.approx(0.5 / 3), "worst": 0.0, "best": pytest.approx(1 / 3)}
    assert summary["hit@10"] == {"expected": pytest.approx(1 / 3), "worst": pytest.approx(1 / 3), "best": pytest.approx(1 / 3)}


def test_duplicate_relevant_indices_count_once_and_bad_input_is_refused():
    scores = np.array([0.5, 0.5, 0.1])
    assert query_tie_metrics(scores, [0, 0]) == query_tie_metrics(scores, [0])
    with pytest.raises(ValueError, match="out of range"):
        query_tie_metrics(scores, [3])
    with pytest.raises(ValueError, match="out of range"):
        query_tie_metrics(scores, [-1])
    with pytest.raises(ValueError, match="query ids"):
        tie_aware_metrics(scores[None, :], [[0]], query_ids=["a", "b"])
    with pytest.raises(ValueError, match="relevant sets"):
        tie_aware_metrics(scores[None, :], [[0], [1]], query_ids=["a"])


def test_sorted_row_and_comparison_counting_agree(monkeypatch):
    # Rows with many distinct relevant scores are counted from one sort of the row, others by
    # comparisons; both must give the same blocks, including -inf and NaN scores.
    from nanomlqa_viz import tie_metrics

    rng = np.random.default_rng(9)
    n_q, n_docs = 8, 2000
    scores = (rng.integers(0, 60, size=(n_q, n_docs)) / 8).astype(np.float32)
    scores[:, rng.choice(n_docs, 300, replace=False)] = -np.inf
    scores[:, rng.choice(n_docs, 20, replace=False)] = np.nan
    relevant = [rng.choice(n_docs, size=int(rng.integers(1, 60)), replace=False).tolist() for _ in range(n_q)]
    ids = [f"q{i}" for i in range(n_q)]
    monkeypatch.setattr(tie_metrics, "_SORT_ABOVE", 10**9)
    by_comparison = tie_aware_metrics(scores, relevant, query_ids=ids)
    monkeypatch.setattr(tie_metrics, "_SORT_ABOVE", 0)
    by_sort = tie_aware_metrics(scores, relevant, query_ids=ids)
    for case in ("expected", "worst", "best"):
        assert getattr(by_sort, case).equals(getattr(by_comparison, case))
    assert (by_sort.best["recall@100"] > by_sort.worst["recall@100"]).any()


def test_partial_profile_does_not_retrieve_unlisted_relevant_documents():
    """A run of depth 3 that leaves the positive out: nothing at any cutoff (trec_eval), yet |relevant| counts."""
    row = np.full(200, -np.inf)
    row[[5, 6, 7]] = [3.0, 2.0, 1.0]
    as_block = query_tie_metrics(row, [50])
    assert as_block["hit@100"][2] == 1.0, "as an ordinary -inf block the positive could be at rank 4"
    result = tie_aware_metrics(row[None, :], [[50, 6]], query_ids=["q"], partial=True)
    for case in (result.expected, result.worst, result.best):
        assert case.loc["q", "recall@100"] == 0.5, "the listed relevant passage counts, the unlisted one is not retrieved"
        assert case.loc["q", "hit@1"] == 0.0 and case.loc["q", "mrr@10"] == 0.5
