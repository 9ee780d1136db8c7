"""The bundled country reference behind market-entry scoring (``data/reference``), assembled into one frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import REFERENCE_DATA_DIR
from analysis.contract import HOFSTEDE_DIMENSIONS
from analysis.errors import DataFileError
from analysis.sources.formats.hofstede import read_hofstede

HOFSTEDE_FILE = "hofstede_6_dimensions_2015-08-16.csv"
COUNTRIES_FILE = "countries.csv"
PEST_FILE = "pest_indicators.csv"


def read_pest_indicators(path: str | Path) -> pd.DataFrame:
    """The bundled long-format indicator file: ``iso3, indicator, value, year, source`` (one row a figure)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype={"iso3": str, "indicator": str, "source": str})
    expected = {"iso3", "indicator", "value", "year", "source"}
    if not expected <= set(frame.columns):
        raise DataFileError(
            f"{path}: expected columns {sorted(expected)}, found {list(frame.columns)}",
            file=path,
            value=list(frame.columns),
            valid=sorted(expected),
        )
    duplicated = frame.loc[frame.duplicated(["iso3", "indicator"], keep=False)]
    if not duplicated.empty:
        raise DataFileError(
            f"{path}: more than one value per country and indicator: {duplicated.to_dict('records')}",
            file=path,
            column="iso3, indicator",
            value=duplicated[["iso3", "indicator"]].drop_duplicates().to_dict("records"),
            valid="one value per country and indicator",
        )
    return frame


def served_markets(data_dir: str | Path = "", con=None) -> tuple[str, ...]:
    """The markets the client already serves: the ``market`` codes of the data's markets table, in table order.

    ``data_dir`` as a notebook's parameter (:func:`analysis.config.resolve_data_dir`: empty means
    $WORKBOOK_DATA_DIR, else the demo data). ``con``: the engine to read it with (:func:`analysis.sources.open_engine`;
    a new DuckDB one when None); a ``markets`` table named in the engine's catalog ($WORKBOOK_TABLES) is read from
    there. Codes are read as written (the contract's upper-case ISO alpha-2).
    """
    from analysis.config import resolve_data_dir
    from analysis.sources.files import load_tables  # the data engine is needed only here

    markets = load_tables(resolve_data_dir(data_dir), con, tables=["markets"])["markets"]
    return tuple(dict.fromkeys(markets.select("market").to_pyarrow().column("market").to_pylist()))


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
