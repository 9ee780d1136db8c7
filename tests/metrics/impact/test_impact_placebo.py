"""The bootstrap's size and coverage on simulated market × month count panels (binomial sessions, no market shocks).

A placebo: every treated market's launch moved six months earlier and the data cut before the true launch, so no
effect exists; the session-sampling bootstrap must call it "not real" in at least 93% of panels. With a true effect
the interval must cover it about 95% of the time.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics.impact.sampling import bootstrap_effect, did_maps, rate_draws
from analysis.metrics.stats import is_real

MARKETS, MONTHS = 8, 12  # twelve pre-launch months of the true design
FAKE_LAUNCHES = np.array([4, 5, 6, 6, 7, 8, 0, 0])  # six months before US, GB, DE, CA, AU, FR; JP and NL never
SESSIONS = 20_000  # per market and month


def simulated(rng, effect: float) -> tuple[np.ndarray, np.ndarray]:
    level = rng.uniform(0.09, 0.15, size=MARKETS)[:, None]
    season = 0.01 * np.sin(np.arange(MONTHS) / 2)[None, :]
    truth = level + season
    months = np.arange(1, MONTHS + 1)[None, :]
    truth = truth + effect * ((FAKE_LAUNCHES[:, None] > 0) & (months >= FAKE_LAUNCHES[:, None]))
    sessions = np.full((MARKETS, MONTHS), SESSIONS)
    return sessions, rng.binomial(sessions, truth) / sessions


def judged(effect: float, panels: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    maps = did_maps(FAKE_LAUNCHES, MONTHS)
    results = []
    for index in range(panels):
        sessions, rates = simulated(rng, effect)
        draws = rate_draws(sessions, rates, draws=200, seed=seed + index)
        results.append(bootstrap_effect(maps.simple, maps.simple_level, rates, draws, alpha=0.05))
    return results


def test_when_a_fake_launch_precedes_the_true_one_then_at_least_93_percent_of_panels_show_no_real_effect():
    results = judged(0.0, panels=300, seed=100)
    not_real = np.mean([not is_real(result.p_value) for result in results])
    assert not_real >= 0.93


def test_when_a_true_effect_exists_then_the_interval_covers_it_near_95_percent():
    results = judged(0.02, panels=300, seed=200)
    covered = np.mean([result.effect_ci_low <= 0.02 <= result.effect_ci_high for result in results])
    assert covered == pytest.approx(0.95, abs=0.04)
    assert np.mean([is_real(result.p_value) for result in results]) > 0.99  # 0.02 is ~15 standard errors
