"""A tiny run opened in headless Chromium: no console errors, no network requests, every image loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project
from playwright.sync_api import sync_playwright

from analysis.pipeline import load_run_config, run_reports

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONFIG = """\
data_dir: data
reports_dir: reports
period: {start: 2025-01-01, end: 2025-03-31}
markets: [DE]
notebooks:
  - notebook: chart
"""
CHART = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(4, 3))\n"
    "ax.bar(['Jan', 'Feb', 'Mar'], [3, 5, 4])\n"
    "ax.set_title(f'Orders in {market}')\n"
    "plt.show()"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    config = load_run_config(write_project(root, {"chart": [CHART, "print('done')"]}, CONFIG))
    result = run_reports(config, jobs=1, progress=lambda line: None)
    assert [r.status for r in result.results] == ["ok"]
    return result


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield context
        context.close()


def open_page(context, path: Path) -> dict:
    """Load ``path`` and return its console errors, page errors, non-local requests and image states."""
    page = context.new_page()
    problems: dict = {"console": [], "page_errors": [], "requests": [], "failed": []}
    page.on("console", lambda message: message.type == "error" and problems["console"].append(message.text))
    page.on("pageerror", lambda error: problems["page_errors"].append(str(error)))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(("file:", "data:")) else problems["requests"].append(request.url)
        ),
    )
    page.on("requestfailed", lambda request: problems["failed"].append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    problems["images"] = page.evaluate(
        "Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth}))"
    )
    problems["title"] = page.title()
    page.close()
    return problems


def test_when_the_index_is_opened_then_there_are_no_errors_and_no_network_requests(run, browser_context):
    seen = open_page(browser_context, run.run_dir.parent / "index.html")

    assert (seen["console"], seen["page_errors"], seen["requests"], seen["failed"]) == ([], [], [], [])
    assert seen["title"] == f"Reports — run {run.run_id}"


def test_when_a_report_is_opened_then_its_chart_loads_and_nothing_is_fetched(run, browser_context):
    seen = open_page(browser_context, run.results[0].html_path)

    assert (seen["console"], seen["page_errors"], seen["requests"], seen["failed"]) == ([], [], [], [])
    assert len(seen["images"]) == 1
    assert all(image["complete"] and image["width"] > 0 for image in seen["images"])
    assert seen["title"] == "Report chart — DE"
