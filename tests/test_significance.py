"""Paired significance: hand-computed sign-flip p-values, t-test, Holm, grouping and alignment."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nanomlqa_viz.significance import (
    COLUMNS,
    DEFAULT_PERMUTATIONS,
    OVERALL,
    SORTS,
    compare,
    compare_profiles,
    fmt_p,
    heat_style,
    holm,
    language_pairs,
    paired_differences,
    paired_test,
    sign_flip_p,
    significant_style,
    sorted_pairs,
    ttest_p,
)


def series(values, prefix: str = "q") -> pd.Series:
    return pd.Series(values, index=pd.Index([f"{prefix}{i:03d}" for i in range(len(values))], name="query_id"), dtype=float)


def brute_force_p(diffs) -> float:
    d = np.asarray(diffs, dtype=float)
    observed = abs(d.sum())
    hits = sum(abs(np.dot(signs, np.abs(d))) >= observed - 1e-12 for signs in itertools.product((1, -1), repeat=len(d)))
    return hits / 2 ** len(d)


@pytest.mark.parametrize("n", [1, 3, 7, 12, 20])
def test_all_equal_positive_differences_give_two_over_two_to_the_n(n):
    p, exact, assignments = sign_flip_p([0.5] * n)
    assert exact and assignments == 2**n
    assert p == pytest.approx(2 / 2**n)


def test_zero_differences_do_not_count_towards_the_enumeration():
    p, exact, assignments = sign_flip_p([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    assert exact and assignments == 8
    assert p == pytest.approx(2 / 8)


def test_identical_profiles_give_p_one_and_all_ties():
    a = series([1.0, 0.0, 0.5, 0.25, 1.0])
    result = paired_test(a, a.copy())
    assert (result.wins, result.ties, result.losses) == (0, 5, 0)
    assert result.mean_diff == 0.0
    assert result.p_randomization == 1.0
    assert result.p_ttest == 1.0


def test_exact_p_matches_brute_force_on_mixed_signs():
    diffs = [1.0, -1.0, 1.0, 1.0, 0.5, -0.25, 1.0, 0.0]
    p, exact, _ = sign_flip_p(diffs)
    assert exact
    assert p == pytest.approx(brute_force_p([d for d in diffs if d != 0]))


def test_hand_computed_small_case():
    # d = (1, 1, -1): signed sums of (1, 1, 1) are ±3 (2 ways) and ±1 (6 ways); |1| ≥ 1 for all 8
    assert sign_flip_p([1.0, 1.0, -1.0])[0] == pytest.approx(1.0)
    # d = (2, 1): sums 3, 1, -1, -3; |observed| = 3 → 2 of 4
    assert sign_flip_p([2.0, 1.0])[0] == pytest.approx(0.5)


def test_monte_carlo_is_seeded_and_never_zero():
    rng = np.random.default_rng(0)
    diffs = rng.normal(0.3, 1.0, size=60)
    p1, exact, assignments = sign_flip_p(diffs)
    p2, _, _ = sign_flip_p(diffs)
    assert not exact and assignments == DEFAULT_PERMUTATIONS
    assert p1 == p2
    assert p1 >= 1 / (1 + DEFAULT_PERMUTATIONS)
    p_strong, _, _ = sign_flip_p(np.full(40, 1.0))
    assert p_strong == pytest.approx(1 / (1 + DEFAULT_PERMUTATIONS))
    # close to the t-test on roughly normal data
    assert abs(p1 - stats.ttest_1samp(diffs, 0.0).pvalue) < 0.02


def test_monte_carlo_agrees_with_exact_enumeration():
    diffs = [0.3, -0.1, 0.5, 0.2, -0.4, 0.6, 0.1, 0.7, -0.2, 0.4, 0.25, 0.05]
    exact_p, exact, _ = sign_flip_p(diffs)
    approx_p, approx, _ = sign_flip_p(diffs, exact_max=5, permutations=40_000)
    assert exact and not approx
    assert approx_p == pytest.approx(exact_p, abs=0.01)


def test_ttest_matches_scipy_and_edge_cases():
    a = np.array([0.1, 0.5, 0.9, 0.3, 0.7])
    b = np.array([0.0, 0.6, 0.4, 0.3, 0.2])
    assert ttest_p(a, b) == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert ttest_p(a, a) == 1.0
    assert math.isnan(ttest_p([1.0], [0.0]))
    assert ttest_p([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]) == 0.0  # constant non-zero differences: t infinite


def test_holm_matches_a_manual_computation():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005 (×4 = 0.02), 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 = 0.04 → max 0.06)
    expected = [0.03, 0.06, 0.06, 0.02]
    assert holm(p) == pytest.approx(expected)
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    out = holm([0.02, np.nan, 0.01])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([]).size == 0


def test_paired_differences_align_on_query_id():
    a = pd.Series({"q1": 1.0, "q2": 0.0, "q3": 1.0, "q4": np.nan})
    b = pd.Series({"q3": 0.0, "q2": 1.0, "q1": 1.0, "q5": 1.0, "q4": 0.0})
    frame = paired_differences(a, b)
    assert list(frame.index) == ["q1", "q2", "q3"]
    assert list(frame["diff"]) == [0.0, -1.0, 1.0]


def test_compare_overall_and_groups_with_holm():
    ids = [f"q{i}" for i in range(12)]
    per_a = pd.DataFrame({"hit@10": [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1]}, index=pd.Index(ids, name="query_id"), dtype=float)
    per_b = pd.DataFrame({"hit@10": [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]}, index=pd.Index(ids, name="query_id"), dtype=float)
    groups = pd.Series(["en→de"] * 5 + ["de→en"] * 4 + ["zh→zh"] * 2 + [""], index=ids)
    out = compare(per_a, per_b, metric="hit@10", groups=groups)
    assert list(out.columns) == COLUMNS
    assert list(out["group"]) == [OVERALL, "de→en", "en→de", "zh→zh"]
    overall = out.iloc[0]
    assert (overall["n"], overall["wins"], overall["ties"], overall["losses"]) == (12, 8, 3, 1)
    assert overall["mean_diff"] == pytest.approx(7 / 12)
    assert overall["p_randomization"] == pytest.approx(brute_force_p([1] * 8 + [-1]))
    assert math.isnan(overall["holm_randomization"])
    en_de = out.set_index("group").loc["en→de"]
    assert (en_de["n"], en_de["wins"], en_de["ties"]) == (5, 4, 1)
    assert en_de["p_randomization"] == pytest.approx(2 / 16)
    de_en = out.set_index("group").loc["de→en"]  # diffs 0 (q5), 0 (q6), 0 (q7), +1 (q8)
    assert (de_en["wins"], de_en["ties"], de_en["losses"]) == (1, 2, 1)
    assert de_en["p_randomization"] == pytest.approx(1.0)
    groups_p = out["p_randomization"].to_numpy()[1:]
    assert out["holm_randomization"].to_numpy()[1:] == pytest.approx(holm(groups_p))
    manual = np.minimum(1, np.maximum.accumulate(np.sort(groups_p) * np.array([3, 2, 1])))
    assert np.sort(out["holm_randomization"].to_numpy()[1:]) == pytest.approx(manual)
    assert out["n"].iloc[1:].sum() == 11  # the unlabeled query only counts overall


def test_compare_accepts_series_and_rejects_unknown_metric():
    a = series([1.0, 0.5, 0.0])
    out = compare(a, a, metric="ignored")
    assert len(out) == 1 and out.iloc[0]["p_randomization"] == 1.0 and out.iloc[0]["ties"] == 3
    with pytest.raises(KeyError):
        compare(a.to_frame("ndcg@10"), a.to_frame("ndcg@10"), metric="hit@10")


# --------------------------------------------------------------------------- from a view


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from nanomlqa_viz.pipeline import Pipeline

    return Pipeline(source="demo", split="mlqa", cache_dir=tmp_path_factory.mktemp("significance_views"))


def dense_view(pipeline, mode):
    from nanomlqa_viz.encoders import default_dense_model

    return pipeline.view(dense_models=[default_dense_model()], mode=mode)


def test_compare_profiles_uses_the_views_mode_and_tie_aware_values(pipeline):
    results = {}
    for mode in ("strict", "copies", "parallel"):
        view = dense_view(pipeline, mode)
        result = compare_profiles(view, "dense", "bm25", metric="ndcg@10")
        assert compare_profiles(view, "dense", "bm25", metric="ndcg@10") is result  # memoised under the mode's key
        per_query = view.per_query(mode)
        expected = compare(per_query["dense"], per_query["bm25"], metric="ndcg@10", groups=language_pairs(view))
        pd.testing.assert_frame_equal(result, expected)
        overall = result.iloc[0]
        assert overall["n"] == view.task.n_queries
        assert overall["mean_a"] == pytest.approx(per_query["dense"]["ndcg@10"].mean())
        results[mode] = overall
    assert results["strict"]["mean_diff"] != results["parallel"]["mean_diff"]
    # another metric or order of the profiles is another comparison
    view = dense_view(pipeline, "strict")
    swapped = compare_profiles(view, "bm25", "dense", metric="ndcg@10").iloc[0]
    assert swapped["mean_diff"] == pytest.approx(-results["strict"]["mean_diff"])
    assert (swapped["wins"], swapped["losses"]) == (results["strict"]["losses"], results["strict"]["wins"])
    with pytest.raises(KeyError):
        compare_profiles(view, "dense", "bm25", metric="p@5")
    with pytest.raises(KeyError):
        compare_profiles(view, "dense", "nope", metric="ndcg@10")


def test_language_pairs_and_the_pair_table(pipeline):
    view = dense_view(pipeline, "strict")
    pairs = language_pairs(view)
    table = view.table()
    assert len(pairs) == (table["positive_id"] != "").sum() and pairs.str.contains("→").all()
    result = compare_profiles(view, "dense", "hybrid", metric="hit@10")
    for sort in SORTS:
        shown = sorted_pairs(result, sort)
        assert "pair" in shown.columns and OVERALL not in set(shown["pair"])
        assert len(shown) == len(result) - 1
    by_p = sorted_pairs(result, "p")["holm_randomization"].dropna().tolist()
    assert by_p == sorted(by_p)
    with pytest.raises(KeyError):
        sorted_pairs(result, "bogus")


def test_display_helpers():
    assert fmt_p(None) == fmt_p(math.nan) == "—"
    assert fmt_p(0.01234) == "0.0123" and fmt_p(4.56e-5) == "4.56e-05"
    assert heat_style(0.0, 1.0) == "" and heat_style(math.nan, 1.0) == ""
    assert "22, 163, 74" in heat_style(0.2, 0.4) and "220, 38, 38" in heat_style(-0.2, 0.4)
    assert "0.62" in heat_style(1.0, 0.5)  # capped at full strength
    assert significant_style(0.01) and not significant_style(0.2) and not significant_style(math.nan)
