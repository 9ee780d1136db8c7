"""The contract's declarations: keys, vocabularies, and that the data README describes every column."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest
from helpers.tiny_data import tiny_tables

from analysis import contract
from analysis.config import DATA_DIR
from analysis.errors import ParameterError


def test_when_the_vocabulary_is_listed_then_it_follows_the_ga4_funnel_order():
    assert contract.EVENT_NAMES == (
        "session_start",
        "page_view",
        "view_item",
        "add_to_cart",
        "begin_checkout",
        "add_payment_info",
        "purchase",
    )


def test_when_keys_are_asked_then_each_table_names_its_own():
    assert contract.key_of("orders") == ("order_id",)
    assert contract.key_of("benchmarks") == ("company", "market", "period", "kpi")
    assert contract.key_of("initiatives") == ("initiative_id", "market")
    assert contract.key_of("events") == ()


def test_when_an_unknown_table_is_asked_then_the_known_ones_are_listed():
    with pytest.raises(ParameterError, match=r"unknown table 'clicks'; the contract declares \['benchmarks'"):
        contract.schema_for("clicks")


def test_when_pandera_checks_a_bad_frame_then_it_names_column_and_value():
    events = tiny_tables()["events"]
    events.loc[0, "device"] = "watch"
    with pytest.raises(pandera.errors.SchemaErrors, match="watch"):
        contract.EVENTS.validate(events, lazy=True)


def test_when_a_key_repeats_in_a_pandas_frame_then_pandera_rejects_it():
    orders = tiny_tables()["orders"]
    orders.loc[1, "order_id"] = "o1"
    with pytest.raises(pandera.errors.SchemaErrors):
        contract.ORDERS.validate(orders, lazy=True)


def test_when_scores_are_out_of_range_then_pandera_rejects_them():
    surveys = pd.DataFrame(
        {
            "user_id": ["u1"],
            "survey_date": pd.to_datetime(["2025-01-01"]),
            "market": ["DE"],
            "csat": pd.array([6], dtype="Int64"),
            "nps": pd.array([None], dtype="Int64"),
        }
    )
    with pytest.raises(pandera.errors.SchemaErrors, match="in_range"):
        contract.SURVEYS.validate(surveys, lazy=True)


@pytest.mark.parametrize("table", sorted(contract.TABLES))
def test_when_the_data_readme_is_read_then_it_documents_every_column(table: str):
    readme = (DATA_DIR / "README.md").read_text()
    assert f"### `{table}`" in readme
    for column in contract.schema_for(table).columns:
        assert f"| `{column}` |" in readme, f"data/README.md does not describe {table}.{column}"
