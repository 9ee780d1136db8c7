"""Aggregations of Callaway & Sant'Anna group-time effects, as R's ``did::aggte`` computes them.

Every aggregate is a weighted average of ATT(g, t) cells. Its influence function is the same weighted average of the
cells' influence functions plus, where the weights are estimated cohort shares ``P(G = g | ...)``, the influence of
estimating those shares (R's ``wif``). Standard errors are ``sqrt(mean(IF²) / n)`` over the ``n`` units, the
analytic (not bootstrap) errors of ``aggte(..., bstrap = FALSE, cband = FALSE)``.

These functions work on arrays that :class:`~analysis.metrics.impact.staggered.StaggeredDiD` keeps privately; call
``StaggeredDiD.aggregate`` rather than these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.stats import normal_quantile

AGGREGATIONS = ("simple", "group", "dynamic", "calendar")

# R sets standard errors at or below this to NA: a cell or aggregate whose influence function is zero (the universal
# base period's normalised cell) has no sampling variance to report.
_ZERO_SE = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True, eq=False)
class CellArrays:
    """The group-time cells an aggregation may use, with everything it needs (private to the impact package).

    Attributes
    ----------
    att
        ATT(g, t) per cell (only estimable cells: no NaN).
    group, time
        The cell's cohort and period labels (original values, for the output frames).
    group_rank, time_rank
        The same on one ordered axis of periods and cohorts (integers), for comparisons.
    group_axis, event_time
        The cohort, and ``t - g``, on the event-time axis (original units for numeric periods, period steps
        otherwise).
    influence
        ``n_units × cells`` influence functions.
    unit_weight
        Sampling weight per unit (``n_units``).
    unit_group_rank
        Each unit's cohort rank (-1 for never treated and for cohorts that are not estimated).
    first_axis, last_axis
        The first and last period on the event-time axis (for ``balance_e``).
    """

    att: np.ndarray
    group: np.ndarray
    time: np.ndarray
    group_rank: np.ndarray
    time_rank: np.ndarray
    group_axis: np.ndarray
    event_time: np.ndarray
    influence: np.ndarray
    unit_weight: np.ndarray
    unit_group_rank: np.ndarray
    first_axis: float
    last_axis: float


@dataclass(frozen=True, eq=False)
class AggregatedEffect:
    """One aggregation of the group-time effects: the overall effect and its parts.

    Attributes
    ----------
    kind
        ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.
    effects
        One row per part (for ``"simple"`` one row), columns:

        - ``group`` / ``event_time`` / ``time``: the part (cohort, periods since first treatment, calendar period);
          absent for ``"simple"``.
        - ``att``: the aggregated average treatment effect on the treated (outcome units).
        - ``se``: its analytic standard error (NaN when it is zero by construction).
        - ``ci_low``, ``ci_high``: the pointwise ``1 - alpha`` normal interval.
    overall_att, overall_se, overall_ci_low, overall_ci_high
        The overall summary as R's ``aggte`` reports it: for ``"simple"`` the cohort-size-weighted average of the
        post-treatment cells, for ``"group"`` the cohort-size-weighted average of the cohort effects, for
        ``"dynamic"`` the mean of the effects at event times ``e >= 0``, for ``"calendar"`` the mean over periods.
    alpha
        The significance level of the intervals.
    """

    kind: str
    effects: pd.DataFrame
    overall_att: float
    overall_se: float
    overall_ci_low: float
    overall_ci_high: float
    alpha: float


def standard_error(influence: np.ndarray) -> float:
    """``sqrt(mean(IF²) / n)``: the analytic standard error of an estimate with per-unit influence ``IF``."""
    n = influence.shape[0]
    se = float(np.sqrt(np.mean(influence**2) / n))
    return np.nan if se <= _ZERO_SE else se


def cohort_shares(cells: CellArrays) -> np.ndarray:
    """``P(G = g)`` per cell: the weighted share of all units in the cell's cohort (R's ``pg``)."""
    shares = {
        rank: float(np.mean(cells.unit_weight * (cells.unit_group_rank == rank)))
        for rank in np.unique(cells.group_rank)
    }
    return np.array([shares[rank] for rank in cells.group_rank])


def weight_influence(keepers: np.ndarray, shares: np.ndarray, group_rank: np.ndarray, cells: CellArrays) -> np.ndarray:
    """The influence of estimating the weights ``shares[k] / sum(shares[keepers])`` (R's ``wif``), units × keepers."""
    chosen = shares[keepers]
    total = chosen.sum()
    membership = cells.unit_weight[:, None] * (cells.unit_group_rank[:, None] == group_rank[keepers][None, :])
    centred = membership - chosen[None, :]
    return centred / total - np.outer(centred.sum(axis=1), chosen / total**2)


def _weighted(
    att: np.ndarray, influence: np.ndarray, keepers: np.ndarray, weights: np.ndarray, wif: np.ndarray | None
) -> tuple[float, np.ndarray]:
    estimate = float(np.sum(att[keepers] * weights))
    combined = influence[:, keepers] @ weights
    if wif is not None:
        combined = combined + wif @ att[keepers]
    return estimate, combined


def _share_weighted(cells: CellArrays, shares: np.ndarray, keepers: np.ndarray) -> tuple[float, np.ndarray]:
    weights = shares[keepers] / shares[keepers].sum()
    wif = weight_influence(keepers, shares, cells.group_rank, cells)
    return _weighted(cells.att, cells.influence, keepers, weights, wif)


def _result(
    kind: str, key: str | None, labels: list, parts: list[tuple[float, np.ndarray]], overall, alpha: float
) -> AggregatedEffect:
    z = normal_quantile(1 - alpha)
    att = np.array([estimate for estimate, _ in parts], dtype=float)
    se = np.array([standard_error(influence) for _, influence in parts], dtype=float)
    frame = pd.DataFrame({"att": att, "se": se, "ci_low": att - z * se, "ci_high": att + z * se})
    if key is not None:
        frame.insert(0, key, labels)
    overall_att, overall_influence = overall
    overall_se = standard_error(overall_influence)
    return AggregatedEffect(
        kind=kind,
        effects=frame,
        overall_att=float(overall_att),
        overall_se=overall_se,
        overall_ci_low=float(overall_att - z * overall_se),
        overall_ci_high=float(overall_att + z * overall_se),
        alpha=alpha,
    )


def _no_cells(kind: str, why: str) -> ParameterError:
    return ParameterError(
        f"no group-time effects to aggregate for kind={kind!r}: {why}", parameter="kind", value=kind, valid=why
    )


def _mean_of(parts: list[tuple[float, np.ndarray]]) -> tuple[float, np.ndarray]:
    return (
        float(np.mean([estimate for estimate, _ in parts])),
        np.mean(np.column_stack([influence for _, influence in parts]), axis=1),
    )


def aggregate_cells(
    cells: CellArrays,
    kind: str,
    *,
    alpha: float,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: float | None = None,
) -> AggregatedEffect:
    """Aggregate the group-time cells as ``did::aggte(type=kind)`` does (see ``StaggeredDiD.aggregate``)."""
    if kind not in AGGREGATIONS:
        raise ParameterError(
            f"kind={kind!r} is not an aggregation; use {one_of(AGGREGATIONS)}",
            parameter="kind",
            value=kind,
            valid=AGGREGATIONS,
        )
    if kind != "dynamic" and (min_e is not None or max_e is not None or balance_e is not None):
        raise ParameterError(
            f"min_e, max_e and balance_e apply to kind='dynamic' only, not {kind!r}",
            parameter="balance_e" if balance_e is not None else ("min_e" if min_e is not None else "max_e"),
            value=kind,
            valid="kind='dynamic'",
        )
    post = cells.group_rank <= cells.time_rank
    if not post.any():
        raise _no_cells(kind, "every estimable cell is before its cohort's first treatment")
    shares = cohort_shares(cells)

    if kind == "simple":
        keepers = np.flatnonzero(post)
        part = _share_weighted(cells, shares, keepers)
        return _result(kind, None, [], [part], part, alpha)

    if kind == "group":
        ranks = np.unique(cells.group_rank[post])
        labels, parts, group_shares = [], [], []
        for rank in ranks:
            keepers = np.flatnonzero(post & (cells.group_rank == rank))
            weights = np.full(len(keepers), 1 / len(keepers))
            parts.append(_weighted(cells.att, cells.influence, keepers, weights, None))
            labels.append(cells.group[keepers[0]])
            group_shares.append(shares[keepers[0]])
        group_shares = np.array(group_shares)
        group_att = np.array([estimate for estimate, _ in parts])
        group_influence = np.column_stack([influence for _, influence in parts])
        everyone = np.arange(len(ranks))
        weights = group_shares / group_shares.sum()
        wif = weight_influence(everyone, group_shares, ranks, cells)
        overall = _weighted(group_att, group_influence, everyone, weights, wif)
        return _result(kind, "group", labels, parts, overall, alpha)

    if kind == "dynamic":
        included = np.ones(len(cells.att), dtype=bool)
        event_times = np.unique(cells.event_time)
        if balance_e is not None:
            included = (cells.last_axis - cells.group_axis) >= balance_e
            event_times = np.unique(cells.event_time[included])
            event_times = event_times[
                (event_times <= balance_e) & (event_times >= balance_e - (cells.last_axis - cells.first_axis))
            ]
        low = -np.inf if min_e is None else min_e
        high = np.inf if max_e is None else max_e
        event_times = event_times[(event_times >= low) & (event_times <= high)]
        if len(event_times) == 0:
            raise _no_cells(kind, "no event time falls within min_e, max_e and balance_e")
        parts = [
            _share_weighted(cells, shares, np.flatnonzero(included & (cells.event_time == e))) for e in event_times
        ]
        after = [part for e, part in zip(event_times, parts, strict=True) if e >= 0]
        if not after:
            raise _no_cells(kind, "no event time at or after first treatment falls within the window")
        return _result(kind, "event_time", list(event_times), parts, _mean_of(after), alpha)

    first_cohort = cells.group_rank.min()
    periods = np.unique(cells.time_rank[post & (cells.time_rank >= first_cohort)])
    labels, parts = [], []
    for rank in periods:
        keepers = np.flatnonzero(post & (cells.time_rank == rank))
        parts.append(_share_weighted(cells, shares, keepers))
        labels.append(cells.time[keepers[0]])
    return _result(kind, "time", labels, parts, _mean_of(parts), alpha)
