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

# The Jupyter kernel `make setup` registers; notebooks name it in their metadata.
KERNEL_NAME = "ecommerce-workbook"


def data_dir_from_env(default: Path = DEMO_DATA_DIR) -> Path:
    """The data directory a notebook reads when its parameter is empty: $WORKBOOK_DATA_DIR or the demo data."""
    return Path(os.environ.get("WORKBOOK_DATA_DIR") or default)
