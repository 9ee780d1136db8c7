"""The experiment readout of one market: plan, sample-ratio check, metrics with CUPED, segments, power, stability.

The per-unit table is built once in the engine (:func:`~analysis.metrics.experiment.units.experiment_units`) and
cached there; every readout after it is one aggregation of that table, and only sums come back to pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.experiment.comparison import ArmSums, compare_arms
from analysis.metrics.experiment.power import minimum_detectable_effect
from analysis.metrics.experiment.readout import Metric, experiment_readout
from analysis.metrics.experiment.segments import BREAKDOWNS, heterogeneity, segment_lifts
from analysis.metrics.experiment.srm import SampleRatioCheck, sample_ratio_mismatch
from analysis.metrics.experiment.units import ARM, PRE_PREFIX, daily_ratio_statistics, experiment_units
from analysis.metrics.stats import normal_quantile
from analysis.scope import Scope

CONTROL = "control"
UNIT = "user"
POWER = 0.8  # the power a test is planned for: an effect this large is seen 80% of the time
# Every metric the readout knows: a per-unit mean (one column) or a ratio of per-unit sums (numerator, denominator).
METRICS: dict[str, Metric] = {
    "session_conversion": ("purchasing_sessions", "sessions"),
    "user_conversion": "converted",
    "revenue_per_user": "revenue",
    "average_order_value": ("revenue", "orders"),
    "cart_abandonment": ("abandoned_carts", "carts"),
}
SESSION_COLUMNS = frozenset({"sessions", "purchasing_sessions", "carts", "abandoned_carts"})
CORRECTIONS = ("holm", "bh")


@dataclass(frozen=True)
class ExperimentAnalysis:
    """Everything the experiment notebook shows; each frame is documented where it is made.

    Attributes
    ----------
    scope
        The market and period asked for.
    start, end
        The experiment's first and last day read: the initiative's launch in the market (or the scope's start, if
        later) to the scope's end; None when the market has no experiment.
    initiative, target_kpi, target_low, target_high
        The initiative tested and the relative change it aims for (from the initiatives table, or the ``target``
        parameter); None when unknown.
    unit, control, metrics, primary, guardrails, alpha, correction, min_group_size, pre_days
        The analysis plan: the randomisation unit, the control arm, ``{metric: column or (numerator, denominator)}``
        (the family corrected together, primary first), the primary metric, the guardrails, α, the correction
        (``holm`` or ``bh``), the smallest group read in a segment, the CUPED pre-period in days.
    arm_counts
        One row per arm: ``arm``, ``units``, ``share`` (fraction of all units), ``expected_share``.
    srm
        The sample-ratio-mismatch check (None without experiment).
    readout
        :func:`~analysis.metrics.experiment.readout.experiment_readout` of every metric with its pre-period
        covariate (CUPED).
    segments
        :func:`~analysis.metrics.experiment.segments.segment_lifts` of the primary metric.
    heterogeneity
        :func:`~analysis.metrics.experiment.segments.heterogeneity` of ``segments``.
    power
        One row per metric: ``metric``, ``control_mean``, ``difference_se``, ``minimum_detectable_difference``
        (``(z₁₋α/₂ + z_power) · se`` at the observed size and variance, power 0.8) and
        ``minimum_detectable_lift`` (that, relative to the control mean).
    cumulative
        The primary metric read as on each day of the test (every unit exposed by then, their sessions so far):
        ``day``, ``n_control``, ``n_arm``, ``relative_lift`` with ``relative_lift_ci_low``/``_high``. Empty when the
        primary metric is not a session ratio.
    """

    scope: Scope
    start: date | None
    end: date | None
    initiative: str | None
    target_kpi: str | None
    target_low: float | None
    target_high: float | None
    unit: str
    control: str
    metrics: dict[str, Metric]
    primary: str
    guardrails: tuple[str, ...]
    alpha: float
    correction: str
    min_group_size: int
    pre_days: int
    arm_counts: pd.DataFrame
    srm: SampleRatioCheck | None
    readout: pd.DataFrame
    segments: pd.DataFrame
    heterogeneity: pd.DataFrame
    power: pd.DataFrame
    cumulative: pd.DataFrame

    @property
    def has_experiment(self) -> bool:
        """Whether the market's events carry arms in the period (False: nothing to read out)."""
        return self.srm is not None

    @property
    def primary_row(self) -> pd.Series | None:
        """The primary metric's row of the readout (None without experiment)."""
        rows = self.readout[self.readout["metric"] == self.primary]
        return rows.iloc[0] if len(rows) else None

    @property
    def target_detectable(self) -> bool | None:
        """Whether the low end of the target lift is at least the primary metric's minimum detectable lift."""
        if self.target_low is None or not len(self.power):
            return None
        mde = self.power.set_index("metric").loc[self.primary, "minimum_detectable_lift"]
        return bool(abs(self.target_low) >= mde) if np.isfinite(mde) else None


def analyse_experiment(
    tables: Mapping[str, ir.Table],
    scope: Scope,
    *,
    primary: str = "session_conversion",
    guardrails: Sequence[str] = ("average_order_value", "cart_abandonment"),
    target: tuple[float, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    min_group_size: int = 100,
    pre_days: int = 28,
) -> ExperimentAnalysis:
    """Read out the A/B test in ``scope``'s market.

    Parameters
    ----------
    tables
        The contract tables (:func:`analysis.sources.load_tables`): ``events`` is needed, ``orders`` and
        ``initiatives`` are used when present.
    scope
        The market and period; the experiment runs from the initiative's launch (or the scope's start) to its end.
    primary, guardrails
        Metric names among :data:`METRICS`; the other metrics are read too, and all are one family.
    target
        ``(low, high)`` relative change the test aims for; None: the initiatives table's target for the market.
    alpha, correction
        Significance (1 − confidence) and the multiple-testing correction across the metrics: ``holm`` or ``bh``.
    min_group_size
        Segments with fewer units in an arm are suppressed.
    pre_days
        Days before the start whose behaviour is each metric's CUPED covariate.
    """
    guardrails = tuple(guardrails)
    _check_parameters(primary, guardrails, correction, alpha)
    ordered = [primary, *guardrails, *(m for m in METRICS if m != primary and m not in guardrails)]
    metrics = {name: METRICS[name] for name in ordered}
    initiative = _initiative(tables, scope)
    start = max(scope.start, initiative["launch"]) if initiative["launch"] is not None else scope.start
    low, high = target if target is not None else (initiative["target_low"], initiative["target_high"])
    market = None if scope.market == "ALL" else scope.market
    events = tables["events"] if market is None else tables["events"].filter(tables["events"].market == market)
    units = experiment_units(
        events, tables.get("orders"), start=start, end=scope.end, pre_days=pre_days
    ).cache()  # built once in the engine; every readout below aggregates it
    arm_counts = units.group_by(ARM).aggregate(units=units.count()).to_pandas()
    arm_counts = arm_counts.sort_values(ARM, ignore_index=True).rename(columns={ARM: "arm"})
    common = {
        "scope": scope,
        "initiative": initiative["name"],
        "target_kpi": initiative["target_kpi"],
        "target_low": low,
        "target_high": high,
        "unit": UNIT,
        "control": CONTROL,
        "metrics": metrics,
        "primary": primary,
        "guardrails": guardrails,
        "alpha": alpha,
        "correction": correction,
        "min_group_size": min_group_size,
        "pre_days": pre_days,
    }
    if len(arm_counts) < 2 or CONTROL not in set(arm_counts["arm"]):
        empty = pd.DataFrame()
        return ExperimentAnalysis(
            **common, start=None, end=None, arm_counts=arm_counts, srm=None, readout=empty, segments=empty,
            heterogeneity=empty, power=empty, cumulative=empty,
        )  # fmt: skip
    arm_counts["share"] = arm_counts["units"] / arm_counts["units"].sum()
    arm_counts["expected_share"] = 1 / len(arm_counts)  # the design's equal split
    srm = sample_ratio_mismatch(
        dict(zip(arm_counts["arm"], arm_counts["units"], strict=True)),
        dict(zip(arm_counts["arm"], arm_counts["expected_share"], strict=True)),
    )
    covariates = {name: _pre(spec) for name, spec in metrics.items()}
    readout = experiment_readout(
        units, ARM, control=CONTROL, metrics=metrics, covariates=covariates, alpha=alpha, correction=correction
    )
    segments = segment_lifts(
        units, ARM, control=CONTROL, metric=primary, spec=metrics[primary], covariate=covariates[primary],
        breakdowns=BREAKDOWNS, alpha=alpha, min_group_size=min_group_size,
    )  # fmt: skip
    return ExperimentAnalysis(
        **common,
        start=start,
        end=scope.end,
        arm_counts=arm_counts,
        srm=srm,
        readout=readout,
        segments=segments,
        heterogeneity=heterogeneity(segments, alpha=alpha),
        power=minimum_detectable_effects(readout, alpha=alpha),
        cumulative=cumulative_lift(units, events, start=start, end=scope.end, metric=metrics[primary], alpha=alpha),
    )


def minimum_detectable_effects(readout: pd.DataFrame, *, alpha: float = 0.05, power: float = POWER) -> pd.DataFrame:
    """Each metric's minimum detectable effect at the test's observed size and variance.

    ``(z₁₋α/₂ + z_power) · se(difference)``: the true difference the test would call real with probability
    ``power``. Columns as :attr:`ExperimentAnalysis.power`.
    """
    rows = readout[readout["arm"] != CONTROL] if len(readout) else readout
    se = (rows["difference_ci_high"] - rows["difference_ci_low"]) / (2 * normal_quantile(1 - alpha))
    # the per-unit variance that gives the observed standard error at these sizes (CUPED's, for a covariate)
    inverse_sizes = 1 / rows["n_control"] + 1 / rows["n_arm"]
    mdd = minimum_detectable_effect(
        rows["n_control"].to_numpy(), rows["n_arm"].to_numpy(), (se**2 / inverse_sizes).to_numpy(),
        alpha=alpha, power=power,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "metric": rows["metric"].to_numpy(),
            "control_mean": rows["control_mean"].to_numpy(),
            "difference_se": se.to_numpy(),
            "minimum_detectable_difference": mdd,
            "minimum_detectable_lift": mdd / rows["control_mean"].abs().to_numpy(),
        }
    )


def cumulative_lift(
    units: ir.Table, events: ir.Table, *, start: date, end: date, metric: Metric, alpha: float = 0.05
) -> pd.DataFrame:
    """A session-ratio metric's relative lift as it would have been read on each day of the test (no CUPED).

    Columns as :attr:`ExperimentAnalysis.cumulative`; empty for a metric that is not a ratio of session counts.
    """
    columns = ["day", "n_control", "n_arm", "relative_lift", "relative_lift_ci_low", "relative_lift_ci_high"]
    if isinstance(metric, str) or not set(metric) <= SESSION_COLUMNS:
        return pd.DataFrame(columns=columns)
    daily = daily_ratio_statistics(units, events, start=start, end=end, ratios={"m": tuple(metric)})
    names = ["new_units", "m_sum_x", "m_sum_y", "m_sum_xx", "m_sum_yy", "m_sum_xy"]
    wide = daily.pivot_table(index="day", columns=ARM, values=names, aggfunc="sum").fillna(0).cumsum()
    arms = sorted(daily[ARM].unique())
    if CONTROL not in arms or len(arms) != 2:
        return pd.DataFrame(columns=columns)
    other = next(a for a in arms if a != CONTROL)

    def sums(arm: str) -> ArmSums:
        x, y = wide[("m_sum_x", arm)].to_numpy(), wide[("m_sum_y", arm)].to_numpy()
        xx, yy, xy = (wide[(f"m_sum_{p}", arm)].to_numpy() for p in ("xx", "yy", "xy"))
        products = np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)
        return ArmSums(wide[("new_units", arm)].to_numpy(dtype=float), np.stack([x, y], -1), products)

    with np.errstate(invalid="ignore", divide="ignore"):
        comparison = compare_arms(sums(CONTROL), sums(other), metric=(0, 1), test="z", alpha=alpha)
    return pd.DataFrame(
        {
            "day": wide.index,
            "n_control": comparison.n_control.astype("int64"),
            "n_arm": comparison.n_arm.astype("int64"),
            "relative_lift": comparison.relative_lift,
            "relative_lift_ci_low": comparison.relative_lift_ci_low,
            "relative_lift_ci_high": comparison.relative_lift_ci_high,
        }
    ).reset_index(drop=True)


def _pre(spec: Metric) -> Metric:
    return PRE_PREFIX + spec if isinstance(spec, str) else (PRE_PREFIX + spec[0], PRE_PREFIX + spec[1])


def _initiative(tables: Mapping[str, ir.Table], scope: Scope) -> dict:
    found = {"name": None, "launch": None, "target_kpi": None, "target_low": None, "target_high": None}
    if "initiatives" not in tables or scope.market == "ALL":
        return found
    table = tables["initiatives"]
    rows = table.filter(table.market == scope.market).to_pandas().sort_values("launch_date", na_position="last")
    if not len(rows):
        return found
    row = rows.iloc[0]
    launch = None if pd.isna(row["launch_date"]) else pd.Timestamp(row["launch_date"]).date()
    return {
        "name": str(row["name"]),
        "launch": launch,
        "target_kpi": str(row["target_kpi"]),
        "target_low": float(row["target_low"]),
        "target_high": float(row["target_high"]),
    }


def _check_parameters(primary: str, guardrails: tuple[str, ...], correction: str, alpha: float) -> None:
    for parameter, names in (("primary", (primary,)), ("guardrails", guardrails)):
        unknown = [name for name in names if name not in METRICS]
        if unknown:
            raise ParameterError(
                f"{parameter} {unknown} must be among {one_of(METRICS)}",
                parameter=parameter,
                value=unknown,
                valid=list(METRICS),
            )
    if primary in guardrails:
        raise ParameterError(
            f"the primary metric {primary!r} cannot also be a guardrail",
            parameter="guardrails",
            value=list(guardrails),
            valid=[m for m in METRICS if m != primary],
        )
    if correction not in CORRECTIONS:
        raise ParameterError(
            f"correction {correction!r} must be {one_of(CORRECTIONS)}",
            parameter="correction",
            value=correction,
            valid=list(CORRECTIONS),
        )
    if not 0 < alpha < 1:
        raise ParameterError(
            f"alpha {alpha!r} must be between 0 and 1, e.g. 0.05", parameter="alpha", value=alpha, valid="0 < α < 1"
        )
