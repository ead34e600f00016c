"""Hybrid what-if: re-fuse BM25 and dense with other RRF settings and see where positives land.

A thin view over :mod:`nanomlqa_viz.whatif`. URL state: ``k``, ``wb`` (BM25 weight), ``wd``
(dense weight), ``depth``, ``metric`` and the open ``query``; defaults are dropped from the URL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from app_common import AppData, escape_markdown, finish_dense, load_app_data, param_choice, set_param
from nanomlqa_viz.analysis import positive_doc_indices
from nanomlqa_viz.fusion import FusionParams
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.whatif import (
    DEFAULT_KS,
    DEFAULT_WEIGHT_PAIRS,
    fused_metrics,
    positive_fused_rank,
    query_contributions,
    sweep,
    sweep_figure,
    weight_label,
)

DEFAULT = FusionParams()
K_OPTIONS = (1, 2, 5, 10, 20, 30, 40, 60, 80, 100, 150, 200, 300, 500, 1000)
DEPTH_BASE = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
WEIGHT_MAX, WEIGHT_STEP = 2.0, 0.05
LINES = ((0.25, 1.0), (0.5, 1.0), (1.0, 1.0), (1.0, 0.5))  # weight pairs drawn besides the current one
TOP = 10
SNIPPET = 110


# --------------------------------------------------------------------------- URL state


def url_option(name: str, options: Sequence[int], default: int) -> int:
    try:
        value = int(float(st.query_params.get(name, default)))
    except (TypeError, ValueError):
        return default
    return value if value in options else default


def url_weight(name: str, default: float) -> float:
    try:
        value = float(st.query_params.get(name, default))
    except (TypeError, ValueError):
        return default
    if not math.isfinite(value) or not 0.0 <= value <= WEIGHT_MAX:
        return default
    return round(round(value / WEIGHT_STEP) * WEIGHT_STEP, 2)


def fmt_weight(w: float) -> str:
    return f"{w:g}"


# --------------------------------------------------------------------------- cached computations


@st.cache_resource(show_spinner="Ranking the corpus for both profiles…", max_entries=4)
def full_ranks(key: tuple, _data: AppData) -> tuple[np.ndarray, np.ndarray]:
    return _data.profiles["bm25"].full_ranks(), _data.profiles["dense"].full_ranks()


@st.cache_data(show_spinner="Sweeping k × weights…", max_entries=64)
def grid(key: tuple, _data: AppData, *, depth: int, weight_pairs: tuple[tuple[float, float], ...], ks: tuple[float, ...]):
    """Every metric for every k × weight pair at one depth (one row per setting)."""
    b, d = full_ranks(key, _data)
    return sweep(
        b, d, positive_doc_indices(_data.task), ks=ks, weight_pairs=weight_pairs, depth=depth,
        metric=list(METRIC_KEYS), id_rank=_data.ctx.id_rank,
    )  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=64)
def per_query_fused(key: tuple, _data: AppData, *, params: FusionParams) -> pd.DataFrame:
    b, d = full_ranks(key, _data)
    out = fused_metrics(b, d, positive_doc_indices(_data.task), params=params, id_rank=_data.ctx.id_rank)
    out.index = pd.Index(_data.task.query_ids, name="query_id")
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def shown_positive_ranks(key: tuple, _data: AppData, *, params: FusionParams) -> np.ndarray:
    """Fused rank of each query's shown positive (0 where a query has none)."""
    task = _data.task
    first = np.array([-1 if (p := task.first_positive(q)) is None else task.doc_index[p] for q in task.query_ids])
    b, d = full_ranks(key, _data)
    out = np.zeros(task.n_queries, dtype=np.int64)
    has = first >= 0
    out[has] = positive_fused_rank(b[has], d[has], first[has], params=params, id_rank=_data.ctx.id_rank)
    return out


# --------------------------------------------------------------------------- sections


def controls(n_docs: int) -> tuple[FusionParams, str]:
    depth_options = sorted({*(o for o in DEPTH_BASE if o < n_docs), DEFAULT.depth, n_docs})
    cols = st.columns([1.6, 1.1, 1.1, 1.6, 1.0])
    with cols[0]:
        k = st.select_slider(
            "RRF k",
            options=K_OPTIONS,
            value=url_option("k", K_OPTIONS, int(DEFAULT.k)),
            key="wi_k",
            help="score = Σ w / (k + rank): a small k rewards the very top of each list, a large k flattens the lists",
        )
    with cols[1]:
        wb = st.slider(
            "BM25 weight", 0.0, WEIGHT_MAX, url_weight("wb", DEFAULT.weights[0]), WEIGHT_STEP, key="wi_wb", format="%.2f"
        )
    with cols[2]:
        wd = st.slider(
            "Dense weight", 0.0, WEIGHT_MAX, url_weight("wd", DEFAULT.weights[1]), WEIGHT_STEP, key="wi_wd", format="%.2f"
        )
    with cols[3]:
        depth = st.select_slider(
            "Depth",
            options=depth_options,
            value=url_option("depth", depth_options, DEFAULT.depth),
            key="wi_depth",
            format_func=lambda v: f"{v:,} (all)" if v >= n_docs else f"{v:,}",
            help="how far down each list is fused; a passage beyond it gets nothing from that list",
        )
    with cols[4]:
        metric = st.selectbox(
            "Metric", METRIC_KEYS, index=METRIC_KEYS.index(param_choice("metric", METRIC_KEYS, "hit@10")), key="wi_metric"
        )
    wb, wd = round(float(wb), 2), round(float(wd), 2)
    set_param("k", str(int(k)), default=str(int(DEFAULT.k)))
    set_param("wb", fmt_weight(wb), default=fmt_weight(DEFAULT.weights[0]))
    set_param("wd", fmt_weight(wd), default=fmt_weight(DEFAULT.weights[1]))
    set_param("depth", str(int(depth)), default=str(DEFAULT.depth))
    set_param("metric", metric, default="hit@10")
    return FusionParams(k=float(k), depth=int(depth), weights=(wb, wd), tie_break=DEFAULT.tie_break), metric


def overview(data: AppData, key: tuple, params: FusionParams, metric: str) -> None:
    n = data.task.n_queries
    current = per_query_fused(key, data, params=params)
    levels = {name: float(data.per_query[name][metric].mean()) for name in ("dense", "bm25", "hybrid")}
    value = float(current[metric].mean())
    cards = st.columns(4)
    changed = abs(value - levels["hybrid"]) > 1e-12
    cards[0].metric(
        f"{metric} · current sliders",
        f"{value:.3f}",
        delta=f"{value - levels['hybrid']:+.3f} vs default" if changed else None,
        help=f"k={params.k:g} · {weight_label(*params.weights)} · depth {params.depth:,} · n={n:,} queries",
    )
    cards[1].metric(f"{metric} · default hybrid", f"{levels['hybrid']:.3f}", help=f"k=100 · 1:1 · depth 500 · n={n:,}")
    cards[2].metric(f"{metric} · dense only", f"{levels['dense']:.3f}", help=f"the dense profile · n={n:,}")
    cards[3].metric(f"{metric} · BM25 only", f"{levels['bm25']:.3f}", help=f"the BM25 profile · n={n:,}")

    on_grid = grid(key, data, depth=params.depth, weight_pairs=DEFAULT_WEIGHT_PAIRS, ks=tuple(map(float, DEFAULT_KS)))
    line_ks = tuple(sorted({*map(float, DEFAULT_KS), params.k}))
    line = grid(key, data, depth=params.depth, weight_pairs=(params.weights,), ks=line_ks)
    frame = pd.concat([on_grid, line], ignore_index=True)
    top = on_grid.sort_values(metric, ascending=False, kind="stable").iloc[0]
    best = (float(top["k"]), (float(top["w_bm25"]), float(top["w_dense"])), float(top[metric]))
    lines = list(dict.fromkeys([*LINES, params.weights]))

    dense_vs = current[metric] - data.per_query["dense"][metric].reindex(current.index)
    better, worse = int((dense_vs > 1e-12).sum()), int((dense_vs < -1e-12).sum())
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(
            sweep_figure(
                frame,
                metric=metric,
                lines=lines,
                current=(params.k, params.weights, value),
                best=best,
                default=(DEFAULT.k, levels["hybrid"]),
                references=[("dense only", levels["dense"]), ("BM25 only", levels["bm25"])],
                n=n,
            ),
            width="stretch",
        )
        st.caption(
            f"{metric} of the fusion at depth {params.depth:,} for each k (log axis), one line per weight pair; "
            f"n = {n:,} queries. Dashed: dense alone; dotted: BM25 alone. ★ current sliders · ◇ best of "
            f"{len(on_grid)} grid settings · ○ default hybrid."
        )
    with right:
        st.markdown("**Why the fusion lands where it does**")
        st.caption(
            f"Current sliders vs dense only, per query ({metric}): better on {better:,}, worse on {worse:,}, "
            f"the same on {n - better - worse:,} (n = {n:,})."
        )
        ranks = {name: data.table[f"rank_{name}"] for name in ("bm25", "dense")}
        both = int(((ranks["bm25"] <= TOP) & (ranks["dense"] <= TOP)).sum())
        only_d = int(((ranks["bm25"] > TOP) & (ranks["dense"] <= TOP)).sum())
        only_b = int(((ranks["bm25"] <= TOP) & (ranks["dense"] > TOP)).sum())
        st.caption(
            f"Positive in the top {TOP}: both lists {both:,} · dense only {only_d:,} · BM25 only {only_b:,} · "
            f"neither {n - both - only_d - only_b:,}. Where only dense finds it, BM25's passages above it pull it down "
            "unless the BM25 weight is low; where BM25 adds little, fusion cannot beat dense."
        )
        shown = best_per_weight(on_grid, metric)
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height=38 + 35 * len(shown),
            column_config={
                "weights": st.column_config.TextColumn("weights", width="small", help="BM25:dense"),
                metric: st.column_config.NumberColumn(f"best {metric}", format="%.3f"),
                "ks": st.column_config.TextColumn("at k", width="small", help="every k of the grid reaching it"),
                "at_default_k": st.column_config.NumberColumn(f"at k={DEFAULT.k:g}", format="%.3f"),
            },
        )
        st.caption(f"Each weight pair at its best k of the grid, depth {params.depth:,}; best first; n = {n:,} queries.")


def k_span(ks: np.ndarray, reach: np.ndarray) -> str:
    """The k reaching the best value, compactly: "all", "10", "100–1000" (a run of the grid) or "1, 20 …"."""
    hits = np.flatnonzero(reach)
    if hits.size == len(ks):
        return "all"
    if hits.size and hits[-1] - hits[0] + 1 == hits.size:
        return f"{ks[hits[0]]:g}" if hits.size == 1 else f"{ks[hits[0]]:g}–{ks[hits[-1]]:g}"
    return ", ".join(f"{k:g}" for k in ks[hits[:2]]) + (" …" if hits.size > 2 else "")


def best_per_weight(on_grid: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per weight pair: its best value over the grid's k, the k reaching it, the value at the default k."""
    rows = []
    for (wb, wd), part in on_grid.groupby(["w_bm25", "w_dense"], sort=False):
        top = float(part[metric].max())
        reach = np.isclose(part[metric].to_numpy(dtype=float), top, rtol=0, atol=1e-12)
        at_default = part.loc[part["k"] == DEFAULT.k, metric]
        rows.append(
            {
                "weights": f"{wb:g}:{wd:g}",
                metric: top,
                "ks": k_span(part["k"].to_numpy(dtype=float), reach),
                "at_default_k": float(at_default.iloc[0]) if len(at_default) else np.nan,
            }
        )
    return pd.DataFrame(rows).sort_values(metric, ascending=False, kind="stable")


def default_query(data: AppData) -> str:
    """The query the default hybrid hurts most against dense: first those it drops out of the top 10,
    then by the ratio hybrid rank / dense rank of the positive."""
    table = data.table
    hybrid = table["rank_hybrid"].astype("Float64").fillna(np.nan).to_numpy(dtype=float)
    dense = table["rank_dense"].astype("Float64").fillna(np.nan).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        gap = np.nan_to_num(np.log(hybrid) - np.log(dense), nan=-np.inf)
        lost = ((dense <= TOP) & (hybrid > TOP)).astype(float)
    best = np.lexsort([gap, lost])[-1] if len(table) else 0
    return str(table["query_id"].iloc[int(best)])


def one_query(data: AppData, key: tuple, params: FusionParams) -> None:
    task, table = data.task, data.table
    st.subheader("One query")
    ids = list(task.query_ids)
    fallback = default_query(data)
    chosen = param_choice("query", ids, fallback)
    rows = table.set_index("query_id")
    qid = st.selectbox(
        "Query",
        ids,
        index=ids.index(chosen),
        key="wi_query",
        format_func=lambda q: f"{q} · {rows.at[q, 'pair']} · {rows.at[q, 'query_text'][:70]}",
        help="default: the query the default hybrid hurts most against dense",
    )
    set_param("query", qid, default=fallback)
    qi = task.query_index[qid]
    row = rows.loc[qid]
    st.markdown(f"{escape_markdown(row['query_text'])}  ·  :gray-badge[{escape_markdown(row['pair'])}]")
    positive = task.first_positive(qid)
    b_all, d_all = full_ranks(key, data)
    pos = None if positive is None else task.doc_index[positive]
    if pos is None:
        st.info("This query has no positive: nothing to place.")
    else:
        now = int(shown_positive_ranks(key, data, params=params)[qi])
        before = int(shown_positive_ranks(key, data, params=DEFAULT)[qi])
        cards = st.columns(4)
        cards[0].metric("Positive · BM25 rank", data.profiles["bm25"].rank_info(qi, pos).interval())
        cards[1].metric("Positive · dense rank", data.profiles["dense"].rank_info(qi, pos).interval())
        cards[2].metric("Fused rank · default", f"{before:,}", help="k=100 · 1:1 · depth 500 (the hybrid profile)")
        cards[3].metric(
            "Fused rank · current",
            f"{now:,}",
            delta=f"{before - now:+,} places" if now != before else None,
            help="vs the default; a positive delta: the positive moved up",
        )
    extra = [] if pos is None else [pos]
    frame = query_contributions(b_all[qi], d_all[qi], params=params, top=TOP, id_rank=data.ctx.id_rank, extra=extra)
    at_default = query_contributions(b_all[qi], d_all[qi], params=DEFAULT, top=0, id_rank=data.ctx.id_rank, extra=frame["doc"])
    frame["default_rank"] = frame["doc"].map(dict(zip(at_default["doc"], at_default["fused_rank"])))
    frame["doc_id"] = [task.doc_ids[i] for i in frame["doc"]]
    frame["lang"] = [data.languages.doc_lang[i] for i in frame["doc"]]
    frame["positive"] = ["✓" if task.doc_ids[i] in task.positives(qid) else "" for i in frame["doc"]]
    frame["text"] = [task.doc_texts[i][:SNIPPET] + ("…" if len(task.doc_texts[i]) > SNIPPET else "") for i in frame["doc"]]
    columns = ["fused_rank", "positive", "doc_id", "lang", "bm25_rank", "dense_rank", "bm25_contribution",
               "dense_contribution", "fused", "default_rank", "text"]  # fmt: skip
    st.caption(
        f"Fused top {TOP} under the current sliders (k={params.k:g}, {weight_label(*params.weights)}, depth {params.depth:,})"
        + ("; the positive is added below it" if len(frame) > TOP else "")
        + ". A contribution is w / (k + rank) within the depth, else 0; fused = their sum."
    )
    st.dataframe(
        frame[columns],
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(frame),
        column_config={
            "fused_rank": st.column_config.NumberColumn("fused", format="%d", help="fused rank, current sliders"),
            "positive": st.column_config.TextColumn("pos.", width="small"),
            "doc_id": st.column_config.TextColumn("passage"),
            "lang": st.column_config.TextColumn("lang", width="small"),
            "bm25_rank": st.column_config.NumberColumn("BM25", format="%d", help="BM25 rank (ties by corpus id)"),
            "dense_rank": st.column_config.NumberColumn("dense", format="%d", help="dense rank"),
            "bm25_contribution": st.column_config.NumberColumn("BM25 contr.", format="%.5f"),
            "dense_contribution": st.column_config.NumberColumn("dense contr.", format="%.5f"),
            "fused": st.column_config.NumberColumn("fused score", format="%.5f"),
            "default_rank": st.column_config.NumberColumn("default", format="%d", help="fused rank with the default setting"),
            "text": st.column_config.TextColumn("passage text", width="large"),
        },
    )


HELP = """
- **Fusion** — reciprocal rank fusion of the BM25 and dense rankings of the whole corpus:
  score = w_BM25 / (k + BM25 rank) + w_dense / (k + dense rank), each term only where the passage is
  within *depth* of that list. Equal scores go by the best single-list rank, then corpus id. The
  default (k = 100, 1:1, depth 500) is the app's *Hybrid (RRF)* profile.
- **k** — small k: the first places of each list dominate; large k: ranks 1 and 50 weigh almost
  the same, so a passage both lists find moderately beats one only dense finds at the top.
- **Weights** — only their ratio matters (scaling both keeps every order). BM25:dense 0:1 is dense
  alone within the depth, 1:0 BM25 alone.
- **Hybrid below dense** — fusion only helps when BM25 adds positives dense misses. In a
  cross-lingual set BM25 rarely finds a positive in another language or script, so its passages
  mostly push dense's correct answers down; the lines show how far lowering the BM25 weight
  or changing k recovers the dense level.
- **Metrics** — the project's conventions: binary relevance, every relevant passage counts, a query
  without a positive scores 0, n = all queries. The per-query table's *default* column is the
  passage's fused rank with the default setting.
"""


data = load_app_data()
if data is not None:
    st.title("Hybrid what-if")
    if "dense" not in data.profiles:
        st.info("The dense profile is not ready yet: this page re-fuses BM25 with it and fills in once it is computed.")
    else:
        key = (data.ctx.fingerprint, data.dense_model)
        params, metric = controls(data.task.n_docs)
        overview(data, key, params, metric)
        one_query(data, key, params)
        with st.expander("How to read this"):
            st.markdown(HELP)
    finish_dense(data)
