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
from nanomlqa_viz.ranking import RankedProfile
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
    task: Task, *, languages: TextLanguages, profiles: Mapping[str, RankedProfile]
) -> dict[str, object]:
    return {
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


def export_frame(task: Task, *, languages: TextLanguages, profiles: Mapping[str, RankedProfile]) -> pd.DataFrame:
    """One row per query, the columns of ``export`` in a fixed order."""
    table = query_table(task, languages, profiles)
    columns = list(EXPORT_BASE_COLUMNS)
    columns += [f"rank_reference/{c}" for c in task.candidates]
    for prefix in ("rank", "score", "ties"):
        columns += [f"{prefix}_{name}" for name in profiles]
    return table[columns]
