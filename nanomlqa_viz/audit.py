"""Label audit: positives that look wrong, from the rankings alone.

A query is flagged when no computed profile ranks its positive — or any exact copy or
translation of it — within ``AuditParams.far_rank`` (default: 1% of the corpus, at least 10
and at most 100), while the profiles' top passages agree
with each other (their top-1 passages fall in one copy/translation group). The confidence is
the mean of three parts, each in [0, 1]:

- agreement: the share of computed profiles whose top-1 passage is in the majority group;
- distance: how far down the best relevant passage is, log-scaled to the corpus size;
- margin: how much better the dense model matches the question to the agreed top passage than
  to the best relevant one (cosine difference, 0.1 or more counts fully).

It is a triage list for a person to read, not a verdict: the page shows the evidence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import PassageGroups, expanded_qrels
from nanomlqa_viz.task import Task


@dataclass(frozen=True)
class AuditParams:
    far_rank: int | None = None  # best relevant rank beyond this everywhere; None: 1% of the corpus, 10..100
    min_agreement: float = 2 / 3  # share of profiles whose top-1 falls in the majority group
    margin_scale: float = 0.1  # cosine margin counted as full evidence


def far_rank(n_docs: int, params: AuditParams = AuditParams()) -> int:
    """The rank beyond which a positive counts as "nowhere near the top" for a corpus of ``n_docs``."""
    return int(params.far_rank or np.clip(n_docs // 100, 10, 100))


def _group_of(groups: PassageGroups, doc: int) -> tuple[str, int]:
    t = int(groups.translation_group[doc])
    return ("t", t) if t >= 0 else ("c", int(groups.copy_group[doc]))


def label_audit(
    task: Task,
    profiles: Mapping[str, RankedProfile],
    groups: PassageGroups,
    *,
    params: AuditParams = AuditParams(),
) -> pd.DataFrame:
    """One row per flagged query, sorted by confidence (highest first), with the evidence."""
    far = far_rank(task.n_docs, params)
    relevant = expanded_qrels(task, groups, mode="translations" if groups.translations_known else "copies")
    dense = profiles.get("dense")
    rows = []
    for qi, qid in enumerate(task.query_ids):
        positive = task.first_positive(qid)
        if positive is None:
            continue
        docs = [task.doc_index[d] for d in relevant.get(qid, ())]
        best = {name: min(p.rank_info(qi, d).rank for d in docs) for name, p in profiles.items()}
        if min(best.values()) <= far:
            continue
        tops = {name: int(p.top(qi, 1)[0]) for name, p in profiles.items()}
        votes = Counter(_group_of(groups, d) for d in tops.values())
        majority, count = votes.most_common(1)[0]
        agreement = count / len(tops)
        if agreement < params.min_agreement:
            continue
        candidate = next(d for d in tops.values() if _group_of(groups, d) == majority)
        distance = math.log10(min(best.values())) / math.log10(max(task.n_docs, 10))
        if dense is not None:
            margin_value = float(dense.scores[qi, candidate] - max(dense.scores[qi, d] for d in docs))
            margin = float(np.clip(margin_value / params.margin_scale, 0.0, 1.0))
        else:
            margin_value, margin = float("nan"), 0.0
        rows.append(
            {
                "query_id": qid,
                "query_text": task.query_texts[qi],
                "positive_id": positive,
                "candidate_id": task.doc_ids[candidate],
                "confidence": round((agreement + min(distance, 1.0) + margin) / 3, 4),
                "agreement": agreement,
                "best_relevant_rank": min(best.values()),
                **{f"best_rank_{name}": r for name, r in best.items()},
                "dense_margin": margin_value,
            }
        )
    columns = ["query_id", "query_text", "positive_id", "candidate_id", "confidence", "agreement", "best_relevant_rank"]
    frame = pd.DataFrame(rows, columns=[*columns, *[f"best_rank_{n}" for n in profiles], "dense_margin"])
    return frame.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)
