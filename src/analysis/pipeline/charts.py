"""Charts as files beside each report: ``<notebook>/<MARKET>_charts/<nn>.png`` (300 dpi) and ``<nn>.svg``.

A notebook's charts carry their print-quality copies as outputs of type
:data:`~analysis.present.capture.CHART_MIME` (:mod:`analysis.present.capture`). When a report is written, each copy
becomes two files numbered in the report's order (``01.png``, ``01.svg``, ``02.png``...), and the kept ``.ipynb``
holds, instead of the copy (hundreds of KB per chart), the names of its files in the output's metadata: the
notebook still shows its screen-resolution PNG, and the exports find each chart's files from it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat

from analysis.pipeline.files import write_atomically
from analysis.present.capture import CHART_MIME

CHARTS_SUFFIX = "_charts"


def charts_folder(ipynb_path: Path) -> Path:
    """Where the charts of the report ``<notebook>/<MARKET>.ipynb`` go: ``<notebook>/<MARKET>_charts/``."""
    ipynb_path = Path(ipynb_path)
    return ipynb_path.with_name(f"{ipynb_path.stem}{CHARTS_SUFFIX}")


def chart_records(notebook: nbformat.NotebookNode) -> list[dict]:
    """The chart records among ``notebook``'s outputs, in the order the report shows them."""
    return [
        output["data"][CHART_MIME]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if isinstance(output.get("data", {}).get(CHART_MIME), dict)
    ]


def keep_charts_beside(notebook: nbformat.NotebookNode, ipynb_path: Path) -> nbformat.NotebookNode:
    """Write each chart of ``notebook`` beside ``ipynb_path``; return the notebook to keep (a copy, without them).

    Chart ``n`` (from 1, in report order) becomes ``<MARKET>_charts/<nn>.png`` and ``<nn>.svg``; its output in the
    returned notebook keeps every other representation and names the files, relative to the notebook's folder, as
    ``metadata[CHART_MIME]["files"]``. A notebook without charts writes nothing and is returned as it is.
    """
    if not chart_records(notebook):
        return notebook
    kept = nbformat.from_dict(notebook)
    folder = charts_folder(ipynb_path)
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    for cell in kept.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).pop(CHART_MIME, None)
            if not isinstance(record, dict):
                continue
            number += 1
            files = []
            if record.get("png"):
                files.append(write_atomically(folder / f"{number:02d}.png", base64.b64decode(record["png"])))
            if record.get("svg"):
                files.append(write_atomically(folder / f"{number:02d}.svg", str(record["svg"])))
            output.setdefault("metadata", {})[CHART_MIME] = {
                "files": [path.relative_to(folder.parent).as_posix() for path in files]
            }
    return kept


def chart_files(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """The files of each chart a kept notebook names (see :func:`keep_charts_beside`), in report order."""
    return [
        list(output["metadata"][CHART_MIME].get("files", []))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if isinstance(output.get("metadata", {}).get(CHART_MIME), dict)
    ]
