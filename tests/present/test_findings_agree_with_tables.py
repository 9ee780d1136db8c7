"""Across every market of the demo run, no finding calls a difference real that its table does not, and vice versa.

Each funnel report's sentences and its "real difference?" tables are rebuilt here for every market (and ALL) of the
small demo data with the notebook's default parameters; a group is *named* by a sentence when the sentence quotes it
with its rate, and the named groups must be exactly the table's "yes" rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.contract import ALL_MARKETS
from analysis.metrics.funnel import analyse_funnel
from analysis.present import formatting as fmt
from analysis.present import funnel as show
from analysis.present.labels import column_label, value_label
from analysis.scope import Scope
from analysis.sources import load_tables, open_events

STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]
BREAKDOWNS = ["segment", "device", "channel"]
MEASURES = {"conversion": "conversion_tests", "cart abandonment": "abandonment"}


def demo_markets() -> list[str]:
    tables = load_tables(Path(os.environ["WORKBOOK_DATA_DIR"]), tables=["markets"])
    return [*sorted(tables["markets"].to_pandas()["market"]), ALL_MARKETS]


@pytest.fixture(scope="module")
def source():
    return open_events(Path(os.environ["WORKBOOK_DATA_DIR"]))


def named_groups(sentence: str, table, column: str) -> set[str]:
    return {
        value_label(row[column])
        for _, row in table.iterrows()
        if f" {value_label(row[column])} at {fmt.percent(row.rate)} (" in f" {sentence.split(': ', 1)[1]}"
    }


@pytest.mark.parametrize("market", demo_markets())
def test_when_a_market_report_is_built_then_every_sentence_names_exactly_the_tables_real_groups(source, market):
    scope = Scope.parse(market, "2025-01-01", "2026-06-30")
    analysis = analyse_funnel(source.events, scope, STEPS, "1D", breakdowns=BREAKDOWNS, unit="session")
    sentences = show.findings(analysis)
    checked = 0
    for measure, attribute in MEASURES.items():
        for column, tests in getattr(analysis, attribute).items():
            table = show.tests_table(tests, column)
            real_in_table = set(table.index[table["real difference?"] == "yes"])
            shown, _ = show.shown_groups(tests)
            about = [s for s in sentences if s.startswith(f"By {column_label(column).lower()}: ") and measure in s]
            assert len(about) == 1, (market, column, measure, about)
            assert named_groups(about[0], shown, column) == real_in_table, (market, about[0])
            checked += 1
    assert checked == len(BREAKDOWNS) * len(MEASURES)
    assert not any("a real difference" in s for s in sentences)  # the old, uncorrected extremes contrast is gone
