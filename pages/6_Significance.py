"""Significance: is one profile really better than another, overall and per language pair?

Drawing only: the comparison comes from :func:`nanomlqa_viz.significance.compare_profiles`
(memoised there through ``View.cached``). URL state: ``a``, ``b`` (profiles), ``metric`` and the
table's ``sort``; defaults are dropped from the URL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app_common import View, escape_markdown, finish_dense, load_view, need_analysis
from app_widgets import coverage_notes, csv_download, profile_pair, url_select
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.relevance import MODE_LABELS, RelevanceMode
from nanomlqa_viz.significance import (
    ALPHA,
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
    EXACT_MAX,
    SORTS,
    compare_profiles,
    fmt_p,
    heat_style,
    significant_style,
    sorted_pairs,
)

NUM = st.column_config.NumberColumn
P_COLUMNS = ["p_randomization", "holm_randomization", "p_ttest", "holm_ttest"]
PAIR_COLUMNS = ["pair", "n", "wins", "ties", "losses", "mean_a", "mean_b", "mean_diff", *P_COLUMNS]


def overall_cards(row: pd.Series, *, labels: tuple[str, str], metric: str) -> None:
    a, b = (escape_markdown(x) for x in labels)
    n = int(row["n"])
    cards = st.columns([0.8, 1.4, 1.0, 1.0, 1.0, 1.0])
    cards[0].metric("n", f"{n:,}", help="queries both profiles score (every query: an unranked one scores 0)")
    cards[1].metric(
        "A better · tie · B",
        f"{int(row['wins'])} · {int(row['ties'])} · {int(row['losses'])}",
        help=f"queries where {a} scores higher / the same / lower on {metric}",
    )
    cards[2].metric(
        "mean Δ (A − B)", f"{row['mean_diff']:+.4f}", help=f"{a} {row['mean_a']:.4f} − {b} {row['mean_b']:.4f} (n={n:,})"
    )
    kind = "exact" if row["exact"] else f"{int(row['permutations']):,} random sign flips"
    cards[3].metric("p (rand.)", fmt_p(row["p_randomization"]), help=f"paired sign-flip test, two-sided, {kind}")
    cards[4].metric("p (t-test)", fmt_p(row["p_ttest"]), help="scipy.stats.ttest_rel, two-sided")
    verdict = "yes" if row["p_randomization"] < ALPHA else "no"
    cards[5].metric(f"p < {ALPHA:g}?", verdict, help="by the randomisation test, overall (no correction needed)")


def pair_table(result: pd.DataFrame, *, sort: str) -> None:
    groups = sorted_pairs(result, sort)
    if groups.empty:
        st.info("No query has a known language pair here.")
        return
    shown = groups[PAIR_COLUMNS]
    span = float(np.nanmax(np.abs(shown["mean_diff"].to_numpy(dtype=float))))
    styler = (
        shown.style.format({"mean_a": "{:.3f}", "mean_b": "{:.3f}", "mean_diff": "{:+.3f}"})
        .format(fmt_p, subset=P_COLUMNS, na_rep="—")
        .map(lambda v: heat_style(float(v), span), subset=["mean_diff"])
        .map(significant_style, subset=["holm_randomization", "holm_ttest"])
    )
    st.dataframe(
        styler,
        hide_index=True,
        width="stretch",
        height=min(720, 38 + 35 * len(shown)),
        column_config={
            "pair": st.column_config.TextColumn("pair", help="query language → language of the qrels positive"),
            "n": NUM("n", format="%d", help="queries of this pair"),
            "wins": NUM("A better", format="%d"),
            "ties": NUM("tie", format="%d"),
            "losses": NUM("B better", format="%d"),
            "mean_a": NUM("A", help="mean of A over the pair's queries"),
            "mean_b": NUM("B", help="mean of B over the pair's queries"),
            "mean_diff": NUM("Δ A − B", help="mean per-query difference"),
            "p_randomization": NUM("p rand.", help="paired sign-flip test, two-sided"),
            "holm_randomization": NUM("Holm p rand.", help="Holm-corrected across the pairs"),
            "p_ttest": NUM("p t-test", help="paired t-test (scipy ttest_rel), two-sided"),
            "holm_ttest": NUM("Holm p t", help="Holm-corrected across the pairs"),
        },
    )
    n_sig = int((groups["holm_randomization"] < ALPHA).sum())
    n_exact = int(groups["exact"].sum())
    sampling = "exact for every pair" if n_exact == len(groups) else f"exact for {n_exact}, sampled for {len(groups) - n_exact}"
    st.caption(
        f"{len(groups)} language pairs · n = {int(groups['n'].sum()):,} queries with a known pair · "
        f"{n_sig} pair(s) significant at {ALPHA:g} after Holm (randomisation test, in blue) · randomisation p {sampling}. "
        "Green: A better, red: B better; —: the t-test needs n ≥ 2."
    )
    csv_download(groups, file_name="significance_pairs.csv", help_text="every pair's statistics, as shown", key="sig_csv")


HELP = f"""
- **Paired** — both profiles score the same queries; every statistic uses the per-query difference
  d = A − B of the chosen metric. *A better / tie / B better* count d > 0, d = 0, d < 0.
- **Per-query values** — tie-aware expected values (a random order of equal scores) in the sidebar's
  relevance mode, the values every page averages.
- **Randomisation test** (sign flip, two-sided) — if A and B were interchangeable, each d could
  as well have the opposite sign. p is the share of sign assignments whose |Σ d| is at least the
  observed one. Zero differences change no sum and are left out; with at most {EXACT_MAX} non-zero
  differences all 2^m assignments are enumerated (exact), otherwise {DEFAULT_PERMUTATIONS:,} random
  assignments with the fixed seed {DEFAULT_SEED} give p = (1 + hits) / (1 + {DEFAULT_PERMUTATIONS:,}).
  It makes no normality assumption and suits 0/1 metrics such as hit@10.
- **Paired t-test** — scipy's `ttest_rel`, for comparison. All d = 0 gives p = 1; all d equal and
  non-zero gives p = 0 (infinite t); fewer than 2 queries gives —.
- **Holm** — with one test per language pair, some small p-values appear by chance. Holm's
  step-down correction controls the chance of any false positive among the pairs. The overall
  row is not corrected.
- **Small n** — with n non-zero differences the smallest possible randomisation p is 2 / 2^n, so
  a pair of 4 queries can never reach 0.05 (2/16 = 0.125).
- **Partial profiles** (*ref ·*, runs) rank only what they list: a query they do not rank scores 0.
"""


def compare(view: View) -> None:
    labels = view.registry.labels()
    c1, c2, c3, c4 = st.columns([2, 2, 1.4, 2.4])
    a, b = profile_pair(view, (c1, c2), defaults=("dense", "bm25"), key="sig")
    with c3:
        metric = url_select("Metric", "metric", METRIC_KEYS, default="ndcg@10", key="sig_metric")
    with c4:
        sort = url_select("Sort pairs by", "sort", list(SORTS), default="pair", key="sig_sort", fmt=lambda s: SORTS[s][0])
    if a == b:
        st.info("Choose two different profiles to compare.")
        return
    if view.mode == RelevanceMode.PARALLEL:
        need_analysis(view)
    result = compare_profiles(view, a, b, metric=metric)
    st.caption(
        f"A = {escape_markdown(labels[a])}, B = {escape_markdown(labels[b])} · {metric} per query: tie-aware expected values, "
        f"relevance {MODE_LABELS[view.mode]} · paired over the same queries"
    )
    coverage_notes(view)
    st.subheader("Overall")
    overall_cards(result.iloc[0], labels=(labels[a], labels[b]), metric=metric)
    st.subheader("Per language pair")
    pair_table(result, sort=sort)


view = load_view()
if view is not None:
    st.title("Significance")
    compare(view)
    with st.expander("About the tests"):
        st.markdown(HELP)
    finish_dense(view)
