"""Calendar periods and the treatment calendar of an initiative: when each market's launch starts treating a period.

Periods are calendar weeks (Monday to Sunday, as DuckDB's and Spark's ``date_trunc('week')`` make them), months or
quarters, in UTC, each named by its first day (``period_start``, a naive ``datetime64`` at midnight).

The rule for a launch (the initiative is live from midnight UTC of its ``launch_date``, and a session is treated when
it *starts* on or after it):

* ``first_treated`` is the first period every session of which starts on or after the launch: the period containing
  the launch when that period starts exactly on the launch day, else the next one;
* a launch inside a period (after its first day) makes that period **partly treated**: sessions before and after the
  launch mix in it, so it is neither treated nor untreated; it carries ``partly_treated`` (and ``treated`` False) so
  an estimator can drop or flag it;
* with ``first_treated="containing"`` the period **containing** the launch is the first treated period instead (and
  ``treated``, still flagged ``partly_treated``): the post-initiative readout's rule, which keeps a market's base
  period ``g − 1`` fully untreated and leaves the partly treated period ``g`` out of its aggregations;
* a market with an empty ``launch_date`` is never treated: ``first_treated`` NaT and ``first_treated_period`` 0 (the
  convention of R's ``did``), as is a market whose first treated period falls after the last period of the panel.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis.expr.types as ir
import pandas as pd

from analysis.errors import DataError, ParameterError, one_of

# period name -> (Ibis truncation unit, pandas Period frequency whose start_time is the period's first day)
PERIODS: dict[str, tuple[str, str]] = {"week": ("W", "W-SUN"), "month": ("M", "M"), "quarter": ("Q", "Q")}

FIRST_TREATED = ("first_full", "containing")
CALENDAR_COLUMNS = [
    "market",
    "period_start",
    "time",
    "launch_date",
    "first_treated",
    "first_treated_period",
    "partly_treated",
    "treated",
]


def check_period(period: str) -> str:
    """``period`` when it is one of :data:`PERIODS`; otherwise a :class:`ParameterError` naming the valid ones."""
    if period not in PERIODS:
        raise ParameterError(
            f"period {period!r} is not {one_of(PERIODS)}", parameter="period", value=period, valid=list(PERIODS)
        )
    return period


def period_start_of(moments: pd.Series | pd.DatetimeIndex, period: str) -> pd.Series:
    """The first day (naive midnight) of the ``period`` containing each moment (NaT stays NaT)."""
    frequency = PERIODS[check_period(period)][1]
    values = pd.Series(pd.to_datetime(moments))
    if values.dt.tz is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.dt.to_period(frequency).dt.start_time.astype("datetime64[us]")


def next_period_start(starts: pd.Series, period: str) -> pd.Series:
    """The first day of the period after the one starting on each of ``starts``."""
    frequency = PERIODS[check_period(period)][1]
    return (pd.Series(starts).dt.to_period(frequency) + 1).dt.start_time.astype("datetime64[us]")


def treatment_calendar(
    initiatives: pd.DataFrame | ir.Table,
    periods: Iterable,
    *,
    initiative_id: str | None = None,
    period: str = "week",
    first_treated: str = "first_full",
) -> pd.DataFrame:
    """Per market and period of a panel: the initiative's launch, its first treated period and the period's flags.

    Pure pandas on the small ``initiatives`` table (an Ibis table is executed first). The rule is in the module
    docstring: ``first_treated`` is the first period starting on or after the launch day; a launch after a period's
    first day makes that period ``partly_treated``.

    Parameters
    ----------
    initiatives
        The ``initiatives`` contract table (one row per initiative and market).
    periods
        The panel's periods: the first days of ``period`` periods (anything :func:`pandas.to_datetime` reads;
        duplicates are dropped). Each must be the first day of its period (a Monday for weeks).
    initiative_id
        Which initiative; None takes the only one in the table.
    period
        ``"week"`` (Monday to Sunday), ``"month"`` or ``"quarter"``.
    first_treated
        ``"first_full"``: the first period every session of which is treated; ``"containing"``: the period
        containing the launch (a partly treated one when the launch falls after its first day).

    Returns
    -------
    pandas.DataFrame
        One row per market of the initiative × period, sorted by market and period. Columns:

        market
            Market code.
        period_start
            First day of the period (naive ``datetime64`` at midnight UTC).
        time
            Position of the period in the sorted ``periods``, 1 for the first (the estimators' time index).
        launch_date
            Day the initiative went live in the market (NaT: never).
        first_treated
            First day of the market's first treated period (NaT: never treated): fully treated, or with
            ``first_treated="containing"`` the period containing the launch.
        first_treated_period
            ``time`` of ``first_treated``; 0 when never treated or first treated after the last period; 1 when
            already treated in the first period (no untreated period: no estimator can use the market as a cohort).
        partly_treated
            True in the period whose days straddle the launch (launched after its first day).
        treated
            True in periods starting on or after ``first_treated`` (so False in the partly treated period unless
            ``first_treated="containing"``).

    Raises
    ------
    ParameterError
        for an unknown ``period``, ``first_treated`` rule or ``initiative_id``, or a period that does not start a
        ``period``.
    DataError
        when the table has no initiative, or several and ``initiative_id`` is None.
    """
    check_period(period)
    if first_treated not in FIRST_TREATED:
        raise ParameterError(
            f"first_treated {first_treated!r} is not {one_of(FIRST_TREATED)}",
            parameter="first_treated",
            value=first_treated,
            valid=list(FIRST_TREATED),
        )
    table = initiatives.execute() if isinstance(initiatives, ir.Table) else initiatives
    rows = initiative_rows(table, initiative_id)
    starts = _checked_periods(periods, period)
    launches = pd.DataFrame(
        {
            "market": rows["market"].astype(str).to_numpy(),
            "launch_date": pd.to_datetime(rows["launch_date"]).dt.normalize().astype("datetime64[us]").to_numpy(),
        }
    )
    launch_period = period_start_of(launches["launch_date"], period)
    on_first_day = launch_period == launches["launch_date"]
    containing = first_treated == "containing"
    launches["first_treated"] = launch_period.where(on_first_day | containing, next_period_start(launch_period, period))
    launches["partly_started"] = launch_period.where(~on_first_day)
    time = pd.DataFrame({"period_start": starts, "time": range(1, len(starts) + 1)})
    calendar = launches.merge(time, how="cross")
    calendar["partly_treated"] = (calendar["period_start"] == calendar["partly_started"]).astype(bool)
    calendar["treated"] = (calendar["period_start"] >= calendar["first_treated"]).astype(bool)
    calendar["first_treated_period"] = _first_treated_period(calendar["first_treated"], starts)
    calendar = calendar.sort_values(["market", "period_start"], ignore_index=True)
    return calendar[CALENDAR_COLUMNS].astype({"time": "int64", "first_treated_period": "int64"})


def initiative_rows(table: pd.DataFrame, initiative_id: str | None) -> pd.DataFrame:
    """The rows (one per market) of ``initiative_id`` in the ``initiatives`` table; None: its only initiative.

    Raises
    ------
    DataError
        When ``initiative_id`` is None and the table holds no initiative or several.
    ParameterError
        When ``initiative_id`` is not in the table.
    """
    known = sorted(table["initiative_id"].dropna().astype(str).unique())
    if initiative_id is None:
        if len(known) != 1:
            raise DataError(
                f"the initiatives table holds {len(known)} initiatives; say which one with initiative_id",
                parameter="initiative_id",
                valid=known,
            )
        initiative_id = known[0]
    if initiative_id not in known:
        raise ParameterError(
            f"initiative_id {initiative_id!r} is not in the initiatives table; valid: {one_of(known)}",
            parameter="initiative_id",
            value=initiative_id,
            valid=known,
        )
    return table[table["initiative_id"].astype(str) == initiative_id]


def _checked_periods(periods: Iterable, period: str) -> pd.Series:
    starts = pd.Series(pd.to_datetime(pd.Series(list(periods)).dropna().unique()))
    if starts.dt.tz is not None:
        starts = starts.dt.tz_convert("UTC").dt.tz_localize(None)
    starts = starts.sort_values(ignore_index=True).astype("datetime64[us]")
    wrong = starts[period_start_of(starts, period) != starts]
    if not wrong.empty:
        raise ParameterError(
            f"periods {[f'{day:%Y-%m-%d}' for day in wrong[:5]]} do not start a {period}"
            + (" (weeks start on Monday)" if period == "week" else ""),
            parameter="periods",
            value=list(wrong[:5]),
            valid=f"first days of {period}s",
        )
    return starts


def _first_treated_period(first_treated: pd.Series, starts: pd.Series) -> pd.Series:
    """``time`` of the first treated period; 0 when never (or after the panel), 1 when treated from the start."""
    position = starts.searchsorted(first_treated.to_numpy(), side="left") + 1
    inside = first_treated.notna() & (first_treated <= starts.iloc[-1] if len(starts) else False)
    return pd.Series(position, index=first_treated.index).where(inside, 0).astype("int64")
