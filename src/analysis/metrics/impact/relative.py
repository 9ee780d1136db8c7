"""Relative effects and the verdict against a target range, so an effect compares with a target stated in %.

:func:`relative_effect` turns an absolute effect (an ATT, in the outcome's units) into a fraction of the level the
treated units would have had without the initiative (the counterfactual level), with a delta-method interval;
:func:`verdict` says whether that interval clears the near end of a target range (``met``), falls short of it
(``missed``) or straddles it (``inconclusive``), and where the point estimate sits against the range;
:func:`targets_for` picks a KPI's target range and :func:`with_target` puts it and the verdict on an effect row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import ParameterError, one_of
from analysis.metrics.stats import SIGNIFICANCE_LEVEL, ratio_of_means_variance

SCALES = ("delta", "log")
STATUSES = ("met", "missed", "inconclusive")
POSITIONS = ("below", "within", "above")


@dataclass(frozen=True)
class RelativeEffect:
    """An effect as a fraction of the counterfactual level, with its interval.

    Attributes
    ----------
    estimate
        ``att / (treated_level − att)``: 0.175 means +17.5%.
    se
        Its delta-method standard error.
    ci_low, ci_high
        The ``1 - alpha`` interval (symmetric on the delta scale; from the log ratio on the log scale).
    counterfactual_level
        ``treated_level − att``: the treated units' level had the initiative not happened.
    scale
        ``"delta"`` or ``"log"``: how the interval was built.
    alpha
        The significance level of the interval.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    counterfactual_level: float
    scale: str
    alpha: float


def relative_effect(
    att: float,
    att_se: float,
    treated_level: float,
    treated_level_se: float = 0.0,
    covariance: float = 0.0,
    alpha: float = SIGNIFICANCE_LEVEL,
    *,
    scale: Literal["delta", "log"] = "delta",
    df: float | None = None,
) -> RelativeEffect:
    """The relative effect ``att / (treated_level − att)`` with its delta-method interval.

    The counterfactual level is ``C = treated_level − att``, so the relative effect is ``Y / C − 1`` with
    ``Y = treated_level``. Its variance is that of the ratio ``Y / C``
    (:func:`analysis.metrics.stats.ratio_of_means_variance`), with ``Var(C) = Var(Y) + Var(att) − 2·Cov(Y, att)``
    and ``Cov(Y, C) = Var(Y) − Cov(Y, att)``.

    ``scale="delta"`` (the default, as the experiment readouts' relative lifts) gives ``estimate ± q·se``.
    ``scale="log"`` builds the interval on ``log(Y / C)`` and maps it back (``exp(·) − 1``): asymmetric, never
    below −100%, and better behaved when the counterfactual level is uncertain relative to its size (its coverage
    holds up where the symmetric interval's falls); ``se`` is the delta-method one in both cases.

    Parameters
    ----------
    att, att_se
        The absolute effect and its standard error.
    treated_level, treated_level_se
        The treated units' mean outcome over the post-period and its standard error (0 when taken as known).
    covariance
        ``Cov(treated_level, att)``.
    alpha
        Significance level (0.05 gives 95%).
    scale
        ``"delta"`` or ``"log"``, see above.
    df
        Degrees of freedom of a t reference (e.g. clusters − 1); the normal when ``None``.

    Returns
    -------
    RelativeEffect
    """
    if scale not in SCALES:
        raise ParameterError(
            f"scale={scale!r} is not one of {one_of(SCALES)}", parameter="scale", value=scale, valid=list(SCALES)
        )
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must lie strictly between 0 and 1", parameter="alpha", value=alpha)
    counterfactual = treated_level - att
    if counterfactual == 0 or (scale == "log" and counterfactual * treated_level <= 0):
        raise ParameterError(
            f"the counterfactual level treated_level − att = {counterfactual!r} cannot carry a relative effect "
            f"(it must be non-zero{', and of the sign of treated_level on the log scale' if scale == 'log' else ''})",
            parameter="att",
            value=att,
            valid="an effect smaller than the treated level",
        )
    var_level = treated_level_se**2
    var_counterfactual = var_level + att_se**2 - 2 * covariance
    cov_level_counterfactual = var_level - covariance
    variance = ratio_of_means_variance(
        treated_level, counterfactual, var_level, var_counterfactual, cov_level_counterfactual
    )
    estimate = att / counterfactual
    se = math.sqrt(max(variance, 0.0))
    quantile = float(stats.norm.ppf(1 - alpha / 2) if df is None else stats.t.ppf(1 - alpha / 2, df))
    if scale == "delta":
        low, high = estimate - quantile * se, estimate + quantile * se
    else:
        log_ratio = math.log(treated_level / counterfactual)
        log_se = math.sqrt(
            max(
                var_level / treated_level**2
                + var_counterfactual / counterfactual**2
                - 2 * cov_level_counterfactual / (treated_level * counterfactual),
                0.0,
            )
        )
        low, high = math.expm1(log_ratio - quantile * log_se), math.expm1(log_ratio + quantile * log_se)
    return RelativeEffect(estimate, se, low, high, counterfactual, scale, alpha)


@dataclass(frozen=True)
class Verdict:
    """An effect's interval judged against a target range.

    Attributes
    ----------
    status
        ``"met"`` (the whole interval clears the range's near end), ``"missed"`` (the whole interval falls short of
        it) or ``"inconclusive"``.
    position
        Where the point estimate sits, read in the target's direction: ``"below"`` (short of the near end),
        ``"within"`` (ends included) or ``"above"`` (beyond the far end). For a reduction of −25 to −30%, −20% is
        ``"below"`` and −35% ``"above"``.
    near_end, far_end
        The range's end closer to zero and the one further from it.
    direction
        ``"increase"`` or ``"reduction"``.
    """

    status: str
    position: str
    near_end: float
    far_end: float
    direction: str


def verdict(ci_low: float, ci_high: float, estimate: float, target_low: float, target_high: float) -> Verdict:
    """Judge an effect's interval against a target range stated as fractions (+0.15..+0.20, or −0.25..−0.30).

    For an increase (a positive range) the verdict is ``met`` when ``ci_low >= near end`` and ``missed`` when
    ``ci_high < near end``; for a reduction (a negative range, whose near end is the one closer to zero) ``met`` when
    ``ci_high <= near end`` and ``missed`` when ``ci_low > near end``; ``inconclusive`` otherwise. An interval
    touching the near end counts as clearing it. The range may be given in either order.

    Raises
    ------
    ParameterError
        When the range includes zero (neither an increase nor a reduction) or a bound is missing, or the interval is
        reversed.
    """
    values = {"ci_low": ci_low, "ci_high": ci_high, "estimate": estimate, "target_low": target_low}
    values["target_high"] = target_high
    missing = [name for name, value in values.items() if value is None or math.isnan(value)]
    if missing:
        raise ParameterError(
            f"verdict needs a number for {', '.join(missing)}", parameter=missing[0], value=None, valid="a number"
        )
    if ci_low > ci_high:
        raise ParameterError(
            f"the interval is reversed: ci_low={ci_low!r} > ci_high={ci_high!r}",
            parameter="ci_low",
            value=(ci_low, ci_high),
            valid="ci_low <= ci_high",
        )
    low, high = sorted((target_low, target_high))
    if low > 0:
        near, far, direction = low, high, "increase"
        status = "met" if ci_low >= near else "missed" if ci_high < near else "inconclusive"
        position = "below" if estimate < near else "above" if estimate > far else "within"
    elif high < 0:
        near, far, direction = high, low, "reduction"
        status = "met" if ci_high <= near else "missed" if ci_low > near else "inconclusive"
        position = "below" if estimate > near else "above" if estimate < far else "within"
    else:
        raise ParameterError(
            f"the target range {target_low!r} to {target_high!r} includes zero; state an increase (both ends above "
            "zero) or a reduction (both below)",
            parameter="target_low",
            value=(target_low, target_high),
            valid="two numbers of the same sign",
        )
    return Verdict(status, position, near, far, direction)


def targets_for(
    rows: pd.DataFrame,
    overrides: Mapping[str, tuple[float, float]] | None,
    defaults: Mapping[str, tuple[float, float]],
) -> Callable[[str], tuple[float, float, str]]:
    """A function ``kpi -> (low, high, source)``: the override, else the initiatives table's, else ``defaults``.

    ``rows`` are the initiative's rows of the ``initiatives`` table (``target_kpi``, ``target_low``, ``target_high``
    when it states targets); ``source`` is ``"parameter"``, ``"initiatives"``, ``"case study"`` (``defaults``) or
    ``""`` with NaN bounds when no target is known.
    """
    table = {}
    if {"target_kpi", "target_low", "target_high"} <= set(rows.columns):
        for kpi, low, high in rows[["target_kpi", "target_low", "target_high"]].dropna().itertuples(index=False):
            table.setdefault(str(kpi), (float(low), float(high)))

    def target(kpi: str) -> tuple[float, float, str]:
        if overrides and kpi in overrides:
            return (*map(float, overrides[kpi]), "parameter")
        if kpi in table:
            return (*table[kpi], "initiatives")
        if kpi in defaults:
            return (*defaults[kpi], "case study")
        return np.nan, np.nan, ""

    return target


def with_target(row: dict, target: tuple[float, float, str]) -> dict:
    """The effect row with its target range and the verdict of its relative interval against it."""
    low, high, source = target
    row = row | {"target_low": low, "target_high": high, "target_source": source, "verdict": "", "position": ""}
    values = [row["relative"], row["relative_ci_low"], row["relative_ci_high"], low, high]
    if source and all(np.isfinite(values)):
        judged = verdict(row["relative_ci_low"], row["relative_ci_high"], row["relative"], low, high)
        row |= {"verdict": judged.status, "position": judged.position}
    return row
