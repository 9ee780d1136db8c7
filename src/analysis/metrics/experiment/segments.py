"""The experiment's lift per segment (personality segment, device, channel) and whether it differs between them.

The engine sums the per-unit columns once by every breakdown together (:func:`sufficient_statistics` with ``by``);
each single breakdown is then a sum over the others, which is exact because a unit has one value of each (its first
exposure's). Groups too small to read are suppressed; the others' p-values are corrected with Benjamini–Hochberg
across the groups of a breakdown, and Cochran's Q asks whether the lifts of a breakdown differ at all (Holm across
the breakdowns).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import ParameterError
from analysis.metrics.experiment.readout import Metric, readout_from_statistics, sufficient_statistics
from analysis.metrics.stats import benjamini_hochberg_adjust, holm_adjust, is_real

BREAKDOWNS: tuple[str, ...] = ("segment", "device", "channel")
SEGMENT_COLUMNS = [
    "breakdown",
    "group",
    "n_control",
    "n_arm",
    "control_mean",
    "arm_mean",
    "difference",
    "difference_se",
    "difference_ci_low",
    "difference_ci_high",
    "relative_lift",
    "relative_lift_ci_low",
    "relative_lift_ci_high",
    "p_value",
    "p_value_adjusted",
    "real",
    "too_small",
]


def segment_lifts(
    units: ir.Table | pd.DataFrame,
    arm: str,
    *,
    control: str,
    metric: str,
    spec: Metric,
    covariate: Metric | None = None,
    breakdowns: Sequence[str] = BREAKDOWNS,
    alpha: float = 0.05,
    min_group_size: int = 100,
) -> pd.DataFrame:
    """One metric's lift in each group of each breakdown, Benjamini–Hochberg-corrected across a breakdown's groups.

    Parameters
    ----------
    units
        :func:`~analysis.metrics.experiment.units.experiment_units` (pandas or Ibis).
    arm, control
        The arm column and the control arm's value; the experiment must have exactly one other arm.
    metric, spec, covariate
        The metric's name, its column (or ``(numerator, denominator)``) and its CUPED covariate (or None).
    breakdowns
        Columns of ``units`` to break the lift down by.
    alpha
        1 − the confidence of the intervals.
    min_group_size
        A group with fewer units than this in either arm is suppressed: no estimate, no test (``too_small``).

    Returns
    -------
    pandas.DataFrame
        One row per breakdown × group (breakdowns in the order given, groups sorted). Columns: ``breakdown`` (the
        column name), ``group`` (its value); the readout's ``n_control``, ``n_arm``, ``control_mean``, ``arm_mean``,
        ``difference`` with ``difference_se`` and its interval, ``relative_lift`` with its interval, ``p_value`` (all
        NaN for a suppressed group); ``p_value_adjusted`` (Benjamini–Hochberg over the breakdown's tested groups);
        ``real`` (:func:`~analysis.metrics.stats.is_real` of it); ``too_small`` (bool).
    """
    breakdowns = list(breakdowns)
    if min_group_size < 1:
        raise ParameterError(
            f"min_group_size {min_group_size!r} must be 1 or more",
            parameter="min_group_size",
            value=min_group_size,
            valid="an integer >= 1",
        )
    columns = [*_columns_of(spec), *(_columns_of(covariate) if covariate is not None else ())]
    wanted = [(x, y) for i, x in enumerate(columns) for y in columns[i:]]
    detailed = sufficient_statistics(units, arm, wanted, by=breakdowns)
    sums = [c for c in detailed.columns if c == "n" or c.startswith("sum__")]
    frames = []
    for breakdown in breakdowns:
        statistics = detailed.groupby([breakdown, arm], sort=True, dropna=False)[sums].sum().reset_index()
        smallest = statistics.groupby(breakdown, dropna=False)["n"].transform("min")
        arms_present = statistics.groupby(breakdown, dropna=False)[arm].transform("nunique")
        readable = statistics[(smallest >= min_group_size) & (arms_present > 1)]
        groups = statistics[breakdown].drop_duplicates().sort_values().tolist()
        frame = pd.DataFrame({"group": groups})
        if len(readable):
            read = readout_from_statistics(
                readable,
                arm,
                control=control,
                metrics={metric: spec},
                covariates={metric: covariate} if covariate is not None else None,
                alpha=alpha,
                by=breakdown,
            ).rename(columns={breakdown: "group"})
            frame = frame.merge(
                read.drop(columns=["metric", "arm", "p_value_adjusted", "real"]), on="group", how="left"
            )
        counts = statistics.pivot_table(index=breakdown, columns=arm, values="n", aggfunc="sum").fillna(0)
        frame["too_small"] = ~frame["group"].isin(readable[breakdown])
        frame["n_control"] = frame["group"].map(counts[control]).astype("int64") if control in counts else 0
        others = [c for c in counts.columns if c != control]
        frame["n_arm"] = frame["group"].map(counts[others].sum(axis=1)).astype("int64")
        for column in SEGMENT_COLUMNS:
            if column not in frame.columns and column not in ("breakdown", "real", "p_value_adjusted"):
                frame[column] = np.nan
        frame["p_value_adjusted"] = benjamini_hochberg_adjust(frame["p_value"].to_numpy(dtype=float))
        frame["real"] = is_real(frame["p_value_adjusted"].to_numpy(), alpha=alpha)
        frames.append(frame.assign(breakdown=breakdown))
    return pd.concat(frames, ignore_index=True)[SEGMENT_COLUMNS]


def heterogeneity(lifts: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Cochran's Q per breakdown: do the groups' differences vary more than their standard errors allow?

    ``Q = Σ wᵢ (dᵢ − d̄)²`` with ``wᵢ = 1 / seᵢ²`` and ``d̄`` the weighted mean difference, chi-square with
    ``groups − 1`` degrees of freedom under the hypothesis of one common effect. Suppressed groups do not count.

    Returns
    -------
    pandas.DataFrame
        One row per breakdown (order of ``lifts``). Columns: ``breakdown``; ``groups`` (tested groups);
        ``common_difference`` (d̄); ``q``; ``degrees_of_freedom``; ``p_value`` (NaN with fewer than two groups);
        ``p_value_adjusted`` (Holm across the breakdowns); ``i_squared`` (share of the variation beyond chance,
        ``max(0, (Q − df) / Q)``); ``real`` (:func:`~analysis.metrics.stats.is_real` of the adjusted p-value at
        ``alpha``: the lift differs between the groups).
    """
    rows = []
    for breakdown, frame in lifts.groupby("breakdown", sort=False):
        tested = frame[~frame["too_small"] & (frame["difference_se"] > 0)]
        weights = 1 / tested["difference_se"].to_numpy(dtype=float) ** 2
        differences = tested["difference"].to_numpy(dtype=float)
        k = len(tested)
        common = float(np.sum(weights * differences) / np.sum(weights)) if k else np.nan
        q = float(np.sum(weights * (differences - common) ** 2)) if k else np.nan
        df = k - 1
        p_value = float(special.chdtrc(df, q)) if df >= 1 else np.nan
        i_squared = max(0.0, (q - df) / q) if df >= 1 and q > 0 else (0.0 if df >= 1 else np.nan)
        rows.append(
            {
                "breakdown": breakdown,
                "groups": k,
                "common_difference": common,
                "q": q,
                "degrees_of_freedom": df,
                "p_value": p_value,
                "i_squared": i_squared,
            }
        )
    table = pd.DataFrame(
        rows, columns=["breakdown", "groups", "common_difference", "q", "degrees_of_freedom", "p_value", "i_squared"]
    )
    table["p_value_adjusted"] = holm_adjust(table["p_value"].to_numpy(dtype=float))
    table["real"] = is_real(table["p_value_adjusted"].to_numpy(), alpha=alpha) if len(table) else pd.Series(dtype=bool)
    return table


def _columns_of(spec: Metric) -> tuple[str, ...]:
    return (spec,) if isinstance(spec, str) else tuple(spec)
