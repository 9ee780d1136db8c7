"""The run's engine: the ``engine``, ``spark`` and ``tables`` keys of workbook.yml, and what each report receives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis.pipeline import ConfigError, load_run_config, run_reports
from analysis.pipeline import run as run_module
from analysis.pipeline.engine import kernel_environment
from analysis.pipeline.plan import plan_reports

BASE = """\
data_dir: data
reports_dir: out/reports
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE]
notebooks:
  - notebook: sales
"""
# The kernel prints what it was given: its engine parameter and the Spark variables of its environment.
SHOW_ENGINE = [
    "import os\n"
    "print('engine', repr(globals().get('engine')))\n"
    "print('spark', os.environ.get('WORKBOOK_SPARK'))\n"
    "print('tables', os.environ.get('WORKBOOK_TABLES'))"
]


def project(tmp_path: Path, extra: str = "") -> Path:
    return write_project(tmp_path, {"sales": SHOW_ENGINE}, BASE + extra)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    return caught.value.problems


def test_when_no_engine_is_configured_then_the_run_is_on_duckdb_and_reports_get_nothing_more(tmp_path):
    config = load_run_config(project(tmp_path))

    (report,) = plan_reports(config)

    assert (config.engine, config.spark.master, config.spark.settings, config.tables) == ("duckdb", "local[*]", {}, {})
    assert "engine" not in report.parameters
    assert report.environment == {"WORKBOOK_CHART_FILES": "1"}  # only the chart files, drawn by default


def test_when_chart_files_are_switched_off_then_no_kernel_draws_them(tmp_path):
    (report,) = plan_reports(load_run_config(project(tmp_path, "chart_files: false\n")))

    assert report.environment == {"WORKBOOK_CHART_FILES": "0"}


def test_when_engine_is_pyspark_then_each_report_gets_the_engine_and_the_spark_settings(tmp_path):
    extra = (
        "engine: pyspark\n"
        "spark: {master: 'local[2]', settings: {spark.sql.shuffle.partitions: 8, spark.sql.adaptive.enabled: true}}\n"
        "tables: {events: analytics.events, orders: shop.sales.orders}\n"
    )
    config = load_run_config(project(tmp_path, extra))

    (report,) = plan_reports(config)

    assert report.parameters["engine"] == "pyspark"
    assert json.loads(report.environment["WORKBOOK_SPARK"]) == {
        "master": "local[2]",
        "settings": {"spark.sql.shuffle.partitions": 8, "spark.sql.adaptive.enabled": True},
    }
    assert json.loads(report.environment["WORKBOOK_TABLES"]) == {
        "events": "analytics.events",
        "orders": "shop.sales.orders",
    }


def test_when_the_engine_is_unknown_then_the_error_names_the_key_value_and_engines(tmp_path):
    problems = problems_of(project(tmp_path, "engine: spark\n"))

    assert problems == ["engine: Input should be 'duckdb' or 'pyspark' (got 'spark')"]


def test_when_spark_settings_are_bad_then_each_names_its_key_and_what_is_valid(tmp_path):
    extra = "engine: pyspark\nspark: {master: 'local[0]', settings: {driver.memory: 4g}, cores: 2}\n"

    problems = problems_of(project(tmp_path, extra))

    assert problems == [
        "spark.master: 'local[0]' is not a Spark master (valid: local, local[*], local[N], spark://host:port, yarn, "
        "k8s://..., sc://...)",
        "spark.settings: ['driver.memory'] are not Spark settings (valid: keys starting with 'spark.', e.g. "
        "spark.driver.memory)",
        "spark.cores: unknown key (valid here: master, settings)",
    ]


def test_when_catalog_tables_are_bad_then_the_error_names_tables_and_valid_names(tmp_path):
    extra = "engine: pyspark\ntables: {clicks: db.clicks, events: 'db.events; drop'}\n"

    problems = problems_of(project(tmp_path, extra))

    assert problems == [
        "tables: ['clicks'] are not tables of the data contract (valid: events, orders, sellers, surveys, markets, "
        "benchmarks, initiatives)"
    ]


def test_when_a_catalog_table_name_is_not_an_identifier_then_it_is_refused(tmp_path):
    problems = problems_of(project(tmp_path, "engine: pyspark\ntables: {events: 'db.events; drop'}\n"))

    assert problems == [
        "tables: ['db.events; drop'] are not catalog table names (valid: table, database.table or "
        "catalog.database.table)"
    ]


def test_when_catalog_tables_are_given_on_duckdb_then_the_error_says_they_need_pyspark(tmp_path):
    problems = problems_of(project(tmp_path, "tables: {events: db.events}\n"))

    assert problems == [
        "(top level): tables: catalog tables ['events'] are read only with engine: pyspark (engine is duckdb; "
        "remove tables or set engine: pyspark)"
    ]


def test_when_the_markets_table_is_in_the_catalog_then_the_data_folder_need_not_hold_one(tmp_path):
    path = project(tmp_path, "engine: pyspark\ntables: {markets: db.markets}\n")
    (tmp_path / "data" / "markets.csv").unlink()

    config = load_run_config(path)

    assert config.tables == {"markets": "db.markets"}


def test_when_a_kernel_environment_is_set_then_it_is_restored_afterwards(monkeypatch):
    monkeypatch.setenv("WORKBOOK_SPARK", "before")
    monkeypatch.delenv("WORKBOOK_TABLES", raising=False)

    with kernel_environment({"WORKBOOK_SPARK": "during", "WORKBOOK_TABLES": "{}"}):
        inside = (os.environ["WORKBOOK_SPARK"], os.environ["WORKBOOK_TABLES"])

    assert inside == ("during", "{}")
    assert os.environ["WORKBOOK_SPARK"] == "before"
    assert "WORKBOOK_TABLES" not in os.environ


@pytest.mark.slow
def test_when_a_run_is_on_pyspark_then_the_data_is_not_prepared_and_the_kernel_gets_the_engine(tmp_path, monkeypatch):
    def no_preparation(data_dir):
        raise AssertionError("prepare_data is DuckDB's: a run on Spark must not call it")

    monkeypatch.setattr(run_module, "prepare_run_data", no_preparation)
    extra = "engine: pyspark\nspark: {master: 'local[1]'}\ntables: {events: db.events}\n"
    config = load_run_config(project(tmp_path, extra))

    run = run_reports(config, jobs=1, progress=lambda _: None)

    (result,) = run.results
    assert result.status == "ok", result.error
    shown = result.ipynb_path.read_text()
    assert "engine 'pyspark'" in shown
    assert 'spark {\\"master\\": \\"local[1]\\", \\"settings\\": {}}' in shown
    assert 'tables {\\"events\\": \\"db.events\\"}' in shown
    manifest = json.loads((run.run_dir / "run.json").read_text())
    assert manifest["data_preparation"] == {}
    assert manifest["config"]["engine"] == "pyspark"


def test_when_the_command_names_an_engine_then_it_replaces_the_file_s_and_is_checked_like_it(tmp_path):
    path = project(tmp_path, "tables: {}\n")

    assert load_run_config(path, engine="pyspark").engine == "pyspark"
    with pytest.raises(ConfigError) as caught:
        load_run_config(path, engine="spark")
    assert caught.value.problems == ["engine: Input should be 'duckdb' or 'pyspark' (got 'spark')"]
