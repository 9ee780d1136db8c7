"""No absolute machine path in a deliverable; a failed report shows its cell and error, not a traceback."""

from __future__ import annotations

import html
import json
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill
import pytest
from helpers.pipeline_notebooks import write_project

from analysis.config import PROJECT_ROOT
from analysis.pipeline import load_run_config, run_reports
from analysis.pipeline.execute import kernel_did_not_start, make_report, report_task
from analysis.pipeline.paths import PathScrubber, parameter_path, project_relative, shown_path
from analysis.pipeline.plan import plan_reports
from analysis.pipeline.provenance import collect_provenance

SMALL_DEMO = PROJECT_ROOT / "data" / "test-small"  # inside the project: made by conftest for every test session

CONFIG = f"""\
data_dir: {SMALL_DEMO}
reports_dir: reports
period: {{start: 2025-01-01, end: 2025-06-30}}
markets: [DE]
notebooks:
  - notebook: reads_data
  - notebook: fails_in_the_package
"""
READS_DATA = [
    # a relative data_dir reads from the project root, where kernels run
    "from pathlib import Path\nprint('data_dir is', data_dir)\nprint(Path(data_dir, 'markets.csv').stat().st_size > 0)",
    "import warnings\nwarnings.warn('a library warning names its file')",
]
FAILS_IN_THE_PACKAGE = ["from analysis.contract import normalise_market\nFAILING_LINE_8d1 = normalise_market('D-E')"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths")
    config = write_project(root, {"reads_data": READS_DATA, "fails_in_the_package": FAILS_IN_THE_PACKAGE}, CONFIG)
    return run_reports(load_run_config(config), jobs=2, progress=lambda _: None), root


def deliverables(run_dir: Path) -> dict[str, str]:
    return {path.relative_to(run_dir).as_posix(): path.read_text() for path in run_dir.rglob("*") if path.is_file()}


@pytest.mark.slow
def test_when_the_data_is_inside_the_project_then_notebooks_get_it_relative_and_read_it(run):
    result, _ = run
    reads = result.results[0]

    assert reads.status == "ok"
    executed = json.loads(reads.ipynb_path.read_text())
    outputs = "".join("".join(o.get("text", "")) for cell in executed["cells"] for o in cell.get("outputs", []))
    assert "data_dir is data/test-small\nTrue\n" in outputs


@pytest.mark.slow
def test_when_a_run_is_written_then_no_file_of_it_names_an_absolute_path_or_colour_code(run):
    result, root = run
    files = deliverables(result.run_dir)
    files["../index.html"] = (result.run_dir.parent / "index.html").read_text()

    for name, text in files.items():
        for absolute in (str(PROJECT_ROOT), str(root), sys.prefix, str(Path.home()) + "/", tempfile.gettempdir() + "/"):
            assert absolute not in text, f"{name} names {absolute}"
        assert "\x1b[" not in text and "\\u001b[" not in text, f"{name} carries ANSI colour codes"
    manifest = json.loads(files["run.json"])
    assert manifest["config"]["data_dir"] == "data/test-small"


@pytest.mark.slow
def test_when_a_report_fails_in_the_package_then_it_shows_the_cell_and_the_error_not_the_traceback(run):
    result, _ = run
    failed = result.results[1]
    page = failed.html_path.read_text()

    assert failed.status == "failed" and failed.error.ename == "ParameterError"
    failing_cell = page.split('class="workbook-failing-cell"', 1)[1].split("</details>", 1)[0]
    assert "FAILING_LINE_8d1 = normalise_market('D-E')" in html.unescape(failing_cell)
    assert "ParameterError: market 'D-E' is not an ISO 3166-1 alpha-2 code" in html.unescape(page)
    for frame in ("contract.py", "site-packages", "Traceback", "src/analysis"):
        assert frame not in page, frame
    executed = json.loads(failed.ipynb_path.read_text())
    (error,) = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert error["traceback"] == [f"ParameterError: {error['evalue']}"]


def test_when_a_path_is_inside_the_project_then_it_is_shown_relative_else_by_name(tmp_path):
    assert project_relative(PROJECT_ROOT / "data" / "demo") == "data/demo"
    assert project_relative(tmp_path / "client") is None
    assert shown_path(tmp_path / "client" / "extract") == "extract"
    assert parameter_path(PROJECT_ROOT / "data" / "demo") == "data/demo"
    assert parameter_path(tmp_path / "client") == str(tmp_path / "client")


def test_when_text_names_machine_paths_then_the_scrubber_leaves_what_a_reader_may_see(tmp_path):
    scrub = PathScrubber.for_run(tmp_path / "client-data", PROJECT_ROOT / "reports")
    text = (
        f"\x1b[31mValueError\x1b[0m in {PROJECT_ROOT}/src/analysis/scope.py, reading {tmp_path}/client-data/x.csv "
        f"via {sys.prefix}/lib/python3.11/site-packages/duckdb; folder {tmp_path / 'client-data'}."
    )

    assert scrub(text) == (
        "ValueError in src/analysis/scope.py, reading client-data/x.csv "
        "via <python>/lib/python3.11/site-packages/duckdb; folder client-data."
    )
    assert scrub.scrub_value({"a": [f"{PROJECT_ROOT}/data/demo"], "b": 3}) == {"a": ["data/demo"], "b": 3}


@pytest.mark.parametrize(
    ("failure", "retried"),
    [
        (RuntimeError("Kernel didn't respond in 180 seconds"), True),
        (RuntimeError("Kernel died before replying to kernel_info"), True),
        (type("ZMQError", (Exception,), {})("Address already in use (addr='tcp://127.0.0.1:5555')"), True),
        (TimeoutError("timed out"), True),
        (RuntimeError("Kernel died"), False),  # died while running a cell: a second start would run it again
        (ValueError("no orders"), False),
    ],
)
def test_when_a_failure_is_judged_then_only_a_kernel_that_never_started_is_retried(failure, retried):
    assert kernel_did_not_start(failure) is retried


def fake_papermill(failures: list[BaseException], calls: list[str]):
    """An execute_notebook that raises ``failures`` one per call, then copies the notebook as if executed."""

    def execute_notebook(input_path, output_path, **options):
        calls.append(str(input_path))
        if failures:
            raise failures.pop(0)
        nbformat.write(nbformat.read(input_path, as_version=4), output_path)

    return execute_notebook


def quick_task(tmp_path: Path):
    config = write_project(tmp_path, {"quick": ["print(market)"]}, CONFIG.replace(str(SMALL_DEMO), "data"))
    config.write_text(config.read_text().replace("  - notebook: reads_data\n  - notebook: fails_in_the_package\n", ""))
    config.write_text(config.read_text() + "  - notebook: quick\n")
    run_config = load_run_config(config)
    (report,) = plan_reports(run_config)
    provenance = collect_provenance(run_config.data_dir)
    return report_task(report, tmp_path / "run", "2025-01-01 to 2025-06-30", provenance)


def test_when_a_kernel_fails_to_start_once_then_the_report_is_made_on_the_second_try(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(papermill, "execute_notebook", fake_papermill([RuntimeError("Kernel didn't respond")], calls))

    result = make_report(quick_task(tmp_path))

    assert (result.status, len(calls)) == ("ok", 2)


def test_when_a_kernel_fails_to_start_twice_then_the_report_fails_with_the_reason(tmp_path, monkeypatch):
    calls: list[str] = []
    failures = [RuntimeError("Kernel didn't respond in 180 seconds")] * 3
    monkeypatch.setattr(papermill, "execute_notebook", fake_papermill(list(failures), calls))

    result = make_report(quick_task(tmp_path))

    assert (result.status, len(calls)) == ("failed", 2)
    assert str(result.error) == "RuntimeError: Kernel didn't respond in 180 seconds"
    assert list((tmp_path / "run").rglob("*partial*")) == []


def test_when_a_kernel_dies_in_a_cell_then_the_report_is_not_retried(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(papermill, "execute_notebook", fake_papermill([RuntimeError("Kernel died")], calls))

    result = make_report(quick_task(tmp_path))

    assert (result.status, len(calls)) == ("failed", 1)
