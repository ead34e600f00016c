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


def build_report(task: Task, *, languages: TextLanguages, profiles: Mapping[str, RankedProfile]) -> dict[str, object]:
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
