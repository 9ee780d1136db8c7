"""A World Bank bulk indicator download (``API_<code>_DS2_en_csv_v2_*.csv``).

Up to 4 metadata lines, then one row per economy with one column per year; the regional and income-group aggregates
mixed with the countries are dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.errors import DataFileError
from analysis.sources.formats.lookups import read_lookup

AGGREGATES_FILE = "world_bank_aggregate_codes.csv"

# World Bank codes of regional, income and lending-group aggregates (WDI country metadata, 2024 release). Used
# only when no Metadata_Country file is available; otherwise a row is an aggregate when its Region is empty.
WORLD_BANK_AGGREGATE_CODES: frozenset[str] = frozenset(row["code"] for row in read_lookup(AGGREGATES_FILE))
_WORLD_BANK_ID_COLUMNS = ("Country Name", "Country Code", "Indicator Name", "Indicator Code")


def _world_bank_header_row(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle)):
            if row[:2] == ["Country Name", "Country Code"]:
                return number
            if number > 10:
                break
    raise DataFileError(
        f"{path}: not a World Bank bulk indicator file: no header row starting "
        "'Country Name,Country Code' in its first lines",
        file=path,
        valid="a header row starting 'Country Name,Country Code' within the first lines",
    )


def _countries_from_metadata(metadata_path: Path) -> set[str]:
    meta = pd.read_csv(metadata_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if not {"Country Code", "Region"} <= set(meta.columns):
        raise DataFileError(
            f"{metadata_path}: expected columns 'Country Code' and 'Region', found {list(meta.columns)}",
            file=metadata_path,
            value=list(meta.columns),
            valid=["Country Code", "Region"],
        )
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
        Otherwise the fixed list :data:`WORLD_BANK_AGGREGATE_CODES` (the bundled
        ``world_bank_aggregate_codes.csv``) decides.

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
        raise DataFileError(
            f"{path}: missing columns {missing}; found {list(raw.columns)}",
            file=path,
            column=missing[0],
            value=missing,
            valid=list(_WORLD_BANK_ID_COLUMNS),
        )
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
