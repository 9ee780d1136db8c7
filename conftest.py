"""Test-session set-up shared by the unit tests and the notebook runs (nbval).

Generates a small demo data set once per session and points every notebook kernel at it through
$WORKBOOK_DATA_DIR, so notebooks run with their default parameters on data of a known, quick size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

SMALL_DEMO_USERS = 3_000
SMALL_DEMO_DIR = Path(__file__).resolve().parent / "data" / "test-small"


def pytest_configure(config) -> None:
    """Write the small demo data set (unless it is current) and point $WORKBOOK_DATA_DIR at it."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has prepared the data already
        return
    from analysis.sources import demo

    # regenerate whenever the generator's code changes, so tests never read stale demo data
    code = b"".join(path.read_bytes() for path in sorted(Path(demo.__file__).parent.glob("*.py")))
    marker = SMALL_DEMO_DIR / f".users-{SMALL_DEMO_USERS}-{hashlib.sha256(code).hexdigest()[:12]}"
    if not marker.exists():
        shutil.rmtree(SMALL_DEMO_DIR, ignore_errors=True)
        demo.write_demo_data(SMALL_DEMO_DIR, users=SMALL_DEMO_USERS)
        marker.touch()
    os.environ["WORKBOOK_DATA_DIR"] = str(SMALL_DEMO_DIR)
