"""The immutable task a source loads into: corpus, queries, qrels and candidate subsets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePath


def short_source_name(source: str) -> str:
    """What a person calls a source: ``demo``, a hub id as it is, a local folder by its last part (never its full path)."""
    if source == "demo" or ("/" in source and not source.startswith(("/", ".", "~")) and len(PurePath(source).parts) == 2):
        return source
    return PurePath(source.rstrip("/\\")).name or source


@dataclass(frozen=True)
class CandidateSubset:
    """One candidate-subset config: per query the corpus ids best first.

    ``lists`` holds only real ranks; an entry the dataset builder appended after the last
    real rank because it is the positive (the "101st entry") is kept apart in ``injected``.
    """

    config: str
    lists: Mapping[str, tuple[str, ...]]
    injected: Mapping[str, str]
    depth: int

    def ranking(self, query_id: str) -> tuple[str, ...]:
        return self.lists.get(query_id, ())


@dataclass(frozen=True, eq=False)
class Task:
    """Everything loaded from one source and split. Never mutated after loading."""

    source: str
    split: str
    source_kind: str  # "hub", "hub-mirror", "local" or "demo"
    doc_ids: tuple[str, ...]
    doc_texts: tuple[str, ...]
    query_ids: tuple[str, ...]
    query_texts: tuple[str, ...]
    qrels: Mapping[str, frozenset[str]]
    candidates: Mapping[str, CandidateSubset]
    warnings: tuple[str, ...] = ()
    notice: str | None = None  # e.g. "hub unreachable: showing the bundled demo"

    @cached_property
    def doc_index(self) -> Mapping[str, int]:
        return {doc_id: i for i, doc_id in enumerate(self.doc_ids)}

    @cached_property
    def query_index(self) -> Mapping[str, int]:
        return {query_id: i for i, query_id in enumerate(self.query_ids)}

    @property
    def n_queries(self) -> int:
        return len(self.query_ids)

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def n_qrels(self) -> int:
        return sum(len(v) for v in self.qrels.values())

    @cached_property
    def distinct_doc_texts(self) -> int:
        return len(set(self.doc_texts))

    def positives(self, query_id: str) -> frozenset[str]:
        return self.qrels.get(query_id, frozenset())

    def first_positive(self, query_id: str) -> str | None:
        """The positive shown for a query (the smallest id when there are several)."""
        pos = self.positives(query_id)
        return min(pos) if pos else None

    @property
    def label(self) -> str:
        return f"{self.source} [{self.split}]"

    @property
    def short_label(self) -> str:
        """The label shown on pages: the source's short name (a folder without its path) and the split."""
        return f"{short_source_name(self.source)} [{self.split}]"
