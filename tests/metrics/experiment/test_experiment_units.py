"""Per-unit experiment metrics by hand on a tiny clickstream, the daily increments, and Spark parity (slow)."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.metrics.experiment.units import daily_ratio_statistics, experiment_units

START, END = date(2025, 11, 1), date(2025, 11, 30)
BASE = {"market": "GB", "device": "desktop", "channel": "direct", "segment": "S1", "variant": None}


def session(user, session_id, day, names, **overrides):
    moment = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=10)
    return [
        {
            **BASE,
            **overrides,
            "user_id": user,
            "session_id": session_id,
            "event_time": moment + pd.Timedelta(minutes=i),
            "event_name": name,
        }
        for i, name in enumerate(names)
    ]


def tiny_events() -> pd.DataFrame:
    rows = [
        # a, control: an abandoned cart in the pre-period; a purchase, an abandoned cart and a bare visit in the test
        *session("a", "a0", "2025-10-20", ["session_start", "add_to_cart"]),
        *session("a", "a1", "2025-11-02", ["session_start", "add_to_cart", "purchase"], variant="control"),
        *session("a", "a2", "2025-11-05", ["session_start", "add_to_cart"], variant="control"),
        *session("a", "a3", "2025-11-07", ["session_start"], variant="control"),
        *session("a", "a4", "2025-12-05", ["session_start", "purchase"], variant="control"),  # after the end
        # b, treatment: first exposed on mobile by email as S2; two purchase events in one session
        *session("b", "b0", "2025-10-30", ["session_start", "purchase"]),
        *session(
            "b",
            "b1",
            "2025-11-03",
            ["session_start", "purchase", "purchase"],
            variant="treatment",
            device="mobile",
            channel="email",
            segment="S2",
        ),
        *session("b", "b2", "2025-11-10", ["session_start"], variant="treatment"),
        # c: in range but in no arm; d: another market; e: a visit long before the pre-period
        *session("c", "c1", "2025-11-04", ["session_start", "purchase"]),
        *session("d", "d1", "2025-11-04", ["session_start", "purchase"], variant="treatment", market="FR"),
        *session("e", "e0", "2025-09-01", ["session_start", "purchase"]),
        *session("e", "e1", "2025-11-20", ["session_start"], variant="treatment"),
    ]
    return pd.DataFrame(rows).astype({"event_time": "datetime64[us, UTC]"})


def tiny_orders() -> pd.DataFrame:
    rows = [
        ("o1", "a", "2025-11-02", 30.0),
        ("o2", "a", "2025-12-05", 99.0),  # after the end
        ("o3", "b", "2025-10-30", 5.0),  # pre-period
        ("o4", "b", "2025-11-02", 7.0),  # in range but before b's exposure
        ("o5", "b", "2025-11-03", 10.0),
        ("o6", "b", "2025-11-03", 20.0),
        ("o7", "c", "2025-11-04", 50.0),
    ]
    frame = pd.DataFrame(rows, columns=["order_id", "user_id", "order_time", "amount"])
    frame["order_time"] = pd.to_datetime(frame["order_time"], utc=True) + pd.Timedelta(hours=12)
    return frame.assign(market="GB", currency="GBP", seller_id="s1").astype({"order_time": "datetime64[us, UTC]"})


def units_frame(events=None, orders=None, **options) -> pd.DataFrame:
    events = ibis.memtable(tiny_events()) if events is None else events
    orders = ibis.memtable(tiny_orders()) if orders is None else orders
    options = {"start": START, "end": END, "market": "GB", **options}
    return experiment_units(events, orders, **options).to_pandas().sort_values("user_id", ignore_index=True)


def test_when_users_are_exposed_then_each_gets_one_row_with_hand_computed_metrics():
    units = units_frame().set_index("user_id")

    assert list(units.index) == ["a", "b", "e"]
    assert units.loc["a"].to_dict() | {"first_exposure": None} == {
        "variant": "control", "first_exposure": None, "segment": "S1", "device": "desktop", "channel": "direct",
        "converted": 1, "sessions": 3, "purchasing_sessions": 1, "carts": 2, "abandoned_carts": 1, "purchases": 1,
        "orders": 1, "revenue": 30.0, "pre_converted": 0, "pre_sessions": 1, "pre_purchasing_sessions": 0,
        "pre_carts": 1, "pre_abandoned_carts": 1, "pre_purchases": 0, "pre_orders": 0, "pre_revenue": 0.0,
    }  # fmt: skip
    assert units.loc["b"].to_dict() | {"first_exposure": None} == {
        "variant": "treatment", "first_exposure": None, "segment": "S2", "device": "mobile", "channel": "email",
        "converted": 1, "sessions": 2, "purchasing_sessions": 1, "carts": 0, "abandoned_carts": 0, "purchases": 2,
        "orders": 2, "revenue": 30.0, "pre_converted": 1, "pre_sessions": 1, "pre_purchasing_sessions": 1,
        "pre_carts": 0, "pre_abandoned_carts": 0, "pre_purchases": 1, "pre_orders": 1, "pre_revenue": 5.0,
    }  # fmt: skip
    assert units.loc["e", ["sessions", "converted", "pre_sessions", "orders", "revenue"]].tolist() == [1, 0, 0, 0, 0.0]
    assert units.loc["b", "first_exposure"] == pd.Timestamp("2025-11-03 10:00", tz="UTC")


def test_when_the_pre_period_is_zero_days_then_every_pre_column_is_zero():
    units = units_frame(pre_days=0)
    assert (units.filter(like="pre_") == 0).all().all()


def test_when_no_market_is_given_then_every_market_with_a_variant_is_in():
    assert units_frame(market=None)["user_id"].tolist() == ["a", "b", "d", "e"]


def test_when_orders_are_missing_then_order_columns_are_zero():
    units = experiment_units(ibis.memtable(tiny_events()), None, start=START, end=END, market="GB").to_pandas()
    assert units[["orders", "revenue", "pre_orders", "pre_revenue"]].sum().tolist() == [0, 0.0, 0, 0.0]


def test_when_pre_days_is_negative_then_a_parameter_error_names_it():
    with pytest.raises(ParameterError) as error:
        units_frame(pre_days=-1)
    assert error.value.parameter == "pre_days"


def test_when_days_are_summed_then_the_increments_give_the_per_user_sums_of_squares():
    events = ibis.memtable(tiny_events())
    gb = events.filter(events.market == "GB")
    units = experiment_units(gb, None, start=START, end=END)
    daily = daily_ratio_statistics(
        units, gb, start=START, end=END, ratios={"conversion": ("purchasing_sessions", "sessions")}
    )
    control = daily[daily["variant"] == "control"].set_index("day")
    # a: (x, y) = (1, 1) on 2 Nov, then (0, 1) on 5 and 7 Nov: running X = 1, Y = 1, 2, 3
    assert control["new_units"].tolist() == [1, 0, 0]
    assert control["conversion_sum_yy"].tolist() == [1, 4 - 1, 9 - 4]
    assert control["conversion_sum_xy"].tolist() == [1, 2 - 1, 3 - 2]
    assert control["conversion_sum_xx"].tolist() == [1, 0, 0]
    totals = daily.groupby("variant")[[c for c in daily.columns if c.startswith("conversion")]].sum()
    per_user = units.to_pandas().set_index("user_id")
    x, y = per_user["purchasing_sessions"], per_user["sessions"]
    expected = pd.DataFrame({"x": x, "y": y, "xx": x * x, "yy": y * y, "xy": x * y}).groupby(per_user["variant"]).sum()
    assert totals.to_numpy().tolist() == expected.to_numpy().tolist()


@pytest.mark.slow
def test_when_run_on_spark_then_the_units_equal_duckdb(spark_backend):
    spark = spark_backend
    with_nulls = tiny_events().astype({"variant": object})  # Spark reads a missing str as the text "nan"
    with_nulls["variant"] = with_nulls["variant"].where(with_nulls["variant"].notna(), None)
    events = spark.create_table("experiment_events", with_nulls, overwrite=True)
    orders = spark.create_table("experiment_orders", tiny_orders(), overwrite=True)
    on_spark = units_frame(events, orders)
    on_duckdb = units_frame()
    on_spark["first_exposure"] = pd.to_datetime(on_spark["first_exposure"], utc=True)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False)
    gb = events.filter(events.market == "GB")
    ratios = {"abandonment": ("abandoned_carts", "carts")}
    daily_spark = daily_ratio_statistics(
        experiment_units(gb, None, start=START, end=END), gb, start=START, end=END, ratios=ratios
    )
    duck = ibis.memtable(tiny_events())
    duck = duck.filter(duck.market == "GB")
    daily_duckdb = daily_ratio_statistics(
        experiment_units(duck, None, start=START, end=END), duck, start=START, end=END, ratios=ratios
    )
    pd.testing.assert_frame_equal(daily_spark, daily_duckdb, check_dtype=False)
