"""The scope every analysis applies: parameters parsed with clear errors, rows limited by market and days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analysis.errors import ParameterError
from analysis.scope import Scope, check_market_known
from analysis.sources import load_tables


def test_when_parameters_are_good_then_the_market_follows_the_contract_rule_and_the_label_reads_well():
    scope = Scope.parse(" de ", "2025-01-01", "2025-01-31")
    assert scope == Scope("DE", date(2025, 1, 1), date(2025, 1, 31))
    assert scope.label == "DE, 01 Jan 2025 to 31 Jan 2025"
    assert Scope.parse("ALL", "2025-01-01", "2025-01-01").label == "all markets, 01 Jan 2025 to 01 Jan 2025"


@pytest.mark.parametrize(
    ("market", "start", "end", "parameter", "message"),
    [
        ("Germany", "2025-01-01", "2025-01-31", "market", "not an ISO 3166-1 alpha-2 code such as 'DE', nor 'ALL'"),
        (
            "DE",
            "2025-13-01",
            "2025-01-31",
            "start_date",
            "start_date '2025-13-01' is not a date in the form YYYY-MM-DD",
        ),
        ("DE", "2025-02-01", "2025-01-31", "end_date", "end_date '2025-01-31' is before start_date '2025-02-01'"),
    ],
)
def test_when_a_parameter_is_bad_then_the_error_names_it(market, start, end, parameter, message):
    with pytest.raises(ParameterError, match=message) as caught:
        Scope.parse(market, start, end)
    assert caught.value.parameter == parameter
    assert caught.value.exit_code == 2


def test_when_the_end_date_is_the_last_day_then_the_scope_ends_at_the_next_midnight():
    assert str(Scope.parse("DE", "2025-02-01", "2025-02-28").end_exclusive) == "2025-03-01 00:00:00"


def test_when_the_market_is_not_in_the_data_then_the_known_ones_are_listed(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    with pytest.raises(
        ParameterError, match=r"market 'JP' is not in the markets table; known markets: \['DE', 'FR'\]"
    ) as caught:
        check_market_known(tables, "JP")
    assert caught.value.valid == ["ALL", "DE", "FR"]
    check_market_known(tables, "ALL")  # every market: nothing to check
    check_market_known(tables, "FR")
