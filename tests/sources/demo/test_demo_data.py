"""The demo data generator: contract, determinism, atomic writes, and the planted truths measured back.

Every planted effect is measured straight from the generated tables with plain pandas, by an estimator that
does not use the generator's internals (only the tables, the launch dates in `initiatives` and the documented
definitions), and compared with the documented true value in PLANTED_EFFECTS. Each tolerance is about four
standard deviations of the estimate at PLANTED_USERS users, measured over 12 seeds (noted beside it), so a
correct generator fails with probability well below 1e-3 and a missing effect fails for sure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.contract import TABLES, key_of
from analysis.sources.demo import PLANTED_EFFECTS, generate_demo_tables
from analysis.sources.demo.design import expected_events_per_user, monthly_churn_hazard

PLANTED_USERS = 60_000
SMALL_USERS = 2_000
AB_MARKET = "GB"
QUARTERS = pd.period_range("2025Q1", "2026Q2", freq="Q")

# Regression pins: each estimate below measured once on the seeded data set (PLANTED_USERS users, seed 7) by this
# module's own estimators. The statistical bands show the planted truth is recovered; these pins show the generator
# has not changed at all (a band is wide enough to pass a weakened effect; a pin is not). Update them only with a
# deliberate change to the generator, and say so in its commit.
SEEDED = {
    "events": 1_568_103,
    "conversion_lift": 0.17284578407097473,
    "abandonment_change": -0.27862825013290415,
    "repeat_customer_lift": 0.14578284552748944,
    "csat_lift": 0.46856491882057827,
    "untreated_retention_2025Q1": 0.9285714285714286,
    "untreated_retention_2025Q4": 0.901702786377709,
    "treated_retention": 0.9483800109829764,
    "untreated_retention_same_quarters": 0.9026425591098748,
    "treatment_share": 0.5023238286647406,
    "control_vs_before": 0.021492328536239835,
    "treatment_vs_before": 0.2134081707262947,
}
PIN = 1e-9  # relative tolerance of a regression pin: room for floating-point summation order, none for a change


@pytest.fixture(scope="module")
def planted() -> dict[str, pd.DataFrame]:
    return generate_demo_tables(users=PLANTED_USERS, seed=7)


@pytest.fixture(scope="module")
def planted_sessions(planted: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sessions_of(planted)


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_demo_tables(users=SMALL_USERS, seed=11)


# --- measurement helpers: plain pandas on the tables -------------------------------------------------------


def launch_dates(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """market -> launch time (UTC); NaT where the initiative never launched."""
    launches = tables["initiatives"].set_index("market")["launch_date"]
    return launches.dt.tz_localize("UTC")


def user_arms(events: pd.DataFrame) -> pd.Series:
    """user_id -> A/B arm, for users seen in the experiment."""
    return events.dropna(subset=["variant"]).groupby("user_id")["variant"].first()


def sessions_of(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per session: attributes, start, funnel flags, and whether it ran under the initiative."""
    events = tables["events"]
    starts = events[events["event_name"] == "session_start"].set_index("session_id")
    sessions = starts[["user_id", "market", "device", "channel", "segment", "variant", "event_time"]].rename(
        columns={"event_time": "start"}
    )
    for step in ("view_item", "add_to_cart", "purchase"):
        counts = events.loc[events["event_name"] == step, "session_id"].value_counts()
        sessions[step] = counts.reindex(sessions.index, fill_value=0).to_numpy()
    after_launch = sessions["start"] >= sessions["market"].map(launch_dates(tables))
    in_control_arm = (sessions["market"] == AB_MARKET) & (sessions["variant"] == "control")
    sessions["treated"] = after_launch & ~in_control_arm
    sessions["converted"] = sessions["purchase"] > 0
    sessions["carted"] = sessions["add_to_cart"] > 0
    return sessions


def relative_change(values: pd.Series, treated: pd.Series) -> float:
    return float(values[treated].mean() / values[~treated].mean() - 1)


def conversion_lift(sessions: pd.DataFrame) -> float:
    """Share of sessions reaching purchase, treated vs untreated sessions."""
    return relative_change(sessions["converted"], sessions["treated"])


def abandonment_change(sessions: pd.DataFrame) -> float:
    """Share of add_to_cart sessions without purchase, treated vs untreated."""
    carted = sessions[sessions["carted"]]
    return relative_change(~carted["converted"], carted["treated"])


def repeat_customer_lift(tables: dict[str, pd.DataFrame]) -> float:
    """Share of a quarter's purchasing customers with >= 2 orders in it: fully treated vs untreated quarters.

    Quarters a launch falls inside are left out; in GB only the treatment arm counts as treated.
    """
    orders = tables["orders"].assign(quarter=lambda o: o["order_time"].dt.tz_localize(None).dt.to_period("Q"))
    customers = orders.groupby(["user_id", "market", "quarter"]).size().rename("orders").reset_index()
    launch = customers["market"].map(launch_dates(tables)).dt.tz_localize(None)
    quarter_start = customers["quarter"].dt.start_time
    quarter_end = customers["quarter"].dt.end_time
    arm = customers["user_id"].map(user_arms(tables["events"]))
    fully_after = launch <= quarter_start
    fully_before = launch.isna() | (launch > quarter_end)
    is_ab = customers["market"] == AB_MARKET
    treated = fully_after & (~is_ab | (arm == "treatment"))
    untreated = fully_before | (fully_after & is_ab & (arm == "control"))
    kept = customers[treated | untreated]
    return relative_change(kept["orders"] >= 2, treated[treated | untreated])


def csat_lift(tables: dict[str, pd.DataFrame]) -> float:
    """Share of 4-5 CSAT answers, treated vs untreated respondents of the same markets.

    Baselines differ by market, so the untreated share is taken market by market and weighted by the treated
    respondents (a standardised ratio). GB respondents after launch without a known arm are dropped.
    """
    surveys = tables["surveys"].dropna(subset=["csat"])
    after = surveys["survey_date"].dt.tz_localize("UTC") >= surveys["market"].map(launch_dates(tables))
    arm = surveys["user_id"].map(user_arms(tables["events"]))
    is_ab = surveys["market"] == AB_MARKET
    known = ~(after & is_ab & arm.isna())
    answers = pd.DataFrame(
        {
            "market": surveys["market"],
            "satisfied": surveys["csat"] >= 4,
            "treated": after & (~is_ab | (arm == "treatment")),
        }
    )[known]
    share = answers.groupby(["market", "treated"])["satisfied"].mean().unstack()
    treated_respondents = answers[answers["treated"]].groupby("market").size()
    weights = treated_respondents / treated_respondents.sum()
    return float((weights * share[True]).sum() / (weights * share[False]).sum() - 1)


def seller_retention(sellers: pd.DataFrame) -> pd.DataFrame:
    """Quarterly retention: of sellers active on a quarter's first day, the share still active on its last.

    Active on day d: signup_date <= d <= last_active_date (a seller still selling has last_active_date on the
    snapshot day 2026-06-30).
    """
    rows = []
    for quarter in QUARTERS:
        start, end = quarter.start_time, quarter.end_time.normalize()
        base = sellers[(sellers["signup_date"] <= start) & (sellers["last_active_date"] >= start)]
        retained = base.groupby("market")["last_active_date"].apply(lambda d, end=end: int((d >= end).sum()))
        rows.append(pd.DataFrame({"quarter": quarter, "base": base.groupby("market").size(), "retained": retained}))
    return pd.concat(rows).reset_index(names="market")


# --- contract, keys, consistency ---------------------------------------------------------------------------


def test_when_generated_with_same_seed_then_tables_are_identical(small: dict[str, pd.DataFrame]):
    again = generate_demo_tables(users=SMALL_USERS, seed=11)
    assert sorted(again) == sorted(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(again[name], small[name])


def test_when_generated_with_another_seed_then_tables_differ(small: dict[str, pd.DataFrame]):
    other = generate_demo_tables(users=SMALL_USERS, seed=12)
    for name in ("events", "orders", "sellers", "surveys", "benchmarks"):
        assert not other[name].equals(small[name]), name


def test_when_generated_then_every_table_passes_its_schema_and_keys_are_unique(
    small: dict[str, pd.DataFrame],
):
    for name, schema in TABLES.items():
        schema.validate(small[name], lazy=True)
        if key_of(name):
            assert not small[name].duplicated(list(key_of(name))).any(), name


def test_when_sessions_are_listed_then_ids_are_unique_within_user_and_each_opens_with_session_start(
    small: dict[str, pd.DataFrame],
):
    events = small["events"]
    first = events.groupby("session_id", sort=False).first()
    assert (first["event_name"] == "session_start").all()
    assert (events["event_name"] == "session_start").sum() == len(first)
    assert (first.index.str.split("-").str[0] == first["user_id"]).all()


def test_when_a_session_goes_down_the_funnel_then_times_never_decrease_and_steps_are_in_order(
    small: dict[str, pd.DataFrame],
):
    events = small["events"]
    same_session = events["session_id"].eq(events["session_id"].shift())
    gaps = events["event_time"].diff()[same_session]
    assert (gaps >= pd.Timedelta(0)).all()
    assert 0 < (gaps == pd.Timedelta(0)).mean() < 0.05  # "some ties", not many
    steps = ["view_item", "add_to_cart", "begin_checkout", "add_payment_info", "purchase"]
    reached = pd.crosstab(events["session_id"], events["event_name"])[steps] > 0
    for earlier, later in zip(steps, steps[1:], strict=False):
        assert (reached[earlier] | ~reached[later]).all(), f"{later} without {earlier}"
    assert (pd.crosstab(events["session_id"], events["event_name"])[steps[1:]] <= 1).all().all()


def test_when_orders_are_matched_to_purchases_then_they_pair_one_to_one(small: dict[str, pd.DataFrame]):
    events, orders, sellers = small["events"], small["orders"], small["sellers"]
    purchases = events[events["event_name"] == "purchase"]
    paired = purchases.merge(orders, left_on="session_id", right_on=orders["order_id"].str.removeprefix("o-"))
    assert len(paired) == len(purchases) == len(orders)
    assert (paired["user_id_x"] == paired["user_id_y"]).all()
    assert (paired["event_time"] == paired["order_time"]).all()
    assert (paired["market_x"] == paired["market_y"]).all()

    with_seller = orders.merge(sellers, on="seller_id", suffixes=("", "_seller"))
    assert (with_seller["market"] == with_seller["market_seller"]).all()
    day = with_seller["order_time"].dt.tz_localize(None).dt.normalize()
    active = (with_seller["signup_date"] <= day) & (day <= with_seller["last_active_date"])
    assert active.mean() > 0.99  # a seller is drawn at random until one active that day is found


def test_when_sellers_are_judged_on_the_snapshot_day_then_churned_means_90_days_without_activity(
    small: dict[str, pd.DataFrame],
):
    sellers = small["sellers"]
    silent = sellers["last_active_date"] < pd.Timestamp("2026-06-30") - pd.Timedelta(days=90)
    assert (sellers["status"] == np.where(silent, "churned", "active")).all()
    assert sellers["signup_date"].min().year == 2023 and sellers["signup_date"].max().year == 2026
    assert (sellers["signup_date"] <= sellers["last_active_date"]).all()


def test_when_the_data_set_is_sized_then_events_per_user_match_the_design(planted: dict[str, pd.DataFrame]):
    # sd of events/user over 12 seeds at 60,000 users: 0.08
    assert len(planted["events"]) / PLANTED_USERS == pytest.approx(expected_events_per_user(), abs=0.3)
    assert len(planted["events"]) == SEEDED["events"]
    assert 24 <= expected_events_per_user() <= 27


def test_when_benchmarks_are_read_then_each_company_market_quarter_has_every_kpi(
    small: dict[str, pd.DataFrame],
):
    benchmarks = small["benchmarks"]
    assert benchmarks.groupby(["company", "market", "period"]).size().eq(8).all()
    assert benchmarks["company"].nunique() == 5 and benchmarks["period"].nunique() == 8
    assert benchmarks["market"].nunique() == 8
    wide = benchmarks.pivot_table(index=["market", "period"], columns=["kpi", "company"], values="value")
    assert (wide["conversion_rate"].idxmax(axis=1) == "GlobalBazaar").all()
    assert (wide["csat"].idxmin(axis=1) == "GlobalBazaar").all()
    assert (wide["order_fulfilment_days"].idxmin(axis=1) == "GlobalBazaar").all()
    assert (wide["seller_retention_rate"].idxmax(axis=1) == "HandHub").all()


def test_when_initiatives_are_read_then_launches_are_staged_and_some_markets_never_launch(
    small: dict[str, pd.DataFrame],
):
    launches = small["initiatives"].set_index("market")["launch_date"]
    assert launches["US"] == pd.Timestamp("2025-10-01") and launches["GB"] == pd.Timestamp("2025-11-01")
    assert launches[["JP", "NL"]].isna().all()
    assert launches.dropna().nunique() == 6


# --- planted effects ---------------------------------------------------------------------------------------


def test_when_treated_sessions_are_compared_then_conversion_rises_by_the_planted_lift(planted_sessions):
    # sd over 12 seeds: 0.0098 (mean 0.170)
    measured = conversion_lift(planted_sessions)
    assert measured == pytest.approx(PLANTED_EFFECTS["conversion_rate"], abs=0.035)
    assert measured == pytest.approx(SEEDED["conversion_lift"], rel=PIN)


def test_when_treated_carts_are_compared_then_abandonment_falls_by_the_planted_change(planted_sessions):
    # sd over 12 seeds: 0.0033 (mean -0.268)
    measured = abandonment_change(planted_sessions)
    assert measured == pytest.approx(PLANTED_EFFECTS["cart_abandonment_rate"], abs=0.012)
    assert measured == pytest.approx(SEEDED["abandonment_change"], rel=PIN)


def test_when_treated_quarters_are_compared_then_repeat_customers_rise_by_the_planted_lift(planted):
    # sd over 12 seeds: 0.024 (mean 0.121): the noisiest estimate, so 3.3 sd; no effect at all would fail
    measured = repeat_customer_lift(planted)
    assert measured == pytest.approx(PLANTED_EFFECTS["repeat_customer_rate"], abs=0.08)
    assert measured == pytest.approx(SEEDED["repeat_customer_lift"], rel=PIN)  # the band alone accepts half the lift


def test_when_treated_respondents_are_compared_then_csat_rises_by_the_planted_lift(planted):
    # sd over 12 seeds: 0.040 (mean 0.387)
    measured = csat_lift(planted)
    assert measured == pytest.approx(PLANTED_EFFECTS["csat"], abs=0.14)
    assert measured == pytest.approx(SEEDED["csat_lift"], rel=PIN)


def expected_quarter_retention(quarter: str, launch: str | None) -> float:
    """Retention implied by the documented monthly churn probabilities: their product over the quarter."""
    launch_time = None if launch is None else pd.Timestamp(launch, tz="UTC")
    months = pd.period_range(pd.Period(quarter, freq="Q").start_time, periods=3, freq="M")
    return float(np.prod([1 - monthly_churn_hazard(m.start_time, launch_time) for m in months]))


def test_when_seller_retention_is_followed_then_it_falls_through_2025_and_recovers_after_launch(planted):
    retention = seller_retention(planted["sellers"])
    launch_month = retention["market"].map(launch_dates(planted).dt.tz_localize(None)).dt.to_period("M")
    quarter_start = retention["quarter"].dt.start_time
    retention["treated"] = launch_month.dt.start_time <= quarter_start
    # a quarter whose second or third month is the launch month is partly treated: left out
    partly = (launch_month.dt.start_time > quarter_start) & (
        launch_month.dt.end_time <= retention["quarter"].dt.end_time
    )
    retention = retention[~partly]
    untreated = retention[~retention["treated"]].groupby("quarter")[["base", "retained"]].sum()
    untreated_rate = untreated["retained"] / untreated["base"]
    # sd over 12 seeds: 2025Q1 0.0045, 2025Q4 0.0097
    assert untreated_rate[pd.Period("2025Q1")] == pytest.approx(expected_quarter_retention("2025Q1", None), abs=0.016)
    assert untreated_rate[pd.Period("2025Q4")] == pytest.approx(expected_quarter_retention("2025Q4", None), abs=0.034)
    assert untreated_rate[pd.Period("2025Q1")] == pytest.approx(SEEDED["untreated_retention_2025Q1"], rel=PIN)
    assert untreated_rate[pd.Period("2025Q4")] == pytest.approx(SEEDED["untreated_retention_2025Q4"], rel=PIN)

    treated = retention[retention["treated"]]
    treated_rate = treated["retained"].sum() / treated["base"].sum()
    same_quarters = untreated.loc[treated["quarter"].unique()]
    untreated_same = same_quarters["retained"].sum() / same_quarters["base"].sum()
    # after launch: 1.8% a month, 0.947 a quarter; sd over 12 seeds 0.0041; the gap's sd 0.0093 (mean 0.062)
    assert treated_rate == pytest.approx(expected_quarter_retention("2026Q2", "2025-01-01"), abs=0.015)
    assert treated_rate - untreated_same > 0.03
    assert treated_rate == pytest.approx(SEEDED["treated_retention"], rel=PIN)
    assert untreated_same == pytest.approx(SEEDED["untreated_retention_same_quarters"], rel=PIN)


def test_when_gb_users_enter_the_experiment_then_arms_are_balanced_and_only_treatment_converts_more(
    planted, planted_sessions
):
    sessions = planted_sessions
    arms = user_arms(planted["events"])
    gb_users = sessions.loc[sessions["market"] == AB_MARKET, "user_id"].unique()
    assert set(arms.index) <= set(gb_users)
    # sd of the treatment share over 12 seeds: 0.005 (about 8,000 users in the test)
    assert (arms == "treatment").mean() == pytest.approx(0.5, abs=0.02)
    assert (arms == "treatment").mean() == pytest.approx(SEEDED["treatment_share"], rel=PIN)

    gb = sessions[sessions["market"] == AB_MARKET]
    before = gb[gb["variant"].isna()]["converted"].mean()
    control = gb[gb["variant"] == "control"]["converted"].mean()
    treatment = gb[gb["variant"] == "treatment"]["converted"].mean()
    # sd over 12 seeds: control vs before 0.026, treatment vs before 0.037
    assert control / before - 1 == pytest.approx(0.0, abs=0.09)
    assert treatment / before - 1 == pytest.approx(PLANTED_EFFECTS["conversion_rate"], abs=0.13)
    # the treatment band alone accepts half the planted lift: the pins hold the seeded values exactly
    assert control / before - 1 == pytest.approx(SEEDED["control_vs_before"], rel=PIN)
    assert treatment / before - 1 == pytest.approx(SEEDED["treatment_vs_before"], rel=PIN)
    assert (sessions.loc[sessions["market"] != AB_MARKET, "variant"].isna()).all()


def test_when_groups_are_compared_then_segment_device_and_channel_orderings_hold(planted, planted_sessions):
    sessions = planted_sessions
    untreated = sessions[~sessions["treated"]]
    by_segment = untreated.groupby("segment")["converted"].mean().sort_values(ascending=False)
    assert list(by_segment.index) == [
        "Impulse buyer",
        "Loyal enthusiast",
        "Bargain hunter",
        "Deliberate researcher",
        "Social explorer",
    ]
    assert untreated.groupby("segment")["view_item"].mean().idxmax() == "Deliberate researcher"

    carted = untreated[untreated["carted"]]
    abandonment = 1 - carted.groupby("device")["converted"].mean()
    assert abandonment["mobile"] > abandonment["tablet"] > abandonment["desktop"]
    assert untreated.groupby("channel")["converted"].mean().idxmax() == "email"

    events = planted["events"]
    bought = events[events["event_name"] == "purchase"].set_index("session_id")["event_time"]
    minutes = ((bought - sessions.loc[bought.index, "start"]).dt.total_seconds() / 60).groupby(
        sessions.loc[bought.index, "segment"]
    )
    median_minutes = minutes.median()
    assert median_minutes.idxmin() == "Impulse buyer"
    assert median_minutes.idxmax() == "Deliberate researcher"
