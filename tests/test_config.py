"""Paths the workbook resolves are anchored at the project root, whatever the working directory."""

from __future__ import annotations

from analysis.config import DEMO_DATA_DIR, PROJECT_ROOT, resolve_data_dir


def test_when_data_dir_is_relative_then_it_is_read_from_the_project_root_not_the_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir("data/demo") == PROJECT_ROOT / "data" / "demo"


def test_when_nothing_is_set_then_the_environment_then_the_demo_data_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_DATA_DIR", str(tmp_path))
    assert resolve_data_dir("") == tmp_path
    monkeypatch.delenv("WORKBOOK_DATA_DIR")
    assert resolve_data_dir("") == DEMO_DATA_DIR
