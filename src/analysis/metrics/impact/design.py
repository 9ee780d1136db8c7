"""The post-initiative readout's inputs: one balanced market × period panel per KPI, the launches, the designs.

Launch timing: a launch inside a period makes that period partly treated. The readout takes the period
**containing** the launch as a market's first treated period, so its base period ``g − 1`` is fully untreated and
event time 0 is diluted (noted ``partly_treated_periods``), never the next one (which would put a partly treated
period in the baseline of every post-period comparison). :func:`~analysis.metrics.impact.calendar.treatment_calendar`
flags those periods; the first treated period is recomputed here from ``launch_date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.metrics.impact.calendar import treatment_calendar
from analysis.metrics.impact.panels import kpi_panel
from analysis.metrics.retention import repeat_customer_rate, seller_churn_hazard
from analysis.scope import Scope


@dataclass(frozen=True)
class KpiSource:
    """Where a KPI's panel comes from: the rate column and the count it is a share of, and how it is redrawn."""

    value: str
    denominator: str
    kind: str = "share"  # "share" (binomial) or "nps" (multinomial)
    session_based: bool = False  # measured on sessions, so a randomised market's arms are known
    # treated per user, so a randomised market treated only its treatment arm (False: treated market-wide)
    per_user: bool = True


SOURCES: dict[str, KpiSource] = {
    "conversion_rate": KpiSource("conversion_rate", "sessions", session_based=True),
    "cart_abandonment_rate": KpiSource("cart_abandonment_rate", "cart_sessions", session_based=True),
    "csat_top2": KpiSource("csat_top2", "responses_csat"),
    "nps": KpiSource("nps", "responses_nps", kind="nps"),
    "repeat_customer_rate": KpiSource("rate", "customers"),
    "seller_churn_hazard": KpiSource("hazard", "at_risk", per_user=False),
}
PANEL_COLUMNS = [
    "market",
    "period_start",
    "time",
    "value",
    "denominator",
    "promoters",
    "detractors",
    "launch_date",
    "first_treated_period",
    "partly_treated",
    "treated",
]
EMPTY_CELLS = "periods without observations (no denominator): left out of this KPI's panel"
INCOMPLETE_PERIODS = "incomplete periods at the edges of the data: left out"


def kpi_panels(
    tables: Mapping[str, ir.Table], scope: Scope, *, initiative_id: str | None, kpis: Mapping[str, tuple[str, str]]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, set[str]]:
    """One balanced market × period panel per KPI of ``kpis`` (``{kpi: (period, direction)}``) over ``scope``'s dates.

    Session and survey KPIs share one :func:`~analysis.metrics.impact.panels.kpi_panel` (one read of the events,
    which also counts the sessions in an A/B arm: :func:`randomised_markets`);
    the repeat-customer rate comes from :func:`~analysis.metrics.retention.repeat_customer_rate` (complete quarters
    only) and the seller churn hazard from :func:`~analysis.metrics.retention.seller_churn_hazard` (complete months).
    Every market of the data is kept (the scope's market filter is not applied: the others are its comparisons).

    Returns
    -------
    tuple
        ``{kpi: panel}`` with columns :data:`PANEL_COLUMNS` (``value``: the rate; ``denominator``: sessions, cart
        sessions, answers, customers or sellers at risk; ``promoters``, ``detractors``: NPS counts, else NaN;
        the launch columns with the containing-period rule), sorted by market and period; and the markets left out
        of a KPI's panel: ``kpi``, ``market``, ``reason``; and the randomised markets (an A/B arm after launch).
    """
    options = {"start": scope.start, "end": scope.end}
    initiatives = tables["initiatives"]
    initiatives = initiatives.execute() if isinstance(initiatives, ir.Table) else initiatives  # read once
    frames: dict[str, pd.DataFrame] = {}
    randomised: set[str] = set()
    monthly = [kpi for kpi in kpis if kpi in SOURCES and SOURCES[kpi].denominator in _PANEL_COUNTS]
    if monthly:
        shared = kpi_panel(tables, period="month", initiative_id=initiative_id, arms=True, **options)
        randomised = randomised_markets(shared)
        frames.update({kpi: shared for kpi in monthly if SOURCES[kpi].denominator in shared.columns})
    if "repeat_customer_rate" in kpis and "orders" in tables:
        repeat = repeat_customer_rate(
            tables["orders"], by=("market",), period=kpis["repeat_customer_rate"][0], **options
        )
        frames["repeat_customer_rate"] = repeat[repeat["complete"]]
    if "seller_churn_hazard" in kpis and "sellers" in tables:
        hazard = seller_churn_hazard(tables["sellers"], by=("market",), **options)
        frames["seller_churn_hazard"] = hazard[hazard["complete"]].rename(columns={"month": "period_start"})
    panels, dropped = {}, []
    for kpi, frame in frames.items():
        panel, left_out = _balanced(frame, kpi, initiatives, initiative_id, kpis[kpi][0])
        panels[kpi] = panel
        dropped += [{"kpi": kpi, "market": market, "reason": EMPTY_CELLS} for market in left_out]
    return panels, pd.DataFrame(dropped, columns=["kpi", "market", "reason"]), randomised


_PANEL_COUNTS = {"sessions", "cart_sessions", "responses_csat", "responses_nps"}


def _balanced(
    frame: pd.DataFrame, kpi: str, initiatives, initiative_id: str | None, period: str
) -> tuple[pd.DataFrame, list[str]]:
    source = SOURCES[kpi]
    rows = pd.DataFrame(
        {
            "market": frame["market"].astype(str).to_numpy(),
            "period_start": pd.to_datetime(frame["period_start"]).astype("datetime64[us]").to_numpy(),
            "value": frame[source.value].astype(float).to_numpy(),
            "denominator": frame[source.denominator].fillna(0).astype("int64").to_numpy(),
            "promoters": frame["promoters"].astype(float).to_numpy() if source.kind == "nps" else np.nan,
            "detractors": frame["detractors"].astype(float).to_numpy() if source.kind == "nps" else np.nan,
        }
    )
    periods = sorted(rows["period_start"].unique())
    grid = pd.MultiIndex.from_product([sorted(rows["market"].unique()), periods], names=["market", "period_start"])
    rows = rows.set_index(["market", "period_start"]).reindex(grid).reset_index()
    rows["denominator"] = rows["denominator"].fillna(0).astype("int64")
    empty = rows.groupby("market")["denominator"].min() <= 0
    left_out = sorted(empty.index[empty])
    rows = rows[~rows["market"].isin(left_out)]
    calendar = treatment_calendar(
        initiatives, periods, initiative_id=initiative_id, period=period, first_treated="containing"
    )
    calendar = calendar[["market", "period_start", "launch_date", "first_treated_period", "partly_treated", "treated"]]
    rows = rows.merge(calendar, on=["market", "period_start"], how="left")
    rows["time"] = rows["period_start"].map({start: position + 1 for position, start in enumerate(periods)})
    rows["first_treated_period"] = rows["first_treated_period"].fillna(0).astype("int64")
    rows["partly_treated"] = rows["partly_treated"].fillna(False).astype(bool)
    rows["treated"] = rows["treated"].fillna(False).astype(bool)
    return rows[PANEL_COLUMNS].sort_values(["market", "period_start"], ignore_index=True), left_out


def randomised_markets(shared: pd.DataFrame) -> set[str]:
    """Markets with sessions in an A/B arm in or after their launch period: an experiment ran there.

    ``shared`` is the session panel of :func:`~analysis.metrics.impact.panels.kpi_panel` with ``arms=True`` (its
    ``armed_sessions`` come from the same pass over the events as the panel).
    """
    if "armed_sessions" not in shared:
        return set()
    launched = shared["treated"] | shared["partly_treated"]
    return set(shared.loc[launched & (shared["armed_sessions"] > 0), "market"].astype(str))


def launch_table(
    initiatives: pd.DataFrame,
    markets: list[str],
    scope: Scope,
    randomised: set[str],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``market, name, launch_date, randomised, in_scope``: one row per market of the data or of the initiative.

    ``name`` is the market's name from ``names`` (the ``markets`` table), its code where none is given.
    """
    launch = dict(
        zip(
            initiatives["market"].astype(str),
            pd.to_datetime(initiatives["launch_date"]).astype("datetime64[us]"),
            strict=True,
        )
    )
    every = sorted(set(markets) | set(launch))
    return pd.DataFrame(
        {
            "market": every,
            "name": [str((names or {}).get(m) or m) for m in every],
            "launch_date": pd.Series([launch.get(m, pd.NaT) for m in every], dtype="datetime64[us]"),
            "randomised": [m in randomised for m in every],
            "in_scope": [scope.market in ("ALL", m) for m in every],
        }
    )
