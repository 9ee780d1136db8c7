"""The report pipeline: run the workbook's notebooks per market with Papermill and publish HTML reports.

``load_run_config`` reads and validates ``workbook.yml``; ``run_reports`` executes the plan in parallel and
writes ``reports/<run-id>/`` (executed notebooks, HTML reports, ``run.json``, ``index.html``) and
``reports/index.html``. The pipeline knows notebooks only as files and parameters.
"""

from analysis.pipeline.execute import NotebookError, NotebookResult
from analysis.pipeline.files import UnsafePathError
from analysis.pipeline.plan import ConfigError, RunConfig, load_run_config
from analysis.pipeline.provenance import Provenance
from analysis.pipeline.run import RunResult, run_reports

__all__ = [
    "ConfigError",
    "NotebookError",
    "NotebookResult",
    "Provenance",
    "RunConfig",
    "RunResult",
    "UnsafePathError",
    "load_run_config",
    "run_reports",
]
