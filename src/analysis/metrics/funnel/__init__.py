"""Customer-journey funnels: units reaching each step in order within a window, by breakdown, with intervals and tests.

``analyse_journey`` is the subject's one entry point; the functions below it are public for use at a prompt.
"""

from analysis.metrics.funnel.counts import (
    FunnelError,
    as_events_table,
    cart_abandonment,
    check_funnel_arguments,
    compare_funnel_groups,
    conversion_window,
    funnel,
    funnel_from_depth_counts,
    group_vs_rest,
    weekly_conversion,
)
from analysis.metrics.funnel.journey import JourneyAnalysis, analyse_journey
from analysis.metrics.funnel.timing import TimeToConvert, time_to_convert

__all__ = [
    "FunnelError",
    "JourneyAnalysis",
    "TimeToConvert",
    "analyse_journey",
    "as_events_table",
    "cart_abandonment",
    "check_funnel_arguments",
    "compare_funnel_groups",
    "conversion_window",
    "funnel",
    "funnel_from_depth_counts",
    "group_vs_rest",
    "time_to_convert",
    "weekly_conversion",
]
