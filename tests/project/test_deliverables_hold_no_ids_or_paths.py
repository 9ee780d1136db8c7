"""No customer-level identifier and no absolute machine path in any deliverable of a run.

A run of every notebook over the small demo data, and one over a copy whose orders repeat (so validation has
duplicate order ids to report), writes HTML reports, executed notebooks, run.json and indexes; every one of those files
is searched for every user, session, order and seller id of the data, and for the machine's paths.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers.pipeline_notebooks import run_real_notebooks

from analysis.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

ID_COLUMNS = {
    "events": ["user_id", "session_id"],
    "orders": ["order_id", "user_id", "seller_id"],
    "sellers": ["seller_id"],
}
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
NOTEBOOKS = """\
  - notebook: data_overview
  - notebook: customer_journey_funnel
  - notebook: market_entry_scoring
    per_market: false
"""


def identifiers(folder: Path) -> set[str]:
    ids = set()
    for table, columns in ID_COLUMNS.items():
        ids |= set(pd.read_parquet(folder / f"{table}.parquet", columns=columns).stack().astype(str))
    return ids


def with_repeated_orders(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    orders = pd.read_parquet(target / "orders.parquet")
    pd.concat([orders, orders.head(7)]).to_parquet(target / "orders.parquet", index=False)
    return target


@pytest.fixture(scope="module")
def deliverables(tmp_path_factory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("deliverables")
    demo = Path(os.environ["WORKBOOK_DATA_DIR"])
    files = []
    for data in (demo, with_repeated_orders(demo, root / "repeated-orders")):
        project = root / f"project-{data.name}"
        project.mkdir()
        run_real_notebooks(project, data, ["GB", "DE"], NOTEBOOKS)
        files += [p for p in (project / "reports").rglob("*") if p.suffix in (".html", ".ipynb", ".json")]
    return files, root


def test_when_a_run_is_searched_then_no_customer_level_identifier_appears(deliverables):
    files, _ = deliverables
    ids = identifiers(Path(os.environ["WORKBOOK_DATA_DIR"]))
    assert len(files) >= 12 and len(ids) > 10_000
    found = {path.name: sorted(set(TOKEN.findall(path.read_text())) & ids)[:5] for path in files}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_when_a_run_is_searched_then_no_absolute_machine_path_appears(deliverables):
    files, root = deliverables
    machine_paths = [str(PROJECT_ROOT), str(root), str(Path.home()), "/tmp/", "site-packages", ".venv/"]
    leaks = {
        path.name: [p for p in machine_paths if p in path.read_text()]
        for path in files
        if any(p in path.read_text() for p in machine_paths)
    }
    assert leaks == {}
