"""One pipeline: source → task → profiles → analysis → metrics, used by the app, the CLI, the benches and the tests.

A :class:`Pipeline` belongs to one source, split and cache folder. It loads the task once and
computes everything else on demand, each result memoised under a key that names everything it
depends on (task texts and ids, qrels, candidate subsets, each profile's own key — model identity
with version or revision, fusion parameters, a run file's bytes —, detector and analysis versions,
relevance mode). Pages and commands ask a :class:`View` — the pipeline with the profiles the user
chose and a relevance mode — and build no keys of their own, so a figure can never be served
from another mode, model or source.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from nanomlqa_viz.analysis import TextLanguages, detect_task_languages, profile_query_metrics, query_table
from nanomlqa_viz.cache import ArrayCache, fingerprint
from nanomlqa_viz.encoders import Progress
from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.explain import FailureAnalysis, StepProgress, failure_analysis
from nanomlqa_viz.fusion import FusionParams
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.profiles import (
    ProfileContext,
    bm25_profile,
    dense_profile,
    dense_profile_name,
    hybrid_profile,
    qrels_fingerprint,
    reference_profile,
    run_profile,
)
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.registry import ProfileKind, ProfileRegistry
from nanomlqa_viz.relevance import PassageGroups, RelevanceMode, expanded_qrels, parse_mode, passage_groups
from nanomlqa_viz.sources import DEMO_SEED_CACHE
from nanomlqa_viz.task import Task
from nanomlqa_viz.task_cache import load_task_cached
from nanomlqa_viz.tie_metrics import TieAwareMetrics, tie_aware_metrics

METRICS_VERSION = "2"
_MEMO_ENTRIES = 512


@dataclass(frozen=True, kw_only=True)
class RunFile:
    """A run the user brought: a file on disk (CLI, ``NANOMLQA_RUNS``) or an upload's bytes."""

    name: str
    file_label: str  # what the user sees: the file name, never a full path
    digest: str  # sha256 of the bytes: everything derived from the run is keyed by it
    path: str | None = None
    content: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_path(cls, *, name: str, path: str | Path) -> RunFile:
        path = Path(path).expanduser()
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise DatasetError(str(path), f"cannot read the run file ({exc.strerror or exc})") from None
        return cls(name=name, file_label=path.name, digest=digest.hexdigest(), path=str(path))

    @classmethod
    def from_upload(cls, *, name: str, file_label: str, content: bytes) -> RunFile:
        return cls(name=name, file_label=file_label, digest=hashlib.sha256(content).hexdigest(), content=content)


def source_signature(source: str) -> str:
    """What changes when a local source changes on disk: its files' names, sizes and modification times.

    The app keeps one pipeline per (source, split, cache folder, signature), so editing a local
    folder (new qrels, other candidate lists) gives a new pipeline instead of stale figures. A hub
    id's signature is the id itself (its mirror is written once and read as it is).
    """
    from nanomlqa_viz.sources import DEMO, DEMO_PATH

    folder = DEMO_PATH if source == DEMO else Path(source).expanduser()
    if not folder.is_dir():
        return source
    stamps = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "seed_cache" not in path.parts:
            stat = path.stat()
            stamps.append(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
        if len(stamps) >= 10_000:
            break
    return fingerprint(stamps)


class _Memo:
    """A bounded, thread-safe memo: each key computed once, even when two threads ask at once."""

    def __init__(self, max_entries: int = _MEMO_ENTRIES) -> None:
        self._values: OrderedDict[object, object] = OrderedDict()
        self._locks: dict[object, threading.Lock] = {}
        self._guard = threading.Lock()
        self._max = max_entries

    def get(self, key: object, compute: Callable[[], object]):
        with self._guard:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
                self._locks.pop(key, None)
                while len(self._values) > self._max:
                    self._values.popitem(last=False)
            return value

    def peek(self, key: object):
        with self._guard:
            return self._values.get(key)


class Pipeline:
    """Everything computed for one (source, split, cache folder), memoised by complete keys."""

    def __init__(self, *, source: str, split: str, cache_dir: str | Path, seeds: Sequence[Path] = (DEMO_SEED_CACHE,)) -> None:
        self.cache_dir = Path(cache_dir)
        self.cache = ArrayCache(self.cache_dir, seeds=tuple(seeds))
        self.task: Task = load_task_cached(source=source, split=split, cache_dir=self.cache_dir, cache=self.cache)
        self.ctx = ProfileContext.of(self.task, self.cache)
        self.qrels_key = qrels_fingerprint(self.task)
        self._memo = _Memo()

    # ------------------------------------------------------------------ task-level facts

    @cached_property
    def languages(self) -> TextLanguages:
        return detect_task_languages(self.task, cache=self.cache, fingerprint=self.ctx.fingerprint)

    @cached_property
    def languages_key(self) -> str:
        from nanomlqa_viz.analysis import LANGUAGE_DETECTOR_VERSION

        return fingerprint([self.ctx.fingerprint, LANGUAGE_DETECTOR_VERSION])

    @cached_property
    def copy_groups(self) -> PassageGroups:
        """Exact copies only (from the texts; cheap): the ``copies`` mode without any dense model."""
        return passage_groups(self.task.doc_texts)

    # ------------------------------------------------------------------ profiles

    @cached_property
    def bm25(self) -> RankedProfile:
        return bm25_profile(self.ctx)

    def dense(
        self, model: str, *, primary: bool, compute: bool = False, progress: Progress | None = None
    ) -> RankedProfile | None:
        """A dense model's profile from the cache; encoded (with ``progress``) only when ``compute``."""
        name = dense_profile_name(model, primary=primary)
        key = ("dense", model, name)
        found = self._memo.peek(key)
        if found is not None:
            return found
        if not compute:
            profile = dense_profile(self.ctx, model=model, only_cached=True, name=name)
            return None if profile is None else self._memo.get(key, lambda: profile)
        return self._memo.get(key, lambda: dense_profile(self.ctx, model=model, progress=progress, name=name))

    def hybrid(self, dense: RankedProfile, *, params: FusionParams = FusionParams()) -> RankedProfile:
        return self._memo.get(("hybrid", dense.key, params), lambda: hybrid_profile(self.ctx, self.bm25, dense, params=params))

    @cached_property
    def references(self) -> dict[str, RankedProfile]:
        profiles = [reference_profile(self.ctx, config) for config in self.task.candidates]
        return {p.name: p for p in profiles}

    def run(self, run: RunFile, *, allow_unknown_ids: bool = False) -> RankedProfile:
        """A run file as a profile (parsed once per file contents and name)."""
        from nanomlqa_viz.runs import load_run

        def compute() -> RankedProfile:
            loaded = load_run(
                run.content if run.content is not None else str(run.path),
                name=run.name,
                task=self.task,
                file_label=run.file_label,
                allow_unknown_ids=allow_unknown_ids,
            )
            return run_profile(self.ctx, loaded, digest=run.digest)

        return self._memo.get(("run", run.name, run.digest, allow_unknown_ids), compute)

    # ------------------------------------------------------------------ analysis

    def analysis(self, dense: RankedProfile | None, *, progress: StepProgress | None = None) -> FailureAnalysis:
        """Copies, parallel passages (with a dense profile), passage labels, BM25 reasons — disk-cached."""
        key = ("analysis", dense.key if dense is not None else None)
        return self._memo.get(
            key,
            lambda: failure_analysis(
                self.ctx,
                doc_langs=self.languages.doc_lang,
                languages_key=self.languages_key,
                bm25=self.bm25,
                dense=dense,
                qrels_key=self.qrels_key,
                progress=progress,
                doc_scripts=self.languages.doc_script,
            ),
        )

    def analysis_ready(self, dense: RankedProfile | None) -> bool:
        """Is the analysis already in memory (a page that needs it draws at once)?"""
        return self._memo.peek(("analysis", dense.key if dense is not None else None)) is not None

    # ------------------------------------------------------------------ views

    def view(
        self,
        *,
        dense_models: Sequence[str] = (),
        runs: Sequence[RunFile] = (),
        mode: RelevanceMode | str = RelevanceMode.STRICT,
        allow_unknown_ids: bool = False,
        fusion: FusionParams = FusionParams(),
    ) -> View:
        """The profiles the user chose, from what is cached (dense models not encoded yet are ``pending``)."""
        profiles: dict[str, RankedProfile] = {"bm25": self.bm25}
        kinds: dict[str, ProfileKind] = {}
        pending: list[str] = []
        errors: list[str] = []
        primary: RankedProfile | None = None
        for i, model in enumerate(dict.fromkeys(dense_models)):
            try:
                profile = self.dense(model, primary=i == 0)
            except DatasetError as exc:
                errors.append(str(exc))
                continue
            if profile is None:
                pending.append(model)
                continue
            profiles[profile.name] = profile
            primary = primary or (profile if i == 0 else None)
        if primary is not None:
            profiles["hybrid"] = self.hybrid(primary, params=fusion)
        for run in runs:
            try:
                profiles[run.name] = self.run(run, allow_unknown_ids=allow_unknown_ids)
                kinds[run.name] = ProfileKind.RUN
            except DatasetError as exc:
                errors.append(str(exc))
        profiles.update(self.references)
        return View(
            pipeline=self,
            registry=ProfileRegistry.of(profiles, kinds=kinds),
            primary_dense=primary,
            dense_models=tuple(dict.fromkeys(dense_models)),
            pending=tuple(pending),
            errors=tuple(errors),
            requested_mode=parse_mode(mode),
        )


@dataclass(frozen=True, eq=False)
class View:
    """The pipeline with the user's profiles and relevance mode: what every page and command reads."""

    pipeline: Pipeline
    registry: ProfileRegistry
    primary_dense: RankedProfile | None  # the dense profile the hybrid and the parallel-passage analysis use
    dense_models: tuple[str, ...]  # as asked for, the first being the primary
    pending: tuple[str, ...]  # dense models named but not encoded yet
    errors: tuple[str, ...]  # one line each: a model that cannot load, a run file that cannot be read
    requested_mode: RelevanceMode

    @property
    def task(self) -> Task:
        return self.pipeline.task

    @property
    def languages(self) -> TextLanguages:
        return self.pipeline.languages

    @property
    def profiles(self) -> dict[str, RankedProfile]:
        return self.registry.profiles()

    @property
    def pending_names(self) -> tuple[str, ...]:
        """The profile names the pending dense models (and the hybrid they feed) will have."""
        names = [dense_profile_name(m, primary=m == self.dense_models[0]) for m in self.pending]
        return tuple(names + (["hybrid"] if self.primary_dense is None and self.dense_models else []))

    # ------------------------------------------------------------------ analysis and modes

    def analysis(self, *, progress: StepProgress | None = None) -> FailureAnalysis:
        return self.pipeline.analysis(self.primary_dense, progress=progress)

    @property
    def analysis_ready(self) -> bool:
        return self.pipeline.analysis_ready(self.primary_dense)

    @property
    def modes(self) -> tuple[RelevanceMode, ...]:
        """The relevance modes this view can show (``parallel`` needs a dense model)."""
        if self.primary_dense is None:
            return (RelevanceMode.STRICT, RelevanceMode.COPIES)
        return tuple(RelevanceMode)

    @property
    def mode(self) -> RelevanceMode:
        """The mode shown: the requested one, or strict while the dense model it needs is pending."""
        return self.requested_mode if self.requested_mode in self.modes else RelevanceMode.STRICT

    def groups(self, mode: RelevanceMode) -> PassageGroups | None:
        if mode == RelevanceMode.STRICT:
            return None
        if mode == RelevanceMode.COPIES:
            if self.analysis_ready:  # the analysis in memory holds the same copy groups: no pass over the texts
                copies = self.analysis().groups.copy_group
                return PassageGroups(copy_group=copies, translation_group=np.full(len(copies), -1), translations_known=False)
            return self.pipeline.copy_groups
        return self.analysis().groups

    def relevant(self, mode: RelevanceMode | None = None) -> Mapping[str, frozenset[str]]:
        """Every query's relevant passage ids under ``mode`` (default: the view's)."""
        mode = self.mode if mode is None else parse_mode(mode)
        groups = self.groups(mode)
        return self.task.qrels if groups is None else expanded_qrels(self.task, groups, mode=mode)

    def _mode_key(self, mode: RelevanceMode) -> tuple:
        if mode == RelevanceMode.PARALLEL:
            return (mode, self.analysis().key)
        return (mode, self.pipeline.qrels_key)

    def cached(self, kind: str, compute: Callable[[], object], *, profiles: Sequence[str] = (), params: tuple = (), mode=None):
        """A result derived from this view, memoised under a complete key built here.

        The key holds ``kind`` and ``params`` (hashable), the keys of the named ``profiles`` and
        of the relevance mode (the analysis' key for ``parallel``). Package modules use it for
        their figures (significance tests, what-if sweeps); pages never build keys.
        """
        mode = self.mode if mode is None else parse_mode(mode)
        key = (kind, params, tuple(self.registry[n].profile.key for n in profiles), self._mode_key(mode))
        return self.pipeline._memo.get(key, compute)

    # ------------------------------------------------------------------ metrics

    def tie_metrics(self, mode: RelevanceMode | None = None) -> dict[str, TieAwareMetrics]:
        """Per profile: per-query metrics, expected over a random order of tied passages, with worst and best."""
        mode = self.mode if mode is None else parse_mode(mode)
        mode_key = self._mode_key(mode)
        relevant = None

        def compute(profile: RankedProfile) -> TieAwareMetrics:
            nonlocal relevant
            relevant = relevant or _relevant_indices(self.task, self.relevant(mode))
            return tie_aware_metrics(
                profile.scores,
                relevant,
                query_ids=self.task.query_ids,
                covered=profile.covered,
                secondary=profile.secondary,
                partial=profile.partial,
            )

        def kept(profile: RankedProfile) -> TieAwareMetrics:
            """Read from the cache folder when computed before (a new process draws its first page at once)."""
            if not profile.key:  # a profile made in code, without a fingerprint: not kept
                return compute(profile)
            key = {"version": METRICS_VERSION, "profile": profile.key, "mode": mode.value, "relevance": str(mode_key[1])}
            name = f"tie_metrics/{fingerprint(list(key.values()))}"
            found = self.pipeline.cache.load(name, key=key)
            if found is not None and "values" in found:
                try:
                    return TieAwareMetrics.from_array(found["values"], self.task.query_ids)
                except ValueError:
                    pass  # damaged or from another task: computed again and overwritten
            value = compute(profile)
            self.pipeline.cache.save(name, key=key, arrays={"values": value.to_array()})
            return value

        return {
            name: self.pipeline._memo.get(("tie", METRICS_VERSION, p.key, mode_key), lambda p=p: kept(p))
            for name, p in self.profiles.items()
        }

    def per_query(self, mode: RelevanceMode | None = None) -> dict[str, pd.DataFrame]:
        """Per profile: per-query metrics (rows: query ids), tie-aware expected values: what pages average."""
        return {name: m.expected for name, m in self.tie_metrics(mode).items()}

    def id_metrics(self, mode: RelevanceMode | None = None) -> dict[str, pd.DataFrame]:
        """Per profile: per-query metrics with ties broken by corpus id (reproduces published figures)."""
        mode = self.mode if mode is None else parse_mode(mode)
        mode_key = self._mode_key(mode)
        return {
            name: self.pipeline._memo.get(
                ("id", METRICS_VERSION, p.key, mode_key),
                lambda p=p: profile_query_metrics(self.task, p, qrels=self.relevant(mode)),
            )
            for name, p in self.profiles.items()
        }

    # ------------------------------------------------------------------ label audit

    def audit(self, votes: Sequence[str] | None = None) -> pd.DataFrame:
        """Label-audit verdicts (one row per query no vote ranks in its top 10), voted by independent profiles.

        ``votes`` defaults to every independent profile of the view (BM25 and each dense model);
        a run may be named as a vote; fusions never are. Columns: ``query_id``, ``verdict``,
        ``verdict_label``, ``confidence``, ``candidate_id`` and the evidence (see
        :func:`nanomlqa_viz.audit.audit_verdicts`).
        """
        from nanomlqa_viz.audit import AUDIT_VERSION, audit_verdicts

        names = [n for n in (votes or self.registry.names(ProfileKind.SPARSE, ProfileKind.DENSE)) if n in self.registry]
        chosen = {n: self.registry[n].profile for n in names}
        analysis = self.analysis()
        dense = self.primary_dense
        explanations = analysis.explanations
        key = ("audit", AUDIT_VERSION, analysis.key, tuple(p.key for p in chosen.values()), dense.key if dense else None)
        key += (self.pipeline.languages_key,)
        return self.pipeline._memo.get(
            key,
            lambda: audit_verdicts(
                self.task,
                votes=chosen,
                dense=dense,
                groups=analysis.groups,
                passage_embeddings=explanations.embeddings if explanations else None,
                row_of_doc=explanations.row_of_doc if explanations else None,
                doc_lang=self.languages.doc_lang,
            ),
        )

    # ------------------------------------------------------------------ the query table

    def table(self) -> pd.DataFrame:
        """One row per query: text, languages, scripts, the positive, its rank and tie interval in every profile."""
        key = ("table", self.pipeline.languages_key, self.pipeline.qrels_key, tuple(p.key for p in self.profiles.values()))
        return self.pipeline._memo.get(key, lambda: query_table(self.task, self.languages, self.profiles))


def _relevant_indices(task: Task, relevant: Mapping[str, frozenset[str]]) -> list[list[int]]:
    return [sorted(task.doc_index[d] for d in relevant.get(q, ())) for q in task.query_ids]


def summarise(frames: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Mean of every metric per profile (a query without a positive or a ranking counts as 0)."""
    return {name: {k: float(frame[k].mean()) if len(frame) else 0.0 for k in METRIC_KEYS} for name, frame in frames.items()}


def scores_array(frames: Mapping[str, pd.DataFrame], metric: str) -> dict[str, np.ndarray]:
    return {name: frame[metric].to_numpy(dtype=np.float64) for name, frame in frames.items()}
