"""The design of the demo data set: who Craftly's customers are, how they behave, and the planted truths.

Everything the generator draws from is declared here, in one place, so that the documented effects
(:data:`PLANTED_EFFECTS`) are *computed from the same numbers the generator uses* rather than typed in twice.

Behaviour is identical in every market except for treatment by the "Personalised journeys" initiative, CSAT
baselines, order values and seller churn. Clickstream behaviour depends only on a user's segment, device and
channel, all drawn independently of market, so a plain treated-versus-untreated comparison of sessions is an
unbiased estimate of each planted effect (and a difference-in-differences estimate is too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

PERIOD_START = pd.Timestamp("2025-01-01", tz="UTC")
PERIOD_END = pd.Timestamp("2026-07-01", tz="UTC")  # exclusive: the last event day is 2026-06-30
QUARTERS: tuple[str, ...] = ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2")
BENCHMARK_QUARTERS: tuple[str, ...] = ("2024Q3", "2024Q4", *QUARTERS)
SELLER_SIGNUPS_FROM = pd.Timestamp("2023-01-01")
SELLER_SNAPSHOT_DATE = pd.Timestamp("2026-06-30")  # the day seller status is judged on
SELLER_CHURN_AFTER_DAYS = 90


class DemoDataError(ParameterError):
    """The demo generator was asked for something it cannot make; ``parameter`` names what to change."""


@dataclass(frozen=True)
class Market:
    """One market of the demo marketplace and its planted baseline (share of users, currency, launch date)."""

    code: str
    name: str
    region: str
    currency: str
    user_share: float  # share of Craftly's users living in this market
    usd_rate: float  # units of local currency per USD, to express order values locally
    csat_top2_share: float  # baseline share of 4-5 CSAT answers before any treatment
    launch_date: str | None  # "Personalised journeys" go-live (UTC midnight); None = never launched


MARKETS: tuple[Market, ...] = (
    Market("US", "United States", "North America", "USD", 0.36, 1.00, 0.46, "2025-10-01"),
    Market("GB", "United Kingdom", "Europe", "GBP", 0.16, 0.79, 0.44, "2025-11-01"),
    Market("DE", "Germany", "Europe", "EUR", 0.12, 0.92, 0.42, "2026-01-15"),
    Market("FR", "France", "Europe", "EUR", 0.08, 0.92, 0.41, "2026-04-01"),
    Market("JP", "Japan", "Asia-Pacific", "JPY", 0.08, 150.0, 0.40, None),
    Market("CA", "Canada", "North America", "CAD", 0.08, 1.36, 0.47, "2026-02-01"),
    Market("AU", "Australia", "Asia-Pacific", "AUD", 0.07, 1.52, 0.48, "2026-03-01"),
    Market("NL", "Netherlands", "Europe", "EUR", 0.05, 0.92, 0.43, None),
)
AB_TEST_MARKET = "GB"  # after launch, GB users are split 50/50 into control and treatment

INITIATIVE_ID = "INI-001"
INITIATIVE_NAME = "Personalised journeys"
INITIATIVE_TARGET = ("conversion_rate", 0.15, 0.20)


@dataclass(frozen=True)
class Segment:
    """A customer personality segment and how its sessions behave."""

    name: str
    user_share: float
    sessions_per_quarter: float  # mean of a Poisson count of sessions in each calendar quarter
    page_views: float  # mean of a Poisson count of page_view events per session
    view_prob: float  # P(session views at least one item)
    items_viewed: float  # mean number of view_item events in a session that views items (>= 1)
    cart_prob: float  # P(add_to_cart | view_item), before the channel multiplier
    checkout_factor: float  # relative P(begin_checkout | add_to_cart)
    seconds_between_events: float  # mean of the exponential gap between consecutive events
    order_value_factor: float  # multiplies the market's typical order value


SEGMENTS: tuple[Segment, ...] = (
    Segment("Deliberate researcher", 0.25, 0.70, 1.3, 0.80, 4.0, 0.09, 0.95, 75.0, 1.15),
    Segment("Impulse buyer", 0.15, 0.55, 0.7, 0.70, 1.3, 0.50, 1.10, 15.0, 0.90),
    Segment("Bargain hunter", 0.25, 0.65, 1.4, 0.65, 2.5, 0.16, 0.90, 40.0, 0.70),
    Segment("Loyal enthusiast", 0.10, 4.20, 1.0, 0.65, 2.0, 0.45, 1.05, 35.0, 1.25),
    Segment("Social explorer", 0.25, 0.60, 1.5, 0.50, 1.8, 0.07, 0.90, 30.0, 0.85),
)

# Device: share of users and relative P(begin_checkout | add_to_cart) — small screens abandon more carts.
DEVICE_SHARES = {"desktop": 0.40, "mobile": 0.50, "tablet": 0.10}
DEVICE_CHECKOUT_FACTOR = {"desktop": 1.00, "mobile": 0.86, "tablet": 0.93}

# Channel: share of users and relative P(add_to_cart | view_item) — email reaches people who already care.
CHANNEL_SHARES = {
    "organic_search": 0.30,
    "paid_search": 0.15,
    "social": 0.15,
    "email": 0.10,
    "direct": 0.20,
    "referral": 0.07,
    "other": 0.03,
}
CHANNEL_CART_FACTOR = {
    "organic_search": 1.00,
    "paid_search": 1.20,
    "social": 0.70,
    "email": 1.60,
    "direct": 1.15,
    "referral": 0.95,
    "other": 0.80,
}

PAYMENT_PROB = 0.92  # P(add_payment_info | begin_checkout)
PURCHASE_PROB = 0.80  # P(purchase | add_payment_info) without the initiative
CART_TO_PURCHASE = 0.607  # cart-session-weighted mean P(purchase | add_to_cart) without the initiative
CONVERSION_LIFT = 0.175  # the initiative multiplies P(purchase | add_payment_info) by 1.175

# CSAT: answers 1..5. Within the "satisfied" (4-5) and "not satisfied" (1-3) groups the split is fixed;
# treatment multiplies the satisfied share by 1 + CSAT_LIFT.
CSAT_LIFT = 0.40
CSAT_SATISFIED_SPLIT = (0.62, 0.38)  # P(4), P(5) given satisfied
CSAT_UNSATISFIED_SPLIT = (0.17, 0.28, 0.55)  # P(1), P(2), P(3) given not satisfied
# Mean likelihood-to-recommend (0-10) given the CSAT answer (index 1..5); answers scatter around it.
NPS_MEAN_BY_CSAT = (float("nan"), 2.0, 4.0, 6.5, 8.0, 9.3)
NPS_SPREAD = 1.2  # standard deviation of the answer around that mean, before rounding to 0..10
SURVEY_RESPONSE_RATE = 0.15  # share of users who answer one survey
CSAT_MISSING_RATE = 0.02
NPS_MISSING_RATE = 0.05

# Sellers: monthly probability that an active seller stops selling for good.
SELLER_CHURN_HAZARD_BEFORE_2025 = 0.020
SELLER_CHURN_HAZARD_END_OF_2025 = 0.040  # rises linearly through 2025: the platform-wide seller problem
SELLER_CHURN_HAZARD_AFTER_LAUNCH = 0.018  # from the launch month on, in treated markets
USERS_PER_SELLER = 12
TYPICAL_ORDER_USD = 38.0
ORDER_VALUE_SIGMA = 0.55


def _strata() -> pd.DataFrame:
    """Every (segment, device, channel) combination: its share of users and untreated funnel probabilities."""
    rows = []
    for segment in SEGMENTS:
        for device, device_share in DEVICE_SHARES.items():
            for channel, channel_share in CHANNEL_SHARES.items():
                rows.append(
                    {
                        "segment": segment.name,
                        "device": device,
                        "channel": channel,
                        "user_share": segment.user_share * device_share * channel_share,
                        "sessions_per_quarter": segment.sessions_per_quarter,
                        "view_prob": segment.view_prob,
                        "cart_prob": min(segment.cart_prob * CHANNEL_CART_FACTOR[channel], 0.95),
                        "checkout_factor": segment.checkout_factor * DEVICE_CHECKOUT_FACTOR[device],
                    }
                )
    strata = pd.DataFrame(rows)
    cart_sessions = strata["user_share"] * strata["sessions_per_quarter"] * strata["view_prob"] * strata["cart_prob"]
    # Scale P(begin_checkout | add_to_cart) so that, over all cart sessions, P(purchase | cart) averages
    # exactly CART_TO_PURCHASE: then the conversion lift and the abandonment fall hold together.
    weighted_factor = float((cart_sessions * strata["checkout_factor"]).sum() / cart_sessions.sum())
    checkout_scale = CART_TO_PURCHASE / (PAYMENT_PROB * PURCHASE_PROB * weighted_factor)
    strata["checkout_prob"] = strata["checkout_factor"] * checkout_scale
    strata["payment_prob"] = PAYMENT_PROB
    strata["purchase_prob"] = PURCHASE_PROB
    return strata


STRATA = _strata()
CHECKOUT_PROB = {
    (row.segment, row.device): row.checkout_prob for row in STRATA.drop_duplicates(["segment", "device"]).itertuples()
}


def session_conversion(strata: pd.DataFrame, *, treated: bool) -> pd.Series:
    """P(a session reaches purchase) per stratum."""
    lift = 1 + CONVERSION_LIFT if treated else 1.0
    return (
        strata["view_prob"]
        * strata["cart_prob"]
        * strata["checkout_prob"]
        * strata["payment_prob"]
        * strata["purchase_prob"]
        * lift
    )


def expected_repeat_customer_rate(*, treated: bool) -> float:
    """Share of a quarter's purchasing customers with >= 2 orders in that quarter, in expectation.

    Sessions in a quarter are Poisson, each converts independently, so orders per user and quarter are
    Poisson with mean ``sessions_per_quarter * conversion``; the rate is a mixture over the strata.
    """
    mean_orders = STRATA["sessions_per_quarter"] * session_conversion(STRATA, treated=treated)
    at_least_one = 1 - np.exp(-mean_orders)
    at_least_two = at_least_one - mean_orders * np.exp(-mean_orders)
    weights = STRATA["user_share"]
    return float((weights * at_least_two).sum() / (weights * at_least_one).sum())


def expected_events_per_user() -> float:
    """Mean number of events per user over the six quarters (used to size the data set)."""
    by_segment = {segment.name: segment for segment in SEGMENTS}
    seg = STRATA["segment"].map(by_segment)
    reach_cart = STRATA["view_prob"] * STRATA["cart_prob"]
    funnel_events = reach_cart * (
        1 + STRATA["checkout_prob"] * (1 + STRATA["payment_prob"] * (1 + STRATA["purchase_prob"]))
    )
    per_session = (
        1 + seg.map(lambda s: s.page_views) + STRATA["view_prob"] * seg.map(lambda s: s.items_viewed) + funnel_events
    )
    sessions = STRATA["sessions_per_quarter"] * len(QUARTERS)
    return float((STRATA["user_share"] * sessions * per_session).sum())


def _planted_effects() -> dict[str, float]:
    abandonment_change = -CONVERSION_LIFT * CART_TO_PURCHASE / (1 - CART_TO_PURCHASE)
    repeat_lift = expected_repeat_customer_rate(treated=True) / expected_repeat_customer_rate(treated=False) - 1
    return {
        "conversion_rate": CONVERSION_LIFT,
        "cart_abandonment_rate": abandonment_change,
        "repeat_customer_rate": repeat_lift,
        "csat": CSAT_LIFT,
        # absolute change in the monthly seller churn hazard in treated markets after launch vs end of 2025
        "seller_monthly_churn_hazard": SELLER_CHURN_HAZARD_AFTER_LAUNCH - SELLER_CHURN_HAZARD_END_OF_2025,
    }


PLANTED_EFFECTS: dict[str, float] = _planted_effects()
"""True effects of "Personalised journeys" in treated markets after launch (and in GB's treatment arm).

conversion_rate, cart_abandonment_rate, repeat_customer_rate, csat: relative change (0.175 = +17.5%);
seller_monthly_churn_hazard: absolute change of the monthly churn probability. Definitions in data/README.md.
"""


def launch_timestamp(market: Market) -> pd.Timestamp | None:
    """The market's launch as a UTC timestamp, or ``None`` for a market that never launches."""
    return None if market.launch_date is None else pd.Timestamp(market.launch_date, tz="UTC")


def quarter_bounds() -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(start, end) UTC of each event quarter, end exclusive."""
    starts = pd.date_range(PERIOD_START, PERIOD_END, freq="QS")
    return list(zip(starts[:-1], starts[1:], strict=True))


def monthly_churn_hazard(month_start: pd.Timestamp, launch: pd.Timestamp | None) -> float:
    """Seller churn probability for the month starting ``month_start`` (naive timestamps) in a market."""
    if launch is not None and month_start >= launch.tz_localize(None).to_period("M").to_timestamp():
        return SELLER_CHURN_HAZARD_AFTER_LAUNCH
    if month_start < pd.Timestamp("2025-01-01"):
        return SELLER_CHURN_HAZARD_BEFORE_2025
    months_into_2025 = min((month_start.year - 2025) * 12 + month_start.month - 1, 11)
    step = (SELLER_CHURN_HAZARD_END_OF_2025 - SELLER_CHURN_HAZARD_BEFORE_2025) / 11
    return SELLER_CHURN_HAZARD_BEFORE_2025 + step * months_into_2025


def expected_session_conversion(*, treated: bool) -> float:
    """Share of sessions reaching purchase over the whole user mix."""
    weights = STRATA["user_share"] * STRATA["sessions_per_quarter"]
    return float((weights * session_conversion(STRATA, treated=treated)).sum() / weights.sum())


def _check_shares() -> None:
    for what, shares in (
        ("MARKETS", [m.user_share for m in MARKETS]),
        ("SEGMENTS", [s.user_share for s in SEGMENTS]),
    ):
        if not math.isclose(sum(shares), 1.0):
            raise DemoDataError(
                f"demo design: user_share of {what} must sum to 1, got {sum(shares)}",
                parameter=f"{what}.user_share",
                value=sum(shares),
                valid="shares summing to 1",
            )


_check_shares()
