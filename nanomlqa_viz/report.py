"""Headless figures: the ``report`` JSON and the ``export`` per-query table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pandas as pd

from nanomlqa_viz.analysis import (
    TextLanguages,
    profile_query_metrics,
    query_table,
    reference_query_metrics,
    summary_metrics,
)
from nanomlqa_viz.explain import FailureAnalysis, duplicate_stats
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import expanded_qrels
from nanomlqa_viz.task import Task

EXPORT_BASE_COLUMNS = (
    "query_id",
    "query_text",
    "query_lang",
    "query_script",
    "positive_id",
    "positive_lang",
    "positive_script",
)


def metrics_by_profile(task: Task, profiles: Mapping[str, RankedProfile]) -> dict[str, dict[str, float]]:
    """Mean metrics of every reference subset (``reference/<config>``) and computed profile."""
    out = {f"reference/{c}": summary_metrics(reference_query_metrics(task, c)) for c in task.candidates}
    out.update({name: summary_metrics(profile_query_metrics(task, p)) for name, p in profiles.items()})
    return out


def build_report(
    task: Task,
    *,
    languages: TextLanguages,
    profiles: Mapping[str, RankedProfile],
    analysis: FailureAnalysis | None = None,
) -> dict[str, object]:
    report = {
        "dataset": task.source,
        "split": task.split,
        "source_kind": task.source_kind,
        "notice": task.notice,
        "warnings": list(task.warnings),
        "counts": {
            "queries": task.n_queries,
            "documents": task.n_docs,
            "qrels": task.n_qrels,
            "distinct_document_texts": task.distinct_doc_texts,
        },
        "languages": {
            "queries": dict(Counter(languages.query_lang).most_common()),
            "documents": dict(Counter(languages.doc_lang).most_common()),
        },
        "metrics": metrics_by_profile(task, profiles),
        "profiles": {name: dict(p.description) for name, p in profiles.items()},
    }
    if analysis is not None:
        report["relevance_modes"] = {
            mode: {name: summary_metrics(frame) for name, frame in per.items()} for mode, per in analysis.by_mode.items()
        }
        report["duplicates"] = duplicate_stats(task, analysis.groups)
        report["label_audit"] = [
            {"query_id": row.query_id, "confidence": float(row.confidence)} for row in analysis.audit.itertuples()
        ]
        report["bm25_reasons"] = dict(Counter(analysis.bm25_reasons["reason"]).most_common())
    return report


def export_frame(
    task: Task,
    *,
    languages: TextLanguages,
    profiles: Mapping[str, RankedProfile],
    analysis: FailureAnalysis | None = None,
) -> pd.DataFrame:
    """One row per query, the columns of ``export`` in a fixed order."""
    table = query_table(task, languages, profiles)
    columns = list(EXPORT_BASE_COLUMNS)
    columns += [f"rank_reference/{c}" for c in task.candidates]
    for prefix in ("rank", "score", "ties"):
        columns += [f"{prefix}_{name}" for name in profiles]
    out = table[columns].copy()
    if analysis is None:
        return out
    copies = expanded_qrels(task, analysis.groups, mode="copies")
    translations = expanded_qrels(task, analysis.groups, mode="translations") if analysis.explanations else copies
    family = {q: {"copies": copies.get(q, frozenset()), "translations": translations.get(q, frozenset())} for q in task.query_ids}
    out["copies_of_positive"] = [len(family[q]["copies"] - task.positives(q)) for q in task.query_ids]
    out["translations_of_positive"] = [
        len({analysis.groups.copy_group[task.doc_index[d]] for d in family[q]["translations"] - family[q]["copies"]})
        for q in task.query_ids
    ]
    out["translation_ids"] = [";".join(sorted(family[q]["translations"] - family[q]["copies"])) for q in task.query_ids]
    for kind in ("copy", "translation"):
        key = "copies" if kind == "copy" else "translations"
        for name, profile in profiles.items():
            out[f"best_rank_any_{kind}_{name}"] = pd.array(
                [_best_rank(task, profile, qi, family[q][key]) for qi, q in enumerate(task.query_ids)], dtype="Int64"
            )
        for config, subset in task.candidates.items():
            out[f"best_rank_any_{kind}_reference/{config}"] = pd.array(
                [next((r for r, d in enumerate(subset.ranking(q), 1) if d in family[q][key]), None) for q in task.query_ids],
                dtype="Int64",
            )
    reasons = analysis.bm25_reasons.set_index("query_id")["reason"]
    out["bm25_reason"] = [reasons.get(q, "") for q in task.query_ids]
    audit = analysis.audit.set_index("query_id")["confidence"] if len(analysis.audit) else pd.Series(dtype=float)
    out["label_suspect"] = [q in audit.index for q in task.query_ids]
    out["label_suspect_confidence"] = [float(audit[q]) if q in audit.index else 0.0 for q in task.query_ids]
    return out


def _best_rank(task: Task, profile: RankedProfile, qi: int, docs: frozenset[str]) -> int | None:
    return min((profile.rank_info(qi, task.doc_index[d]).rank for d in docs), default=None)


def metrics_frame(per_query: Mapping[str, pd.DataFrame], *, source: str, split: str) -> pd.DataFrame:
    """One row per profile: mean of every metric, n queries, and the published figures if any."""
    from nanomlqa_viz.published import published_for

    rows = []
    for name, frame in per_query.items():
        row = {"profile": name, "n": len(frame), **summary_metrics(frame)}
        published = published_for(source, split, name.split("/", 1)[1]) if name.startswith("reference/") else None
        for key in ("ndcg@10", "hit@10", "recall@100"):
            row[f"published {key}"] = published[key] if published else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("profile")


def rank_distribution(table: pd.DataFrame, profiles: list[str]) -> pd.DataFrame:
    """Long frame (profile, rank) of the positive's rank per query, for the distribution chart.

    Reference subsets contribute only queries whose positive is in their list.
    """
    parts = []
    for name in profiles:
        ranks = table[f"rank_{name}"].dropna().astype(int)
        parts.append(pd.DataFrame({"profile": name, "rank": ranks.to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["profile", "rank"])


def modes_frame(
    per_query_by_mode: Mapping[str, Mapping[str, pd.DataFrame]], *, metrics: tuple[str, ...] = ("hit@10", "ndcg@10", "recall@100")
) -> pd.DataFrame:
    """One row per profile, one column per (metric, relevance mode): the labelling effect at a glance."""
    columns: dict[str, pd.Series] = {}
    for metric in metrics:
        for mode, per_query in per_query_by_mode.items():
            columns[f"{metric} · {mode}"] = pd.Series({name: frame[metric].mean() for name, frame in per_query.items()})
    frame = pd.DataFrame(columns)
    frame.insert(0, "n", pd.Series({name: len(f) for name, f in next(iter(per_query_by_mode.values())).items()}))
    return frame
