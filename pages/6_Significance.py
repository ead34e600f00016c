"""Significance: is one profile really better than another, overall and per language pair?

A thin view over :mod:`nanomlqa_viz.significance`. URL state: ``a``, ``b`` (profiles),
``metric`` and the table's ``sort``; defaults are dropped from the URL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from app_common import AppData, finish_dense, load_app_data, profile_label, set_param
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.significance import DEFAULT_PERMUTATIONS, DEFAULT_SEED, EXACT_MAX, OVERALL, compare

PENDING = ("dense", "hybrid")  # named in a URL before they are computed: kept, not overwritten
SORTS = {
    "pair": ("pair", ["group"], [True]),
    "delta": ("mean difference, A best first", ["mean_diff", "n"], [False, False]),
    "-delta": ("mean difference, B best first", ["mean_diff", "n"], [True, False]),
    "p": ("Holm p (randomisation), smallest first", ["holm_randomization", "n"], [True, False]),
    "n": ("n, largest first", ["n", "group"], [False, True]),
}
ALPHA = 0.05
GREEN, RED = (22, 163, 74), (220, 38, 38)


def url_select(label: str, name: str, options: Sequence[str], *, default: str, key: str, fmt=str) -> str:
    """A selectbox mirrored in ``?name=``; an unknown value shows the default and is dropped.

    A profile that is still being computed (dense, hybrid) stays in the URL, so the view the link
    names appears once it is ready.
    """
    raw = st.query_params.get(name)
    shown = raw if raw in options else (default if default in options else options[0])
    choice = st.selectbox(label, options, index=list(options).index(shown), format_func=fmt, key=key)
    if not (raw in PENDING and raw not in options and choice == shown):
        set_param(name, choice, default=default)
    return choice


@st.cache_data(show_spinner="Testing…", max_entries=64)
def comparison(key: tuple, _data: AppData, *, a: str, b: str, metric: str) -> pd.DataFrame:
    table = _data.table
    with_positive = table[table["positive_lang"].astype(str) != ""]
    groups = pd.Series(with_positive["pair"].to_numpy(), index=with_positive["query_id"].astype(str))
    return compare(_data.per_query[a], _data.per_query[b], metric=metric, groups=groups)


def fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "—"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


def heat(value: float, span: float) -> str:
    """Background for a difference: green where A is better, red where B is, stronger with |Δ|."""
    if not math.isfinite(value) or span <= 0 or value == 0:
        return ""
    rgb = GREEN if value > 0 else RED
    alpha = 0.12 + 0.5 * min(1.0, abs(value) / span)
    return f"background-color: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {alpha:.2f})"


def significant(p: float) -> str:
    return "color: #2563eb; font-weight: 600" if isinstance(p, float) and math.isfinite(p) and p < ALPHA else ""


def overall_cards(row: pd.Series, *, a: str, b: str, metric: str) -> None:
    cards = st.columns([0.8, 1.4, 1.0, 1.0, 1.0, 1.0])
    cards[0].metric("n", f"{int(row['n']):,}", help="queries both profiles score")
    cards[1].metric(
        "A better · tie · B",
        f"{int(row['wins'])} · {int(row['ties'])} · {int(row['losses'])}",
        help=f"queries where {profile_label(a)} scores higher / the same / lower on {metric}",
    )
    cards[2].metric(
        "mean Δ (A − B)",
        f"{row['mean_diff']:+.4f}",
        help=f"{profile_label(a)} {row['mean_a']:.4f} − {profile_label(b)} {row['mean_b']:.4f} (n={int(row['n']):,})",
    )
    kind = "exact" if row["exact"] else f"{int(row['permutations']):,} random sign flips"
    cards[3].metric("p (rand.)", fmt_p(row["p_randomization"]), help=f"paired sign-flip test, two-sided, {kind}")
    cards[4].metric("p (t-test)", fmt_p(row["p_ttest"]), help="scipy.stats.ttest_rel, two-sided")
    verdict = "yes" if row["p_randomization"] < ALPHA else "no"
    cards[5].metric(f"p < {ALPHA:g}?", verdict, help="by the randomisation test, overall (no correction needed)")


def pair_table(result: pd.DataFrame, *, a: str, b: str, sort: str) -> None:
    groups = result[result["group"] != OVERALL].copy()
    if groups.empty:
        st.info("No query has a known language pair here.")
        return
    _, by, ascending = SORTS[sort]
    groups = groups.sort_values(by, ascending=ascending, kind="stable", na_position="last")
    columns = ["group", "n", "wins", "ties", "losses", "mean_a", "mean_b", "mean_diff",
               "p_randomization", "holm_randomization", "p_ttest", "holm_ttest"]  # fmt: skip
    shown = groups[columns].rename(columns={"group": "pair"})
    span = float(np.nanmax(np.abs(shown["mean_diff"].to_numpy(dtype=float)))) if len(shown) else 0.0
    p_columns = ["p_randomization", "holm_randomization", "p_ttest", "holm_ttest"]
    styler = (
        shown.style.format({"mean_a": "{:.3f}", "mean_b": "{:.3f}", "mean_diff": "{:+.3f}"})
        .format(fmt_p, subset=p_columns, na_rep="—")
        .map(lambda v: heat(float(v), span), subset=["mean_diff"])
        .map(significant, subset=["holm_randomization", "holm_ttest"])
    )
    st.dataframe(
        styler,
        hide_index=True,
        width="stretch",
        height=min(720, 38 + 35 * len(shown)),
        column_config={
            "pair": st.column_config.TextColumn("pair", help="query language → language of the positive passage"),
            "n": st.column_config.NumberColumn("n", format="%d", help="queries of this pair both profiles score"),
            "wins": st.column_config.NumberColumn("A better", format="%d"),
            "ties": st.column_config.NumberColumn("tie", format="%d"),
            "losses": st.column_config.NumberColumn("B better", format="%d"),
            "mean_a": st.column_config.NumberColumn(f"A · {profile_label(a)}"),
            "mean_b": st.column_config.NumberColumn(f"B · {profile_label(b)}"),
            "mean_diff": st.column_config.NumberColumn("Δ A − B", help="mean per-query difference"),
            "p_randomization": st.column_config.NumberColumn("p rand.", help="paired sign-flip test, two-sided"),
            "holm_randomization": st.column_config.NumberColumn("Holm p rand.", help="Holm-corrected across the pairs"),
            "p_ttest": st.column_config.NumberColumn("p t-test", help="paired t-test (scipy ttest_rel), two-sided"),
            "holm_ttest": st.column_config.NumberColumn("Holm p t", help="Holm-corrected across the pairs"),
        },
    )
    n_sig = int((groups["holm_randomization"] < ALPHA).sum())
    n_exact = int(groups["exact"].sum())
    sampling = "exact for every pair" if n_exact == len(groups) else f"exact for {n_exact}, sampled for {len(groups) - n_exact}"
    st.caption(
        f"{len(groups)} language pairs · n = {int(groups['n'].sum()):,} queries with a known pair · "
        f"{n_sig} pair(s) significant at {ALPHA:g} after Holm (randomisation test, in blue) · randomisation p {sampling}. "
        "Green: A better, red: B better; None: the t-test needs n ≥ 2. Click a header to sort in place."
    )


HELP = f"""
- **Paired** — both profiles score the same queries; every statistic uses the per-query difference
  d = A − B of the chosen metric. *A better / tie / B better* count d > 0, d = 0, d < 0.
- **Randomisation test** (sign flip, two-sided) — if A and B were interchangeable, each d could
  as well have the opposite sign. p is the share of sign assignments whose |Σ d| is at least the
  observed one. Zero differences change no sum and are left out; with at most {EXACT_MAX} non-zero
  differences all 2^m assignments are enumerated (exact), otherwise {DEFAULT_PERMUTATIONS:,} random
  assignments with the fixed seed {DEFAULT_SEED} give p = (1 + hits) / (1 + {DEFAULT_PERMUTATIONS:,}). It makes
  no normality assumption and suits 0/1 metrics such as hit@10.
- **Paired t-test** — scipy's `ttest_rel`, for comparison. All d = 0 gives p = 1; all d equal and
  non-zero gives p = 0 (infinite t); fewer than 2 queries gives —.
- **Holm** — with one test per language pair, some small p-values appear by chance. Holm's
  step-down correction (p sorted ascending, the i-th multiplied by m − i + 1, made monotone,
  capped at 1) controls the chance of any false positive among the pairs. The overall row is not
  corrected.
- **Small n** — most pairs hold few queries: with n non-zero differences the smallest possible
  randomisation p is 2 / 2^n, so a pair of 4 queries can never reach 0.05 (2/16 = 0.125).
- **Reference profiles** (*ref ·*) rank only their candidate list: a positive outside it scores 0.
"""


data = load_app_data()
if data is not None:
    st.title("Significance")
    profiles = [*data.computed, *data.references]
    c1, c2, c3, c4 = st.columns([2, 2, 1.4, 2.4])
    default_a = "dense" if "dense" in profiles else profiles[0]
    default_b = "bm25" if default_a != "bm25" else profiles[-1]
    ready = "-".join(data.computed)  # a new widget once dense and hybrid arrive, so the new defaults apply
    with c1:
        a = url_select("Profile A", "a", profiles, default=default_a, key=f"sig_a_{ready}", fmt=profile_label)
    with c2:
        b = url_select("Profile B", "b", profiles, default=default_b, key=f"sig_b_{ready}", fmt=profile_label)
    with c3:
        metric = url_select("Metric", "metric", list(METRIC_KEYS), default="ndcg@10", key="sig_metric")
    with c4:
        sort = url_select("Sort pairs by", "sort", list(SORTS), default="pair", key="sig_sort", fmt=lambda s: SORTS[s][0])
    if a == b:
        st.info("Choose two different profiles to compare.")
    else:
        key = (data.ctx.fingerprint, data.dense_model, tuple(data.profiles))
        result = comparison(key, data, a=a, b=b, metric=metric)
        st.caption(f"A = {profile_label(a)}, B = {profile_label(b)} · {metric} per query · paired over the same queries")
        st.subheader("Overall")
        overall_cards(result.iloc[0], a=a, b=b, metric=metric)
        st.subheader("Per language pair")
        pair_table(result, a=a, b=b, sort=sort)
    with st.expander("About the tests"):
        st.markdown(HELP)
    finish_dense(data)
