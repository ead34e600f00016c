"""Why a query "fails": copies and parallel passages of its positive, and what beat the positive.

Built from the texts and the dense model's passage embeddings, never from ids:

- exact copies share a normalised text (:mod:`nanomlqa_viz.relevance`);
- *parallel passages* — versions of a positive's paragraph in another language that carry the
  same answer sentence — come from :mod:`nanomlqa_viz.translations` over the distinct texts,
  anchored at the positives (the only texts whose versions any figure asks for);
- a passage is *same topic* as the positive when its cosine to the positive, or to any of the
  positive's parallel passages, is at least ``SAME_TOPIC_Z`` standard deviations above that
  version's mean cosine to the corpus (measured on the demo's ground truth: z ≥ 2.5 keeps
  88% of same-article paragraphs and 0.4% of passages from other articles).

:func:`failure_analysis` computes the whole analysis once per task, qrels, dense model and
detector versions, and keeps it on disk (:class:`~nanomlqa_viz.cache.ArrayCache`), so a new
process reads it back instead of recomputing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np
import pandas as pd

from nanomlqa_viz.cache import fingerprint
from nanomlqa_viz.profiles import ProfileContext
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import PassageGroups, RelevanceMode, expanded_qrels, passage_groups

ANALYSIS_VERSION = "5"
SAME_TOPIC_Z = 2.5
_STATS_SAMPLE = 4_000  # columns of a text's cosine statistics beyond this many texts: a fixed sample

StepProgress = Callable[[str, float], None]
"""``progress(step, fraction)``: the named step under way and how far the whole analysis is (0..1)."""


class PassageLabel(StrEnum):
    """How a passage ranked above the positive relates to it."""

    COPY = "copy"
    PARALLEL = "parallel passage"
    SAME_TOPIC = "same topic"
    OTHER = "other"


LABELS: tuple[PassageLabel, ...] = tuple(PassageLabel)


@dataclass(frozen=True, eq=False)
class Explanations:
    """Copy/parallel groups of a task and the embeddings they came from (distinct-text rows).

    The embeddings are read (``load_embeddings()``) when first asked for: a new process showing
    its first page from the cached analysis does not need them. A text's cosine statistics
    against the corpus (mean and standard deviation, over a fixed sample of texts beyond 4,000)
    are computed when first asked for, for that text only.
    """

    groups: PassageGroups
    row_of_doc: np.ndarray
    load_embeddings: Callable[[], np.ndarray] = field(repr=False)
    _stats: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def embeddings(self) -> np.ndarray:
        """(n_distinct, dim) float32, L2-normalised: the dense model's passage embeddings."""
        return self.load_embeddings()

    def _row_stats(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        emb = self.embeddings
        with self._lock:
            missing = sorted({int(r) for r in rows} - self._stats.keys())
            if missing:
                n = len(emb)
                sample = np.arange(n) if n <= _STATS_SAMPLE else np.random.default_rng(0).choice(n, _STATS_SAMPLE, replace=False)
                cos = emb[missing] @ emb[sample].T
                for row, mean, std in zip(missing, cos.mean(axis=1), cos.std(axis=1)):
                    self._stats[row] = (float(mean), float(std))
            stats = np.array([self._stats[int(r)] for r in rows], dtype=np.float64).reshape(-1, 2)
        return stats[:, 0], stats[:, 1]

    def similarity_z(self, doc_a: int, doc_b: int) -> float:
        """How unusual the cosine of b to a is, in standard deviations of a's cosines to the corpus."""
        ra, rb = int(self.row_of_doc[doc_a]), int(self.row_of_doc[doc_b])
        cos = float(self.embeddings[ra] @ self.embeddings[rb])
        mean, std = self._row_stats(np.array([ra]))
        return (cos - float(mean[0])) / max(float(std[0]), 1e-9)

    def label(self, doc: int, positive: int) -> PassageLabel:
        """copy / parallel passage / same topic / other, of ``doc`` relative to ``positive``."""
        return self.labels([doc], positive)[0]

    def labels(self, docs: Sequence[int], positive: int) -> list[PassageLabel]:
        """:meth:`label` for many documents at once (one matrix product)."""
        docs = np.asarray(docs, dtype=np.int64)
        if docs.size == 0:
            return []
        g = self.groups
        versions = np.asarray([positive, *g.translations_of(positive)[:50].tolist()], dtype=np.int64)
        v_rows = self.row_of_doc[versions]
        mean, std = self._row_stats(v_rows)
        cos = self.embeddings[self.row_of_doc[docs]] @ self.embeddings[v_rows].T  # (docs, versions)
        z = (cos - mean) / np.maximum(std, 1e-9)
        same_topic = z.max(axis=1) >= SAME_TOPIC_Z
        copy = g.copy_group[docs] == g.copy_group[positive]
        t = g.translation_group[positive]
        parallel = (g.translation_group[docs] == t) & (t >= 0)
        return [
            PassageLabel.COPY if c else PassageLabel.PARALLEL if p else PassageLabel.SAME_TOPIC if s else PassageLabel.OTHER
            for c, p, s in zip(copy, parallel, same_topic)
        ]


def positive_family(task, explanations: Explanations, query_id: str) -> dict[str, list[int]]:
    """The positive's exact copies and parallel passages (document indices, the positive excluded)."""
    positive = task.first_positive(query_id)
    if positive is None:
        return {"copies": [], "parallel": []}
    p = task.doc_index[positive]
    g = explanations.groups
    return {
        "copies": [int(d) for d in g.copies_of(p) if d != p],
        "parallel": [int(d) for d in g.translations_of(p)],
    }


def label_rows(frame: pd.DataFrame, task, explanations: Explanations, query_id: str) -> pd.DataFrame:
    """Add a ``label`` column (copy / parallel passage / same topic / other) to rows that beat the positive."""
    positive = task.first_positive(query_id)
    out = frame.copy()
    out["label"] = ""
    if positive is None:
        return out
    p = task.doc_index[positive]
    beats = out["beats_positive"].to_numpy(dtype=bool)
    labels = explanations.labels([task.doc_index[d] for d in out["doc_id"][beats]], p)
    out.loc[beats, "label"] = [str(label) for label in labels]
    return out


def beaten_by(task, explanations: Explanations, profile: RankedProfile, query_id: str, *, limit: int = 1_000) -> dict[str, int]:
    """How many passages of each label rank above the positive (the first ``limit`` of them)."""
    positive = task.first_positive(query_id)
    counts = {str(label): 0 for label in LABELS}
    qi = task.query_index[query_id]
    if positive is None or not profile.covers(qi):
        return counts
    p = task.doc_index[positive]
    rank = profile.retrieved_rank(qi, p)
    above = (rank - 1) if rank is not None else int(np.count_nonzero(np.isfinite(profile.scores[qi])))
    for label in explanations.labels(profile.top(qi, min(above, limit)), p):
        counts[str(label)] += 1
    return counts


@dataclass(frozen=True, eq=False)
class FailureAnalysis:
    """What the "why did it fail" figures need, computed once per task, qrels, dense model and detectors."""

    key: str
    groups: PassageGroups
    explanations: Explanations | None  # None without a dense profile (no parallel passages then)
    links: dict[str, np.ndarray]  # parallel links between distinct-text rows: pairs (m, 2), score (m,), evidence
    bm25_reasons: pd.DataFrame

    @property
    def parallel_known(self) -> bool:
        return self.groups.translations_known

    @property
    def modes(self) -> tuple[RelevanceMode, ...]:
        if self.parallel_known:
            return tuple(RelevanceMode)
        return (RelevanceMode.STRICT, RelevanceMode.COPIES)


def analysis_key(ctx: ProfileContext, *, qrels: str, bm25: RankedProfile, dense: RankedProfile | None, languages: str) -> str:
    from nanomlqa_viz.translations import PARALLEL_DETECTOR_VERSION

    return fingerprint(
        [
            ANALYSIS_VERSION,
            ctx.fingerprint,
            qrels,
            bm25.key,
            dense.key if dense is not None else "no-dense",
            languages,
            PARALLEL_DETECTOR_VERSION,
        ]
    )


def _anchor_rows(ctx: ProfileContext) -> np.ndarray:
    """Distinct-text rows of every positive (the texts whose parallel passages are asked for)."""
    task = ctx.task
    docs = sorted({task.doc_index[d] for docs in task.qrels.values() for d in docs})
    return np.unique(ctx.distinct.row_of_doc[docs]) if docs else np.zeros(0, dtype=np.int64)


def _parallel_links(
    ctx: ProfileContext,
    doc_langs: Sequence[str],
    doc_scripts: Sequence[str] | None,
    vectors: np.ndarray,
    *,
    model: str,
    progress: StepProgress | None,
):
    from nanomlqa_viz.encoders import make_encoder
    from nanomlqa_viz.translations import parallel_links

    distinct = ctx.distinct
    first = _first_doc(ctx)
    langs = [doc_langs[d] for d in first]
    scripts = None if doc_scripts is None else [doc_scripts[d] for d in first]

    def encode_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(f"parallel passages: encoding sentences {done:,} / {total:,}", 0.1 + 0.6 * done / max(total, 1))

    return parallel_links(
        distinct.texts,
        langs,
        encoder=make_encoder(model),
        cache=ctx.cache,
        anchors=_anchor_rows(ctx),
        progress=encode_progress,
        text_scripts=scripts,
        passage_vectors=vectors,
    )


def failure_analysis(
    ctx: ProfileContext,
    *,
    doc_langs: Sequence[str],
    languages_key: str,
    bm25: RankedProfile,
    dense: RankedProfile | None,
    qrels_key: str,
    progress: StepProgress | None = None,
    doc_scripts: Sequence[str] | None = None,
) -> FailureAnalysis:
    """Copy and parallel groups, embeddings for passage labels, BM25 reasons; read from disk when cached.

    ``doc_scripts``: each passage's :func:`~nanomlqa_viz.languages.script_of` when already known
    (the task's languages hold them), else computed for the parallel-passage detector.
    """
    from nanomlqa_viz.bm25_tokens import token_idf
    from nanomlqa_viz.cross_script import bm25_reasons
    from nanomlqa_viz.dense import passage_embeddings
    from nanomlqa_viz.encoders import make_encoder

    def step(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    task = ctx.task
    model = str(dense.description["model"]) if dense is not None else None
    key = analysis_key(ctx, qrels=qrels_key, bm25=bm25, dense=dense, languages=languages_key)
    name = f"analysis/{ctx.fingerprint}-{key}"
    cached = ctx.cache.load(name, key={"analysis": key})
    loaded: list[np.ndarray] = []

    def load_embeddings() -> np.ndarray:
        if not loaded:
            loaded.append(passage_embeddings(ctx.distinct, encoder=make_encoder(model), cache=ctx.cache))
        return loaded[0]

    if cached is not None and _valid_cached(cached, task.n_docs):
        links = {k.removeprefix("link_"): v for k, v in cached.items() if k.startswith("link_")}
        groups = PassageGroups(
            copy_group=cached["copy_group"], translation_group=cached["translation_group"], translations_known=model is not None
        )
        reasons = _frame_from_arrays(cached, prefix="reason_")
    else:
        step("finding exact copies", 0.02)
        links: dict[str, np.ndarray] = {"pairs": np.zeros((0, 2), dtype=np.int64), "score": np.zeros(0)}
        if model is not None:
            step("loading passage embeddings", 0.05)
            vectors = load_embeddings()
            step("finding parallel passages", 0.1)
            found = _parallel_links(ctx, doc_langs, doc_scripts, vectors, model=model, progress=progress)
            links = {"pairs": np.asarray(found.pairs, dtype=np.int64).reshape(-1, 2), "score": np.asarray(found.score)}
            links.update({f"evidence_{k}": np.asarray(v) for k, v in found.evidence.items()})
        # Groups of the distinct texts (pairs are rows of them), then of every passage: as over the passages, in fewer steps.
        by_text = passage_groups(ctx.distinct.texts, translation_pairs=links["pairs"] if model is not None else None)
        row_of_doc = ctx.distinct.row_of_doc
        groups = PassageGroups(
            copy_group=by_text.copy_group[row_of_doc],
            translation_group=by_text.translation_group[row_of_doc],
            translations_known=by_text.translations_known,
        )
        step("explaining BM25 failures", 0.8)
        mode = RelevanceMode.PARALLEL if model is not None else RelevanceMode.COPIES
        reasons = bm25_reasons(task, index=token_idf(ctx), bm25=bm25, relevant=expanded_qrels(task, groups, mode=mode))
        arrays = {
            "copy_group": groups.copy_group,
            "translation_group": groups.translation_group,
            **{f"link_{k}": v for k, v in links.items()},
            **_frame_to_arrays(reasons, prefix="reason_"),
        }
        ctx.cache.save(name, key={"analysis": key}, arrays=arrays)
    step("done", 1.0)
    explanations = None
    if model is not None:
        explanations = Explanations(groups=groups, row_of_doc=ctx.distinct.row_of_doc, load_embeddings=load_embeddings)
    return FailureAnalysis(key=key, groups=groups, explanations=explanations, links=links, bm25_reasons=reasons)


def _first_doc(ctx: ProfileContext) -> np.ndarray:
    """The first document of each distinct text."""
    distinct = ctx.distinct
    first = np.full(len(distinct.texts), -1, dtype=np.int64)
    rows, docs = np.unique(np.asarray(distinct.row_of_doc, dtype=np.int64), return_index=True)
    first[rows] = docs
    return first


def _valid_cached(arrays: dict[str, np.ndarray], n_docs: int) -> bool:
    return (
        arrays.get("copy_group") is not None
        and arrays["copy_group"].shape == (n_docs,)
        and arrays.get("translation_group") is not None
        and arrays["translation_group"].shape == (n_docs,)
        and arrays.get("link_pairs") is not None
        and arrays["link_pairs"].ndim == 2
    )


def _frame_to_arrays(frame: pd.DataFrame, *, prefix: str) -> dict[str, np.ndarray]:
    """A frame of str/int/float columns as named arrays (the column order kept in the names)."""
    out = {}
    for i, column in enumerate(frame.columns):
        values = frame[column].to_numpy()
        if values.dtype == object:
            values = np.asarray([str(v) for v in values], dtype=str)
        out[f"{prefix}{i:03d}_{column}"] = values
    return out


def _frame_from_arrays(arrays: dict[str, np.ndarray], *, prefix: str) -> pd.DataFrame:
    names = sorted(k for k in arrays if k.startswith(prefix))
    return pd.DataFrame({k[len(prefix) + 4 :]: arrays[k].tolist() if arrays[k].dtype.kind == "U" else arrays[k] for k in names})


def duplicate_stats(task, groups: PassageGroups) -> dict[str, float]:
    """distinct_document_texts, positives_with_copies, mean_copies_per_positive (other ids, same text)."""
    copies = [len(groups.copies_of(task.doc_index[p])) - 1 for q in task.query_ids if (p := task.first_positive(q))]
    return {
        "distinct_document_texts": task.distinct_doc_texts,
        "positives_with_copies": sum(1 for c in copies if c > 0),
        "mean_copies_per_positive": float(np.mean(copies)) if copies else 0.0,
    }
