"""Callaway & Sant'Anna on a panel small enough to compute every ATT(g, t) by hand from 2×2 means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.staggered import (
    NO_COMPARISON_LEFT,
    TOO_FEW_UNITS,
    TREATED_IN_FIRST_PERIOD,
    callaway_santanna,
)

# Six units over four periods: units 0-1 first treated in period 3, units 2-3 in period 4, units 4-5 never.
OUTCOMES = {
    0: (3, [1, 2, 5, 7]),
    1: (3, [3, 3, 6, 10]),
    2: (4, [0, 1, 3, 8]),
    3: (4, [2, 4, 4, 9]),
    4: (0, [1, 2, 3, 4]),
    5: (0, [0, 2, 2, 6]),
}


def small_panel(outcomes: dict = OUTCOMES) -> pd.DataFrame:
    rows = [
        {"market": unit, "week": week, "first_week": first, "kpi": float(value)}
        for unit, (first, values) in outcomes.items()
        for week, value in enumerate(values, start=1)
    ]
    return pd.DataFrame(rows)


def att_by_cell(result) -> dict[tuple[int, int], float]:
    table = result.group_time
    return {(int(g), int(t)): float(a) for g, t, a in zip(table["group"], table["time"], table["att"], strict=True)}


# Expected cells, each a difference of mean changes worked out by hand (comments: treated mean - comparison mean).
HAND = {
    ("never_treated", "varying"): {
        (3, 2): -1.0,  # (1 + 0)/2 - (1 + 2)/2
        (3, 3): 2.5,  # (3 + 3)/2 - (1 + 0)/2
        (3, 4): 3.0,  # (5 + 7)/2 - (2 + 4)/2, base period 2
        (4, 2): 0.0,  # (1 + 2)/2 - (1 + 2)/2
        (4, 3): 0.5,  # (2 + 0)/2 - (1 + 0)/2
        (4, 4): 2.5,  # (5 + 5)/2 - (1 + 4)/2
    },
    ("not_yet_treated", "varying"): {
        (3, 2): -1.0,  # 0.5 - (1 + 2 + 1 + 2)/4: cohort 4 is not yet treated in period 2
        (3, 3): 2.25,  # 3 - (2 + 0 + 1 + 0)/4: nor in period 3
        (3, 4): 3.0,  # 6 - (2 + 4)/2: only the never treated remain
        (4, 2): 0.5,  # 1.5 - (1 + 0 + 1 + 2)/4: cohort 3 is not yet treated in period 2
        (4, 3): 0.5,  # 1 - (1 + 0)/2: cohort 3 is treated by period 3
        (4, 4): 2.5,
    },
    ("never_treated", "universal"): {
        (3, 1): 1.0,  # (-1 + 0)/2 - (-1 - 2)/2: y1 - y2
        (3, 2): 0.0,  # the base period, 0 by construction
        (3, 3): 2.5,
        (3, 4): 3.0,
        (4, 1): -0.5,  # (-3 - 2)/2 - (-2 - 2)/2: y1 - y3
        (4, 2): -0.5,  # (-2 + 0)/2 - (-1 + 0)/2: y2 - y3
        (4, 3): 0.0,
        (4, 4): 2.5,
    },
    ("not_yet_treated", "universal"): {
        (3, 1): 1.0,  # -0.5 - (-1 - 2 - 1 - 2)/4: comparison first treated after max(1, 2)
        (3, 2): 0.0,
        (3, 3): 2.25,
        (3, 4): 3.0,
        (4, 1): -0.5,  # first treated after max(1, 3): the never treated only
        (4, 2): -0.5,
        (4, 3): 0.0,
        (4, 4): 2.5,
    },
}


@pytest.mark.parametrize(("control", "base_period"), list(HAND))
def test_when_small_panel_then_every_cell_is_the_hand_computed_difference_of_mean_changes(control, base_period):
    result = callaway_santanna(
        small_panel(), "kpi", "market", "week", "first_week", control=control, base_period=base_period
    )

    assert att_by_cell(result) == pytest.approx(HAND[(control, base_period)], abs=1e-12)
    assert result.unestimable.empty
    assert result.n_units == 6


def test_when_cell_is_estimated_then_its_se_comes_from_the_unit_influence_functions():
    # Cell (3, 3) against the never treated: treated changes 3, 3 (mean 3) give influence 0; comparison changes 1, 0
    # (mean 0.5) give -6 (1 - 0.5)/2 = -1.5 and +1.5. se = sqrt(1.5² + 1.5²) / 6.
    result = callaway_santanna(small_panel(), "kpi", "market", "week", "first_week")
    cell = result.group_time.set_index(["group", "time"]).loc[(3, 3)]

    assert cell["se"] == pytest.approx(np.sqrt(4.5) / 6, abs=1e-12)
    assert cell["ci_low"] == pytest.approx(2.5 - 1.959963984540054 * np.sqrt(4.5) / 6, abs=1e-9)
    assert (cell["n_treated"], cell["n_control"], cell["event_time"], cell["post"]) == (2, 2, 0, True)


def test_when_base_period_is_universal_then_the_base_cell_is_zero_without_a_standard_error():
    result = callaway_santanna(small_panel(), "kpi", "market", "week", "first_week", base_period="universal")
    base = result.group_time.set_index(["group", "time"]).loc[(4, 3)]

    assert base["att"] == 0.0
    assert np.isnan(base["se"])


def test_when_aggregated_then_overall_effects_are_the_hand_computed_weighted_averages():
    # Equal cohort sizes, so the cohort-size weights are equal: post cells (3,3) 2.5, (3,4) 3.0, (4,4) 2.5.
    result = callaway_santanna(small_panel(), "kpi", "market", "week", "first_week")

    assert result.aggregate("simple").overall_att == pytest.approx(8 / 3)
    group = result.aggregate("group")
    assert group.effects["att"].tolist() == pytest.approx([2.75, 2.5])
    assert group.overall_att == pytest.approx(2.625)
    dynamic = result.aggregate("dynamic")
    assert dynamic.effects["event_time"].tolist() == [-2, -1, 0, 1]
    assert dynamic.effects["att"].tolist() == pytest.approx([0.0, -0.25, 2.5, 3.0])
    assert dynamic.overall_att == pytest.approx(2.75)
    calendar = result.aggregate("calendar")
    assert calendar.effects["time"].tolist() == [3, 4]
    assert calendar.effects["att"].tolist() == pytest.approx([2.5, 2.75])
    assert calendar.overall_att == pytest.approx(2.625)
    assert result.aggregate("dynamic", min_e=0, max_e=0).overall_att == pytest.approx(2.5)


def test_when_periods_are_dates_then_event_time_counts_periods():
    panel = small_panel()
    weeks = pd.date_range("2026-01-05", periods=4, freq="W-MON")
    panel["week"] = weeks[panel["week"] - 1]
    panel["first_week"] = [weeks[g - 1] if g else pd.NaT for g in panel["first_week"]]

    result = callaway_santanna(panel, "kpi", "market", "week", "first_week")

    assert result.group_time["att"].tolist() == pytest.approx(list(HAND[("never_treated", "varying")].values()))
    assert result.group_time["event_time"].tolist() == [-1, 0, 1, -2, -1, 0]


def test_when_a_cohort_starts_after_the_last_period_then_its_units_count_as_never_treated():
    later = dict(OUTCOMES)
    later[5] = (9, OUTCOMES[5][1])

    result = callaway_santanna(small_panel(later), "kpi", "market", "week", "first_week")

    assert att_by_cell(result) == pytest.approx(HAND[("never_treated", "varying")])


def test_when_weights_are_given_then_cells_are_weighted_mean_changes():
    panel = small_panel()
    panel["weight"] = panel["market"].map({0: 3.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0})

    result = callaway_santanna(panel, "kpi", "market", "week", "first_week", weights="weight")

    # Cell (3, 3): treated changes 3 and 3 still average 3; cell (3, 4): (3·5 + 1·7)/4 - 3 = 2.5.
    assert att_by_cell(result)[(3, 4)] == pytest.approx(2.5)


def test_when_a_cohort_is_treated_in_the_first_period_then_it_is_named_and_its_units_dropped():
    early = dict(OUTCOMES)
    early[6] = (1, [5, 6, 7, 8])

    result = callaway_santanna(small_panel(early), "kpi", "market", "week", "first_week")

    assert result.unestimable.to_dict("records") == [{"group": 1, "time": None, "reason": TREATED_IN_FIRST_PERIOD}]
    assert result.n_units == 6
    assert att_by_cell(result) == pytest.approx(HAND[("never_treated", "varying")])


def test_when_no_unit_is_never_treated_then_not_yet_treated_uses_the_last_cohort_only_as_comparison():
    # As R: periods from the last cohort's first treatment (4) on are dropped, cohort 4 only compares.
    without_never = {unit: value for unit, value in OUTCOMES.items() if value[0]}

    result = callaway_santanna(
        small_panel(without_never), "kpi", "market", "week", "first_week", control="not_yet_treated"
    )

    assert att_by_cell(result) == pytest.approx({(3, 2): 0.5 - 1.5, (3, 3): 3 - 1.0})
    assert result.unestimable.fillna({"time": 0}).to_dict("records") == [
        {"group": 4, "time": 0, "reason": NO_COMPARISON_LEFT},
        {"group": 3, "time": 4, "reason": NO_COMPARISON_LEFT},
    ]


def test_when_no_unit_is_never_treated_then_never_treated_control_is_a_data_error():
    without_never = {unit: value for unit, value in OUTCOMES.items() if value[0]}

    with pytest.raises(DataError, match="no never-treated units"):
        callaway_santanna(small_panel(without_never), "kpi", "market", "week", "first_week")


def test_when_a_cohort_has_no_weight_then_its_cells_are_named_too_few_units_and_left_out_of_aggregates():
    panel = small_panel()
    panel["weight"] = np.where(panel["first_week"] == 4, 0.0, 1.0)

    result = callaway_santanna(panel, "kpi", "market", "week", "first_week", weights="weight")

    assert set(result.unestimable["reason"]) == {TOO_FEW_UNITS}
    assert result.unestimable["time"].tolist() == [2, 3, 4]
    assert result.aggregate("simple").overall_att == pytest.approx(2.75)


@pytest.mark.parametrize(("parameter", "value"), [("control", "nevertreated"), ("base_period", "fixed")])
def test_when_a_choice_is_unknown_then_parameter_error_names_it_and_the_valid_values(parameter, value):
    with pytest.raises(ParameterError, match="is not allowed") as error:
        callaway_santanna(small_panel(), "kpi", "market", "week", "first_week", **{parameter: value})

    assert error.value.parameter == parameter
    assert error.value.value == value


def test_when_a_column_is_missing_then_data_error_names_it():
    with pytest.raises(DataError, match="'launch_week'") as error:
        callaway_santanna(small_panel(), "kpi", "market", "week", "launch_week")

    assert error.value.column == "launch_week"


def test_when_units_miss_periods_then_data_error_says_how_many_and_which_periods():
    panel = small_panel().query("not (market in [1, 4] and week == 2)")

    with pytest.raises(DataError, match=r"2 of 6 units miss some of the 4 periods \(missing: 2\)"):
        callaway_santanna(panel, "kpi", "market", "week", "first_week")


def test_when_kind_is_unknown_or_window_given_for_another_kind_then_parameter_error():
    result = callaway_santanna(small_panel(), "kpi", "market", "week", "first_week")

    with pytest.raises(ParameterError, match="'simple', 'group', 'dynamic' or 'calendar'"):
        result.aggregate("event")
    with pytest.raises(ParameterError, match="dynamic"):
        result.aggregate("group", max_e=1)
