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

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.clv import (
    ModelFitError,
    clv_by_group,
    customer_lifetime_value,
    fit_bg_nbd,
    fit_gamma_gamma,
    rfm_summary,
)
from analysis.metrics.retention.buyers import repeat_customer_rate
from analysis.metrics.retention.cohorts import buyer_cohorts, seller_cohorts
from analysis.metrics.retention.periods import PERIODS, as_date
from analysis.metrics.retention.sbg import SbgFitError, ShiftedBetaGeometricFit, fit_shifted_beta_geometric
from analysis.metrics.retention.sellers import hazard_before_after, seller_churn_hazard, seller_retention
from analysis.metrics.retention.survival import survival_curves
from analysis.metrics.stats import holm_adjust, is_real, newcombe_interval, normal_quantile, two_proportion_z_test
from analysis.scope import Scope

POOLED = "ALL"  # the market label of a line pooling every market
SBG_COHORTS = 4  # the sBG is fitted on this many most recent signup cohorts ...
SBG_MIN_PERIODS = 2  # ... each observed for at least this many whole months after signup
CLV_PERIOD = "W"  # the RFM summary counts purchases in distinct weeks
UNKNOWN_SEGMENT = "unknown"


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
        goes below 0: the parameters are too poorly identified for one; do not show it) and ``total_clv``.
    clv_fits
        One row per currency: ``currency``, ``customers``, ``repeat_buyers`` (customers with a purchase in a second
        week), the BG/NBD ``r``, ``alpha``, ``a``, ``b`` and Gamma–Gamma ``p``, ``q``, ``gamma`` (NaN when not
        fitted), ``failure`` (why not; None when both fitted), ``interval_failure`` (why CLV has no interval
        although both fitted: a parameter the customers do not identify, or more than 5% of the parameter draws
        without a CLV, e.g. with q ≤ 1; the estimate is then shown without one) and ``draws_dropped`` (the share of
        parameter draws left out of the intervals, see :func:`~analysis.metrics.clv.clv_by_group`; NaN when none
        were drawn).
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
    clv, fits, revenue = _customer_value(
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


def repeat_revenue_share(sums: pd.DataFrame) -> pd.DataFrame:
    """The share of revenue from repeat buyers with a delta-method interval, from per-currency sums over customers.

    ``sums`` holds, per ``currency``: ``customers`` (n), ``repeat_buyers``, ``revenue`` (Σx, x a customer's revenue),
    ``repeat_revenue`` (Σy, y = x for a customer with two or more orders, else 0) and ``sum_xx``, ``sum_yy``,
    ``sum_xy``. The share is Σy/Σx = ȳ/x̄; its variance is the delta method's ``Var(ȳ)/x̄² − 2ȳ·Cov/x̄³ +
    ȳ²·Var(x̄)/x̄⁴`` with the sample (n − 1) moments over n, i.e. ``Σ(yᵢ − R·xᵢ)² / (n(n − 1) x̄²)``; the 95% interval
    is ``R ± 1.96·se``, clipped to 0..1.
    """
    n = sums["customers"].astype(float)
    x, y = sums["revenue"].astype(float), sums["repeat_revenue"].astype(float)
    share = y / x
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = sums["sum_yy"] - 2 * share * sums["sum_xy"] + share**2 * sums["sum_xx"]  # Σ(y − R x)²
        se = np.sqrt(residual.clip(lower=0) / (n * (n - 1))) / (x / n)
    half = normal_quantile() * se
    out = sums[["currency", "customers", "repeat_buyers", "revenue", "repeat_revenue"]].copy()
    out["share"] = share
    out["share_ci_low"] = (share - half).clip(0, 1)
    out["share_ci_high"] = (share + half).clip(0, 1)
    return out.reset_index(drop=True)


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


def _customer_value(
    tables: Mapping[str, ir.Table],
    orders: ir.Table,
    market: str | None,
    observed: date,
    months: int,
    margin: float,
    discount_rate: float,
    min_group_size: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """CLV by segment, the fits behind it and the repeat buyers' revenue share, one currency at a time."""
    events = tables["events"]
    if market is not None:
        events = events.filter(events.market == market)
    first_segment = events.group_by("user_id").aggregate(segment=events.segment.argmin(events.event_time))
    joined = orders.left_join(first_segment, orders.user_id == first_segment.user_id)
    orders = joined.select(
        *(joined[c] for c in ("user_id", "order_time", "amount", "currency")),
        segment=joined.segment.fill_null(UNKNOWN_SEGMENT),
    )
    per_customer = orders.group_by(["currency", "user_id"]).aggregate(n_orders=orders.count(), x=orders.amount.sum())
    y = ibis.ifelse(per_customer.n_orders >= 2, per_customer.x, 0.0)
    sums = per_customer.group_by("currency").aggregate(
        customers=per_customer.count(),
        repeat_buyers=(per_customer.n_orders >= 2).cast("int64").sum(),
        revenue=per_customer.x.sum(),
        repeat_revenue=y.sum(),
        sum_xx=(per_customer.x * per_customer.x).sum(),
        sum_yy=(y * y).sum(),
        sum_xy=(per_customer.x * y).sum(),
    )
    sums = sums.to_pandas().sort_values("currency", ignore_index=True)
    clv_frames, fit_rows = [], []
    with np.errstate(all="ignore"):  # parameter draws far from the optimum overflow; those draws are judged below
        for currency in sums["currency"]:
            _value_of_currency(orders, currency, observed, months, margin, discount_rate, clv_frames, fit_rows)
    clv_columns = ["currency", "segment", "customers", "too_small", "mean_clv", "mean_clv_ci_low", "mean_clv_ci_high",
                   "interval_stable", "total_clv"]  # fmt: skip
    clv = pd.concat(clv_frames, ignore_index=True) if clv_frames else pd.DataFrame(columns=clv_columns)
    clv["too_small"] = clv["customers"] < min_group_size
    # draws from a poorly identified fit (e.g. BG/NBD's a near 0) give infinite or negative CLVs: no usable interval
    low, high = clv["mean_clv_ci_low"].astype(float), clv["mean_clv_ci_high"].astype(float)
    clv["interval_stable"] = np.isfinite(low) & np.isfinite(high) & (low >= 0)
    for column in ("mean_clv", "mean_clv_ci_low", "mean_clv_ci_high", "total_clv"):
        clv[column] = clv[column].astype(float).where(~clv["too_small"].astype(bool))
    fit_columns = [
        "currency", "customers", "repeat_buyers", "r", "alpha", "a", "b", "p", "q", "gamma", "failure",
        "interval_failure", "draws_dropped",
    ]  # fmt: skip
    fits = pd.DataFrame(fit_rows, columns=fit_columns)
    for column in ("failure", "interval_failure"):  # None, not NaN, where there is nothing to say
        fits[column] = pd.Series([row[column] for row in fit_rows], index=fits.index, dtype=object)
    return clv[clv_columns], fits, repeat_revenue_share(sums)


def _value_of_currency(
    orders: ir.Table,
    currency: str,
    observed: date,
    months: int,
    margin: float,
    discount_rate: float,
    clv_frames: list[pd.DataFrame],
    fit_rows: list[dict],
) -> None:
    """Fit BG/NBD and Gamma–Gamma on one currency's customers; append its CLV by segment and its fit row."""
    summary = rfm_summary(
        orders.filter(orders.currency == currency),
        "user_id",
        "order_time",
        "amount",
        observation_end=observed,
        period=CLV_PERIOD,
        by=("segment",),
    ).reset_index(drop=True)  # fmt: skip  (the customer index is dropped here: no identifier goes further)
    row = {"currency": currency, "customers": len(summary), "repeat_buyers": int((summary["frequency"] > 0).sum())}
    row |= dict.fromkeys(("r", "alpha", "a", "b", "p", "q", "gamma"), np.nan)
    row |= {"failure": None, "interval_failure": None, "draws_dropped": np.nan}
    try:
        bg_nbd = fit_bg_nbd(summary["frequency"], summary["recency"], summary["T"])
        row |= bg_nbd.params.to_dict()
        gamma_gamma = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
        row |= gamma_gamma.params.to_dict()
    except ModelFitError as error:
        fit_rows.append(row | {"failure": str(error)})
        return
    options = {"months": months, "margin": margin, "discount_rate": discount_rate, "period": CLV_PERIOD}
    try:
        by_segment = clv_by_group(summary, bg_nbd, gamma_gamma, by="segment", **options)
        row["draws_dropped"] = float(by_segment["draws_dropped"].iloc[0]) if len(by_segment) else 0.0
    except ModelFitError as error:  # not identified, or too many draws without a CLV: the estimate, no interval
        row["interval_failure"] = str(error)
        if error.parameter == "max_dropped_share":
            row["draws_dropped"] = float(error.value)
        by_segment = _mean_clv_without_interval(summary, bg_nbd, gamma_gamma, options)
    fit_rows.append(row)
    by_segment.insert(0, "currency", currency)
    clv_frames.append(by_segment)


def _mean_clv_without_interval(summary: pd.DataFrame, bg_nbd, gamma_gamma, options: dict) -> pd.DataFrame:
    clv = customer_lifetime_value(
        bg_nbd,
        gamma_gamma,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        **options,
    )
    grouped = summary.assign(clv=clv).groupby("segment", sort=True)["clv"]
    out = grouped.agg(customers="size", mean_clv="mean", total_clv="sum").reset_index()
    out["mean_clv_ci_low"] = out["mean_clv_ci_high"] = np.nan
    return out


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
