"""The Excel export of a hand-made run, reopened with openpyxl; charts beside reports; the export's bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers.exported_run import DEVICE_TABLE, FINGERPRINT, FORMULA, RUN_ID, write_run
from openpyxl import load_workbook

from analysis.cli import main
from analysis.errors import ParameterError
from analysis.pipeline.charts import chart_files, chart_records, charts_folder
from analysis.pipeline.export import ExportError, export_run, find_run, read_run
from analysis.pipeline.export_xlsx import sheet_name
from analysis.present.capture import CHART_MIME


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def workbook(reports):
    (path,) = export_run(RUN_ID, reports, pptx=False)
    return path, load_workbook(path)


def test_when_a_run_is_exported_then_each_table_has_its_sheet_listed_in_contents(workbook):
    path, book = workbook

    assert path.name == f"{RUN_ID}.xlsx" and path.parent.name == RUN_ID
    assert book.sheetnames == [
        "Contents",
        "customer journey funnel DE 1",
        "post initiative results ALL 1",
        "Provenance",
    ]
    rows = [[cell.value for cell in row] for row in book["Contents"].iter_rows()]
    assert rows == [
        ["sheet", "report", "market", "table", "rows"],
        ["customer journey funnel DE 1", "Customer-journey funnel", "Germany", "Conversion by device", 2],
        ["post initiative results ALL 1", "Post-initiative results", "All markets", "Effects against targets", 2],
    ]
    assert book["Contents"]["A2"].hyperlink.location == "'customer journey funnel DE 1'!A1"


def test_when_a_table_is_exported_then_its_cells_equal_the_reports_values_numbers_as_numbers(workbook):
    _, book = workbook
    sheet = book["customer journey funnel DE 1"]

    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert rows[0][0] == "Conversion by device"
    assert rows[1] == ["Device", *DEVICE_TABLE.columns]
    assert rows[2] == ["Mobile", 1204, "2.1%", 0.75, "yes"]
    assert rows[3] == [FORMULA, 37, "4.0%", None, "no"]  # NaN is an empty cell


def test_when_a_value_starts_with_an_equals_sign_then_it_is_stored_as_text_not_a_formula(workbook):
    path, book = workbook

    cell = book["customer journey funnel DE 1"]["A4"]

    assert (cell.value, cell.data_type) == (FORMULA, "s")
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert not any("<f>" in sheet for sheet in sheets)


def test_when_a_run_is_exported_then_the_provenance_sheet_names_run_data_and_versions(workbook, reports):
    _, book = workbook

    fields = dict(book["Provenance"].iter_rows(min_row=2, values_only=True))

    assert fields["Run"] == RUN_ID and fields["Created (UTC)"] == "2026-01-01T00:00:00Z"
    assert fields["Data folder"] == "client-data"  # by name: never the machine's path
    assert fields["Data fingerprint (sha256)"] == FINGERPRINT
    assert fields["Engine"] == "duckdb" and fields["Period"] == "2025-01-01 to 2026-06-30"
    assert fields["Notebooks"] == "customer_journey_funnel, post_initiative_results"
    assert fields["Markets"] == "DE, FR, ALL" and fields["Workbook version"] == "0.1.0"


def test_when_the_file_is_searched_then_no_absolute_path_appears(workbook, reports):
    path, _ = workbook

    with zipfile.ZipFile(path) as archive:
        text = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())

    assert str(reports.parent) not in text and "/tmp/" not in text


def test_when_names_are_long_or_repeat_then_sheet_names_fit_31_characters_and_stay_unique():
    taken: set[str] = set()

    names = [sheet_name("a_very_long_notebook_name_for_tests", "US", 12, taken) for _ in range(3)]

    assert names[0] == "a very long notebook name US 12"
    assert all(len(name) <= 31 for name in names) and len({name.casefold() for name in names}) == 3
    assert sheet_name("what[is]:this?", "DE", 1, taken) == "what is this DE 1"


def test_when_charts_are_kept_beside_a_report_then_files_are_numbered_and_the_notebook_names_them(reports):
    notebook_path = reports / RUN_ID / "customer_journey_funnel" / "DE.ipynb"
    kept = nbformat.read(notebook_path, as_version=4)
    folder = charts_folder(notebook_path)

    assert folder.name == "DE_charts"
    assert sorted(path.name for path in folder.iterdir()) == ["01.png", "01.svg", "02.png", "02.svg"]
    assert (folder / "01.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart_records(kept) == [] and CHART_MIME not in json.dumps(kept["cells"][2]["outputs"][0]["data"])
    assert chart_files(kept) == [["DE_charts/01.png", "DE_charts/01.svg"], ["DE_charts/02.png", "DE_charts/02.svg"]]
    assert kept.cells[2].outputs[0].data["image/png"]  # the notebook still shows its chart
    assert read_run(reports / RUN_ID).reports[0].charts[1] == (folder / "02.png").read_bytes()


def test_when_the_run_is_unknown_then_a_parameter_error_lists_the_runs(reports):
    with pytest.raises(ParameterError, match="'20990101'.*" + RUN_ID) as raised:
        find_run("20990101", reports)

    assert raised.value.valid == [RUN_ID, "latest"] and raised.value.exit_code == 2
    assert find_run("latest", reports) == find_run(reports / RUN_ID, reports) == reports / RUN_ID


def test_when_no_report_recorded_results_then_the_export_error_says_so(tmp_path):
    run_dir = tmp_path / "reports" / "20260202T000000Z-0000"
    (run_dir / "overview").mkdir(parents=True)
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Overview")]), run_dir / "overview" / "DE.ipynb"
    )
    manifest = {
        "run_id": run_dir.name,
        "results": [{"notebook": "overview", "market": "DE", "ipynb": "overview/DE.ipynb"}],
    }
    (run_dir / "run.json").write_text(json.dumps(manifest))

    with pytest.raises(ExportError, match="none of its 1 report\\(s\\) recorded results"):
        read_run(run_dir)
    (run_dir / "run.json").write_text(json.dumps(manifest | {"results": []}))
    with pytest.raises(ExportError, match="no executed notebook"):
        read_run(run_dir)


def test_when_the_command_names_an_unknown_run_then_it_exits_2_with_one_line(reports, capsys):
    code = main(["export", "nope", "--xlsx", "--reports-dir", str(reports)])

    assert code == 2
    assert capsys.readouterr().err.startswith("workbook: run 'nope': no run of that id")


def test_when_the_command_exports_then_it_writes_both_files_to_the_out_folder(reports, tmp_path, capsys):
    code = main(["export", "latest", "--xlsx", "--pptx", "--reports-dir", str(reports), "--out", str(tmp_path / "x")])

    assert code == 0
    assert sorted(path.name for path in (tmp_path / "x").iterdir()) == [f"{RUN_ID}.pptx", f"{RUN_ID}.xlsx"]
    assert f"{RUN_ID}.xlsx" in capsys.readouterr().out
