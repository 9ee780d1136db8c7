"""Markup hidden in the data never runs when a reviewer opens a report, and shows as the literal text it is.

Script and image-handler payloads are written into every text column of every table of the small demo data: once
only where the contract allows free text (so the reports succeed and quote segments, initiative names, market names
and benchmark companies), once in every text column (so validation quotes them as bad values). The real notebooks
render both through the pipeline, and headless Chromium opens every report and the index.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers.pipeline_notebooks import run_real_notebooks
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SCRIPT = "<script>window.__pwned = 'script'</script>"
IMAGE = "<img src=x onerror=\"window.__pwned = 'img'\">"
FREE_TEXT = {  # columns the contract leaves free: a payload there is valid data
    "events": ["segment"],
    "markets": ["name", "region"],
    "benchmarks": ["company", "kpi"],
    "initiatives": ["name"],
}
NOTEBOOKS = """\
  - notebook: data_overview
  - notebook: customer_journey_funnel
    parameters: {min_group_size: 1}
"""


def read(folder: Path, table: str) -> pd.DataFrame:
    path = folder / f"{table}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.read_csv(folder / f"{table}.csv", keep_default_na=False)


def write(folder: Path, table: str, frame: pd.DataFrame) -> None:
    path = folder / f"{table}.parquet"
    if path.exists():
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(folder / f"{table}.csv", index=False)


def poison(frame: pd.DataFrame, column: str, payload: str) -> pd.DataFrame:
    """Replace the first value of ``column`` everywhere it occurs, so a whole group carries the payload."""
    values = frame[column].astype("str")
    first = values.dropna().iloc[0]
    return frame.assign(**{column: values.where(values != first, f"{first} {payload}")})


def payload_data(root: Path, everywhere: bool) -> Path:
    folder = root / ("invalid" if everywhere else "valid")
    shutil.copytree(Path(os.environ["WORKBOOK_DATA_DIR"]), folder)
    for table in ("events", "orders", "sellers", "surveys", "markets", "benchmarks", "initiatives"):
        frame = read(folder, table)
        text = [c for c in frame.columns if frame[c].dtype == object or str(frame[c].dtype) in ("str", "string")]
        columns = [c for c in text if c != "market"] if everywhere else FREE_TEXT.get(table, [])
        for index, column in enumerate(columns):
            frame = poison(frame, column, SCRIPT if index % 2 == 0 else IMAGE)
        write(folder, table, frame)
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("payloads")
    pages = []
    for everywhere in (False, True):
        data = payload_data(root, everywhere)
        project = root / f"project-{data.name}"
        project.mkdir()
        result = run_real_notebooks(project, data, ["GB"], NOTEBOOKS)
        if not everywhere:
            assert [r.status for r in result.results] == ["ok", "ok"], [str(r.error) for r in result.results]
        pages += [r.html_path for r in result.results if r.html_path] + sorted(project.glob("reports/**/index.html"))
        pages += sorted(project.glob("reports/**/summary.html"))
    return pages


def test_when_data_carry_script_and_image_payloads_then_no_report_runs_them_and_they_show_literally(reports):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package chromium (apt-get install -y chromium)")
    shown_literally = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for page_path in reports:
                page = browser.new_page()
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                assert page.evaluate("window.__pwned") is None, page_path
                assert page.locator("script:has-text('__pwned')").count() == 0, page_path
                assert page.locator("img[onerror]").count() == 0, page_path
                text = page.inner_text("body")
                shown_literally += SCRIPT in text or IMAGE in text
                page.close()
        finally:
            browser.close()
    assert len(reports) >= 5  # four reports and at least one index
    assert shown_literally >= 3  # the payloads are shown as text, not dropped
