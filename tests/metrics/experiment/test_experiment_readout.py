"""The experiment readout: hand-computed examples, parity with statsmodels, CUPED against a per-unit oracle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from analysis.errors import DataError, ParameterError
from analysis.metrics.experiment.readout import (
    READOUT_COLUMNS,
    ArmSums,
    experiment_readout,
    proportions_from_sums,
    ratio_from_sums,
    readout_from_statistics,
    sufficient_statistics,
    welch_from_sums,
)

Z95 = 1.959963984540054


def _units(control: dict[str, list[float]], treatment: dict[str, list[float]]) -> pd.DataFrame:
    frames = [
        pd.DataFrame({"arm": name, **values}) for name, values in (("control", control), ("treatment", treatment))
    ]
    return pd.concat(frames, ignore_index=True)


def _random_units(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "treatment"], n)
    treated = arm == "treatment"
    pre = rng.gamma(2.0, 10.0, n)
    sessions = rng.poisson(2.0, n) + 1
    return pd.DataFrame(
        {
            "arm": arm,
            "converted": (rng.random(n) < np.where(treated, 0.14, 0.1)).astype(int),
            "revenue": rng.gamma(2.0, 10.0, n) + 0.8 * pre + 2.0 * treated,
            "revenue_pre": pre,
            "sessions": sessions,
            "purchasing_sessions": rng.binomial(sessions, np.where(treated, 0.12, 0.1)),
        }
    )


def test_when_two_small_arms_are_compared_then_welch_numbers_match_the_hand_computation():
    units = _units({"value": [1, 2, 3, 4]}, {"value": [2, 4, 6, 8]})
    row = experiment_readout(units, "arm", control="control", metrics={"value": "value"}).iloc[0]
    # means 2.5 and 5; variances 5/3 and 20/3; var of the difference 5/12 + 5/3 = 25/12
    assert row["difference"] == pytest.approx(2.5)
    assert row["statistic"] == pytest.approx(math.sqrt(3))
    degrees_of_freedom = 1875 / 425  # (25/12)² / ((5/12)²/3 + (5/3)²/3)
    from scipy import stats

    quantile = stats.t.ppf(0.975, degrees_of_freedom)
    assert row["difference_ci_low"] == pytest.approx(2.5 - quantile * math.sqrt(25 / 12))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(math.sqrt(3), degrees_of_freedom))
    # relative lift 5/2.5 − 1 = 1, variance (5/3)/2.5² + 5²·(5/12)/2.5⁴ = 8/15
    assert row["relative_lift"] == pytest.approx(1.0)
    assert row["relative_lift_ci_high"] == pytest.approx(1 + quantile * math.sqrt(8 / 15))
    assert math.isnan(row["variance_reduction"])
    assert list(experiment_readout(units, "arm", control="control", metrics={"v": "value"}).columns) == READOUT_COLUMNS


def test_when_a_metric_is_zero_or_one_then_it_is_a_two_proportion_z_test_with_a_wald_interval():
    units = _units({"bought": [1] * 10 + [0] * 90}, {"bought": [1] * 20 + [0] * 80})
    row = experiment_readout(units, "arm", control="control", metrics={"conversion": "bought"}).iloc[0]
    assert row["control_mean"] == pytest.approx(0.1) and row["arm_mean"] == pytest.approx(0.2)
    # pooled 0.15: z = 0.1 / sqrt(0.15·0.85·(2/100)); Wald se sqrt(0.1·0.9/100 + 0.2·0.8/100) = 0.05
    assert row["statistic"] == pytest.approx(0.1 / math.sqrt(0.15 * 0.85 * 0.02))
    assert row["difference_ci_low"] == pytest.approx(0.1 - Z95 * 0.05)
    # lift 1, variance 0.0016/0.01 + 0.2²·0.0009/0.1⁴ = 0.52
    assert row["relative_lift_ci_low"] == pytest.approx(1 - Z95 * math.sqrt(0.52))


@pytest.mark.parametrize("seed", range(5))
def test_when_data_are_random_then_tests_match_statsmodels(seed):
    units = _random_units(seed)
    readout = experiment_readout(
        units, "arm", control="control", metrics={"conversion": "converted", "revenue": "revenue"}
    ).set_index("metric")
    control, treatment = (units[units["arm"] == arm] for arm in ("control", "treatment"))
    t, p, _ = ttest_ind(treatment["revenue"], control["revenue"], usevar="unequal")
    low, high = CompareMeans(DescrStatsW(treatment["revenue"]), DescrStatsW(control["revenue"])).tconfint_diff(
        usevar="unequal"
    )
    assert readout.loc["revenue", ["statistic", "p_value"]].tolist() == pytest.approx([t, p], rel=1e-9)
    assert readout.loc["revenue", ["difference_ci_low", "difference_ci_high"]].tolist() == pytest.approx(
        [low, high], rel=1e-9
    )
    counts = [treatment["converted"].sum(), control["converted"].sum()]
    z, p = proportions_ztest(counts, [len(treatment), len(control)])
    assert readout.loc["conversion", ["statistic", "p_value"]].tolist() == pytest.approx([z, p], rel=1e-9)
    holm = multipletests(readout["p_value"], method="holm")[1]
    assert readout["p_value_adjusted"].tolist() == pytest.approx(holm.tolist())
    assert readout["real"].tolist() == (holm < 0.05).tolist()


def test_when_correction_is_bh_then_p_values_are_benjamini_hochberg_adjusted():
    units = _random_units(7, n=3000)
    metrics = {
        "conversion": "converted",
        "revenue": "revenue",
        "session_conversion": ("purchasing_sessions", "sessions"),
    }
    readout = experiment_readout(units, "arm", control="control", metrics=metrics, correction="bh")
    expected = multipletests(readout["p_value"], method="fdr_bh")[1]
    assert readout["p_value_adjusted"].tolist() == pytest.approx(expected.tolist())
    assert readout["metric"].tolist() == list(metrics)


def test_when_a_metric_is_a_ratio_then_its_variance_is_the_delta_method_on_unit_sums():
    units = _random_units(3)
    readout = experiment_readout(
        units, "arm", control="control", metrics={"session_conversion": ("purchasing_sessions", "sessions")}
    ).iloc[0]
    variances = {}
    for arm in ("control", "treatment"):
        a, b = (units.loc[units["arm"] == arm, c].to_numpy(float) for c in ("purchasing_sessions", "sessions"))
        ratio = a.sum() / b.sum()
        # oracle: the ratio's linearisation, var(a − R·b) / (n · mean(b)²)
        variances[arm] = np.var(a - ratio * b, ddof=1) / (len(a) * b.mean() ** 2)
        assert readout[f"{'arm' if arm == 'treatment' else 'control'}_mean"] == pytest.approx(ratio)
    se = math.sqrt(variances["control"] + variances["treatment"])
    assert readout["statistic"] == pytest.approx(readout["difference"] / se)
    assert readout["difference_ci_high"] - readout["difference"] == pytest.approx(Z95 * se)


def test_when_a_covariate_is_given_then_cuped_matches_the_per_unit_adjustment_with_pooled_theta():
    units = _random_units(11, n=1000)
    readout = experiment_readout(
        units, "arm", control="control", metrics={"revenue": "revenue"}, covariates={"revenue": "revenue_pre"}
    ).iloc[0]
    x, y = units["revenue_pre"].to_numpy(), units["revenue"].to_numpy()
    theta = np.cov(x, y)[0, 1] / np.var(x, ddof=1)
    adjusted = y - theta * (x - x.mean())
    treated = (units["arm"] == "treatment").to_numpy()
    difference = adjusted[treated].mean() - adjusted[~treated].mean()
    var_cuped = (
        np.var(adjusted[treated], ddof=1) / treated.sum() + np.var(adjusted[~treated], ddof=1) / (~treated).sum()
    )
    var_raw = np.var(y[treated], ddof=1) / treated.sum() + np.var(y[~treated], ddof=1) / (~treated).sum()
    assert readout["difference"] == pytest.approx(difference)
    assert readout["variance_reduction"] == pytest.approx(1 - var_cuped / var_raw)
    assert readout["statistic"] == pytest.approx(difference / math.sqrt(var_cuped))
    assert readout["relative_lift"] == pytest.approx(adjusted[treated].mean() / adjusted[~treated].mean() - 1)
    assert readout["control_mean"] == pytest.approx(y[~treated].mean())  # the observed means are reported


def test_when_there_are_two_treatment_arms_then_each_is_compared_with_control_and_corrected_on_its_own():
    units = _random_units(5, n=900)
    units.loc[units.index % 3 == 0, "arm"] = "b"
    metrics = {"conversion": "converted", "revenue": "revenue"}
    readout = experiment_readout(units, "arm", control="control", metrics=metrics)
    assert readout[["metric", "arm"]].values.tolist() == [
        ["conversion", "b"],
        ["conversion", "treatment"],
        ["revenue", "b"],
        ["revenue", "treatment"],
    ]
    for _, rows in readout.groupby("arm"):
        assert rows["p_value_adjusted"].tolist() == pytest.approx(multipletests(rows["p_value"], method="holm")[1])


def test_when_statistics_are_by_segment_then_each_segment_reads_out_as_its_own_experiment():
    units = _random_units(2, n=600)
    units["device"] = np.where(np.arange(600) % 2 == 0, "mobile", "desktop")
    metrics = {"revenue": "revenue"}
    statistics = sufficient_statistics(units, "arm", ["revenue"], by="device")
    by_segment = readout_from_statistics(statistics, "arm", control="control", metrics=metrics, by="device")
    assert by_segment["device"].tolist() == ["desktop", "mobile"]
    mobile = experiment_readout(units[units["device"] == "mobile"], "arm", control="control", metrics=metrics)
    pd.testing.assert_frame_equal(
        by_segment.iloc[[1]][READOUT_COLUMNS].reset_index(drop=True), mobile, check_dtype=False
    )
    assert by_segment["difference_se"].iloc[1] == pytest.approx(
        mobile["difference"].iloc[0] / mobile["statistic"].iloc[0]
    )


def test_when_sufficient_statistics_are_taken_then_they_are_the_sums_per_arm():
    units = _units({"x": [1, 2], "y": [3, 4]}, {"x": [5, 6, 7], "y": [0, 1, 0]})
    statistics = sufficient_statistics(units, "arm", ["x", ("x", "y")])
    assert statistics["arm"].tolist() == ["control", "treatment"]
    assert statistics["n"].tolist() == [2, 3]
    assert statistics["sum__x"].tolist() == [3, 18]
    assert statistics["sum__x__x"].tolist() == [5, 110]
    assert statistics["sum__y__y"].tolist() == [25, 1]
    assert statistics["sum__x__y"].tolist() == [11, 6]


def test_when_helpers_get_sums_then_they_agree_with_the_readout():
    units = _random_units(9)
    readout = experiment_readout(
        units,
        "arm",
        control="control",
        metrics={"conversion": "converted", "revenue": "revenue", "sc": ("purchasing_sessions", "sessions")},
    ).set_index("metric")
    c, t = (units[units["arm"] == arm] for arm in ("control", "treatment"))
    welch = welch_from_sums(
        len(c), c.revenue.sum(), (c.revenue**2).sum(), len(t), t.revenue.sum(), (t.revenue**2).sum()
    )
    assert float(welch.p_value) == pytest.approx(readout.loc["revenue", "p_value"])
    proportions = proportions_from_sums(len(c), c.converted.sum(), len(t), t.converted.sum())
    assert float(proportions.statistic) == pytest.approx(readout.loc["conversion", "statistic"])
    columns = ["purchasing_sessions", "sessions"]
    ratio = ratio_from_sums(ArmSums.of(c[columns].to_numpy()), ArmSums.of(t[columns].to_numpy()))
    assert float(ratio.relative_lift) == pytest.approx(readout.loc["sc", "relative_lift"])


def test_when_control_is_not_an_arm_then_the_error_names_the_arms():
    units = _units({"x": [1, 2]}, {"x": [3, 4]})
    with pytest.raises(ParameterError) as error:
        experiment_readout(units, "arm", control="baseline", metrics={"x": "x"})
    assert error.value.parameter == "control" and error.value.valid == ["control", "treatment"]


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"metrics": {}}, "metrics"),
        ({"metrics": {"x": ("x",)}}, "metrics"),
        ({"metrics": {"x": "x"}, "covariates": {"x": ("x", "x")}}, "covariates"),
        ({"metrics": {"x": "x"}, "covariates": {"other": "x"}}, "covariates"),
        ({"metrics": {"x": "x"}, "correction": "bonferroni"}, "correction"),
        ({"metrics": {"x": "nope"}}, "columns"),
    ],
)
def test_when_an_argument_is_invalid_then_a_parameter_error_names_it(arguments, parameter):
    units = _units({"x": [1, 2]}, {"x": [3, 4]})
    with pytest.raises(ParameterError) as error:
        experiment_readout(units, "arm", control="control", **arguments)
    assert error.value.parameter == parameter


def test_when_a_metric_has_missing_values_then_a_data_error_names_the_column():
    units = _units({"x": [1.0, None]}, {"x": [3.0, 4.0]})
    with pytest.raises(DataError) as error:
        experiment_readout(units, "arm", control="control", metrics={"x": "x"})
    assert error.value.column == "x"


@pytest.mark.slow
def test_when_run_on_spark_then_sufficient_statistics_equal_duckdb(spark_backend):
    units = _random_units(4)
    units["device"] = np.where(np.arange(len(units)) % 3 == 0, "mobile", "desktop")
    columns = ["converted", ("revenue", "revenue_pre"), ("purchasing_sessions", "sessions")]
    on_spark = sufficient_statistics(
        spark_backend.create_table("experiment_units", units, overwrite=True), "arm", columns, by="device"
    )
    on_duckdb = sufficient_statistics(units, "arm", columns, by="device")
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, rtol=1e-12)
