"""scripts/compare_runs.py: two runs' executed notebooks agree output by output, whatever changes between runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from analysis.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "compare_runs.py"
_spec = importlib.util.spec_from_file_location("compare_runs", SCRIPT)
compare_runs = sys.modules["compare_runs"] = importlib.util.module_from_spec(_spec)  # dataclasses look it up
_spec.loader.exec_module(compare_runs)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
TABLE_HTML = "<table><tr><th>market</th><th>conversion</th></tr><tr><td>DE</td><td>12.96%</td></tr></table>"


def summary_cell(conversion: str = "12.96%", run_at: str = "2026-01-02T03:04:05Z") -> nbformat.NotebookNode:
    """A cell printing a provenance line, then a findings sentence and a table, as the workbook's notebooks do."""
    return v4.new_code_cell(
        "show()",
        execution_count=3,
        outputs=[
            v4.new_output("stream", name="stdout", text=f"Run at {run_at}, data in /home/ana/data, pandas 3.1.0\n"),
            v4.new_output(
                "execute_result",
                data={"text/markdown": f"- Overall {conversion} of sessions ended in a purchase.", "text/plain": "md"},
                execution_count=3,
            ),
            v4.new_output("display_data", data={"text/html": TABLE_HTML, "text/plain": "DE 12.96%"}),
        ],
    )


def chart_cell(images: int = 1, png: str = PNG) -> nbformat.NotebookNode:
    chart = {"image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>"}
    return v4.new_code_cell("plot()", outputs=[v4.new_output("display_data", data=chart) for _ in range(images)])


def notebook(*cells: nbformat.NotebookNode, started: str = "2026-01-02T03:04:05") -> nbformat.NotebookNode:
    book = v4.new_notebook(cells=[v4.new_markdown_cell("# Overview"), *cells])
    book.metadata["papermill"] = {"start_time": started, "duration": 4.2, "input_path": "/home/ana/overview.ipynb"}
    return book


def write_run(folder: Path, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    for name, book in notebooks.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(book, folder / name)
    return folder


def standard_run(folder: Path, **changes) -> Path:
    return write_run(
        folder,
        {
            "data_overview/DE.ipynb": notebook(summary_cell(**changes), chart_cell()),
            "data_overview/FR.ipynb": notebook(summary_cell(), chart_cell()),
        },
    )


def compare(capsys, old: Path, new: Path) -> tuple[int, str]:
    exit_code = compare_runs.main([str(old), str(new)])
    return exit_code, capsys.readouterr().out


def test_when_two_runs_are_identical_then_nothing_differs_and_exit_is_0(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    new = standard_run(tmp_path / "new")

    exit_code, out = compare(capsys, old, new)

    assert exit_code == 0
    assert out == "2 notebooks, 8 outputs compared, 0 differ\n"  # per notebook: stream, markdown, table, chart


def test_when_a_number_changes_then_exit_is_1_and_the_diff_names_the_notebook_and_both_values(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    new = standard_run(tmp_path / "new", conversion="12.97%")

    exit_code, out = compare(capsys, old, new)

    assert exit_code == 1
    assert "--- OLD/data_overview/DE.ipynb cell 1 output 1" in out
    assert "+++ NEW/data_overview/DE.ipynb cell 1 output 1" in out
    assert "-- Overall 12.96% of sessions ended in a purchase." in out
    assert "+- Overall 12.97% of sessions ended in a purchase." in out
    assert out.endswith("2 notebooks, 8 outputs compared, 1 differ\n")


def test_when_only_times_paths_versions_and_metadata_change_then_nothing_differs(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    later = summary_cell(run_at="2027-12-31T23:59:59Z")
    later.outputs[0].text = later.outputs[0].text.replace("/home/ana/data", "/srv/ci/data").replace("3.1.0", "3.2.1")
    later.outputs[1].execution_count = 17
    book = notebook(later, chart_cell(png=PNG[::-1]), started="2027-12-31T23:50:00")
    new = write_run(tmp_path / "new", {"data_overview/DE.ipynb": book, "data_overview/FR.ipynb": book})
    (new / "data_overview" / ".FR.1x2y.partial.ipynb").write_text("{}")  # a temporary file of a run is no report

    exit_code, out = compare(capsys, old, new)

    assert (exit_code, out) == (0, "2 notebooks, 8 outputs compared, 0 differ\n")


def test_when_a_chart_is_missing_then_the_image_count_differs(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    new = write_run(
        tmp_path / "new",
        {
            "data_overview/DE.ipynb": notebook(summary_cell(), chart_cell(images=2)),
            "data_overview/FR.ipynb": notebook(summary_cell(), chart_cell()),
        },
    )

    exit_code, out = compare(capsys, old, new)

    assert exit_code == 1
    assert "+++ NEW/data_overview/DE.ipynb cell 2 output 1" in out
    assert out.endswith("2 notebooks, 9 outputs compared, 1 differ\n")


def test_when_a_cell_is_split_in_two_then_the_same_outputs_in_the_same_order_agree(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    whole = summary_cell()
    first = v4.new_code_cell("a()", outputs=whole.outputs[:2])
    second = v4.new_code_cell("b()", outputs=whole.outputs[2:])
    new = write_run(
        tmp_path / "new",
        {
            "data_overview/DE.ipynb": notebook(first, second, chart_cell()),
            "data_overview/FR.ipynb": notebook(summary_cell(), chart_cell()),
        },
    )

    assert compare(capsys, old, new) == (0, "2 notebooks, 8 outputs compared, 0 differ\n")


def test_when_a_notebook_is_in_one_run_only_then_it_is_named_and_counted(tmp_path, capsys):
    old = standard_run(tmp_path / "old")
    new = standard_run(tmp_path / "new")
    write_run(new, {"market_entry_scoring/ALL.ipynb": notebook(summary_cell())})

    exit_code, out = compare(capsys, old, new)

    assert exit_code == 1
    assert "only in NEW: market_entry_scoring/ALL.ipynb" in out
    assert out.endswith("3 notebooks, 8 outputs compared, 1 differ\n")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("run 20261130T145137Z-0dad at 2026-11-30 14:51:37", "run <run-id> at <time>"),
        ("took 4.2 s; git 9d623ce (dirty)", "took <duration>; git <commit> (dirty)"),
        ("<pandas.io.formats.style.Styler at 0x7f4c551c0e50>", "<pandas.io.formats.style.Styler at 0x<address>>"),
        ('<table id="T_18327"><td id="T_18327_row0_col0">', '<table id="T_<id>"><td id="T_<id>_row0_col0">'),
        ("File /work/main/src/analysis/x.py:12: bad", "File <path>: bad"),
        ("pandas==3.1.0, duckdb 1.4.2", "pandas==<version>, duckdb <version>"),
    ],
)
def test_when_text_holds_run_specific_values_then_they_are_masked(text, masked):
    assert compare_runs.mask_volatile(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Overall 12.96% of sessions (1,889/14,575) from 2025-01-01 to 2026-06-30.",
        "+2.70 pts, 95% CI +0.79 to +4.62 pts; EUR 73,606 from 3 sellers in 12 markets, 3 s apart",
        "</td></tr> see https://example.org/a/b and 4.3 of 5.0; Python 3.11",
        "order 1234567 for seller abcdef",
    ],
)
def test_when_text_holds_only_data_then_nothing_is_masked(text):
    assert compare_runs.mask_volatile(text) == text


def test_when_a_run_folder_is_missing_then_exit_is_2(tmp_path, capsys):
    assert compare_runs.main([str(tmp_path / "nowhere"), str(tmp_path)]) == 2
    assert "no such run folder" in capsys.readouterr().err
