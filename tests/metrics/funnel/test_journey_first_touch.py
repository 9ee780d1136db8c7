"""At tied first starts each breakdown column takes its own smallest value, on the DuckDB list paths (coded and
struct minimum) and on the portable window functions alike, so each breakdown of the funnel analysis equals the funnel
by that column alone, whichever other columns are asked with it."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from itertools import permutations
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_funnel_duckdb import STEPS, frame

from analysis.metrics.funnel import analyse_funnel, cart_abandonment, funnel
from analysis.metrics.funnel.chains import duckdb_chains, duckdb_path

PATHS = ("coded", "struct", "portable")
COLUMNS = ("device", "channel", "tier")

# few users and instants, starts weighted up: most units start several times at their first instant
tied_rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["s1", "s2"]),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(["session_start", "session_start", "view_item", "add_to_cart", "purchase", "page_view"]),
        st.sampled_from(["desktop", "mobile", None]),
        st.sampled_from(["email", "search", None]),
        st.sampled_from([1, 2, None]),
    ),
    max_size=30,
)


def on_path(path: str) -> ExitStack:
    """Patches that make the funnel take ``path``: the DuckDB list path with coded or struct first touches, or the
    portable window-function version."""
    stack = ExitStack()
    if path == "struct":
        stack.enter_context(mock.patch.object(duckdb_path, "MAX_CODED_VALUES", 0))
    if path == "portable":
        stack.enter_context(mock.patch.object(duckdb_path, "supports", lambda *args: False))
        stack.enter_context(mock.patch.object(duckdb_chains, "supports_mode", lambda *args: False))
    return stack


def counts(frame: pd.DataFrame, column: str, count: str) -> list[tuple[str, int]]:
    """(group, count) pairs, a missing group (NaN in one table, None in the other) named ``"<missing>"``."""
    pairs = zip(frame[column], frame[count], strict=True)
    return sorted(("<missing>" if pd.isna(group) else str(group), int(n)) for group, n in pairs)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=tied_rows,
    pair=st.sampled_from(list(permutations(COLUMNS, 2))),
    window_steps=st.integers(min_value=1, max_value=4),
    unit=st.sampled_from(["user", "session"]),
    mode=st.sampled_from(["ordered", "strict_order", "any_order"]),
    path=st.sampled_from(PATHS),
)
def test_when_starts_tie_then_each_breakdown_of_the_analysis_equals_the_funnel_by_that_column_alone(
    data, pair, window_steps, unit, mode, path
):
    events = frame(data)
    steps, window = STEPS[:3], timedelta(microseconds=250_000 * window_steps)
    with on_path(path):
        analysis = analyse_funnel(
            events, None, steps, window, breakdowns=list(pair), unit=unit, mode=mode, min_group_size=1
        )
        if not analysis.started:
            return
        for column in pair:
            direct = funnel(events, steps, window, by=column, unit=unit, mode=mode)
            pd.testing.assert_frame_equal(analysis.by_breakdown[column], direct, check_dtype=False)
            carts = cart_abandonment(events, window, by=column, unit=unit)
            assert counts(analysis.abandonment[column], column, "trials") == counts(carts, column, "units_with_cart")


@pytest.mark.parametrize("path", PATHS)
def test_when_tied_starts_disagree_then_the_tier_is_the_same_with_or_without_the_channel(path):
    # one user, three starts at its first instant: (search, 1), (email, missing), (email, missing)
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 0, "session_start", "mobile", "email", None),
            ("u1", "s1", 0, "session_start", "mobile", "email", None),
            ("u1", "s1", 1, "view_item", "mobile", "email", None),
            ("u2", "s1", 2, "session_start", "desktop", "email", None),
        ]
    )
    steps, window = STEPS[:2], timedelta(seconds=1)
    with on_path(path):
        analysis = analyse_funnel(events, None, steps, window, breakdowns=["channel", "tier"], min_group_size=1)
        alone = funnel(events, steps, window, by="tier")
    tier = analysis.by_breakdown["tier"]
    # u1 counts under tier 1 (its smallest tier) and channel email (its smallest channel); u2 under a missing tier
    assert tier["tier"].isna().tolist() == [False, False, True, True]
    assert tier["tier"].iloc[:2].tolist() == [1, 1]
    assert tier["units"].tolist() == [1, 1, 1, 0]
    assert analysis.by_breakdown["channel"]["channel"].tolist() == ["email", "email"]
    assert analysis.by_breakdown["channel"]["units"].tolist() == [2, 1]
    pd.testing.assert_frame_equal(tier, alone, check_dtype=False)
