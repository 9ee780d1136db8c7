"""rfm_summary's DuckDB fast path (one aggregation by customer) equals the portable two-group-by summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import ibis
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.metrics.clv import rfm, rfm_summary

START = datetime(2024, 1, 1)

purchase_logs = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        # Hours into 400 days, clustered so that many purchases share a period (and some the same instant).
        st.one_of(st.integers(min_value=0, max_value=24 * 400 - 1), st.sampled_from([0, 1, 5, 30, 200, 9_000])),
        st.integers(min_value=0, max_value=500),
    ),
    min_size=1,
    max_size=60,
)


def portable(table: ibis.Table, **options) -> pd.DataFrame:
    """The summary by the portable path, on the same DuckDB backend."""
    with mock.patch.object(rfm, "_is_duckdb", return_value=False):
        return rfm_summary(table, **options)


def transactions(log) -> ibis.Table:
    frame = pd.DataFrame(
        {
            "user_id": [customer for customer, _, _ in log],
            "order_time": [START + timedelta(hours=hours) for _, hours, _ in log],
            "amount": [cents / 100 for _, _, cents in log],
            # The same instant always carries the same segment: "any one of them" is then one value.
            "segment": [f"s{hours % 3}" for _, hours, _ in log],
        }
    )
    frame["order_time"] = frame["order_time"].astype("datetime64[us]").dt.tz_localize("UTC")
    return ibis.memtable(frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=purchase_logs,
    period=st.sampled_from(["D", "W", "M"]),
    end_day=st.integers(min_value=0, max_value=420),
    with_amount=st.booleans(),
    with_by=st.booleans(),
)
def test_when_transactions_are_random_then_the_fast_path_equals_the_portable_one(
    log, period, end_day, with_amount, with_by
):
    table = transactions(log)
    options = {
        "amount": "amount" if with_amount else None,
        "observation_end": (START + timedelta(days=end_day)).date(),
        "period": period,
        "by": ["segment"] if with_by else [],
    }

    fast = rfm_summary(table, **options)

    pd.testing.assert_frame_equal(fast, portable(table, **options), check_dtype=False, rtol=1e-12)


def test_when_a_first_week_holds_three_purchases_then_its_spend_is_their_sum():
    # u1: three purchases in week 0 (one pair at the same instant), then weeks 2 and 2 again.
    log = [("u1", 1, 100), ("u1", 1, 250), ("u1", 30, 400), ("u1", 24 * 14, 700), ("u1", 24 * 15, 50)]
    log += [("u2", 5, 300), ("u2", 24 * 7, 900)]  # one purchase per week: no exact recount needed

    summary = rfm_summary(transactions(log), amount="amount", observation_end="2024-01-31", period="W")

    assert summary.index.tolist() == ["u1", "u2"]
    # u1: repeat spend = week 2's 7.00 + 0.50, over one repeat period; total 15.00.
    assert summary.loc["u1"].tolist() == [1.0, 2.0, 4.0, 7.5, 15.0]
    assert summary.loc["u2"].tolist() == [1.0, 1.0, 4.0, 9.0, 12.0]


def test_when_a_history_is_longer_than_the_bitmasks_then_its_distinct_days_are_still_counted():
    days = [0, 0, 3, 150, 151, 151, 299]  # 300 days: beyond the 128 periods the bitmasks cover
    log = [("u1", 24 * day + 2, 100) for day in days]

    summary = rfm_summary(transactions(log), amount="amount", observation_end="2024-10-30", period="D")

    # 2024-10-30 is day 303 after 2024-01-01 (a leap year): T = 303 days.
    assert summary.loc["u1"].tolist() == [4.0, 299.0, 303.0, 5.0 / 4, 7.0]
