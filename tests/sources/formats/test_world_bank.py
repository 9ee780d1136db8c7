"""World Bank bulk indicator CSVs: metadata lines, aggregates dropped, one row per country, indicator and year."""

from __future__ import annotations

import pytest

from analysis.errors import DataFileError
from analysis.sources import read_world_bank_csv
from analysis.sources.formats.world_bank import WORLD_BANK_AGGREGATE_CODES

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
    with pytest.raises(DataFileError, match="Country Name,Country Code") as raised:
        read_world_bank_csv(path)
    assert raised.value.file == str(path)


def test_when_the_metadata_file_lacks_the_region_column_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "wb.csv"
    path.write_text(WORLD_BANK_SAMPLE)
    metadata = tmp_path / "meta.csv"
    metadata.write_text('"Country Code","IncomeGroup"\n"DEU","High income"\n')
    with pytest.raises(DataFileError, match="expected columns 'Country Code' and 'Region'") as raised:
        read_world_bank_csv(path, metadata)
    assert (raised.value.file, raised.value.valid) == (str(metadata), ["Country Code", "Region"])


def test_when_the_aggregate_lookup_is_read_then_it_holds_the_wdi_aggregate_codes():
    assert len(WORLD_BANK_AGGREGATE_CODES) == 49
    assert {"WLD", "EMU", "HIC", "ECA", "AFE"} <= WORLD_BANK_AGGREGATE_CODES
    assert not {"DEU", "ABW", "ECU"} & WORLD_BANK_AGGREGATE_CODES
