"""The client's own KPIs recomputed from its tables, on the benchmark panel's definitions, and checked against its rows.

The definitions are those of the demo's benchmark rows (``data/README.md`` § Benchmarks,
:mod:`analysis.sources.demo.panels`), so a client's recomputed KPI and its row in the ``benchmarks`` table measure
the same thing:

* ``conversion_rate``: sessions with a ``purchase`` event / sessions (a session = user_id + session_id);
* ``cart_abandonment_rate``: sessions with ``add_to_cart`` and no ``purchase`` / sessions with ``add_to_cart``;
* ``repeat_customer_rate``: a quarter's buyers with two or more orders in that quarter / that quarter's buyers,
  pooled over the quarters of the scope (buyer-quarters);
* ``csat``: the MEAN CSAT answer, a score 1-5 (``csat_top_two_box``, the share of answers of 4 or 5, beside it);
* ``nps``: % promoters (9-10) − % detractors (0-6) of the NPS answers, a score −100..100;
* ``seller_retention_rate``: sellers selling on the first day of a quarter who still sell after its last day, pooled
  over the quarters of the scope (seller-quarters). A seller sells from ``signup_date`` to ``last_active_date``; the
  latest ``last_active_date`` in the table is taken as the snapshot day (sellers still active then count as
  retained through a quarter ending on it).

Quarters are calendar quarters clipped to the scope: give whole quarters to match quarterly benchmark rows.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.stats import CONFIDENCE, normal_quantile, wilson_interval
from analysis.scope import Scope

# KPI -> (unit, direction), as the benchmarks table writes them
CLIENT_KPIS: dict[str, tuple[str, str]] = {
    "conversion_rate": ("fraction", "higher"),
    "cart_abandonment_rate": ("fraction", "lower"),
    "repeat_customer_rate": ("fraction", "higher"),
    "csat": ("score 1-5", "higher"),
    "csat_top_two_box": ("fraction", "higher"),
    "nps": ("score -100..100", "higher"),
    "seller_retention_rate": ("fraction", "higher"),
}
COLUMNS = ["kpi", "value", "value_ci_low", "value_ci_high", "unit", "direction", "numerator", "denominator"]
CHECK_COLUMNS = ["kpi", "own_value", "own_value_ci_low", "own_value_ci_high", "benchmark_value", "agrees"]


def client_kpis(tables: dict[str, ir.Table], scope: Scope) -> pd.DataFrame:
    """The client's KPIs in ``scope``, each with a 95% interval, from its own contract tables.

    Parameters
    ----------
    tables
        Contract tables as returned by :func:`analysis.sources.load_tables`. KPIs whose table is absent are left
        out (events: conversion and abandonment; orders: repeat rate; surveys: CSAT and NPS; sellers: retention).
    scope
        The market (or ``ALL``) and inclusive date range.

    Returns
    -------
    pandas.DataFrame
        One row per KPI, in the order of :data:`CLIENT_KPIS` (definitions in the module docstring):

        kpi
            KPI name as in the benchmarks table.
        value
            The KPI in ``unit``; NaN when the denominator is 0.
        value_ci_low, value_ci_high
            95% interval. Rates: Wilson, treating sessions, buyer-quarters, answers and seller-quarters as
            independent trials. CSAT mean: normal interval, mean ± z·s/√n. NPS: normal interval with the multinomial
            variance ``(p + d − (p − d)²) / n`` of promoter share p minus detractor share d (×100), clipped to
            −100..100.
        unit, direction
            As in the benchmarks table (``fraction``, ``score 1-5``, ``score -100..100``; ``higher``/``lower``).
        numerator, denominator
            The counts behind the value: successes and trials for a rate; sum of answers and answers for CSAT;
            promoters − detractors and answers for NPS.
    """
    rows: list[tuple] = []
    if "events" in tables:
        rows += _session_rates(scope.apply(tables["events"], "events"))
    if "orders" in tables:
        rows += _repeat_rate(scope.apply(tables["orders"], "orders"))
    if "surveys" in tables:
        rows += _survey_scores(scope.apply(tables["surveys"], "surveys"))
    if "sellers" in tables:
        rows += _seller_retention(tables["sellers"], scope)
    frame = pd.DataFrame(rows, columns=["kpi", "value", "value_ci_low", "value_ci_high", "numerator", "denominator"])
    frame["unit"] = frame["kpi"].map(lambda kpi: CLIENT_KPIS[kpi][0])
    frame["direction"] = frame["kpi"].map(lambda kpi: CLIENT_KPIS[kpi][1])
    order = {kpi: position for position, kpi in enumerate(CLIENT_KPIS)}
    frame = frame.sort_values("kpi", key=lambda kpis: kpis.map(order)).reset_index(drop=True)
    return frame[COLUMNS].astype({"numerator": float, "denominator": "int64", "value": float})


def consistency_check(own: pd.DataFrame, benchmark_rows: pd.DataFrame) -> pd.DataFrame:
    """Whether the benchmark table's value for each KPI lies inside the interval of the client's own data.

    Parameters
    ----------
    own
        :func:`client_kpis`.
    benchmark_rows
        The client's rows of the ``benchmarks`` table for the same market and period: ``kpi``, ``value`` (and
        ``unit``, checked against ``own`` when present), at most one row per KPI.

    Returns
    -------
    pandas.DataFrame
        One row per KPI present in both, in ``own``'s order: ``kpi``; ``own_value``, ``own_value_ci_low``,
        ``own_value_ci_high`` (from ``own``); ``benchmark_value``; ``agrees`` (bool: the benchmark value lies inside
        the own interval, ends included; False when the interval is missing).

    Raises
    ------
    ParameterError
        when ``benchmark_rows`` holds several rows for a KPI, or a unit differs from the one recomputed.
    """
    repeated = sorted(benchmark_rows.loc[benchmark_rows["kpi"].duplicated(), "kpi"].unique())
    if repeated:
        raise ParameterError(
            f"benchmark_rows has several rows for {repeated}: give the client's rows of one market and period",
            parameter="benchmark_rows",
            value=repeated,
            valid="at most one row per KPI",
        )
    columns = ["kpi", "value", *(["unit"] if "unit" in benchmark_rows.columns else [])]
    both = own.merge(benchmark_rows[columns], on="kpi", suffixes=("", "_benchmark"))
    if "unit_benchmark" in both.columns:
        clash = both.loc[both["unit"] != both["unit_benchmark"], ["kpi", "unit", "unit_benchmark"]]
        if not clash.empty:
            raise ParameterError(
                f"units differ between the client's data and the benchmark rows: {clash.to_dict('records')}",
                parameter="benchmark_rows",
                value=clash.to_dict("records"),
                valid="the same unit as client_kpis gives",
            )
    result = pd.DataFrame(
        {
            "kpi": both["kpi"],
            "own_value": both["value"],
            "own_value_ci_low": both["value_ci_low"],
            "own_value_ci_high": both["value_ci_high"],
            "benchmark_value": both["value_benchmark"],
        }
    )
    result["agrees"] = (result["benchmark_value"] >= result["own_value_ci_low"]) & (
        result["benchmark_value"] <= result["own_value_ci_high"]
    )
    return result[CHECK_COLUMNS].reset_index(drop=True)


def _rate(kpi: str, sums: dict[str, float]) -> tuple:
    """A rate from per-cluster sums, with a Wilson interval on the clusters' effective sample size.

    ``sums`` holds, over the clusters (users, buyers, sellers) u with x_u successes in n_u trials: ``x`` = Σx_u,
    ``n`` = Σn_u, ``clusters``, ``xx`` = Σx_u², ``nn`` = Σn_u², ``xn`` = Σx_u·n_u. The ratio estimator's variance
    U/(U−1)·Σ(x_u − p·n_u)²/n² over the binomial p(1−p)/n is the design effect (at least 1); Wilson then runs on
    n / design effect trials, so trials of one cluster count as the less than independent draws they are.
    """
    successes, trials, clusters = int(sums["x"]), int(sums["n"]), int(sums.get("clusters", 0))
    if trials == 0:
        return (kpi, np.nan, np.nan, np.nan, successes, trials)
    p = successes / trials
    effect = 1.0
    if clusters > 1 and 0 < p < 1:
        spread = sums["xx"] - 2 * p * sums["xn"] + p**2 * sums["nn"]
        effect = max(1.0, clusters / (clusters - 1) * spread / trials**2 / (p * (1 - p) / trials))
    low, high = wilson_interval(np.array([p * trials / effect]), np.array([trials / effect]))
    return (kpi, p, float(low[0]), float(high[0]), successes, trials)


def _cluster_sums(per_cluster: ir.Table, successes: str, trials: str) -> dict[str, ir.Scalar]:
    x, n = per_cluster[successes].cast("float64"), per_cluster[trials].cast("float64")
    return {
        "x": x.sum(),
        "n": n.sum(),
        "clusters": (n > 0).cast("int64").sum(),
        "xx": (x * x).sum(),
        "nn": (n * n).sum(),
        "xn": (x * n).sum(),
    }


def _fetch(table: ir.Table, **groups: dict[str, ir.Scalar]) -> dict[str, dict[str, float]]:
    metrics = {
        f"{group}__{name}": value.name(f"{group}__{name}")
        for group, sums in groups.items()
        for name, value in sums.items()
    }
    row = table.aggregate(list(metrics.values())).to_pandas().iloc[0]
    return {group: {name: _count(row[f"{group}__{name}"]) for name in sums} for group, sums in groups.items()}


def _session_rates(events: ir.Table) -> list[tuple]:
    sessions = events.group_by(["user_id", "session_id"]).aggregate(
        bought=(events.event_name == "purchase").any().cast("int64"),
        carted=(events.event_name == "add_to_cart").any().cast("int64"),
    )
    per_user = sessions.group_by("user_id").aggregate(
        sessions=sessions.count(),
        bought=sessions.bought.sum(),
        carted=sessions.carted.sum(),
        abandoned=(sessions.carted * (1 - sessions.bought)).sum(),
    )
    sums = _fetch(
        per_user,
        conversion=_cluster_sums(per_user, "bought", "sessions"),
        abandonment=_cluster_sums(per_user, "abandoned", "carted"),
    )
    return [_rate("conversion_rate", sums["conversion"]), _rate("cart_abandonment_rate", sums["abandonment"])]


def _quarter_windows(scope: Scope) -> pd.DataFrame:
    """Calendar quarters overlapping the scope, clipped to it: ``start`` inclusive, ``end`` exclusive (midnight)."""
    first = pd.Period(scope.start, freq="Q")
    last = pd.Period(scope.end, freq="Q")
    windows = []
    for quarter in pd.period_range(first, last, freq="Q"):
        start = max(quarter.start_time.normalize(), pd.Timestamp(scope.start))
        end = min(quarter.end_time.normalize() + pd.Timedelta(days=1), pd.Timestamp(scope.end_exclusive))
        windows.append((str(quarter), start, end))
    return pd.DataFrame(windows, columns=["quarter", "window_start", "window_end"])


def _repeat_rate(orders: ir.Table) -> list[tuple]:
    # Scope.apply already clips orders to the scope; a quarter = calendar year and quarter of the order (UTC).
    quarter = [orders.order_time.year().name("year"), orders.order_time.quarter().name("quarter")]
    per_quarter = orders.group_by([orders.user_id, *quarter]).aggregate(orders=orders.count())
    per_buyer = per_quarter.group_by("user_id").aggregate(
        quarters=per_quarter.count(), repeat=(per_quarter.orders >= 2).cast("int64").sum()
    )
    sums = _fetch(per_buyer, repeat=_cluster_sums(per_buyer, "repeat", "quarters"))
    return [_rate("repeat_customer_rate", sums["repeat"])]


def _survey_scores(surveys: ir.Table) -> list[tuple]:
    csat, nps = surveys.csat, surveys.nps
    counts = surveys.aggregate(
        csat_answers=csat.count(),
        csat_sum=csat.cast("float64").sum(),
        csat_squares=(csat.cast("float64") ** 2).sum(),
        csat_top_two=(csat >= 4).cast("int64").sum(),
        nps_answers=nps.count(),
        promoters=(nps >= 9).cast("int64").sum(),
        detractors=(nps <= 6).cast("int64").sum(),
    ).to_pandas()
    count = {name: _count(counts[name].iloc[0]) for name in counts.columns}
    answers = int(count["csat_answers"])
    top_two = {"x": count["csat_top_two"], "n": answers, "clusters": 0}  # one answer per respondent: independent
    return [
        _mean_score(count["csat_sum"], count["csat_squares"], answers),
        _rate("csat_top_two_box", top_two),
        _net_promoter_score(count["promoters"], count["detractors"], int(count["nps_answers"])),
    ]


def _mean_score(total: float, squares: float, answers: int) -> tuple:
    """Mean CSAT with Student's t interval, kept within 1-5; the whole scale when fewer than two answers."""
    if answers == 0:
        return ("csat", np.nan, np.nan, np.nan, total, answers)
    mean = total / answers
    if answers < 2:
        return ("csat", mean, 1.0, 5.0, total, answers)
    from scipy.special import stdtrit  # Student's t quantile; scipy.special loads in a fraction of a second

    variance = max(squares - answers * mean**2, 0.0) / (answers - 1)
    half = float(stdtrit(answers - 1, 1 - (1 - CONFIDENCE) / 2)) * np.sqrt(variance / answers)
    return ("csat", mean, max(mean - half, 1.0), min(mean + half, 5.0), total, answers)


def _net_promoter_score(promoters: float, detractors: float, answers: int) -> tuple:
    """NPS in points with the adjusted-Wald interval for a difference of two multinomial shares.

    The interval adds 3 pseudo-answers (¾ promoter, ¾ detractor, 1½ passive) before the normal interval with variance
    ``(p + d − (p − d)²) / n`` (Sauro & Lewis's adjustment, as Wilson's for one rate): it keeps a width when every
    answer falls in one class, which a plain normal interval does not. Clipped to −100..100.
    """
    if answers == 0:
        return ("nps", np.nan, np.nan, np.nan, promoters - detractors, answers)
    score = 100 * (promoters - detractors) / answers
    n = answers + 3
    p, d = (promoters + 0.75) / n, (detractors + 0.75) / n
    half = normal_quantile(CONFIDENCE) * np.sqrt((p + d - (p - d) ** 2) / n)
    low, high = max(100 * (p - d - half), -100.0), min(100 * (p - d + half), 100.0)
    return ("nps", score, low, high, promoters - detractors, answers)


def _seller_retention(sellers: ir.Table, scope: Scope) -> list[tuple]:
    snapshot = sellers.last_active_date.max()
    in_market = scope.apply(sellers, "sellers")
    windows = ibis.memtable(_quarter_windows(scope)[["window_start", "window_end"]])
    pairs = in_market.cross_join(windows)
    # A retained seller still sells on the day after the window, or on the snapshot day when the window reaches it.
    retained_on = ibis.least(pairs.window_end, snapshot.as_scalar())
    pairs = pairs.filter((pairs.signup_date <= pairs.window_start) & (pairs.last_active_date >= pairs.window_start))
    pairs = pairs.mutate(retained=(pairs.last_active_date >= retained_on).cast("int64"))
    per_seller = pairs.group_by("seller_id").aggregate(quarters=pairs.count(), retained=pairs.retained.sum())
    sums = _fetch(per_seller, retention=_cluster_sums(per_seller, "retained", "quarters"))
    return [_rate("seller_retention_rate", sums["retention"])]


def _count(value: object) -> float:
    """An aggregate as a float: an empty table's sum (NULL) is 0."""
    return 0.0 if value is None or pd.isna(value) else float(value)
