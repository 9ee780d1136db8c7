"""Atomic writes, path safety, provenance and the report header, without running a kernel."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, date, datetime

import pytest
from nbformat import v4

from analysis import errors
from analysis.pipeline import run_reports
from analysis.pipeline.files import (
    UnsafePathError,
    path_inside,
    safe_name,
    temporary_sibling,
    write_atomically,
)
from analysis.pipeline.plan import NotebookSpec, Period, RunConfig
from analysis.pipeline.provenance import Provenance, collect_provenance, data_fingerprint, git_version
from analysis.pipeline.render import ReportHeader, header_html, notebook_title, render_report

PROVENANCE = Provenance("2026-01-02T03:04:05Z", "abc1234", True, "f" * 64, {"python": "3.11.7"})


def test_when_writing_succeeds_then_file_has_new_content_and_no_temporary_is_left(tmp_path):
    target = tmp_path / "index.html"
    target.write_text("old")

    write_atomically(target, "new")

    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_when_the_writer_raises_then_the_old_file_is_left_as_it_was(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("good report")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, "half a rep")

    assert target.read_text() == "good report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_when_a_temporary_sibling_is_made_then_it_is_hidden_next_to_the_target_with_its_suffix(tmp_path):
    partial = temporary_sibling(tmp_path / "DE.ipynb")

    assert partial.parent == tmp_path
    assert partial.name.startswith(".DE.")
    assert partial.name.endswith(".partial.ipynb")


@pytest.mark.parametrize("name", ["../../x", "..", ".hidden", "a/b", "", "-rf", "DE ", "é"])
def test_when_a_name_could_leave_its_folder_then_it_is_rejected(name):
    with pytest.raises(UnsafePathError, match="cannot be used in a file name"):
        safe_name(name, what="market")


@pytest.mark.parametrize("parts", [("..", "x.html"), ("/etc", "passwd"), ("a", "..", "..", "x")])
def test_when_a_path_resolves_outside_the_root_then_it_is_rejected(tmp_path, parts):
    with pytest.raises(UnsafePathError, match="would be written outside"):
        path_inside(tmp_path / "reports", *parts)


def test_when_a_name_is_rejected_then_the_error_is_a_parameter_error_carrying_name_and_rule():
    with pytest.raises(errors.ParameterError) as caught:
        safe_name("../../x", what="market")

    error = caught.value
    assert isinstance(error, UnsafePathError)
    assert error.exit_code == 2  # a usage problem: the name came from the configuration or the caller
    assert (error.parameter, error.value) == ("market", "../../x")
    assert error.valid == "letters, digits, '_' and '-', starting with a letter or digit"


def test_when_a_path_is_rejected_then_the_error_carries_the_path_and_the_root(tmp_path):
    with pytest.raises(UnsafePathError) as caught:
        path_inside(tmp_path, "..", "x.html")

    assert (caught.value.parameter, caught.value.value) == ("path", "../x.html")
    assert caught.value.valid == f"a path inside {tmp_path.resolve()}"


def test_when_a_symlink_points_outside_then_the_path_is_rejected(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "escape").symlink_to(tmp_path)

    with pytest.raises(UnsafePathError):
        path_inside(tmp_path / "reports", "escape", "x.html")


def test_when_a_config_bypassing_validation_has_a_bad_market_then_nothing_is_written(tmp_path):
    (tmp_path / "notebooks").mkdir()
    config = RunConfig.model_construct(
        data_dir=tmp_path,
        reports_dir=tmp_path / "reports",
        notebooks_dir=tmp_path / "notebooks",
        period=Period(start=date(2025, 1, 1), end=date(2025, 1, 31)),
        markets=["../../x"],
        notebooks=[NotebookSpec(notebook="overview")],
    )

    with pytest.raises(UnsafePathError, match="market '../../x' cannot be used in a file name"):
        run_reports(config, progress=lambda line: None)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebooks"]


def test_when_data_files_change_then_the_fingerprint_changes_and_matches_a_reference(tmp_path):
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    (data / "markets.csv").write_text("market\nDE\n")
    (data / "events" / "part-0.parquet").write_bytes(b"\x00\x01")
    (data / ".DS_Store").write_bytes(b"finder noise")
    # by hand: files in name order, each as 8-byte name length, name, 8-byte size, content
    expected = hashlib.sha256(
        (21).to_bytes(8, "big")
        + b"events/part-0.parquet"
        + (2).to_bytes(8, "big")
        + b"\x00\x01"
        + (11).to_bytes(8, "big")
        + b"markets.csv"
        + (10).to_bytes(8, "big")
        + b"market\nDE\n"
    ).hexdigest()

    assert data_fingerprint(data) == expected
    (data / "markets.csv").write_text("market\nFR\n")
    assert data_fingerprint(data) != expected
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "markets.csv").write_text("market\nFR\n")
    (copy / "events").mkdir()
    (copy / "events" / "part-0.parquet").write_bytes(b"\x00\x01")
    assert data_fingerprint(copy) == data_fingerprint(data)  # the folder's location does not count
    (copy / "events" / "part-0.parquet").rename(copy / "events" / "part-1.parquet")
    assert data_fingerprint(copy) != data_fingerprint(data)


def test_when_outside_a_git_checkout_then_the_code_version_is_unknown(tmp_path):
    assert git_version(tmp_path) == ("unknown", None)


def test_when_inside_a_git_checkout_then_commit_and_dirty_flag_match_git(tmp_path):
    def git(*arguments):
        return subprocess.run(["git", "-C", str(tmp_path), *arguments], check=True, capture_output=True, text=True)

    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "one")
    commit = git("rev-parse", "--short", "HEAD").stdout.strip()

    assert git_version(tmp_path) == (commit, False)
    (tmp_path / "notes.txt").write_text("untracked files do not make the code dirty")
    assert git_version(tmp_path) == (commit, False)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_version(tmp_path) == (commit, True)


def test_when_provenance_is_collected_then_it_carries_time_and_package_versions(tmp_path):
    provenance = collect_provenance(tmp_path, repository=tmp_path, now=datetime(2026, 11, 22, 11, 4, 5, tzinfo=UTC))

    assert provenance.started_at == "2026-11-22T11:04:05Z"
    assert provenance.code_version == "unknown"
    assert provenance.data_fingerprint == hashlib.sha256().hexdigest()  # an empty folder hashes nothing
    assert list(provenance.packages) == [
        "python",
        "pandas",
        "ibis-framework",
        "duckdb",
        "pandera",
        "statsmodels",
        "papermill",
        "nbconvert",
    ]


def test_when_header_values_contain_markup_then_they_are_escaped():
    header = ReportHeader(
        title="<script>alert(1)</script>",
        notebook="overview",
        market="DE",
        period="2025-01-01 to 2025-06-30",
        parameters={"label": '"><img src=x>'},
        provenance=PROVENANCE,
        failure="ValueError: <b>bad</b>",
    )

    fragment = header_html(header)

    assert "<script>" not in fragment and "<img" not in fragment and "<b>" not in fragment
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in fragment
    assert "label=&#x27;&quot;&gt;&lt;img src=x&gt;&#x27;" in fragment
    assert "This report failed: ValueError: &lt;b&gt;bad&lt;/b&gt;" in fragment
    assert '<dd data-field="Code version (git)">abc1234 (dirty)</dd>' in fragment
    assert '<dd data-field="Data fingerprint (sha256)">ffffffffffff</dd>' in fragment


def test_when_notebook_has_headings_then_title_is_the_first_one():
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("# a comment, not a heading"),
            v4.new_markdown_cell("Intro text\n\n## Market entry: scores ##\n\n# Later"),
        ]
    )

    assert notebook_title(notebook, default="x") == "Market entry: scores"
    assert notebook_title(v4.new_notebook(), default="market_entry") == "market_entry"


def test_when_rendered_then_the_ipynb_keeps_its_heading_and_the_page_shows_it_once():
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Overview\n\nPurpose."), v4.new_code_cell("1 + 1")])
    header = ReportHeader("Overview", "overview", "DE", "p", {}, PROVENANCE)

    page = render_report(notebook, header)

    assert notebook.cells[0].source == "# Overview\n\nPurpose."
    assert page.count("Overview</h1>") == 1
    assert "1 + 1" not in page
