"""Relevance modes: strict qrels, + exact copies of the positive, + its parallel passages.

The split's qrels mark one copy of each positive, while the corpus holds exact copies of it
under other ids and its parallel versions in other languages. The three modes count as
relevant, for each query:

- ``strict``: the qrels as published;
- ``copies``: also every passage whose normalised text (NFKC, whitespace collapsed) equals a
  positive's;
- ``parallel``: also every *parallel passage* of a positive — a version of the positive's
  paragraph in another language that carries the same answer sentence, detected from text
  (see :mod:`nanomlqa_viz.translations`) — and the exact copies of those.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from nanomlqa_viz.task import Task


class RelevanceMode(StrEnum):
    STRICT = "strict"
    COPIES = "copies"
    PARALLEL = "parallel"


MODES: tuple[RelevanceMode, ...] = tuple(RelevanceMode)
MODE_LABELS = MappingProxyType(
    {
        RelevanceMode.STRICT: "strict qrels",
        RelevanceMode.COPIES: "+ exact copies",
        RelevanceMode.PARALLEL: "+ copies & parallel passages",
    }
)
_LEGACY_MODES = MappingProxyType({"translations": RelevanceMode.PARALLEL})  # older links and callers


def parse_mode(value: str) -> RelevanceMode:
    """A relevance mode from its value (``translations``, the former name of ``parallel``, is accepted)."""
    if value in _LEGACY_MODES:
        return _LEGACY_MODES[value]
    try:
        return RelevanceMode(value)
    except ValueError:
        raise ValueError(f"unknown relevance mode {value!r}; expected one of {', '.join(MODES)}") from None


_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The text two exact copies share: NFKC, whitespace runs collapsed to one space, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


@dataclass(frozen=True, eq=False)
class PassageGroups:
    """Which passages are copies of each other and which are translations of each other.

    ``copy_group[i]``: the copy group of document i (equal normalised texts share a group).
    ``translation_group[i]``: the translation group (copy groups joined by translation links,
    connected components), or -1 if no translation was detected/supplied.
    """

    copy_group: np.ndarray
    translation_group: np.ndarray
    translations_known: bool

    def copies_of(self, doc: int) -> np.ndarray:
        return np.flatnonzero(self.copy_group == self.copy_group[doc])

    def translations_of(self, doc: int) -> np.ndarray:
        """Documents in the same translation group but another copy group (other texts)."""
        group = self.translation_group[doc]
        if group < 0:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero((self.translation_group == group) & (self.copy_group != self.copy_group[doc]))


def copy_groups(texts: Sequence[str]) -> np.ndarray:
    ids: dict[str, int] = {}
    return np.fromiter((ids.setdefault(normalise_text(t), len(ids)) for t in texts), dtype=np.int64, count=len(texts))


def passage_groups(
    texts: Sequence[str],
    *,
    translation_pairs: Sequence[tuple[int, int]] | np.ndarray | None = None,
) -> PassageGroups:
    """Copy groups from the texts; translation groups from document-index pairs judged translations."""
    copy = copy_groups(texts)
    n_groups = int(copy.max()) + 1 if len(copy) else 0
    parent = list(range(n_groups))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked = np.zeros(n_groups, dtype=bool)
    if translation_pairs is not None:
        for a, b in np.asarray(translation_pairs, dtype=np.int64).reshape(-1, 2):
            ga, gb = int(copy[a]), int(copy[b])
            linked[ga] = linked[gb] = True
            ra, rb = find(ga), find(gb)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(g) if linked[g] else -1 for g in range(n_groups)], dtype=np.int64)
    translation = roots[copy] if n_groups else np.zeros(0, dtype=np.int64)
    return PassageGroups(copy_group=copy, translation_group=translation, translations_known=translation_pairs is not None)


def expanded_qrels(task: Task, groups: PassageGroups, *, mode: str) -> Mapping[str, frozenset[str]]:
    """The relevant passages of every query under ``mode`` (a :class:`RelevanceMode` or its value)."""
    mode = parse_mode(mode)
    if mode == RelevanceMode.STRICT:
        return task.qrels
    out: dict[str, frozenset[str]] = {}
    for qid, positives in task.qrels.items():
        docs: set[int] = set()
        for pid in positives:
            i = task.doc_index[pid]
            docs.update(groups.copies_of(i).tolist())
            if mode == RelevanceMode.PARALLEL:
                docs.update(groups.translations_of(i).tolist())
        out[qid] = frozenset(task.doc_ids[d] for d in docs)
    return MappingProxyType(out)
