"""Per-query facts every page and the CLI share: languages, scripts, where positives rank.

The shown positive of a query is its smallest relevant id (MLQA has exactly one). Metrics
use every relevant document. Ranks of computed profiles are over the whole corpus (see
:mod:`nanomlqa_viz.ranking` for the tie policy); ranks of partial profiles (the dataset's
candidate subsets, run files) are positions in their lists, empty when the positive is not
listed (an injected 101st entry does not count) — its tie interval then spans the unlisted
block below the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.languages import DETECTOR_VERSION as LANGUAGE_DETECTOR_VERSION
from nanomlqa_viz.metrics import METRIC_KEYS, mean_metrics, query_metrics, ranking_metrics
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.task import Task

_LANGUAGE_FIELDS = ("query_lang", "query_script", "doc_lang", "doc_script")


@dataclass(frozen=True, eq=False)
class TextLanguages:
    """Detected language (ISO 639-1) and dominant script of every query and passage."""

    query_lang: tuple[str, ...]
    query_script: tuple[str, ...]
    doc_lang: tuple[str, ...]
    doc_script: tuple[str, ...]


def detect_task_languages(task: Task, *, cache: ArrayCache, fingerprint: str) -> TextLanguages:
    """Languages from the texts alone (never from ids), detected once per distinct text, cached."""
    name = f"languages/{fingerprint}"
    key = {"task": fingerprint, "detector": LANGUAGE_DETECTOR_VERSION}
    cached = cache.load(name, key=key)
    if cached is not None and len(cached.get("doc_lang", ())) == task.n_docs:
        return TextLanguages(*(tuple(str(x) for x in cached[k]) for k in _LANGUAGE_FIELDS))
    from nanomlqa_viz.languages import detect_languages, script_of

    distinct = list(dict.fromkeys((*task.doc_texts, *task.query_texts)))
    langs = dict(zip(distinct, detect_languages(distinct)))
    scripts = {t: script_of(t) for t in distinct}
    result = TextLanguages(
        query_lang=tuple(langs[t] for t in task.query_texts),
        query_script=tuple(scripts[t] for t in task.query_texts),
        doc_lang=tuple(langs[t] for t in task.doc_texts),
        doc_script=tuple(scripts[t] for t in task.doc_texts),
    )
    cache.save(name, key=key, arrays={k: np.array(getattr(result, k), dtype=str) for k in _LANGUAGE_FIELDS})
    return result


def positive_doc_indices(task: Task, qrels: Mapping[str, frozenset[str]] | None = None) -> list[list[int]]:
    """Per query, the corpus indices of its relevant documents (``qrels`` defaults to the task's)."""
    qrels = task.qrels if qrels is None else qrels
    return [[task.doc_index[d] for d in sorted(qrels.get(q, ()))] for q in task.query_ids]


def profile_query_metrics(
    task: Task, profile: RankedProfile, *, qrels: Mapping[str, frozenset[str]] | None = None
) -> pd.DataFrame:
    """Per-query metrics (rows: query ids, columns: :data:`METRIC_KEYS`) with ties broken by corpus id.

    A passage a partial profile does not list is not retrieved (as trec_eval and the published
    figures count it); a query the profile does not cover scores 0.
    """
    rows = []
    for qi, docs in enumerate(positive_doc_indices(task, qrels)):
        ranks = sorted(r for d in docs if (r := profile.retrieved_rank(qi, d)) is not None)
        rows.append(query_metrics(ranks, len(docs)))
    return pd.DataFrame(rows, index=pd.Index(task.query_ids, name="query_id"), columns=list(METRIC_KEYS))


def reference_query_metrics(task: Task, config: str, *, qrels: Mapping[str, frozenset[str]] | None = None) -> pd.DataFrame:
    """Per-query metrics of one of the dataset's candidate subsets (real ranks only)."""
    per_query = ranking_metrics(task.candidates[config].lists, task.qrels if qrels is None else qrels, task.query_ids)
    return pd.DataFrame.from_dict(per_query, orient="index", columns=list(METRIC_KEYS)).rename_axis("query_id")


def summary_metrics(per_query: pd.DataFrame) -> dict[str, float]:
    return mean_metrics(per_query.to_dict("records"))


def query_table(
    task: Task,
    languages: TextLanguages,
    profiles: Mapping[str, RankedProfile],
) -> pd.DataFrame:
    """One row per query: text, languages, scripts, the positive, its rank in every profile."""
    pos_idx = [task.doc_index[p] if (p := task.first_positive(q)) is not None else -1 for q in task.query_ids]
    frame = pd.DataFrame(
        {
            "query_id": task.query_ids,
            "query_text": task.query_texts,
            "query_lang": languages.query_lang,
            "query_script": languages.query_script,
            "positive_id": [task.doc_ids[i] if i >= 0 else "" for i in pos_idx],
            "positive_lang": [languages.doc_lang[i] if i >= 0 else "" for i in pos_idx],
            "positive_script": [languages.doc_script[i] if i >= 0 else "" for i in pos_idx],
            "n_positives": [len(task.positives(q)) for q in task.query_ids],
        }
    )
    frame["pair"] = frame["query_lang"] + "→" + frame["positive_lang"]
    frame["script_relation"] = np.where(frame["query_script"] == frame["positive_script"], "same", "different")
    for name, profile in profiles.items():
        infos = [profile.rank_info(qi, i) if i >= 0 and profile.covers(qi) else None for qi, i in enumerate(pos_idx)]
        listed = [info is not None and profile.listed(qi, i) for qi, (i, info) in enumerate(zip(pos_idx, infos))]
        frame[f"rank_{name}"] = pd.array([r.rank if r and ok else None for r, ok in zip(infos, listed)], dtype="Int64")
        frame[f"score_{name}"] = [r.score if r and ok and profile.scored else np.nan for r, ok in zip(infos, listed)]
        frame[f"ties_{name}"] = pd.array([r.ties if r else None for r in infos], dtype="Int64")
        frame[f"tie_first_{name}"] = pd.array([r.tie_first if r else None for r in infos], dtype="Int64")
        frame[f"tie_last_{name}"] = pd.array([r.tie_last if r else None for r in infos], dtype="Int64")
    return frame
