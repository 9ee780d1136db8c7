"""Checks of a run configuration against the files it names: data folder, markets table, notebooks.

They work on the raw YAML mapping, tolerating parts that fail type validation, so that one run of
:func:`analysis.pipeline.load_run_config` reports every problem in the file. Every value a notebook will receive
(the run's market, start and end, and the parameters set in the file) is checked against the type and rules its
parameters cell declares (:mod:`analysis.pipeline.parameters`), so a bad value fails before any kernel starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.contract import ALL_MARKETS, ISO_ALPHA2
from analysis.pipeline.files import SAFE_NAME
from analysis.pipeline.parameters import NotebookParameter, notebook_parameters

# Parameters the pipeline gives every notebook; a notebook's parameters cell must define them.
RESERVED_PARAMETERS = ("market", "start_date", "end_date", "data_dir")
ISO_DATE = r"\d{4}-\d{2}-\d{2}"


def check_against_files(raw: dict[str, Any], base_dir: Path) -> list:
    """Problems found by looking at the data folder and the notebooks, as ``<key path>: <problem>`` lines.

    A value a notebook's parameters cell rejects is a :class:`ParameterProblem` (its text is such a line).
    """
    problems = _check_markets(raw, base_dir)
    problems += _check_notebooks(raw, base_dir)
    return problems


def _check_markets(raw: dict[str, Any], base_dir: Path) -> list[str]:
    problems = []
    markets = raw.get("markets")
    markets = markets if isinstance(markets, list) else []
    first_seen: dict[str, int] = {}
    for index, market in enumerate(markets):
        market = market_code(market)
        if market in first_seen:
            problems.append(f"markets[{index}]: {market!r} is listed twice (also markets[{first_seen[market]}])")
        elif isinstance(market, str):
            first_seen[market] = index
    data_dir = raw.get("data_dir")
    if not isinstance(data_dir, str):
        return problems
    data_path = (base_dir / data_dir).resolve()
    if not data_path.is_dir():
        return [*problems, f"data_dir: folder not found: {data_path} (relative paths start at {base_dir})"]
    codes = [market for market in first_seen if re.fullmatch(ISO_ALPHA2, market)]
    if not codes or _markets_from_catalog(raw):
        return problems  # a catalog's markets table is on Spark: the reports check the markets there
    try:
        known = markets_in_data(data_path)
    except Exception as error:  # any reading problem: say which file and why, and go on checking the rest
        return [*problems, f"data_dir: cannot read the markets table to check the markets ({error})"]
    for market in codes:
        if market not in known:
            problems.append(
                f"markets[{first_seen[market]}]: {market!r} is not in the markets table of {data_path} "
                f"(known: {', '.join(sorted(known))})"
            )
    return problems


def _markets_from_catalog(raw: dict[str, Any]) -> bool:
    tables = raw.get("tables")
    return raw.get("engine") == "pyspark" and isinstance(tables, dict) and "markets" in tables


def market_code(value: Any) -> Any:
    """A market code as the pipeline uses it: text in capitals without surrounding blanks (``" de"`` is ``DE``)."""
    return value.strip().upper() if isinstance(value, str) else value


def markets_in_data(data_dir: Path) -> set[str]:
    """Market codes listed in the ``markets`` table of ``data_dir``."""
    from analysis.sources import load_tables  # imported here: only validation needs the data engine

    markets = load_tables(data_dir, tables=["markets"])["markets"]
    return set(markets.select("market").to_pyarrow().column("market").to_pylist())


def _check_notebooks(raw: dict[str, Any], base_dir: Path) -> list[str]:
    folder = raw.get("notebooks_dir", "notebooks")
    entries = raw.get("notebooks")
    if not isinstance(folder, str) or not isinstance(entries, list):
        return []
    notebooks_dir = (base_dir / folder).resolve()
    if not notebooks_dir.is_dir():
        key = "notebooks_dir" if "notebooks_dir" in raw else "notebooks"
        return [f"{key}: notebooks folder not found: {notebooks_dir}"]
    problems = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        name = entry.get("notebook") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
            continue  # type validation reports it
        if name in first_seen:
            problems.append(f"notebooks[{index}].notebook: {name} is listed twice (also notebooks[{first_seen[name]}])")
            continue
        first_seen[name] = index
        problems += _check_one_notebook(f"notebooks[{index}]", name, entry, notebooks_dir, raw)
    return problems


def _check_one_notebook(where: str, name: str, entry: dict, notebooks_dir: Path, raw: dict[str, Any]) -> list[str]:
    path = notebooks_dir / f"{name}.ipynb"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in notebooks_dir.glob("*.ipynb"))) or "none"
        return [f"{where}.notebook: notebook file not found: {path} (available: {available})"]
    parameters = entry.get("parameters")
    try:
        declared = notebook_parameters(path)
    except Exception as error:  # a broken file or rule: name it and the parser's complaint
        return [f"{where}.notebook: {path} cannot be read as a notebook ({type(error).__name__}: {error})"]
    defined = list(declared)
    if not defined:
        return [
            f"{where}.notebook: {name} has no cell tagged 'parameters' (the pipeline needs one to pass "
            f"{', '.join(RESERVED_PARAMETERS)})"
        ]
    problems = []
    missing = [parameter for parameter in RESERVED_PARAMETERS if parameter not in defined]
    if missing:
        problems.append(
            f"{where}.notebook: the parameters cell of {name} does not define {', '.join(missing)} "
            f"(every notebook receives {', '.join(RESERVED_PARAMETERS)})"
        )
    own = [parameter for parameter in defined if parameter not in RESERVED_PARAMETERS]
    for parameter in parameters if isinstance(parameters, dict) else {}:
        if parameter in RESERVED_PARAMETERS:
            problems.append(f"{where}.parameters.{parameter}: set by the pipeline for every notebook; remove it here")
        elif parameter not in defined:
            known = ", ".join(own) or "none"
            problems.append(f"{where}.parameters.{parameter}: not a parameter of {name} (known: {known})")
        else:
            value = parameters[parameter]
            problems += _check_value(f"{where}.parameters.{parameter}", name, declared[parameter], value)
    return problems + _check_run_values(name, entry, declared, raw)


def _check_run_values(name: str, entry: dict, declared: dict[str, NotebookParameter], raw: dict[str, Any]) -> list:
    """The values the pipeline itself passes (market, start_date, end_date) against the notebook's rules."""
    given: list[tuple[str, str, Any]] = []
    if "market" in declared:
        if entry.get("per_market", True) is False:
            given.append(("market", "market", ALL_MARKETS))
        else:
            markets = raw.get("markets") if isinstance(raw.get("markets"), list) else []
            codes = [(index, market_code(market)) for index, market in enumerate(markets)]
            given += [(f"markets[{i}]", "market", code) for i, code in codes if _is_market_code(code)]
    period = raw.get("period") if isinstance(raw.get("period"), dict) else {}
    for end, parameter in (("start", "start_date"), ("end", "end_date")):
        if parameter in declared and isinstance(period.get(end), str) and re.fullmatch(ISO_DATE, period[end]):
            given.append((f"period.{end}", parameter, period[end]))
    problems = []
    for where, parameter, value in given:
        problems += _check_value(where, name, declared[parameter], value)
    return problems


def _is_market_code(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(ISO_ALPHA2, value) is not None


def _check_value(where: str, notebook: str, declared: NotebookParameter, value: Any) -> list:
    valid = declared.problem(value)
    if valid is None:
        return []
    return [ParameterProblem(where, notebook, declared.name, value, valid)]


@dataclass(frozen=True)
class ParameterProblem:
    """A value a notebook would reject: where it is set, which notebook and parameter, the value, what is valid."""

    where: str
    notebook: str
    parameter: str
    value: Any
    valid: str

    def __str__(self) -> str:
        return (
            f"{self.where}: {self.value!r} is not a valid {self.parameter} for notebook {self.notebook} "
            f"(valid: {self.valid})"
        )
