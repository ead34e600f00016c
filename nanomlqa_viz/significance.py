"""Paired significance of the difference between two profiles, overall and per group.

Both profiles are scored on the same queries, so every comparison is paired: the per-query
difference ``d = metric_A − metric_B`` over the queries both profiles score (inner join on
``query_id``; NaN values dropped). Reported per comparison:

- **wins / ties / losses** — queries where A scores higher / the same / lower.
- **mean difference** — the mean of ``d`` (= mean of A − mean of B over the same queries).
- **paired randomisation test** (sign flip), two-sided. Under the null hypothesis that the
  labels A and B are exchangeable within each query, every difference keeps its size and may
  flip its sign. The p-value is the share of sign assignments whose ``|Σ d|`` is at least the
  observed ``|Σ d|`` (zero differences do not change any sum and are left out). With at most
  :data:`EXACT_MAX` non-zero differences all ``2^m`` assignments are enumerated (exact p);
  otherwise :data:`DEFAULT_PERMUTATIONS` random assignments are drawn from a generator seeded
  with :data:`DEFAULT_SEED` and ``p = (1 + #{|Σ d*| ≥ |Σ d|}) / (1 + permutations)``, which is
  never 0 (Phipson & Smyth 2010). Identical results on every run.
- **paired t-test** — ``scipy.stats.ttest_rel``, two-sided. When every difference is 0 its
  statistic is 0/0; the p-value is then reported as 1 (no evidence of a difference); when all
  differences are equal and non-zero the statistic is infinite and p is 0 (the t-test's limit;
  on small groups trust the randomisation test). With fewer than 2 queries it is NaN.
- **Holm correction** across the groups (e.g. language pairs) of one comparison, separately
  for each test: the groups are the family; the overall row is not part of it.

:func:`compare_profiles` runs :func:`compare` on two profiles of a
:class:`~nanomlqa_viz.pipeline.View`: their tie-aware expected per-query values in the view's
relevance mode (``View.per_query``), grouped by language pair, memoised with ``View.cached``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nanomlqa_viz.metrics import METRIC_KEYS
from nanomlqa_viz.pipeline import View

__all__ = [
    "ALPHA",
    "COLUMNS",
    "DEFAULT_PERMUTATIONS",
    "DEFAULT_SEED",
    "EXACT_MAX",
    "OVERALL",
    "SORTS",
    "PairedTest",
    "compare",
    "compare_profiles",
    "fmt_p",
    "heat_style",
    "holm",
    "language_pairs",
    "paired_differences",
    "paired_test",
    "sign_flip_p",
    "significant_style",
    "sorted_pairs",
    "ttest_p",
]

EXACT_MAX = 20
"""Up to this many non-zero differences the sign-flip test enumerates all 2^m assignments."""
DEFAULT_PERMUTATIONS = 10_000
"""Random sign assignments drawn beyond :data:`EXACT_MAX` non-zero differences."""
DEFAULT_SEED = 20_240_601
"""Seed of the sign-flip generator: the same data always gives the same p-value."""
OVERALL = "all"
"""Label of the overall row in :func:`compare`."""
_TIE_TOL = 1e-12  # |d| below this is a tie (metric values are floats)
_CHUNK = 2_000  # random assignments per batch (bounds memory at ~chunk × n floats)

COLUMNS = [
    "group",
    "n",
    "wins",
    "ties",
    "losses",
    "mean_a",
    "mean_b",
    "mean_diff",
    "p_randomization",
    "p_ttest",
    "holm_randomization",
    "holm_ttest",
    "exact",
    "permutations",
]


@dataclass(frozen=True)
class PairedTest:
    """The paired comparison of A and B over ``n`` queries (``mean_diff`` = mean of A − B)."""

    n: int
    wins: int
    ties: int
    losses: int
    mean_a: float
    mean_b: float
    mean_diff: float
    p_randomization: float
    p_ttest: float
    exact: bool  # the randomisation p-value enumerates every sign assignment
    permutations: int  # sign assignments evaluated (2^m when exact)


def paired_differences(per_a: pd.Series, per_b: pd.Series) -> pd.DataFrame:
    """A and B aligned on their index (``query_id``), queries missing or NaN on either side dropped.

    Columns ``a``, ``b`` and ``diff`` (= a − b), index sorted as ``per_a``'s.
    """
    a = pd.to_numeric(per_a, errors="coerce").astype(float).rename("a")
    b = pd.to_numeric(per_b, errors="coerce").astype(float).rename("b")
    a.index = a.index.astype(str)
    b.index = b.index.astype(str)
    if not a.index.is_unique or not b.index.is_unique:
        raise ValueError("per-query values must have one row per query id")
    frame = pd.concat([a, b.reindex(a.index)], axis=1).dropna()
    frame["diff"] = frame["a"] - frame["b"]
    return frame


def sign_flip_p(
    diffs: Sequence[float] | np.ndarray,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    exact_max: int = EXACT_MAX,
) -> tuple[float, bool, int]:
    """Two-sided paired randomisation (sign-flip) p-value of ``Σ d``: ``(p, exact, assignments)``.

    Exact enumeration when at most ``exact_max`` differences are non-zero, else ``permutations``
    seeded random assignments. No differences, or all zero, give ``p = 1``.
    """
    signed = np.asarray(diffs, dtype=np.float64)
    signed = signed[np.abs(signed) > _TIE_TOL]
    m = int(signed.size)
    if m == 0:
        return 1.0, True, 1
    d = np.abs(signed)  # an assignment puts a sign on each |d|; the observed one is d's own signs
    observed = abs(float(signed.sum()))
    tol = 1e-9 * max(1.0, float(d.sum()))  # float sums of the same terms in another order
    if m <= exact_max:
        sums = np.zeros(1)
        for value in d:  # all 2^m signed sums, built one difference at a time
            sums = np.concatenate([sums + value, sums - value])
        extreme = int(np.count_nonzero(np.abs(sums) >= observed - tol))
        return extreme / sums.size, True, int(sums.size)
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    rng = np.random.default_rng(seed)
    extreme = 0
    left = permutations
    while left:
        size = min(left, _CHUNK)
        signs = rng.integers(0, 2, size=(size, m), dtype=np.int8) * 2 - 1
        extreme += int(np.count_nonzero(np.abs(signs @ d) >= observed - tol))
        left -= size
    return (1 + extreme) / (1 + permutations), False, permutations


def ttest_p(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sided paired t-test p-value (``scipy.stats.ttest_rel``); see the module notes for the edge cases."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 2:
        return math.nan
    d = a - b
    if np.all(np.abs(d) <= _TIE_TOL):
        return 1.0
    if np.ptp(d) <= _TIE_TOL:  # constant non-zero differences: t is infinite
        return 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def paired_test(
    per_a: pd.Series,
    per_b: pd.Series,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> PairedTest:
    """Every statistic of :class:`PairedTest` for two per-query Series aligned on ``query_id``."""
    frame = paired_differences(per_a, per_b)
    return _test(frame, permutations=permutations, seed=seed)


def _test(frame: pd.DataFrame, *, permutations: int, seed: int) -> PairedTest:
    d = frame["diff"].to_numpy(dtype=np.float64)
    n = int(d.size)
    p_rand, exact, assignments = sign_flip_p(d, permutations=permutations, seed=seed)
    return PairedTest(
        n=n,
        wins=int(np.count_nonzero(d > _TIE_TOL)),
        ties=int(np.count_nonzero(np.abs(d) <= _TIE_TOL)),
        losses=int(np.count_nonzero(d < -_TIE_TOL)),
        mean_a=float(frame["a"].mean()) if n else math.nan,
        mean_b=float(frame["b"].mean()) if n else math.nan,
        mean_diff=float(d.mean()) if n else math.nan,
        p_randomization=p_rand if n else math.nan,
        p_ttest=ttest_p(frame["a"].to_numpy(), frame["b"].to_numpy()),
        exact=exact,
        permutations=assignments if n else 0,
    )


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the input order; NaN stays NaN and is not counted.

    With the m finite p-values sorted ascending ``p_(1) ≤ … ≤ p_(m)``:
    ``adj_(i) = min(1, max_{j ≤ i} (m − j + 1) · p_(j))``.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def _metric_series(per: pd.DataFrame | pd.Series, metric: str) -> pd.Series:
    if isinstance(per, pd.Series):
        return per
    if metric not in per.columns:
        raise KeyError(f"metric {metric!r} is not a column of the per-query metrics ({', '.join(map(str, per.columns))})")
    return per[metric]


def compare(
    per_a: pd.DataFrame | pd.Series,
    per_b: pd.DataFrame | pd.Series,
    *,
    metric: str,
    groups: pd.Series | None = None,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """The paired comparison of A and B on ``metric``: the overall row, then one row per group.

    ``per_a`` / ``per_b``: per-query metrics indexed by ``query_id`` (a frame with a ``metric``
    column, or the Series itself). ``groups``: a label per ``query_id`` (e.g. the language pair);
    a query without a label (NaN or "") counts only in the overall row. Groups are sorted by
    label. Columns: :data:`COLUMNS`; the Holm columns correct the groups' p-values for the number
    of groups and are NaN on the overall row (``group == OVERALL``).
    """
    frame = paired_differences(_metric_series(per_a, metric), _metric_series(per_b, metric))
    rows = [{"group": OVERALL, **_test(frame, permutations=permutations, seed=seed).__dict__}]
    if groups is not None:
        labels = groups.copy()
        labels.index = labels.index.astype(str)
        labels = labels.reindex(frame.index)
        keep = labels.notna() & (labels.astype(str) != "")
        grouped = frame[keep].groupby(labels[keep].astype(str), sort=True)
        for label, part in grouped:
            rows.append({"group": str(label), **_test(part, permutations=permutations, seed=seed).__dict__})
    out = pd.DataFrame(rows)
    for test in ("randomization", "ttest"):
        out[f"holm_{test}"] = np.nan
        if len(out) > 1:
            out.loc[1:, f"holm_{test}"] = holm(out.loc[1:, f"p_{test}"].to_numpy(dtype=float))
    return out[COLUMNS]


# --------------------------------------------------------------------------- from a view

ALPHA = 0.05
"""The level the pages mark (and Holm controls the family-wise error at)."""
SORTS: dict[str, tuple[str, list[str], list[bool]]] = {
    "pair": ("pair", ["group"], [True]),
    "delta": ("mean difference, A best first", ["mean_diff", "n"], [False, False]),
    "-delta": ("mean difference, B best first", ["mean_diff", "n"], [True, False]),
    "p": ("Holm p (randomisation), smallest first", ["holm_randomization", "n"], [True, False]),
    "n": ("n, largest first", ["n", "group"], [False, True]),
}
"""Orders of the per-pair table: key -> (label, columns, ascending)."""


def language_pairs(view: View) -> pd.Series:
    """Each query's language pair (query language → the qrels positive's), by query id; queries without a positive left out."""
    table = view.table()
    with_positive = table[table["positive_id"].astype(str) != ""]
    return pd.Series(with_positive["pair"].astype(str).to_numpy(), index=with_positive["query_id"].astype(str), name="pair")


def compare_profiles(
    view: View,
    a: str,
    b: str,
    *,
    metric: str,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """:func:`compare` of profiles ``a`` and ``b`` of the view on ``metric``, overall and per language pair.

    Per-query values are the tie-aware expected values of ``view.per_query(view.mode)``; every
    query counts (a query a partial profile does not rank scores 0, as on every page). Memoised
    with ``View.cached`` under the profiles' keys and the relevance mode.
    """
    if metric not in METRIC_KEYS:
        raise KeyError(f"unknown metric {metric!r}; choose from {', '.join(METRIC_KEYS)}")
    for name in (a, b):
        if name not in view.registry:
            raise KeyError(f"no profile {name!r} in this view")

    def compute() -> pd.DataFrame:
        per_query = view.per_query(view.mode)
        return compare(
            per_query[a], per_query[b], metric=metric, groups=language_pairs(view), permutations=permutations, seed=seed
        )

    return view.cached("significance.compare", compute, profiles=(a, b), params=(metric, permutations, seed))


def sorted_pairs(result: pd.DataFrame, sort: str) -> pd.DataFrame:
    """The per-group rows of a :func:`compare` frame in the order ``sort`` names (:data:`SORTS`), ``group`` renamed ``pair``."""
    if sort not in SORTS:
        raise KeyError(f"unknown order {sort!r}; choose from {', '.join(SORTS)}")
    _, by, ascending = SORTS[sort]
    groups = result[result["group"] != OVERALL]
    return groups.sort_values(by, ascending=ascending, kind="stable", na_position="last").rename(columns={"group": "pair"})


def fmt_p(p: float | None) -> str:
    """A p-value as the pages write it: ``0.0123``, ``4.56e-05``, ``—`` when undefined."""
    if p is None or not math.isfinite(p):
        return "—"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


_GREEN, _RED = (22, 163, 74), (220, 38, 38)


def heat_style(value: float, span: float) -> str:
    """CSS background of a difference: green where A is better, red where B is, stronger with |Δ| / span."""
    if not math.isfinite(value) or span <= 0 or value == 0:
        return ""
    rgb = _GREEN if value > 0 else _RED
    alpha = 0.12 + 0.5 * min(1.0, abs(value) / span)
    return f"background-color: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {alpha:.2f})"


def significant_style(p: object) -> str:
    """CSS of a p-value below :data:`ALPHA`: the accent colour, bold."""
    return "color: #2563eb; font-weight: 600" if isinstance(p, float) and math.isfinite(p) and p < ALPHA else ""
