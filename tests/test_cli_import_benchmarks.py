"""`workbook import-benchmarks` reads a consultant's sheet into the client's data folder, or says why it cannot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.cli import main

MAPPING = """\
company_column: Company
period_column: Quarter
market: DE
kpi_columns:
  Conversion: [conversion_rate, fraction, higher]
"""


def command(sheet: Path, folder: Path) -> list[str]:
    return ["import-benchmarks", str(sheet), "--mapping", str(folder / "mapping.yml"), "--out", str(folder)]


def test_when_a_sheet_and_mapping_are_given_then_benchmarks_csv_holds_its_rows(tmp_path: Path, capsys):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Company,Quarter,Conversion\nCraftly,Q3 2025,12.5%\nRival,2025Q3,N/A\n")
    (tmp_path / "mapping.yml").write_text(MAPPING)
    assert (
        main(["import-benchmarks", str(sheet), "--mapping", str(tmp_path / "mapping.yml"), "--out", str(tmp_path)]) == 0
    )
    written = pd.read_csv(tmp_path / "benchmarks.csv")
    assert written[["company", "market", "period", "kpi", "value"]].values.tolist() == [
        ["Craftly", "DE", "2025Q3", "conversion_rate", 0.125]
    ]
    assert "1" in capsys.readouterr().out  # the summary counts the missing cell


def test_when_a_cell_cannot_be_read_then_one_line_names_it_and_the_exit_code_is_1(tmp_path: Path, capsys):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Company,Quarter,Conversion\nCraftly,2025Q3,lots\n")
    (tmp_path / "mapping.yml").write_text(MAPPING)
    assert (
        main(["import-benchmarks", str(sheet), "--mapping", str(tmp_path / "mapping.yml"), "--out", str(tmp_path)]) == 1
    )
    error = capsys.readouterr().err
    assert error.startswith("workbook: ") and "lots" in error and "Traceback" not in error
    assert not (tmp_path / "benchmarks.csv").exists()
