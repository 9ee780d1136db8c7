"""KPI panels in the engine: market (or any grouping) × calendar period, with the counts behind every rate.

The session and survey panels are Ibis expressions aggregated in the engine (DuckDB and Spark alike); only their
small results become pandas frames. :func:`kpi_panel` joins them with the initiative's treatment calendar
(:mod:`~analysis.metrics.impact.calendar`) into the market × period panel the difference-in-differences estimators
take (unit = market, time = period).

Definitions (those of the benchmarks table, :mod:`analysis.metrics.benchmark.client_kpis`):

* a **session** is a (``user_id``, ``session_id``) pair; it belongs to the period containing its **start** (its first
  event), wherever its later events fall, and to the group of its events' ``by`` values (their smallest non-null
  value, should a session's events disagree, which the contract's data never do);
* ``conversion_rate`` = sessions with a ``purchase`` event / sessions;
* ``cart_abandonment_rate`` = sessions with ``add_to_cart`` and no ``purchase`` / sessions with ``add_to_cart``;
* ``csat_top2`` = CSAT answers of 4 or 5 / CSAT answers (empty answers are not answers);
* ``nps`` = 100 × (promoters (9-10) − detractors (0-6)) / NPS answers, a score −100..100 as the benchmarks table's
  ``nps`` KPI (unit ``score -100..100``).

Periods are calendar weeks starting on **Monday**, months or quarters in UTC, named by their first day
(``period_start``, a naive ``datetime64`` at midnight); the connection's time zone must be UTC (the workbook's
DuckDB connection and Spark sessions run in UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.calendar import PERIODS, check_period, period_start_of, treatment_calendar

ARM = "variant"
SESSION_KEY = ("user_id", "session_id")
SESSION_COUNTS = ["sessions", "purchasing_sessions", "cart_sessions", "abandoned_carts"]
SESSION_RATES = ["conversion_rate", "cart_abandonment_rate"]
SURVEY_COUNTS = ["responses_csat", "satisfied", "responses_nps", "promoters", "detractors"]
SURVEY_RATES = ["csat_top2", "nps"]


def session_panel(
    events: ir.Table,
    *,
    period: str = "week",
    by: Sequence[str] = ("market",),
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Sessions, purchases and carts per ``by`` group and period, from one pass over the events.

    Parameters
    ----------
    events
        The ``events`` contract table (Ibis, any backend).
    period
        ``"week"`` (Monday to Sunday), ``"month"`` or ``"quarter"``.
    by
        Event columns grouping the sessions, e.g. ``("market",)`` or ``("market", "variant")``. With ``variant``
        (GB's A/B arm), sessions outside the test (variant empty or NULL) form their own group, ``variant`` None.
    start, end
        First and last day (inclusive, UTC) on which counted sessions *start*; None: no bound. A session starting
        inside keeps its events after ``end``.

    Returns
    -------
    pandas.DataFrame
        One row per group × period with at least one session, sorted by ``by`` then period. Columns:

        <by columns>
            The group (``variant`` None outside the test).
        period_start
            First day of the period containing the sessions' starts (naive ``datetime64``).
        sessions
            Sessions starting in the period.
        purchasing_sessions
            Of those, sessions with a ``purchase`` event.
        cart_sessions
            Sessions with an ``add_to_cart`` event.
        abandoned_carts
            Cart sessions without a ``purchase`` event.
        conversion_rate
            ``purchasing_sessions / sessions`` (fraction).
        cart_abandonment_rate
            ``abandoned_carts / cart_sessions`` (fraction; NaN without cart sessions).

    Raises
    ------
    ParameterError
        for an unknown ``period``, a ``by`` column the events lack, or ``end`` before ``start``.
    """
    by = _checked_by(events, by, "events")
    frame = _executed(session_counts(events, period=period, by=by, start=start, end=end), by, SESSION_COUNTS)
    frame["conversion_rate"] = _ratio(frame["purchasing_sessions"], frame["sessions"])
    frame["cart_abandonment_rate"] = _ratio(frame["abandoned_carts"], frame["cart_sessions"])
    return frame


def session_counts(
    events: ir.Table,
    *,
    period: str = "week",
    by: Sequence[str] = ("market",),
    start: date | None = None,
    end: date | None = None,
) -> ir.Table:
    """The Ibis expression behind :func:`session_panel`: its count columns, not yet executed (no rates)."""
    unit = PERIODS[check_period(period)][0]
    by = _checked_by(events, by, "events")
    _check_range(start, end)
    is_purchase, is_cart = events.event_name == "purchase", events.event_name == "add_to_cart"
    groups = {column: _group_value(events, column).min() for column in by}
    sessions = events.group_by(list(SESSION_KEY)).aggregate(
        started=events.event_time.min(), purchased=is_purchase.any(), carted=is_cart.any(), **groups
    )
    sessions = _within(sessions, sessions.started, start, end)
    purchased, carted = sessions.purchased.cast("int64"), sessions.carted.cast("int64")
    # Sessions are counted by start day first, then the few group × day rows by period: truncating each session's
    # zoned start to its week or month costs twice as much as taking its date (DuckDB converts through its calendar).
    daily = sessions.group_by([*by, sessions.started.date().name("day")]).aggregate(
        sessions=sessions.count(),
        purchasing_sessions=purchased.sum(),
        cart_sessions=carted.sum(),
        abandoned_carts=(carted * (1 - purchased)).sum(),
    )
    return daily.group_by([*by, daily.day.truncate(unit).name("period_start")]).aggregate(
        **{column: daily[column].sum() for column in SESSION_COUNTS}
    )


def survey_panel(
    surveys: ir.Table,
    *,
    period: str = "week",
    by: Sequence[str] = ("market",),
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """CSAT top-two box and NPS per ``by`` group and period of the survey date, with their counts.

    Surveys carry no ``variant``: GB's A/B arms are not known in them, so a survey panel of GB mixes both arms (half
    the planted CSAT lift at market level after GB's launch).

    Parameters
    ----------
    surveys
        The ``surveys`` contract table (Ibis, any backend).
    period
        ``"week"`` (Monday to Sunday), ``"month"`` or ``"quarter"``.
    by
        Survey columns grouping the answers (``variant`` is not one of them).
    start, end
        First and last survey day (inclusive); None: no bound.

    Returns
    -------
    pandas.DataFrame
        One row per group × period with at least one response, sorted by ``by`` then period. Columns:

        <by columns>
            The group.
        period_start
            First day of the period containing the survey date (naive ``datetime64``).
        responses_csat
            Non-empty CSAT answers.
        satisfied
            CSAT answers of 4 or 5.
        csat_top2
            ``satisfied / responses_csat`` (fraction; NaN without answers).
        responses_nps
            Non-empty NPS answers.
        promoters
            NPS answers of 9 or 10.
        detractors
            NPS answers of 0 to 6.
        nps
            ``100 × (promoters − detractors) / responses_nps``, a score −100..100 (NaN without answers).

    Raises
    ------
    ParameterError
        for an unknown ``period``, a ``by`` column the surveys lack, or ``end`` before ``start``.
    """
    by = _checked_by(surveys, by, "surveys")
    frame = _executed(survey_counts(surveys, period=period, by=by, start=start, end=end), by, SURVEY_COUNTS)
    frame["csat_top2"] = _ratio(frame["satisfied"], frame["responses_csat"])
    frame["nps"] = 100 * _ratio(frame["promoters"] - frame["detractors"], frame["responses_nps"])
    columns = [*by, "period_start", "responses_csat", "satisfied", "csat_top2"]
    return frame[[*columns, "responses_nps", "promoters", "detractors", "nps"]]


def survey_counts(
    surveys: ir.Table,
    *,
    period: str = "week",
    by: Sequence[str] = ("market",),
    start: date | None = None,
    end: date | None = None,
) -> ir.Table:
    """The Ibis expression behind :func:`survey_panel`: its count columns, not yet executed (no rates)."""
    unit = PERIODS[check_period(period)][0]
    by = _checked_by(surveys, by, "surveys")
    _check_range(start, end)
    surveys = _within(surveys, surveys.survey_date, start, end)
    csat, nps = surveys.csat, surveys.nps
    return surveys.group_by([*by, surveys.survey_date.truncate(unit).name("period_start")]).aggregate(
        responses_csat=csat.count(),
        satisfied=csat.count(where=csat >= 4),
        responses_nps=nps.count(),
        promoters=nps.count(where=nps >= 9),
        detractors=nps.count(where=nps <= 6),
    )


def kpi_panel(
    tables: dict[str, ir.Table],
    *,
    period: str = "week",
    start: date | None = None,
    end: date | None = None,
    initiative_id: str | None = None,
    arms: bool = False,
) -> pd.DataFrame:
    """The market × period panel of session and survey KPIs with the initiative's treatment calendar.

    One read of the events (:func:`session_panel`) and one of the surveys (:func:`survey_panel`), joined on market
    and period, completed to a balanced panel (every market × every period from the first to the last, or from
    ``start`` to ``end``), and joined with :func:`~analysis.metrics.impact.calendar.treatment_calendar`. Markets
    with events but no row of the initiative are never treated. The unit is the market: in GB, where the initiative
    is an A/B test, a market-level row mixes both arms (use :func:`session_panel` by ``variant`` there).

    Parameters
    ----------
    tables
        Contract tables as returned by :func:`analysis.sources.load_tables`: ``events`` and ``initiatives``
        required; without ``surveys`` the survey columns are left out.
    period
        ``"week"`` (Monday to Sunday), ``"month"`` or ``"quarter"``.
    start, end
        First and last day (inclusive, UTC) of session starts and survey dates; None: no bound.
    initiative_id
        Which initiative; None takes the only one in the ``initiatives`` table.
    arms
        Also count the sessions carrying an A/B arm (``armed_sessions``) in the same pass over the events (grouped
        by market and ``variant``, then summed over the arms), so a caller learns where an experiment ran without
        reading the events again.

    Returns
    -------
    pandas.DataFrame
        One row per market × period, sorted by market and period. Columns:

        market, period_start
            The unit and the period's first day (naive ``datetime64``).
        time
            Position of the period, 1 for the first (the estimators' time index).
        sessions, purchasing_sessions, cart_sessions, abandoned_carts, conversion_rate, cart_abandonment_rate
            As :func:`session_panel` (counts 0 and rates NaN in a period without sessions).
        armed_sessions
            Only with ``arms``: of the sessions, those in an A/B arm (``variant`` filled; 0 without a ``variant``
            column).
        responses_csat, satisfied, csat_top2, responses_nps, promoters, detractors, nps
            As :func:`survey_panel` (only with a ``surveys`` table; counts 0 and rates NaN without answers).
        launch_date, first_treated, first_treated_period, partly_treated, treated
            As :func:`~analysis.metrics.impact.calendar.treatment_calendar` (never treated: NaT, 0, False, False).

    Raises
    ------
    DataError
        when ``events`` or ``initiatives`` is missing, or the initiative is ambiguous.
    ParameterError
        for an unknown ``period`` or ``initiative_id``, or ``end`` before ``start``.
    """
    check_period(period)
    missing = [name for name in ("events", "initiatives") if name not in tables]
    if missing:
        raise DataError(
            f"the KPI panel needs the {' and '.join(missing)} table(s)", value=missing, valid=["events", "initiatives"]
        )
    options = {"period": period, "by": ("market",), "start": start, "end": end}
    panel = _market_sessions(tables["events"], arms=arms, **options)
    counts, rates = list(SESSION_COUNTS) + (["armed_sessions"] if arms else []), list(SESSION_RATES)
    if "surveys" in tables:
        panel = panel.merge(survey_panel(tables["surveys"], **options), on=["market", "period_start"], how="outer")
        counts, rates = counts + SURVEY_COUNTS, rates + SURVEY_RATES
    periods = _period_range(panel["period_start"], period, start, end)
    grid = pd.MultiIndex.from_product([sorted(panel["market"].unique()), periods], names=["market", "period_start"])
    panel = panel.set_index(["market", "period_start"]).reindex(grid).reset_index()
    panel[counts] = panel[counts].fillna(0).astype("int64")
    calendar = treatment_calendar(tables["initiatives"], periods, initiative_id=initiative_id, period=period)
    panel = panel.merge(calendar, on=["market", "period_start"], how="left")
    panel["time"] = panel["period_start"].map(dict(zip(periods, range(1, len(periods) + 1), strict=True)))
    never = panel["first_treated_period"].isna()
    panel.loc[never, ["partly_treated", "treated"]] = False
    panel["first_treated_period"] = panel["first_treated_period"].fillna(0)
    panel = panel.astype({"time": "int64", "first_treated_period": "int64", "partly_treated": bool, "treated": bool})
    order = ["market", "period_start", "time", *_interleaved(counts, rates)]
    order += ["launch_date", "first_treated", "first_treated_period", "partly_treated", "treated"]
    return panel[order].sort_values(["market", "period_start"], ignore_index=True)


def _market_sessions(events: ir.Table, *, arms: bool, **options) -> pd.DataFrame:
    """:func:`session_panel` by market; with ``arms`` from one pass by market and arm, summed over the arms."""
    if not arms:
        return session_panel(events, **options)
    if ARM not in events.columns:
        return session_panel(events, **options).assign(armed_sessions=0)
    by_arm = session_panel(events, **(options | {"by": ("market", ARM)}))
    by_arm["armed_sessions"] = by_arm["sessions"].where(by_arm[ARM].notna(), 0)
    panel = by_arm.groupby(["market", "period_start"], as_index=False)[[*SESSION_COUNTS, "armed_sessions"]].sum()
    panel["conversion_rate"] = _ratio(panel["purchasing_sessions"], panel["sessions"])
    panel["cart_abandonment_rate"] = _ratio(panel["abandoned_carts"], panel["cart_sessions"])
    return panel


def _interleaved(counts: list[str], rates: list[str]) -> list[str]:
    """Session columns then survey columns, each rate after its counts, as the two panels order them."""
    session = [*SESSION_COUNTS, "armed_sessions", *SESSION_RATES]
    survey = ["responses_csat", "satisfied", "csat_top2", "responses_nps", "promoters", "detractors", "nps"]
    return [column for column in session + survey if column in counts or column in rates]


def _period_range(starts: pd.Series, period: str, start: date | None, end: date | None) -> list[pd.Timestamp]:
    first = period_start_of(pd.Series([pd.Timestamp(start) if start else starts.min()]), period).iloc[0]
    last = period_start_of(pd.Series([pd.Timestamp(end) if end else starts.max()]), period).iloc[0]
    if pd.isna(first) or pd.isna(last):
        return []
    frequency = PERIODS[period][1]
    return list(pd.period_range(first, last, freq=frequency).start_time.astype("datetime64[us]"))


def _checked_by(table: ir.Table, by: Sequence[str], name: str) -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    unknown = [column for column in by if column not in table.columns or column in (*SESSION_KEY, "period_start")]
    if unknown:
        valid = [column for column in table.columns if column not in SESSION_KEY]
        raise ParameterError(
            f"by {unknown} are not columns of the {name} table to group by; valid: {valid}",
            parameter="by",
            value=unknown,
            valid=valid,
        )
    return by


def _group_value(events: ir.Table, column: str) -> ir.Column:
    """An event's group value; an empty ``variant`` (outside the test) is NULL, so both form one group."""
    value = events[column]
    return value.nullif("") if column == ARM else value


def _check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ParameterError(
            f"end {end} is before start {start}", parameter="end", value=str(end), valid=f"a day on or after {start}"
        )


def _within(table: ir.Table, moment: ir.Column, start: date | None, end: date | None) -> ir.Table:
    """Rows whose ``moment`` falls on the days ``start`` to ``end`` (inclusive, UTC)."""
    if start is not None:
        table = table.filter(moment >= _bound(moment, start))
    if end is not None:
        table = table.filter(moment < _bound(moment, end + timedelta(days=1)))
    return table


def _bound(moment: ir.Column, day: date) -> object:
    """Midnight UTC of ``day`` as a literal comparable with ``moment`` (a date, or a naive or tz-aware timestamp)."""
    if moment.type().is_date():
        return ibis.literal(day if not isinstance(day, datetime) else day.date(), "date")
    midnight = datetime.combine(day, datetime.min.time())
    if moment.type().timezone:
        return pd.Timestamp(midnight, tz="UTC")
    return midnight


def _executed(counts: ir.Table, by: list[str], columns: list[str]) -> pd.DataFrame:
    frame = counts.to_pandas()
    start = pd.to_datetime(frame["period_start"])
    if start.dt.tz is not None:
        start = start.dt.tz_convert("UTC").dt.tz_localize(None)
    frame["period_start"] = start.dt.normalize().astype("datetime64[us]")
    for column in by:  # a NULL group reads back as None on every engine; text groups stay text
        values = frame[column].astype(object)
        has_null = values.isna().any()
        frame[column] = values.where(values.notna(), None) if has_null else values.astype("str")
    frame = frame.astype(dict.fromkeys(columns, "int64"))
    return frame[[*by, "period_start", *columns]].sort_values([*by, "period_start"], ignore_index=True)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator.astype("float64") / denominator.where(denominator > 0, np.nan).astype("float64")
