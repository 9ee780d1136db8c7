"""Small notebooks and run configurations built in code, for the pipeline tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import v4

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR
from analysis.pipeline import load_run_config, run_reports
from analysis.pipeline.run import RunResult

PARAMETERS_CELL = """\
market = "US"  # ISO alpha-2 market code, or "ALL"
start_date = "2025-01-01"  # first day of the period
end_date = "2025-12-31"  # last day of the period
data_dir = ""  # folder of the data files
"""

MARKETS_CSV = """\
market,name,region,currency
DE,Germany,Europe,EUR
FR,France,Europe,EUR
US,United States,Americas,USD
"""


def write_notebook(folder: Path, name: str, code_cells: list[str], *, extra_parameters: str = "") -> Path:
    """``folder/<name>.ipynb``: a title, a parameters cell (the pipeline's four and ``extra_parameters``),
    then ``code_cells``."""
    notebook = v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    parameters = v4.new_code_cell(PARAMETERS_CELL + extra_parameters)
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        v4.new_markdown_cell(f"# Report {name}\n\nWhat this report shows."),
        parameters,
        *(v4.new_code_cell(source) for source in code_cells),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def write_project(root: Path, notebooks: dict[str, list[str]], config: str, *, extra_parameters: str = "") -> Path:
    """``root`` with ``notebooks/``, ``data/markets.csv`` (DE, FR, US) and ``workbook.yml`` (returned)."""
    for name, cells in notebooks.items():
        write_notebook(root / "notebooks", name, cells, extra_parameters=extra_parameters)
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "markets.csv").write_text(MARKETS_CSV)
    path = root / "workbook.yml"
    path.write_text(config)
    return path


def real_run_config_on_test_data(folder: Path) -> Path:
    """The project's own ``workbook.yml`` pointed at the small test data, so it loads on a machine without data/demo.

    Everything else (markets, period, notebooks and their parameters) is the file `make reports` runs.
    """
    import os

    import yaml

    from analysis.config import NOTEBOOKS_DIR, RUN_CONFIG

    raw = yaml.safe_load(RUN_CONFIG.read_text())
    raw |= {"data_dir": os.environ["WORKBOOK_DATA_DIR"], "notebooks_dir": str(NOTEBOOKS_DIR)}
    path = folder / "workbook.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


REAL_RUN_CONFIG = """\
data_dir: {data}
reports_dir: reports
notebooks_dir: {notebooks_dir}
period: {{start: 2025-01-01, end: 2026-06-30}}
markets: [{markets}]
notebooks:
"""


def run_real_notebooks(
    project: Path, data: Path, markets: Sequence[str], notebooks: str, *, jobs: int = 2
) -> RunResult:
    """Run the project's own notebooks over ``data`` for ``markets`` (2025-01-01 to 2026-06-30), reports in
    ``project/reports``; ``notebooks`` is the YAML list under ``notebooks:`` in ``workbook.yml``."""
    config = REAL_RUN_CONFIG.format(data=data, notebooks_dir=NOTEBOOKS_DIR, markets=", ".join(markets)) + notebooks
    (project / "workbook.yml").write_text(config)
    return run_reports(load_run_config(project / "workbook.yml"), jobs=jobs, progress=lambda line: None)
