"""Seller retention by quarter and the monthly seller churn hazard, computed in the engine, with Wilson intervals.

Both read the ``sellers`` contract table (``signup_date``, ``last_active_date``) as an Ibis table on any backend:
the sellers are cross-joined with a small calendar of periods and counted per group and period in one
aggregation, so only one row per group and period comes back. A seller is *active* on a day when
``signup_date <= day <= last_active_date``. The data are observed until ``observed_until`` (default: the latest
``last_active_date``, the day the seller table was taken): a seller active on that day is still selling (censored),
one whose ``last_active_date`` is earlier has stopped on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.retention.periods import (
    as_date,
    as_table,
    calendar,
    check_columns,
    day_column,
    period_label,
)
from analysis.metrics.stats import CONFIDENCE, newcombe_interval, two_proportion_z_test, wilson_interval

SELLER_COLUMNS = ("signup_date", "last_active_date")


def seller_retention(
    sellers: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    start: date | str | None = None,
    end: date | str | None = None,
    observed_until: date | str | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Quarterly seller retention: of the sellers active on a quarter's first day, the share still active on its last.

    Parameters
    ----------
    sellers
        The ``sellers`` table (Ibis on any backend, or pandas).
    by
        Seller columns to group by (``()`` for all sellers together).
    start, end
        First and last day of interest: the quarters holding them and those between are reported (default: from the
        quarter of the earliest signup to the quarter of ``observed_until``).
    observed_until
        The last day the data describe (default: the latest ``last_active_date``).
    confidence
        Level of the Wilson intervals.

    Returns
    -------
    pandas.DataFrame
        One row per group and quarter with at least one seller active on its first day, in group and time order:

        - the ``by`` columns;
        - ``quarter``: label, e.g. ``2025Q1``;
        - ``quarter_start``: the quarter's first day (``datetime.date``);
        - ``active_at_start``: sellers active on the quarter's first day;
        - ``retained``: of those, sellers still active on its last day (``last_active_date`` on or after it);
        - ``retention``: ``retained / active_at_start`` (fraction); NaN when the quarter is not complete;
        - ``retention_ci_low``, ``retention_ci_high``: Wilson interval (NaN when not complete);
        - ``complete``: False when the quarter's last day is after ``observed_until``, so whether its sellers
          were still active at its end is not known yet.
    """
    frame = _active_counts(sellers, by, start, end, observed_until, months=3)
    out = frame[list(by)].copy()
    out["quarter"] = period_label(frame["index"], 3)
    out["quarter_start"] = frame["start"]
    out["active_at_start"] = frame["active_at_start"]
    out["retained"] = frame["retained"]
    return _with_rate(out, "retention", frame["retained"], frame["active_at_start"], frame["complete"], confidence)


def seller_churn_hazard(
    sellers: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    start: date | str | None = None,
    end: date | str | None = None,
    observed_until: date | str | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Monthly seller churn hazard: of the sellers active on a month's first day, the share who stop during it.

    A seller stops on their ``last_active_date`` when it is before ``observed_until``; a seller active on
    ``observed_until`` is censored (still selling). Sellers who sign up during a month enter the risk set the next
    month.

    Parameters
    ----------
    sellers, by, start, end, observed_until, confidence
        As in :func:`seller_retention`, with months instead of quarters.

    Returns
    -------
    pandas.DataFrame
        One row per group and month with at least one seller at risk, in group and time order:

        - the ``by`` columns;
        - ``month``: the month's first day (``datetime.date``);
        - ``at_risk``: sellers active on the month's first day;
        - ``stopped``: of those, sellers whose last active day falls in the month and before ``observed_until``;
        - ``hazard``: ``stopped / at_risk`` (fraction per month); NaN when the month is not complete;
        - ``hazard_ci_low``, ``hazard_ci_high``: Wilson interval (NaN when not complete);
        - ``complete``: False when the month's last day is after ``observed_until``.
    """
    frame = _active_counts(sellers, by, start, end, observed_until, months=1)
    out = frame[list(by)].copy()
    out["month"] = frame["start"]
    out["at_risk"] = frame["active_at_start"]
    out["stopped"] = frame["stopped"]
    return _with_rate(out, "hazard", frame["stopped"], frame["active_at_start"], frame["complete"], confidence)


def _with_rate(
    out: pd.DataFrame, name: str, events: pd.Series, base: pd.Series, complete: pd.Series, confidence: float
) -> pd.DataFrame:
    """``out`` with ``name = events / base``, its Wilson interval (both NaN where not complete) and ``complete``."""
    complete = complete.to_numpy()
    low, high = wilson_interval(events, base, confidence)
    out[name] = np.where(complete, events / base, np.nan)
    out[f"{name}_ci_low"] = np.where(complete, low, np.nan)
    out[f"{name}_ci_high"] = np.where(complete, high, np.nan)
    out["complete"] = complete
    return out.reset_index(drop=True)


def hazard_before_after(
    hazard: pd.DataFrame,
    launches: Mapping[str, date | str | None],
    *,
    group: str = "market",
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per group (market), the churn hazard pooled over the months before and from its launch month, and the change.

    Parameters
    ----------
    hazard
        :func:`seller_churn_hazard` with ``group`` among its ``by`` columns (restrict its months with ``start`` and
        ``end`` to choose the comparison window). Months that are not complete are left out.
    launches
        ``{group value: launch day}``; a group missing from it, or mapped to None, never launched (all its months
        count as "before").
    group
        The column of ``hazard`` naming the group.
    confidence
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per group, in the order of ``hazard``:

        - ``group``'s column; ``launch_month``: first day of the launch month (None when never launched);
        - ``months_before``, ``at_risk_before``, ``stopped_before``: complete months before the launch month, and
          their summed risk sets (seller-months) and stops;
        - ``hazard_before``, ``hazard_before_ci_low``, ``hazard_before_ci_high``: pooled hazard (fraction per
          month) with its Wilson interval;
        - ``months_after``, ``at_risk_after``, ``stopped_after``, ``hazard_after``, ``hazard_after_ci_low``,
          ``hazard_after_ci_high``: the same from the launch month on (0 and NaN when never launched);
        - ``difference``: ``hazard_after - hazard_before`` with ``difference_ci_low``/``difference_ci_high``
          (Newcombe's hybrid score interval);
        - ``p_value``: two-sided two-proportion z-test of equal hazards (NaN when there is nothing to compare);
          pass it to :func:`analysis.metrics.stats.is_real` (after a correction when several groups are read).
    """
    missing = [c for c in (group, "month", "at_risk", "stopped", "complete") if c not in hazard.columns]
    if missing:
        raise ParameterError(
            f"the hazard frame lacks {missing}; pass the result of seller_churn_hazard",
            parameter="hazard",
            value=list(hazard.columns),
            valid=["seller_churn_hazard(...)"],
        )
    rows = []
    complete = hazard[hazard["complete"]]
    for key in pd.unique(hazard[group]):
        months = complete[complete[group] == key]
        launch = as_date(launches.get(key))
        launch_month = None if launch is None else date(launch.year, launch.month, 1)
        after = np.zeros(len(months), dtype=bool) if launch_month is None else _on_or_after(months, launch_month)
        row = {group: key, "launch_month": launch_month}
        for name, chosen in (("before", ~after), ("after", after)):
            at_risk = int(months.loc[chosen, "at_risk"].sum())
            stopped = int(months.loc[chosen, "stopped"].sum())
            low, high = wilson_interval(stopped, at_risk, confidence)
            row |= {
                f"months_{name}": int(chosen.sum()),
                f"at_risk_{name}": at_risk,
                f"stopped_{name}": stopped,
                f"hazard_{name}": stopped / at_risk if at_risk else np.nan,
                f"hazard_{name}_ci_low": float(low),
                f"hazard_{name}_ci_high": float(high),
            }
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    args = (out["stopped_after"], out["at_risk_after"], out["stopped_before"], out["at_risk_before"])
    out["difference"] = out["hazard_after"] - out["hazard_before"]
    out["difference_ci_low"], out["difference_ci_high"] = newcombe_interval(*args, confidence=confidence)
    _, out["p_value"] = two_proportion_z_test(*args)
    return out


def _on_or_after(months: pd.DataFrame, launch_month: date) -> np.ndarray:
    return np.array([pd.Timestamp(m).date() >= launch_month for m in months["month"]], dtype=bool)


def _active_counts(
    sellers: ir.Table | pd.DataFrame,
    by: Sequence[str],
    start: date | str | None,
    end: date | str | None,
    observed_until: date | str | None,
    *,
    months: int,
) -> pd.DataFrame:
    """Per group and period: sellers active on its first day, of them retained to its last day and stopped in it."""
    table = as_table(sellers)
    by = list(by)
    check_columns(table, [*by, *SELLER_COLUMNS], "sellers")
    spans = table.select(*by, signup=day_column(table.signup_date), last=day_column(table.last_active_date))
    bounds = spans.aggregate(first=spans.signup.min(), last=spans.last.max()).execute()
    observed = as_date(observed_until) or as_date(bounds["last"].iloc[0])
    first = as_date(start) or as_date(bounds["first"].iloc[0])
    last = min(as_date(end) or observed, observed)
    if first is None or observed is None or first > last:
        return _empty(by)
    periods = calendar(first, last, months)
    periods = periods.assign(start=pd.to_datetime(periods["start"]), end=pd.to_datetime(periods["end"]))
    cal = ibis.memtable(periods.rename(columns={"index": "period", "start": "period_first", "end": "period_last"}))
    cal = cal.select("period", period_first=cal.period_first.cast("date"), period_last=cal.period_last.cast("date"))
    joined = spans.cross_join(cal)
    active = joined.filter((joined.signup <= joined.period_first) & (joined.last >= joined.period_first))
    observed_day = ibis.literal(observed, "date")
    counts = active.group_by([*by, "period"]).aggregate(
        active_at_start=active.count(),
        retained=(active.last >= active.period_last).cast("int64").sum(),
        stopped=((active.last <= active.period_last) & (active.last < observed_day)).cast("int64").sum(),
    )
    frame = counts.execute().sort_values([*by, "period"], kind="stable").reset_index(drop=True)
    frame = frame.astype({"active_at_start": "int64", "retained": "int64", "stopped": "int64", "period": "int64"})
    calendar_by_index = periods.set_index("index")
    frame["index"] = frame.pop("period")
    frame["start"] = frame["index"].map(lambda i: calendar_by_index.at[i, "start"].date())
    frame["complete"] = frame["index"].map(lambda i: calendar_by_index.at[i, "end"].date() <= observed).astype(bool)
    return frame


def _empty(by: list[str]) -> pd.DataFrame:
    columns = [*by, "index", "active_at_start", "retained", "stopped", "start", "complete"]
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
