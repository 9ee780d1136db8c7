"""Customer-journey funnels: units reaching each step in order within a window, by breakdown, with intervals and tests.

``analyse_funnel`` is the subject's one entry point (it returns a :class:`FunnelAnalysis`); the functions below it
are public for use at a prompt. ``group_vs_rest`` lives in :mod:`analysis.metrics.stats` and is re-exported here.
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
from analysis.metrics.funnel.journey import FunnelAnalysis, analyse_funnel
from analysis.metrics.funnel.timing import TimeToConvert, time_to_convert

__all__ = [
    "FunnelAnalysis",
    "FunnelError",
    "TimeToConvert",
    "analyse_funnel",
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
