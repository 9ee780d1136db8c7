"""Importers for the country reference data behind market-entry scoring.

* :func:`read_hofstede` reads Hofstede's published six-dimension matrix
(``ctr;country;pdi;idv;mas;uai;ltowvs;ivr``,
  ``#NULL!`` for gaps). Its ``ctr`` codes are Hofstede's own and several collide with ISO / World Bank codes of
  *other* countries (``SLV`` is Slovenia there but El Salvador in ISO, ``MNG`` Montenegro vs Mongolia, ``MAC``
  Macedonia vs Macao, ``BEN`` Belgium (Dutch) vs Benin, ``CAF`` Canada (French) vs Central African Republic,
  ``CHI`` China vs the Channel Islands, ``ECA`` Ecuador vs the World Bank's "Europe & Central Asia"), so rows are
  mapped to ISO 3166 alpha-3 by country *name* through the explicit table :data:`HOFSTEDE_NAME_TO_ISO3`.
* :func:`read_world_bank_csv` reads a World Bank bulk indicator download
(``API_<code>_DS2_en_csv_v2_*.csv``: up to
  4 metadata lines, then one row per economy with one column per year) and drops the regional and income-group
  aggregates that are mixed with the countries.
* :func:`read_market_reference` assembles the bundled reference in ``data/reference`` into one wide frame.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.config import REFERENCE_DATA_DIR

HOFSTEDE_DIMENSIONS: tuple[str, ...] = ("pdi", "idv", "mas", "uai", "lto", "ivr")
HOFSTEDE_FILE = "hofstede_6_dimensions_2015-08-16.csv"
COUNTRIES_FILE = "countries.csv"
PEST_FILE = "pest_indicators.csv"

# Every name in the 2015-08-16 matrix. ``None`` marks a region or a language/ethnic sub-group, which is not a
# country and is dropped (listed in ``frame.attrs["excluded"]``).
HOFSTEDE_NAME_TO_ISO3: dict[str, str | None] = {
    "Africa East": None,
    "Africa West": None,
    "Albania": "ALB",
    "Algeria": "DZA",
    "Andorra": "AND",
    "Arab countries": None,
    "Argentina": "ARG",
    "Armenia": "ARM",
    "Australia": "AUS",
    "Austria": "AUT",
    "Azerbaijan": "AZE",
    "Bangladesh": "BGD",
    "Belarus": "BLR",
    "Belgium": "BEL",
    "Belgium French": None,
    "Belgium Netherl": None,
    "Bosnia": "BIH",
    "Brazil": "BRA",
    "Bulgaria": "BGR",
    "Burkina Faso": "BFA",
    "Canada": "CAN",
    "Canada French": None,
    "Chile": "CHL",
    "China": "CHN",
    "Colombia": "COL",
    "Costa Rica": "CRI",
    "Croatia": "HRV",
    "Cyprus": "CYP",
    "Czech Rep": "CZE",
    "Denmark": "DNK",
    "Dominican Rep": "DOM",
    "Ecuador": "ECU",
    "Egypt": "EGY",
    "Ethiopia": "ETH",
    "El Salvador": "SLV",
    "Estonia": "EST",
    "Finland": "FIN",
    "France": "FRA",
    "Georgia": "GEO",
    "Germany": "DEU",
    "Germany East": None,
    "Ghana": "GHA",
    "Great Britain": "GBR",
    "Greece": "GRC",
    "Guatemala": "GTM",
    "Hong Kong": "HKG",
    "Hungary": "HUN",
    "Iceland": "ISL",
    "India": "IND",
    "Indonesia": "IDN",
    "Iran": "IRN",
    "Iraq": "IRQ",
    "Ireland": "IRL",
    "Israel": "ISR",
    "Italy": "ITA",
    "Jamaica": "JAM",
    "Japan": "JPN",
    "Jordan": "JOR",
    "Korea South": "KOR",
    "Kyrgyz Rep": "KGZ",
    "Latvia": "LVA",
    "Lithuania": "LTU",
    "Luxembourg": "LUX",
    "Macedonia Rep": "MKD",
    "Malaysia": "MYS",
    "Mali": "MLI",
    "Malta": "MLT",
    "Mexico": "MEX",
    "Moldova": "MDA",
    "Montenegro": "MNE",
    "Morocco": "MAR",
    "Netherlands": "NLD",
    "New Zealand": "NZL",
    "Nigeria": "NGA",
    "Norway": "NOR",
    "Pakistan": "PAK",
    "Panama": "PAN",
    "Peru": "PER",
    "Philippines": "PHL",
    "Poland": "POL",
    "Portugal": "PRT",
    "Puerto Rico": "PRI",
    "Romania": "ROU",
    "Russia": "RUS",
    "Rwanda": "RWA",
    "Saudi Arabia": "SAU",
    "Serbia": "SRB",
    "Singapore": "SGP",
    "Slovak Rep": "SVK",
    "Slovenia": "SVN",
    "South Africa": "ZAF",
    "South Africa white": None,
    "Spain": "ESP",
    "Suriname": "SUR",
    "Sweden": "SWE",
    "Switzerland": "CHE",
    "Switzerland French": None,
    "Switzerland German": None,
    "Taiwan": "TWN",
    "Tanzania": "TZA",
    "Thailand": "THA",
    "Trinidad and Tobago": "TTO",
    "Turkey": "TUR",
    "U.S.A.": "USA",
    "Uganda": "UGA",
    "Ukraine": "UKR",
    "Uruguay": "URY",
    "Venezuela": "VEN",
    "Vietnam": "VNM",
    "Zambia": "ZMB",
    "Zimbabwe": "ZWE",
}

# World Bank codes of regional, income and lending-group aggregates (WDI country metadata, 2024 release). Used
# only when no Metadata_Country file is available; otherwise a row is an aggregate when its Region is empty.
WORLD_BANK_AGGREGATE_CODES: frozenset[str] = frozenset(
    {
        "AFE",
        "AFW",
        "ARB",
        "CEB",
        "CSS",
        "EAP",
        "EAR",
        "EAS",
        "ECA",
        "ECS",
        "EMU",
        "EUU",
        "FCS",
        "HIC",
        "HPC",
        "IBD",
        "IBT",
        "IDA",
        "IDB",
        "IDX",
        "INX",
        "LAC",
        "LCN",
        "LDC",
        "LIC",
        "LMC",
        "LMY",
        "LTE",
        "MEA",
        "MIC",
        "MNA",
        "NAC",
        "OED",
        "OSS",
        "PRE",
        "PSS",
        "PST",
        "SAS",
        "SSA",
        "SSF",
        "SST",
        "TEA",
        "TEC",
        "TLA",
        "TMN",
        "TSA",
        "TSS",
        "UMC",
        "WLD",
    }
)

_HOFSTEDE_COLUMNS = ("ctr", "country", "pdi", "idv", "mas", "uai", "ltowvs", "ivr")
_WORLD_BANK_ID_COLUMNS = ("Country Name", "Country Code", "Indicator Name", "Indicator Code")


def read_hofstede(path: str | Path, extra_names: Mapping[str, str | None] | None = None) -> pd.DataFrame:
    """Read Hofstede's six-dimension matrix into one row per country keyed by ISO alpha-3.

    Parameters
    ----------
    path
        The ``;``-separated file as published (``6-dimensions-for-website-2015-08-16.csv`` or a later release
        with the same columns). ``#NULL!`` marks a dimension not measured for that country.
    extra_names
        Additions to :data:`HOFSTEDE_NAME_TO_ISO3` for names a later release introduces (``None`` = not a
        country). Unknown names are an error rather than silently dropped.

    Returns
    -------
    pandas.DataFrame
        ``iso3`` (ISO 3166 alpha-3), ``country`` (Hofstede's name), ``hofstede_code`` (his ``ctr`` code, not an
        ISO code), and ``pdi idv mas uai lto ivr`` as floats on Hofstede's 0-120 scale, NaN where not measured.
        ``attrs["excluded"]`` lists the region and sub-group rows dropped.
    """
    path = Path(path)
    raw = pd.read_csv(path, sep=";", dtype=str, na_values=["#NULL!"], keep_default_na=False)
    raw.columns = [str(column).strip().lower() for column in raw.columns]
    missing = [column for column in _HOFSTEDE_COLUMNS if column not in raw.columns]
    if missing:
        raise ValueError(
            f"{path}: not Hofstede's dimension matrix; missing columns {missing} "
            f"(expected the ';'-separated header {';'.join(_HOFSTEDE_COLUMNS)}, found {list(raw.columns)})"
        )
    names = {**HOFSTEDE_NAME_TO_ISO3, **dict(extra_names or {})}
    raw["country"] = raw["country"].str.strip()
    unknown = sorted(set(raw["country"]) - set(names))
    if unknown:
        raise ValueError(
            f"{path}: no ISO alpha-3 code known for Hofstede country names {unknown}; pass "
            "extra_names={name: 'ISO3' or None for a region} (codes in the 'ctr' column are Hofstede's own "
            "and are deliberately not used)"
        )
    raw["iso3"] = raw["country"].map(names)
    excluded = raw.loc[raw["iso3"].isna(), "country"].tolist()
    countries = raw.loc[raw["iso3"].notna()].rename(columns={"ctr": "hofstede_code", "ltowvs": "lto"})
    duplicated = countries.loc[countries["iso3"].duplicated(keep=False), ["iso3", "country"]]
    if not duplicated.empty:
        raise ValueError(f"{path}: several Hofstede rows map to one ISO code: {duplicated.to_dict('records')}")
    result = countries[["iso3", "country", "hofstede_code", *HOFSTEDE_DIMENSIONS]].copy()
    for dimension in HOFSTEDE_DIMENSIONS:
        values = pd.to_numeric(result[dimension], errors="coerce")
        bad = result.loc[values.isna() & result[dimension].notna(), ["country", dimension]]
        if not bad.empty:
            raise ValueError(f"{path}: column {dimension!r} has non-numeric values {bad.to_dict('records')}")
        result[dimension] = values.astype(float)
    result = result.sort_values("iso3").reset_index(drop=True)
    result.attrs["excluded"] = excluded
    return result


def _world_bank_header_row(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle)):
            if row[:2] == ["Country Name", "Country Code"]:
                return number
            if number > 10:
                break
    raise ValueError(
        f"{path}: not a World Bank bulk indicator file: no header row starting "
        "'Country Name,Country Code' in its first lines"
    )


def _countries_from_metadata(metadata_path: Path) -> set[str]:
    meta = pd.read_csv(metadata_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if not {"Country Code", "Region"} <= set(meta.columns):
        raise ValueError(f"{metadata_path}: expected columns 'Country Code' and 'Region', found {list(meta.columns)}")
    return set(meta.loc[meta["Region"].str.strip() != "", "Country Code"])


def read_world_bank_csv(path: str | Path, metadata_path: str | Path | None = None) -> pd.DataFrame:
    """Read a World Bank bulk indicator CSV into a tidy frame of countries only.

    Parameters
    ----------
    path
        ``API_<indicator>_DS2_en_csv_v2_<n>.csv`` as downloaded (the 4 metadata lines may be present or not).
    metadata_path
        The ``Metadata_Country_...csv`` shipped in the same zip. When given, or found next to ``path``, a row is
        a country exactly when its ``Region`` is non-empty (the World Bank leaves Region empty for aggregates).
        Otherwise the fixed list :data:`WORLD_BANK_AGGREGATE_CODES` decides.

    Returns
    -------
    pandas.DataFrame
        One row per country, indicator and year with a value: ``iso3``, ``country``, ``indicator_code``,
        ``indicator_name``, ``year`` (int), ``value`` (float, in the indicator's own unit, e.g. percent).
    """
    path = Path(path)
    header = _world_bank_header_row(path)
    raw = pd.read_csv(path, skiprows=header, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw.loc[:, [column for column in raw.columns if not str(column).startswith("Unnamed")]]
    missing = [column for column in _WORLD_BANK_ID_COLUMNS if column not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; found {list(raw.columns)}")
    if metadata_path is None:
        candidates = sorted(path.parent.glob(f"Metadata_Country_{path.name}"))
        metadata_path = candidates[0] if candidates else None
    if metadata_path is not None:
        countries = _countries_from_metadata(Path(metadata_path))
        raw = raw.loc[raw["Country Code"].isin(countries)]
    else:
        raw = raw.loc[~raw["Country Code"].isin(WORLD_BANK_AGGREGATE_CODES)]
    year_columns = [column for column in raw.columns if str(column).strip().isdigit()]
    tidy = raw.melt(id_vars=list(_WORLD_BANK_ID_COLUMNS), value_vars=year_columns, var_name="year")
    tidy = tidy.loc[tidy["value"].str.strip() != ""]
    tidy = tidy.rename(
        columns={
            "Country Code": "iso3",
            "Country Name": "country",
            "Indicator Code": "indicator_code",
            "Indicator Name": "indicator_name",
        }
    )
    tidy["year"] = tidy["year"].astype(int)
    tidy["value"] = pd.to_numeric(tidy["value"], errors="raise").astype(float)
    columns = ["iso3", "country", "indicator_code", "indicator_name", "year", "value"]
    return tidy[columns].sort_values(["iso3", "year"]).reset_index(drop=True)


def read_pest_indicators(path: str | Path) -> pd.DataFrame:
    """The bundled long-format indicator file: ``iso3, indicator, value, year, source`` (one row a figure)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype={"iso3": str, "indicator": str, "source": str})
    expected = {"iso3", "indicator", "value", "year", "source"}
    if not expected <= set(frame.columns):
        raise ValueError(f"{path}: expected columns {sorted(expected)}, found {list(frame.columns)}")
    duplicated = frame.loc[frame.duplicated(["iso3", "indicator"], keep=False)]
    if not duplicated.empty:
        raise ValueError(f"{path}: more than one value per country and indicator: {duplicated.to_dict('records')}")
    return frame


def reference_dir_for(data_dir: str | Path = "") -> Path:
    """``<data_dir>/reference`` when a client's data directory carries its own reference files, else the bundled."""
    candidate = Path(data_dir) / "reference" if data_dir else None
    return candidate if candidate is not None and candidate.is_dir() else REFERENCE_DATA_DIR


def read_market_reference(reference_dir: str | Path = REFERENCE_DATA_DIR) -> pd.DataFrame:
    """Join the bundled countries, Hofstede dimensions and PEST indicators into one wide frame.

    Returns
    -------
    pandas.DataFrame
        One row per reference country, indexed by ``market`` (ISO alpha-2): ``iso3``, ``name``, ``role``
        (demo or candidate), ``pdi idv mas uai lto ivr`` and one float column per indicator in
        ``pest_indicators.csv`` (e.g. ``internet_users_pct``, ``lpi_score``); NaN where no published figure is
        bundled. Where each figure comes from is in ``data/README.md`` and the file's ``source``/``year``.
    """
    reference_dir = Path(reference_dir)
    countries = pd.read_csv(reference_dir / COUNTRIES_FILE, dtype=str, keep_default_na=False)
    hofstede = read_hofstede(reference_dir / HOFSTEDE_FILE)
    indicators = read_pest_indicators(reference_dir / PEST_FILE)
    wide = indicators.pivot(index="iso3", columns="indicator", values="value")
    wide.columns.name = None
    frame = (
        countries.merge(hofstede[["iso3", *HOFSTEDE_DIMENSIONS]], on="iso3", how="left")
        .merge(wide, left_on="iso3", right_index=True, how="left")
        .set_index("market")
    )
    return frame
