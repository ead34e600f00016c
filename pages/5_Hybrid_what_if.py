"""Hybrid what-if: fuse any two profiles with other RRF settings; where relevant passages land; language-aware weights.

Drawing only: every frame and figure comes from :mod:`nanomlqa_viz.whatif` and
:mod:`nanomlqa_viz.lang_hybrid` (memoised there through ``View.cached``). URL state: ``a``, ``b``
(profiles), ``k``, ``wa``, ``wb`` (weights), ``depth``, ``metric``, ``query``, ``by`` and ``vs``
(language-aware section); defaults are dropped from the URL.
"""

from __future__ import annotations

import streamlit as st

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis, param_choice, set_param
from app_widgets import coverage_notes, csv_download, profile_pair, tie_note, url_select, url_select_slider, url_slider
from nanomlqa_viz import lang_hybrid as lh
from nanomlqa_viz import whatif as wi
from nanomlqa_viz.formatting import format_tie_range
from nanomlqa_viz.fusion import FusionParams
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.relevance import MODE_LABELS, RelevanceMode
from nanomlqa_viz.significance import fmt_p

DEFAULT = FusionParams()
K_OPTIONS = (1, 2, 5, 10, 20, 30, 40, 60, 80, 100, 150, 200, 300, 500, 1000)
DEPTH_BASE = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
K_HELP = "score = Σ w / (k + rank): a small k rewards the top of each list, a large k flattens them"
DEPTH_HELP = "how far down each list is fused; a passage beyond it gets nothing from that list"
BY_LABELS = {"query_lang": "query language", "query_script": "query script", "script_relation": "script relation (oracle)"}
NUM, TEXT = st.column_config.NumberColumn, st.column_config.TextColumn
CONTRIBUTIONS = {"contribution_a": NUM("A contr.", format="%.5f"), "contribution_b": NUM("B contr.", format="%.5f")}
FUSED = {"fused": NUM("fused score", format="%.5f"), "doc_id": "passage"}
RANK_TEXT = {
    c: TEXT(
        c.replace("rank_", "").upper() + " rank", help="the rank fusion reads (ties by corpus id), tie interval where scores tie"
    )
    for c in ("rank_a", "rank_b")
}
RANK_NUM = {c: NUM(c.replace("rank_", "").upper() + " rank", format="%d", help="empty: not listed") for c in ("rank_a", "rank_b")}


def controls(view: View) -> tuple[str, str, FusionParams, str]:
    if "wd" in st.query_params:  # a link from before any-two-profiles: wb was BM25's weight, wd dense's
        st.query_params["wa"], st.query_params["wb"] = st.query_params.get("wb", "1"), st.query_params["wd"]
        del st.query_params["wd"]
    n_docs = view.task.n_docs
    depths = sorted({*(o for o in DEPTH_BASE if o < n_docs), DEFAULT.depth, n_docs})
    cols = st.columns([1.6, 1.6, 1.4, 1.0, 1.0, 1.4, 1.0])
    a, b = profile_pair(view, cols[:2], defaults=("bm25", "dense"), key="wi", kinds=wi.FUSABLE_KINDS)
    k = url_select_slider("RRF k", "k", K_OPTIONS, default=int(DEFAULT.k), key="wi_k", container=cols[2], help_text=K_HELP)
    w = [url_slider(f"Weight of {x}", f"w{x.lower()}", low=0.0, high=2.0, step=0.05, default=1.0, key=f"wi_w{x}", container=c)
         for x, c in zip("AB", cols[3:5])]  # fmt: skip
    depth = url_select_slider("Depth", "depth", depths, default=DEFAULT.depth, key="wi_depth", container=cols[5],
                              fmt=lambda v: f"{v:,} (all)" if v >= n_docs else f"{v:,}", help_text=DEPTH_HELP)  # fmt: skip
    with cols[6]:
        metric = url_select("Metric", "metric", METRIC_KEYS, default="hit@10", key="wi_metric")
    return a, b, FusionParams(k=float(k), depth=int(depth), weights=(w[0], w[1]), tie_break=DEFAULT.tie_break), metric


def overview(view: View, a: str, b: str, params: FusionParams, metric: str, labels: dict[str, str]) -> None:
    lv = wi.levels(view, a, b, params, metric)
    cur, dflt, n = lv["current"], lv["default"], lv["n"]
    hybrid = {a, b} == {"bm25", "dense"} and view.primary_dense is not None
    cards = st.columns(4)
    delta = cur["expected"] - dflt["expected"]
    cards[0].metric(
        f"{metric} · current sliders",
        format_tie_range(**cur),
        delta=f"{delta:+.3f} vs default" if abs(delta) > 1e-12 else None,
        help=f"k={params.k:g} · {wi.weight_label(*params.weights)} · depth {params.depth:,} · n={n:,} queries",
    )
    cards[1].metric(
        f"{metric} · default RRF",
        format_tie_range(**dflt),
        help="k=100 · 1:1 · depth 500" + (" — the Hybrid (RRF) profile" if hybrid else "") + f" · n={n:,}",
    )
    cards[2].metric(f"{metric} · A alone", f"{lv['a']:.3f}", help=f"{escape_markdown(labels[a])}: its own ranking · n={n:,}")
    cards[3].metric(f"{metric} · B alone", f"{lv['b']:.3f}", help=f"{escape_markdown(labels[b])}: its own ranking · n={n:,}")
    st.caption(f"A = {escape_markdown(labels[a])} · B = {escape_markdown(labels[b])} · relevance: {MODE_LABELS[view.mode]}")
    tie_note()

    figure, grid = wi.view_sweep_figure(view, a, b, params, metric)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figure, width="stretch")
        st.caption(
            f"{metric} (tie-aware expected) at depth {params.depth:,} for each k, one line per weight pair A:B; n = {n:,} "
            f"queries. Dashed: A alone; dotted: B alone. ★ current · ◇ best of {len(grid)} grid settings · ○ default RRF."
        )
    with right:
        overlap = wi.top_overlap(view, a, b)
        st.caption(
            f"Best relevant passage in the top 10 (n = {overlap['n']:,}): both inputs {overlap['both']:,} · A only "
            f"{overlap['a_only']:,} · B only {overlap['b_only']:,} · neither {overlap['neither']:,}. Fusion gains where one "
            "input adds what the other misses; where one adds little, its passages push the other's down."
        )
        shown = wi.best_per_weight(grid, metric)
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height=38 + 35 * len(shown),
            column_config={
                "weights": TEXT("A:B", width="small"),
                metric: NUM(f"best {metric}", format="%.3f"),
                "ks": TEXT("at k", help="every k of the grid reaching it"),
                "at_default_k": NUM(f"at k={DEFAULT.k:g}", format="%.3f"),
                "n": NUM("n", format="%d"),
            },
        )
        csv_download(grid, file_name="whatif_sweep.csv", help_text="every metric for every k × weight pair", key="wi_csv")


def one_query(view: View, a: str, b: str, params: FusionParams, labels: dict[str, str]) -> None:
    st.subheader("One query")
    task, table = view.task, view.table().set_index("query_id")
    ids = list(task.query_ids)
    fallback = wi.default_query(view, a, b)
    chosen = param_choice("query", ids, fallback)

    def describe(q: str) -> str:  # dropdown options are plain text: escaping would show its backslashes
        return f"{q} · {table.at[q, 'pair']} · {table.at[q, 'query_text'][:70]}"

    qid = st.selectbox(
        "Query",
        ids,
        index=ids.index(chosen),
        key="wi_query",
        format_func=describe,
        help="default: the query the default fusion hurts most against the better input",
    )
    set_param("query", qid, default=fallback)
    st.markdown(f"{escape_markdown(table.at[qid, 'query_text'])}  ·  :gray-badge[{escape_markdown(table.at[qid, 'pair'])}]")
    place = wi.placement_table(view, a, b, params, qid)
    if place.empty:
        st.info("This query has no relevant passage: nothing to place.")
    else:
        st.dataframe(
            place,
            hide_index=True,
            width="stretch",
            column_config={
                **RANK_TEXT,
                **CONTRIBUTIONS,
                **FUSED,
                "fused_rank": TEXT("fused rank", help="current sliders; tie interval"),
                "default_rank": TEXT("default", help="fused rank, default RRF"),
            },
        )
        st.caption(
            f"Relevant passages ({MODE_LABELS[view.mode]}): where each lands in A, in B and fused; "
            "contribution = w / (k + rank) within the depth."
        )
    frame = wi.contributions_table(view, a, b, params, qid)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(frame),
        column_config={
            "fused_rank": NUM("fused", format="%d"),
            "fused_ties": TEXT("ties", width="small"),
            "relevant": TEXT("rel.", width="small"),
            **RANK_NUM,
            **CONTRIBUTIONS,
            **FUSED,
            "default_rank": NUM("default", format="%d"),
            "text": TEXT("passage text", width="large"),
        },
    )
    st.caption("Fused top 10 under the current sliders, then the best-placed relevant passages below it; fused = A + B contr.")


def language_aware(view: View, a: str, b: str, metric: str) -> None:
    st.subheader("Language-aware hybrid")
    c1, c2, _ = st.columns([1.5, 1.5, 3])
    with c1:
        by = url_select("Weights per", "by", list(lh.BY_OPTIONS), default="query_lang", key="wi_by", fmt=BY_LABELS.__getitem__)
    with c2:
        vs = url_select(
            "Gain over", "vs", list(lh.BASELINES), default="plain_rrf", key="wi_vs", fmt=lh.BASELINE_LABELS.__getitem__
        )
    params = lh.LangHybridParams(by=by, metric=metric)
    if params.oracle:
        st.warning("Oracle grouping: the script relation uses the positive, which a retriever does not know at query time.")
    result = lh.view_language_aware_hybrid(view, a, b, params)
    o = result.overall
    cards = st.columns(5)
    cards[0].metric("n (held out)", f"{o['n']:,}", help=f"{o['splits']} seeded halvings; fit on one half, measured on the other")
    cards[1].metric(
        f"{metric} · language-aware", f"{o['lang_aware']:.3f}", help="each query's mean over the splits holding it out"
    )
    for card, base in zip(cards[2:], lh.BASELINES):
        card.metric(f"gain vs {lh.BASELINE_LABELS[base]}", f"{o[f'gain_vs_{base}']:+.3f}", delta=f"p {fmt_p(o[f'p_vs_{base}'])}",
                    delta_color="off", delta_arrow="off", help=f"{lh.BASELINE_LABELS[base]}: {o[base]:.3f} held out · "
                    f"paired sign flip over {o['n']:,} queries; t-test p {fmt_p(o[f'p_ttest_vs_{base}'])}")  # fmt: skip
    left, right = st.columns([3, 2])
    left.plotly_chart(lh.gain_figure(result, against=vs), width="stretch")
    right.plotly_chart(lh.weights_figure(result), width="stretch")
    frame = lh.pair_table(result, against=vs)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "n": NUM("n", format="%d"),
            "lang_aware": NUM("language-aware", format="%.3f"),
            "baseline": NUM(lh.BASELINE_LABELS[vs], format="%.3f"),
            "gain": NUM("gain", format="%+.3f"),
            "p": NUM("p rand.", format="%.4f"),
            "holm": NUM("Holm p", format="%.4f", help="Holm across the pairs"),
        },
    )
    st.caption(
        f"Grouped by {lh.BY_OPTIONS[by]}; weights of A fitted per group on half the queries (w_B = 1 − w_A, k = 100, depth 500), "
        f"measured on the other half; {o['splits']} splits. In-sample (optimistic): {o['in_sample_lang_aware']:.3f}."
    )


HELP = """
- **Fusion** — reciprocal rank fusion of A's and B's rankings of the whole corpus: score = w_A / (k + rank_A) +
  w_B / (k + rank_B), each term only within *depth*. Equal scores go by the best single-list rank, then corpus id;
  metrics are tie-aware (expected over a random order of equal fused scores). BM25 + Dense at k = 100, 1:1, depth
  500 is the app's *Hybrid (RRF)* profile. A run ranks only what it lists: an unlisted passage gets nothing from it.
  The inputs are rankings with ties broken by corpus id (as the dataset builder fused them), so A:B 0:1 is B's
  id-ordered ranking, which can differ from B's tie-aware value on its card where B has ties.
- **Relevance** — every number follows the sidebar's relevance mode: the relevant passages are those the mode counts.
- **Weights** — only their ratio matters. A:B 0:1 is B alone within the depth, 1:0 A alone.
- **Language-aware hybrid** — one weight of A per group of queries (the query's language or script: known at query
  time; the script relation uses the positive and is an oracle), fitted on half the queries and measured on the
  other half over seeded splits. Gains are held out; p-values per pair are Holm-corrected.
"""

view = load_view()
if view is not None:
    st.title("Hybrid what-if")
    labels = view.registry.labels()
    if len(wi.fusable_names(view)) < 2:
        st.info(
            "The what-if fuses two full-corpus profiles or runs; this view has fewer (the dense profile may still be computing)."
        )
    else:
        a, b, params, metric = controls(view)
        if a == b:
            st.info("Choose two different profiles to fuse.")
        else:
            if view.mode == RelevanceMode.PARALLEL:
                need_analysis(view)
            coverage_notes(view)
            overview(view, a, b, params, metric, labels)
            one_query(view, a, b, params, labels)
            language_aware(view, a, b, metric)
    with st.expander("How to read this"):
        st.markdown(HELP)
    finish_dense(view)
