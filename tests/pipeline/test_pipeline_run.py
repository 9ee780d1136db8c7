"""A real run of two tiny notebooks (one raises) for two markets, then a one-report re-run through the CLI:
results, files, manifest, index, HTML."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import socket
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis.cli import main
from analysis.config import PROJECT_ROOT
from analysis.pipeline import NotebookError, load_run_config, run_reports
from analysis.pipeline.provenance import git_version
from analysis.pipeline.run import duration, time_left

CONFIG = """\
data_dir: data
reports_dir: reports
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE, FR]
notebooks:
  - notebook: chart
    parameters: {label: "<b>hello</b>"}
  - notebook: broken
"""
CHART_CELLS = [
    "import matplotlib.pyplot as plt\nDISTINCTIVE_SOURCE_7f3a = 42\n"
    "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 2, 3], [2, 1, 3])\nax.set_title(label)\nplt.show()",
    "print(f'market {market} from {start_date} to {end_date}')",
]
BROKEN_CELLS = ["partial_result = 1", "raise ValueError(f'no orders for {market}')"]


class Links(HTMLParser):
    """Every src/href of a page, and the tags that carry them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.links.append((tag, name, value))


def links_of(page: Path) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        path.relative_to(folder).as_posix(): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A full run, then a second run through the CLI (one failing report) after snapshotting the first."""
    root = tmp_path_factory.mktemp("project")
    config_path = write_project(
        root,
        {"chart": CHART_CELLS, "broken": BROKEN_CELLS},
        CONFIG,
        extra_parameters='label = "chart"  # chart title\n',
    )
    lines: list[str] = []
    # Read just before the run: the checkout may move on (commits, edits) while the tests look at the reports.
    git_at_run = git_version(PROJECT_ROOT)
    first = run_reports(load_run_config(config_path), jobs=2, progress=lines.append)
    before = snapshot(first.run_dir)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        exit_code = main(["run", "--config", str(config_path), "--notebook", "broken", "--market", "FR"])
    second_dir = max(path for path in (root / "reports").iterdir() if path.is_dir())
    return {
        "root": root,
        "first": first,
        "lines": lines,
        "before": before,
        "exit_code": exit_code,
        "stderr": stderr.getvalue(),
        "second_dir": second_dir,
        "git_at_run": git_at_run,
    }


def test_when_one_notebook_raises_then_the_others_finish_ok(runs):
    first = runs["first"]

    assert [(r.notebook, r.market, r.status) for r in first.results] == [
        ("chart", "DE", "ok"),
        ("chart", "FR", "ok"),
        ("broken", "DE", "failed"),
        ("broken", "FR", "failed"),
    ]
    assert [(r.notebook, r.market) for r in first.failed] == [("broken", "DE"), ("broken", "FR")]
    # cells: title, parameters (In [1]), injected parameters (In [2]), partial_result (In [3]), raise (In [4])
    assert first.results[2].error == NotebookError("ValueError", "no orders for DE", 4)
    assert str(first.results[3].error) == "ValueError: no orders for FR (in cell In [4])"
    assert first.results[0].error is None


def test_when_run_finishes_then_progress_has_one_line_per_report(runs):
    lines = runs["lines"]

    assert lines[0].startswith(f"run {runs['first'].run_id}: 4 reports on 2 workers")
    reports = lines[1:-1]
    finished = sorted(re.sub(r"\[\d/4\] ", "", line) for line in reports)
    assert [re.sub(r" \d+\.\ds", " <s>", re.sub(r", (about \dm\d\ds left|done)$", "", line)) for line in finished] == [
        "broken DE failed <s> (ValueError: no orders for DE (in cell In [4]))",
        "broken FR failed <s> (ValueError: no orders for FR (in cell In [4]))",
        "chart DE ok <s>",
        "chart FR ok <s>",
    ]
    assert sorted(line.split("]")[0] for line in reports) == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert [line.endswith("left") for line in reports] == [True, True, True, False]  # the last says "done"


def test_when_run_finishes_then_a_closing_line_counts_and_names_the_failed_reports(runs):
    closing = runs["lines"][-1]

    assert re.fullmatch(
        rf"2 ok, 2 failed in \dm\d\ds -> \S+/{runs['first'].run_id}/index.html; failed: broken \[DE\], broken \[FR\]",
        closing,
    ), closing


def test_when_reports_finish_at_a_steady_pace_then_the_time_left_extrapolates_it():
    assert time_left(elapsed=30.0, done=3, total=9) == "about 1m00s left"
    assert time_left(elapsed=30.0, done=9, total=9) == "done"
    assert duration(372.4) == "6m12s"


def test_when_a_notebook_fails_then_its_executed_notebook_and_error_page_are_kept(runs):
    failed = runs["first"].results[2]

    executed = json.loads(failed.ipynb_path.read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [(o["ename"], o["evalue"]) for o in errors] == [("ValueError", "no orders for DE")]
    page = failed.html_path.read_text()
    assert "This report failed: ValueError: no orders for DE (in cell In [4])" in page
    assert "no orders for DE" in page.split("</header>", 1)[1]  # the traceback output itself is shown


def test_when_run_finishes_then_files_are_laid_out_by_notebook_and_market(runs):
    first = runs["first"]

    assert first.run_dir.parent == runs["root"] / "reports"
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", first.run_id)
    assert sorted(runs["before"]) == [
        "broken/DE.html",
        "broken/DE.ipynb",
        "broken/FR.html",
        "broken/FR.ipynb",
        "chart/DE.html",
        "chart/DE.ipynb",
        "chart/FR.html",
        "chart/FR.ipynb",
        "index.html",
        "run.json",
        "summary.html",
    ]  # no temporary files left behind


def test_when_run_finishes_then_manifest_records_config_results_and_provenance(runs):
    first = runs["first"]
    manifest = json.loads((first.run_dir / "run.json").read_text())

    assert manifest["run_id"] == first.run_id
    assert manifest["status"] == "failed"
    assert manifest["jobs"] == 2
    assert (manifest["pid"], manifest["host"]) == (os.getpid(), socket.gethostname())  # the run ran in this process
    assert manifest["plan"] == {"notebooks": ["chart", "broken"], "markets": ["DE", "FR"], "reports": 4}
    assert manifest["full_plan"] is True
    # folders outside the project are named, never located
    assert {key: manifest["config"][key] for key in ("data_dir", "reports_dir", "notebooks_dir")} == {
        "data_dir": "data",
        "reports_dir": "reports",
        "notebooks_dir": "notebooks",
    }
    assert manifest["config"]["markets"] == ["DE", "FR"]
    assert manifest["config"]["period"] == {"start": "2025-01-01", "end": "2025-06-30"}
    assert manifest["config"]["notebooks"][0] == {
        "notebook": "chart",
        "per_market": True,
        "markets": None,
        "with_all": False,
        "parameters": {"label": "<b>hello</b>"},
    }
    entries = {(e["notebook"], e["market"]): e for e in manifest["results"]}
    assert set(entries) == {("chart", "DE"), ("chart", "FR"), ("broken", "DE"), ("broken", "FR")}
    broken = entries[("broken", "FR")]
    assert {key: broken[key] for key in ("status", "html", "ipynb", "error", "error_name", "error_cell")} == {
        "status": "failed",
        "html": "broken/FR.html",
        "ipynb": "broken/FR.ipynb",
        "error": "ValueError: no orders for FR (in cell In [4])",
        "error_name": "ValueError",
        "error_cell": 4,
    }
    assert entries[("chart", "DE")]["error"] is None
    assert entries[("chart", "DE")]["seconds"] == first.results[0].seconds
    provenance = manifest["provenance"]
    assert provenance["data_fingerprint"] == reference_fingerprint(runs["root"] / "data")
    assert (provenance["git_commit"], provenance["git_dirty"]) == runs["git_at_run"]
    assert provenance["packages"]["pandas"] == metadata.version("pandas")


def reference_fingerprint(folder: Path) -> str:
    """The documented fingerprint recomputed: per file, 8-byte name length, name, 8-byte size, content."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(name).to_bytes(8, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def test_when_run_finishes_then_its_index_links_every_report_and_notebook(runs):
    first = runs["first"]
    index = first.run_dir / "index.html"

    hrefs = [value for tag, name, value in links_of(index) if tag == "a"]
    reports = sorted(h for h in hrefs if h.endswith((".html", ".ipynb")) and "/" in h and not h.startswith(".."))
    assert reports == sorted(
        f"{nb}/{m}.{ext}" for nb in ("chart", "broken") for m in ("DE", "FR") for ext in ("html", "ipynb")
    )
    assert all((index.parent / href).resolve().is_file() for href in hrefs)
    page = index.read_text()
    assert page.count('class="status-failed"') == 2
    assert page.count('class="status-ok"') == 2


def test_when_a_second_run_fails_then_cli_exits_non_zero_naming_the_failure(runs):
    assert runs["exit_code"] == 1
    assert "broken [FR]" in runs["stderr"]  # the CLI's wording is its own; the failure must be named
    assert sorted(p.relative_to(runs["second_dir"]).as_posix() for p in runs["second_dir"].rglob("*.html")) == [
        "broken/FR.html",
        "index.html",
        "summary.html",
    ]


def test_when_a_second_run_is_made_then_the_earlier_run_is_untouched(runs):
    assert snapshot(runs["first"].run_dir) == runs["before"]


def test_when_a_subset_run_follows_a_full_run_then_the_index_still_shows_the_full_run_on_top(runs):
    reports = runs["root"] / "reports"
    first, second = runs["first"].run_id, runs["second_dir"].name
    assert second > first

    top = (reports / "index.html").read_text()
    assert f"<h1>Reports — run {first}</h1>" in top
    hrefs = [value for tag, name, value in links_of(reports / "index.html") if tag == "a"]
    assert f"{first}/broken/FR.html" in hrefs  # the full run's reports are the ones shown
    assert f"{second}/broken/FR.html" not in hrefs
    assert f"{first}/index.html" in hrefs and f"{second}/index.html" in hrefs  # every run is listed
    assert all((reports / href).resolve().is_file() for href in hrefs)
    second_index = [v for t, n, v in links_of(runs["second_dir"] / "index.html") if t == "a"]
    assert f"../{first}/index.html" in second_index
    assert "../index.html" in second_index


def test_when_runs_are_listed_then_each_shows_status_time_and_what_it_covered(runs):
    reports = runs["root"] / "reports"
    rows = RunRows()
    rows.feed((reports / "index.html").read_text())
    second = json.loads((runs["second_dir"] / "run.json").read_text())
    first = json.loads((runs["first"].run_dir / "run.json").read_text())

    assert [row for row in rows.rows if row] == [
        [second["run_id"], "failed", second["provenance"]["started_at"], "broken × FR", "0/1 ok"],
        [first["run_id"], "failed", first["provenance"]["started_at"], "2 notebooks × 2 markets (full plan)", "2/4 ok"],
    ]


class RunRows(HTMLParser):
    """The text of each row of the ``runs`` table, cell by cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = False
        self.cell: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.inside = dict(attrs).get("class") == "runs"
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_when_rendered_then_report_has_no_code_and_embeds_its_chart(runs):
    page = runs["first"].results[0].html_path.read_text()

    assert "DISTINCTIVE_SOURCE_7f3a" not in page
    assert "plt.subplots" not in page
    assert "jp-InputArea-editor" not in page.split("</style>")[-1]  # no code area in the body
    assert "jp-InputPrompt" not in page.split("</style>")[-1]
    assert page.count("Report chart</h1>") == 1  # the title is in the header, not repeated below it
    assert "What this report shows." in page
    assert "market DE from 2025-01-01 to 2025-06-30" in page  # the printed output is there
    images = [value for tag, name, value in links_of(runs["first"].results[0].html_path) if tag == "img"]
    assert len(images) == 1
    assert images[0].startswith("data:image/png;base64,")


def test_when_rendered_then_header_carries_the_provenance(runs):
    first = runs["first"]
    page = first.results[1].html_path.read_text()
    provenance = json.loads((first.run_dir / "run.json").read_text())["provenance"]
    header = page.split('<header class="workbook-header">', 1)[1].split("</header>", 1)[0]

    commit, dirty = runs["git_at_run"]
    assert "<h1>Report chart</h1>" in header
    assert (
        header_fields(header)
        == {
            "Notebook": "chart",
            "Market": "FR",
            "Period": "2025-01-01 to 2025-06-30",
            "Run at (UTC)": provenance["started_at"],
            "Parameters": (
                "market='FR', start_date='2025-01-01', end_date='2025-06-30', "
                "data_dir='data', label='<b>hello</b>'"  # a folder outside the project: named, not located
            ),
            "Code version (git)": f"{commit} (dirty)" if dirty else commit,
            "Data fingerprint (sha256)": reference_fingerprint(runs["root"] / "data")[:12],
            "Packages": ", ".join(f"{k} {v}" for k, v in provenance["packages"].items()),
        }
    )
    assert "&lt;b&gt;hello&lt;/b&gt;" in header  # the parameter value is shown as text, not as markup
    assert f"nbconvert {metadata.version('nbconvert')}" in header
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", provenance["started_at"])


class HeaderFields(HTMLParser):
    """The text of each ``<dd data-field=...>`` of the report header."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.current: str | None = None

    def handle_starttag(self, tag, attrs):
        self.current = dict(attrs).get("data-field") if tag == "dd" else None

    def handle_endtag(self, tag):
        self.current = None

    def handle_data(self, data):
        if self.current:
            self.fields[self.current] = self.fields.get(self.current, "") + data


def header_fields(header: str) -> dict[str, str]:
    parser = HeaderFields()
    parser.feed(header)
    return parser.fields


@pytest.mark.parametrize("report", [0, 2])
def test_when_rendered_then_report_is_small_and_loads_nothing_from_the_network(runs, report):
    page_path = runs["first"].results[report].html_path
    page = page_path.read_text()

    assert page_path.stat().st_size < 2_000_000
    external = [link for link in links_of(page_path) if re.match(r"\s*(https?:)?//", link[2], re.IGNORECASE)]
    assert external == []
    assert "<script src" not in page
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page, re.IGNORECASE)
