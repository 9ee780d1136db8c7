"""Executing the project's real notebooks on the small test data, and reading what they show."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR


def execute(name: str, output: Path, **parameters) -> nbformat.NotebookNode:
    """Run ``notebooks/<name>.ipynb`` with papermill on $WORKBOOK_DATA_DIR (plus ``parameters``) and read it back."""
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / f"{name}.ipynb"),
        str(output),
        parameters={"data_dir": os.environ["WORKBOOK_DATA_DIR"], **parameters},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    return nbformat.read(output, as_version=4)


def shown(notebook: nbformat.NotebookNode) -> str:
    """Every text, plain-text, Markdown and HTML output of an executed notebook, one after another."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            shown = [data.get(mime, "") for mime in ("text/markdown", "text/plain", "text/html")]
            texts.append("".join(shown) + output.get("text", ""))
    return "\n".join(texts)
