"""The customer-journey analysis of one scope: funnels, cart abandonment and group tests per breakdown.

It composes :mod:`analysis.metrics.funnel` so the engine runs each funnel once, broken down by every breakdown
column together; each single breakdown is then a sum over the others. This is exact because a unit's breakdown
values are those of its first step-1 event (first touch), so every unit sits in exactly one combination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import ibis.expr.types as ir
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from analysis.metrics.funnel.counts import (
    cart_abandonment,
    compare_funnel_groups,
    conversion_window,
    funnel,
    funnel_from_depth_counts,
    group_vs_rest,
    weekly_conversion,
)
from analysis.metrics.funnel.timing import TimeToConvert, time_to_convert


@dataclass
class JourneyAnalysis:
    """Everything the funnel notebook shows; each frame is documented where it is made.

    ``overall``: :func:`funnel` without breakdown. ``by_breakdown[column]``: :func:`funnel` by that column.
    ``conversion_tests[column]``: each group's conversion (step 1 → last step) against the rest
    (:func:`group_vs_rest` columns). ``abandonment[column]``: each group's cart-abandonment rate against the rest
    (``successes`` = abandoned carts, ``trials`` = units with a cart, ``rate`` = abandonment rate).
    ``abandonment_overall``: one row, the same for everyone. ``weekly``: :func:`weekly_conversion`.
    ``timing``: :func:`time_to_convert` (None in ``any_order`` mode, where steps have no order).
    """

    steps: list[str]
    window: timedelta
    unit: str
    mode: str
    min_group_size: int
    overall: pd.DataFrame
    weekly: pd.DataFrame
    abandonment_overall: pd.DataFrame
    timing: TimeToConvert | None = None
    by_breakdown: dict[str, pd.DataFrame] = field(default_factory=dict)
    conversion_tests: dict[str, pd.DataFrame] = field(default_factory=dict)
    abandonment: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Contrast:
    """The highest- and lowest-rate groups of a breakdown compared directly.

    ``difference`` = ``high_rate`` − ``low_rate`` (fraction points) with its Newcombe 95% interval and the
    two-sided p-value of the score test for equal proportions (Pearson's chi-square, no continuity correction).
    """

    column: str
    high_group: str
    high_rate: float
    high_ci: tuple[float, float]
    low_group: str
    low_rate: float
    difference: float
    difference_ci: tuple[float, float]
    p_value: float


def analyse_journey(
    events: ir.Table | pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | str,
    *,
    breakdowns: Sequence[str] = (),
    unit: str = "user",
    mode: str = "ordered",
    min_group_size: int = 100,
) -> JourneyAnalysis:
    """Run the journey analysis; ``events`` should already be limited to the scope (market, dates)."""
    steps, breakdowns = list(steps), list(breakdowns)
    detailed = funnel(events, steps, window, by=breakdowns or None, unit=unit, mode=mode)
    carts = cart_abandonment(events, window, by=breakdowns or None, unit=unit)
    analysis = JourneyAnalysis(
        steps=steps,
        window=conversion_window(window),
        unit=unit,
        mode=mode,
        min_group_size=min_group_size,
        overall=marginal_funnel(detailed, [], steps),
        weekly=weekly_conversion(events, steps, window, unit=unit, mode=mode),
        abandonment_overall=_abandonment_vs_rest(carts, [], 1),
        timing=None if mode == "any_order" else time_to_convert(events, steps, window, unit=unit, mode=mode),
    )
    for column in breakdowns:
        table = marginal_funnel(detailed, [column], steps)
        analysis.by_breakdown[column] = table
        analysis.conversion_tests[column] = compare_funnel_groups(table, column, min_group_size=min_group_size)
        analysis.abandonment[column] = _abandonment_vs_rest(carts, [column], min_group_size)
    return analysis


def marginal_funnel(detailed: pd.DataFrame, by: list[str], steps: list[str]) -> pd.DataFrame:
    """The :func:`funnel` table by ``by`` from one computed by more columns (summing units over the others)."""
    summed = detailed.groupby([*by, "step_index"], dropna=False, sort=True)["units"].sum().reset_index()
    following = summed.groupby(by, dropna=False)["units"].shift(-1) if by else summed["units"].shift(-1)
    # units reaching step d but not d+1 have depth d; the last step keeps everyone who reached it
    depth_counts = summed.assign(units=summed["units"] - following.fillna(0)).rename(columns={"step_index": "depth"})
    return funnel_from_depth_counts(depth_counts, steps, by)


def _abandonment_vs_rest(carts: pd.DataFrame, by: list[str], min_group_size: int) -> pd.DataFrame:
    frame = carts.assign(_all="everyone") if not by else carts
    return group_vs_rest(frame, by or ["_all"], "abandoned", "units_with_cart", min_group_size=min_group_size)


def contrast_extremes(tests: pd.DataFrame, column: str) -> Contrast | None:
    """Compare the highest- and lowest-rate groups of a :func:`group_vs_rest` frame, among groups large enough.

    Returns None when fewer than two groups are large enough to compare.
    """
    sized = tests[~tests["too_small"]].sort_values("rate", ascending=False)
    if len(sized) < 2:
        return None
    high, low = sized.iloc[0], sized.iloc[-1]
    counts = (high["successes"], high["trials"], low["successes"], low["trials"])
    ci_low, ci_high = confint_proportions_2indep(*counts, method="newcomb", compare="diff")
    p_value = test_proportions_2indep(*counts, method="score", compare="diff", correction=False).pvalue
    return Contrast(
        column=column,
        high_group=str(high[column]),
        high_rate=float(high["rate"]),
        high_ci=(float(high["rate_ci_low"]), float(high["rate_ci_high"])),
        low_group=str(low[column]),
        low_rate=float(low["rate"]),
        difference=float(high["rate"] - low["rate"]),
        difference_ci=(float(ci_low), float(ci_high)),
        p_value=float(p_value),
    )
