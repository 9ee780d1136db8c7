"""A data folder prepared once per fingerprint: the cache key, one build, and events read back equal and by market."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.config import PROJECT_ROOT
from analysis.errors import DataFileError, ParameterError
from analysis.sources import connect, load_tables, open_events, prepare_data
from analysis.sources import prepared as prepared_module
from analysis.sources.cache import prepared_events, prepared_folder, stat_fingerprint

TEST_SMALL = PROJECT_ROOT / "data" / "test-small"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    """A cache folder of the test's own, where readers look too ($WORKBOOK_CACHE_DIR)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def small_copy(tmp_path_factory) -> Path:
    """The 3,000-user demo data copied to a folder of the module's own (its cache key names its path)."""
    return Path(shutil.copytree(TEST_SMALL, tmp_path_factory.mktemp("small") / "data"))


def _sorted_frame(table) -> pd.DataFrame:
    frame = table.to_pandas()
    return frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)


def test_when_nothing_changes_then_the_fingerprint_is_the_same_and_hidden_files_do_not_count(tiny_data_dir: Path):
    before = stat_fingerprint(tiny_data_dir)
    (tiny_data_dir / ".DS_Store").write_text("finder")
    load_tables(tiny_data_dir)["events"].count().execute()  # reading changes nothing

    assert stat_fingerprint(tiny_data_dir) == before
    assert len(before) == 64


def test_when_a_file_changes_size_or_time_or_appears_then_the_fingerprint_changes(tiny_data_dir: Path):
    events = tiny_data_dir / "events.parquet"
    seen = {stat_fingerprint(tiny_data_dir)}

    stat = events.stat()
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # same size, one nanosecond later
    seen.add(stat_fingerprint(tiny_data_dir))
    with events.open("ab") as file:  # one byte more, modification time put back
        file.write(b"\0")
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    seen.add(stat_fingerprint(tiny_data_dir))
    (tiny_data_dir / "surveys").mkdir()
    (tiny_data_dir / "surveys" / "part-0.parquet").write_bytes(b"x")  # a table stored as a folder, recursively
    seen.add(stat_fingerprint(tiny_data_dir))

    assert len(seen) == 4


def test_when_the_same_files_sit_in_two_folders_then_their_fingerprints_differ(tmp_path: Path):
    # a stored validation names its files, so a copy elsewhere is prepared on its own
    first = write_tables(tmp_path / "a", tiny_tables())
    second = Path(shutil.copytree(first, tmp_path / "b", copy_function=shutil.copy2))

    assert stat_fingerprint(first) != stat_fingerprint(second)


def test_when_prepared_twice_then_it_is_built_once(tiny_data_dir: Path, cache_dir: Path, monkeypatch):
    builds = []
    real_build = prepared_module._build
    monkeypatch.setattr(prepared_module, "_build", lambda *args: builds.append(args) or real_build(*args))

    first = prepare_data(tiny_data_dir)
    second = prepare_data(tiny_data_dir)

    assert len(builds) == 1
    assert (first.built, second.built) == (True, False)
    assert first.folder == second.folder == cache_dir / "prepared" / first.fingerprint
    assert [path.name for path in (cache_dir / "prepared").iterdir() if not path.name.startswith(".")] == [
        first.fingerprint
    ]
    assert (first.validation.cached, second.validation.cached) == (False, True)


def test_when_prepared_then_the_events_read_back_equal_the_original_column_by_column(small_copy: Path, cache_dir):
    con = connect()
    original = load_tables(small_copy, con, tables=["events"])["events"]
    original_schema, original_frame = original.schema(), _sorted_frame(original)

    prepared = prepare_data(small_copy)
    copy = load_tables(small_copy, con, tables=["events"])["events"]

    assert prepared.events is not None and prepared.events_note == ""
    assert copy.schema() == original_schema  # names, order and types; market stays a string
    copy_frame = _sorted_frame(copy)
    assert copy_frame.dtypes.to_dict() == original_frame.dtypes.to_dict()
    assert copy_frame["market"].dtype == original_frame["market"].dtype != "category"
    pd.testing.assert_frame_equal(copy_frame, original_frame)  # the same multiset of rows
    assert len(copy_frame) == 80_213


def test_when_prepared_then_each_market_file_is_sorted_by_user_and_time(small_copy: Path, cache_dir):
    prepared = prepare_data(small_copy)

    markets = sorted(path.name for path in prepared.events.iterdir())
    nl = pq.ParquetFile(prepared.events / "market=NL" / "part-0.parquet").read().to_pandas()  # the file alone

    assert markets == [f"market={m}" for m in ("AU", "CA", "DE", "FR", "GB", "JP", "NL", "US")]
    assert "market" not in nl.columns  # the folder name carries it
    keys = list(zip(nl.user_id, nl.event_time, strict=True))
    assert keys == sorted(keys)
    assert len(nl) == 4_095


def test_when_one_market_is_asked_for_then_only_its_partition_is_read(small_copy: Path, cache_dir):
    prepare_data(small_copy)
    con = connect()
    events = load_tables(small_copy, con, tables=["events"])["events"]
    query = events.filter(events.market == "NL").count()

    plan = con.raw_sql(f"EXPLAIN ANALYZE {con.compile(query)}").fetchall()[0][1]

    assert query.execute() == 4_095
    assert "Total Files Read: 1" in plan
    assert "market=NL" in plan and "market=US" not in plan


def test_when_a_data_file_changes_after_preparing_then_readers_read_the_data_folder_again(
    tiny_data_dir: Path, cache_dir
):
    prepare_data(tiny_data_dir)
    tables = tiny_tables()
    tables["events"] = tables["events"].iloc[:5]
    write_tables(tiny_data_dir, {"events": tables["events"]})

    assert prepared_folder(tiny_data_dir) is None
    assert load_tables(tiny_data_dir, tables=["events"])["events"].count().execute() == 5


def test_when_the_funnel_opens_prepared_events_then_it_reads_the_copy_and_the_stored_validation(
    tiny_data_dir: Path, cache_dir, opened_connections
):
    prepared = prepare_data(tiny_data_dir)
    opened_connections.clear()

    source = open_events(tiny_data_dir)

    assert len(opened_connections) == 1  # the stored validation opens nothing of its own
    plan = source.con.raw_sql(f"EXPLAIN ANALYZE {source.con.compile(source.events.count())}").fetchall()[0][1]
    assert "Total Files Read: 2" in plan and prepared.fingerprint in plan  # DE and FR, from the cache
    assert source.known_markets == ["DE", "FR"]
    assert source.events.count().execute() == 12


def test_when_events_are_csv_then_the_copy_equals_them_too(tmp_path: Path, cache_dir):
    folder = write_tables(tmp_path / "data", tiny_tables())
    (folder / "events.parquet").unlink()
    tiny_tables()["events"].to_csv(folder / "events.csv", index=False)
    con = connect()
    original = load_tables(folder, con, tables=["events"])["events"]
    original_schema, original_frame = original.schema(), _sorted_frame(original)

    assert prepare_data(folder).events is not None
    copy = load_tables(folder, con, tables=["events"])["events"]

    assert copy.schema() == original_schema
    pd.testing.assert_frame_equal(_sorted_frame(copy), original_frame)


def test_when_the_data_folder_does_not_exist_then_the_error_names_it(tmp_path: Path, cache_dir):
    missing = tmp_path / "no-such-folder"

    with pytest.raises(DataFileError, match="no-such-folder: no such data directory") as raised:
        prepare_data(missing)

    assert raised.value.file == str(missing)


def test_when_the_backend_is_not_duckdb_then_preparing_is_refused_and_reading_ignores_the_copy(
    tiny_data_dir: Path, cache_dir
):
    class OtherBackend:
        name = "pyspark"

    with pytest.raises(ParameterError, match="pyspark") as raised:
        prepare_data(tiny_data_dir, con=OtherBackend())

    assert raised.value.parameter == "con"
    prepare_data(tiny_data_dir)
    assert prepared_events(tiny_data_dir, OtherBackend()) is None  # another engine reads the data folder
