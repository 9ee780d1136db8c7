"""Every engine-side retention helper on hand-built tiny tables: exact counts worked out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.errors import DataFileError, ParameterError
from analysis.metrics.retention import (
    buyer_cohorts,
    hazard_before_after,
    repeat_customer_rate,
    seller_churn_hazard,
    seller_cohorts,
    seller_retention,
    survival_curves,
)
from analysis.metrics.stats import wilson_interval


def sellers_table() -> pd.DataFrame:
    """Five DE sellers and one FR seller, observed until 2025-06-30 (the latest last active day)."""
    rows = [
        ("a", "DE", "2024-11-15", "2025-06-30"),  # active throughout, censored
        ("b", "DE", "2024-12-01", "2025-02-15"),  # stops in February
        ("c", "DE", "2025-01-01", "2025-03-31"),  # active on 2025Q1's last day, stops on it
        ("d", "DE", "2025-02-10", "2025-06-30"),  # joins mid-quarter: not at risk in 2025Q1 or in February
        ("e", "DE", "2025-04-01", "2025-04-01"),  # a one-day seller
        ("f", "FR", "2025-01-20", "2025-05-19"),
    ]
    frame = pd.DataFrame(rows, columns=["seller_id", "market", "signup_date", "last_active_date"])
    return frame.assign(
        signup_date=pd.to_datetime(frame.signup_date), last_active_date=pd.to_datetime(frame.last_active_date)
    )


def test_when_quarters_are_counted_then_retention_has_the_hand_counts():
    result = seller_retention(sellers_table(), start="2025-01-01")
    de = result[result.market == "DE"].set_index("quarter")
    # 2025Q1: a, b, c active on Jan 1; a and c still active on Mar 31
    assert (de.at["2025Q1", "active_at_start"], de.at["2025Q1", "retained"]) == (3, 2)
    # 2025Q2: a, d, e active on Apr 1 (c stopped on Mar 31); a and d active on Jun 30
    assert (de.at["2025Q2", "active_at_start"], de.at["2025Q2", "retained"]) == (3, 2)
    assert de.at["2025Q1", "retention"] == pytest.approx(2 / 3)
    low, high = wilson_interval(2, 3)
    assert (de.at["2025Q1", "retention_ci_low"], de.at["2025Q1", "retention_ci_high"]) == pytest.approx((low, high))
    assert de.at["2025Q1", "quarter_start"] == date(2025, 1, 1) and de["complete"].all()
    fr = result[result.market == "FR"].set_index("quarter")
    assert list(fr.index) == ["2025Q2"] and fr.at["2025Q2", "retained"] == 0  # f joined after Jan 1


def test_when_the_last_quarter_ends_after_the_observation_then_it_is_incomplete_and_has_no_rate():
    result = seller_retention(sellers_table(), by=(), observed_until="2025-05-15")
    last = result.iloc[-1]
    assert last["quarter"] == "2025Q2" and not last["complete"] and np.isnan(last["retention"])
    assert np.isnan(last["retention_ci_low"]) and result.iloc[:-1]["complete"].all()


def test_when_months_are_counted_then_the_hazard_has_the_hand_counts():
    result = seller_churn_hazard(sellers_table(), start="2025-01-01").set_index(["market", "month"])
    de = result.loc["DE"]
    expected = {  # (at risk on the 1st, stopped in the month)
        date(2025, 1, 1): (3, 0),
        date(2025, 2, 1): (3, 1),  # b stops Feb 15; d joined Feb 10, at risk from March
        date(2025, 3, 1): (3, 1),  # a, c, d; c stops Mar 31
        date(2025, 4, 1): (3, 1),  # a, d, e; e stops Apr 1
        date(2025, 5, 1): (2, 0),
        date(2025, 6, 1): (2, 0),  # a and d are active on the observation end: censored, not stopped
    }
    assert {m: (row.at_risk, row.stopped) for m, row in de.iterrows()} == expected
    assert de.loc[date(2025, 2, 1), "hazard"] == pytest.approx(1 / 3)
    fr = result.loc["FR"]
    assert fr.loc[date(2025, 5, 1), "stopped"] == 1 and fr.loc[date(2025, 2, 1), "at_risk"] == 1


def test_when_hazards_are_pooled_around_a_launch_then_before_and_after_sum_the_months():
    hazard = seller_churn_hazard(sellers_table(), start="2025-01-01")
    result = hazard_before_after(hazard, {"DE": date(2025, 4, 10)}).set_index("market")
    de = result.loc["DE"]
    assert (de.months_before, de.at_risk_before, de.stopped_before) == (3, 9, 2)
    assert (de.months_after, de.at_risk_after, de.stopped_after) == (3, 7, 1)
    assert de.hazard_after - de.hazard_before == pytest.approx(1 / 7 - 2 / 9)
    assert 0 < de.p_value < 1 and de.difference_ci_low < de.difference < de.difference_ci_high
    fr = result.loc["FR"]
    assert fr.launch_month is None and fr.months_after == 0 and np.isnan(fr.hazard_after) and np.isnan(fr.p_value)


def test_when_seller_cohorts_are_built_then_counts_follow_whole_months_and_unobservable_cells_are_blank():
    grid = seller_cohorts(sellers_table(), by=(), cohort="month", period="month")
    cells = grid.set_index(["cohort", "periods_since"])
    # 2025-01 cohort: c (3 whole months to Mar 31? Jan 1 -> Mar 31 is 2 whole months) and f (Jan 20 -> May 19: 3)
    assert cells.loc[("2025-01", 0), "cohort_size"] == 2
    assert [cells.loc[("2025-01", k), "active"] for k in range(5)] == [2, 2, 2, 1, 0]
    assert cells.loc[("2025-01", 5), "complete"] and cells.loc[("2025-01", 5), "share"] == 0.0
    # 2025-04 cohort (e): observable up to 2 months (Apr + 2 = Jun, which has ended)
    assert cells.loc[("2025-04", 2), "complete"] and not cells.loc[("2025-04", 3), "complete"]
    assert np.isnan(cells.loc[("2025-04", 3), "share"]) and np.isnan(cells.loc[("2025-04", 3), "active"])
    assert cells.loc[("2025-04", 0), "share"] == 1.0 and cells.loc[("2025-04", 1), "share"] == 0.0
    assert cells.loc[("2024-11", 0), "cohort_start"] == date(2024, 11, 1)


def test_when_seller_cohorts_are_quarterly_then_a_cohort_waits_for_its_last_signup_day():
    grid = seller_cohorts(sellers_table(), by=("market",), cohort="quarter", period="quarter")
    cells = grid[grid.market == "DE"].set_index(["cohort", "periods_since"])
    # 2025Q1 DE: c (2 whole months) and d (4 whole months, censored): one quarter on, only d
    assert cells.loc[("2025Q1", 1), "active"] == 1 and cells.loc[("2025Q1", 1), "complete"]
    assert not cells.loc[("2025Q1", 2), "complete"]
    assert cells.loc[("2024Q4", 2), "complete"] and cells.loc[("2024Q4", 2), "active"] == 1


def orders_table() -> pd.DataFrame:
    rows = [
        ("u1", "DE", "2025-01-05 10:00"),
        ("u1", "DE", "2025-01-28 09:00"),
        ("u1", "DE", "2025-03-02 12:00"),
        ("u2", "DE", "2025-01-20 23:59"),
        ("u3", "DE", "2025-02-01 00:00"),
        ("u3", "DE", "2025-04-30 08:00"),
        ("u3", "DE", "2025-05-02 08:00"),
        ("u4", "FR", "2025-03-31 23:00"),
        ("u4", "FR", "2025-04-01 01:00"),
        ("u4", "FR", "2025-06-30 18:00"),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "market", "order_time"])
    return frame.assign(order_time=pd.to_datetime(frame.order_time, utc=True), currency="EUR")


def test_when_buyer_cohorts_are_built_then_returning_buyers_are_counted_per_calendar_period():
    grid = buyer_cohorts(orders_table(), cohort="month", period="month")
    de = grid[grid.market == "DE"].set_index(["cohort", "periods_since"])
    assert de.loc[("2025-01", 0), "cohort_size"] == 2 and de.loc[("2025-01", 0), "share"] == 1.0
    assert [de.loc[("2025-01", k), "active"] for k in range(1, 6)] == [0, 1, 0, 0, 0]
    assert [de.loc[("2025-02", k), "active"] for k in range(1, 5)] == [0, 1, 1, 0]
    assert not de.loc[("2025-02", 5), "complete"] and np.isnan(de.loc[("2025-02", 5), "share"])
    fr = grid[grid.market == "FR"].set_index(["cohort", "periods_since"])
    assert fr.loc[("2025-03", 1), "active"] == 1 and fr.loc[("2025-03", 3), "active"] == 1


def test_when_the_observation_ends_mid_period_then_that_period_is_incomplete_not_zero():
    grid = buyer_cohorts(orders_table(), by=(), cohort="quarter", period="quarter", observation_end="2025-06-15")
    cells = grid.set_index(["cohort", "periods_since"])
    assert cells.loc[("2025Q1", 0), "cohort_size"] == 4
    assert not cells.loc[("2025Q1", 1), "complete"] and np.isnan(cells.loc[("2025Q1", 1), "share"])


def test_when_repeat_customers_are_counted_then_each_quarter_has_the_hand_counts():
    result = repeat_customer_rate(orders_table()).set_index(["market", "period"])
    # DE 2025Q1: u1 (3 orders), u2 (1), u3 (1) -> 1 of 3; 2025Q2: u3 (2) -> 1 of 1
    assert tuple(result.loc[("DE", "2025Q1"), ["customers", "repeat_customers"]]) == (3, 1)
    assert tuple(result.loc[("DE", "2025Q2"), ["customers", "repeat_customers"]]) == (1, 1)
    assert tuple(result.loc[("FR", "2025Q2"), ["customers", "repeat_customers"]]) == (1, 1)
    assert result.loc[("DE", "2025Q1"), "rate"] == pytest.approx(1 / 3)
    assert result["complete"].all() and result.loc[("FR", "2025Q1"), "period_start"] == date(2025, 1, 1)


def test_when_the_window_cuts_a_quarter_then_it_is_incomplete_and_other_columns_can_group():
    result = repeat_customer_rate(orders_table(), by=("currency",), period="month", start="2025-01-10")
    jan = result.set_index("period").loc["2025-01"]
    assert not jan["complete"] and np.isnan(jan["rate"]) and jan["customers"] == 2  # u1 (1 order after the 10th), u2
    assert result.set_index("period").loc["2025-03", "customers"] == 2


def brute_force_kaplan_meier(times: np.ndarray, events: np.ndarray) -> dict[int, float]:
    survival, curve = 1.0, {}
    for t in sorted(set(times[events == 1])):
        at_risk = (times >= t).sum()
        survival *= 1 - ((times == t) & (events == 1)).sum() / at_risk
        curve[int(t)] = survival
    return curve


def test_when_survival_curves_are_fitted_then_they_equal_the_product_limit_and_statsmodels_on_rows():
    curves = survival_curves(sellers_table(), group=None)
    # whole months active: a 7 (censored), b 2 (stop at 3), c 2 (stop 3), d 4 (censored), e 0 (stop 1), f 3 (stop 4)
    times, events = np.array([7, 3, 3, 4, 1, 4]), np.array([0, 1, 1, 0, 1, 1])
    expected = brute_force_kaplan_meier(times, events)
    curve = curves.set_index("months")
    assert list(curve.index) == [0, *expected] and curve.at[0, "survival"] == 1.0
    assert [curve.at[t, "survival"] for t in expected] == pytest.approx(list(expected.values()))
    rows = SurvfuncRight(times.astype(float), events.astype(float))
    assert curve["survival"].iloc[1:].to_numpy() == pytest.approx(rows.surv_prob)
    assert curve["at_risk"].iloc[1:].tolist() == rows.n_risk.tolist()
    inner = curve.iloc[1:-1]
    assert (inner.survival_ci_low < inner.survival).all() and (inner.survival < inner.survival_ci_high).all()


def test_when_survival_is_grouped_by_cohort_then_each_signup_quarter_has_its_curve():
    curves = survival_curves(sellers_table(), group="cohort", cohort="quarter")
    assert sorted(curves["group"].unique()) == ["2024Q4", "2025Q1", "2025Q2"]
    q2 = curves[curves.group == "2025Q2"]  # e alone: stops in its first month
    assert q2["survival"].tolist() == [1.0, 0.0]


def test_when_a_column_is_missing_or_a_period_is_unknown_then_named_errors_are_raised():
    with pytest.raises(DataFileError, match="segment"):
        seller_retention(sellers_table(), by=("segment",))
    with pytest.raises(ParameterError, match="week"):
        buyer_cohorts(orders_table(), period="week")
