"""Importers for Hofstede's matrix and World Bank bulk CSVs, and the bundled reference data."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import REFERENCE_DATA_DIR
from analysis.sources import read_hofstede, read_world_bank_csv
from analysis.sources.reference import read_market_reference

HOFSTEDE_SAMPLE = """ctr;country;pdi;idv;mas;uai;ltowvs;ivr
SLV;Slovenia;71;27;19;88;49;48
SAL;El Salvador;66;19;40;94;20;89
MNG;Montenegro;#NULL!;#NULL!;#NULL!;#NULL!;75;20
MAC;Macedonia Rep;#NULL!;#NULL!;#NULL!;#NULL!;62;35
BEN;Belgium Netherl;61;78;43;97;#NULL!;#NULL!
CAF;Canada French;54;73;45;60;#NULL!;#NULL!
CHI;China;80;20;66;30;87;24
ECA;Ecuador;78;8;63;67;#NULL!;#NULL!
USA;U.S.A.;40;91;62;46;26;68
"""

WORLD_BANK_SAMPLE = """"Data Source","World Development Indicators",

"Last Updated Date","2024-05-30",

"Country Name","Country Code","Indicator Name","Indicator Code","2020","2021","2022",
"Aruba","ABW",@,"97.17","","",
"Africa Eastern and Southern","AFE",@,"24.98","27.66","",
"Euro area","EMU",@,"85.21","87.22","89.21",
"Germany","DEU",@,"89.81294133","91.43060973","91.62984383",
"High income","HIC",@,"89.44","90.17","",
"World","WLD",@,"59.57","63.07","",
""".replace("@", '"Individuals using the Internet (% of population)","IT.NET.USER.ZS"')

METADATA_SAMPLE = """"Country Code","Region","IncomeGroup","SpecialNotes","TableName",
"ABW","Latin America & Caribbean","High income","","Aruba",
"AFE","","","","Africa Eastern and Southern",
"DEU","Europe & Central Asia","High income","","Germany",
"EMU","","","","Euro area",
"HIC","","","","High income",
"WLD","","","","World",
"""


@pytest.fixture
def hofstede_file(tmp_path: Path) -> Path:
    path = tmp_path / "6-dimensions-for-website-2015-08-16.csv"
    path.write_text(HOFSTEDE_SAMPLE)
    return path


def test_when_hofstede_codes_collide_with_iso_codes_then_rows_are_mapped_by_name(hofstede_file):
    frame = read_hofstede(hofstede_file).set_index("iso3")
    # Hofstede's SLV is Slovenia (ISO SVN); ISO SLV is El Salvador (Hofstede SAL).
    assert frame.loc["SVN", "country"] == "Slovenia" and frame.loc["SVN", "hofstede_code"] == "SLV"
    assert frame.loc["SLV", "country"] == "El Salvador" and frame.loc["SLV", "pdi"] == 66.0
    assert frame.loc["MNE", "hofstede_code"] == "MNG"  # not Mongolia
    assert frame.loc["MKD", "hofstede_code"] == "MAC"  # not Macao
    assert frame.loc["CHN", "hofstede_code"] == "CHI"  # not the Channel Islands
    assert frame.loc["ECU", "hofstede_code"] == "ECA"  # not Europe & Central Asia
    assert not {"MNG", "MAC", "BEN", "CAF", "CHI", "ECA"} & set(frame.index)


def test_when_hofstede_has_null_gaps_and_subgroups_then_gaps_are_nan_and_subgroups_dropped(hofstede_file):
    frame = read_hofstede(hofstede_file).set_index("iso3")
    assert math.isnan(frame.loc["MNE", "pdi"]) and frame.loc["MNE", "lto"] == 75.0
    assert list(frame.columns) == ["country", "hofstede_code", "pdi", "idv", "mas", "uai", "lto", "ivr"]
    assert read_hofstede(hofstede_file).attrs["excluded"] == ["Belgium Netherl", "Canada French"]
    assert frame.loc["USA"].drop(["country", "hofstede_code"]).tolist() == [40, 91, 62, 46, 26, 68]


def test_when_hofstede_has_an_unknown_country_then_error_names_it_and_the_fix(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(HOFSTEDE_SAMPLE + "ATL;Atlantis;1;2;3;4;5;6\n")
    with pytest.raises(ValueError, match=r"\['Atlantis'\]; pass extra_names"):
        read_hofstede(path)
    assert read_hofstede(path, extra_names={"Atlantis": "ATL"}).set_index("iso3").loc["ATL", "ivr"] == 6.0


def test_when_file_is_not_hofstedes_matrix_then_error_lists_missing_columns(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("ctr;country;pdi\nUSA;U.S.A.;40\n")
    with pytest.raises(ValueError, match=r"missing columns \['idv'"):
        read_hofstede(path)


def test_when_world_bank_file_has_no_metadata_file_then_aggregate_codes_are_dropped(tmp_path):
    path = tmp_path / "API_IT.NET.USER.ZS_DS2_en_csv_v2_1.csv"
    path.write_text(WORLD_BANK_SAMPLE)
    frame = read_world_bank_csv(path)
    assert sorted(set(frame["iso3"])) == ["ABW", "DEU"]
    germany = frame.loc[frame["iso3"] == "DEU"].set_index("year")["value"]
    assert germany.to_dict() == {2020: 89.81294133, 2021: 91.43060973, 2022: 91.62984383}
    assert len(frame.loc[frame["iso3"] == "ABW"]) == 1  # empty years are not rows
    assert list(frame.columns) == ["iso3", "country", "indicator_code", "indicator_name", "year", "value"]


def test_when_world_bank_metadata_file_is_beside_it_then_empty_region_marks_aggregates(tmp_path):
    path = tmp_path / "API_IT.NET.USER.ZS_DS2_en_csv_v2_1.csv"
    new_group = (
        '"A new lending group","NLG","Individuals using the Internet (% of population)","IT.NET.USER.ZS","1","2","3",\n'
    )
    path.write_text(WORLD_BANK_SAMPLE + new_group)
    assert "NLG" in set(read_world_bank_csv(path)["iso3"])  # unknown to the fixed aggregate list
    (tmp_path / f"Metadata_Country_{path.name}").write_text(METADATA_SAMPLE + '"NLG","","","","A new lending group",\n')
    assert sorted(set(read_world_bank_csv(path)["iso3"])) == ["ABW", "DEU"]


def test_when_world_bank_file_lacks_the_metadata_lines_then_it_is_still_read(tmp_path):
    path = tmp_path / "wb.csv"
    path.write_text(WORLD_BANK_SAMPLE.split("\n", 4)[4])
    assert sorted(set(read_world_bank_csv(path)["iso3"])) == ["ABW", "DEU"]


def test_when_file_is_not_a_world_bank_download_then_error_says_what_header_was_expected(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="Country Name,Country Code"):
        read_world_bank_csv(path)


def test_when_bundled_hofstede_file_is_read_then_every_name_maps_and_published_values_survive():
    frame = read_hofstede(REFERENCE_DATA_DIR / "hofstede_6_dimensions_2015-08-16.csv").set_index("iso3")
    assert len(frame) == 101
    assert frame.loc["JPN", ["pdi", "idv", "mas", "uai", "lto", "ivr"]].tolist() == [54, 46, 95, 92, 88, 42]


def test_when_bundled_reference_is_assembled_then_it_covers_thirty_countries_with_sources():
    reference = read_market_reference()
    assert len(reference) == 30 and reference.index.is_unique
    assert {"US", "GB", "DE", "FR", "JP", "CA", "AU", "NL"} <= set(reference.index)
    assert reference.loc["DE", "internet_users_pct"] == 91.43060973
    assert reference.loc["SG", "lpi_score"] == 4.3
    assert math.isnan(reference.loc["AE", "pdi"])  # the UAE is not in Hofstede's matrix: left empty


WORLD_BANK_EXCERPTS = Path(__file__).parents[2] / "fixtures" / "world_bank"


@pytest.mark.parametrize(
    ("excerpt", "indicator", "year"),
    [
        ("API_NY.GDP.PCAP.PP.CD_DS2_en_csv_v2_138_excerpt.csv", "gdp_per_capita_ppp", 2024),
        ("API_PV.EST_DS2_en_csv_v2_7919_excerpt.csv", "political_stability", 2023),
        ("API_SP.POP.TOTL_DS2_en_csv_v2_79_excerpt.csv", "population", 2022),
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
