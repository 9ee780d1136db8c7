"""The run configuration (``workbook.yml``) and the plan it describes: which notebook runs for which market.

``load_run_config`` validates everything a run depends on before any kernel starts and reports all problems
at once, each naming the key path in the file, the offending value and what would be valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from analysis import errors
from analysis.contract import ALL_MARKETS, ISO_ALPHA2
from analysis.pipeline.checks import ParameterProblem, check_against_files, market_code
from analysis.pipeline.engine import CatalogTables, Engine, SparkConfig, engine_environment, engine_parameters
from analysis.pipeline.files import SAFE_NAME
from analysis.pipeline.paths import parameter_path
from analysis.present.capture import CHART_FILES_ENVIRONMENT


class ConfigError(errors.ConfigError):
    """A run configuration that cannot be run; one line per problem: ``<source>: <key path>: <problem>``.

    Parameters
    ----------
    source
        where the problems are: the configuration file, or ``"selection"`` / ``"run_reports"`` for arguments given
        with the command; kept as ``.source`` (text) and, when it is a file, as ``.file``.
    problems
        one line per problem, ``<key path>: <problem>``; kept as ``.problems``.
        A :class:`~analysis.pipeline.checks.ParameterProblem` among them (a value a notebook rejects) is kept in
        ``.parameter_problems`` with its notebook, parameter, value and valid values; when it is the only problem,
        those are also the error's ``notebook``, ``parameter``, ``value`` and ``valid``.
    facts
        further attributes of :class:`analysis.errors.WorkbookError` (``parameter``, ``value``, ``valid``).
    """

    def __init__(self, source: Path | str, problems: list, **facts: Any) -> None:
        self.source = str(source)
        if isinstance(source, Path):
            facts.setdefault("file", source)
        self.parameter_problems = [problem for problem in problems if isinstance(problem, ParameterProblem)]
        self.notebook = None
        if len(problems) == 1 and self.parameter_problems:
            (only,) = self.parameter_problems
            self.notebook = only.notebook
            facts |= {"parameter": only.parameter, "value": only.value, "valid": only.valid}
        problems = [str(problem) for problem in problems]
        message = "\n".join(f"{self.source}: {problem}" for problem in problems)
        super().__init__(message, problems=problems, **facts)
        self.problems = list(problems)  # as given, even when empty (the base class would repeat the message)


# The validators below raise ValueError on purpose: that is how pydantic learns a value is bad. It turns them
# into its own ValidationError, which load_run_config reports as lines of one ConfigError.
def _market_code(value: str) -> str:
    code = market_code(value)  # case does not matter: de is DE
    if not re.fullmatch(ISO_ALPHA2, code):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 market code (two letters, e.g. DE)")
    return code


def _notebook_name(value: str) -> str:
    if not SAFE_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a notebook name (the file name in the notebooks folder without .ipynb: "
            "letters, digits, '_' and '-')"
        )
    return value


MarketCode = Annotated[str, AfterValidator(_market_code)]
NotebookName = Annotated[str, AfterValidator(_notebook_name)]


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_ConfigModel):
    """The analysis period; both ends are inclusive days."""

    start: date
    end: date

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD, e.g. 2025-01-01)")

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class NotebookSpec(_ConfigModel):
    """One notebook of the run: ``notebooks/<notebook>.ipynb``, per market or once with ``market="ALL"``.

    ``markets`` narrows a per-market notebook to some of the run's markets (e.g. an experiment readout runs only
    where an experiment ran); None means every market of the run. ``with_all`` adds, after the per-market reports,
    one report across every market (``market="ALL"``).
    """

    notebook: NotebookName
    per_market: bool = True
    markets: list[MarketCode] | None = None
    with_all: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)


class RunConfig(_ConfigModel):
    """A validated ``workbook.yml``; :func:`load_run_config` makes its folders absolute.

    ``engine`` is where the notebooks read their tables: ``duckdb`` (in process, the default) or ``pyspark`` (a
    Spark session with the ``spark`` block's master and settings, reading the data folder, or for the tables named
    in ``tables`` the Spark catalog's tables); see :mod:`analysis.pipeline.engine`. ``chart_files`` (default true)
    has every report's kernel draw its charts again as SVG and a 300-dpi PNG, written beside the report
    (:mod:`analysis.present.capture`, about 0.8 s per chart); false for a faster run without them.
    """

    data_dir: Path
    reports_dir: Path = Path("reports")
    notebooks_dir: Path = Path("notebooks")
    period: Period
    markets: list[MarketCode] = Field(min_length=1)
    notebooks: list[NotebookSpec] = Field(min_length=1)
    engine: Engine = "duckdb"
    spark: SparkConfig = Field(default_factory=SparkConfig)
    tables: CatalogTables = Field(default_factory=dict)
    chart_files: bool = True

    @model_validator(mode="after")
    def _catalog_tables_need_spark(self) -> RunConfig:
        if self.tables and self.engine != "pyspark":
            raise ValueError(
                f"tables: catalog tables {sorted(self.tables)} are read only with engine: pyspark "
                f"(engine is {self.engine}; remove tables or set engine: pyspark)"
            )
        return self

    @model_validator(mode="after")
    def _notebook_markets_are_run_markets(self) -> RunConfig:
        for spec in self.notebooks:
            unknown = [market for market in spec.markets or [] if market not in self.markets]
            if unknown:
                raise ValueError(
                    f"notebook {spec.notebook}: markets {unknown} are not in the run's markets {self.markets}"
                )
            if spec.markets is not None and not spec.per_market:
                raise ValueError(f"notebook {spec.notebook}: markets is only for per_market notebooks")
            if spec.with_all and not spec.per_market:
                raise ValueError(f"notebook {spec.notebook}: with_all is only for per_market notebooks")
        return self


@dataclass(frozen=True)
class PlannedReport:
    """One report to make: a notebook executed with parameters for one market (or ``ALL``).

    ``environment`` holds the variables its kernel is started with (the Spark settings of a run on Spark).
    """

    notebook: str
    market: str
    notebook_path: Path
    parameters: dict[str, Any]
    environment: dict[str, str] = field(default_factory=dict)


def load_run_config(path: Path, *, engine: str | None = None) -> RunConfig:
    """Read and validate the run configuration at ``path``.

    Checks the keys and their types, the period, the market codes (and that the data's ``markets`` table
    knows them), that every notebook file exists and defines the parameters it is given. Folders are resolved
    relative to the configuration file. ``engine`` (``workbook run --engine``), when given, replaces the file's
    ``engine`` before validation, so it is checked like it.

    Raises
    ------
    ConfigError
        listing every problem found, each as ``<file>: <key path>: <problem>``.
    """
    path = Path(path)
    raw = _read_yaml(path)
    if engine is not None:
        raw["engine"] = engine
    base_dir = path.resolve().parent
    problems = []
    config = None
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as error:
        problems.extend(_describe(issue) for issue in error.errors())
    # Checks against files run on whatever parts of the raw file are usable, so one pass reports everything.
    problems.extend(check_against_files(raw, base_dir))
    if problems:
        raise ConfigError(path, problems)
    assert config is not None
    return config.model_copy(
        update={
            "data_dir": (base_dir / config.data_dir).resolve(),
            "reports_dir": (base_dir / config.reports_dir).resolve(),
            "notebooks_dir": (base_dir / config.notebooks_dir).resolve(),
        }
    )


def plan_reports(
    config: RunConfig, *, markets: list[str] | None = None, notebooks: list[str] | None = None
) -> list[PlannedReport]:
    """The reports a run makes, notebook by notebook, market by market, optionally narrowed to a selection.

    ``markets`` may name ``ALL``: it selects the across-markets reports (of ``with_all`` and non-per-market notebooks).

    Raises
    ------
    ConfigError
        if a selected market or notebook is not in the configuration (the message lists the valid ones).
    """
    problems = []
    configured_notebooks = [spec.notebook for spec in config.notebooks]
    for name in notebooks or []:
        if name not in configured_notebooks:
            problems.append(f"notebook {name!r} is not in the run configuration (configured: {configured_notebooks})")
    markets = None if markets is None else [market_code(market) for market in markets]  # --market de is DE
    for market in markets or []:
        if market not in config.markets and market != ALL_MARKETS:
            problems.append(
                f"market {market!r} is not in the run configuration (configured: {config.markets}, or {ALL_MARKETS})"
            )
    if problems:
        raise ConfigError("selection", problems)
    chosen_markets = [market for market in config.markets if markets is None or market in markets]
    environment = engine_environment(config.engine, config.spark, config.tables)
    environment[CHART_FILES_ENVIRONMENT] = "1" if config.chart_files else "0"
    plan = []
    for spec in config.notebooks:
        if notebooks is not None and spec.notebook not in notebooks:
            continue
        own_markets = [market for market in chosen_markets if spec.markets is None or market in spec.markets]
        across = [ALL_MARKETS] if markets is None or ALL_MARKETS in markets else []
        for market in own_markets + (across if spec.with_all else []) if spec.per_market else [ALL_MARKETS]:
            parameters = {
                "market": market,
                "start_date": config.period.start.isoformat(),
                "end_date": config.period.end.isoformat(),
                # relative to the project when inside it: kernels run at the project root (see paths.py)
                "data_dir": parameter_path(config.data_dir),
                **engine_parameters(config.engine),
                **spec.parameters,
            }
            notebook_path = Path(config.notebooks_dir) / f"{spec.notebook}.ipynb"
            plan.append(PlannedReport(spec.notebook, market, notebook_path, parameters, dict(environment)))
    return plan


class _DatesAsText(yaml.SafeLoader):
    """A YAML loader that keeps dates as text: a bad date is reported by validation, not by the parser."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(path, ["file not found"])
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError(path, [f"not valid YAML ({' '.join(str(error).split())})"]) from None
    if not isinstance(raw, dict):
        keys = ", ".join(RunConfig.model_fields)
        raise ConfigError(path, [f"expected a mapping with keys {keys}; got {type(raw).__name__}"])
    return raw


def key_path(location: tuple[str | int, ...]) -> str:
    """``("notebooks", 0, "parameters")`` as ``notebooks[0].parameters``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(issue: dict) -> str:
    location = tuple(issue["loc"])
    where = key_path(location) or "(top level)"
    kind = issue["type"]
    if kind == "value_error":
        return f"{where}: {issue['ctx']['error']}"
    if kind == "extra_forbidden":
        return f"{where}: unknown key (valid here: {', '.join(_valid_keys(location[:-1]))})"
    if kind == "missing":
        return f"{where}: missing (required)"
    return f"{where}: {issue['msg']} (got {issue['input']!r})"


def _valid_keys(parent: tuple[str | int, ...]) -> list[str]:
    names = [part for part in parent if isinstance(part, str)]
    model: type[BaseModel] = RunConfig
    if names[-1:] == ["period"]:
        model = Period
    elif names[-1:] == ["notebooks"]:
        model = NotebookSpec
    elif names[-1:] == ["spark"]:
        model = SparkConfig
    return list(model.model_fields)
