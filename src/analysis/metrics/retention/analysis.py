"""The retention-and-value analysis of one market (or all): sellers who stay, buyers who return, what buyers are worth.

Every engine-side step is one of the package's helpers (Ibis in, small pandas out); this module only chooses their
windows, adds the comparisons a reader asks for (this quarter against a year earlier, first against last quarter,
before against after the launch) and collects the model fits. A fit that fails is kept as its reason, never raised.
No customer or seller identifier leaves :func:`analyse_retention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.retention.buyers import repeat_customer_rate
from analysis.metrics.retention.cohorts import buyer_cohorts, seller_cohorts
from analysis.metrics.retention.periods import PERIODS, as_date
from analysis.metrics.retention.sbg import SbgFitError, ShiftedBetaGeometricFit, fit_shifted_beta_geometric
from analysis.metrics.retention.sellers import hazard_before_after, seller_churn_hazard, seller_retention
from analysis.metrics.retention.survival import survival_curves
from analysis.metrics.retention.value_analysis import customer_value, repeat_revenue_share
from analysis.metrics.stats import holm_adjust, is_real, newcombe_interval, two_proportion_z_test
from analysis.scope import Scope

__all__ = ["RetentionAnalysis", "analyse_retention", "repeat_revenue_share", "repeat_trend", "retention_change"]

POOLED = "ALL"  # the market label of a line pooling every market
SBG_COHORTS = 4  # the sBG is fitted on this many most recent signup cohorts ...
SBG_MIN_PERIODS = 2  # ... each observed for at least this many whole months after signup


@dataclass(frozen=True)
class RetentionAnalysis:
    """Everything the retention-and-value notebook shows; fractions are 0..1, money in each row's ``currency``.

    Attributes
    ----------
    scope
        The market and period asked for.
    observed_until
        The last day the seller and order data describe: the scope's end, or the sellers' snapshot day if earlier.
    cohort_period, projection_months, clv_horizon_months, margin, monthly_discount_rate, min_group_size
        The parameters the analysis was run with.
    launches
        One row per market in scope: ``market``, ``launch_date`` (``datetime.date``; None when never launched).
    seller_retention
        :func:`~analysis.metrics.retention.seller_retention` by quarter from the scope's start: the ``market``
        column, then ``quarter``, ``quarter_start``, ``active_at_start``, ``retained``, ``retention`` with
        ``retention_ci_low``/``_high`` (Wilson) and ``complete``. For ALL, every market plus a pooled line (``market``
        ``"ALL"``).
    retention_change
        Per line of ``seller_retention``, the last complete quarter against the same quarter a year earlier:
        ``market``, ``quarter``, ``earlier_quarter``, ``retention``, ``retention_ci_low``/``_high``,
        ``earlier_retention``, ``earlier_retention_ci_low``/``_high``, ``difference`` (``retention −
        earlier_retention``, fraction points) with ``difference_ci_low``/``_high`` (Newcombe), ``p_value``
        (two-proportion z-test), ``p_value_adjusted`` (Holm over the rows) and ``real`` (``is_real`` of the adjusted
        p). NaN (and ``real`` False) where the earlier quarter is not in the data.
    churn_hazard
        :func:`~analysis.metrics.retention.seller_churn_hazard` by month from the scope's start, lines as in
        ``seller_retention``.
    hazard_change
        :func:`~analysis.metrics.retention.hazard_before_after` of the markets that launched (none for a market that
        never did), plus ``p_value_adjusted`` (Holm over the rows) and ``real``.
    seller_cohorts, buyer_cohorts
        :func:`~analysis.metrics.retention.seller_cohorts` (signup cohort × whole months since signup) and
        :func:`~analysis.metrics.retention.buyer_cohorts` (first-purchase cohort in scope × calendar months since),
        cohorts of ``cohort_period``, for the market (ALL: pooled, ``market`` ``"ALL"``); cells not yet observable
        have ``share`` NaN and ``complete`` False.
    survival
        :func:`~analysis.metrics.retention.survival_curves`: Kaplan–Meier by signup cohort for a market, by market
        for ALL (``group``, ``months``, ``at_risk``, ``stopped``, ``survival`` with ``survival_ci_low``/``_high``).
    sbg_cohorts
        Labels of the signup cohorts the sBG model was fitted on (the :data:`SBG_COHORTS` latest observed for at
        least :data:`SBG_MIN_PERIODS` whole months).
    sbg_fit
        The fitted :class:`~analysis.metrics.retention.ShiftedBetaGeometricFit` (None when it failed).
    sbg_failure
        Why there is no sBG fit (None when there is one).
    sbg_curve
        The fitted cohorts' monthly survival: ``months`` since signup, ``cohort_size`` (sellers of the cohorts
        observed that long), ``active`` (of them, still active), ``actual`` (``active / cohort_size``), ``fitted``
        (the model's ``S(months)``, NaN without fit).
    sbg_projection
        The model's projection from signup: ``period`` (months 1..``projection_months``), ``survival`` with
        ``survival_ci_low``/``_high`` (delta method on the logit scale); empty without fit.
    sbg_remaining
        Expected months, of the first ``projection_months`` after signup, that a new seller is active:
        ``periods`` with ``periods_ci_low``/``_high``, ``tenure`` (0), ``horizon``, ``discount_rate`` (0); None
        without fit.
    repeat_rate
        :func:`~analysis.metrics.retention.repeat_customer_rate` by quarter over the scope (lines as in
        ``seller_retention``): ``period``, ``period_start``, ``customers``, ``repeat_customers``, ``rate`` with
        ``rate_ci_low``/``_high``, ``complete``.
    repeat_trend
        Per line, the last complete quarter against the first: ``market``, ``first_period``, ``last_period``,
        ``first_rate``, ``last_rate``, ``difference`` (last − first) with ``difference_ci_low``/``_high``
        (Newcombe), ``p_value`` (z-test), ``p_value_adjusted`` (Holm over the rows), ``real``.
    clv
        Customer value by personality segment (the segment of the customer's first event), per currency (a market's
        own; for ALL each currency separately: amounts in different currencies are never added): ``currency``,
        ``segment``, ``customers``, ``too_small`` (fewer than ``min_group_size`` customers: estimates NaN),
        ``mean_clv`` (expected discounted margin per customer over ``clv_horizon_months``) with
        ``mean_clv_ci_low``/``_high`` (the models' parameter uncertainty, see
        :func:`~analysis.metrics.clv.clv_by_group`), ``interval_stable`` (False when that interval is not finite or
        goes below 0: the parameters are too poorly identified for one; do not show it), ``total_clv``, and the
        models valued with: ``purchase_model`` (``"BG/NBD"``, or its no-dropout limit, the NBD model) and
        ``spend_model`` (``"Gamma–Gamma"``, or the mean spend per repeat purchase when customers' spend shows no
        spread), as ``clv_fits`` records them.
    clv_fits
        One row per currency: ``currency``, ``customers``, ``repeat_buyers`` (customers with a purchase in a second
        week), ``purchase_model`` and ``spend_model`` (as in ``clv``), the purchase model's ``r``, ``alpha`` and
        BG/NBD's ``a``, ``b`` (NaN under the NBD model), Gamma–Gamma ``p``, ``q``, ``gamma`` (NaN under the mean
        spend), ``mean_spend`` with ``mean_spend_se`` (customers as units), ``purchase_fallback`` and
        ``spend_fallback`` (why the simpler model was used: the full one ran to no dropout / no spread; None when
        not), ``failure`` (why there is no value at all; None when the models fitted), ``interval_failure`` (why
        CLV has no interval although the models fitted: a parameter the customers do not identify, or more than 5%
        of the parameter draws without a CLV, e.g. with q ≤ 1; the estimate is then shown without one) and
        ``draws_dropped`` (the share of parameter draws left out of the intervals, see
        :func:`~analysis.metrics.clv.clv_by_group`; NaN when none were drawn).
    repeat_revenue
        Per currency, the share of revenue from repeat buyers (customers with two or more orders in the scope):
        ``currency``, ``customers``, ``repeat_buyers``, ``revenue``, ``repeat_revenue``, ``share`` (their ratio)
        with ``share_ci_low``/``_high``: a delta-method interval of the ratio of per-customer sums
        (customers as the independent units), clipped to 0..1.
    """

    scope: Scope
    observed_until: date
    cohort_period: str
    projection_months: int
    clv_horizon_months: int
    margin: float
    monthly_discount_rate: float
    min_group_size: int
    launches: pd.DataFrame
    seller_retention: pd.DataFrame
    retention_change: pd.DataFrame
    churn_hazard: pd.DataFrame
    hazard_change: pd.DataFrame
    seller_cohorts: pd.DataFrame
    buyer_cohorts: pd.DataFrame
    survival: pd.DataFrame
    sbg_cohorts: tuple[str, ...]
    sbg_fit: ShiftedBetaGeometricFit | None
    sbg_failure: str | None
    sbg_curve: pd.DataFrame
    sbg_projection: pd.DataFrame
    sbg_remaining: pd.Series | None
    repeat_rate: pd.DataFrame
    repeat_trend: pd.DataFrame
    clv: pd.DataFrame
    clv_fits: pd.DataFrame
    repeat_revenue: pd.DataFrame

    @property
    def headline_market(self) -> str:
        """The line a reader's findings are about: the market, or ``"ALL"`` (pooled) for every market."""
        return self.scope.market


def analyse_retention(
    tables: Mapping[str, ir.Table],
    scope: Scope,
    *,
    cohort_period: str = "quarter",
    projection_months: int = 12,
    clv_horizon_months: int = 12,
    margin: float = 1.0,
    monthly_discount_rate: float = 0.01,
    min_group_size: int = 30,
) -> RetentionAnalysis:
    """Seller retention, churn, cohorts, survival and the sBG projection; repeat buying and CLV in ``scope``.

    Parameters
    ----------
    tables
        The contract tables (:func:`analysis.sources.load_tables`): ``sellers``, ``orders`` and ``events`` are
        needed; ``initiatives`` gives the launch dates when present.
    scope
        The market (or ALL) and the period: retention, hazards and repeat rates are reported from its start; orders
        are read within it; sellers are observed until its end.
    cohort_period
        ``"quarter"`` or ``"month"``: the signup (sellers) and first-purchase (buyers) cohorts.
    projection_months
        Months after signup the sBG projection reaches (the headline is survival at this month).
    clv_horizon_months
        Months of future purchases CLV counts.
    margin
        Share of an order's value that is profit (1: CLV in revenue).
    monthly_discount_rate
        The monthly discount rate of CLV.
    min_group_size
        Segments with fewer customers are suppressed in ``clv``.
    """
    _check_parameters(cohort_period, projection_months, clv_horizon_months, margin, monthly_discount_rate,
                      min_group_size)  # fmt: skip
    market = None if scope.market == POOLED else scope.market
    sellers = tables["sellers"]
    snapshot = as_date(sellers.last_active_date.max().execute())
    observed = min(scope.end, snapshot) if snapshot is not None else scope.end
    if market is not None:
        sellers = sellers.filter(sellers.market == market)
    orders = scope.apply(tables["orders"], "orders")
    launches = _launches(tables, sellers, market)
    window = {"start": scope.start, "end": observed, "observed_until": observed}
    retention = _with_pooled(seller_retention, sellers, market, **window)
    hazard = _with_pooled(seller_churn_hazard, sellers, market, **window)
    launch_of = dict(zip(launches["market"], launches["launch_date"], strict=True))
    by_market = hazard[hazard["market"] != POOLED] if market is None else hazard
    hazard_change = hazard_before_after(by_market, launch_of)
    if len(hazard_change):
        hazard_change = hazard_change[hazard_change["launch_month"].notna()].reset_index(drop=True)
        hazard_change = _judged(hazard_change)
    cohort_by = ("market",) if market is not None else ()
    grid = seller_cohorts(sellers, by=cohort_by, cohort=cohort_period, period="month", observed_until=observed)
    buyers = buyer_cohorts(orders, by=cohort_by, cohort=cohort_period, period="month", observation_end=observed)
    sbg = _sbg(grid, projection_months)
    repeat = _with_pooled(repeat_customer_rate, orders, market, start=scope.start, end=observed)
    clv, fits, revenue = customer_value(
        tables, orders, market, observed, clv_horizon_months, margin, monthly_discount_rate, min_group_size
    )
    return RetentionAnalysis(
        scope=scope,
        observed_until=observed,
        cohort_period=cohort_period,
        projection_months=projection_months,
        clv_horizon_months=clv_horizon_months,
        margin=margin,
        monthly_discount_rate=monthly_discount_rate,
        min_group_size=min_group_size,
        launches=launches,
        seller_retention=retention,
        retention_change=retention_change(retention),
        churn_hazard=hazard,
        hazard_change=hazard_change,
        seller_cohorts=_labelled(grid),
        buyer_cohorts=_labelled(buyers),
        survival=survival_curves(
            sellers, group="cohort" if market else "market", cohort=cohort_period, observed_until=observed
        ),
        **sbg,
        repeat_rate=repeat,
        repeat_trend=repeat_trend(repeat),
        clv=clv,
        clv_fits=fits,
        repeat_revenue=revenue,
    )


def retention_change(retention: pd.DataFrame) -> pd.DataFrame:
    """Each line's last complete quarter against the same quarter a year earlier (columns as in the analysis)."""
    rows = []
    for line, quarters in retention.groupby("market", sort=False):
        done = quarters[quarters["complete"]]
        if done.empty:
            continue
        last = done.iloc[-1]
        earlier_label = f"{int(last['quarter'][:4]) - 1}{last['quarter'][4:]}"
        earlier = done[done["quarter"] == earlier_label]
        row = {"market": line, "quarter": last["quarter"], "earlier_quarter": earlier_label}
        row |= {c: last[c] for c in ("retained", "active_at_start", "retention", "retention_ci_low")}
        row["retention_ci_high"] = last["retention_ci_high"]
        found = earlier.iloc[0] if len(earlier) else None
        for column in ("retained", "active_at_start", "retention", "retention_ci_low", "retention_ci_high"):
            row[f"earlier_{column}"] = found[column] if found is not None else np.nan
        rows.append(row)
    columns = ["market", "quarter", "earlier_quarter", "retention", "retention_ci_low", "retention_ci_high",
               "earlier_retention", "earlier_retention_ci_low", "earlier_retention_ci_high"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=[*columns, "difference", "difference_ci_low", "difference_ci_high", "p_value",
                                     "p_value_adjusted", "real"])  # fmt: skip
    frame = pd.DataFrame(rows)
    counts = (frame["retained"], frame["active_at_start"], frame["earlier_retained"], frame["earlier_active_at_start"])
    return _compared(frame, counts, frame["retention"] - frame["earlier_retention"])[
        [*columns, "difference", "difference_ci_low", "difference_ci_high", "p_value", "p_value_adjusted", "real"]
    ]


def repeat_trend(repeat: pd.DataFrame) -> pd.DataFrame:
    """Each line's repeat-customer rate in its last complete quarter against its first (columns as in the analysis)."""
    rows = []
    for line, periods in repeat.groupby("market", sort=False):
        done = periods[periods["complete"]]
        if len(done) < 2:
            continue
        first, last = done.iloc[0], done.iloc[-1]
        rows.append({
            "market": line, "first_period": first["period"], "last_period": last["period"],
            "first_rate": first["rate"], "last_rate": last["rate"],
            "first_repeat": first["repeat_customers"], "first_customers": first["customers"],
            "last_repeat": last["repeat_customers"], "last_customers": last["customers"],
        })  # fmt: skip
    columns = ["market", "first_period", "last_period", "first_rate", "last_rate", "difference", "difference_ci_low",
               "difference_ci_high", "p_value", "p_value_adjusted", "real"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    counts = (frame["last_repeat"], frame["last_customers"], frame["first_repeat"], frame["first_customers"])
    return _compared(frame, counts, frame["last_rate"] - frame["first_rate"])[columns]


def _compared(frame: pd.DataFrame, counts: tuple, difference: pd.Series) -> pd.DataFrame:
    frame = frame.copy()
    frame["difference"] = difference
    low, high = newcombe_interval(*counts)
    frame["difference_ci_low"], frame["difference_ci_high"] = np.asarray(low, float), np.asarray(high, float)
    _, frame["p_value"] = two_proportion_z_test(*(np.asarray(c, dtype=float) for c in counts))
    return _judged(frame)


def _judged(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["p_value_adjusted"] = holm_adjust(frame["p_value"].to_numpy(dtype=float))
    frame["real"] = np.asarray(is_real(frame["p_value_adjusted"].to_numpy()), dtype=bool).reshape(-1)
    return frame


def _with_pooled(helper, table: ir.Table, market: str | None, **options) -> pd.DataFrame:
    """The helper by market; for every market (``market`` None) with a pooled line (``market`` ``"ALL"``) after."""
    by_market = helper(table, by=("market",), **options)
    if market is not None:
        return by_market
    pooled = helper(table, by=(), **options)
    pooled.insert(0, "market", POOLED)
    return pd.concat([by_market, pooled], ignore_index=True)


def _labelled(grid: pd.DataFrame) -> pd.DataFrame:
    if "market" not in grid.columns:
        grid = grid.copy()
        grid.insert(0, "market", POOLED)
    return grid


def _launches(tables: Mapping[str, ir.Table], sellers: ir.Table, market: str | None) -> pd.DataFrame:
    markets = sorted(sellers.select("market").distinct().to_pandas()["market"].astype(str))
    if market is not None:
        markets = [market]
    found: dict[str, date | None] = dict.fromkeys(markets)
    if "initiatives" in tables:
        initiatives = tables["initiatives"].select("market", "launch_date").to_pandas()
        for row in initiatives.dropna(subset=["launch_date"]).itertuples():
            day = as_date(row.launch_date)
            if row.market in found and (found[row.market] is None or day < found[row.market]):
                found[row.market] = day
    return pd.DataFrame({"market": list(found), "launch_date": list(found.values())})


def _sbg(grid: pd.DataFrame, projection_months: int) -> dict:
    """The sBG fit on the latest signup cohorts' complete monthly survivors, its curve and projection."""
    observed = grid[grid["complete"]]
    long_enough = observed.groupby("cohort")["periods_since"].max()
    chosen = sorted(long_enough[long_enough >= SBG_MIN_PERIODS].index)[-SBG_COHORTS:]
    cells = observed[observed["cohort"].isin(chosen)]
    curve = cells.groupby("periods_since").agg(cohort_size=("cohort_size", "sum"), active=("active", "sum"))
    curve = curve.reset_index().rename(columns={"periods_since": "months"})
    curve["active"] = curve["active"].astype("int64")
    curve["actual"] = curve["active"] / curve["cohort_size"]
    no_projection = pd.DataFrame(columns=["period", "survival", "survival_ci_low", "survival_ci_high"])
    result = {"sbg_cohorts": tuple(chosen), "sbg_fit": None, "sbg_failure": None, "sbg_remaining": None,
              "sbg_projection": no_projection}  # fmt: skip
    if not chosen:
        curve["fitted"] = np.nan
        reason = f"no signup cohort has been observed for {SBG_MIN_PERIODS} whole months or more"
        return result | {"sbg_curve": curve, "sbg_failure": reason}
    survivors = [cells[cells["cohort"] == c].sort_values("periods_since")["active"].to_numpy() for c in chosen]
    try:
        fit = fit_shifted_beta_geometric(survivors)
        projection = fit.projected_survival(range(1, projection_months + 1))
        remaining = fit.expected_remaining_periods(tenure=0, horizon=projection_months)
    except SbgFitError as error:
        curve["fitted"] = np.nan
        return result | {"sbg_curve": curve, "sbg_failure": str(error)}
    curve["fitted"] = np.asarray(fit.survival(curve["months"].to_numpy(dtype=float)), dtype=float)
    return result | {"sbg_curve": curve, "sbg_fit": fit, "sbg_projection": projection, "sbg_remaining": remaining}


def _check_parameters(
    cohort_period: str, projection: int, horizon: int, margin: float, discount: float, min_group_size: int
) -> None:
    if cohort_period not in PERIODS:
        raise ParameterError(
            f"cohort_period {cohort_period!r} must be {one_of(PERIODS)}",
            parameter="cohort_period",
            value=cohort_period,
            valid=list(PERIODS),
        )
    checks = {
        "projection_months": (projection, _whole(projection, 1), "a whole number of months, 1 or more"),
        "clv_horizon_months": (horizon, _whole(horizon, 1), "a whole number of months, 1 or more"),
        "margin": (margin, 0 < margin <= 1, "a share of order value in (0, 1]"),
        "monthly_discount_rate": (discount, 0 <= discount < 1, "a monthly rate in [0, 1)"),
        "min_group_size": (min_group_size, _whole(min_group_size, 1), "a whole number of customers, 1 or more"),
    }
    for name, (value, valid, expected) in checks.items():
        if not valid:
            raise ParameterError(f"{name} {value!r} must be {expected}", parameter=name, value=value, valid=expected)


def _whole(value, least: int) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= least
