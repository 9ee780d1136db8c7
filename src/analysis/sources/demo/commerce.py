"""Sellers, orders and surveys of the demo data set, consistent with the clickstream of the same chunk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.sources.demo.clickstream import (
    MARKET_CODES,
    TICKS_PER_SECOND,
    TIME_UNIT,
    TREATMENT,
    ClickstreamChunk,
    DemoUsers,
    launch_seconds_by_market,
)
from analysis.sources.demo.design import (
    AB_TEST_MARKET,
    CSAT_LIFT,
    CSAT_MISSING_RATE,
    CSAT_SATISFIED_SPLIT,
    CSAT_UNSATISFIED_SPLIT,
    MARKETS,
    NPS_MEAN_BY_CSAT,
    NPS_MISSING_RATE,
    NPS_SPREAD,
    ORDER_VALUE_SIGMA,
    PERIOD_END,
    PERIOD_START,
    SEGMENTS,
    SELLER_CHURN_AFTER_DAYS,
    SELLER_SIGNUPS_FROM,
    SELLER_SNAPSHOT_DATE,
    SURVEY_RESPONSE_RATE,
    TYPICAL_ORDER_USD,
    USERS_PER_SELLER,
    DemoDataError,
    launch_timestamp,
    monthly_churn_hazard,
)

SELLERS_STREAM, ORDERS_STREAM, SURVEYS_STREAM = 11, 12, 13
SECONDS_PER_DAY = 86_400
ORDER_DECIMALS = {"JPY": 0}
# Tries at drawing a seller active on the order day before falling back to any seller of the market.
SELLER_DRAW_ATTEMPTS = 20


@dataclass(frozen=True)
class SellerPool:
    """Sellers grouped by market, to pick the seller of an order quickly."""

    sellers: pd.DataFrame
    by_market: dict[int, np.ndarray]  # market code index -> row positions in `sellers`
    signup_day: np.ndarray  # days since epoch
    last_active_day: np.ndarray


def _days_since_epoch(times: np.ndarray) -> np.ndarray:
    return times.astype("datetime64[D]").astype(np.int64)


def seller_count(users: int) -> int:
    """How many sellers a data set of ``users`` buyers has (at least 200)."""
    return max(200, users // USERS_PER_SELLER)


def generate_sellers(users: int, seed: int) -> pd.DataFrame:
    """Sellers with signup dates 2023-01-01..2026-06-30 and month-by-month churn (see demo.design)."""
    rng = np.random.default_rng([seed, SELLERS_STREAM])
    count = seller_count(users)
    market = rng.choice(len(MARKETS), size=count, p=[m.user_share for m in MARKETS])
    signup_span = (SELLER_SNAPSHOT_DATE - SELLER_SIGNUPS_FROM).days + 1
    signup = SELLER_SIGNUPS_FROM + pd.to_timedelta(rng.integers(0, signup_span, size=count), unit="D")
    signup_day = _days_since_epoch(signup.values)

    last_active_day = np.full(count, SELLER_SNAPSHOT_DATE.timestamp() // SECONDS_PER_DAY, dtype=np.int64)
    still_selling = np.ones(count, dtype=bool)
    launches = [launch_timestamp(m) for m in MARKETS]
    for month_start in pd.date_range(SELLER_SIGNUPS_FROM, SELLER_SNAPSHOT_DATE, freq="MS"):
        month_first = int(month_start.timestamp()) // SECONDS_PER_DAY
        month_days = month_start.days_in_month
        hazard = np.array([monthly_churn_hazard(month_start, launch) for launch in launches])[market]
        at_risk = still_selling & (signup_day < month_first + month_days)
        leaves = at_risk & (rng.random(count) < hazard)
        leave_day = np.maximum(month_first + rng.integers(0, month_days, size=count), signup_day)
        last_active_day = np.where(leaves, leave_day, last_active_day)
        still_selling &= ~leaves

    last_active = pd.to_datetime(last_active_day, unit="D")
    churned_before = SELLER_SNAPSHOT_DATE - pd.Timedelta(days=SELLER_CHURN_AFTER_DAYS)
    return pd.DataFrame(
        {
            "seller_id": [f"s{i:07d}" for i in range(count)],
            "market": pd.Series(MARKET_CODES, dtype="str").take(market).to_numpy(),
            "signup_date": signup.as_unit(TIME_UNIT),
            "last_active_date": last_active.as_unit(TIME_UNIT),
            "status": np.where(last_active < churned_before, "churned", "active"),
        }
    ).astype({"seller_id": "str", "market": "str", "status": "str"})


def seller_pool(sellers: pd.DataFrame) -> SellerPool:
    """The sellers indexed by market, with their active days, for drawing a seller for each order."""
    market = pd.Index(MARKET_CODES).get_indexer(sellers["market"])
    return SellerPool(
        sellers=sellers,
        by_market={code: np.flatnonzero(market == code) for code in range(len(MARKET_CODES))},
        signup_day=_days_since_epoch(sellers["signup_date"].to_numpy()),
        last_active_day=_days_since_epoch(sellers["last_active_date"].to_numpy()),
    )


def _pick_sellers(pool: SellerPool, market: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A seller of the buyer's market, active on the order day when one can be found by chance."""
    chosen = np.empty(len(market), dtype=np.int64)
    for code, candidates in pool.by_market.items():
        rows = np.flatnonzero(market == code)
        if len(rows) == 0:
            continue
        if len(candidates) == 0:
            raise DemoDataError(
                f"demo data: no seller in market {MARKET_CODES[code]}; use more users",
                parameter="users",
                value=MARKET_CODES[code],
                valid="enough users for a seller in every market",
            )
        pick = candidates[rng.integers(0, len(candidates), size=len(rows))]
        for _ in range(SELLER_DRAW_ATTEMPTS):
            inactive = (pool.signup_day[pick] > day[rows]) | (pool.last_active_day[pick] < day[rows])
            if not inactive.any():
                break
            pick[inactive] = candidates[rng.integers(0, len(candidates), size=int(inactive.sum()))]
        chosen[rows] = pick
    return chosen


def orders_for_chunk(clicks: ClickstreamChunk, pool: SellerPool, *, seed: int, chunk: int) -> pd.DataFrame:
    """One order per purchase event: same user, market and time; id ``o-<session_id>``."""
    rng = np.random.default_rng([seed, ORDERS_STREAM, chunk])
    purchases = clicks.events.take(pa.array(clicks.purchase_rows))
    users = clicks.users
    market = users.market[clicks.purchase_user]
    order_ticks = pc.cast(purchases["event_time"], pa.int64()).to_numpy()
    seller = _pick_sellers(pool, market, order_ticks // (SECONDS_PER_DAY * TICKS_PER_SECOND), rng)

    currency = np.array([m.currency for m in MARKETS])[market]
    typical = TYPICAL_ORDER_USD * np.array([m.usd_rate for m in MARKETS])[market]
    typical *= np.array([s.order_value_factor for s in SEGMENTS])[users.segment[clicks.purchase_user]]
    # exp(mu + sigma^2/2) = typical: the mean order value is the typical value
    amount = rng.lognormal(np.log(typical) - ORDER_VALUE_SIGMA**2 / 2, ORDER_VALUE_SIGMA)
    for code, decimals in ORDER_DECIMALS.items():
        amount = np.where(currency == code, np.maximum(np.round(amount, decimals), 1.0), amount)
    amount = np.maximum(np.round(amount, 2), 0.01)

    orders = pa.table(
        {
            "order_id": pc.binary_join_element_wise("o", purchases["session_id"], "-"),
            "user_id": purchases["user_id"],
            "seller_id": pa.array(pool.sellers["seller_id"].to_numpy()[seller], pa.string()),
            "market": purchases["market"],
            "order_time": purchases["event_time"],
            "amount": pa.array(amount, pa.float64()),
            "currency": pa.array(currency, pa.string()),
        }
    )
    return orders.to_pandas()


def _csat_answers(top2_share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    satisfied = rng.random(len(top2_share)) < top2_share
    high = rng.choice([4, 5], size=len(top2_share), p=CSAT_SATISFIED_SPLIT)
    low = rng.choice([1, 2, 3], size=len(top2_share), p=CSAT_UNSATISFIED_SPLIT)
    return np.where(satisfied, high, low)


def surveys_for_chunk(users: DemoUsers, *, seed: int, chunk: int) -> pd.DataFrame:
    """One survey answer from SURVEY_RESPONSE_RATE of users, on a uniformly drawn day of the period."""
    rng = np.random.default_rng([seed, SURVEYS_STREAM, chunk])
    respondent = np.flatnonzero(rng.random(len(users)) < SURVEY_RESPONSE_RATE)
    market = users.market[respondent]
    period_days = (PERIOD_END - PERIOD_START).days
    day = PERIOD_START.tz_localize(None) + pd.to_timedelta(rng.integers(0, period_days, len(respondent)), unit="D")

    after_launch = day.values.astype("datetime64[s]").astype(np.int64) >= launch_seconds_by_market()[market]
    in_ab_test = market == MARKET_CODES.index(AB_TEST_MARKET)
    treated = after_launch & (~in_ab_test | (users.ab_arm[respondent] == TREATMENT))
    top2_share = np.array([m.csat_top2_share for m in MARKETS])[market] * np.where(treated, 1 + CSAT_LIFT, 1.0)
    csat = _csat_answers(top2_share, rng)
    nps = np.clip(np.rint(rng.normal(np.array(NPS_MEAN_BY_CSAT)[csat], NPS_SPREAD)), 0, 10).astype(np.int64)

    return pd.DataFrame(
        {
            "user_id": pd.Series(users.user_id.take(pa.array(respondent)), dtype="str"),
            "survey_date": day.as_unit(TIME_UNIT),
            "market": pd.Series(MARKET_CODES, dtype="str").take(market).to_numpy(),
            "csat": pd.array(csat, dtype="Int64"),
            "nps": pd.array(nps, dtype="Int64"),
        }
    ).pipe(_blank_some_answers, rng)


def _blank_some_answers(surveys: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    surveys.loc[rng.random(len(surveys)) < CSAT_MISSING_RATE, "csat"] = pd.NA
    surveys.loc[rng.random(len(surveys)) < NPS_MISSING_RATE, "nps"] = pd.NA
    return surveys.astype({"market": "str"})
