"""The session-sampling bootstrap: its linear maps are Callaway & Sant'Anna, its draws have the closed-form variance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError
from analysis.metrics.impact.sampling import bootstrap_effect, did_maps, pre_trend_wald, rate_draws
from analysis.metrics.impact.staggered import callaway_santanna


def random_panel(rng, units: int, periods: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    first = rng.integers(0, periods + 2, size=units)
    first[0] = 0  # at least one never-treated unit
    first[1] = max(2, min(first[1], periods))  # and at least one cohort
    outcome = rng.normal(size=(units, periods))
    panel = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), periods),
            "time": np.tile(np.arange(1, periods + 1), units),
            "y": outcome.ravel(),
            "g": np.repeat(first, periods),
        }
    )
    return first, outcome, panel


@pytest.mark.parametrize("control", ["not_yet_treated", "never_treated"])
def test_when_panels_are_random_then_the_linear_maps_equal_callaway_santanna_simple_group_and_dynamic(control):
    rng = np.random.default_rng(7)
    for _ in range(25):
        first, outcome, panel = random_panel(rng, int(rng.integers(3, 9)), int(rng.integers(4, 12)))
        reference = callaway_santanna(panel, "y", "unit", "time", "g", control=control)
        maps = did_maps(first, outcome.shape[1], control=control)
        y = outcome.ravel()
        assert maps.simple @ y == pytest.approx(reference.aggregate("simple").overall_att, abs=1e-12)
        for row in reference.aggregate("group").effects.itertuples():
            assert maps.group[int(row.group)] @ y == pytest.approx(row.att, abs=1e-12)
        for row in reference.aggregate("dynamic").effects.itertuples():
            assert maps.dynamic[int(row.event_time)] @ y == pytest.approx(row.att, abs=1e-12)


def test_when_one_cohort_is_asked_for_then_its_simple_effect_is_its_group_effect():
    rng = np.random.default_rng(3)
    first, outcome, panel = random_panel(rng, 6, 8)
    first[2], first[3] = 4, 6
    panel["g"] = np.repeat(first, 8)
    groups = callaway_santanna(panel, "y", "unit", "time", "g", control="not_yet_treated").aggregate("group")
    for row in groups.effects.itertuples():
        assert did_maps(first, 8, only=int(row.group)).simple @ outcome.ravel() == pytest.approx(row.att, abs=1e-12)


def test_when_every_unit_is_treated_in_one_cohort_then_no_comparison_is_a_data_error():
    with pytest.raises(DataError, match="compare"):
        did_maps(np.array([3, 3]), 5)


def test_when_a_two_by_two_is_bootstrapped_then_its_variance_is_the_sum_of_the_four_cells_binomial_variances():
    # treated market A from period 2, comparison B never: ATT = (pA2 - pA1) - (pB2 - pB1)
    rates = np.array([[0.10, 0.15], [0.12, 0.13]])
    sessions = np.array([[2_000, 3_000], [5_000, 4_000]])
    maps = did_maps(np.array([2, 0]), 2)
    draws = rate_draws(sessions, rates, draws=8_000, seed=11)
    effect = bootstrap_effect(maps.simple, maps.simple_level, rates, draws, alpha=0.05)
    closed_form = np.sqrt(np.sum(rates * (1 - rates) / sessions))
    assert effect.effect == pytest.approx(0.05 - 0.01)
    assert effect.effect_se == pytest.approx(closed_form, rel=0.04)  # Monte Carlo error of an SD: ~1/sqrt(2·8000)
    assert effect.baseline == pytest.approx(0.15 - 0.04)
    assert effect.relative == pytest.approx(0.04 / 0.11)


def test_when_nps_is_redrawn_then_its_variance_is_the_multinomial_one():
    promoters, detractors, answers = np.array([300]), np.array([200]), np.array([1_000])
    draws = rate_draws(answers, 100 * (promoters - detractors) / answers, draws=20_000, seed=5, kind="nps",
                       promoters=promoters, detractors=detractors)  # fmt: skip
    p, d = 0.3, 0.2
    assert draws.mean() == pytest.approx(10.0, abs=0.1)
    assert draws.std() == pytest.approx(100 * np.sqrt((p + d - (p - d) ** 2) / 1_000), rel=0.03)


def test_when_the_effect_is_far_from_zero_then_the_percentile_p_value_is_its_floor():
    maps = did_maps(np.array([2, 0]), 2)
    rates = np.array([[0.10, 0.30], [0.10, 0.10]])
    draws = rate_draws(np.full((2, 2), 10_000), rates, draws=399, seed=1)
    effect = bootstrap_effect(maps.simple, maps.simple_level, rates, draws, alpha=0.05)
    assert effect.p_value == pytest.approx(2 / 400)
    assert effect.effect_ci_low > 0 and effect.relative_ci_low > 0


def test_when_the_baseline_is_not_positive_then_no_relative_effect_is_given():
    maps = did_maps(np.array([2, 0]), 2)
    rates = np.array([[-20.0, -5.0], [-20.0, -20.0]])  # an NPS below zero
    draws = np.tile(rates.ravel(), (200, 1)) + np.random.default_rng(0).normal(size=(200, 4))
    effect = bootstrap_effect(maps.simple, maps.simple_level, rates, draws, alpha=0.05)
    assert effect.effect == pytest.approx(15.0)
    assert np.isnan(effect.relative) and np.isnan(effect.relative_ci_low)


def test_when_pre_periods_have_no_trend_then_the_wald_statistic_uses_the_bootstrap_covariance():
    maps = did_maps(np.array([3, 0]), 3)  # one pre-period effect: e = -1, (A2 - A1) - (B2 - B1)
    rates = np.array([[0.10, 0.12, 0.2], [0.10, 0.10, 0.1]])
    draws = rate_draws(np.full((2, 3), 5_000), rates, draws=4_000, seed=2)
    statistic, df, p_value = pre_trend_wald(maps, rates, draws)
    variance = np.sum([r * (1 - r) / 5_000 for r in (0.10, 0.12, 0.10, 0.10)])
    assert df == 1
    assert statistic == pytest.approx(0.02**2 / variance, rel=0.06)
    assert 0 < p_value < 1


@pytest.mark.parametrize("control", ["not_yet_treated", "never_treated"])
def test_when_cohorts_are_partly_treated_then_simple_and_group_leave_their_first_cell_out_as_a_direct_computation(
    control,
):
    rng = np.random.default_rng(17)
    for _ in range(25):
        first, outcome, panel = random_panel(rng, int(rng.integers(3, 9)), int(rng.integers(4, 12)))
        reference = callaway_santanna(panel, "y", "unit", "time", "g", control=control)
        cohorts = sorted(int(g) for g in reference.group_time["group"].unique())
        partly = set(rng.choice(cohorts, size=int(rng.integers(1, len(cohorts) + 1)), replace=False).tolist())
        try:
            maps = did_maps(first, outcome.shape[1], control=control, partly=partly)
        except DataError:
            continue  # every cohort's only post-launch cell was partly treated
        # the direct computation: R's post-launch cells, the partly treated (g, g) ones dropped, cohort-size weights
        cells = reference.group_time
        cells = cells[(cells["time"] >= cells["group"]) & cells["att"].notna()]
        cells = cells[~((cells["time"] == cells["group"]) & cells["group"].isin(partly))]
        size = {g: int((first == g).sum()) for g in cohorts}
        weights = cells["group"].map(size).to_numpy(float)
        y = outcome.ravel()
        assert maps.simple @ y == pytest.approx(np.sum(cells["att"] * weights) / weights.sum(), abs=1e-12)
        for group, part in cells.groupby("group"):
            assert maps.group[int(group)] @ y == pytest.approx(part["att"].mean(), abs=1e-12)
        assert set(maps.group) == set(cells["group"].astype(int))
        estimated = set(cells_of(reference))
        assert sorted(maps.left_out) == sorted((g, g) for g in partly if (g, g) in estimated)
        for row in reference.aggregate("dynamic").effects.itertuples():  # event time 0 stays in the event study
            assert maps.dynamic[int(row.event_time)] @ y == pytest.approx(row.att, abs=1e-12)


def cells_of(reference) -> list[tuple[int, int]]:
    estimated = reference.group_time[reference.group_time["att"].notna()]
    return [(int(g), int(t)) for g, t in estimated[["group", "time"]].itertuples(index=False)]


def test_when_a_launch_falls_inside_the_first_period_then_its_two_by_two_uses_only_the_fully_treated_period():
    # A launched inside period 2 (partly treated), fully treated in 3; B never: ATT = (A3 - A1) - (B3 - B1)
    rates = np.array([[0.10, 0.12, 0.16], [0.10, 0.10, 0.11]])
    maps = did_maps(np.array([2, 0]), 3, partly={2})
    assert maps.simple @ rates.ravel() == pytest.approx(0.06 - 0.01)
    assert maps.group[2] @ rates.ravel() == pytest.approx(0.05)
    assert maps.simple_level @ rates.ravel() == pytest.approx(0.16)
    assert maps.dynamic[0] @ rates.ravel() == pytest.approx(0.02)
    assert maps.left_out == [(2, 2)]


def test_when_the_only_post_launch_period_is_partly_treated_then_no_fully_treated_period_is_a_data_error():
    with pytest.raises(DataError, match="fully treated"):
        did_maps(np.array([3, 0]), 3, partly={3})
