"""analyse_experiment's parts: segment lifts (suppression, Benjamini–Hochberg), Cochran's Q by hand, the cumulative
lift's last day against the readout, minimum detectable effects, and the parameter errors."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analysis.errors import ParameterError
from analysis.metrics.experiment import (
    analyse_experiment,
    experiment_readout,
    heterogeneity,
    minimum_detectable_effects,
    segment_lifts,
)
from analysis.scope import Scope
from analysis.sources import load_tables


def units_by_segment() -> pd.DataFrame:
    """Segments A and B (200 users per arm) and C (50 per arm); treatment converts more in A."""
    rng = np.random.default_rng(5)
    frames = []
    for segment, size, rates in (("A", 200, (0.2, 0.4)), ("B", 200, (0.3, 0.32)), ("C", 50, (0.2, 0.2))):
        for variant, rate in zip(("control", "treatment"), rates, strict=True):
            converted = (rng.random(size) < rate).astype("int64")
            frames.append(pd.DataFrame({"segment": segment, "variant": variant, "converted": converted}))
    return pd.concat(frames, ignore_index=True)


def test_when_a_segment_is_small_then_it_is_suppressed_and_the_others_are_bh_corrected():
    units = units_by_segment()
    lifts = segment_lifts(
        units, "variant", control="control", metric="conversion", spec="converted", breakdowns=["segment"]
    ).set_index("group")

    assert lifts["too_small"].tolist() == [False, False, True]
    assert np.isnan(lifts.loc["C", "p_value"]) and not lifts.loc["C", "real"]
    for group in ("A", "B"):  # each tested group's readout is the readout of its units alone
        alone = experiment_readout(
            units[units["segment"] == group], "variant", control="control", metrics={"conversion": "converted"}
        ).iloc[0]
        assert lifts.loc[group, "relative_lift"] == pytest.approx(alone["relative_lift"])
        assert lifts.loc[group, "p_value"] == pytest.approx(alone["p_value"])
    p = lifts.loc[["A", "B"], "p_value"].sort_values()
    expected = np.minimum.accumulate((p * 2 / np.array([1, 2]))[::-1])[::-1].clip(upper=1)
    assert lifts.loc[p.index, "p_value_adjusted"].tolist() == pytest.approx(expected.tolist())


def test_when_two_groups_differ_by_two_standard_errors_then_cochrans_q_is_computed_by_hand():
    lifts = pd.DataFrame(
        {
            "breakdown": ["device", "device", "device"],
            "group": ["desktop", "mobile", "tablet"],
            "difference": [0.1, 0.3, np.nan],
            "difference_se": [0.1, 0.1, np.nan],
            "too_small": [False, False, True],
        }
    )
    row = heterogeneity(lifts).iloc[0]
    # w = 100 each, common difference 0.2, Q = 100 * 0.1² * 2 = 2 on 1 degree of freedom
    assert row["groups"] == 2 and row["common_difference"] == pytest.approx(0.2)
    assert row["q"] == pytest.approx(2.0) and row["degrees_of_freedom"] == 1
    assert row["p_value"] == pytest.approx(scipy_stats.chi2.sf(2.0, 1))
    assert row["i_squared"] == pytest.approx(0.5) and not row["real"]


def test_when_the_mde_is_computed_then_it_is_2_8_standard_errors():
    readout = pd.DataFrame(
        {
            "metric": ["m"], "arm": ["treatment"], "n_control": [1000], "n_arm": [1000], "control_mean": [0.5],
            "difference_ci_low": [-1.959963985 * 0.02], "difference_ci_high": [1.959963985 * 0.02],
        }
    )  # fmt: skip
    power = minimum_detectable_effects(readout).iloc[0]
    assert power["difference_se"] == pytest.approx(0.02)
    assert power["minimum_detectable_difference"] == pytest.approx((1.959964 + 0.841621) * 0.02, rel=1e-5)
    assert power["minimum_detectable_lift"] == pytest.approx((1.959964 + 0.841621) * 0.04, rel=1e-5)


@pytest.fixture(scope="module")
def small_demo():
    tables = load_tables(os.environ["WORKBOOK_DATA_DIR"])
    return tables, analyse_experiment(tables, Scope.parse("GB", "2025-01-01", "2026-06-30"))


def test_when_read_on_the_last_day_then_the_cumulative_lift_is_the_readout_without_cuped(small_demo):
    _, analysis = small_demo
    from analysis.metrics.experiment.units import experiment_units

    tables, _ = small_demo
    events = tables["events"].filter(tables["events"].market == "GB")
    units = experiment_units(events, tables["orders"], start=analysis.start, end=analysis.end)
    raw = experiment_readout(
        units, "variant", control="control", metrics={"s": ("purchasing_sessions", "sessions")}
    ).iloc[0]
    last = analysis.cumulative.iloc[-1]
    assert (last["n_control"], last["n_arm"]) == (raw["n_control"], raw["n_arm"])
    assert last["relative_lift"] == pytest.approx(raw["relative_lift"])
    assert last["relative_lift_ci_low"] == pytest.approx(raw["relative_lift_ci_low"])


def test_when_the_plan_is_read_then_the_family_leads_with_primary_and_guardrails(small_demo):
    _, analysis = small_demo
    assert list(analysis.readout["metric"][:3]) == ["session_conversion", "average_order_value", "cart_abandonment"]
    assert analysis.arm_counts["units"].sum() == analysis.primary_row["n_control"] + analysis.primary_row["n_arm"]


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"primary": "clicks"}, "primary"),
        ({"guardrails": ["session_conversion"]}, "guardrails"),
        ({"correction": "bonferroni"}, "correction"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_when_a_parameter_is_invalid_then_a_parameter_error_names_it(small_demo, options, parameter):
    tables, _ = small_demo
    with pytest.raises(ParameterError) as error:
        analyse_experiment(tables, Scope.parse("GB", "2025-01-01", "2026-06-30"), **options)
    assert error.value.parameter == parameter
