"""Writing the demo data set: files that read back as the generated tables, byte for byte, atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.contract import TABLES
from analysis.errors import ParameterError
from analysis.sources import demo, validate_data_dir
from analysis.sources.demo import generate_demo_tables, write_demo_data

SMALL_USERS = 2_000


def test_when_written_then_files_read_back_as_the_generated_tables(tmp_path: Path):
    small = generate_demo_tables(users=SMALL_USERS, seed=11)
    paths = write_demo_data(tmp_path / "demo", users=SMALL_USERS, seed=11)
    assert sorted(paths) == sorted(TABLES)
    assert {p.name for p in paths.values()} == {p.name for p in (tmp_path / "demo").iterdir()}
    for name in ("events", "orders", "sellers", "surveys"):
        pd.testing.assert_frame_equal(pd.read_parquet(paths[name]), small[name])
    pd.testing.assert_frame_equal(pd.read_csv(paths["markets"]), small["markets"])
    initiatives = pd.read_csv(paths["initiatives"], parse_dates=["launch_date"])
    assert initiatives["launch_date"].tolist() == small["initiatives"]["launch_date"].tolist()
    assert validate_data_dir(tmp_path / "demo").ok


def test_when_written_twice_with_the_same_seed_then_files_are_byte_identical(tmp_path: Path):
    first = write_demo_data(tmp_path / "a", users=SMALL_USERS, seed=3)
    second = write_demo_data(tmp_path / "b", users=SMALL_USERS, seed=3)
    for name in TABLES:
        assert first[name].read_bytes() == second[name].read_bytes(), name


def test_when_generation_fails_midway_then_the_previous_directory_is_left_intact(tmp_path, monkeypatch):
    target = tmp_path / "demo"
    write_demo_data(target, users=500, seed=1)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken_surveys(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo.writer, "surveys_for_chunk", broken_surveys)
    with pytest.raises(RuntimeError, match="disk full"):
        write_demo_data(target, users=500, seed=2)

    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no staging directory left behind


def test_when_users_is_not_positive_then_the_error_names_the_parameter(tmp_path: Path):
    with pytest.raises(demo.DemoDataError, match="parameter users must be a positive whole number, got 0") as raised:
        write_demo_data(tmp_path / "demo", users=0)
    assert isinstance(raised.value, ParameterError) and raised.value.exit_code == 2
    assert (raised.value.parameter, raised.value.value) == ("users", 0)
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_when_seed_is_not_a_whole_number_then_the_error_names_the_parameter(tmp_path: Path, seed):
    with pytest.raises(demo.DemoDataError, match="parameter seed must be a non-negative whole number") as raised:
        write_demo_data(tmp_path / "demo", users=10, seed=seed)
    assert (raised.value.parameter, raised.value.value) == ("seed", seed)
