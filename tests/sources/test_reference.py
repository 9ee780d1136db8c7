"""The bundled country reference behind market-entry scoring, checked against the official sources it came from."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import DataFileError
from analysis.sources import read_world_bank_csv
from analysis.sources.reference import read_market_reference, read_pest_indicators


def test_when_bundled_reference_is_assembled_then_it_covers_thirty_countries_with_sources():
    reference = read_market_reference()
    assert len(reference) == 30 and reference.index.is_unique
    assert {"US", "GB", "DE", "FR", "JP", "CA", "AU", "NL"} <= set(reference.index)
    assert reference.loc["DE", "internet_users_pct"] == 93.49999579
    assert reference.loc["SG", "lpi_score"] == 4.3
    assert math.isnan(reference.loc["AE", "pdi"])  # the UAE is not in Hofstede's matrix: left empty


WORLD_BANK_EXCERPTS = Path(__file__).parents[1] / "fixtures" / "world_bank"


@pytest.mark.parametrize(
    ("excerpt", "indicator", "year"),
    [
        ("API_NY.GDP.PCAP.PP.CD_DS2_en_csv_v2_138_excerpt.csv", "gdp_per_capita_ppp", 2024),
        ("API_PV.EST_DS2_en_csv_v2_7919_excerpt.csv", "political_stability", 2023),
        ("API_SP.POP.TOTL_DS2_en_csv_v2_79_excerpt.csv", "population", 2022),
        ("API_IT.NET.USER.ZS_DS2_en_csv_v2_33086_excerpt.csv", "internet_users_pct", 2024),
    ],
)
def test_when_bundled_wdi_figures_are_reimported_from_the_official_excerpt_then_every_value_matches(
    excerpt, indicator, year
):
    imported = read_world_bank_csv(WORLD_BANK_EXCERPTS / excerpt).set_index("iso3")
    reference = read_market_reference().set_index("iso3")
    assert sorted(imported.index) == sorted(reference.index)  # the 30 reference countries, no aggregates
    assert set(imported["year"]) == {year}
    assert reference[indicator].to_dict() == imported["value"].to_dict()


LPI_2023_EXCERPT = WORLD_BANK_EXCERPTS / "International_LPI_from_2007_to_2023_excerpt.csv"
# The stored table's names where they differ from countries.csv ("TC<rkiye" is Türkiye as the stored copy spells it).
LPI_2023_NAMES = {"Korea, Rep.": "KOR", "Vietnam": "VNM", "TC<rkiye": "TUR"}


def test_when_bundled_lpi_scores_are_compared_with_the_stored_2023_table_then_every_value_matches():
    table = pd.read_csv(LPI_2023_EXCERPT)
    reference = read_market_reference().set_index("iso3")
    table["iso3"] = table["Economy"].map(dict(zip(reference["name"], reference.index, strict=True)) | LPI_2023_NAMES)
    table = table.set_index("iso3")
    assert sorted(table.index) == sorted(reference.index)  # all 30 reference countries, none unmapped
    assert reference["lpi_score"].to_dict() == table["LPI Score"].to_dict()
    assert table.loc["ARE", ["LPI Score", "LPI Grouped Rank"]].tolist() == [4.0, 7]  # printed, no longer inferred


def test_when_an_indicator_is_given_twice_then_the_error_names_country_and_indicator(tmp_path: Path):
    path = tmp_path / "pest_indicators.csv"
    path.write_text("iso3,indicator,value,year,source\nDEU,lpi_score,4.1,2023,LPI\nDEU,lpi_score,4.2,2023,LPI\n")
    with pytest.raises(DataFileError, match="more than one value per country and indicator") as raised:
        read_pest_indicators(path)
    assert (raised.value.file, raised.value.value) == (str(path), [{"iso3": "DEU", "indicator": "lpi_score"}])


def test_when_internet_users_are_read_then_every_figure_is_the_2024_value_of_the_2026_07_13_release():
    indicators = read_pest_indicators(Path(__file__).parents[2] / "data" / "reference" / "pest_indicators.csv")
    internet = indicators.loc[indicators["indicator"] == "internet_users_pct"].set_index("iso3")
    assert len(internet) == 30
    assert set(internet["year"]) == {2024} and set(internet["source"]) == {"wdi_it_net_user_zs_2026-07-13"}
    # the three figures issue 17 found stale (2021 in the 2024-05-30 release), now from the newer release
    assert internet.loc[["USA", "PHL", "ZAF"], "value"].tolist() == [94.69380188, 67.26300914, 78.35759735]


def test_when_the_markets_table_lives_in_the_engines_catalog_then_the_served_markets_come_from_there(
    tiny_data_dir, monkeypatch
):
    from analysis.sources import load_tables, open_engine
    from analysis.sources.reference import served_markets

    con = open_engine("duckdb")
    markets = load_tables(tiny_data_dir, con, tables=["markets"])["markets"].to_pyarrow()
    con.create_table("client_markets", markets.slice(1, 1))  # the catalog's table serves one market of the two
    monkeypatch.setenv("WORKBOOK_TABLES", '{"markets": "client_markets"}')

    assert served_markets(tiny_data_dir, con) == tuple(markets.column("market").to_pylist()[1:2])
    monkeypatch.delenv("WORKBOOK_TABLES")
    assert served_markets(tiny_data_dir, con) == tuple(markets.column("market").to_pylist())
