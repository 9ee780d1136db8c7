"""Paths of the workbook, anchored at the project root so nothing depends on the launch directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DATA_DIR = DATA_DIR / "demo"
REFERENCE_DATA_DIR = DATA_DIR / "reference"
REPORTS_DIR = PROJECT_ROOT / "reports"
RUN_CONFIG = PROJECT_ROOT / "workbook.yml"
# What the workbook derives from a data folder and may rebuild at any time (prepared copies, stored validations).
CACHE_DIR = PROJECT_ROOT / ".cache"

# The Jupyter kernel `make setup` registers; notebooks name it in their metadata.
KERNEL_NAME = "ecommerce-workbook"


def resolve_data_dir(data_dir: str | Path = "") -> Path:
    """The data directory a notebook reads: its ``data_dir`` parameter, else $WORKBOOK_DATA_DIR, else the demo data.

    A relative path is relative to the project root (as reports name it), not to where the kernel happens to start:
    JupyterLab starts kernels in ``notebooks/``, the pipeline at the project root.
    """
    chosen = Path(data_dir or os.environ.get("WORKBOOK_DATA_DIR") or DEMO_DATA_DIR)
    return chosen if chosen.is_absolute() else PROJECT_ROOT / chosen


def resolve_cache_dir(cache_dir: str | Path = "") -> Path:
    """The folder of the workbook's derived data: ``cache_dir``, else $WORKBOOK_CACHE_DIR, else ``<project>/.cache``.

    Kept apart from the data, which may be read-only. A relative path is relative to the project root.
    """
    chosen = Path(cache_dir or os.environ.get("WORKBOOK_CACHE_DIR") or CACHE_DIR)
    return chosen if chosen.is_absolute() else PROJECT_ROOT / chosen
