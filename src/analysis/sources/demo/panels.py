"""Small reference tables of the demo data set: markets, the initiative roll-out, competitive benchmarks.

Craftly's own benchmark rows are the *expected* values of its generated tables (session conversion,
cart abandonment, repeat-customer rate, mean CSAT, NPS, quarterly seller retention), with the initiative's
effects in quarters that start after a market's launch, plus a little measurement noise. Competitors differ
from Craftly by stable factors (see COMPETITORS), so their ranking is the same in every market and quarter.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.sources.demo.clickstream import TIME_UNIT
from analysis.sources.demo.design import (
    BENCHMARK_QUARTERS,
    CART_TO_PURCHASE,
    CONVERSION_LIFT,
    CSAT_LIFT,
    CSAT_SATISFIED_SPLIT,
    CSAT_UNSATISFIED_SPLIT,
    INITIATIVE_ID,
    INITIATIVE_NAME,
    INITIATIVE_TARGET,
    MARKETS,
    NPS_MEAN_BY_CSAT,
    NPS_SPREAD,
    Market,
    expected_repeat_customer_rate,
    expected_session_conversion,
    launch_timestamp,
    monthly_churn_hazard,
)

BENCHMARKS_STREAM = 21
CLIENT = "Craftly"

# KPI -> (unit, direction)
KPIS: dict[str, tuple[str, str]] = {
    "conversion_rate": ("fraction", "higher"),
    "cart_abandonment_rate": ("fraction", "lower"),
    "repeat_customer_rate": ("fraction", "higher"),
    "csat": ("score 1-5", "higher"),
    "nps": ("score -100..100", "higher"),
    "market_share": ("fraction", "higher"),
    "seller_retention_rate": ("fraction", "higher"),
    "order_fulfilment_days": ("days", "lower"),
}

# Competitor KPI = Craftly's untreated level x factor (fractions and days) or + offset (csat, nps).
COMPETITORS: dict[str, dict[str, float]] = {
    # the generalist giant: converts best, ships fastest, worst satisfaction and seller loyalty
    "GlobalBazaar": {
        "conversion_rate": 1.30,
        "cart_abandonment_rate": 0.85,
        "repeat_customer_rate": 1.15,
        "csat": -0.35,
        "nps": -20.0,
        "seller_retention_rate": 0.95,
        "order_fulfilment_days": 0.55,
    },
    # price-led: many carts abandoned while shoppers compare prices
    "MakerMart": {
        "conversion_rate": 0.95,
        "cart_abandonment_rate": 1.25,
        "repeat_customer_rate": 0.85,
        "csat": 0.10,
        "nps": -5.0,
        "seller_retention_rate": 0.98,
        "order_fulfilment_days": 0.90,
    },
    # premium curation: happiest customers, slowest delivery
    "Artisania": {
        "conversion_rate": 0.80,
        "cart_abandonment_rate": 1.05,
        "repeat_customer_rate": 1.10,
        "csat": 0.80,
        "nps": 25.0,
        "seller_retention_rate": 1.00,
        "order_fulfilment_days": 1.45,
    },
    # low fees: keeps its sellers best
    "HandHub": {
        "conversion_rate": 0.88,
        "cart_abandonment_rate": 1.10,
        "repeat_customer_rate": 0.95,
        "csat": 0.40,
        "nps": 5.0,
        "seller_retention_rate": 1.04,
        "order_fulfilment_days": 1.15,
    },
}

# Market share of each company per market (the rest of the market belongs to others).
MARKET_SHARES: dict[str, dict[str, float]] = {
    CLIENT: {"US": 0.12, "GB": 0.10, "DE": 0.06, "FR": 0.05, "JP": 0.02, "CA": 0.08, "AU": 0.07, "NL": 0.04},
    "GlobalBazaar": {
        "US": 0.42,
        "GB": 0.38,
        "DE": 0.40,
        "FR": 0.35,
        "JP": 0.30,
        "CA": 0.40,
        "AU": 0.36,
        "NL": 0.33,
    },
    "MakerMart": {
        "US": 0.10,
        "GB": 0.06,
        "DE": 0.04,
        "FR": 0.04,
        "JP": 0.03,
        "CA": 0.07,
        "AU": 0.05,
        "NL": 0.03,
    },
    "Artisania": {
        "US": 0.04,
        "GB": 0.07,
        "DE": 0.09,
        "FR": 0.11,
        "JP": 0.02,
        "CA": 0.03,
        "AU": 0.03,
        "NL": 0.08,
    },
    "HandHub": {
        "US": 0.05,
        "GB": 0.05,
        "DE": 0.03,
        "FR": 0.03,
        "JP": 0.06,
        "CA": 0.09,
        "AU": 0.10,
        "NL": 0.04,
    },
}
CRAFTLY_FULFILMENT_DAYS = 4.5
FULFILMENT_EXTRA_DAYS = {"JP": 1.5, "AU": 1.0}  # far from most makers
NOISE = {"score": 0.03, "nps": 1.5, "relative": 0.005}  # measurement noise of the benchmark panel


def markets_table() -> pd.DataFrame:
    """The ``markets`` table: code, name, region and currency of each demo market."""
    return pd.DataFrame(
        {
            "market": [m.code for m in MARKETS],
            "name": [m.name for m in MARKETS],
            "region": [m.region for m in MARKETS],
            "currency": [m.currency for m in MARKETS],
        },
        dtype="str",
    )


def initiatives_table() -> pd.DataFrame:
    """The ``initiatives`` table: the one initiative's launch date and target in every market (NaT: never)."""
    kpi, low, high = INITIATIVE_TARGET
    launch = pd.to_datetime([m.launch_date for m in MARKETS]).as_unit(TIME_UNIT)
    return pd.DataFrame(
        {
            "initiative_id": pd.Series(INITIATIVE_ID, index=range(len(MARKETS)), dtype="str"),
            "name": INITIATIVE_NAME,
            "market": [m.code for m in MARKETS],
            "launch_date": launch,
            "target_kpi": kpi,
            "target_low": low,
            "target_high": high,
        }
    ).astype({"name": "str", "market": "str", "target_kpi": "str"})


def _csat_mean(top2: float) -> float:
    high = 4 * CSAT_SATISFIED_SPLIT[0] + 5 * CSAT_SATISFIED_SPLIT[1]
    low = sum(score * p for score, p in zip((1, 2, 3), CSAT_UNSATISFIED_SPLIT, strict=True))
    return top2 * high + (1 - top2) * low


def _nps(top2: float) -> float:
    """Promoters (9-10) minus detractors (0-6), in points, implied by the survey design."""

    def normal_cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    csat_probs = [(1 - top2) * p for p in CSAT_UNSATISFIED_SPLIT] + [top2 * p for p in CSAT_SATISFIED_SPLIT]
    promoters = sum(p * (1 - normal_cdf((8.5 - NPS_MEAN_BY_CSAT[c]) / NPS_SPREAD)) for c, p in enumerate(csat_probs, 1))
    detractors = sum(p * normal_cdf((6.5 - NPS_MEAN_BY_CSAT[c]) / NPS_SPREAD) for c, p in enumerate(csat_probs, 1))
    return 100 * (promoters - detractors)


def _quarter_retention(market: Market, quarter: pd.Period) -> float:
    launch = launch_timestamp(market)
    months = pd.period_range(quarter.start_time, periods=3, freq="M")
    return float(np.prod([1 - monthly_churn_hazard(m.start_time, launch) for m in months]))


def _craftly_levels(market: Market, quarter: pd.Period) -> dict[str, float]:
    launch = launch_timestamp(market)
    # Quarter-level panel: the initiative shows from the first quarter starting after launch.
    treated = launch is not None and quarter.start_time >= launch.tz_localize(None)
    lift = 1 + CONVERSION_LIFT if treated else 1.0
    top2 = market.csat_top2_share * (1 + CSAT_LIFT if treated else 1.0)
    return {
        "conversion_rate": expected_session_conversion(treated=treated),
        "cart_abandonment_rate": 1 - CART_TO_PURCHASE * lift,
        "repeat_customer_rate": expected_repeat_customer_rate(treated=treated),
        "csat": _csat_mean(top2),
        "nps": _nps(top2),
        "seller_retention_rate": _quarter_retention(market, quarter),
        "order_fulfilment_days": CRAFTLY_FULFILMENT_DAYS,
    }


def benchmarks_table(seed: int) -> pd.DataFrame:
    """Every company x market x quarter x KPI, with the panel's measurement noise."""
    rng = np.random.default_rng([seed, BENCHMARKS_STREAM])
    rows = []
    for market in MARKETS:
        for period in BENCHMARK_QUARTERS:
            quarter = pd.Period(period, freq="Q")
            craftly = _craftly_levels(market, quarter)
            untreated = _craftly_levels(market, pd.Period("2025Q1", freq="Q"))
            for company in (CLIENT, *COMPETITORS):
                factors = COMPETITORS.get(company)
                for kpi, (unit, direction) in KPIS.items():
                    if kpi == "market_share":
                        level = MARKET_SHARES[company][market.code]
                    elif factors is None:
                        level = craftly[kpi]
                    elif kpi in ("csat", "nps"):
                        level = untreated[kpi] + factors[kpi]
                    else:
                        level = untreated[kpi] * factors[kpi]
                    if kpi == "order_fulfilment_days":
                        level += FULFILMENT_EXTRA_DAYS.get(market.code, 0.0)
                    rows.append((company, market.code, period, kpi, level, unit, direction))
    table = pd.DataFrame(rows, columns=["company", "market", "period", "kpi", "value", "unit", "direction"])
    table["value"] = _with_noise(table, rng)
    return table.astype({c: "str" for c in ("company", "market", "period", "kpi", "unit", "direction")})


def _with_noise(table: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    value = table["value"].to_numpy(dtype=float)
    noise = rng.normal(0, 1, len(table))
    is_csat, is_nps = (table["kpi"] == "csat").to_numpy(), (table["kpi"] == "nps").to_numpy()
    noisy = np.where(
        is_csat,
        np.clip(value + NOISE["score"] * noise, 1, 5),
        np.where(is_nps, np.clip(value + NOISE["nps"] * noise, -100, 100), value * (1 + NOISE["relative"] * noise)),
    )
    is_fraction = (table["unit"] == "fraction").to_numpy()
    noisy = np.where(is_fraction, np.clip(noisy, 0, 1), noisy)
    return np.round(noisy, 4)
