"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """The hand-built data set of tiny_data.py, written as files (markets as CSV, the rest as parquet)."""
    return write_tables(tmp_path / "data", tiny_tables())
