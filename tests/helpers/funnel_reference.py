"""Shared by the funnel tests: a brute-force reference (plain Python, one unit at a time) and small event logs."""

from __future__ import annotations

import itertools

import pandas as pd
from hypothesis import strategies as st

T0 = pd.Timestamp("2025-03-03 00:00", tz="UTC")  # a Monday
STEPS = ["session_start", "view_item", "add_to_cart", "purchase"]


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (user_id, session_id, minutes after T0, event_name, device)."""
    frame = pd.DataFrame(rows, columns=["user_id", "session_id", "minute", "event_name", "device"])
    frame["event_time"] = T0 + pd.to_timedelta(frame.pop("minute"), unit="min")
    return frame


def reference_depth(events: list[tuple[int, str]], steps: list[str], window: int, mode: str) -> int:
    """Deepest step reached by one unit; ``events`` are (minute, event_name), in any order."""
    position = {name: index for index, name in enumerate(steps)}
    if mode == "ordered":
        best = 0
        for start, name in events:
            if name != steps[0]:
                continue
            depth, now = 1, start
            for step in steps[1:]:
                # the earliest later-or-equal event of the next step is always the best choice for a fixed start
                candidates = [t for t, n in events if n == step and now <= t <= start + window]
                if not candidates:
                    break
                now, depth = min(candidates), depth + 1
            best = max(best, depth)
        return best
    if mode == "strict_order":
        ordered = sorted(events, key=lambda e: (e[0], position.get(e[1], len(steps))))
        best = 0
        for i, (start, name) in enumerate(ordered):
            if name != steps[0]:
                continue
            depth = 1
            while (
                i + depth < len(ordered)
                and depth < len(steps)
                and ordered[i + depth][1] == steps[depth]
                and ordered[i + depth][0] <= start + window
            ):
                depth += 1
            best = max(best, depth)
        return best
    # any_order: the longest prefix of steps that all occur within some interval [a, a + window]
    best = 0
    for a, _ in events:
        inside = {n for t, n in events if a <= t <= a + window}
        depth = 0
        while depth < len(steps) and steps[depth] in inside:
            depth += 1
        best = max(best, depth)
    return best


def reference_funnel(rows: list[tuple], steps: list[str], window: int, mode: str, unit: str, by: bool) -> dict:
    """{(device or None, step_index): units} computed unit by unit."""
    units: dict[tuple, list[tuple]] = {}
    for user, session, minute, name, device in rows:
        key = (user,) if unit == "user" else (user, session)
        units.setdefault(key, []).append((minute, name, device))
    counts: dict[tuple, int] = {}
    for events in units.values():
        firsts = sorted((t, d) for t, n, d in events if n == steps[0])
        if not firsts:
            continue
        group = firsts[0][1] if by else None
        depth = reference_depth([(t, n) for t, n, _ in events], steps, window, mode)
        for step_index in range(1, len(steps) + 1):
            counts.setdefault((group, step_index), 0)
            counts[(group, step_index)] += int(depth >= step_index)
    return counts


event_rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["s1", "s2"]),
        st.integers(min_value=0, max_value=12),
        st.sampled_from([*STEPS, "page_view"]),
        st.sampled_from(["desktop", "mobile"]),
    ),
    max_size=24,
)


def reference_chain(events: list[tuple[int, str]], steps: list[str], window: int, mode: str) -> list[int]:
    """Times of the chain that defines one unit's depth (documented in ``analysis.metrics.funnel.chains``).

    Found by enumerating every valid chain: ``ordered``: among chains reaching the depth, those ending earliest, then
    the latest time at each position (the documented chain is the latest at every position at once); ``strict_order``:
    the run of consecutive events reaching the depth that ends earliest. ``[]`` when the unit never starts.
    """
    depth = reference_depth(events, steps, window, mode)
    if depth == 0:
        return []
    if mode == "ordered":
        times = [sorted({t for t, n in events if n == step}) for step in steps[:depth]]
        chains = [
            chain
            for chain in itertools.product(*times)
            if all(a <= b for a, b in itertools.pairwise(chain)) and chain[-1] <= chain[0] + window
        ]
        end = min(chain[-1] for chain in chains)
        ending = [chain for chain in chains if chain[-1] == end]
        return [max(chain[m] for chain in ending) for m in range(depth)]
    position = {name: index for index, name in enumerate(steps)}
    ordered = sorted(events, key=lambda e: (e[0], position.get(e[1], len(steps))))
    runs = [
        [t for t, _ in ordered[i : i + depth]]
        for i in range(len(ordered) - depth + 1)
        if [n for _, n in ordered[i : i + depth]] == steps[:depth]
        and ordered[i + depth - 1][0] <= ordered[i][0] + window
    ]
    return min(runs, key=lambda run: run[-1])


def reference_durations(rows: list[tuple], steps: list[str], window: int, mode: str, unit: str) -> dict:
    """{transition_index: [minutes, …]} over units, as in ``time_to_convert`` (k = overall, step 1 to deepest)."""
    units: dict[tuple, list[tuple]] = {}
    for user, session, minute, name, _ in rows:
        key = (user,) if unit == "user" else (user, session)
        units.setdefault(key, []).append((minute, name))
    durations: dict[int, list[int]] = {}
    for events in units.values():
        chain = reference_chain(events, steps, window, mode)
        for i in range(1, len(chain)):
            durations.setdefault(i, []).append(chain[i] - chain[i - 1])
        if len(chain) >= 2:
            durations.setdefault(len(steps), []).append(chain[-1] - chain[0])
    return durations


JOURNEYS = events_frame(
    [
        # u1: a full chain inside 60 minutes, with a page view in between
        ("u1", "s1", 0, "session_start", "mobile"),
        ("u1", "s1", 10, "view_item", "mobile"),
        ("u1", "s1", 11, "page_view", "mobile"),
        ("u1", "s1", 20, "add_to_cart", "mobile"),
        ("u1", "s1", 60, "purchase", "mobile"),  # exactly at the window edge: counts
        # u2: first attempt stalls after viewing; a second attempt a day later reaches the cart
        ("u2", "s1", 0, "session_start", "desktop"),
        ("u2", "s1", 5, "view_item", "desktop"),
        ("u2", "s2", 1440, "session_start", "mobile"),
        ("u2", "s2", 1441, "add_to_cart", "mobile"),  # cart before the view: does not count in order
        ("u2", "s2", 1450, "view_item", "mobile"),
        ("u2", "s2", 1460, "add_to_cart", "mobile"),
        # u3: purchase one minute past the window
        ("u3", "s1", 0, "session_start", "desktop"),
        ("u3", "s1", 1, "view_item", "desktop"),
        ("u3", "s1", 2, "add_to_cart", "desktop"),
        ("u3", "s1", 61, "purchase", "desktop"),
        # u4: never starts (no session_start)
        ("u4", "s1", 0, "view_item", "desktop"),
        ("u4", "s1", 1, "add_to_cart", "desktop"),
    ]
)
