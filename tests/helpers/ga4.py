"""GA4-shaped export rows shared by the GA4 reader and events-source tests."""

from __future__ import annotations

import pandas as pd

BASE_US = 1_741_000_000_000_000  # 2025-03-03 11:06:40 UTC in microseconds


def param(key, *, string=None, integer=None, double=None):
    return {
        "key": key,
        "value": {"string_value": string, "int_value": integer, "float_value": None, "double_value": double},
    }


def ga4_rows() -> list[dict]:
    return [
        {  # full record; integers as strings, as BigQuery writes INT64 to JSON
            "event_date": "20250303",
            "event_timestamp": str(BASE_US),
            "event_name": "session_start",
            "event_params": [param("ga_session_id", integer=111), param("page_title", string="Home")],
            "user_pseudo_id": "p1",
            "user_properties": [param("segment", string="explorer")],
            "geo": {"country": "Germany", "city": "Berlin"},
            "device": {"category": "Mobile"},
            "traffic_source": {"medium": "cpc", "source": "google", "name": "spring"},
            "ecommerce": None,
            "items": [],
        },
        {  # segment and variant from event params; unmapped country
            "event_date": "20250303",
            "event_timestamp": BASE_US + 1_500_000,
            "event_name": "add_to_cart",
            "event_params": [
                param("ga_session_id", integer=111),
                param("segment", string="bargain"),
                param("variant", string="treatment"),
            ],
            "user_pseudo_id": "p1",
            "user_properties": [],
            "geo": {"country": "Atlantis"},
            "device": {"category": "desktop"},
            "traffic_source": {"medium": "(none)", "source": "(direct)"},
            "ecommerce": {"purchase_revenue": None},
            "items": [{"item_id": "SKU1", "price": 9.5}],
        },
        {  # an event outside the funnel vocabulary
            "event_date": "20250303",
            "event_timestamp": BASE_US + 2_000_000,
            "event_name": "scroll",
            "event_params": [param("ga_session_id", integer=111)],
            "user_pseudo_id": "p1",
            "geo": {"country": "Germany"},
            "device": {"category": "mobile"},
            "traffic_source": {"medium": "organic"},
        },
        {  # missing fields: no params, no geo, no device, no traffic source
            "event_date": "20250304",
            "event_timestamp": BASE_US + 86_400_000_000,
            "event_name": "purchase",
            "user_pseudo_id": "p2",
        },
        {
            "event_date": "20250304",
            "event_timestamp": BASE_US + 86_400_000_001,
            "event_name": "first_visit",
            "user_pseudo_id": "p2",
            "device": {"category": "smart tv"},
        },
    ]


EXPECTED = pd.DataFrame(
    {
        "event_time": pd.to_datetime([BASE_US, BASE_US + 1_500_000, BASE_US + 86_400_000_000], unit="us", utc=True),
        "user_id": ["p1", "p1", "p2"],
        "session_id": ["111", "111", "no_session"],
        "market": ["DE", "ZZ", "ZZ"],
        "device": ["mobile", "desktop", "unknown"],
        "channel": ["paid_search", "direct", "other"],
        "event_name": ["session_start", "add_to_cart", "purchase"],
        "segment": ["explorer", "bargain", "unknown"],
        "variant": [None, "treatment", None],
    }
)
