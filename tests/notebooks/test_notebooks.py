"""Every notebook keeps the house rules; execution itself is checked by nbval (`pytest --nbval-lax notebooks`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import real_run_config_on_test_data
from papermill.inspection import inspect_notebook

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR
from analysis.pipeline.parameters import notebook_parameters
from analysis.pipeline.plan import load_run_config

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
# every notebook takes these, because the pipeline passes them to every notebook
PIPELINE_PARAMETERS = ("market", "start_date", "end_date", "data_dir")


def cells_of(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def test_when_the_report_run_names_a_notebook_then_it_is_in_the_notebooks_folder(tmp_path):
    # the run configuration is what `make reports` executes: every notebook it names must exist (and so the
    # parametrised checks below cannot pass by finding no notebook at all)
    config = load_run_config(real_run_config_on_test_data(tmp_path))
    named = {NOTEBOOKS_DIR / f"{spec.notebook}.ipynb" for spec in config.notebooks}
    assert named and named <= set(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_when_a_notebook_computes_then_it_makes_one_analysis_call_right_after_the_parameters(path: Path):
    code = ["".join(cell["source"]) for cell in cells_of(path) if cell["cell_type"] == "code"]
    calls = [index for index, source in enumerate(code) if re.search(r"^analysis = analyse_\w+\(", source, re.M)]
    assert calls == [1], f"{path.name}: one `analysis = analyse_<subject>(...)` in the cell after the parameters"
    later = [source for source in code[2:] if "analysis.metrics" in source or "analyse_" in source]
    assert not later, f"{path.name}: cells after the setup only present the analysis"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_when_a_notebook_is_stored_then_it_has_one_parameters_cell_and_no_outputs(path: Path):
    cells = cells_of(path)
    tagged = [cell for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    assert all(
        not cell.get("outputs") and cell.get("execution_count") is None for cell in cells if cell["cell_type"] == "code"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_when_a_notebook_opens_then_a_title_comes_first_and_the_parameters_second(path: Path):
    cells = cells_of(path)
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert "parameters" in cells[1]["metadata"].get("tags", [])
    declared = notebook_parameters(path)
    missing = [name for name in PIPELINE_PARAMETERS if name not in declared]
    assert not missing, f"{path.name}: parameters cell lacks {missing}"
    lines = "".join(cells[1]["source"]).splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Za-z_]\w*(: \w+)? = ", line):  # a parameter: its comment is on its line or just above
            commented = "#" in line or (number > 0 and lines[number - 1].lstrip().startswith("#"))
            assert commented, f"{path.name}: parameter without a comment saying its meaning: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_when_papermill_describes_a_notebook_then_every_parameter_has_a_type(path: Path):
    inferred = {name: facts["inferred_type_name"] for name, facts in inspect_notebook(str(path)).items()}

    assert inferred and "None" not in inferred.values(), f"{path.name}: untyped parameters: {inferred}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_when_a_notebook_is_run_then_it_asks_for_the_workbook_kernel(path: Path):
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == KERNEL_NAME
