"""Hofstede's published dimension matrix: rows mapped to ISO alpha-3 by name through the bundled lookup."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analysis.config import REFERENCE_DATA_DIR
from analysis.errors import DataFileError
from analysis.sources import read_hofstede
from analysis.sources.formats.hofstede import HOFSTEDE_NAME_TO_ISO3

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
    with pytest.raises(DataFileError, match=r"\['Atlantis'\]; pass extra_names") as raised:
        read_hofstede(path)
    assert (raised.value.file, raised.value.column, raised.value.value) == (str(path), "country", ["Atlantis"])
    assert read_hofstede(path, extra_names={"Atlantis": "ATL"}).set_index("iso3").loc["ATL", "ivr"] == 6.0


def test_when_file_is_not_hofstedes_matrix_then_error_lists_missing_columns(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("ctr;country;pdi\nUSA;U.S.A.;40\n")
    with pytest.raises(DataFileError, match=r"missing columns \['idv'") as raised:
        read_hofstede(path)
    assert raised.value.value == ["idv", "mas", "uai", "ltowvs", "ivr"]


def test_when_bundled_hofstede_file_is_read_then_every_name_maps_and_published_values_survive():
    frame = read_hofstede(REFERENCE_DATA_DIR / "hofstede_6_dimensions_2015-08-16.csv").set_index("iso3")
    assert len(frame) == 101
    assert frame.loc["JPN", ["pdi", "idv", "mas", "uai", "lto", "ivr"]].tolist() == [54, 46, 95, 92, 88, 42]


def test_when_a_dimension_is_not_a_number_then_the_error_names_the_column_and_value(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(HOFSTEDE_SAMPLE.replace("71;27;19", "71;n/a;19"))
    with pytest.raises(DataFileError, match=r"column 'idv' has non-numeric values") as raised:
        read_hofstede(path)
    assert (raised.value.column, raised.value.value) == ("idv", ["n/a"])


def test_when_the_name_lookup_is_read_then_regions_and_subgroups_map_to_none():
    assert len(HOFSTEDE_NAME_TO_ISO3) == 111
    assert HOFSTEDE_NAME_TO_ISO3["U.S.A."] == "USA"
    assert HOFSTEDE_NAME_TO_ISO3["Trinidad and Tobago"] == "TTO"
    regions = sorted(name for name, iso3 in HOFSTEDE_NAME_TO_ISO3.items() if iso3 is None)
    assert regions == [
        "Africa East",
        "Africa West",
        "Arab countries",
        "Belgium French",
        "Belgium Netherl",
        "Canada French",
        "Germany East",
        "South Africa white",
        "Switzerland French",
        "Switzerland German",
    ]
