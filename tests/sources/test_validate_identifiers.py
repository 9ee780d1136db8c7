"""Validation never quotes a customer-level identifier: id columns are counted and their values withheld."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.cli import main
from analysis.contract import is_identifier
from analysis.errors import ValidationError
from analysis.sources import Violation, validate_data_dir

SECRET_ORDER = "o-u1-2025-0001"  # order ids embed user ids in real extracts
SECRET_SELLER = "S-ghost-42"


def broken_ids(folder: Path) -> Path:
    """Two orders share one id; one order names a seller the sellers table does not know."""
    tables = tiny_tables()
    tables["orders"].loc[[0, 1], "order_id"] = SECRET_ORDER
    tables["orders"].loc[2, "seller_id"] = SECRET_SELLER
    return write_tables(folder, tables)


def test_when_an_order_id_repeats_then_the_duplicates_are_counted_and_the_ids_withheld(tmp_path: Path):
    report = validate_data_dir(broken_ids(tmp_path))

    (duplicate,) = [v for v in report.violations if v.column == "order_id"]
    assert (duplicate.count, duplicate.examples, duplicate.withheld) == (1, (), True)
    assert str(duplicate) == (
        f"{tmp_path / 'orders.parquet'}, column 'order_id': key is not unique: 1 order_id value(s) occur more than "
        "once (ids withheld). Valid: each key once."
    )


def test_when_a_seller_id_is_unknown_then_it_is_counted_and_withheld(tmp_path: Path):
    report = validate_data_dir(broken_ids(tmp_path))

    (orphan,) = [v for v in report.violations if v.column == "seller_id"]
    assert (orphan.count, orphan.examples, orphan.withheld) == (1, (), True)
    assert str(orphan).endswith(
        "has 1 value(s) unknown to table 'sellers' (ids withheld). Valid: values listed in sellers.seller_id."
    )


def test_when_ids_break_the_contract_then_no_output_of_validation_quotes_them(tmp_path: Path, capsys):
    folder = broken_ids(tmp_path)
    report = validate_data_dir(folder)

    with pytest.raises(ValidationError) as raised:
        report.raise_if_invalid()
    assert main(["validate", str(folder)]) == 1
    printed = capsys.readouterr().out

    for text in (report.to_text(), str(raised.value), printed, repr(report.violations), repr(raised.value.violations)):
        assert "order_id" in text and "seller_id" in text  # the problems are there, named by column
        assert SECRET_ORDER not in text
        assert SECRET_SELLER not in text


def test_when_a_user_id_is_missing_then_the_empty_rows_are_counted_without_examples(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[[0, 4], "user_id"] = None
    (violation,) = validate_data_dir(write_tables(tmp_path, tables)).violations

    assert (violation.column, violation.problem, violation.count, violation.examples) == ("user_id", "is empty", 2, ())
    assert str(violation).endswith("column 'user_id': is empty in 2 rows. Valid: a value in every row.")


def test_when_a_violation_is_built_with_id_examples_then_it_drops_them():
    violation = Violation("orders.csv", "user_id, order_id", "key is not unique", "each key once", 1, (("u1", "o1"),))

    assert (violation.examples, violation.withheld) == ((), True)
    assert "u1" not in str(violation) and "(ids withheld)" in str(violation)


@pytest.mark.parametrize(
    ("column", "identifier"),
    [
        ("user_id", True),
        ("session_id", True),
        ("order_id", True),
        ("seller_id", True),
        ("market, seller_id", True),
        ("market", False),
        ("segment", False),
        ("initiative_id", False),
        (None, False),
    ],
)
def test_when_a_column_is_asked_about_then_only_customer_level_ids_are_identifiers(column, identifier):
    assert is_identifier(column) is identifier
