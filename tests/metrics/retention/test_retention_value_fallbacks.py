"""CLV by segment where buyers never drop out: the nested fallbacks on the small demo data; the planted demo order."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

from analysis.config import PROJECT_ROOT
from analysis.metrics.retention import analyse_retention
from analysis.scope import Scope
from analysis.sources import load_tables
from analysis.sources.demo import generate_demo_tables

PURCHASE_MODELS = {"BG/NBD", "NBD (no dropout detected)"}
SPEND_MODELS = {"Gamma–Gamma", "mean spend (no between-customer spread)"}


@pytest.fixture(scope="module")
def small_us():
    tables = load_tables(PROJECT_ROOT / "data" / "test-small")
    return analyse_retention(tables, Scope.parse("US", "2025-01-01", "2026-06-30"))


def test_when_demo_buyers_never_drop_out_then_us_clv_comes_from_the_nbd_model_with_the_reason_kept(small_us):
    fit = small_us.clv_fits.set_index("currency").loc["USD"]
    assert fit["failure"] is None and fit["interval_failure"] is None
    assert (
        fit["purchase_model"] == "NBD (no dropout detected)" and "runs towards no dropout" in fit["purchase_fallback"]
    )
    assert fit["r"] > 0 and fit["alpha"] > 0 and np.isnan(fit["a"]) and np.isnan(fit["b"])
    assert fit["spend_model"] in SPEND_MODELS
    if fit["spend_fallback"] is None:  # the spend model's parameters where it fitted, its mean where it fell back
        assert fit[["p", "q", "gamma"]].notna().all() and np.isnan(fit["mean_spend"])
    else:
        assert "no spread of spend" in fit["spend_fallback"] and fit["mean_spend_se"] > 0


def test_when_us_clv_is_shown_by_segment_then_every_large_segment_has_a_finite_interval_around_its_estimate(small_us):
    shown = small_us.clv[~small_us.clv["too_small"]]
    assert len(shown) >= 4 and set(shown["currency"]) == {"USD"}
    assert shown["interval_stable"].all()
    assert (shown["mean_clv_ci_low"] < shown["mean_clv"]).all() and (
        shown["mean_clv"] < shown["mean_clv_ci_high"]
    ).all()
    assert set(shown["purchase_model"]) <= PURCHASE_MODELS and set(shown["spend_model"]) <= SPEND_MODELS
    loyal = shown.set_index("segment").loc["Loyal enthusiast"]
    others = shown[shown["segment"] != "Loyal enthusiast"]
    assert loyal["mean_clv_ci_low"] > others["mean_clv_ci_high"].max()  # 0.81 purchases a quarter, the next 0.13


def test_when_every_currency_is_valued_then_models_fallbacks_and_failures_agree_row_by_row():
    tables = load_tables(PROJECT_ROOT / "data" / "test-small")
    fits = analyse_retention(tables, Scope.parse("ALL", "2025-01-01", "2026-06-30")).clv_fits
    for fit in fits.itertuples():
        if fit.failure:
            assert fit.purchase_model is None or fit.spend_model is None, fit.currency
            continue
        assert fit.purchase_model in PURCHASE_MODELS and fit.spend_model in SPEND_MODELS, fit.currency
        assert (fit.purchase_fallback is None) == (fit.purchase_model == "BG/NBD"), fit.currency
        assert (fit.spend_fallback is None) == (fit.spend_model == "Gamma–Gamma"), fit.currency
        assert np.isfinite([fit.r, fit.alpha]).all()
        assert np.isfinite([fit.a, fit.b]).all() == (fit.purchase_model == "BG/NBD"), fit.currency
    assert fits["failure"].isna().sum() >= 5  # of six currencies: JPY's BG/NBD stops at another boundary (a, b → ∞)


@pytest.fixture(scope="module")
def demo_us():
    tables = {name: ibis.memtable(frame) for name, frame in generate_demo_tables(users=60_000, seed=12).items()}
    return analyse_retention(tables, Scope.parse("US", "2025-01-01", "2026-06-30"))


@pytest.mark.slow  # 60,000 users: about 10 s
def test_when_segments_differ_in_purchase_rate_and_order_value_then_clv_follows_the_planted_order(demo_us):
    # Planted per user and quarter (sessions x session conversion x order-value factor x 38 USD): Loyal 0.81
    # purchases x 1.25 = 38.4 USD, Impulse 0.133 x 0.90 = 4.5, Deliberate 0.030 x 1.15 = 1.3, Bargain 0.038 x 0.70 =
    # 1.0, Social 0.012 x 0.85 = 0.38. The pooled purchase model shrinks buyers with one purchase towards the common
    # rate, so the three slow segments are not told apart; Loyal > Impulse > each of them is, with intervals.
    clv = demo_us.clv.set_index("segment")
    assert clv["interval_stable"].all() and not clv["too_small"].any()
    slow = clv.loc[["Deliberate researcher", "Bargain hunter", "Social explorer"]]
    assert clv.loc["Loyal enthusiast", "mean_clv_ci_low"] > clv.loc["Impulse buyer", "mean_clv_ci_high"]
    assert clv.loc["Impulse buyer", "mean_clv_ci_low"] > slow["mean_clv_ci_high"].max()
    assert demo_us.clv_fits.iloc[0]["purchase_model"] == "NBD (no dropout detected)"
