"""Headless figures from a :class:`~nanomlqa_viz.pipeline.View`: the ``report`` JSON and the ``export`` table.

The pages show the same figures; both read them from the view, so the command line and the app
never disagree.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from nanomlqa_viz.analysis import summary_metrics
from nanomlqa_viz.explain import duplicate_stats
from nanomlqa_viz.pipeline import View
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.registry import KIND_LABELS
from nanomlqa_viz.relevance import RelevanceMode, expanded_qrels
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


def _profiles_section(view: View) -> dict[str, dict[str, object]]:
    return {
        e.name: {
            "kind": str(e.kind),
            "kind_label": KIND_LABELS[e.kind],
            "label": e.label,
            "colour": e.colour,
            "queries_covered": e.n_covered,
            **{k: v for k, v in e.profile.description.items() if k not in ("kind", "label", "colour")},
        }
        for e in view.registry
    }


def build_report(view: View, *, audit: bool = True) -> dict[str, object]:
    """Counts, languages, every profile's metrics (ties by id and tie-aware), relevance modes, failure analysis."""
    task, languages = view.task, view.languages
    strict = RelevanceMode.STRICT
    report: dict[str, object] = {
        "dataset": task.source,
        "split": task.split,
        "source_kind": task.source_kind,
        "notice": task.notice,
        "warnings": list(task.warnings),
        "errors": list(view.errors),
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
        "metrics": {name: summary_metrics(frame) for name, frame in view.id_metrics(strict).items()},
        "tie_aware": {name: m.summary() for name, m in view.tie_metrics(strict).items() if view.registry[name].profile.scored},
        "profiles": _profiles_section(view),
    }
    report["relevance_modes"] = {
        str(mode): {name: summary_metrics(frame) for name, frame in view.id_metrics(mode).items()} for mode in view.modes
    }
    report["relevance_modes_tie_aware"] = {
        str(mode): {name: m.summary() for name, m in view.tie_metrics(mode).items()} for mode in view.modes
    }
    analysis = view.analysis()
    report["duplicates"] = duplicate_stats(task, analysis.groups)
    report["bm25_reasons"] = dict(Counter(analysis.bm25_reasons["reason"]).most_common())
    from nanomlqa_viz.lang_hybrid import language_aware_hybrid_report

    report["language_aware_hybrid"] = language_aware_hybrid_report(view)
    if audit:
        from nanomlqa_viz.audit import failure_kinds, label_wrong

        verdicts = view.audit()
        report["label_audit"] = label_wrong(verdicts).to_dict("records")
        report["failure_kinds"] = failure_kinds(verdicts)
    return report


def export_frame(view: View) -> pd.DataFrame:
    """One row per query, the columns of ``export`` in a fixed order: every profile's rank, tie interval and score."""
    task = view.task
    table = view.table()
    names = view.registry.names()
    columns = list(EXPORT_BASE_COLUMNS)
    for prefix in ("rank", "tie_first", "tie_last", "ties", "score"):
        columns += [f"{prefix}_{name}" for name in names]
    out = table[columns].copy()
    analysis = view.analysis()
    groups = analysis.groups
    copies = expanded_qrels(task, groups, mode=RelevanceMode.COPIES)
    parallel = expanded_qrels(task, groups, mode=RelevanceMode.PARALLEL) if analysis.parallel_known else copies
    family = {q: {"copy": copies.get(q, frozenset()), "parallel": parallel.get(q, frozenset())} for q in task.query_ids}
    out["copies_of_positive"] = [len(family[q]["copy"] - task.positives(q)) for q in task.query_ids]
    out["parallel_passages_of_positive"] = [
        len({groups.copy_group[task.doc_index[d]] for d in family[q]["parallel"] - family[q]["copy"]}) for q in task.query_ids
    ]
    out["parallel_ids"] = [";".join(sorted(family[q]["parallel"] - family[q]["copy"])) for q in task.query_ids]
    for kind in ("copy", "parallel"):
        for name, profile in view.profiles.items():
            out[f"best_rank_any_{kind}_{name}"] = pd.array(
                [_best_rank(task, profile, qi, family[q][kind]) for qi, q in enumerate(task.query_ids)], dtype="Int64"
            )
    reasons = analysis.bm25_reasons.set_index("query_id")["reason"]
    out["bm25_reason"] = [reasons.get(q, "") for q in task.query_ids]
    verdicts = view.audit().set_index("query_id")
    judged = [q in verdicts.index for q in task.query_ids]
    out["label_verdict"] = [str(verdicts.at[q, "verdict"]) if j else "" for q, j in zip(task.query_ids, judged)]
    out["label_verdict_confidence"] = [float(verdicts.at[q, "confidence"]) if j else 0.0 for q, j in zip(task.query_ids, judged)]
    return out


def _best_rank(task: Task, profile: RankedProfile, qi: int, docs: frozenset[str]) -> int | None:
    return min((r for d in docs if (r := profile.retrieved_rank(qi, task.doc_index[d])) is not None), default=None)
