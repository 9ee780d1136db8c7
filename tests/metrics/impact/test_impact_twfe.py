"""TWFE DiD and event study through pyfixest against statsmodels OLS with unit and period dummies and the cluster
sandwich written out, rescaled by hand to fixest's small-sample convention."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.twfe import event_study, event_times, twfe_did

LAUNCHES = {"u0": 3, "u1": 5, "u2": None, "u3": 4, "u4": None, "u5": 6, "u6": 3, "u7": None}
PERIODS = 9


def small_panel(seed: int = 1) -> pd.DataFrame:
    """Eight units (five launched at periods 3–6, three never) over nine periods, effect 1.0, two regions."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, (unit, launch) in enumerate(LAUNCHES.items()):
        for period in range(PERIODS):
            treated = int(launch is not None and period >= launch)
            rows.append(
                {
                    "unit": unit,
                    "region": "north" if index < 4 else "south",
                    "period": period,
                    "first_treated": np.nan if launch is None else float(launch),
                    "treated": treated,
                    "sessions": float(rng.integers(50, 500)),
                    "y": 0.3 * index + 0.1 * period + 1.0 * treated + rng.normal(scale=0.5),
                }
            )
    return pd.DataFrame(rows)


def dummies_design(panel: pd.DataFrame, regressors: pd.DataFrame) -> pd.DataFrame:
    """The regressors, an intercept, and unit and period dummies (first level of each dropped)."""
    units = pd.get_dummies(panel["unit"], prefix="unit", drop_first=True, dtype=float)
    periods = pd.get_dummies(panel["period"], prefix="period", drop_first=True, dtype=float)
    return pd.concat([regressors, sm.add_constant(units), periods], axis=1)


def fixest_cluster_covariance(design, residuals, clusters, weights, k_fixest):
    """(X'WX)⁻¹ Σ_g (X_g'W u_g)(X_g'W u_g)' (X'WX)⁻¹ · G/(G−1) · (n−1)/(n−k): fixest's CRV1, written out."""
    x = design.to_numpy()
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    bread = np.linalg.inv(x.T @ (w[:, None] * x))
    meat = np.zeros_like(bread)
    for group in np.unique(clusters):
        members = np.asarray(clusters) == group
        score = x[members].T @ (w[members] * residuals[members])
        meat += np.outer(score, score)
    n, g = len(x), len(np.unique(clusters))
    return bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k_fixest)


@pytest.mark.parametrize(("cluster", "weighted"), [("unit", False), ("region", False), ("unit", True)])
def test_when_twfe_is_fitted_then_it_equals_ols_with_dummies_and_fixests_cluster_formula(cluster, weighted):
    panel = small_panel()
    weights = panel["sessions"] if weighted else None
    design = dummies_design(panel, panel[["treated"]].astype(float))
    fitted = sm.WLS(panel["y"], design, weights=1.0 if weights is None else weights).fit()
    # Units are nested in both cluster choices, so fixest counts the slope and the nine period levels only.
    k_fixest = 1 + PERIODS
    covariance = fixest_cluster_covariance(design, fitted.resid.to_numpy(), panel[cluster], weights, k_fixest)
    se = float(np.sqrt(covariance[0, 0]))
    g = panel[cluster].nunique()

    result = twfe_did(
        panel, "y", "unit", "period", "treated", cluster=None if cluster == "unit" else cluster,
        weights="sessions" if weighted else None,
    )  # fmt: skip

    assert result.estimate == pytest.approx(fitted.params["treated"], abs=1e-8)
    assert result.se == pytest.approx(se, abs=1e-8)
    assert result.df == g - 1
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(fitted.params["treated"] / se), g - 1), abs=1e-8)
    critical = stats.t.ppf(0.975, g - 1)
    assert result.ci_low == pytest.approx(fitted.params["treated"] - critical * se, abs=1e-8)
    assert result.ci_high == pytest.approx(fitted.params["treated"] + critical * se, abs=1e-8)
    assert (result.n_obs, result.n_clusters, result.cluster) == (len(panel), g, cluster)


def test_when_statsmodels_clusters_then_rescaling_its_factor_gives_the_same_se():
    panel = small_panel(seed=3)
    design = dummies_design(panel, panel[["treated"]].astype(float))
    groups = pd.factorize(panel["unit"])[0]
    fitted = sm.OLS(panel["y"], design).fit(cov_type="cluster", cov_kwds={"groups": groups})
    n, k_all = len(panel), design.shape[1]
    # statsmodels counts every dummy in k; fixest leaves out the unit dummies nested in the clusters.
    rescale = ((n - 1) / (n - (1 + PERIODS))) / ((n - 1) / (n - k_all))
    expected = float(fitted.bse["treated"]) * np.sqrt(rescale)

    assert twfe_did(panel, "y", "unit", "period", "treated").se == pytest.approx(expected, abs=1e-8)


def test_when_the_event_study_is_fitted_then_it_equals_ols_with_the_same_event_dummies():
    panel = small_panel(seed=2)
    relative = event_times(panel, "period", "first_treated")
    kept = [e for e in sorted(relative.dropna().unique().astype(int)) if e != -1]
    events = pd.DataFrame({f"e{e}": (relative == e).astype(float) for e in kept})
    design = dummies_design(panel, events)
    fitted = sm.OLS(panel["y"], design).fit()
    covariance = fixest_cluster_covariance(design, fitted.resid.to_numpy(), panel["unit"], None, len(kept) + PERIODS)

    study = event_study(panel, "y", "unit", "period", "first_treated").set_index("event_time")

    assert list(study.index) == sorted([*kept, -1])
    assert study.loc[-1, "estimate"] == 0.0 and np.isnan(study.loc[-1, "se"]) and study.loc[-1, "is_reference"]
    for position, e in enumerate(kept):
        assert study.loc[e, "estimate"] == pytest.approx(fitted.params[f"e{e}"], abs=1e-8)
        assert study.loc[e, "se"] == pytest.approx(np.sqrt(covariance[position, position]), abs=1e-8)
    t = study.loc[0, "estimate"] / study.loc[0, "se"]
    assert study.loc[0, "p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 7), abs=1e-12)


def test_when_a_window_is_given_then_the_ends_are_binned():
    panel = small_panel(seed=4)
    relative = event_times(panel, "period", "first_treated").clip(-2, 2)
    kept = [-2, 0, 1, 2]
    design = dummies_design(panel, pd.DataFrame({f"e{e}": (relative == e).astype(float) for e in kept}))
    fitted = sm.OLS(panel["y"], design).fit()

    study = event_study(panel, "y", "unit", "period", "first_treated", window=(-2, 2)).set_index("event_time")

    assert list(study.index) == [-2, -1, 0, 1, 2]
    for e in kept:
        assert study.loc[e, "estimate"] == pytest.approx(fitted.params[f"e{e}"], abs=1e-8)


def test_when_periods_are_dates_then_event_time_counts_periods_and_late_launches_count_as_never():
    weeks = pd.to_datetime(["2025-09-01", "2025-09-08", "2025-09-15", "2025-09-22"])
    panel = pd.DataFrame(
        {
            "week": list(weeks) * 3,
            "launch": [pd.Timestamp("2025-09-10")] * 4 + [pd.NaT] * 4 + [pd.Timestamp("2026-01-01")] * 4,
        }
    )

    relative = event_times(panel, "week", "launch")

    assert relative.iloc[:4].tolist() == [-2, -1, 0, 1]  # launched mid-week: the next week is event time 0
    assert relative.iloc[4:].isna().all()


def test_when_treated_never_varies_or_a_column_is_missing_then_typed_errors_say_so():
    panel = small_panel().assign(treated=0)
    with pytest.raises(DataError, match="one value only"):
        twfe_did(panel, "y", "unit", "period", "treated")
    with pytest.raises(ParameterError, match="no column 'conversion'") as caught:
        twfe_did(panel, "conversion", "unit", "period", "treated")
    assert caught.value.column == "conversion"
    with pytest.raises(ParameterError, match="outside window"):
        event_study(small_panel(), "y", "unit", "period", "first_treated", reference=-5, window=(-3, 3))
