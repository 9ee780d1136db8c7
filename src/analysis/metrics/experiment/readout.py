"""The experiment readout: each metric's difference between an arm and control, computed from sufficient statistics.

The engine reads the per-unit table once (:func:`sufficient_statistics`: n, Σx, Σx² and Σxy per arm, on DuckDB,
Spark or any Ibis backend); everything after is arithmetic on those sums in NumPy, vectorised so the same code reads
out one experiment or simulates a thousand (:class:`ArmSums`, :func:`compare_arms`).

Methods, as GrowthBook and Eppo compute them:

* a metric is a per-unit mean (``column``) or a ratio of two per-unit sums (``(numerator, denominator)``, e.g.
  purchasing sessions / sessions); a ratio's variance comes from the delta method on the per-unit sums;
* a 0/1 mean is tested with the two-proportion z-test (pooled standard error, as ``proportions_ztest``) and its
  interval is Wald's; any other mean with Welch's t (Welch–Satterthwaite degrees of freedom, as
  ``ttest_ind(usevar="unequal")``); a ratio with a normal z on its delta-method standard error;
* CUPED: a pre-period covariate of the same shape, θ = cov(metric, covariate) / var(covariate) pooled over both arms;
  the estimand is unchanged (the difference of the arms' means), only its variance shrinks;
* the relative lift ``arm / control − 1`` and its interval by the delta method
  (var ≈ var(arm)/control² + arm²·var(control)/control⁴, with the covariance CUPED induces);
* Holm (or Benjamini–Hochberg) across the metrics of each arm; :func:`analysis.metrics.stats.is_real` on the
  adjusted p-value decides ``real``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError, one_of
from analysis.metrics.experiment.comparison import (  # noqa: F401  (public here too)
    ArmSums,
    Comparison,
    compare_arms,
    proportions_from_sums,
    ratio_from_sums,
    sum_column,
    sum_of_products_column,
    welch_from_sums,
)
from analysis.metrics.stats import (
    benjamini_hochberg_adjust,
    holm_adjust,
    is_real,
)

CORRECTIONS = {"holm": holm_adjust, "bh": benjamini_hochberg_adjust}
Metric = str | tuple[str, str]

READOUT_COLUMNS = [
    "metric",
    "arm",
    "n_control",
    "n_arm",
    "control_mean",
    "arm_mean",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "relative_lift",
    "relative_lift_ci_low",
    "relative_lift_ci_high",
    "statistic",
    "p_value",
    "p_value_adjusted",
    "variance_reduction",
    "real",
]


def as_units_table(units: ir.Table | pd.DataFrame) -> ir.Table:
    """An Ibis table for ``units``: a pandas frame is wrapped with ``ibis.memtable`` (run on DuckDB)."""
    if isinstance(units, pd.DataFrame):
        return ibis.memtable(units)
    if isinstance(units, ir.Table):
        return units
    raise ParameterError(
        f"units must be an Ibis table or a pandas DataFrame, not {type(units).__name__}",
        parameter="units",
        value=type(units).__name__,
        valid="an Ibis table or a pandas DataFrame",
    )


def sufficient_statistics(
    units: ir.Table | pd.DataFrame,
    arm: str,
    columns: Sequence[str | tuple[str, str]],
    *,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """n, Σx and Σx² of each column, and Σxy of each pair, per arm (and per ``by`` group), in one engine aggregation.

    Parameters
    ----------
    units
        One row per randomisation unit (pandas, or an Ibis table on any backend). Units whose ``arm`` is missing are
        not in the experiment and are left out. The columns summed must have no missing values (a unit with no
        activity counts 0).
    arm
        The column naming each unit's arm.
    columns
        Column names (numbers or booleans), and ``(x, y)`` pairs whose sum of products is wanted (each member's own
        sums come with it).
    by
        Columns to break the arms down by (segments), or None.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group × arm, sorted. Columns: the ``by`` columns; ``arm`` (named as in ``units``); ``n``
        (units); ``sum__<column>`` (Σx, see :func:`sum_column`); ``sum__<column>__<column>`` (Σx²) and
        ``sum__<x>__<y>`` (Σxy, names from :func:`sum_of_products_column`), as floats.

    Raises
    ------
    ParameterError
        A column is not in ``units``.
    DataError
        A summed column has missing values.
    """
    table = as_units_table(units)
    by = [by] if isinstance(by, str) else list(by or [])
    pairs = sorted({tuple(sorted(item)) for item in columns if not isinstance(item, str)})
    names = list(dict.fromkeys([item for item in columns if isinstance(item, str)] + [c for p in pairs for c in p]))
    missing = [c for c in [arm, *by, *names] if c not in table.columns]
    if missing:
        raise ParameterError(
            f"units has no column(s) {missing}; its columns are {list(table.columns)}",
            parameter="columns",
            value=missing,
            valid=list(table.columns),
        )
    table = table.filter(table[arm].notnull())
    value = {name: table[name].cast("float64") for name in names}
    aggregates = {"n": table.count()}
    for name in names:
        aggregates[f"present__{name}"] = value[name].count()
        aggregates[sum_column(name)] = value[name].sum()
        aggregates[sum_of_products_column(name, name)] = (value[name] * value[name]).sum()
    for x, y in pairs:
        if x != y:
            aggregates[sum_of_products_column(x, y)] = (value[x] * value[y]).sum()
    keys = [*by, arm]
    result = table.group_by(keys).aggregate(**aggregates).execute()
    result = result.sort_values(keys, kind="stable").reset_index(drop=True)
    for name in names:
        if (result[f"present__{name}"] != result["n"]).any():
            raise DataError(
                f"column {name!r} has missing values; give units with no activity 0",
                column=name,
                valid="a value for every unit",
            )
    result = result.drop(columns=[f"present__{name}" for name in names])
    result["n"] = result["n"].astype("int64")
    return result


def _check_plan(metrics: Mapping[str, Metric], covariates: Mapping[str, Metric] | None) -> dict[str, Metric]:
    """The metrics and covariates checked; returns the covariates as a dict (empty when None)."""

    def shape_ok(spec: object) -> bool:
        pair = isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(c, str) for c in spec)
        return isinstance(spec, str) or pair

    if not isinstance(metrics, Mapping) or not metrics or not all(shape_ok(s) for s in metrics.values()):
        raise ParameterError(
            f"metrics={metrics!r} must map each metric name to a column or a (numerator, denominator) pair",
            parameter="metrics",
            value=metrics,
            valid="{name: column} or {name: (numerator, denominator)}",
        )
    covariates = dict(covariates or {})
    for name, spec in covariates.items():
        if name not in metrics or not shape_ok(spec) or isinstance(spec, str) != isinstance(metrics[name], str):
            raise ParameterError(
                f"covariates[{name!r}]={spec!r} must name a metric of `metrics` and have its shape "
                "(a column for a mean, a (numerator, denominator) pair for a ratio)",
                parameter="covariates",
                value={name: spec},
                valid=list(metrics),
            )
    return covariates


def _columns_of(spec: Metric) -> tuple[str, ...]:
    return (spec,) if isinstance(spec, str) else tuple(spec)


def experiment_readout(
    units: ir.Table | pd.DataFrame,
    arm: str,
    *,
    control: str,
    metrics: Mapping[str, Metric],
    covariates: Mapping[str, Metric] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
) -> pd.DataFrame:
    """Each metric of each arm against control: difference, relative lift, test and corrected p-value.

    Parameters
    ----------
    units
        One row per randomisation unit (pandas or Ibis); see :func:`sufficient_statistics`.
    arm
        The column naming each unit's arm.
    control
        The control arm's value in ``arm``.
    metrics
        ``{name: column}`` for a per-unit mean (a 0/1 column is a proportion), or ``{name: (numerator,
        denominator)}`` for a ratio of per-unit sums (e.g. ``("purchasing_sessions", "sessions")``).
    covariates
        ``{metric name: pre-period column}`` (a pair for a ratio metric) for CUPED; metrics not named have none.
    alpha
        1 − the confidence of the intervals (0.05: 95%).
    correction
        ``"holm"`` (family-wise) or ``"bh"`` (Benjamini–Hochberg) across the metrics of each arm.

    Returns
    -------
    pandas.DataFrame
        One row per metric × non-control arm (metrics in the given order, arms sorted). Columns:

        - ``metric``, ``arm``: the metric's name and the arm compared with control;
        - ``n_control``, ``n_arm``: units in each arm;
        - ``control_mean``, ``arm_mean``: the metric as observed in each arm (a fraction for a 0/1 mean);
        - ``difference``: ``arm − control`` in the metric's units (CUPED-adjusted when it has a covariate: same
          estimand, less noise), with ``difference_ci_low``/``difference_ci_high`` (1 − ``alpha``);
        - ``relative_lift``: ``arm / control − 1`` (a fraction; on the adjusted means with CUPED), with
          ``relative_lift_ci_low``/``relative_lift_ci_high`` (delta method);
        - ``statistic``: z for a proportion or a ratio metric, Welch's t otherwise;
        - ``p_value``: two-sided; ``p_value_adjusted``: after ``correction`` across the metrics of the arm;
        - ``variance_reduction``: ``1 − var(CUPED difference) / var(raw difference)`` (NaN without covariate);
        - ``real``: :func:`analysis.metrics.stats.is_real` of ``p_value_adjusted``.
    """
    covariate_map = _check_plan(metrics, covariates)
    wanted: list[str | tuple[str, str]] = []
    for name, spec in metrics.items():
        names = [*_columns_of(spec), *(_columns_of(covariate_map[name]) if name in covariate_map else ())]
        wanted += [(x, y) for i, x in enumerate(names) for y in names[i:]]
    statistics = sufficient_statistics(units, arm, wanted)
    readout = readout_from_statistics(
        statistics, arm, control=control, metrics=metrics, covariates=covariates, alpha=alpha, correction=correction
    )
    return readout.drop(columns="difference_se")


def readout_from_statistics(
    statistics: pd.DataFrame,
    arm: str,
    *,
    control: str,
    metrics: Mapping[str, Metric],
    covariates: Mapping[str, Metric] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`experiment_readout` from a :func:`sufficient_statistics` frame (which must hold every sum needed).

    With ``by`` (the frame's segment columns), one readout per segment: the ``by`` columns lead, and the correction
    runs across the metrics of each segment × arm (correct across segments on ``p_value`` as the analysis needs).
    The frame also carries ``difference_se``, the standard error of ``difference`` (for a heterogeneity test).
    """
    covariate_map = _check_plan(metrics, covariates)
    if correction not in CORRECTIONS:
        raise ParameterError(
            f"correction={correction!r} must be {one_of(CORRECTIONS)}",
            parameter="correction",
            value=correction,
            valid=list(CORRECTIONS),
        )
    by = [by] if isinstance(by, str) else list(by or [])
    arms = sorted(statistics[arm].dropna().unique().tolist())
    if control not in arms or len(arms) < 2:
        raise ParameterError(
            f"control={control!r} must be one of the arms {arms}, and another arm must be there to compare",
            parameter="control",
            value=control,
            valid=arms,
        )
    binary = {
        name: name not in covariate_map
        and isinstance(spec, str)
        and np.array_equal(statistics[sum_column(spec)], statistics[sum_of_products_column(spec, spec)])
        for name, spec in metrics.items()
    }
    groups = statistics.groupby(by, sort=True, dropna=False) if by else [((), statistics)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        rows_by_arm = {row[arm]: row for row in group.to_dict("records")}
        if control not in rows_by_arm:
            continue
        for name, spec in metrics.items():
            columns = [*_columns_of(spec), *(_columns_of(covariate_map[name]) if name in covariate_map else ())]
            k = len(_columns_of(spec))
            test = "proportions" if binary[name] else ("welch" if isinstance(spec, str) else "z")
            for other in [a for a in arms if a != control and a in rows_by_arm]:
                comparison = compare_arms(
                    ArmSums.from_statistics(rows_by_arm[control], columns),
                    ArmSums.from_statistics(rows_by_arm[other], columns),
                    metric=tuple(range(k)),
                    covariate=tuple(range(k, len(columns))) if name in covariate_map else None,
                    test=test,
                    alpha=alpha,
                )
                values = {f.name: float(getattr(comparison, f.name)) for f in fields(comparison)}
                rows.append({**dict(zip(by, key, strict=True)), "metric": name, "arm": other, **values})
    frame = pd.DataFrame(rows, columns=[*by, *READOUT_COLUMNS, "difference_se"])
    adjust = CORRECTIONS[correction]
    frame["p_value_adjusted"] = frame.groupby([*by, "arm"], sort=False)["p_value"].transform(adjust)
    real = is_real(frame["p_value_adjusted"].to_numpy(), alpha=alpha) if len(frame) else pd.Series(dtype=bool)
    frame["real"] = real
    order = {name: i for i, name in enumerate(metrics)}
    frame = frame.sort_values([*by, "metric", "arm"], key=lambda s: s.map(order) if s.name == "metric" else s)
    frame = frame.reset_index(drop=True)
    frame[["n_control", "n_arm"]] = frame[["n_control", "n_arm"]].astype("int64")
    return frame
