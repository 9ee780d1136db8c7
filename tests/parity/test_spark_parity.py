"""Every report reads the same on Spark as on DuckDB: findings, tables and chart data of each notebook.

What is compared. Each notebook whose analysis reads the engine (overview, funnel, benchmarking, experiment readout,
retention and value, post-initiative results) is run as its setup cell runs it, with the defaults of its
``parameters`` cell (read from the notebook, so the test follows it), once on tables loaded through an Ibis PySpark
backend (local Spark, UTC, UI off, warehouse in a temporary folder) and once through DuckDB. Then every later code
cell of the notebook (its presenter calls) is executed against each analysis, and everything the cell shows is
compared:

- findings sentences (the Markdown the cell returns) equal as text;
- tables (DataFrames, or the data under a Styler) equal with rtol 1e-9 and atol 1e-12, and their rendered HTML equal
  as text (a number the reader sees differs by nothing);
- charts: per axes, titles, labels, tick labels, texts and legend entries equal as text, and the data coordinates of
  lines, bars and patches, scatter offsets and filled areas equal with the same tolerance.

Market entry scoring is left out: it reads reference files with pandas and the markets table through the default
engine, so no analysis runs on Spark there.

Markets: US, GB and ALL where the notebook takes ALL (the experiment readout takes one market with an A/B arm: GB,
its default, and US). The data are the demo data (``data/demo``, 60,000 users, 1.6M events: what ``make reports``
renders; ``make test`` builds them first, and ``$WORKBOOK_PARITY_DATA_DIR`` points the module elsewhere): on this
shared 2-core machine the module takes 4-5 min (Spark session, loading and validating on both engines ~60 s; each run
2-26 s, the funnel the dearest), dominated by Spark's per-query planning, not by data size.

Tolerance: rtol 1e-9, atol 1e-12 everywhere but for the outputs of a model fitted by maximum likelihood (the CLV of
the retention report: BG/NBD or its no-dropout limit NBD, Gamma-Gamma), which get rtol 1e-4. The engines sum the
customers' money and count their purchases in different orders, so the fit's inputs differ in their last bits; on
the demo data the likelihood is nearly flat (its buyers never drop out, so the fit runs along a ridge) and the
optimiser's stopping point moves the mean CLV by up to 1.6e-6 relative (measured: 49.21690 vs 49.21682). The CLV
is shown to whole currency units, so what a reader sees is equal; every other number is held to 1e-9.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.config import DEMO_DATA_DIR, NOTEBOOKS_DIR
from analysis.scope import Scope
from analysis.sources import connect, load_tables, open_events, validate_data_dir

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

pytestmark = pytest.mark.slow

RTOL, ATOL = 1e-9, 1e-12
FITTED_RTOL = 1e-4  # outputs of a maximum-likelihood fit (see the module docstring)
FITTED = ("clv",)  # the presenters whose outputs come from such a fit, by the words in their names
DATA_DIR = Path(os.environ.get("WORKBOOK_PARITY_DATA_DIR") or DEMO_DATA_DIR)


@pytest.fixture(scope="module")
def spark_con(tmp_path_factory):
    """An Ibis backend on a local two-core Spark session (UTC, no UI); an already running session is reused."""
    import ibis
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    session = running or (
        SparkSession.builder.master("local[2]")
        .appName("workbook-spark-parity")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        # tiny data: compiling each query's Java code costs more than interpreting it (overview 29 s -> 10 s)
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    yield ibis.pyspark.connect(session)
    if running is None:
        session.stop()


@pytest.fixture(scope="module")
def engines(spark_con, tmp_path_factory) -> Iterator[dict[str, SimpleNamespace]]:
    """The data's tables, its events source and its validation, on DuckDB and on Spark."""
    if not (DATA_DIR / "events.parquet").exists():
        pytest.fail(f"no demo data in {DATA_DIR}: `make data` writes them (`make test` does it first)")
    with pytest.MonkeyPatch.context() as patch:
        # DuckDB would return a validation stored when the folder was prepared (and say so); Spark checks now
        patch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path_factory.mktemp("no-prepared-data")))
        yield {
            name: SimpleNamespace(
                tables=load_tables(DATA_DIR, con),
                events=open_events(DATA_DIR, con=con),  # validated in the engine, as the funnel notebook does
                validation=validate_data_dir(DATA_DIR, con=con),  # as the overview notebook does
            )
            for name, con in (("duckdb", connect()), ("pyspark", spark_con))
        }


# --- the notebooks -------------------------------------------------------------------------------------------------


def notebook_cells(name: str) -> tuple[dict, str, list[str]]:
    """The parameters cell's values, the setup cell's source and the sources of the cells that show its results."""
    notebook = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    parameters: dict = {}
    exec("".join(code[0]["source"]), {}, parameters)
    assert "parameters" in code[0]["metadata"].get("tags", [])
    shows = ["".join(cell["source"]) for cell in code[2:]]
    # the last cell records the findings (compared already) and the names of the tables and charts, not shown
    return parameters, "".join(code[1]["source"]), [source for source in shows if "record_results(" not in source]


def run_analysis(name: str, engine: SimpleNamespace, parameters: dict):
    """The analysis the notebook's setup cell builds, on ``engine``'s tables, as that cell calls it."""
    from analysis.metrics.benchmark import analyse_benchmark
    from analysis.metrics.experiment import analyse_experiment
    from analysis.metrics.funnel import analyse_funnel
    from analysis.metrics.impact import analyse_impact
    from analysis.metrics.overview import analyse_overview
    from analysis.metrics.retention import analyse_retention

    p, tables = SimpleNamespace(**parameters), engine.tables
    scope = Scope.parse(p.market, p.start_date, p.end_date)
    if name == "data_overview":
        return analyse_overview(tables, scope, freq=p.freq, validation=engine.validation)
    if name == "customer_journey_funnel":
        engine.events.check_market(scope.market)
        return analyse_funnel(
            engine.events.events, scope, p.steps, p.window,
            breakdowns=p.breakdowns, unit=p.unit, mode=p.mode, min_group_size=p.min_group_size,
        )  # fmt: skip
    if name == "competitive_benchmarking":
        return analyse_benchmark(
            tables["benchmarks"], client=p.client, market=scope.market, period=p.period or None, peers=p.peers,
            weights=p.kpi_weights, stages=p.value_chain, top_k=p.top_k, n_simulations=p.n_simulations, seed=p.seed,
            tables=tables, scope=scope,
        )  # fmt: skip
    if name == "experiment_readout":
        return analyse_experiment(
            tables, scope, primary=p.primary, guardrails=p.guardrails, alpha=p.alpha, correction=p.correction,
            min_group_size=p.min_group_size, pre_days=p.pre_days,
        )  # fmt: skip
    if name == "retention_and_value":
        return analyse_retention(
            tables, scope, cohort_period=p.cohort_period, projection_months=p.projection_months,
            clv_horizon_months=p.clv_horizon_months, margin=p.margin, monthly_discount_rate=p.monthly_discount_rate,
            min_group_size=p.min_group_size,
        )  # fmt: skip
    assert name == "post_initiative_results"
    return analyse_impact(tables, scope, initiative_id=p.initiative_id, alpha=p.alpha)


def shown(setup: str, cells: list[str], analysis, engine: SimpleNamespace) -> list[tuple[str, object]]:
    """What each presenter cell shows (its ``display`` calls and its last expression), labelled by the cell."""
    namespace: dict = {}
    imports = [node for node in ast.parse(setup).body if isinstance(node, ast.Import | ast.ImportFrom)]
    exec(compile(ast.Module(imports, type_ignores=[]), "<setup imports>", "exec"), namespace)
    outputs: list[tuple[str, object]] = []
    namespace |= {"analysis": analysis, "source": engine.events, "display": lambda shown: outputs.append(shown)}
    for source in cells:
        body = ast.parse(source).body
        *statements, last = body
        exec(compile(ast.Module(statements, type_ignores=[]), "<cell>", "exec"), namespace)
        before = len(outputs)
        if isinstance(last, ast.Expr):
            outputs.append(eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace))
        else:
            exec(compile(ast.Module([last], type_ignores=[]), "<cell>", "exec"), namespace)
        outputs[before:] = [(f"{source.strip()} [{i}]", comparable(out)) for i, out in enumerate(outputs[before:])]
    return outputs


# --- what a reader sees, in comparable form -------------------------------------------------------------------------


def comparable(output) -> object:
    """``output`` as text, frames and arrays: the data a reader sees, without object identities."""
    if isinstance(output, Figure):
        data = figure_data(output)
        plt.close(output)
        return data
    if isinstance(output, Markdown):
        return output.data
    if isinstance(output, Styler):
        return {"frame": output.data, "html": output.set_uuid("parity").to_html()}
    if isinstance(output, pd.DataFrame):
        return {"frame": output, "html": output.to_html()}
    if isinstance(output, list | tuple):
        return [comparable(item) for item in output]
    return output if output is None or isinstance(output, str) else repr(type(output))


def figure_data(figure: Figure) -> list[dict]:
    """Per axes: its words (titles, labels, ticks, texts, legend) and its drawn data in data coordinates."""
    figure.canvas.draw()
    axes_data = []
    for ax in figure.axes:
        legend = ax.get_legend()
        words = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        words += [label.get_text() for label in ax.get_xticklabels() + ax.get_yticklabels()]
        words += [text.get_text() for text in ax.texts]
        words += [text.get_text() for text in legend.get_texts()] if legend else []
        arrays = [np.asarray(line.get_xydata(), dtype=float) for line in ax.get_lines()]
        arrays += [patch.get_patch_transform().transform(patch.get_path().vertices) for patch in ax.patches]
        for collection in ax.collections:
            arrays.append(np.asarray(collection.get_offsets(), dtype=float))
            arrays += [np.asarray(path.vertices, dtype=float) for path in collection.get_paths()]
            if collection.get_array() is not None:  # colour-mapped values (heatmaps)
                arrays.append(np.ma.filled(np.asarray(collection.get_array(), dtype=float), np.nan))
        arrays += [np.asarray(ax.get_xlim()), np.asarray(ax.get_ylim())]
        axes_data.append({"words": words, "arrays": arrays})
    return axes_data


def assert_same(on_spark, on_duckdb, where: str) -> None:
    """Equal text, and numbers equal within RTOL/ATOL (FITTED_RTOL for fitted outputs), anywhere in nested outputs."""
    assert type(on_spark) is type(on_duckdb), where
    rtol = FITTED_RTOL if any(word in where.split(" / ")[0] for word in FITTED) else RTOL
    if isinstance(on_duckdb, pd.DataFrame):
        pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, rtol=rtol, atol=ATOL, obj=where)
    elif isinstance(on_duckdb, np.ndarray):
        assert on_spark.shape == on_duckdb.shape, where
        np.testing.assert_allclose(on_spark, on_duckdb, rtol=rtol, atol=ATOL, equal_nan=True, err_msg=where)
    elif isinstance(on_duckdb, dict):
        assert on_spark.keys() == on_duckdb.keys(), where
        for key in on_duckdb:
            assert_same(on_spark[key], on_duckdb[key], f"{where} / {key}")
    elif isinstance(on_duckdb, list):
        assert len(on_spark) == len(on_duckdb), where
        for i, (spark_item, duckdb_item) in enumerate(zip(on_spark, on_duckdb, strict=True)):
            assert_same(spark_item, duckdb_item, f"{where} / {i}")
    else:
        assert on_spark == on_duckdb, where


# --- the tests -----------------------------------------------------------------------------------------------------

RUNS = [
    *[("data_overview", market) for market in ("US", "GB", "ALL")],
    *[("customer_journey_funnel", market) for market in ("US", "GB", "ALL")],
    *[("competitive_benchmarking", market) for market in ("US", "GB", "ALL")],
    *[("experiment_readout", market) for market in ("GB", "US")],
    *[("retention_and_value", market) for market in ("US", "GB", "ALL")],
    *[("post_initiative_results", market) for market in ("US", "GB", "ALL")],
]


@pytest.mark.parametrize(("notebook", "market"), RUNS)
def test_when_a_notebook_runs_on_spark_then_it_shows_what_it_shows_on_duckdb(engines, notebook, market):
    parameters, setup, cells = notebook_cells(notebook)
    parameters["market"] = market
    reports = {
        name: shown(setup, cells, run_analysis(notebook, engine, parameters), engine)
        for name, engine in engines.items()
    }
    on_spark, on_duckdb = reports["pyspark"], reports["duckdb"]
    assert [label for label, _ in on_spark] == [label for label, _ in on_duckdb]
    for (label, spark_output), (_, duckdb_output) in zip(on_spark, on_duckdb, strict=True):
        assert_same(spark_output, duckdb_output, f"{notebook} {market}: {label}")
    assert len(on_duckdb) >= len(cells)  # every cell showed something
    assert any(isinstance(output, str) and output for _, output in on_duckdb)  # the findings were compared
