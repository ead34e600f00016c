"""Why a query "fails": copies and translations of its positive, and what beat the positive.

Built from the texts and the dense model's passage embeddings, never from ids:

- exact copies share a normalised text (:mod:`nanomlqa_viz.relevance`);
- translations come from :func:`nanomlqa_viz.translations.find_translations` over the distinct
  texts; pairs are cached per task, model and detector parameters;
- a passage is *same topic* as the positive when its cosine to the positive, or to any of the
  positive's translations, is at least ``SAME_TOPIC_Z`` standard deviations above that
  version's mean cosine to the corpus (measured on the demo's ground truth: z ≥ 2.5 keeps
  88% of same-article paragraphs and 0.4% of passages from other articles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nanomlqa_viz.analysis import TextLanguages, profile_query_metrics, reference_query_metrics
from nanomlqa_viz.cache import fingerprint
from nanomlqa_viz.dense import passage_embeddings
from nanomlqa_viz.encoders import make_encoder
from nanomlqa_viz.profiles import ProfileContext
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import MODES, PassageGroups, expanded_qrels, passage_groups

SAME_TOPIC_Z = 2.5
LABELS = ("copy", "translation", "same topic", "other")


@dataclass(frozen=True, eq=False)
class Explanations:
    """Copy/translation groups of a task and the embeddings they came from (distinct-text rows)."""

    groups: PassageGroups
    embeddings: np.ndarray  # (n_distinct, dim), L2-normalised
    row_of_doc: np.ndarray
    row_mean: np.ndarray
    row_std: np.ndarray

    def similarity_z(self, doc_a: int, doc_b: int) -> float:
        """How unusual the cosine of b to a is, in standard deviations of a's cosines to the corpus."""
        ra, rb = int(self.row_of_doc[doc_a]), int(self.row_of_doc[doc_b])
        cos = float(self.embeddings[ra] @ self.embeddings[rb])
        return (cos - float(self.row_mean[ra])) / max(float(self.row_std[ra]), 1e-9)

    def label(self, doc: int, positive: int) -> str:
        """copy / translation / same topic / other, of ``doc`` relative to ``positive``."""
        return self.labels([doc], positive)[0]

    def labels(self, docs: Sequence[int], positive: int) -> list[str]:
        """:meth:`label` for many documents at once (one matrix product)."""
        docs = np.asarray(docs, dtype=np.int64)
        if docs.size == 0:
            return []
        g = self.groups
        versions = np.asarray([positive, *g.translations_of(positive)[:50].tolist()], dtype=np.int64)
        v_rows = self.row_of_doc[versions]
        cos = self.embeddings[self.row_of_doc[docs]] @ self.embeddings[v_rows].T  # (docs, versions)
        z = (cos - self.row_mean[v_rows]) / np.maximum(self.row_std[v_rows], 1e-9)
        same_topic = z.max(axis=1) >= SAME_TOPIC_Z
        copy = g.copy_group[docs] == g.copy_group[positive]
        t = g.translation_group[positive]
        translation = (g.translation_group[docs] == t) & (t >= 0)
        return [
            "copy" if c else "translation" if tr else "same topic" if st else "other"
            for c, tr, st in zip(copy, translation, same_topic)
        ]


def build_explanations(ctx: ProfileContext, languages: TextLanguages, *, model: str) -> Explanations:
    """Groups and embeddings for a task whose dense profile is computed (embeddings cached)."""
    from nanomlqa_viz.translations import TranslationParams, find_translations

    distinct = ctx.distinct
    emb = passage_embeddings(distinct, encoder=make_encoder(model), cache=ctx.cache)
    first_doc = np.full(len(distinct.texts), -1, dtype=np.int64)
    for doc in range(len(distinct.row_of_doc) - 1, -1, -1):
        first_doc[distinct.row_of_doc[doc]] = doc
    langs = [languages.doc_lang[d] for d in first_doc]
    params = TranslationParams()
    name = f"translations/{ctx.fingerprint}-{fingerprint([model, repr(params)])}"
    key = {"task": ctx.fingerprint, "model": model, "params": repr(params)}
    cached = ctx.cache.load(name, key=key)
    if cached is not None and cached["pairs"].ndim == 2:
        pairs = cached["pairs"]
    else:
        pairs = np.asarray(find_translations(distinct.texts, langs, emb, params=params).pairs, dtype=np.int64).reshape(-1, 2)
        ctx.cache.save(name, key=key, arrays={"pairs": pairs})
    groups = passage_groups(ctx.task.doc_texts, translation_pairs=first_doc[pairs] if len(pairs) else np.zeros((0, 2)))
    # each text's cosine statistics against the corpus (a fixed sample of columns beyond 4,000 texts)
    sample = np.arange(len(emb)) if len(emb) <= 4_000 else np.random.default_rng(0).choice(len(emb), 4_000, replace=False)
    mean = np.empty(len(emb), dtype=np.float32)
    std = np.empty(len(emb), dtype=np.float32)
    for start in range(0, len(emb), 4_096):
        part = emb[start : start + 4_096] @ emb[sample].T
        mean[start : start + 4_096], std[start : start + 4_096] = part.mean(axis=1), part.std(axis=1)
    return Explanations(groups=groups, embeddings=emb, row_of_doc=distinct.row_of_doc, row_mean=mean, row_std=std)


def metrics_by_mode(
    ctx: ProfileContext, profiles: Mapping[str, RankedProfile], groups: PassageGroups | None
) -> dict[str, dict[str, pd.DataFrame]]:
    """mode → profile (computed and ``reference/<config>``) → per-query metrics."""
    task = ctx.task
    out: dict[str, dict[str, pd.DataFrame]] = {}
    modes = [m for m in MODES if groups is not None and (m != "translations" or groups.translations_known)] or ["strict"]
    for mode in modes:
        qrels = expanded_qrels(task, groups, mode=mode) if groups is not None else task.qrels
        per = {f"reference/{c}": reference_query_metrics(task, c, qrels=qrels) for c in task.candidates}
        per.update({name: profile_query_metrics(task, p, qrels=qrels) for name, p in profiles.items()})
        out[mode] = per
    return out


def positive_family(task, explanations: Explanations, query_id: str) -> dict[str, list[int]]:
    """The positive's exact copies and translations (document indices, the positive excluded)."""
    positive = task.first_positive(query_id)
    if positive is None:
        return {"copies": [], "translations": []}
    p = task.doc_index[positive]
    g = explanations.groups
    return {
        "copies": [int(d) for d in g.copies_of(p) if d != p],
        "translations": [int(d) for d in g.translations_of(p)],
    }


def label_rows(frame: pd.DataFrame, task, explanations: Explanations, query_id: str) -> pd.DataFrame:
    """Add a ``label`` column (copy / translation / same topic / other) to rows that beat the positive."""
    positive = task.first_positive(query_id)
    out = frame.copy()
    if positive is None:
        out["label"] = ""
        return out
    p = task.doc_index[positive]
    beats = out["beats_positive"].to_numpy(dtype=bool)
    labels = explanations.labels([task.doc_index[d] for d in out["doc_id"][beats]], p)
    out["label"] = ""
    out.loc[beats, "label"] = labels
    return out


def beaten_by(task, explanations: Explanations, profile: RankedProfile, query_id: str, *, limit: int = 1_000) -> dict[str, int]:
    """How many passages of each label rank above the positive (the first ``limit`` of them)."""
    positive = task.first_positive(query_id)
    counts = dict.fromkeys(LABELS, 0)
    if positive is None:
        return counts
    qi, p = task.query_index[query_id], task.doc_index[positive]
    above = profile.rank_info(qi, p).rank - 1
    for label in explanations.labels(profile.top(qi, min(above, limit)), p):
        counts[label] += 1
    return counts


@dataclass(frozen=True, eq=False)
class FailureAnalysis:
    """Everything issue-level "why did it fail" figures need, computed once per task and model."""

    groups: PassageGroups
    explanations: Explanations | None  # None without a dense profile (no translations then)
    by_mode: dict[str, dict[str, pd.DataFrame]]
    audit: pd.DataFrame
    bm25_reasons: pd.DataFrame


def failure_analysis(
    ctx: ProfileContext, languages: TextLanguages, profiles: Mapping[str, RankedProfile], *, model: str | None
) -> FailureAnalysis:
    from nanomlqa_viz.audit import label_audit
    from nanomlqa_viz.cross_script import bm25_reasons

    explanations = build_explanations(ctx, languages, model=model) if "dense" in profiles and model else None
    groups = explanations.groups if explanations else passage_groups(ctx.task.doc_texts)
    mode = "translations" if explanations else "copies"
    reasons = bm25_reasons(
        ctx.task,
        index=ctx.bm25_index,
        bm25=profiles["bm25"],
        relevant=expanded_qrels(ctx.task, groups, mode=mode),
    )
    return FailureAnalysis(
        groups=groups,
        explanations=explanations,
        by_mode=metrics_by_mode(ctx, profiles, groups),
        audit=label_audit(ctx.task, profiles, groups),
        bm25_reasons=reasons,
    )


def duplicate_stats(task, groups: PassageGroups) -> dict[str, float]:
    """distinct_document_texts, positives_with_copies, mean_copies_per_positive (other ids, same text)."""
    copies = [len(groups.copies_of(task.doc_index[p])) - 1 for q in task.query_ids if (p := task.first_positive(q))]
    return {
        "distinct_document_texts": task.distinct_doc_texts,
        "positives_with_copies": sum(1 for c in copies if c > 0),
        "mean_copies_per_positive": float(np.mean(copies)) if copies else 0.0,
    }
