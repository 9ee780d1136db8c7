"""prepare_data across processes: two at once leave one valid cache, a crash mid-build leaves none."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analysis.sources import connect, load_tables, prepare_data
from analysis.sources.cache import prepared_folder

# Runs prepare_data in a process of its own; the build is slowed (both callers overlap) or cut short (a crash).
PREPARE = textwrap.dedent(
    """
    import os, sys, time
    from analysis.sources import prepare_data
    from analysis.sources import prepared

    real_copy = prepared._copy_events

    def copy_events(*args):
        copied = real_copy(*args)
        if sys.argv[2] == "crash":
            os._exit(3)  # dies as a killed process does: no exception handler, no clean-up
        time.sleep(1.0)
        return copied

    prepared._copy_events = copy_events
    print(prepare_data(sys.argv[1]).built)
    """
)


def _start(data_dir: Path, cache_dir: Path, how: str) -> subprocess.Popen:
    env = {**os.environ, "WORKBOOK_CACHE_DIR": str(cache_dir)}
    return subprocess.Popen(
        [sys.executable, "-c", PREPARE, str(data_dir), how], env=env, stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(folder))
    return folder


def test_when_two_processes_prepare_the_same_folder_at_once_then_one_builds_and_both_see_one_cache(
    tiny_data_dir: Path, cache_dir: Path
):
    first, second = _start(tiny_data_dir, cache_dir, "slow"), _start(tiny_data_dir, cache_dir, "slow")
    outputs = [process.communicate(timeout=120)[0].strip() for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0]
    assert sorted(outputs) == ["False", "True"]
    folder = prepared_folder(tiny_data_dir)
    assert folder is not None
    assert [path.name for path in (cache_dir / "prepared").iterdir() if not path.name.endswith(".lock")] == [
        folder.name
    ]
    assert load_tables(tiny_data_dir, connect(), tables=["events"])["events"].count().execute() == 12


def test_when_a_build_crashes_then_no_cache_is_left_and_the_next_call_builds_a_whole_one(
    tiny_data_dir: Path, cache_dir: Path
):
    crashed = _start(tiny_data_dir, cache_dir, "crash")
    crashed.communicate(timeout=120)

    assert crashed.returncode == 3
    assert prepared_folder(tiny_data_dir) is None
    assert any(path.name.startswith(".building-") for path in (cache_dir / "prepared").iterdir())  # its leftovers
    con = connect()
    events = load_tables(tiny_data_dir, con, tables=["events"])["events"]
    in_de = events.filter(events.market == "DE").count()
    plan = con.raw_sql(f"EXPLAIN ANALYZE {con.compile(in_de)}").fetchall()[0][1]
    assert "events.parquet" in plan and "prepared" not in plan  # the data folder is read

    prepared = prepare_data(tiny_data_dir)

    assert prepared.built and prepared.events is not None
    assert not any(path.name.startswith(".building-") for path in (cache_dir / "prepared").iterdir())


def test_when_a_build_fails_in_process_then_nothing_is_left_behind(tiny_data_dir: Path, cache_dir: Path, monkeypatch):
    from analysis.sources import prepared as prepared_module

    def failing_copy(*args):
        raise OSError("disk full")

    monkeypatch.setattr(prepared_module, "_copy_events", failing_copy)

    with pytest.raises(OSError, match="disk full"):
        prepare_data(tiny_data_dir)

    assert prepared_folder(tiny_data_dir) is None
    assert [path.name for path in (cache_dir / "prepared").iterdir() if not path.name.endswith(".lock")] == []
