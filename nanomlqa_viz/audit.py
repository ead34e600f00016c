"""Label audit: why no vote ranks a query's positive in its top 10 — the label, or the retriever.

Every query whose labelled positive no *vote* ranks within :func:`far_rank` (the top 10, where
hit@10 would count it; a positive in a block of tied scores counts by the block's last rank)
gets exactly one :class:`Verdict` and its evidence (:func:`audit_verdicts`). Votes are
independent profiles — BM25, a dense model, a user's run — never a fusion of them: a hybrid
fused from BM25 and dense would count their agreement twice, so a profile that says it is fused
(:func:`is_fused`) is refused.

The evidence comes from scores, texts and embeddings, never from ids:

- **question z** (``positive_z``, ``candidate_z``, ``top_z``): the dense model's question–passage
  cosine, standardised among the distinct passages *of that passage's language*. A small
  multilingual encoder scores every passage in the question's language higher, so a raw cosine
  says more about the language than about the content; within one language a passage that
  answers the question stands out by several standard deviations and a random one does not.
  (Without languages, one pool.) ``top_z`` is the highest; the *candidate* shown is the passage
  a vote ranks in its top ``found_depth`` with the highest question z, unless another one's is
  ``candidate_slack`` higher (then that one).
- **specificity**: a question singles out a passage when its best match reaches
  :func:`specific_z` — sqrt(2 ln n) for n distinct texts (the expected largest of n standard
  normal values) minus ``specific_below_max``; below it many passages score alike.
- **pair z**: two passages' embedding cosine, standardised among the first one's cosines to the
  second one's language. A *parallel version* (the same paragraph in another language) is, both
  ways, within ``parallel_slack`` of the best match in the other's language and at least
  ``parallel_z``: on the replica's dev truth (ar/de/en/es pairs among the votes' top 20) that is
  precision 1.00, recall 0.96. It finds the versions the translation detector missed; its
  groups (exact copies, detected translations) count too, but nothing needs them complete.
- **topic z** (``topic_z``): the positive's closest relation to the passages the votes found — their
  top ``topic_depth`` that match the question (question z ≥ ``found_z``; BM25's best passages for a
  question it cannot match are chance) — as the mean of the pair z both ways (:meth:`_Space.mutual_z`):
  high when the votes found the positive's article or a version of it. One way alone would count
  *hubs*, passages close to every passage, as on every topic.
- **shared terms**: numbers (:func:`~nanomlqa_viz.translations.number_tokens`, any script's
  digits) and Latin-script names (:func:`~nanomlqa_viz.translations.latin_names`) the question
  and the positive share.
- **agreeing queries**: other queries that retrieve the same passages (``agree_overlap`` of their
  ``agree_depth`` best passages by question z in common) and whose positive is a version of this
  one or on its topic (pair z ≥ ``agree_topic_z`` both ways). MLQA asks one question in several
  languages against several languages' contexts; labels that agree with each other are not one
  random error. This cannot see an error made the same way for all of them.

Verdicts, first match wins:

1. ``PARALLEL_FIRST``: a copy, detected translation or parallel version of the positive is in a
   vote's top ``found_depth`` and matches the question (question z ≥ ``found_z``; a version
   ranked high by chance — a tiny corpus, one common word — does not count) — found, just not
   under the labelled id. Candidate: that passage.
2. ``LABEL_WRONG``: the positive does not match the question while the best match does. The
   evidence adds up in ``wrong_score`` = (``top_z`` − specific z) + ``positive_weight`` ·
   (``wrong_positive_z`` − ``positive_z``) + ``topic_weight`` · (``wrong_topic_z`` − ``topic_z``)
   ≥ 0: a best match that barely singles out a passage needs a positive further from the
   question and from what the votes found. Never when the positive stands out above
   ``max_positive_z`` in its language, is within ``max_topic_z`` of a passage the votes rank
   high, shares a number or name with the question, or has an agreeing query; and the best
   match must reach sqrt(2 ln n) − ``wrong_below_max`` and beat the positive by ``min_margin``.
3. ``UNDERSPECIFIED``: the question's best match stays below the specific z: the question leans
   on a context it does not name ("this work", "the building") and many passages score alike.
4. ``RETRIEVER_MISS``: none of the above — a specific question, a plausible label, not found.

``confidence`` grades the evidence for the verdict given, in [0.5, 1]: for ``LABEL_WRONG``
``wrong_score`` / 3, for ``UNDERSPECIFIED`` how far below the specific z, for a parallel version
its pair z above ``parallel_z``; copies and detected translations 1, ``RETRIEVER_MISS`` 0.5.
Without a dense profile only copies and detected translations can be told (the rest is
``RETRIEVER_MISS`` with confidence 0); without passage embeddings there is no pair z (no
undetected versions, no topic z, agreeing queries by the groups alone).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import PassageGroups
from nanomlqa_viz.task import Task
from nanomlqa_viz.translations import latin_names, number_tokens

AUDIT_VERSION = "verdicts-2"  # changes whenever the same inputs could get other verdicts (cache keys)
UNKNOWN_LANGUAGES = frozenset({"", "und"})


class Verdict(Enum):
    """Why no vote ranks a positive in its top 10. The value is the label shown to people."""

    LABEL_WRONG = "label looks wrong"
    PARALLEL_FIRST = "a parallel passage or copy ranks first"
    UNDERSPECIFIED = "question does not identify its passage"
    RETRIEVER_MISS = "retriever miss"


@dataclass(frozen=True)
class AuditParams:
    far_rank: int = 10  # audited: the labelled positive beyond this rank in every vote
    found_depth: int = 10  # a version of the positive this high in a vote ...
    found_z: float = 1.5  # ... that matches the question this well in its language: PARALLEL_FIRST
    candidate_slack: float = 0.5  # shown candidate: the best match among the votes' top found_depth, if this close
    topic_depth: int = 10  # each vote's top passages the positive is compared with
    parallel_z: float = 2.5  # a parallel version: pair z both ways at least this ...
    parallel_slack: float = 0.3  # ... and within this of each side's best match in the other's language
    agree_depth: int = 20  # best passages per query compared for agreeing queries ...
    agree_overlap: float = 0.3  # ... this share of them in common ...
    agree_topic_z: float = 3.0  # ... and positives that are versions or have this pair z both ways
    specific_below_max: float = 0.6  # specific: the best match reaches sqrt(2 ln n_texts) minus this
    wrong_positive_z: float = 1.5  # wrong_score's reference for the positive's question z ...
    positive_weight: float = 0.5  # ... and its weight
    wrong_topic_z: float = 2.5  # wrong_score's reference for the positive's topic z ...
    topic_weight: float = 1.0  # ... and its weight
    max_positive_z: float = 2.25  # a positive standing out more in its language is never called wrong
    max_topic_z: float = 3.5  # ... nor one this close to a passage the votes rank high
    min_margin: float = 1.5  # LABEL_WRONG: the best match beats the positive by this question z ...
    wrong_below_max: float = 1.0  # ... and reaches sqrt(2 ln n_texts) minus this
    min_language_rows: int = 30  # languages with fewer distinct texts share one pool
    pair_block: int = 128  # passages whose cosine statistics are computed in one matrix product


def far_rank(params: AuditParams = AuditParams()) -> int:
    """The rank beyond which a positive counts as not found: audited when every vote ranks it lower.

    The top 10, whatever the corpus size: a wrong label points at a passage unrelated to the
    question, and a small multilingual encoder ranks a random passage of the question's own
    language in the top 1% of a 10,000-passage corpus often enough that a wider window would
    leave such labels unaudited.
    """
    return int(params.far_rank)


def specific_z(n_texts: int, params: AuditParams = AuditParams()) -> float:
    """The question z a best match must reach for the question to single out a passage among ``n_texts``.

    sqrt(2 ln n) is the expected largest of n standard normal values; cosine z-scores have
    lighter tails, so a best match that does not clear it stands out no more than chance would.
    The split's 3,373 distinct texts: 4.03 − 0.6 = 3.43; the demo's 350: 2.82.
    """
    return math.sqrt(2 * math.log(max(n_texts, 2))) - params.specific_below_max


def is_fused(profile: RankedProfile) -> bool:
    """True for a profile built from other profiles' rankings (the hybrid: RRF of BM25 and dense)."""
    return profile.secondary is not None or "inputs" in profile.description


def vote_top(vote: RankedProfile, qi: int, k: int) -> np.ndarray:
    """A vote's best ``k`` passages for query ``qi`` that score above its lowest score (not the tail of ties)."""
    top = vote.top(qi, k)
    row = vote.scores[qi]
    return top[row[top] > row.min()]


# ----------------------------------------------------------------------------- passage space


class _Space:
    """Distinct passage texts (rows), their language pools and embeddings; z-scores within a language."""

    def __init__(
        self,
        *,
        row_of_doc: np.ndarray,
        embeddings: np.ndarray | None,
        doc_lang: Sequence[str] | None,
        params: AuditParams,
    ) -> None:
        self.row_of_doc = np.asarray(row_of_doc, dtype=np.int64)
        n_rows = int(self.row_of_doc.max()) + 1 if len(self.row_of_doc) else 0
        first = np.full(n_rows, len(self.row_of_doc), dtype=np.int64)
        np.minimum.at(first, self.row_of_doc, np.arange(len(self.row_of_doc)))
        self.first_doc = first
        self.embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float32)
        names = [doc_lang[d] for d in first] if doc_lang is not None else [""] * n_rows
        counts = Counter(names)
        pooled = [n if n not in UNKNOWN_LANGUAGES and counts[n] >= params.min_language_rows else "" for n in names]
        self.known = np.array([n != "" for n in pooled], dtype=bool)  # a real language: same language, no translation
        _, self.lang = np.unique(np.asarray(pooled, dtype=object), return_inverse=True)
        self.lang = self.lang.astype(np.int64)
        self.n_lang = int(self.lang.max()) + 1 if n_rows else 0
        self._members = [np.flatnonzero(self.lang == lang) for lang in range(self.n_lang)]
        self._stats: dict[int, np.ndarray] = {}  # row -> (3, n_lang): mean, std, best cosine per language
        self._block = params.pair_block

    @property
    def n_rows(self) -> int:
        return len(self.first_doc)

    def standardise(self, values: np.ndarray) -> np.ndarray:
        """``values`` (..., n_rows) as z-scores among the rows of each row's language (last axis)."""
        values = np.asarray(values, dtype=np.float64)
        out = np.empty_like(values)
        for cols in self._members:
            part = values[..., cols]
            mean = part.mean(axis=-1, keepdims=True)
            std = part.std(axis=-1, keepdims=True)
            out[..., cols] = (part - mean) / np.maximum(std, 1e-9)
        return out

    def prefetch(self, rows) -> None:
        """Each row's cosine statistics per language (the row itself left out), for many rows at once.

        One matrix product per block of rows instead of one pass over every embedding per row: the
        statistics are all a pair z needs, and they are kept (a few numbers per row).
        """
        todo = sorted({int(r) for r in rows} - self._stats.keys())
        for start in range(0, len(todo), self._block):
            block = np.asarray(todo[start : start + self._block], dtype=np.int64)
            cos = (self.embeddings[block] @ self.embeddings.T).astype(np.float64)
            cos[np.arange(len(block)), block] = np.nan
            stats = np.full((len(block), 3, self.n_lang), np.nan)
            for lang, cols in enumerate(self._members):
                part = cos[:, cols]
                valid = np.count_nonzero(~np.isnan(part), axis=1) >= 2
                if not valid.any():
                    continue
                with np.errstate(invalid="ignore"):
                    stats[valid, 0, lang] = np.nanmean(part[valid], axis=1)
                    stats[valid, 1, lang] = np.nanstd(part[valid], axis=1)
                    stats[valid, 2, lang] = np.nanmax(part[valid], axis=1)
            self._stats.update(zip(block.tolist(), stats))

    def _stats_of(self, row: int) -> np.ndarray:
        if row not in self._stats:
            self.prefetch([row])
        return self._stats[row]

    def z(self, a: int, b: int) -> float:
        """The pair z from ``a`` to ``b``: their cosine, standardised among ``a``'s cosines to ``b``'s language."""
        if a == b:
            return -math.inf
        mean, std, _ = self._stats_of(a)[:, self.lang[b]]
        if math.isnan(mean):
            return -math.inf
        return (float(self.embeddings[a] @ self.embeddings[b]) - mean) / max(std, 1e-9)

    def best_z(self, a: int, lang: int) -> float:
        """The highest pair z from ``a`` to a row of ``lang`` (``a`` itself left out)."""
        mean, std, best = self._stats_of(a)[:, lang]
        return -math.inf if math.isnan(mean) else (best - mean) / max(std, 1e-9)

    def mutual_z(self, a: int, b: int) -> float:
        """The mean of the pair z from ``a`` to ``b`` and from ``b`` to ``a``.

        A hub (a passage close to every passage) is near ``a`` seen from ``a``, but ``a`` is one of
        many seen from the hub: the mean discounts it, as CSLS does in bitext mining.
        """
        return (self.z(a, b) + self.z(b, a)) / 2

    def pair_z(self, a: int, b: int) -> float:
        """The smaller of the pair z from ``a`` to ``b`` and from ``b`` to ``a``."""
        return min(self.z(a, b), self.z(b, a))

    def parallel_z(self, a: int, b: int, params: AuditParams) -> float | None:
        """The pair z of two rows that look like parallel versions of each other, else ``None``."""
        if a == b or self.embeddings is None or (self.known[a] and self.lang[a] == self.lang[b]):
            return None
        zab, zba = self.z(a, b), self.z(b, a)
        if min(zab, zba) < params.parallel_z:
            return None
        if (
            zab < self.best_z(a, self.lang[b]) - params.parallel_slack
            or zba < self.best_z(b, self.lang[a]) - params.parallel_slack
        ):
            return None
        return float(min(zab, zba))


# ----------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class _Version:
    doc: int
    rank: int
    kind: str  # copy / translation / parallel
    pair_z: float  # inf for copies and detected translations


def _version(groups: PassageGroups, space: _Space, positive: int, doc: int, params: AuditParams) -> tuple[str, float] | None:
    """How ``doc`` is a version of ``positive``: (copy | translation | parallel, pair z), else ``None``."""
    if groups.copy_group[doc] == groups.copy_group[positive]:
        return "copy", math.inf
    group = groups.translation_group[positive]
    if group >= 0 and groups.translation_group[doc] == group:
        return "translation", math.inf
    z = space.parallel_z(int(space.row_of_doc[positive]), int(space.row_of_doc[doc]), params)
    return None if z is None else ("parallel", z)


def _first_version(
    tops: Sequence[np.ndarray],
    positives: Sequence[int],
    groups: PassageGroups,
    space: _Space,
    qz: np.ndarray | None,
    params: AuditParams,
) -> _Version | None:
    """The best-ranked version of a positive among the votes' top ``found_depth`` passages that match the question."""
    best: _Version | None = None
    for top in tops:
        for rank, doc in enumerate(top[: params.found_depth].tolist(), start=1):
            if best is not None and rank >= best.rank:
                break
            if qz is not None and qz[space.row_of_doc[doc]] < params.found_z:
                continue  # ranked high by chance (a tiny corpus, a common word), not found
            kind = next((k for p in positives if (k := _version(groups, space, p, doc, params)) is not None), None)
            if kind is not None:
                best = _Version(doc=doc, rank=rank, kind=kind[0], pair_z=kind[1])
                break
    return best


def _shared_terms(question: str, passage: str) -> list[str]:
    return sorted(number_tokens(question) & number_tokens(passage)) + sorted(latin_names(question) & latin_names(passage))


def _clip01(x: float) -> float:
    return float(np.clip(x, 0.0, 1.0))


class _Agreement:
    """Each query's ``agree_depth`` best passages by question z, and the overlaps between queries."""

    def __init__(self, qz_rows, n_queries: int, space: _Space, params: AuditParams):
        from scipy import sparse

        depth = min(params.agree_depth, space.n_rows)
        rows, cols = [], []
        for qi in range(n_queries):
            best = np.argpartition(-qz_rows(qi), depth - 1)[:depth] if depth > 0 else np.zeros(0, dtype=np.int64)
            rows.extend([qi] * len(best))
            cols.extend(best.tolist())
        self.matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_queries, space.n_rows))
        self.need = params.agree_overlap * max(depth, 1)

    def neighbours(self, qi: int) -> np.ndarray:
        """Other queries sharing at least ``agree_overlap`` of ``qi``'s best passages."""
        shared = (self.matrix[qi] @ self.matrix.T).toarray().ravel()
        shared[qi] = 0
        return np.flatnonzero(shared >= self.need - 1e-6)


# ----------------------------------------------------------------------------- verdicts

_COLUMNS = (
    "query_id", "query_text", "positive_id", "verdict", "verdict_label", "confidence", "candidate_id", "candidate_kind",
    "candidate_rank",
)  # fmt: skip
_EVIDENCE = (
    "wrong_score", "positive_z", "candidate_z", "top_z", "specific_z", "topic_z", "version_pair_z",
    "positive_cosine", "candidate_cosine", "shared_terms", "agreeing_queries",
)  # fmt: skip


def audit_verdicts(
    task: Task,
    *,
    votes: Mapping[str, RankedProfile],
    dense: RankedProfile | None,
    groups: PassageGroups,
    passage_embeddings: np.ndarray | None = None,
    row_of_doc: np.ndarray | None = None,
    doc_lang: Sequence[str] | None = None,
    params: AuditParams = AuditParams(),
) -> pd.DataFrame:
    """One row per query whose positive no vote ranks within :func:`far_rank`: its verdict and evidence.

    ``votes``: independent profiles (a fused one raises ``ValueError``). ``dense``: a profile
    whose scores are question–passage cosines (it may be a vote too). ``passage_embeddings``:
    L2-normalised, one row per distinct text of the model ``dense`` scores with, ``row_of_doc``
    mapping documents to rows (without it, one row per document). ``doc_lang``: each document's
    language, detected from its text (ISO code; "" or "und" unknown), to standardise within
    languages. Columns: query_id, query_text, positive_id, verdict (a :class:`Verdict` name),
    verdict_label, confidence, candidate_id, candidate_kind (copy / translation / parallel /
    best match), candidate_rank (its best rank in any vote), ``best_rank_<vote>`` (the positive's;
    a score tied with others counts as the last rank of the tie, so a zero BM25 score is not "rank 2"),
    then the evidence (see the module docstring); sorted by verdict, then confidence, highest first.
    """
    if not votes:
        raise ValueError("the audit needs at least one vote (an independent profile)")
    fused = [name for name, profile in votes.items() if is_fused(profile)]
    if fused:
        raise ValueError(f"{', '.join(fused)}: fused from other profiles, so not an independent vote")
    if passage_embeddings is not None and row_of_doc is None:
        if len(passage_embeddings) != task.n_docs:
            raise ValueError("passage_embeddings has one row per distinct text: pass row_of_doc too")
        row_of_doc = np.arange(task.n_docs)
    space = _Space(
        row_of_doc=row_of_doc if row_of_doc is not None else groups.copy_group,
        embeddings=passage_embeddings,
        doc_lang=doc_lang,
        params=params,
    )
    far = far_rank(params)
    specific = specific_z(space.n_rows, params)

    def qz_row(qi: int) -> np.ndarray:
        return space.standardise(dense.scores[qi, space.first_doc])

    agreement = _Agreement(qz_row, task.n_queries, space, params) if dense is not None else None
    positives_of = [sorted(task.doc_index[d] for d in task.positives(q)) for q in task.query_ids]
    audited: dict[int, dict] = {}
    for qi in range(task.n_queries):
        if positives_of[qi]:
            ranks = {name: [vote.rank_info(qi, p) for p in positives_of[qi]] for name, vote in votes.items()}
            if min(info.tie_last for infos in ranks.values() for info in infos) > far:
                audited[qi] = ranks
    if space.embeddings is not None:  # the rows every pair z below starts from, in a few matrix products
        depth = max(params.found_depth, params.topic_depth)
        needed = {d for qi in audited for d in positives_of[qi]}
        needed |= {int(d) for qi in audited for vote in votes.values() for d in vote_top(vote, qi, depth)}
        space.prefetch(space.row_of_doc[sorted(needed)])
    rows = []
    for qi, ranks in audited.items():
        positives = positives_of[qi]
        evidence = _Evidence(task, qi, positives, votes, dense, groups, space, params)
        row = evidence.row(
            qz=qz_row(qi) if dense is not None else None,
            agreeing=_agreeing(task, qi, positives_of, agreement, groups, space, params),
            specific=specific,
        )
        rows.append({**row, **{f"best_rank_{name}": min(i.tie_last for i in infos) for name, infos in ranks.items()}})
    columns = [*_COLUMNS, *[f"best_rank_{name}" for name in votes], *_EVIDENCE]
    frame = pd.DataFrame(rows, columns=columns)
    order = frame["verdict"].map({v.name: i for i, v in enumerate(Verdict)})
    frame = frame.assign(_order=order).sort_values(["_order", "confidence"], ascending=[True, False], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _agreeing(
    task: Task,
    qi: int,
    positives_of: Sequence[Sequence[int]],
    agreement: _Agreement | None,
    groups: PassageGroups,
    space: _Space,
    params: AuditParams,
) -> list[str]:
    """Other queries that retrieve the same passages and whose positive is a version of this one or on its topic."""
    if agreement is None:
        return []
    out = []
    for qj in agreement.neighbours(qi):
        if any(_related(groups, space, a, b, params) for a in positives_of[qi] for b in positives_of[qj]):
            out.append(task.query_ids[qj])
    return out


def _related(groups: PassageGroups, space: _Space, a: int, b: int, params: AuditParams) -> bool:
    if _version(groups, space, a, b, params) is not None:
        return True
    ra, rb = int(space.row_of_doc[a]), int(space.row_of_doc[b])
    return space.embeddings is not None and space.pair_z(ra, rb) >= params.agree_topic_z


@dataclass(frozen=True, eq=False)
class _Evidence:
    task: Task
    qi: int
    positives: list[int]
    votes: Mapping[str, RankedProfile]
    dense: RankedProfile | None
    groups: PassageGroups
    space: _Space
    params: AuditParams

    def row(self, *, qz: np.ndarray | None, agreeing: list[str], specific: float) -> dict[str, object]:
        task, qi, space, params = self.task, self.qi, self.space, self.params
        question = task.query_texts[qi]
        p_rows = [int(space.row_of_doc[p]) for p in self.positives]
        tops = [vote_top(vote, qi, max(params.found_depth, params.topic_depth)) for vote in self.votes.values()]
        version = _first_version(tops, self.positives, self.groups, space, qz, params)
        if version is not None:
            candidate = version.doc
        elif qz is not None:
            candidate = self._best_match(qz, [int(d) for top in tops for d in top[: params.found_depth]])
        else:
            candidate = int(next(iter(self.votes.values())).top(qi, 1)[0])
        nan = float("nan")
        positive_z = float(max(qz[r] for r in p_rows)) if qz is not None else nan
        candidate_z = float(qz[space.row_of_doc[candidate]]) if qz is not None else nan
        topic_z = nan
        if space.embeddings is not None:
            near = {int(space.row_of_doc[d]) for top in tops for d in top[: params.topic_depth]}
            if qz is not None:  # found, not ranked high by chance: what the votes found matches the question
                near = {n for n in near if qz[n] >= params.found_z}
            topic_z = max((space.mutual_z(r, n) for r in p_rows for n in near - set(p_rows)), default=nan)
        top_z = float(qz.max()) if qz is not None else nan
        wrong_score = (top_z - specific) + params.positive_weight * (params.wrong_positive_z - positive_z)
        if not math.isnan(topic_z):
            wrong_score += params.topic_weight * (params.wrong_topic_z - topic_z)
        shared = sorted({t for p in self.positives for t in _shared_terms(question, task.doc_texts[p])})
        evidence = {
            "wrong_score": wrong_score,
            "positive_z": positive_z,
            "candidate_z": candidate_z,
            "top_z": top_z,
            "specific_z": specific,
            "topic_z": topic_z,
            "version_pair_z": version.pair_z if version is not None and version.kind == "parallel" else nan,
            "positive_cosine": float(max(self.dense.scores[qi, p] for p in self.positives)) if self.dense else nan,
            "candidate_cosine": float(self.dense.scores[qi, candidate]) if self.dense is not None else nan,
            "shared_terms": ", ".join(shared),
            "agreeing_queries": ", ".join(agreeing),
        }
        verdict, confidence = _verdict(version, evidence, specific=specific, params=params)
        return {
            "query_id": task.query_ids[qi],
            "query_text": question,
            "positive_id": task.doc_ids[self.positives[0]],
            "verdict": verdict.name,
            "verdict_label": verdict.value,
            "confidence": round(confidence, 4),
            "candidate_id": task.doc_ids[candidate],
            "candidate_kind": version.kind if version is not None else "best match",
            "candidate_rank": self._best_rank(candidate),
            **evidence,
        }

    def _best_match(self, qz: np.ndarray, near: list[int]) -> int:
        """The passage the votes rank in their top ``found_depth`` that matches the question best, unless one
        outside matches it by ``candidate_slack`` more (then that one: of its copies, the one a vote ranks best)."""
        space, params = self.space, self.params
        best_row = int(np.argmax(qz))
        if near:
            ranked = max(near, key=lambda d: qz[space.row_of_doc[d]])
            if qz[space.row_of_doc[ranked]] >= qz[best_row] - params.candidate_slack:
                return ranked
        copies = np.flatnonzero(space.row_of_doc == best_row)
        return int(min(copies, key=lambda d: self._best_rank(int(d))))

    def _best_rank(self, doc: int) -> int:
        return min(vote.rank_info(self.qi, doc).rank for vote in self.votes.values())


def _verdict(version: _Version | None, e: Mapping[str, object], *, specific: float, params: AuditParams) -> tuple[Verdict, float]:
    """The verdict and its confidence (see the module docstring)."""
    if version is not None:
        if version.kind == "parallel":
            return Verdict.PARALLEL_FIRST, 0.5 + 0.5 * _clip01((version.pair_z - params.parallel_z) / 2)
        return Verdict.PARALLEL_FIRST, 1.0
    pz, top, topic, score = (float(e[k]) for k in ("positive_z", "top_z", "topic_z", "wrong_score"))
    if math.isnan(pz):
        return Verdict.RETRIEVER_MISS, 0.0
    floor = specific + params.specific_below_max - params.wrong_below_max  # sqrt(2 ln n) - wrong_below_max
    if (
        score >= 0
        and pz <= params.max_positive_z
        and (math.isnan(topic) or topic < params.max_topic_z)
        and top >= floor
        and top - pz >= params.min_margin
        and not e["shared_terms"]
        and not e["agreeing_queries"]
    ):
        return Verdict.LABEL_WRONG, 0.5 + 0.5 * _clip01(score / 3)
    if top < specific:
        return Verdict.UNDERSPECIFIED, 0.5 + 0.5 * _clip01(specific - top)
    return Verdict.RETRIEVER_MISS, 0.5


def label_wrong(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The ``LABEL_WRONG`` rows of :func:`audit_verdicts` (query_id, confidence, candidate_id), most confident first."""
    rows = verdicts[verdicts["verdict"] == Verdict.LABEL_WRONG.name]
    rows = rows.sort_values("confidence", ascending=False, kind="stable")
    return rows[["query_id", "confidence", "candidate_id"]].reset_index(drop=True)


def failure_kinds(verdicts: pd.DataFrame) -> dict[str, int]:
    """How many audited queries got each verdict: every :class:`Verdict` name, zeros included."""
    counts = Counter(verdicts["verdict"])
    return {v.name: int(counts.get(v.name, 0)) for v in Verdict}
