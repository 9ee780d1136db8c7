"""The shared statistics against statsmodels, SciPy or hand-computed examples; and the funnel helpers built on them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from helpers.funnel_reference import JOURNEYS, STEPS, events_frame
from helpers.oracles import wilson
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.proportion import (
    test_proportions_2indep as score_test_2indep,
)

from analysis import metrics
from analysis.errors import ParameterError
from analysis.metrics.funnel import (
    cart_abandonment,
    compare_funnel_groups,
    funnel,
    weekly_conversion,
)
from analysis.metrics.stats import (
    benjamini_hochberg_adjust,
    group_vs_rest,
    holm_adjust,
    newcombe_interval,
    normal_quantile,
    ratio_of_means_variance,
    relative_lift_interval,
    two_proportion_z_test,
    wilson_interval,
)

CASES = [(30, 100, 45, 120), (5, 50, 5, 500), (700, 1000, 620, 1000), (0, 40, 3, 40), (71, 100, 62, 100)]


def test_when_wilson_interval_is_computed_then_it_matches_statsmodels():
    successes = np.array([0, 1, 7, 50, 99, 100])
    trials = np.array([10, 3, 20, 100, 100, 100])
    low, high = wilson_interval(successes, trials)
    expected_low, expected_high = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, expected_low, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, atol=1e-12)


def test_when_two_proportions_are_tested_then_z_and_p_match_statsmodels():
    for xa, na, xb, nb in [(30, 100, 45, 120), (5, 50, 5, 500), (700, 1000, 620, 1000)]:
        z, p = two_proportion_z_test(np.array([xa]), np.array([na]), np.array([xb]), np.array([nb]))
        expected_z, expected_p = proportions_ztest([xa, xb], [na, nb])
        assert z[0] == pytest.approx(expected_z, rel=1e-12)
        assert p[0] == pytest.approx(expected_p, rel=1e-12)


def test_when_trials_are_zero_then_the_wilson_interval_is_missing():
    low, high = wilson_interval(np.array([0, 3]), np.array([0, 10]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert (low[1], high[1]) == pytest.approx(wilson(3, 10))


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), CASES)
def test_when_a_difference_of_rates_is_bounded_then_newcombe_matches_statsmodels(xa, na, xb, nb):
    low, high = newcombe_interval(xa, na, xb, nb)
    expected = confint_proportions_2indep(xa, na, xb, nb, method="newcomb", compare="diff")
    assert (float(low), float(high)) == pytest.approx(expected, abs=1e-12)


def test_when_newcombe_is_written_out_by_hand_then_it_agrees():
    # Newcombe's hybrid score interval from the two Wilson intervals (Newcombe 1998, method 10), 40/200 vs 20/200
    (l1, u1), (l2, u2) = wilson(40, 200), wilson(20, 200)
    low = 0.1 - math.sqrt((0.2 - l1) ** 2 + (u2 - 0.1) ** 2)
    high = 0.1 + math.sqrt((u1 - 0.2) ** 2 + (0.1 - l2) ** 2)
    assert tuple(map(float, newcombe_interval(40, 200, 20, 200))) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(("xa", "na", "xb", "nb"), CASES)
def test_when_the_score_test_is_asked_then_the_pooled_z_test_gives_its_p_value(xa, na, xb, nb):
    _, p = two_proportion_z_test(np.array([xa]), np.array([na]), np.array([xb]), np.array([nb]))
    score = score_test_2indep(xa, na, xb, nb, method="score", compare="diff", correction=False)
    chi2 = scipy.stats.chi2_contingency([[xa, na - xa], [xb, nb - xb]], correction=False)
    assert p[0] == pytest.approx(score.pvalue, rel=1e-9)
    assert p[0] == pytest.approx(chi2.pvalue, rel=1e-9)


def test_when_a_confidence_is_not_a_fraction_then_the_error_names_it():
    assert normal_quantile(0.95) == pytest.approx(scipy.stats.norm.ppf(0.975), rel=1e-12)
    with pytest.raises(ParameterError, match="confidence 95 must be between 0 and 1") as caught:
        wilson_interval(np.array([1]), np.array([2]), confidence=95)
    assert caught.value.parameter == "confidence"


def test_when_p_values_are_holm_adjusted_then_they_match_statsmodels_and_skip_missing():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2, 0.001])
    present = ~np.isnan(p)
    expected = multipletests(p[present], method="holm")[1]
    adjusted = holm_adjust(p)
    np.testing.assert_allclose(adjusted[present], expected, rtol=1e-12)
    assert np.isnan(adjusted[2])


def test_when_p_values_are_bh_adjusted_then_they_match_statsmodels_and_skip_missing():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2, 0.001, 0.04])
    present = ~np.isnan(p)
    adjusted = benjamini_hochberg_adjust(p)
    np.testing.assert_allclose(adjusted[present], multipletests(p[present], method="fdr_bh")[1], rtol=1e-12)
    assert np.isnan(adjusted[2])
    assert np.isnan(benjamini_hochberg_adjust(np.array([np.nan]))).all()


def test_when_bh_is_computed_by_hand_then_it_agrees():
    # sorted p 0.01, 0.02, 0.03, 0.5: p * m / rank = 0.04, 0.04, 0.04, 0.5 (then monotone from the top)
    assert benjamini_hochberg_adjust(np.array([0.5, 0.03, 0.01, 0.02])).tolist() == pytest.approx(
        [0.5, 0.04, 0.04, 0.04]
    )


def test_when_a_ratio_of_means_varies_then_the_delta_method_variance_is_the_textbook_one():
    # X̄ = 2, Ȳ = 4, Var(X̄) = 0.04, Var(Ȳ) = 0.09, Cov = 0.01:
    # 0.04/16 − 2·2·0.01/64 + 4·0.09/256 = 0.0025 − 0.000625 + 0.00140625
    assert ratio_of_means_variance(2.0, 4.0, 0.04, 0.09, 0.01) == pytest.approx(0.00328125, rel=1e-12)


def test_when_a_relative_lift_is_bounded_then_the_delta_interval_is_centred_on_the_lift():
    # treatment 0.12 (se 0.004) vs control 0.10 (se 0.003), independent: lift 0.2,
    # Var = 0.004²/0.1² + 0.12²·0.003²/0.1⁴ = 0.0016 + 0.001296 = 0.002896
    lift, low, high = relative_lift_interval(0.12, 0.004, 0.10, 0.003)
    half = scipy.stats.norm.ppf(0.975) * math.sqrt(0.002896)
    assert (lift, low, high) == pytest.approx((0.2, 0.2 - half, 0.2 + half), rel=1e-9)


def test_when_group_vs_rest_is_imported_from_the_funnel_then_it_is_the_shared_one():
    assert metrics.funnel.group_vs_rest is group_vs_rest


def test_when_group_vs_rest_lacks_a_column_then_the_error_names_it():
    frame = pd.DataFrame({"device": ["a"], "n": [10]})
    with pytest.raises(ParameterError, match=r"group_vs_rest: frame has no column\(s\) \['x'\]") as caught:
        group_vs_rest(frame, ["device"], "x", "n")
    assert caught.value.value == ["x"]


def test_when_a_group_is_below_the_minimum_size_then_it_is_flagged_not_tested():
    frame = pd.DataFrame({"device": ["desktop", "mobile", "tablet"], "n": [400, 600, 20], "x": [120, 120, 4]})
    result = group_vs_rest(frame, ["device"], "x", "n", min_group_size=100).set_index("device")
    assert result.loc["tablet", "too_small"]
    assert np.isnan(result.loc["tablet", "p_value"])
    # desktop vs rest: 120/400 against (120 + 4)/(600 + 20)
    z, p = proportions_ztest([120, 124], [400, 620])
    assert result.loc["desktop", "z"] == pytest.approx(z)
    assert result.loc["desktop", "rest_rate"] == pytest.approx(124 / 620)
    tested_p = [p, proportions_ztest([120, 124], [600, 420])[1]]
    assert result[["p_value_holm"]].dropna()["p_value_holm"].tolist() == pytest.approx(
        multipletests(tested_p, method="holm")[1].tolist()
    )


def test_when_funnel_groups_are_compared_then_trials_are_step_one_units_and_successes_the_last_step():
    table = funnel(JOURNEYS, STEPS, "60min", by="device")
    result = compare_funnel_groups(table, "device", min_group_size=1).set_index("device")
    assert result.loc["desktop", ["trials", "successes"]].tolist() == [2, 0]
    assert result.loc["mobile", ["trials", "successes", "rest_trials", "rest_successes"]].tolist() == [
        1,
        1,
        2,
        0,
    ]


def test_when_carts_are_not_followed_by_purchase_within_window_then_they_count_as_abandoned():
    result = cart_abandonment(JOURNEYS, "60min", by="device").set_index("device")
    # carts: u1 (mobile, bought 40 min later), u2 (first cart on mobile, never bought), u3 (desktop, bought 59 min
    # after the cart: within the window from the cart), u4 (desktop, never bought)
    assert result.loc["desktop", ["units_with_cart", "abandoned"]].tolist() == [2, 1]
    assert result.loc["mobile", ["units_with_cart", "abandoned"]].tolist() == [2, 1]
    low, high = proportion_confint(1, 2, method="wilson")
    assert result.loc["mobile", "abandonment_rate"] == pytest.approx(0.5)
    assert result.loc["mobile", ["abandonment_rate_ci_low", "abandonment_rate_ci_high"]].tolist() == pytest.approx(
        [low, high]
    )


def test_when_units_start_in_different_weeks_then_trend_counts_them_by_first_step_week():
    events = events_frame(
        [
            ("u1", "s1", 0, "session_start", "mobile"),
            ("u1", "s1", 5, "purchase", "mobile"),
            ("u2", "s1", 10, "session_start", "mobile"),
            ("u3", "s1", 7 * 1440 + 3, "session_start", "desktop"),
            ("u3", "s1", 7 * 1440 + 4, "purchase", "desktop"),
        ]
    )
    trend = weekly_conversion(events, ["session_start", "purchase"], "1h")
    assert trend["week"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-03", "2025-03-10"]
    assert trend[["units", "converted"]].values.tolist() == [[2, 1], [1, 1]]
    assert trend["conversion"].tolist() == pytest.approx([0.5, 1.0])


def test_when_a_plan_states_another_alpha_then_is_real_uses_it_and_refuses_nonsense():
    from analysis.errors import ParameterError
    from analysis.metrics.stats import is_real

    assert is_real(0.03) and not is_real(0.03, alpha=0.01) and is_real(0.009, alpha=0.01)
    assert is_real(np.array([0.2, 0.04, np.nan])).tolist() == [False, True, False]
    with pytest.raises(ParameterError, match="alpha=1.5"):
        is_real(0.01, alpha=1.5)
