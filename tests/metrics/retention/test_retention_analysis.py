"""analyse_retention: hand-built tables with every headline number known, the small demo data, the demo's truths."""

from __future__ import annotations

import dataclasses
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis.config import PROJECT_ROOT
from analysis.errors import ParameterError
from analysis.metrics.retention import RetentionAnalysis, analyse_retention
from analysis.metrics.retention.value_analysis import repeat_revenue_share
from analysis.scope import Scope
from analysis.sources import load_tables
from analysis.sources.demo import generate_demo_tables

USERS = ["u1", "u2", "u3", "u4", "u5", "u9"]


def tiny_tables() -> dict[str, ibis.Table]:
    """DE sellers and orders whose retention, repeat rates and revenue shares are worked out in the tests.

    Sellers (observed until 2026-06-30): A and B stay throughout, C stops on 2025-12-31, D on 2025-05-10, E signs up
    on 2026-01-01 and stops on 2026-05-01; F sells in FR. Orders (EUR): u1 twice in 2025Q1 and once in 2026Q2, u2
    once in 2025Q1, u3 three times in 2026Q2, u4 and u5 once each in 2026Q2; u9 once in FR.
    """
    sellers = pd.DataFrame(
        {
            "seller_id": ["A", "B", "C", "D", "E", "F"],
            "market": ["DE", "DE", "DE", "DE", "DE", "FR"],
            "signup_date": pd.to_datetime(
                ["2024-01-01", "2024-06-01", "2025-01-01", "2024-03-01", "2026-01-01", "2025-02-01"]
            ),
            "last_active_date": pd.to_datetime(
                ["2026-06-30", "2026-06-30", "2025-12-31", "2025-05-10", "2026-05-01", "2026-06-30"]
            ),
        }
    )
    sellers["status"] = np.where(sellers["last_active_date"] == pd.Timestamp("2026-06-30"), "active", "churned")
    orders = [
        ("u1", "2025-01-06", 10.0),
        ("u1", "2025-02-10", 20.0),
        ("u1", "2026-04-06", 30.0),
        ("u2", "2025-01-07", 5.0),
        ("u3", "2026-04-07", 10.0),
        ("u3", "2026-05-05", 10.0),
        ("u3", "2026-06-01", 10.0),
        ("u4", "2026-04-08", 40.0),
        ("u5", "2026-05-06", 15.0),
    ]
    frame = pd.DataFrame(orders, columns=["user_id", "day", "amount"])
    frame = pd.concat([frame, pd.DataFrame([("u9", "2025-03-03", 12.0)], columns=frame.columns)], ignore_index=True)
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["seller_id"] = ["A"] * 9 + ["F"]
    frame["market"] = ["DE"] * 9 + ["FR"]
    frame["order_time"] = pd.to_datetime(frame.pop("day")).dt.tz_localize("UTC") + pd.Timedelta(hours=12)
    frame["currency"] = "EUR"
    events = pd.DataFrame(
        {
            "event_time": pd.to_datetime(["2025-01-01"] * 6, utc=True),
            "user_id": USERS,
            "session_id": [f"{u}-1" for u in USERS],
            "market": ["DE"] * 5 + ["FR"],
            "event_name": "session_start",
            "segment": ["Loyal", "Loyal", "Impulse", "Impulse", "Loyal", "Loyal"],
        }
    )
    initiatives = pd.DataFrame(
        {
            "initiative_id": ["I1", "I1"],
            "name": ["Journeys", "Journeys"],
            "market": ["DE", "FR"],
            "launch_date": [date(2026, 1, 15), None],
        }
    )
    tables = {"sellers": sellers, "orders": frame, "events": events, "initiatives": initiatives}
    return {name: ibis.memtable(table) for name, table in tables.items()}


@pytest.fixture(scope="module")
def tiny() -> RetentionAnalysis:
    return analyse_retention(tiny_tables(), Scope.parse("DE", "2025-01-01", "2026-06-30"), min_group_size=1)


def test_when_a_quarter_is_compared_with_a_year_earlier_then_retention_difference_ci_and_p_are_exact(tiny):
    row = tiny.retention_change.iloc[0]
    # 2026Q2: A, B, E active on 1 April, A and B still on 30 June; 2025Q2: A, B, C, D active, A, B, C retained
    assert (row["quarter"], row["earlier_quarter"]) == ("2026Q2", "2025Q2")
    assert row["retention"] == pytest.approx(2 / 3) and row["earlier_retention"] == pytest.approx(3 / 4)
    assert row["difference"] == pytest.approx(2 / 3 - 3 / 4)
    low, high = confint_proportions_2indep(2, 3, 3, 4, method="newcomb", compare="diff")
    assert (row["difference_ci_low"], row["difference_ci_high"]) == pytest.approx((low, high))
    _, p = proportions_ztest([2, 3], [3, 4])
    assert row["p_value"] == pytest.approx(p) and row["p_value_adjusted"] == pytest.approx(p)
    assert not row["real"]


def test_when_repeat_rates_are_read_then_the_trend_compares_the_first_and_last_complete_quarters(tiny):
    row = tiny.repeat_trend.iloc[0]
    # 2025Q1: u1 (2 orders) of u1, u2; 2026Q2: u3 (3 orders) of u1, u3, u4, u5
    assert (row["first_period"], row["last_period"]) == ("2025Q1", "2026Q2")
    assert (row["first_rate"], row["last_rate"]) == pytest.approx((1 / 2, 1 / 4))
    low, high = confint_proportions_2indep(1, 4, 1, 2, method="newcomb", compare="diff")
    assert (row["difference"], row["difference_ci_low"], row["difference_ci_high"]) == pytest.approx(
        (-1 / 4, low, high)
    )
    assert row["p_value"] == pytest.approx(proportions_ztest([1, 1], [4, 2])[1]) and not row["real"]


def test_when_repeat_buyers_bring_most_revenue_then_their_share_has_the_delta_method_interval(tiny):
    row = tiny.repeat_revenue.iloc[0]
    # revenue per customer x = 60, 5, 30, 40, 15; repeat buyers (>= 2 orders) u1 and u3: y = 60, 0, 30, 0, 0
    assert (row["currency"], row["customers"], row["repeat_buyers"]) == ("EUR", 5, 2)
    assert (row["revenue"], row["repeat_revenue"], row["share"]) == pytest.approx((150, 90, 0.6))
    x, y = np.array([60, 5, 30, 40, 15.0]), np.array([60, 0, 30, 0, 0.0])
    se = np.sqrt(np.sum((y - 0.6 * x) ** 2) / (5 * 4)) / x.mean()  # = sqrt(1386 / 20) / 30
    assert row["share_ci_low"] == pytest.approx(0.6 - 1.959964 * se, rel=1e-6)
    assert row["share_ci_high"] == 1.0  # 0.6 + 0.544 is clipped to a share's range


def test_when_the_delta_method_share_is_checked_by_bootstrap_then_the_two_standard_errors_agree():
    generator = np.random.default_rng(3)
    x = generator.lognormal(3, 0.6, 4000)
    y = np.where(generator.random(4000) < 0.4, x, 0.0)
    sums = pd.DataFrame(
        {"currency": ["EUR"], "customers": [4000], "repeat_buyers": [int((y > 0).sum())], "revenue": [x.sum()],
         "repeat_revenue": [y.sum()], "sum_xx": [x @ x], "sum_yy": [y @ y], "sum_xy": [x @ y]}
    )  # fmt: skip
    row = repeat_revenue_share(sums).iloc[0]
    picks = generator.integers(0, 4000, size=(2000, 4000))
    boot = y[picks].sum(axis=1) / x[picks].sum(axis=1)
    delta_se = (row["share_ci_high"] - row["share_ci_low"]) / (2 * 1.959964)
    assert delta_se == pytest.approx(boot.std(), rel=0.08)


def test_when_a_market_launched_then_its_hazard_is_compared_before_and_after_and_judged(tiny):
    row = tiny.hazard_change.iloc[0]
    assert row["market"] == "DE" and row["launch_month"] == date(2026, 1, 1)
    assert (row["months_before"], row["months_after"]) == (12, 6)
    assert (row["stopped_before"], row["stopped_after"]) == (2, 1)  # D in May 2025, C on 31 Dec; E in May 2026
    assert row["real"] == (row["p_value_adjusted"] < 0.05)


def test_when_a_market_never_launched_then_there_is_no_before_after_row():
    analysis = analyse_retention(tiny_tables(), Scope.parse("FR", "2025-01-01", "2026-06-30"))
    assert analysis.hazard_change.empty
    assert analysis.launches["launch_date"].tolist() == [None]


def test_when_a_model_cannot_be_fitted_then_the_analysis_states_why_instead_of_failing():
    analysis = analyse_retention(tiny_tables(), Scope.parse("FR", "2025-01-01", "2026-06-30"))
    fit = analysis.clv_fits.iloc[0]
    assert "repeat purchase" in fit["failure"] and np.isnan(fit["r"])
    assert analysis.clv.empty
    assert analysis.sbg_fit is None and analysis.sbg_failure and analysis.sbg_projection.empty


def test_when_cohorts_are_not_yet_observable_then_their_cells_are_blank_not_zero(tiny):
    grid = tiny.seller_cohorts
    newest = grid[grid["cohort"] == "2026Q1"]
    assert newest.loc[newest["periods_since"] == 0, "share"].item() == 1.0
    late = newest[~newest["complete"]]
    assert len(late) and late["share"].isna().all()


def test_when_the_analysis_is_built_then_no_customer_or_seller_identifier_leaves_it(tiny):
    identifiers = set(USERS) | {"A", "B", "C", "D", "E", "F"}
    for field in dataclasses.fields(tiny):
        value = getattr(tiny, field.name)
        if isinstance(value, pd.DataFrame):
            cells = set(value.astype(str).to_numpy().ravel()) | set(value.index.astype(str))
            assert not cells & identifiers, field.name


@pytest.mark.parametrize(
    ("option", "value"),
    [("cohort_period", "week"), ("projection_months", 0), ("margin", 1.5), ("monthly_discount_rate", -0.1),
     ("min_group_size", 0), ("clv_horizon_months", 2.5)],
)  # fmt: skip
def test_when_a_parameter_is_out_of_range_then_a_parameter_error_names_it(option, value):
    with pytest.raises(ParameterError) as raised:
        analyse_retention(tiny_tables(), Scope.parse("DE", "2025-01-01", "2026-06-30"), **{option: value})
    assert raised.value.parameter == option


@pytest.fixture(scope="module")
def small_tables():
    return load_tables(PROJECT_ROOT / "data" / "test-small")


@pytest.mark.parametrize("market", ["US", "ALL"])
def test_when_run_on_the_small_demo_data_then_every_view_is_filled_and_fits_converge_or_say_why(small_tables, market):
    analysis = analyse_retention(small_tables, Scope.parse(market, "2025-01-01", "2026-06-30"))
    views = ("seller_retention", "retention_change", "churn_hazard", "hazard_change", "seller_cohorts",
             "buyer_cohorts", "survival", "sbg_curve", "repeat_rate", "repeat_trend", "repeat_revenue")  # fmt: skip
    for name in views:
        assert not getattr(analysis, name).empty, name
    assert (analysis.sbg_fit is None) == bool(analysis.sbg_failure)
    fitted = analysis.clv_fits["failure"].isna()  # a purchase model (BG/NBD or its NBD limit) fitted
    assert analysis.clv_fits.loc[fitted, ["r", "alpha"]].notna().all(axis=None)
    assert set(analysis.clv["currency"]) == set(analysis.clv_fits.loc[fitted, "currency"])
    lines = set(analysis.seller_retention["market"])
    assert lines == ({"US"} if market == "US" else {"AU", "CA", "DE", "FR", "GB", "JP", "NL", "US", "ALL"})
    if market == "ALL":
        assert set(analysis.repeat_revenue["currency"]) == {"AUD", "CAD", "EUR", "GBP", "JPY", "USD"}


@pytest.fixture(scope="module")
def demo_tables():
    return {name: ibis.memtable(frame) for name, frame in generate_demo_tables(users=60_000, seed=12).items()}


@pytest.mark.slow  # 60,000 users: the whole analysis, CLV fits included, takes about 15 s
def test_when_a_treated_market_is_read_on_the_demo_then_post_launch_retention_holds_the_planted_0_947(demo_tables):
    analysis = analyse_retention(demo_tables, Scope.parse("US", "2025-01-01", "2026-06-30"))
    retention = analysis.seller_retention.set_index("quarter")
    for quarter in ("2026Q1", "2026Q2"):  # US launched in October 2025: both quarters start after its launch month
        row = retention.loc[quarter]
        assert row["retention_ci_low"] < 0.947 < row["retention_ci_high"], quarter
    change = analysis.retention_change.iloc[0]
    assert change["difference"] > 0 and change["real"]  # 0.947 against about 0.92 a year before, 1,700 sellers
