"""Language-aware hybrid: RRF of two profiles with the weight of profile A chosen per group of queries.

The dataset card's advice for this task is that a hybrid needs language-aware weighting: BM25
is useless when a query and its passage share no script and strong when they do. This module
asks whether a weight per group of queries beats one weight for all, **measured on queries the
weights were not fitted on**.

Groups (``by``)
    What a retriever can know at query time is the query itself, so the honest groupings come
    from the query side: ``"query_lang"`` (its detected language, the default) or
    ``"query_script"`` (its dominant script). ``"script_relation"`` (query and positive share a
    script, or not) uses the positive, which is unknown at query time: it is an **oracle /
    diagnostic** — how much a perfect script-relation signal would be worth — and is labelled so
    (``oracle: true``) in every output. The caller gives the labels (:func:`query_groups` reads
    them from :func:`nanomlqa_viz.analysis.query_table`); ``by`` names what they are.

Fusion
    Exactly :mod:`nanomlqa_viz.whatif` (hence :func:`nanomlqa_viz.fusion.rrf_scores`): depth-limited
    RRF, blocks of equal fused score and best single-list rank in random order: every value is the
    tie-aware expected metric, as the app shows the hybrid profile's (for BM25 + dense, plain RRF's
    values are exactly the hybrid profile's ``View.per_query``). The weight grid holds values of ``w_a``;
    ``scheme="convex"`` pairs each with ``w_b = 1 − w_a`` (0: B alone within the depth, 0.5: plain
    RRF's order, 1: A alone), ``scheme="fixed_b"`` with ``w_b = 1``. RRF k may be a grid too
    (``ks``); it is then chosen once for all groups.

Fitting (on a set of queries)
    For each k, the global weight is the grid value with the best mean metric over the set, and
    each group's weight the best over the group's queries in the set; a group with fewer than
    ``min_group`` queries in the set (or none: a group seen only at evaluation) uses the global
    weight. k is then the grid value whose per-group fit is best (first in ``ks`` on a tie). Ties
    between weights carry no evidence, so a group keeps the global weight when it is among the
    best, and the global weight is the one closest to equal weighting (plain RRF's order) among
    the best.

Honest evaluation
    ``splits`` random halvings of the queries (seeded by ``seed``, stratified by group: each
    group's queries are shuffled and split in half, an odd one out going to a random side). On
    each split the per-group weights are fitted on one half and measured on the other, next to
    three baselines measured on the same held-out half: **plain RRF** (the default
    :class:`~nanomlqa_viz.fusion.FusionParams`: k = 100, depth 500, equal weights), the **best
    single profile** (A or B, whichever is better on the fit half; A on a tie) and the **global
    tuned** fusion (one (k, weight) for all queries, fitted on the same half — the gain over it is
    what language-awareness itself adds). ``held_out`` has the per-split means.

Paired test
    Each query is held out in about half of the splits. Its **cross-validated value** is the
    mean of its held-out values over those splits; the tests (:func:`nanomlqa_viz.significance.compare`:
    sign-flip randomisation, paired t-test, Holm across language pairs) run on these, one value
    per query. Pooling the held-out values of all splits instead would count each query about
    ``splits / 2`` times as if they were independent and shrink p-values by that factor for no
    new evidence; a test on the ``splits`` per-split means treats heavily overlapping halves as
    independent samples, which is known to be anti-conservative (Nadeau & Bengio, 2003). One
    value per query keeps n = the number of queries. The p-values are still approximate: on
    one split the fitted weights depend on the other queries of the fit half, so queries are not
    fully independent. The per-split gains (mean, sd, min, max, share > 0) show the spread.

``chosen`` holds the weights fitted on **all** queries, for display only: the held-out numbers
never use them, and their in-sample metric (``overall["in_sample_lang_aware"]``, next to
``in_sample_global_tuned``) is optimistic: per-group weights fitted and measured on the same
queries can only match or beat one global weight fitted the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nanomlqa_viz.escaping import plotly_text
from nanomlqa_viz.fusion import FusionParams
from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.pipeline import View
from nanomlqa_viz.significance import compare
from nanomlqa_viz.whatif import PositivesLike, listed_positives, metrics_from_ranks, relevant_indices, view_ranks

__all__ = [
    "BASELINES",
    "BASELINE_LABELS",
    "BY_OPTIONS",
    "DEFAULT_PROFILES",
    "DEFAULT_WEIGHT_GRID",
    "NO_POSITIVE",
    "ORACLE_GROUPINGS",
    "PAIR_TABLE_COLUMNS",
    "PER_PAIR_COLUMNS",
    "SCHEMES",
    "LangHybridParams",
    "LangHybridResult",
    "gain_figure",
    "language_aware_hybrid",
    "language_aware_hybrid_report",
    "pair_table",
    "query_groups",
    "view_language_aware_hybrid",
    "weights_figure",
]

BY_OPTIONS: dict[str, str] = {
    "query_lang": "the query's language (known at query time)",
    "query_script": "the query's dominant script (known at query time)",
    "script_relation": "query and positive share a script or not (oracle: uses the positive, unknown at query time)",
}
"""Groupings of the queries, with what each one uses."""
ORACLE_GROUPINGS = frozenset({"script_relation"})
"""Groupings that use the positive: a diagnostic of what a perfect signal is worth, not a retriever."""
SCHEMES = ("convex", "fixed_b")
"""``convex``: ``w_b = 1 − w_a``; ``fixed_b``: ``w_b = 1``."""
DEFAULT_WEIGHT_GRID: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
BASELINES = ("plain_rrf", "best_single", "global_tuned")
"""What the language-aware hybrid is compared with, on the same held-out queries."""
NO_POSITIVE = "no positive"
"""Group label of a query without a positive under ``by="script_relation"``."""
_TIE = 1e-12  # fit means closer than this are a tie


@dataclass(frozen=True)
class LangHybridParams:
    by: str = "query_lang"  # one of BY_OPTIONS: what the caller's group labels are
    weights: tuple[float, ...] = DEFAULT_WEIGHT_GRID  # grid of w_a
    scheme: str = "convex"  # w_b = 1 - w_a ("convex") or 1 ("fixed_b")
    ks: tuple[float, ...] = (100.0,)  # RRF k grid (the builder's k = 100 alone by default)
    depth: int = FusionParams.depth
    tie_break: str = FusionParams.tie_break
    splits: int = 20
    seed: int = 0
    metric: str = "ndcg@10"
    min_group: int = 5  # fewer fit queries than this: the group uses the global weight

    @property
    def oracle(self) -> bool:
        return self.by in ORACLE_GROUPINGS

    def weight_pairs(self) -> np.ndarray:
        """The grid as ``(n_weights, 2)`` (w_a, w_b) pairs."""
        w_a = np.asarray(self.weights, dtype=np.float64)
        w_b = np.round(1.0 - w_a, 12) if self.scheme == "convex" else np.ones_like(w_a)
        return np.stack([w_a, w_b], axis=1)

    def check(self) -> None:
        if self.by not in BY_OPTIONS:
            raise ValueError(f"by must be one of {', '.join(BY_OPTIONS)}, got {self.by!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {self.scheme!r}")
        if not self.weights or not all(math.isfinite(w) for w in self.weights):
            raise ValueError(f"weights must be a non-empty grid of finite numbers, got {self.weights}")
        if np.any(self.weight_pairs().sum(axis=1) == 0):
            raise ValueError("a weight pair of the grid is (0, 0): every passage would score 0")
        if not self.ks or not all(math.isfinite(k) and k >= 0 for k in self.ks):
            raise ValueError(f"ks must be a non-empty grid of finite numbers ≥ 0, got {self.ks}")
        if self.depth < 1:
            raise ValueError(f"depth must be ≥ 1, got {self.depth}")
        if self.splits < 1:
            raise ValueError(f"splits must be ≥ 1, got {self.splits}")
        if self.min_group < 1:
            raise ValueError(f"min_group must be ≥ 1, got {self.min_group}")
        if self.metric not in METRIC_KEYS:
            raise KeyError(f"unknown metric {self.metric!r}; choose from {', '.join(METRIC_KEYS)}")

    def describe(self) -> dict[str, object]:
        return {
            "by": self.by,
            "grouping": BY_OPTIONS.get(self.by, self.by),
            "oracle": self.oracle,
            "weights_a": [float(w) for w in self.weights],
            "scheme": "w_b = 1 - w_a" if self.scheme == "convex" else "w_b = 1",
            "ks": [float(k) for k in self.ks],
            "depth": self.depth,
            "tie_break": self.tie_break,
            "splits": self.splits,
            "seed": self.seed,
            "metric": self.metric,
            "min_group": self.min_group,
        }


@dataclass(frozen=True, eq=False)
class LangHybridResult:
    """What :func:`language_aware_hybrid` found; see the module notes for every definition.

    ``held_out`` columns: ``split``, ``n_fit``, ``n_eval``, ``k`` (fitted), ``w_a_global`` /
    ``w_b_global`` (the fallback weight), ``groups_fitted`` / ``groups_fallback``, the mean metric
    over the held-out half of ``lang_aware`` and each of :data:`BASELINES`, ``best_single_name``
    and ``gain_vs_<baseline>``. ``per_query`` (index ``query_id``): ``group``, ``pair``,
    ``evaluations`` (splits that held the query out) and the cross-validated value of each method
    (NaN when never held out). ``per_pair``: :data:`PER_PAIR_COLUMNS` (``n``: queries held out at
    least once; ``p_vs_*``: sign-flip randomisation; ``holm_vs_*``: Holm across the pairs).
    ``overall``: ``n``, the cross-validated means, ``gain_vs_*``, ``p_vs_*`` (randomisation),
    ``p_ttest_vs_*``, ``wins_ties_losses_vs_*``, ``split_gain_vs_*`` (mean, sd, min, max,
    share_positive over splits), ``best_single_chosen`` (splits per profile) and the optimistic
    ``in_sample_lang_aware`` / ``in_sample_global_tuned``.
    """

    params: LangHybridParams
    names: tuple[str, str]  # profiles A and B
    chosen: dict[str, tuple[float, float]]  # group -> (w_a, w_b) fitted on ALL queries (display only)
    chosen_k: float  # k fitted on all queries
    global_weights: tuple[float, float]  # the one-for-all weight fitted on all queries
    group_counts: dict[str, int]  # queries per group
    fallback_groups: tuple[str, ...]  # groups below min_group on all queries (they use the global weight)
    held_out: pd.DataFrame  # one row per split
    split_weights: pd.DataFrame  # one row per split and group: the weight fitted on that split's fit half
    per_query: pd.DataFrame  # one row per query: cross-validated values of each method
    per_pair: pd.DataFrame  # one row per language pair
    overall: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The ``language_aware_hybrid`` key of ``report --json`` (NaN as null)."""
        return _json_safe(
            {
                "params": self.params.describe(),
                "profiles": {"a": self.names[0], "b": self.names[1]},
                "chosen_on_all_queries": {
                    "note": "fitted on all queries, for display; the held-out numbers never use them",
                    "k": self.chosen_k,
                    "global_weights": list(self.global_weights),
                    "groups": {
                        g: {"w_a": w[0], "w_b": w[1], "n": self.group_counts.get(g, 0), "fallback": g in self.fallback_groups}
                        for g, w in self.chosen.items()
                    },
                },
                "held_out": self.overall,
                "per_pair": self.per_pair.to_dict("records"),
            }
        )


def _json_safe(value):
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- groups


def query_groups(table: pd.DataFrame, *, by: str) -> list[str]:
    """The group label of every query from :func:`nanomlqa_viz.analysis.query_table`'s frame.

    ``by="script_relation"`` (oracle) labels a query without a positive :data:`NO_POSITIVE`.
    """
    if by not in BY_OPTIONS:
        raise ValueError(f"by must be one of {', '.join(BY_OPTIONS)}, got {by!r}")
    if by not in table.columns:
        raise KeyError(f"the query table has no column {by!r}")
    labels = table[by].astype(str)
    if by == "script_relation" and "positive_id" in table.columns:
        labels = labels.where(table["positive_id"].astype(str) != "", NO_POSITIVE)
    return labels.tolist()


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, eq=False)
class _Fit:
    k_index: int
    group_w: np.ndarray  # (n_groups,) weight index per group
    global_w: int  # weight index
    fallback: np.ndarray  # (n_groups,) bool
    fit_counts: np.ndarray  # (n_groups,) fit queries per group
    tuned_k: int  # (k, weight) of the global tuned fusion
    tuned_w: int


def _best(means: np.ndarray, *, preferred: Sequence[int]) -> int:
    """Index of the largest mean; on a tie the first of ``preferred`` among the best, else the first best."""
    top = float(np.max(means))
    best = np.flatnonzero(means >= top - _TIE)
    for index in preferred:
        if index in best:
            return int(index)
    return int(best[0])


def _fit(values: np.ndarray, codes: np.ndarray, n_groups: int, mask: np.ndarray, *, min_group: int, balance: list[int]) -> _Fit:
    """Per-group weights, k and the global tuned setting on the queries in ``mask``.

    ``values``: ``(n_k, n_w, n_q)`` per-query metric of every setting; ``balance``: weight
    indices from the closest to equal weighting to the farthest (the tie preference).
    """
    in_fit = mask.astype(np.float64)
    n_fit = max(1.0, float(in_fit.sum()))
    onehot = (codes[:, None] == np.arange(n_groups)[None, :]) * in_fit[:, None]  # (n_q, n_g)
    counts = onehot.sum(axis=0)
    global_means = values @ in_fit / n_fit  # (n_k, n_w)
    group_sums = values @ onehot  # (n_k, n_w, n_g)
    fallback = counts < min_group
    per_k_global, per_k_groups, per_k_score = [], [], []
    for ki in range(values.shape[0]):
        g_w = _best(global_means[ki], preferred=balance)
        choice = np.full(n_groups, g_w, dtype=np.int64)
        for g in np.flatnonzero(~fallback):
            choice[g] = _best(group_sums[ki, :, g] / counts[g], preferred=[g_w, *balance])
        per_k_global.append(g_w)
        per_k_groups.append(choice)
        per_k_score.append(float(group_sums[ki, choice, np.arange(n_groups)].sum()) / n_fit)
    k_index = _best(np.array(per_k_score), preferred=[])
    tuned_k = _best(global_means.max(axis=1), preferred=[])
    return _Fit(
        k_index=k_index,
        group_w=per_k_groups[k_index],
        global_w=per_k_global[k_index],
        fallback=fallback,
        fit_counts=counts.astype(np.int64),
        tuned_k=tuned_k,
        tuned_w=_best(global_means[tuned_k], preferred=balance),
    )


def _halves(codes: np.ndarray, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """A fit mask: half of each group's queries (an odd one out to a random side)."""
    mask = np.zeros(codes.size, dtype=bool)
    for g in range(n_groups):
        members = rng.permutation(np.flatnonzero(codes == g))
        n_fit = members.size // 2 + (int(rng.integers(0, 2)) if members.size % 2 else 0)
        mask[members[:n_fit]] = True
    return mask


# --------------------------------------------------------------------------- the study


def _labels(values: Sequence[str], n_queries: int, what: str) -> np.ndarray:
    out = np.array(["" if v is None else str(v) for v in values], dtype=object)
    if out.shape != (n_queries,):
        raise ValueError(f"{len(out)} {what} labels for {n_queries} queries")
    return out


def language_aware_hybrid(
    ranks_a: np.ndarray,
    ranks_b: np.ndarray,
    positives: PositivesLike,
    *,
    groups: Sequence[str],
    pairs: Sequence[str],
    params: LangHybridParams = LangHybridParams(),
    names: tuple[str, str] = ("A", "B"),
    query_ids: Sequence[str] | None = None,
    id_rank: np.ndarray | None = None,
    single: tuple[Sequence[float], Sequence[float]] | None = None,
) -> LangHybridResult:
    """Fit per-group RRF weights of profiles A and B and measure them on held-out queries.

    ``ranks_a`` / ``ranks_b``: 1-based rank arrays ``(n_queries, n_docs)`` of the two profiles
    (:func:`nanomlqa_viz.whatif.fusion_ranks`); ``positives``: the relevant passages, as in
    :meth:`nanomlqa_viz.whatif.Positives.of`; ``groups``: the weighting group of every query (what
    ``params.by`` names; :func:`query_groups`); ``pairs``: its language pair (query language →
    positive language) for the per-pair table ("" counts only overall); ``names``: labels of A
    and B; ``query_ids``: the index of ``per_query`` (default ``"0", "1", …``); ``id_rank`` as in
    :mod:`nanomlqa_viz.whatif`; ``single``: the per-query ``params.metric`` of A and of B alone,
    tie-aware from their own scores (``View.per_query``) — without it they are measured from the
    rank arrays, where ties are already broken by id. Fused values are tie-aware expected values
    (:meth:`nanomlqa_viz.whatif.ListedPositives.tie_metrics`). See the module notes for the method.
    """
    params.check()
    lists = listed_positives(ranks_a, ranks_b, positives, depth=params.depth, tie_break=params.tie_break, id_rank=id_rank)
    pos = lists.positives
    n_q = pos.n_queries
    group_labels = _labels(groups, n_q, "group")
    pair_labels = _labels(pairs, n_q, "pair")
    ids = [str(q) for q in (query_ids if query_ids is not None else range(n_q))]
    if len(ids) != n_q or len(set(ids)) != n_q:
        raise ValueError(f"query_ids must be {n_q} distinct ids")
    group_names = sorted(set(group_labels))
    codes = np.array([group_names.index(g) for g in group_labels], dtype=np.int64)
    n_groups = len(group_names)
    metric = params.metric

    def fused_values(source, k: float, weights: tuple[float, float]) -> np.ndarray:
        return source.tie_metrics(k=k, weights=weights).expected[metric].to_numpy(dtype=np.float64)

    grid = params.weight_pairs()
    ks = [float(k) for k in params.ks]
    values = np.empty((len(ks), len(grid), n_q))
    for ki, k in enumerate(ks):
        for wi, w in enumerate(grid):
            values[ki, wi] = fused_values(lists, k, (float(w[0]), float(w[1])))
    if single is None:
        from_ranks = (lists.pos_rank_a, lists.pos_rank_b)
        single_values = np.stack([metrics_from_ranks(r, pos)[metric].to_numpy(dtype=np.float64) for r in from_ranks])
    else:
        single_values = np.asarray(single, dtype=np.float64)
        if single_values.shape != (2, n_q):
            raise ValueError(f"single must hold two sequences of {n_q} per-query values, got shape {single_values.shape}")
    plain_params = FusionParams()
    plain_lists = lists
    if (params.depth, params.tie_break) != (plain_params.depth, plain_params.tie_break):
        plain_lists = listed_positives(
            ranks_a, ranks_b, pos, depth=plain_params.depth, tie_break=plain_params.tie_break, id_rank=id_rank
        )
    plain = fused_values(plain_lists, plain_params.k, plain_params.weights)
    share_a = grid[:, 0] / grid.sum(axis=1)
    balance = [int(i) for i in np.argsort(np.abs(share_a - 0.5), kind="stable")]

    def apply(fit: _Fit) -> tuple[np.ndarray, np.ndarray]:
        """Per-query values of the language-aware and the global tuned fusion under ``fit``."""
        aware = values[fit.k_index, fit.group_w[codes], np.arange(n_q)]
        return aware, values[fit.tuned_k, fit.tuned_w]

    rng = np.random.default_rng(params.seed)
    sums = {name: np.zeros(n_q) for name in ("lang_aware", *BASELINES)}
    evaluations = np.zeros(n_q, dtype=np.int64)
    split_rows, weight_rows = [], []
    for split in range(params.splits):
        fit_mask = _halves(codes, n_groups, rng)
        eval_mask = ~fit_mask
        fit = _fit(values, codes, n_groups, fit_mask, min_group=params.min_group, balance=balance)
        aware, tuned = apply(fit)
        single_means = single_values[:, fit_mask].mean(axis=1) if fit_mask.any() else np.zeros(2)
        single_index = _best(single_means, preferred=[])
        per = {"lang_aware": aware, "plain_rrf": plain, "best_single": single_values[single_index], "global_tuned": tuned}
        for name, v in per.items():
            sums[name][eval_mask] += v[eval_mask]
        evaluations[eval_mask] += 1
        means = {name: float(v[eval_mask].mean()) if eval_mask.any() else math.nan for name, v in per.items()}
        split_rows.append(
            {
                "split": split,
                "n_fit": int(fit_mask.sum()),
                "n_eval": int(eval_mask.sum()),
                "k": ks[fit.k_index],
                "w_a_global": float(grid[fit.global_w, 0]),
                "w_b_global": float(grid[fit.global_w, 1]),
                "groups_fitted": int((~fit.fallback).sum()),
                "groups_fallback": int(fit.fallback.sum()),
                **means,
                "best_single_name": names[single_index],
                **{f"gain_vs_{b}": means["lang_aware"] - means[b] for b in BASELINES},
            }
        )
        for g, name in enumerate(group_names):
            w = grid[fit.group_w[g]]
            weight_rows.append(
                {
                    "split": split,
                    "group": name,
                    "n_fit": int(fit.fit_counts[g]),
                    "fallback": bool(fit.fallback[g]),
                    "w_a": float(w[0]),
                    "w_b": float(w[1]),
                    "share_a": float(share_a[fit.group_w[g]]),
                }
            )
    held_out = pd.DataFrame(split_rows)
    split_weights = pd.DataFrame(weight_rows)

    # cross-validated value of every query: the mean over the splits that held it out
    seen = evaluations > 0
    per_query = pd.DataFrame(
        {
            "group": group_labels,
            "pair": pair_labels,
            "evaluations": evaluations,
            **{name: np.where(seen, s / np.maximum(evaluations, 1), np.nan) for name, s in sums.items()},
        },
        index=pd.Index(ids, name="query_id"),
    )
    pair_series = per_query["pair"].where(per_query["pair"] != "", np.nan)
    tests = {b: compare(per_query["lang_aware"], per_query[b], metric=metric, groups=pair_series) for b in BASELINES}
    overall_rows = {b: t.iloc[0] for b, t in tests.items()}

    everything = _fit(values, codes, n_groups, np.ones(n_q, dtype=bool), min_group=params.min_group, balance=balance)
    in_sample, in_sample_tuned = apply(everything)
    chosen = {
        name: (float(grid[everything.group_w[g], 0]), float(grid[everything.group_w[g], 1])) for g, name in enumerate(group_names)
    }
    counts = {name: int(np.count_nonzero(codes == g)) for g, name in enumerate(group_names)}

    def spread(column: str) -> dict[str, float]:
        gains = held_out[column].to_numpy(dtype=float)
        return {
            "mean": float(gains.mean()),
            "sd": float(gains.std(ddof=1)) if gains.size > 1 else math.nan,
            "min": float(gains.min()),
            "max": float(gains.max()),
            "share_positive": float(np.mean(gains > _TIE)),
        }

    overall: dict[str, object] = {
        "metric": metric,
        "by": params.by,
        "oracle": params.oracle,
        "n": int(overall_rows["plain_rrf"]["n"]),
        "splits": params.splits,
        "lang_aware": float(overall_rows["plain_rrf"]["mean_a"]),
        **{b: float(overall_rows[b]["mean_b"]) for b in BASELINES},
        **{f"gain_vs_{b}": float(overall_rows[b]["mean_diff"]) for b in BASELINES},
        **{f"p_vs_{b}": float(overall_rows[b]["p_randomization"]) for b in BASELINES},
        **{f"p_ttest_vs_{b}": float(overall_rows[b]["p_ttest"]) for b in BASELINES},
        **{f"wins_ties_losses_vs_{b}": [int(overall_rows[b][c]) for c in ("wins", "ties", "losses")] for b in BASELINES},
        **{f"split_gain_vs_{b}": spread(f"gain_vs_{b}") for b in BASELINES},
        "best_single_chosen": {name: int((held_out["best_single_name"] == name).sum()) for name in dict.fromkeys(names)},
        "in_sample_lang_aware": float(in_sample.mean()) if n_q else math.nan,
        "in_sample_global_tuned": float(in_sample_tuned.mean()) if n_q else math.nan,
        "in_sample_note": "fitted and measured on all queries: optimistic (the per-group weights most)",
    }
    return LangHybridResult(
        params=params,
        names=(str(names[0]), str(names[1])),
        chosen=chosen,
        chosen_k=ks[everything.k_index],
        global_weights=(float(grid[everything.global_w, 0]), float(grid[everything.global_w, 1])),
        group_counts=counts,
        fallback_groups=tuple(name for g, name in enumerate(group_names) if everything.fallback[g]),
        held_out=held_out,
        split_weights=split_weights,
        per_query=per_query,
        per_pair=_per_pair(per_query, tests),
        overall=overall,
    )


PER_PAIR_COLUMNS = [
    "pair",
    "group",
    "n",
    "evaluations",
    "lang_aware",
    *BASELINES,
    *(f"gain_vs_{b}" for b in BASELINES),
    *(f"p_vs_{b}" for b in BASELINES),
    *(f"holm_vs_{b}" for b in BASELINES),
]


def _per_pair(per_query: pd.DataFrame, tests: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    labelled = per_query[per_query["pair"] != ""]
    indexed = {b: t.iloc[1:].set_index("group") for b, t in tests.items()}
    for pair, part in labelled.groupby("pair", sort=True):
        held = part[part["evaluations"] > 0]
        group_set = sorted(set(part["group"]))
        row: dict[str, object] = {
            "pair": str(pair),
            "group": group_set[0] if len(group_set) == 1 else "mixed",
            "n": len(held),
            "evaluations": int(part["evaluations"].sum()),
            "lang_aware": float(held["lang_aware"].mean()) if len(held) else math.nan,
        }
        for b in BASELINES:
            row[b] = float(held[b].mean()) if len(held) else math.nan
        for b in BASELINES:
            row[f"gain_vs_{b}"] = row["lang_aware"] - row[b]
        for b in BASELINES:
            test = indexed[b]
            row[f"p_vs_{b}"] = float(test.loc[pair, "p_randomization"]) if pair in test.index else math.nan
        for b in BASELINES:
            test = indexed[b]
            row[f"holm_vs_{b}"] = float(test.loc[pair, "holm_randomization"]) if pair in test.index else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=PER_PAIR_COLUMNS)


# --------------------------------------------------------------------------- figures

_GAIN = "#16a34a"
_LOSS = "#dc2626"
_OVERALL = "#2563eb"
_BASELINE_LABELS = {"plain_rrf": "plain RRF", "best_single": "best single profile", "global_tuned": "global tuned weight"}


def _fmt_p(p: float) -> str:
    return "–" if p is None or not math.isfinite(p) else f"{p:.3g}"


def gain_figure(result: LangHybridResult, *, against: str = "plain_rrf", height: int | None = None) -> go.Figure:
    """Held-out gain of the language-aware hybrid over ``against`` per language pair (n in every label).

    One horizontal bar per pair (green: gain, red: loss) and the overall bar on top; hover: both
    cross-validated means, the randomisation p and its Holm correction.
    """
    if against not in BASELINES:
        raise ValueError(f"against must be one of {', '.join(BASELINES)}, got {against!r}")
    metric = result.params.metric
    base = _BASELINE_LABELS[against]
    frame = result.per_pair
    o = result.overall
    labels = [plotly_text(f"all (n={o['n']})")] + [plotly_text(f"{p} (n={n})") for p, n in zip(frame["pair"], frame["n"])]
    gains = [o[f"gain_vs_{against}"], *frame[f"gain_vs_{against}"].tolist()]
    hovers = [
        f"all queries · n={o['n']}<br>language-aware {o['lang_aware']:.3f} · {base} {o[against]:.3f}"
        f"<br>p (randomisation) {_fmt_p(o[f'p_vs_{against}'])}"
    ]
    for row in frame.to_dict("records"):
        hovers.append(
            f"{plotly_text(row['pair'])} · group {plotly_text(row['group'])} · n={row['n']}"
            f"<br>language-aware {row['lang_aware']:.3f} · {base} {row[against]:.3f}"
            f"<br>p {_fmt_p(row[f'p_vs_{against}'])} · Holm {_fmt_p(row[f'holm_vs_{against}'])}"
        )
    colors = [_OVERALL] + [
        _GAIN if (g is not None and g > _TIE) else _LOSS if (g is not None and g < -_TIE) else "#9ca3af" for g in gains[1:]
    ]
    fig = go.Figure(
        go.Bar(
            x=gains,
            y=labels,
            orientation="h",
            marker={"color": colors},
            customdata=hovers,
            hovertemplate=f"%{{customdata}}<br>gain %{{x:+.3f}} {metric}<extra></extra>",
        )
    )
    oracle = " · oracle grouping (uses the positive)" if result.params.oracle else ""
    fig.update_layout(
        height=height or max(260, 22 * len(labels) + 90),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": plotly_text(f"held-out gain over {base}, grouped by {result.params.by}{oracle}"), "font": {"size": 13}},
        xaxis={"title": f"{metric}: language-aware − {base} (held out)", "zeroline": True, "zerolinecolor": "#374151"},
        yaxis={"autorange": "reversed", "type": "category"},
        plot_bgcolor="white",
    )
    return fig


def weights_figure(result: LangHybridResult, *, height: int = 380) -> go.Figure:
    """Share of profile A's weight (``w_a / (w_a + w_b)``) per group: the choice on every split's
    fit half (points) and on all queries (diamond); n and fallback groups in the labels."""
    sw = result.split_weights
    name_a, name_b = (plotly_text(n) for n in result.names)
    fig = go.Figure()
    labels = {}
    for group, n in result.group_counts.items():
        suffix = ", global weight" if group in result.fallback_groups else ""
        labels[group] = plotly_text(f"{group} (n={n}{suffix})")
    for group in result.group_counts:
        part = sw[sw["group"] == group]
        fig.add_trace(
            go.Box(
                x=[labels[group]] * len(part),
                y=part["share_a"],
                name=labels[group],
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                fillcolor="rgba(0,0,0,0)",
                line={"color": "#9ca3af"},
                marker={"color": "#6b7280", "size": 5},
                hovertemplate=f"{labels[group]}<br>share of {name_a} %{{y:.2f}} (one split's fit half)<extra></extra>",
                showlegend=False,
            )
        )
    shares = [w[0] / (w[0] + w[1]) for w in result.chosen.values()]
    fig.add_trace(
        go.Scatter(
            x=[labels[g] for g in result.chosen],
            y=shares,
            mode="markers",
            name="fitted on all queries",
            marker={"symbol": "diamond", "size": 12, "color": _OVERALL, "line": {"width": 1, "color": "white"}},
            hovertemplate=f"%{{x}}<br>share of {name_a} %{{y:.2f}} (all queries)<extra></extra>",
        )
    )
    fig.add_hline(y=0.5, line={"color": "#9ca3af", "dash": "dot", "width": 1}, annotation_text="equal weights (plain RRF)")
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": plotly_text(f"group ({result.params.by})"), "type": "category"},
        yaxis={"title": f"w_{name_a} / (w_{name_a} + w_{name_b})", "range": [-0.05, 1.05]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        plot_bgcolor="white",
    )
    return fig


# --------------------------------------------------------------------------- from a view

DEFAULT_PROFILES: tuple[str, str] = ("bm25", "dense")
"""Profiles A and B of the report (BM25 and the first dense model)."""


def _pairs_of(table: pd.DataFrame) -> list[str]:
    """Each query's language pair from the query table; "" without a positive (counts only overall)."""
    has_positive = table["positive_id"].astype(str) != ""
    return table["pair"].astype(str).where(has_positive, "").tolist()


def view_language_aware_hybrid(view: View, a: str, b: str, params: LangHybridParams = LangHybridParams()) -> LangHybridResult:
    """:func:`language_aware_hybrid` of profiles ``a`` and ``b`` of the view, in its relevance mode (memoised).

    Relevant passages and the single profiles' tie-aware values follow ``view.mode``; groups and
    language pairs come from ``view.table()`` (the pair is that of the qrels positive).
    """
    params.check()

    def compute() -> LangHybridResult:
        table = view.table()
        per_query = view.per_query(view.mode)
        query_ids = list(view.task.query_ids)
        single = tuple(
            per_query[name][params.metric].reindex(query_ids).fillna(0.0).to_numpy(dtype=np.float64) for name in (a, b)
        )
        return language_aware_hybrid(
            view_ranks(view, a),
            view_ranks(view, b),
            relevant_indices(view),
            groups=query_groups(table, by=params.by),
            pairs=_pairs_of(table),
            params=params,
            names=(a, b),
            query_ids=query_ids,
            id_rank=view.pipeline.ctx.id_rank,
            single=single,
        )

    return view.cached("lang_hybrid", compute, profiles=(a, b), params=(params,))


def language_aware_hybrid_report(view: View, *, params: LangHybridParams = LangHybridParams()) -> dict[str, object]:
    """The ``language_aware_hybrid`` key of ``report --json``: BM25 + the first dense model, by query language.

    :meth:`LangHybridResult.to_json` with the relevance mode added, in the view's mode; when a
    profile is missing (no dense model ready, a failed model) ``{"skipped": reason}``.
    """
    missing = [name for name in DEFAULT_PROFILES if name not in view.registry]
    if missing:
        return {"skipped": f"profile(s) {', '.join(missing)} not available (the study fuses {' + '.join(DEFAULT_PROFILES)})"}
    if view.task.n_queries < 2:
        return {"skipped": f"{view.task.n_queries} query: nothing to split into fit and held-out halves"}
    result = view_language_aware_hybrid(view, *DEFAULT_PROFILES, params)
    return {"relevance_mode": str(view.mode), **result.to_json()}


BASELINE_LABELS = _BASELINE_LABELS
"""How the pages name each of :data:`BASELINES`."""
PAIR_TABLE_COLUMNS = ["pair", "group", "n", "lang_aware", "baseline", "gain", "p", "holm"]


def pair_table(result: LangHybridResult, *, against: str = "plain_rrf") -> pd.DataFrame:
    """The per-pair rows for one baseline: :data:`PAIR_TABLE_COLUMNS` (cross-validated means, held-out
    gain, randomisation p and its Holm correction across the pairs); n: queries held out at least once."""
    if against not in BASELINES:
        raise ValueError(f"against must be one of {', '.join(BASELINES)}, got {against!r}")
    frame = result.per_pair
    return pd.DataFrame(
        {
            "pair": frame["pair"],
            "group": frame["group"],
            "n": frame["n"].astype(int),
            "lang_aware": frame["lang_aware"],
            "baseline": frame[against],
            "gain": frame[f"gain_vs_{against}"],
            "p": frame[f"p_vs_{against}"],
            "holm": frame[f"holm_vs_{against}"],
        },
        columns=PAIR_TABLE_COLUMNS,
    )
