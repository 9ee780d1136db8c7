"""rfm_summary, P(alive), expected purchases and CLV against hand-computed values and lifetimes (test-only oracle)."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import ParameterError
from analysis.metrics.clv import (
    ModelFitError,
    clv_by_group,
    customer_lifetime_value,
    expected_purchases,
    fit_bg_nbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)

CDNOW = Path(__file__).resolve().parents[2] / "fixtures" / "cdnow"

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    frame = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").set_index("ID")
    return frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def fits(cdnow):
    return (
        fit_bg_nbd(cdnow.frequency, cdnow.recency, cdnow["T"]),
        fit_gamma_gamma(cdnow.frequency, cdnow.monetary_value),
    )


def orders(rows) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["user_id", "order_time", "amount", "segment"])
    frame["order_time"] = pd.to_datetime(frame["order_time"]).dt.tz_localize("UTC")
    return ibis.memtable(frame)


def test_when_a_customer_buys_twice_in_a_week_then_that_week_counts_once_and_its_amounts_add_up():
    table = orders(
        [
            ("u1", "2025-01-06 10:00", 10.0, "thrifty"),  # Monday of week 0: first period, its segment rides along
            ("u1", "2025-01-12 23:00", 5.0, "lavish"),  # Sunday: still week 0
            ("u1", "2025-01-20 08:00", 30.0, "lavish"),  # week 2
            ("u1", "2025-01-22 08:00", 6.0, "lavish"),  # week 2 again
            ("u1", "2025-02-03 08:00", 12.0, "lavish"),  # week 4
            ("u2", "2025-01-27 09:00", 7.0, "social"),  # week 3, never again
            ("u3", "2025-02-17 00:00", 9.0, "social"),  # after the observation end's week: excluded
        ]
    )

    summary = rfm_summary(table, amount="amount", observation_end="2025-02-12", period="W", by=["segment"])

    # Observation end 2025-02-12 (Wednesday) floors to Monday 2025-02-10, week 5.
    assert summary.index.tolist() == ["u1", "u2"]
    assert summary.loc["u1", ["frequency", "recency", "T", "monetary_value", "total_value"]].tolist() == [
        2.0,
        4.0,
        5.0,
        (36.0 + 12.0) / 2,
        63.0,
    ]
    assert summary.loc["u2", ["frequency", "recency", "T", "monetary_value", "total_value"]].tolist() == [
        0.0,
        0.0,
        2.0,
        0.0,
        7.0,
    ]
    assert summary["segment"].tolist() == ["thrifty", "social"]


def test_when_periods_are_months_then_durations_count_calendar_months():
    table = orders([("u1", "2025-01-31 23:00", 1.0, "s"), ("u1", "2025-02-01 01:00", 2.0, "s")])

    summary = rfm_summary(table, observation_end="2025-04-01", period="M")

    assert summary.loc["u1"].tolist() == [1.0, 1.0, 3.0]
    assert list(summary.columns) == ["frequency", "recency", "T"]


def test_when_the_period_is_unknown_then_a_parameter_error_names_the_valid_ones():
    with pytest.raises(ParameterError, match="'D', 'W' or 'M'"):
        rfm_summary(orders([("u1", "2025-01-01", 1.0, "s")]), observation_end="2025-02-01", period="Q")


purchase_logs = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(min_value=0, max_value=24 * 120 - 1),  # hours into 120 days
        st.integers(min_value=1, max_value=500),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=purchase_logs, period=st.sampled_from(["D", "W"]), end_day=st.integers(min_value=30, max_value=130))
def test_when_transactions_are_random_then_the_summary_equals_lifetimes(log, period, end_day):
    start = datetime(2025, 3, 3)
    frame = pd.DataFrame(
        {
            "user_id": [customer for customer, _, _ in log],
            "order_time": [start + timedelta(hours=hours) for _, hours, _ in log],
            "amount": [cents / 100 for _, _, cents in log],
        }
    )
    end = start + timedelta(days=end_day)
    if frame["order_time"].min().to_period(period).to_timestamp() > pd.Timestamp(end).to_period(period).to_timestamp():
        return  # nobody bought by the observation end: lifetimes returns an empty frame of another shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = summary_data_from_transaction_data(
            frame, "user_id", "order_time", "amount", observation_period_end=end, freq=period
        )
    with_utc = frame.assign(order_time=frame["order_time"].dt.tz_localize("UTC"))

    ours = rfm_summary(ibis.memtable(with_utc), amount="amount", observation_end=end.date(), period=period)

    expected = expected.sort_index()
    assert ours.index.tolist() == expected.index.tolist()
    columns = ["frequency", "recency", "T", "monetary_value"]
    np.testing.assert_allclose(ours[columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12, atol=1e-9)


def test_when_probability_alive_and_expected_purchases_are_asked_then_they_equal_lifetimes(cdnow, fits):
    bg_nbd, _ = fits
    oracle = BetaGeoFitter()
    oracle.params_ = bg_nbd.params.copy()
    x, t_x, age = cdnow.frequency, cdnow.recency, cdnow["T"]

    np.testing.assert_allclose(
        probability_alive(bg_nbd, x, t_x, age), oracle.conditional_probability_alive(x, t_x, age), rtol=1e-10
    )
    for horizon in (1.0, 39.0, 200.0):
        np.testing.assert_allclose(
            expected_purchases(bg_nbd, horizon, x, t_x, age),
            oracle.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age),
            rtol=1e-9,
        )


def test_when_a_customer_has_no_repeat_purchase_then_alive_is_one_and_expected_purchases_follow_the_closed_form():
    params = pd.Series({"r": 0.5, "alpha": 2.0, "a": 1.5, "b": 3.0})

    # x = 0, T = 2, t = 1: (a+b-1)/(a-1) * [1 - ((α+T)/(α+T+t))^r 2F1(r, b; a+b-1; t/(α+T+t))], 2F1 by its series.
    z = 1 / 5
    series, term = 0.0, 1.0
    for k in range(200):
        series += term
        term *= (0.5 + k) * (3.0 + k) / ((3.5 + k) * (k + 1)) * z
    by_hand = 3.5 / 0.5 * (1 - (4 / 5) ** 0.5 * series)

    assert probability_alive(params, [0], [0], [2.0])[0] == 1.0
    assert expected_purchases(params, 1.0, [0], [0], [2.0])[0] == pytest.approx(by_hand, rel=1e-12)


def test_when_clv_is_computed_then_it_equals_lifetimes_times_the_margin(cdnow, fits):
    bg_nbd, gamma_gamma = fits
    purchases = BetaGeoFitter()
    purchases.params_ = bg_nbd.params.copy()
    purchases.predict = purchases.conditional_expected_number_of_purchases_up_to_time
    spend = GammaGammaFitter()
    spend.params_ = gamma_gamma.params.rename({"gamma": "v"})
    columns = [cdnow.frequency, cdnow.recency, cdnow["T"], cdnow.monetary_value]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = spend.customer_lifetime_value(purchases, *columns, time=6, discount_rate=0.02, freq="W")

    ours = customer_lifetime_value(bg_nbd, gamma_gamma, *columns, months=6, margin=0.3, discount_rate=0.02)

    np.testing.assert_allclose(ours, 0.3 * expected.to_numpy(), rtol=1e-10)


def test_when_identical_rows_are_given_as_weights_then_the_fit_equals_the_fit_on_every_row(cdnow):
    counted = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="customers")

    weighted = fit_bg_nbd(counted.frequency, counted.recency, counted["T"], weights=counted.customers)
    every_row = fit_bg_nbd(cdnow.frequency, cdnow.recency, cdnow["T"])

    # With the analytic gradient and a tight gtol the optimiser walks the flat (a, b) ridge to its end, wherever the
    # rows come in order.
    np.testing.assert_allclose(weighted.params, every_row.params, rtol=1e-8)
    assert weighted.log_likelihood == pytest.approx(every_row.log_likelihood, rel=1e-10)
    assert weighted.n_customers == 2357


def test_when_nobody_repeats_then_the_bg_nbd_fit_raises_a_model_fit_error_with_advice():
    with pytest.raises(ModelFitError, match="no customer made a repeat purchase"):
        fit_bg_nbd([0, 0, 0], [0, 0, 0], [5, 6, 7])


def test_when_recency_exceeds_age_then_the_fit_names_the_column():
    with pytest.raises(ModelFitError) as raised:
        fit_bg_nbd([1, 2], [3, 9], [5, 6])
    assert raised.value.column == "recency"


def test_when_clv_is_summarised_by_group_then_the_interval_holds_the_point_and_narrows_with_more_customers(cdnow):
    summary = cdnow.assign(segment=np.where(cdnow.index % 2 == 0, "even", "odd"))
    few = summary.iloc[:600]

    def widths(frame: pd.DataFrame) -> pd.DataFrame:
        bg_nbd = fit_bg_nbd(frame.frequency, frame.recency, frame["T"])
        gamma_gamma = fit_gamma_gamma(frame.frequency, frame.monetary_value)
        return clv_by_group(frame, bg_nbd, gamma_gamma, by="segment", draws=100, seed=3)

    on_all, on_few = widths(summary), widths(few)

    assert on_all["segment"].tolist() == ["even", "odd"]
    assert on_all["customers"].tolist() == [1178, 1179]
    assert ((on_all.mean_clv_ci_low < on_all.mean_clv) & (on_all.mean_clv < on_all.mean_clv_ci_high)).all()
    assert ((on_few.mean_clv_ci_low < on_few.mean_clv) & (on_few.mean_clv < on_few.mean_clv_ci_high)).all()
    all_width = on_all.mean_clv_ci_high - on_all.mean_clv_ci_low
    few_width = on_few.mean_clv_ci_high - on_few.mean_clv_ci_low
    assert (all_width < few_width).all()
    np.testing.assert_allclose(on_all.total_clv, on_all.mean_clv * on_all.customers)
