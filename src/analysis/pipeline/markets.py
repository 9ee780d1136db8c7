"""Market names for titles: ``Germany`` rather than ``DE``, from the data's ``markets`` table.

Report titles, the index and the summary name markets as the client does. The names come from the ``markets``
table of the run's data folder (the one place they are written down); a market the table does not name, or a run
whose data folder cannot be read, keeps its code, so a title is never lost for want of a name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from analysis.config import PROJECT_ROOT
from analysis.contract import ALL_MARKETS

ALL_MARKETS_LABEL = "All markets"


def market_label(market: str, names: Mapping[str, str]) -> str:
    """The reader's name of ``market``: ``names[market]``, ``"All markets"`` for ``ALL``, else the code itself."""
    if market == ALL_MARKETS:
        return ALL_MARKETS_LABEL
    return names.get(market) or market


def market_names(data_dir: str | Path | None, root: Path = PROJECT_ROOT) -> dict[str, str]:
    """Market code -> name from the ``markets`` table in ``data_dir`` (relative paths start at ``root``).

    Returns an empty mapping when there is no such folder or table, or it cannot be read: names are for the
    reader's convenience, and every caller falls back to the codes.
    """
    if not data_dir:
        return {}
    folder = (Path(root) / data_dir).resolve()
    if not folder.is_dir():
        return {}
    stamps = tuple((path.name, path.stat().st_mtime_ns) for path in sorted(folder.glob("markets.*")) if path.is_file())
    return dict(_read_market_names(str(folder), stamps)) if stamps else {}


@functools.lru_cache(maxsize=8)
def _read_market_names(folder: str, stamps: tuple) -> tuple[tuple[str, str], ...]:
    """The (code, name) pairs of the folder's markets table; ``stamps`` (file names and times) key the cache."""
    from analysis.sources import load_tables  # imported here: only titles need the data engine

    try:
        markets = load_tables(Path(folder), tables=["markets"])["markets"].select("market", "name").to_pyarrow()
    except Exception:  # an unreadable table costs the names only; the data checks report it elsewhere
        return ()
    codes, names = markets.column("market").to_pylist(), markets.column("name").to_pylist()
    return tuple((str(code), str(name)) for code, name in zip(codes, names, strict=True) if code and name)
