"""Label audit on the demo: positives swapped for passages of another article are flagged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from nanomlqa_viz.audit import label_audit
from nanomlqa_viz.relevance import passage_groups

TRUTH = json.loads((Path(__file__).parent / "data" / "demo_ground_truth.json").read_text(encoding="utf-8"))


def _truth_pairs(task):
    first: dict[str, int] = {}
    pairs = []
    for i, d in enumerate(task.doc_ids):
        key = TRUTH["passages"][d]["paragraph"]
        if key in first:
            pairs.append((first[key], i))
        else:
            first[key] = i
    return pairs


def test_swapped_positives_are_flagged_first(demo_profiles):
    task, _, profiles = demo_profiles
    topics = {d: TRUTH["passages"][d]["topic"] for d in task.doc_ids}
    swapped = {}
    for qid in task.query_ids[:4]:
        (pos,) = task.qrels[qid]
        # a passage from another article, in the positive's language
        swapped[qid] = next(
            d
            for d in task.doc_ids
            if topics[d] != topics[pos]
            and TRUTH["passages"][d]["lang"] == TRUTH["passages"][pos]["lang"]
            and TRUTH["passages"][d]["copy_of"] is None
            and TRUTH["passages"][d]["topic"] != TRUTH["queries"][qid].get("topic", "")
        )
    qrels = dict(task.qrels)
    qrels.update({q: frozenset({d}) for q, d in swapped.items()})
    broken = replace(task, qrels=MappingProxyType(qrels))
    groups = passage_groups(task.doc_texts, translation_pairs=_truth_pairs(task))
    flagged = label_audit(broken, profiles, groups)
    assert set(swapped) <= set(flagged["query_id"]), flagged[["query_id", "confidence"]]
    honest = label_audit(task, profiles, groups)
    assert len(honest) < len(flagged)
    top = set(flagged["query_id"].head(len(swapped) + len(honest)))
    assert set(swapped) <= top, "the swapped positives rank among the most confident flags"
    row = flagged.set_index("query_id").loc[next(iter(swapped))]
    assert row["best_relevant_rank"] > 10 and 0 < row["confidence"] <= 1 and row["agreement"] >= 2 / 3
