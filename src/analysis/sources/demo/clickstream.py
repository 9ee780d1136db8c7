"""Vectorised clickstream for one chunk of demo users: users → sessions → events, as an Arrow table.

Nothing here loops over users or events in Python: counts are drawn with NumPy, expanded with ``np.repeat``
and the identifiers are built with Arrow compute kernels, so a chunk of 40,000 users (about a million events)
takes a fraction of a second. The random stream of a chunk depends only on ``(seed, chunk index)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.contract import EVENT_NAMES, UTC_TIMESTAMP
from analysis.sources.demo.design import (
    AB_TEST_MARKET,
    CHANNEL_CART_FACTOR,
    CHANNEL_SHARES,
    CHECKOUT_PROB,
    CONVERSION_LIFT,
    DEVICE_SHARES,
    MARKETS,
    PAYMENT_PROB,
    PURCHASE_PROB,
    SEGMENTS,
    launch_timestamp,
    quarter_bounds,
)

TIME_UNIT = UTC_TIMESTAMP.unit  # the contract's resolution of times and dates
TICKS_PER_SECOND = int(np.timedelta64(1, "s") // np.timedelta64(1, TIME_UNIT))
NEVER = np.iinfo(np.int64).max
# Sessions start no later than this before a quarter ends, so that a session never spills past the period.
LATEST_START_BEFORE_QUARTER_END_S = 6 * 3600
# Streams of random numbers, so that adding draws to one part never changes another.
USERS_STREAM, SESSIONS_STREAM, EVENTS_STREAM = 1, 2, 3

MARKET_CODES = [m.code for m in MARKETS]
SEGMENT_NAMES = [s.name for s in SEGMENTS]
DEVICE_NAMES = list(DEVICE_SHARES)
CHANNEL_NAMES = list(CHANNEL_SHARES)
VARIANT_NAMES = ["control", "treatment"]
TREATMENT = 1
PURCHASE = EVENT_NAMES.index("purchase")

EVENTS_ARROW_SCHEMA = pa.schema(
    [
        ("event_time", pa.timestamp(TIME_UNIT, tz="UTC")),
        ("user_id", pa.string()),
        ("session_id", pa.string()),
        ("market", pa.string()),
        ("device", pa.string()),
        ("channel", pa.string()),
        ("event_name", pa.string()),
        ("segment", pa.string()),
        ("variant", pa.string()),
    ]
)


@dataclass(frozen=True)
class DemoUsers:
    """Users of one chunk: global index and attribute codes (indices into the name lists above)."""

    first_index: int
    market: np.ndarray
    segment: np.ndarray
    device: np.ndarray
    channel: np.ndarray
    ab_arm: np.ndarray  # 0 control, 1 treatment; only used in the A/B-test market after its launch
    user_id: pa.Array

    def __len__(self) -> int:
        return len(self.market)


@dataclass(frozen=True)
class ClickstreamChunk:
    """The events of one chunk of users, with where their purchases are (to attach orders to them)."""

    users: DemoUsers
    events: pa.Table  # EVENTS_ARROW_SCHEMA
    purchase_rows: np.ndarray  # row positions of purchase events in `events`
    purchase_user: np.ndarray  # chunk-local user position of each purchase


def _shares(items: dict[str, float] | list[float]) -> np.ndarray:
    values = np.array(list(items.values()) if isinstance(items, dict) else items, dtype=float)
    return values / values.sum()


def user_ids(first_index: int, count: int) -> pa.Array:
    """Pseudonymous ids ``u00000001`` ... in the order of the users' global index."""
    numbers = pc.cast(pa.array(np.arange(first_index, first_index + count, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise("u", pc.utf8_lpad(numbers, 8, "0"), "")


def draw_users(first_index: int, count: int, rng: np.random.Generator) -> DemoUsers:
    """``count`` users from global index ``first_index`` on, each with a market, segment, device, channel and arm."""
    return DemoUsers(
        first_index=first_index,
        market=rng.choice(len(MARKETS), size=count, p=_shares([m.user_share for m in MARKETS])),
        segment=rng.choice(len(SEGMENTS), size=count, p=_shares([s.user_share for s in SEGMENTS])),
        device=rng.choice(len(DEVICE_NAMES), size=count, p=_shares(DEVICE_SHARES)),
        channel=rng.choice(len(CHANNEL_NAMES), size=count, p=_shares(CHANNEL_SHARES)),
        ab_arm=(rng.random(count) < 0.5).astype(np.int8),
        user_id=user_ids(first_index, count),
    )


def launch_seconds_by_market() -> np.ndarray:
    """Launch time (seconds since epoch) per market index; NEVER where the initiative never launched."""
    launches = [launch_timestamp(m) for m in MARKETS]
    return np.array([NEVER if t is None else t.timestamp() for t in launches], dtype=np.int64)


def _segment_param(attribute: str) -> np.ndarray:
    return np.array([getattr(s, attribute) for s in SEGMENTS], dtype=float)


def _draw_sessions(users: DemoUsers, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Session owner (chunk-local user), 1-based number within the user (chronological), start in seconds."""
    bounds = quarter_bounds()
    quarter_start_s = np.array([s.timestamp() for s, _ in bounds], dtype=np.int64)
    quarter_span_s = np.array([(e - s).total_seconds() for s, e in bounds], dtype=np.int64)
    quarter_span_s -= LATEST_START_BEFORE_QUARTER_END_S

    per_quarter = _segment_param("sessions_per_quarter")[users.segment]
    counts = rng.poisson(per_quarter[:, None], size=(len(users), len(bounds)))
    owner = np.repeat(np.repeat(np.arange(len(users)), len(bounds)), counts.ravel())
    quarter = np.repeat(np.tile(np.arange(len(bounds)), len(users)), counts.ravel())
    start_s = quarter_start_s[quarter] + (rng.random(len(owner)) * quarter_span_s[quarter]).astype(np.int64)

    order = np.lexsort((start_s, owner))
    owner, start_s = owner[order], start_s[order]
    sessions_per_user = counts.sum(axis=1)
    first_of_user = np.cumsum(sessions_per_user) - sessions_per_user
    number = np.arange(len(owner)) - np.repeat(first_of_user, sessions_per_user) + 1
    return owner, number, start_s


def _funnel_probabilities(users: DemoUsers, owner: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """(sessions, 5) probabilities of view_item, add_to_cart, begin_checkout, add_payment_info, purchase,
    each given the previous step."""
    segment, device, channel = users.segment[owner], users.device[owner], users.channel[owner]
    channel_factor = np.array([CHANNEL_CART_FACTOR[c] for c in CHANNEL_NAMES])
    checkout = np.array([[CHECKOUT_PROB[(s, d)] for d in DEVICE_NAMES] for s in SEGMENT_NAMES])
    probabilities = np.empty((len(owner), 5))
    probabilities[:, 0] = _segment_param("view_prob")[segment]
    probabilities[:, 1] = np.minimum(_segment_param("cart_prob")[segment] * channel_factor[channel], 0.95)
    probabilities[:, 2] = checkout[segment, device]
    probabilities[:, 3] = PAYMENT_PROB
    probabilities[:, 4] = PURCHASE_PROB * np.where(treated, 1 + CONVERSION_LIFT, 1.0)
    return probabilities


def generate_clickstream_chunk(first_index: int, count: int, *, seed: int, chunk: int) -> ClickstreamChunk:
    """Users ``first_index .. first_index + count - 1`` with all their sessions and events."""
    users = draw_users(first_index, count, np.random.default_rng([seed, USERS_STREAM, chunk]))
    rng = np.random.default_rng([seed, SESSIONS_STREAM, chunk])
    owner, number, start_s = _draw_sessions(users, rng)
    n_sessions = len(owner)

    market = users.market[owner]
    after_launch = start_s >= launch_seconds_by_market()[market]
    in_ab_test = after_launch & (market == MARKET_CODES.index(AB_TEST_MARKET))
    treated = after_launch & (~in_ab_test | (users.ab_arm[owner] == TREATMENT))
    variant = np.where(in_ab_test, users.ab_arm[owner], -1)

    rng = np.random.default_rng([seed, EVENTS_STREAM, chunk])
    passed = rng.random((n_sessions, 5)) < _funnel_probabilities(users, owner, treated)
    reached = np.logical_and.accumulate(passed, axis=1)  # a session stops at its first failed step
    segment = users.segment[owner]
    page_views = rng.poisson(_segment_param("page_views")[segment])
    items_viewed = np.where(reached[:, 0], 1 + rng.poisson(_segment_param("items_viewed")[segment] - 1), 0)
    funnel_steps = reached[:, 1:].sum(axis=1)
    events_per_session = 1 + page_views + items_viewed + funnel_steps

    session_of_event = np.repeat(np.arange(n_sessions), events_per_session)
    first_event = np.cumsum(events_per_session) - events_per_session
    position = np.arange(len(session_of_event)) - first_event[session_of_event]
    pv, iv = page_views[session_of_event], items_viewed[session_of_event]
    event_code = np.select(
        [position == 0, position <= pv, position <= pv + iv],
        [0, 1, 2],
        default=3 + position - 1 - pv - iv,  # add_to_cart, begin_checkout, add_payment_info, purchase
    ).astype(np.int8)

    # Whole-second gaps: a gap that rounds to 0 gives the occasional tie real clickstreams have.
    mean_gap = _segment_param("seconds_between_events")[segment][session_of_event]
    gaps = np.rint(rng.exponential(mean_gap)).astype(np.int64)
    gaps[first_event] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[first_event][session_of_event]
    event_ticks = (start_s[session_of_event] + elapsed) * TICKS_PER_SECOND

    session_ids = pc.binary_join_element_wise(
        users.user_id.take(pa.array(owner)), pc.cast(pa.array(number), pa.string()), "-"
    )
    event_owner = owner[session_of_event]
    event_variant = variant[session_of_event]
    events = pa.Table.from_arrays(
        [
            pa.array(event_ticks, type=EVENTS_ARROW_SCHEMA.field("event_time").type),
            users.user_id.take(pa.array(event_owner)),
            session_ids.take(pa.array(session_of_event)),
            pa.array(MARKET_CODES).take(pa.array(users.market[event_owner])),
            pa.array(DEVICE_NAMES).take(pa.array(users.device[event_owner])),
            pa.array(CHANNEL_NAMES).take(pa.array(users.channel[event_owner])),
            pa.array(EVENT_NAMES).take(pa.array(event_code)),
            pa.array(SEGMENT_NAMES).take(pa.array(users.segment[event_owner])),
            pa.array(VARIANT_NAMES).take(pa.array(event_variant, mask=event_variant < 0)),
        ],
        schema=EVENTS_ARROW_SCHEMA,
    )
    purchase_rows = np.flatnonzero(event_code == PURCHASE)
    return ClickstreamChunk(users, events, purchase_rows, event_owner[purchase_rows])
