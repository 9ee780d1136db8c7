"""The GA4 BigQuery-export reader on small GA4-shaped files built here (JSON and Parquet)."""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.ga4 import BASE_US, EXPECTED, ga4_rows

from analysis.sources.formats.ga4 import Ga4ImportError, read_ga4_export


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


def test_when_a_connection_is_given_then_the_export_is_read_on_it_and_its_settings_are_untouched(
    tmp_path, outside_connection, settings_of, opened_connections
):
    path = tmp_path / "events_20250303.json"
    path.write_text("\n".join(json.dumps(row) for row in ga4_rows()) + "\n")
    before = settings_of(outside_connection)

    imported = read_ga4_export(path, outside_connection)

    assert sorted(imported.events.to_pandas()["session_id"]) == ["111", "111", "no_session"]
    assert ibis.get_backend(imported.events) is outside_connection
    assert opened_connections == []
    assert settings_of(outside_connection) == before  # lambda_syntax included: DuckDB 2.0's default


def test_when_no_connection_is_given_then_reading_an_export_opens_exactly_one(tmp_path, opened_connections):
    path = tmp_path / "events_20250303.json"
    path.write_text("\n".join(json.dumps(row) for row in ga4_rows()) + "\n")

    imported = read_ga4_export(path)

    assert len(opened_connections) == 1
    assert ibis.get_backend(imported.events) is opened_connections[0]
