"""Tables and charts as data in the executed notebook, beside what a reader sees.

Inside IPython, :func:`capture_tables_and_charts` adds two display formatters, so every displayed table and chart
carries a machine-readable copy in its output:

- :data:`TABLE_MIME` for pandas DataFrames and Stylers: the frame as displayed (see :func:`table_record`);
- :data:`CHART_MIME` for matplotlib Figures: the chart as SVG text and as a 300-dpi PNG (see :func:`chart_record`).

Charts are captured only where their files are wanted: in a report the pipeline runs (it sets
:data:`CHART_FILES_ENVIRONMENT` to ``1`` for its kernels). Drawing a chart again as SVG and at 300 dpi costs about a
second per chart, which a consultant exploring in JupyterLab should not pay for each figure; tables cost next to
nothing and are captured everywhere.

Notebook front ends and the pipeline's HTML export know neither type and show the ``text/html`` or ``image/png``
beside it, as before. The pipeline writes the charts as files beside each report and drops their (large) copies
from the kept notebook (:mod:`analysis.pipeline.charts`); the exports read the tables
(:mod:`analysis.pipeline.export`). Outside IPython nothing is registered.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
import os
from typing import Any

TABLE_MIME = "application/vnd.workbook.table+json"
CHART_MIME = "application/vnd.workbook.chart+json"
CAPTURE_VERSION = 1
CHART_DPI = 300  # print quality: a 9 x 4 inch chart is 2700 x 1200 pixels
CHART_FILES_ENVIRONMENT = "WORKBOOK_CHART_FILES"  # "1": capture charts too (the pipeline sets it for its kernels)


def table_record(table: Any) -> dict[str, Any]:
    """A DataFrame (or a Styler's underlying ``.data``) as plain JSON values, the way it is displayed.

    Returns
    -------
    dict
        ``version``; ``columns``: the column labels as strings (the index's names first, then the columns; levels
        of a MultiIndex joined with ``" / "``; an unnamed index level is ``""``); ``index_columns``: how many of the
        leading columns are the index (0 when the index is pandas' default 0, 1, 2...: it carries nothing);
        ``rows``: one list per row, numbers as numbers, booleans as booleans, missing values (NaN, None, NaT) as
        ``null``, anything else (text, dates) as its string.
    """
    frame = getattr(table, "data", table)  # a Styler displays its .data, less the columns it hides
    hidden = set(getattr(table, "hidden_columns", None) or ())
    if hidden:
        frame = frame.iloc[:, [i for i in range(frame.shape[1]) if i not in hidden]]
    index_hidden = all(getattr(table, "hide_index_", None) or [False])  # Styler.hide(axis="index")
    default_index = index_hidden or (
        frame.index.nlevels == 1 and frame.index.name is None and _is_default_range(frame.index)
    )
    shown = frame if default_index else frame.reset_index(names=_index_names(frame))
    index_columns = 0 if default_index else frame.index.nlevels
    return {
        "version": CAPTURE_VERSION,
        "columns": [_label(column) for column in shown.columns],
        "index_columns": index_columns,
        "rows": [[_json_value(value) for value in row] for row in shown.itertuples(index=False, name=None)],
    }


def chart_record(figure: Any) -> dict[str, Any]:
    """A matplotlib Figure as ``{"version", "svg": <SVG text>, "png": <base64 PNG at CHART_DPI>, "dpi"}``.

    Both are cut to the drawn area with matplotlib's padding, as the report's inline image is.
    """
    import matplotlib

    # the drawn area measured once for both files (bbox_inches="tight" would draw each twice): a third faster
    drawn = figure.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
    svg, png = io.StringIO(), io.BytesIO()
    figure.savefig(svg, format="svg", bbox_inches=drawn, metadata={"Date": None})  # the same chart, the same file
    figure.savefig(png, format="png", dpi=CHART_DPI, bbox_inches=drawn)
    return {
        "version": CAPTURE_VERSION,
        "svg": svg.getvalue(),
        "png": base64.b64encode(png.getvalue()).decode("ascii"),
        "dpi": CHART_DPI,
    }


def capture_tables_and_charts(shell: Any = None) -> bool:
    """Register the table and chart formatters with IPython's display (``shell``: the running one when None).

    Idempotent; returns False (and does nothing) outside IPython. Charts are captured only when
    $WORKBOOK_CHART_FILES is ``1`` (see the module docstring). Call after choosing the inline figure formats:
    IPython's ``set_matplotlib_formats`` forgets every formatter's Figure printer.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    from IPython.core.formatters import JSONFormatter
    from traitlets import Unicode

    formatters = shell.display_formatter.formatters
    charts = [("matplotlib.figure", "Figure", chart_record)] if os.environ.get(CHART_FILES_ENVIRONMENT) == "1" else []
    for mime, printers in (
        (
            TABLE_MIME,
            [
                # pandas 3 names DataFrame's module "pandas"; earlier versions "pandas.core.frame"
                ("pandas", "DataFrame", table_record),
                ("pandas.core.frame", "DataFrame", table_record),
                ("pandas.io.formats.style", "Styler", table_record),
            ],
        ),
        (CHART_MIME, charts),
    ):
        if mime not in formatters:
            formatter_class = type("WorkbookFormatter", (JSONFormatter,), {"format_type": Unicode(mime)})
            formatters[mime] = formatter_class(parent=shell.display_formatter)
        for module, name, printer in printers:
            formatters[mime].for_type_by_name(module, name, printer)
    return True


def _is_default_range(index: Any) -> bool:
    import pandas as pd

    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _index_names(frame: Any) -> list[str]:
    names = [_label(name) if name is not None else "" for name in frame.index.names]
    taken = {_label(column) for column in frame.columns}
    # an index level named like a column (or unnamed twice) still needs its own column to be reset into
    return [
        name if name not in taken and names.count(name) == 1 else f"{name} (index {i})" for i, name in enumerate(names)
    ]


def _label(label: Any) -> str:
    if isinstance(label, tuple):
        return " / ".join(str(part) for part in label if str(part) != "")
    return str(label)


def _json_value(value: Any) -> Any:
    import pandas as pd

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return None if pd.isna(value) else str(value.isoformat())
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # a NumPy scalar
        value = value.item()
        if isinstance(value, bool):
            return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # a list or array in a cell: shown as its text
        pass
    if hasattr(value, "isoformat"):  # a date or time
        return value.isoformat()
    return str(value)
