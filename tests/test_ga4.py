"""The GA4 BigQuery-export reader on small GA4-shaped files built here (JSON and Parquet)."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.sources.ga4 import Ga4ImportError, read_ga4_export

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


def read_sorted(path):
    imported = read_ga4_export(path)
    events = imported.events.to_pandas().sort_values("event_time").reset_index(drop=True)
    return imported, events


def check(imported, events):
    pd.testing.assert_frame_equal(events, EXPECTED, check_dtype=False)
    assert str(events["event_time"].dt.tz) == "UTC"
    assert imported.unknown_event_names.to_dict("records") == [
        {"event_name": "first_visit", "events": 1},
        {"event_name": "scroll", "events": 1},
    ]
    assert imported.unmapped_countries.to_dict("records") == [
        {"country": "(missing)", "events": 2},
        {"country": "Atlantis", "events": 1},
    ]
    assert imported.unknown_devices.to_dict("records") == [
        {"device": "smart tv", "events": 1},
        {"device": "unknown", "events": 1},
    ]


def test_when_export_is_newline_delimited_json_then_events_follow_the_contract(tmp_path):
    path = tmp_path / "events_20250303.json"
    path.write_text("\n".join(json.dumps(row) for row in ga4_rows()) + "\n")
    check(*read_sorted(path))


def test_when_export_is_parquet_then_events_follow_the_contract(tmp_path):
    rows = ga4_rows()
    for row in rows:
        row["event_timestamp"] = int(row["event_timestamp"])
        for key in ("event_params", "user_properties"):
            row.setdefault(key, [])
        row.setdefault("geo", None)
        row.setdefault("device", None)
        row.setdefault("traffic_source", None)
        row["geo"] = {"country": row["geo"]["country"]} if row["geo"] else None
        row["traffic_source"] = {"medium": row["traffic_source"].get("medium")} if row["traffic_source"] else None
        row.pop("ecommerce", None)
        row.pop("items", None)
    folder = tmp_path / "export"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), folder / "events_20250303.parquet")
    check(*read_sorted(folder))


def test_when_parquet_lacks_optional_records_then_they_read_as_missing(tmp_path):
    table = pa.table({"event_timestamp": [BASE_US], "event_name": ["purchase"], "user_pseudo_id": ["p9"]})
    pq.write_table(table, tmp_path / "minimal.parquet")
    events = read_ga4_export(tmp_path / "minimal.parquet").events.to_pandas()
    assert events[["session_id", "market", "device", "channel", "segment"]].iloc[0].tolist() == [
        "no_session",
        "ZZ",
        "unknown",
        "other",
        "unknown",
    ]


def test_when_required_columns_are_missing_then_the_error_names_them(tmp_path):
    pq.write_table(pa.table({"event_name": ["purchase"]}), tmp_path / "bad.parquet")
    with pytest.raises(Ga4ImportError, match=r"lacks column\(s\) \['event_timestamp', 'user_pseudo_id'\]"):
        read_ga4_export(tmp_path / "bad.parquet")


def test_when_path_does_not_exist_then_the_error_names_it(tmp_path):
    with pytest.raises(Ga4ImportError, match="no such GA4 export file"):
        read_ga4_export(tmp_path / "nowhere.json")
