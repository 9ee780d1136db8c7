"""KPI panels by hand on a tiny clickstream and survey table, and the balanced market × period panel."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.panels import kpi_panel, session_panel, survey_panel

BASE = {"market": "US", "device": "desktop", "channel": "direct", "segment": "S1", "variant": None}
WEEK_1, WEEK_2 = pd.Timestamp("2025-09-29"), pd.Timestamp("2025-10-06")  # Mondays


def session(user, session_id, moment, names, **overrides):
    start = pd.Timestamp(moment, tz="UTC")
    return [
        {
            **BASE,
            **overrides,
            "user_id": user,
            "session_id": session_id,
            "event_time": start + pd.Timedelta(minutes=5 * i),
            "event_name": name,
        }
        for i, name in enumerate(names)
    ]


def tiny_events() -> pd.DataFrame:
    rows = [
        # US. u1/s1 starts on Sunday 23:50 and buys after midnight, on Monday: it belongs to the week it started in
        *session("u1", "s1", "2025-10-05 23:50", ["session_start", "add_to_cart", "purchase"]),
        *session("u1", "s2", "2025-10-06 10:00", ["session_start", "add_to_cart"]),  # an abandoned cart
        *session("u2", "s1", "2025-10-07 10:00", ["session_start", "view_item"]),  # same session_id, another user
        *session("u3", "s9", "2025-10-01 10:00", ["session_start", "purchase"]),  # a purchase without a cart
        # GB: one control session, one with an empty variant and one with a NULL variant (both outside the test)
        *session("u4", "g1", "2025-10-02 10:00", ["session_start", "purchase"], market="GB", variant="control"),
        *session("u5", "g2", "2025-10-02 10:00", ["session_start", "add_to_cart"], market="GB", variant=""),
        *session("u6", "g3", "2025-10-03 10:00", ["session_start"], market="GB"),
        # DE
        *session("u7", "d1", "2025-10-08 10:00", ["session_start", "add_to_cart", "purchase"], market="DE"),
    ]
    return pd.DataFrame(rows).astype({"event_time": "datetime64[us, UTC]"})


def tiny_surveys() -> pd.DataFrame:
    answers = [  # (day, csat, nps), all US
        ("2025-10-01", 5, 10),
        ("2025-10-02", 4, 7),
        ("2025-10-03", None, 0),
        ("2025-10-05", 1, 9),
        ("2025-10-06", 3, None),
    ]
    return pd.DataFrame(
        {
            "user_id": [f"r{i}" for i in range(len(answers))],
            "survey_date": pd.to_datetime([day for day, _, _ in answers]).astype("datetime64[us]"),
            "market": "US",
            "csat": pd.array([csat for _, csat, _ in answers], dtype="Int64"),
            "nps": pd.array([nps for _, _, nps in answers], dtype="Int64"),
        }
    )


def tiny_initiatives() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "initiative_id": "INI-001",
            "name": "Personalised journeys",
            "market": ["US", "DE"],
            "launch_date": pd.to_datetime(["2025-10-01", None]),
            "target_kpi": "conversion_rate",
            "target_low": 0.15,
            "target_high": 0.20,
        }
    )


def counts(frame: pd.DataFrame, *keys) -> list[tuple]:
    columns = [*keys, "sessions", "purchasing_sessions", "cart_sessions", "abandoned_carts"]
    return [tuple(row) for row in frame[columns].itertuples(index=False)]


def test_when_a_session_spans_a_week_boundary_then_it_counts_in_the_week_it_started():
    panel = session_panel(ibis.memtable(tiny_events()), period="week")
    assert counts(panel, "market", "period_start") == [
        ("DE", WEEK_2, 1, 1, 1, 0),
        ("GB", WEEK_1, 3, 1, 1, 1),
        ("US", WEEK_1, 2, 2, 1, 0),  # u1/s1 (bought on Monday) and u3/s9
        ("US", WEEK_2, 2, 0, 1, 1),  # u1/s2 (abandoned cart) and u2/s1 (same session_id as u1's, another user)
    ]
    us = panel[panel.market == "US"]
    assert us.conversion_rate.tolist() == [1.0, 0.0]
    assert us.cart_abandonment_rate.tolist() == [0.0, 1.0]


def test_when_grouped_by_variant_then_empty_and_null_variants_form_one_null_group():
    panel = session_panel(ibis.memtable(tiny_events()), period="month", by=("market", "variant"))
    gb = panel[panel.market == "GB"]
    assert counts(gb, "variant") == [("control", 1, 1, 0, 0), (None, 2, 0, 1, 1)]
    assert gb.cart_abandonment_rate.isna().tolist() == [True, False]  # no cart session in the control group
    assert counts(panel[panel.market == "US"], "variant") == [(None, 4, 2, 2, 1)]
    assert set(panel.period_start) == {pd.Timestamp("2025-10-01")}


def test_when_start_and_end_are_given_then_sessions_are_kept_by_the_day_they_start():
    events = ibis.memtable(tiny_events())
    from_monday = session_panel(events, start=date(2025, 10, 6))
    assert counts(from_monday[from_monday.market == "US"], "period_start") == [(WEEK_2, 2, 0, 1, 1)]
    to_sunday = session_panel(events, end=date(2025, 10, 5))
    # u1/s1 started on the last day: its purchase after midnight still counts
    assert counts(to_sunday[to_sunday.market == "US"], "period_start") == [(WEEK_1, 2, 2, 1, 0)]
    assert set(to_sunday.market) == {"GB", "US"}


def test_when_surveys_hold_empty_answers_then_they_are_not_counted():
    panel = survey_panel(ibis.memtable(tiny_surveys()), period="week")
    columns = ["period_start", "responses_csat", "satisfied", "responses_nps", "promoters", "detractors"]
    assert [tuple(row) for row in panel[columns].itertuples(index=False)] == [
        (WEEK_1, 3, 2, 4, 2, 1),
        (WEEK_2, 1, 0, 0, 0, 0),
    ]
    assert panel.csat_top2.tolist()[0] == pytest.approx(2 / 3) and panel.csat_top2.tolist()[1] == 0.0
    assert panel.nps.tolist()[0] == 25.0 and np.isnan(panel.nps.tolist()[1])  # 100 * (2 - 1) / 4


def test_when_the_kpi_panel_is_built_then_every_market_has_every_period_and_its_treatment_flags():
    tables = {
        "events": ibis.memtable(tiny_events()),
        "surveys": ibis.memtable(tiny_surveys()),
        "initiatives": ibis.memtable(tiny_initiatives()),
    }
    panel = kpi_panel(tables, period="week")
    assert list(zip(panel.market, panel.period_start, panel.time, strict=True)) == [
        (market, week, time) for market in ("DE", "GB", "US") for time, week in ((1, WEEK_1), (2, WEEK_2))
    ]
    assert panel.sessions.tolist() == [0, 1, 3, 0, 2, 2]
    assert panel.conversion_rate.isna().tolist() == [True, False, False, True, False, False]
    assert panel.responses_csat.tolist() == [0, 0, 0, 0, 3, 1]
    # US launched on Wednesday 2025-10-01: its week is partly treated, the next one treated; DE and GB never
    assert panel.partly_treated.tolist() == [False, False, False, False, True, False]
    assert panel.treated.tolist() == [False, False, False, False, False, True]
    assert panel.first_treated_period.tolist() == [0, 0, 0, 0, 2, 2]
    assert panel.first_treated.tolist()[4:] == [WEEK_2, WEEK_2] and panel.first_treated[:4].isna().all()


def test_when_the_kpi_panel_has_a_range_then_periods_without_data_are_kept_empty():
    tables = {"events": ibis.memtable(tiny_events()), "initiatives": ibis.memtable(tiny_initiatives())}
    panel = kpi_panel(tables, period="week", start=date(2025, 9, 22), end=date(2025, 10, 12))
    assert panel.time.max() == 3 and len(panel) == 9 and "responses_csat" not in panel.columns
    assert panel[panel.market == "US"].sessions.tolist() == [0, 2, 2]
    assert panel[panel.market == "US"].first_treated_period.tolist() == [3, 3, 3]


def test_when_the_period_is_unknown_then_a_parameter_error_names_the_valid_ones():
    with pytest.raises(ParameterError) as raised:
        session_panel(ibis.memtable(tiny_events()), period="day")
    assert raised.value.parameter == "period" and raised.value.valid == ["week", "month", "quarter"]


def test_when_a_by_column_is_missing_then_a_parameter_error_names_it():
    with pytest.raises(ParameterError) as raised:
        survey_panel(ibis.memtable(tiny_surveys()), by=("market", "variant"))
    assert raised.value.parameter == "by" and raised.value.value == ["variant"]


def test_when_end_is_before_start_then_a_parameter_error_is_raised():
    with pytest.raises(ParameterError) as raised:
        session_panel(ibis.memtable(tiny_events()), start=date(2025, 10, 6), end=date(2025, 10, 1))
    assert raised.value.parameter == "end"


def test_when_the_initiatives_table_is_missing_then_a_data_error_names_it():
    with pytest.raises(DataError) as raised:
        kpi_panel({"events": ibis.memtable(tiny_events())})
    assert raised.value.value == ["initiatives"]


def test_when_no_session_falls_in_the_range_then_the_kpi_panel_is_empty_with_every_column():
    tables = {"events": ibis.memtable(tiny_events()), "initiatives": ibis.memtable(tiny_initiatives())}
    panel = kpi_panel(tables, period="month", start=date(2030, 1, 1), end=date(2030, 1, 31))
    assert panel.empty and {"sessions", "conversion_rate", "first_treated_period", "treated"} <= set(panel.columns)


def test_when_arms_are_counted_then_the_panel_is_unchanged_and_armed_sessions_count_the_sessions_in_an_arm():
    tables = {
        "events": ibis.memtable(tiny_events()),
        "surveys": ibis.memtable(tiny_surveys()),
        "initiatives": ibis.memtable(tiny_initiatives()),
    }
    plain = kpi_panel(tables, period="week")
    armed = kpi_panel(tables, period="week", arms=True)
    pd.testing.assert_frame_equal(armed.drop(columns="armed_sessions"), plain)
    # GB's control session (week 1) is the only one in an arm; empty and NULL variants are outside the test
    assert armed.armed_sessions.tolist() == [0, 0, 1, 0, 0, 0]
