"""Callaway & Sant'Anna against csdid 0.4.3, a Python port of R's ``did`` (a test-only oracle), to 1e-6.

csdid runs with ``est_method="reg"``, ``bstrap=False``, ``cband=False`` and no covariates: analytic influence-function
standard errors, R's ``att_gt(..., bstrap = FALSE, cband = FALSE)``. Without covariates every estimation method is the
2×2 difference of mean changes, so the choice of method does not matter.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest
import pytest

from analysis.metrics.impact.staggered import callaway_santanna

csdid_att_gt = pytest.importorskip("csdid.att_gt")

TOLERANCE = 1e-6
CONTROLS = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}
DF_HET = Path(pyfixest.__file__).parent / "did" / "data" / "df_het.csv"


def random_panel(seed: int) -> pd.DataFrame:
    """A staggered panel with cohorts in and after the window, some treated in the first period, and weights."""
    rng = np.random.default_rng(seed)
    units, periods = int(rng.integers(40, 90)), int(rng.integers(4, 8))
    first = rng.choice([0, 1, 3, 4, periods, periods + 2], size=units, p=[0.3, 0.05, 0.2, 0.2, 0.15, 0.1])
    level, weight = rng.normal(size=units), rng.uniform(0.5, 2.0, size=units)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), periods),
            "period": np.tile(np.arange(1, periods + 1), units),
            "first": np.repeat(first, periods),
            "weight": np.repeat(weight, periods),
            "level": np.repeat(level, periods),
        }
    )
    treated = (frame["first"] > 0) & (frame["period"] >= frame["first"])
    effect = 1.0 + 0.3 * (frame["period"] - frame["first"])
    frame["y"] = frame["level"] + 0.2 * frame["period"] + treated * effect + rng.normal(size=len(frame))
    return frame.drop(columns="level")


def oracle(panel, outcome, unit, time, first, control, base_period, weights):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        fitted = csdid_att_gt.ATTgt(
            yname=outcome,
            tname=time,
            idname=unit,
            gname=first,
            data=panel.copy(),
            control_group=CONTROLS[control],
            weights_name=weights,
            cband=False,
        ).fit(est_method="reg", base_period=base_period, bstrap=False)
    return fitted


def oracle_aggregate(fitted, kind, **window):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fitted.aggte(kind, **window).atte


def assert_equal_to_oracle(result, fitted):
    table = result.group_time
    np.testing.assert_allclose(table["group"].astype(float), np.asarray(fitted.MP["group"], float))
    np.testing.assert_allclose(table["time"].astype(float), np.asarray(fitted.MP["t"], float))
    np.testing.assert_allclose(table["att"], np.asarray(fitted.MP["att"], float), atol=TOLERANCE)
    np.testing.assert_allclose(table["se"], np.asarray(fitted.results["se"], float), atol=TOLERANCE)
    for kind, window in [
        ("simple", {}),
        ("group", {}),
        ("dynamic", {}),
        ("dynamic", {"min_e": -2, "max_e": 2}),
        ("dynamic", {"balance_e": 1}),
        ("calendar", {}),
    ]:
        expected = oracle_aggregate(fitted, kind, **window)
        mine = result.aggregate(kind, **window)
        assert mine.overall_att == pytest.approx(expected["overall_att"], abs=TOLERANCE), (kind, window)
        assert mine.overall_se == pytest.approx(expected["overall_se"], abs=TOLERANCE), (kind, window)
        if kind != "simple":
            np.testing.assert_allclose(mine.effects.iloc[:, 0].astype(float), np.asarray(expected["egt"], float))
            np.testing.assert_allclose(mine.effects["att"], np.asarray(expected["att_egt"], float), atol=TOLERANCE)
            np.testing.assert_allclose(
                mine.effects["se"], np.asarray(expected["se_egt"], float).ravel(), atol=TOLERANCE
            )
    test = result.pretest()
    assert test.statistic == pytest.approx(fitted.MP["W"], abs=TOLERANCE)
    # csdid rounds the p-value to 5 decimals, as R's summary does.
    assert test.p_value == pytest.approx(fitted.MP["Wpval"], abs=1e-5)


@pytest.mark.parametrize("seed", [3, 17, 29])
@pytest.mark.parametrize("control", list(CONTROLS))
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_when_random_panels_then_cells_aggregations_and_pretest_equal_csdid(seed, control, base_period):
    panel = random_panel(seed)
    weights = "weight" if seed % 2 else None

    result = callaway_santanna(
        panel, "y", "unit", "period", "first", control=control, base_period=base_period, weights=weights
    )

    assert_equal_to_oracle(result, oracle(panel, "y", "unit", "period", "first", control, base_period, weights))


@pytest.mark.parametrize("control", list(CONTROLS))
def test_when_pyfixest_df_het_panel_then_everything_equals_csdid(control):
    panel = pd.read_csv(DF_HET)

    result = callaway_santanna(panel, "dep_var", "unit", "year", "g", control=control)

    assert_equal_to_oracle(result, oracle(panel, "dep_var", "unit", "year", "g", control, "varying", None))
    assert result.n_units == 1500
