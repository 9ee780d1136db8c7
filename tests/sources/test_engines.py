"""The engines a notebook opens (DuckDB, Spark), their settings, and contract tables read from a catalog."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR, PROJECT_ROOT
from analysis.errors import DataFileError, ParameterError
from analysis.sources import load_tables, open_engine, resolve_engine, validate_data_dir
from analysis.sources.spark import catalog_tables, spark_defaults, spark_options
from analysis.sources.validate import check_data_dir

TEST_DATA = PROJECT_ROOT / "data" / "test-small"


@pytest.fixture(autouse=True)
def no_engine_environment(monkeypatch):
    for variable in ("WORKBOOK_ENGINE", "WORKBOOK_SPARK", "WORKBOOK_TABLES"):
        monkeypatch.delenv(variable, raising=False)


def test_when_no_engine_is_named_then_it_is_the_environment_s_else_duckdb(monkeypatch):
    assert resolve_engine("") == "duckdb"
    monkeypatch.setenv("WORKBOOK_ENGINE", "pyspark")
    assert resolve_engine("") == "pyspark"
    assert resolve_engine("duckdb") == "duckdb"  # the parameter wins over the environment


def test_when_the_engine_is_unknown_then_the_error_names_it_and_the_engines():
    with pytest.raises(ParameterError) as caught:
        open_engine("spark")

    assert (caught.value.parameter, caught.value.value, caught.value.valid) == (
        "engine",
        "spark",
        ["duckdb", "pyspark"],
    )
    assert str(caught.value) == "engine 'spark' is not an engine the workbook runs on; valid: duckdb, pyspark"


def test_when_duckdb_is_opened_then_it_is_the_workbook_s_duckdb_connection():
    assert open_engine("duckdb").name == "duckdb"


def test_when_spark_settings_are_not_given_then_the_defaults_run_locally_in_utc_with_files_under_the_cache(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "cache"))

    master, settings = spark_options()

    assert master == "local[*]"
    assert settings == {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(tmp_path / "cache" / "spark" / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={tmp_path / 'cache' / 'spark' / 'derby'}",
    }
    assert spark_defaults(tmp_path / "elsewhere")["spark.sql.warehouse.dir"] == str(
        tmp_path / "elsewhere" / "spark" / "warehouse"
    )


def test_when_the_environment_holds_spark_settings_then_they_override_the_defaults(monkeypatch):
    monkeypatch.setenv(
        "WORKBOOK_SPARK",
        '{"master": "local[2]", "settings": {"spark.sql.shuffle.partitions": 8, "spark.ui.enabled": true}}',
    )

    master, settings = spark_options()

    assert master == "local[2]"
    assert settings["spark.sql.shuffle.partitions"] == "8"
    assert settings["spark.ui.enabled"] == "true"  # Spark's spelling of a YAML/JSON true
    assert settings["spark.sql.session.timeZone"] == "UTC"


@pytest.mark.parametrize(
    ("variable", "text", "parameter"),
    [("WORKBOOK_SPARK", "local[2]", "spark"), ("WORKBOOK_TABLES", '["events"]', "tables")],
)
def test_when_an_environment_variable_is_not_a_json_object_then_the_error_names_it(
    monkeypatch, variable, text, parameter
):
    monkeypatch.setenv(variable, text)

    with pytest.raises(ParameterError) as caught:
        spark_options() if parameter == "spark" else catalog_tables()

    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"${variable} is not a JSON object")


def test_when_spark_settings_have_an_unknown_key_then_the_error_says_what_is_valid():
    with pytest.raises(ParameterError) as caught:
        spark_options({"master": "local[1]", "cores": 2})

    assert caught.value.parameter == "spark"
    assert "master" in caught.value.valid and "settings" in caught.value.valid


def test_when_a_table_is_named_in_the_catalog_then_it_is_read_from_there_and_the_rest_from_files(tiny_data_dir):
    con = open_engine("duckdb")
    files = load_tables(tiny_data_dir, con)
    con.create_table("client_markets", files["markets"].to_pyarrow().slice(0, 2))

    tables = load_tables(tiny_data_dir, con, catalog={"markets": "client_markets"})

    assert set(tables) == set(files)
    assert tables["markets"].count().to_pandas() == 2
    assert tables["events"].count().to_pandas() == files["events"].count().to_pandas()


def test_when_the_catalog_mapping_is_in_the_environment_then_load_tables_reads_it(tiny_data_dir, monkeypatch):
    con = open_engine("duckdb")
    con.create_table("m", load_tables(tiny_data_dir, con, tables=["markets"])["markets"].to_pyarrow().slice(0, 1))
    monkeypatch.setenv("WORKBOOK_TABLES", '{"markets": "m"}')

    assert load_tables(tiny_data_dir, con, tables=["markets"])["markets"].count().to_pandas() == 1


def test_when_a_catalog_table_is_missing_then_the_error_names_it_and_the_contract_table(tiny_data_dir):
    with pytest.raises(DataFileError) as caught:
        load_tables(tiny_data_dir, open_engine("duckdb"), tables=["events"], catalog={"events": "db.clicks"})

    assert str(caught.value).startswith("catalog table 'db.clicks' (the events table) cannot be read (")
    assert caught.value.value == "db.clicks"


def test_when_the_catalog_names_an_unknown_table_then_the_error_lists_the_contract_tables(tiny_data_dir):
    with pytest.raises(Exception, match="clicks") as caught:
        load_tables(tiny_data_dir, open_engine("duckdb"), catalog={"clicks": "db.clicks"})

    assert "events" in str(caught.value)


# Spark: one local session for the module (Spark allows one per process; a session another test module started is
# reused, and left running for it).
@pytest.fixture(scope="module")
def spark_engine():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    existing = SparkSession.getActiveSession()
    con = open_engine("pyspark", spark={"master": "local[1]", "settings": {"spark.sql.shuffle.partitions": 2}})
    yield con
    if existing is None:
        con._session.stop()


@pytest.mark.slow
def test_when_spark_is_opened_then_it_is_an_ibis_backend_on_a_utc_session(spark_engine):
    session = spark_engine._session

    assert spark_engine.name == "pyspark"
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark_engine.sql("SELECT 1 + 1 AS two").to_pandas().two.tolist() == [2]


@pytest.mark.slow
def test_when_events_come_from_a_spark_catalog_view_then_they_are_read_as_utc_instants(spark_engine):
    files = load_tables(TEST_DATA, open_engine("duckdb"), tables=["events"])["events"]
    sample = files.order_by(["event_time", "session_id", "event_name"]).limit(50).to_pandas()
    spark_engine._session.createDataFrame(sample).createOrReplaceTempView("client_events")

    tables = load_tables(TEST_DATA, spark_engine, tables=["events", "markets"], catalog={"events": "client_events"})

    events = tables["events"]
    assert events.schema()["event_time"].timezone == "UTC"
    read = events.order_by(["event_time", "session_id", "event_name"]).to_pandas()
    pd.testing.assert_frame_equal(read.reset_index(drop=True), sample, check_dtype=False)
    assert read.event_time.dt.tz is not None and str(read.event_time.dt.tz) == "UTC"
    assert tables["markets"].count().to_pandas() == 8  # not named in the catalog: read from the folder


@pytest.mark.slow
def test_when_the_test_data_is_validated_on_spark_then_the_report_is_duckdb_s(spark_engine):
    on_spark = validate_data_dir(TEST_DATA, con=spark_engine)
    on_duckdb = check_data_dir(TEST_DATA, open_engine("duckdb"))  # checked now, as Spark does, not a stored result

    assert on_spark.rows == on_duckdb.rows
    assert on_spark.files == on_duckdb.files
    assert on_spark.violations == on_duckdb.violations == []
    assert on_spark.warnings == on_duckdb.warnings


def findings_of(notebook: nbformat.NotebookNode) -> str:
    """The Markdown of the key-findings cell (the one calling ``findings_markdown``)."""
    (cell,) = [cell for cell in notebook.cells if cell.source.startswith("findings_markdown(")]
    return "".join(
        output["data"]["text/markdown"] for output in cell.outputs if "text/markdown" in output.get("data", {})
    )


@pytest.mark.slow
def test_when_the_data_overview_runs_on_spark_then_its_findings_are_duckdb_s(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_SPARK", '{"master": "local[1]", "settings": {"spark.sql.shuffle.partitions": 2}}')
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path / "cache"))  # DuckDB checks now too: no stored result
    working_dirs = (NOTEBOOKS_DIR, Path.cwd())  # the kernel's and this process's
    warehouses_before = [(folder / "spark-warehouse").exists() for folder in working_dirs]
    findings = {}
    for engine in ("duckdb", "pyspark"):
        output = tmp_path / f"{engine}.ipynb"
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / "data_overview.ipynb"),
            str(output),
            parameters={"data_dir": str(TEST_DATA), "market": "US", "engine": engine},
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
        )
        findings[engine] = findings_of(nbformat.read(output, as_version=4))

    assert findings["duckdb"].strip()
    assert findings["pyspark"] == findings["duckdb"]
    assert [(folder / "spark-warehouse").exists() for folder in working_dirs] == warehouses_before  # none made
