"""Findings sentences of the funnel notebook say what the metric frames hold, and nothing else."""

from __future__ import annotations

import pandas as pd

from analysis.metrics.funnel.journey import Contrast
from analysis.present.funnel import contrast_sentence, timing_sentences


def test_when_timing_is_summarised_then_the_overall_median_and_slowest_step_are_named():
    summary = pd.DataFrame(
        {
            "from_step": ["session_start", "view_item", "session_start"],
            "to_step": ["view_item", "purchase", "overall"],
            "units": [900, 100, 900],
            "q1_seconds": [10.0, 120.0, 43.0],
            "median_seconds": [30.0, 5400.0, 96.0],
            "q3_seconds": [60.0, 7200.0, 186.0],
        }
    )
    assert timing_sentences(summary, "session") == [
        "Half of the sessions that went past Visit reached their deepest step within 1.6 min "
        "(middle half between 43 s and 3.1 min; 900 sessions).",
        "The slowest step is Product view → Purchase: median 1.5 h.",
    ]


def test_when_a_difference_interval_excludes_zero_then_the_sentence_calls_it_real():
    contrast = Contrast("device", "mobile", 0.71, (0.69, 0.73), "desktop", 0.62, 0.09, (0.05, 0.13), 1e-4)
    assert contrast_sentence(contrast, "abandon carts at", "session") == (
        "By device: mobile sessions abandon carts at 71.0% (95% CI 69.0–73.0%), 9.0 pts more than desktop at 62.0% "
        "(95% CI +5.0 to +13.0 pts, p = 0.0001: a real difference)."
    )


def test_when_a_difference_interval_spans_zero_then_the_sentence_says_noise():
    contrast = Contrast("channel", "social", 0.375, (0.33, 0.43), "email", 0.34, 0.035, (-0.03, 0.10), 0.32)
    assert contrast_sentence(contrast, "abandon carts at", "user").endswith("p = 0.32: within the noise).")
