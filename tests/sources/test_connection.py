"""connect(): the one place a DuckDB connection is created, with every engine setting given at creation."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from analysis.errors import ParameterError
from analysis.sources import connect


def setting(con, name: str):
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_when_memory_and_threads_are_given_then_the_connection_is_created_with_them():
    con = connect(memory_limit="512MB", threads=1)

    assert setting(con, "memory_limit") == "488.2 MiB"  # DuckDB shows 512 * 10**6 bytes in MiB
    assert setting(con, "threads") == 1
    assert setting(con, "lambda_syntax") == "ENABLE_SINGLE_ARROW"


def test_when_a_duckdb_option_is_given_by_name_then_it_is_passed_through_and_overrides_the_default(tmp_path: Path):
    con = connect(temp_directory=str(tmp_path / "spill"), lambda_syntax="DEFAULT")

    assert setting(con, "temp_directory") == str(tmp_path / "spill")
    assert setting(con, "lambda_syntax") == "DEFAULT"


def test_when_an_ibis_array_expression_runs_on_the_workbook_connection_then_duckdb_accepts_its_lambdas():
    # Ibis 12 writes array lambdas as `x -> ...`; DuckDB 2.0 accepts them only with lambda_syntax set at connect
    lists = ibis.memtable({"values": [[1, 2, 3]]})
    expression = lists.select(kept=lists["values"].filter(lambda value: value > 1))

    assert connect().to_pyarrow(expression)["kept"].to_pylist() == [[2, 3]]
    with pytest.raises(Exception, match="Deprecated lambda arrow"):
        ibis.duckdb.connect().to_pyarrow(expression)


@pytest.mark.parametrize("size", ["lots", "4", "GB", "4 XB"])
def test_when_memory_limit_is_not_a_size_then_a_parameter_error_names_it(size):
    with pytest.raises(
        ParameterError, match=rf"memory_limit '{size}' is not a size such as '4GB' or '512MB'"
    ) as raised:
        connect(memory_limit=size)

    assert (raised.value.parameter, raised.value.value, raised.value.exit_code) == ("memory_limit", size, 2)
