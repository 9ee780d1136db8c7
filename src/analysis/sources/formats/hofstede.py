"""Hofstede's published six-dimension matrix (``ctr;country;pdi;idv;mas;uai;ltowvs;ivr``, ``#NULL!`` for gaps).

Its ``ctr`` codes are Hofstede's own and several collide with ISO / World Bank codes of *other* countries (``SLV`` is
Slovenia there but El Salvador in ISO, ``MNG`` Montenegro vs Mongolia, ``MAC`` Macedonia vs Macao, ``BEN`` Belgium
(Dutch) vs Benin, ``CAF`` Canada (French) vs Central African Republic, ``CHI`` China vs the Channel Islands, ``ECA``
Ecuador vs the World Bank's "Europe & Central Asia"), so rows are mapped to ISO 3166 alpha-3 by country *name* through
the explicit table :data:`HOFSTEDE_NAME_TO_ISO3` (read from the bundled ``hofstede_country_names.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.contract import HOFSTEDE_DIMENSIONS
from analysis.errors import DataFileError
from analysis.sources.formats.lookups import read_lookup

NAMES_FILE = "hofstede_country_names.csv"

# Every name in the 2015-08-16 matrix (``hofstede_name``, ``iso3``). An empty ``iso3`` (``None`` here) marks a region or
# a language/ethnic sub-group, which is not a country and is dropped (listed in ``frame.attrs["excluded"]``).
HOFSTEDE_NAME_TO_ISO3: dict[str, str | None] = {
    row["hofstede_name"]: row["iso3"] or None for row in read_lookup(NAMES_FILE)
}

_HOFSTEDE_COLUMNS = ("ctr", "country", "pdi", "idv", "mas", "uai", "ltowvs", "ivr")


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
        raise DataFileError(
            f"{path}: not Hofstede's dimension matrix; missing columns {missing} "
            f"(expected the ';'-separated header {';'.join(_HOFSTEDE_COLUMNS)}, found {list(raw.columns)})",
            file=path,
            column=missing[0],
            value=missing,
            valid=list(_HOFSTEDE_COLUMNS),
        )
    names = {**HOFSTEDE_NAME_TO_ISO3, **dict(extra_names or {})}
    raw["country"] = raw["country"].str.strip()
    unknown = sorted(set(raw["country"]) - set(names))
    if unknown:
        raise DataFileError(
            f"{path}: no ISO alpha-3 code known for Hofstede country names {unknown}; pass "
            "extra_names={name: 'ISO3' or None for a region} (codes in the 'ctr' column are Hofstede's own "
            "and are deliberately not used)",
            file=path,
            column="country",
            value=unknown,
            valid=f"a name in {NAMES_FILE} or in extra_names",
        )
    raw["iso3"] = raw["country"].map(names)
    excluded = raw.loc[raw["iso3"].isna(), "country"].tolist()
    countries = raw.loc[raw["iso3"].notna()].rename(columns={"ctr": "hofstede_code", "ltowvs": "lto"})
    duplicated = countries.loc[countries["iso3"].duplicated(keep=False), ["iso3", "country"]]
    if not duplicated.empty:
        raise DataFileError(
            f"{path}: several Hofstede rows map to one ISO code: {duplicated.to_dict('records')}",
            file=path,
            column="country",
            value=duplicated.to_dict("records"),
            valid="one row per country",
        )
    result = countries[["iso3", "country", "hofstede_code", *HOFSTEDE_DIMENSIONS]].copy()
    for dimension in HOFSTEDE_DIMENSIONS:
        values = pd.to_numeric(result[dimension], errors="coerce")
        bad = result.loc[values.isna() & result[dimension].notna(), ["country", dimension]]
        if not bad.empty:
            raise DataFileError(
                f"{path}: column {dimension!r} has non-numeric values {bad.to_dict('records')}",
                file=path,
                column=dimension,
                value=bad[dimension].tolist(),
                valid="numbers, or #NULL! where not measured",
            )
        result[dimension] = values.astype(float)
    result = result.sort_values("iso3").reset_index(drop=True)
    result.attrs["excluded"] = excluded
    return result
