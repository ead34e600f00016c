"""Nearest-neighbour search: exact blockwise search, faiss flat (exact) and HNSW (approximate) agree."""

from __future__ import annotations

import numpy as np
import pytest

from nanomlqa_viz.neighbours import EXACT_LIMIT, FLAT_FROM, nearest_neighbours, vector_index


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return _unit(rng, 300, 32), _unit(rng, 4000, 32)


def test_exact_equals_a_full_sort(data):
    queries, vectors = data
    found = nearest_neighbours(queries, vectors, k=10, method="exact")
    products = queries @ vectors.T
    expected = np.argsort(-products, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(found.rows, expected)
    np.testing.assert_allclose(found.sims, np.take_along_axis(products, expected, axis=1), atol=1e-6)
    # tiny blocks (one query per block) give the same rows
    small = vector_index(vectors, method="exact", block_bytes=1).search(queries, k=10)
    np.testing.assert_array_equal(small.rows, found.rows)


def test_faiss_flat_is_exact_and_hnsw_recalls_at_least_95_percent(data):
    queries, vectors = data
    exact = nearest_neighbours(queries, vectors, k=10, method="exact")
    flat = nearest_neighbours(queries, vectors, k=10, method="flat")
    np.testing.assert_array_equal(flat.rows, exact.rows)
    np.testing.assert_allclose(flat.sims, exact.sims, atol=1e-5)
    hnsw = nearest_neighbours(queries, vectors, k=10, method="hnsw")
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(hnsw.rows.tolist(), exact.rows.tolist())])
    assert recall >= 0.95, recall
    assert np.all(np.diff(hnsw.sims, axis=1) <= 1e-6)  # best first
    again = nearest_neighbours(queries, vectors, k=10, method="hnsw")
    np.testing.assert_array_equal(again.rows, hnsw.rows)  # deterministic graph


@pytest.mark.parametrize("method", ["exact", "flat", "hnsw"])
def test_fewer_vectors_than_k_are_padded(method):
    rng = np.random.default_rng(1)
    queries, vectors = _unit(rng, 4, 8), _unit(rng, 3, 8)
    found = nearest_neighbours(queries, vectors, k=5, method=method)
    assert found.rows.shape == (4, 5) and found.sims.shape == (4, 5)
    assert np.all(found.rows[:, 3:] == -1) and np.all(np.isnan(found.sims[:, 3:]))
    assert sorted(found.rows[0, :3].tolist()) == [0, 1, 2]
    empty = nearest_neighbours(queries, vectors[:0], k=2, method=method)
    assert np.all(empty.rows == -1)


def test_ties_go_to_the_lower_row():
    rng = np.random.default_rng(2)
    base = _unit(rng, 2, 8)
    vectors = np.repeat(base, 3, axis=0)  # rows 0-2 equal, rows 3-5 equal
    found = nearest_neighbours(base[:1], vectors, k=2, method="exact")
    assert found.rows.tolist() == [[0, 1]]


def test_auto_chooses_by_size_and_rejects_bad_input():
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 50, 8)
    assert vector_index(vectors).method == "exact"
    # many queries × vectors: faiss flat (exact but for floating-point ties), few: numpy
    assert vector_index(vectors, expected_queries=100, flat_from=50 * 100).method == "exact"
    assert vector_index(vectors, expected_queries=101, flat_from=50 * 100).method == "flat"
    assert FLAT_FROM >= 10 * 3_000 * 500  # ten times the NanoMLQA replica's largest search stays exact
    assert vector_index(vectors, exact_limit=10, expected_queries=0).method == "flat"
    assert vector_index(vectors, exact_limit=10, expected_queries=50).method == "hnsw"
    assert EXACT_LIMIT >= 200_000
    with pytest.raises(ValueError):
        vector_index(vectors, method="annoy")
    with pytest.raises(ValueError):
        vector_index(vectors).search(_unit(rng, 2, 4), k=1)
    with pytest.raises(ValueError):
        vector_index(vectors).search(vectors, k=0)
