"""The benchmark-sheet importer on CSV and Excel files written in the test, in every shape it promises to read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.errors import ConfigError, DataFileError, ParameterError
from analysis.sources.formats.benchmark_sheet import import_benchmarks, read_benchmark_sheet

GMV = {"GMV": ("gmv", "USD", "higher")}


def _csv(tmp_path: Path, text: str, name: str = "sheet.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _values(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(row.company, row.kpi): row.value for row in frame.itertuples()}


def test_when_money_is_written_as_people_write_it_then_each_cell_is_its_amount(tmp_path: Path):
    cells = {
        "A": '"$2,160,000,000"',
        "B": '"-$14,540,000"',
        "C": '"(1,234)"',
        "D": "$122 million",
        "E": "1.2bn",
        "F": "3.5k",
        "G": "USD 1.5M",
        "H": "1 234",
    }
    text = "Company,Quarter,GMV\n" + "".join(f"{company},2025Q3,{cell}\n" for company, cell in cells.items())
    frame = read_benchmark_sheet(
        _csv(tmp_path, text), company_column="Company", period_column="Quarter", kpi_columns=GMV, market="us"
    )
    assert frame["value"].tolist() == [2.16e9, -14_540_000.0, -1234.0, 122e6, 1.2e9, 3500.0, 1.5e6, 1234.0]
    assert set(frame["market"]) == {"US"} and set(frame["unit"]) == {"USD"} and set(frame["period"]) == {"2025Q3"}


def test_when_euro_amount_in_a_euro_column_then_it_reads_and_in_a_dollar_column_it_is_refused(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,GMV\nCraftly,2025Q3,€1.2M\n")
    frame = read_benchmark_sheet(
        path,
        company_column="Company",
        period_column="Quarter",
        kpi_columns={"GMV": ("gmv", "EUR", "higher")},
        market="DE",
    )
    assert frame["value"].tolist() == [1.2e6]
    with pytest.raises(DataFileError, match=r"row 2, column 'GMV': cannot read '€1.2M' as an amount in USD"):
        read_benchmark_sheet(path, company_column="Company", period_column="Quarter", kpi_columns=GMV, market="DE")


def test_when_percentages_then_a_fraction_unit_divides_by_100_and_a_percent_unit_keeps_them(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,Conv,ConvPct\nCraftly,2025Q3,26.14%,26.14%\nRival,2025Q3,0.05,5\n")
    frame = read_benchmark_sheet(
        path,
        company_column="Company",
        period_column="Quarter",
        kpi_columns={
            "Conv": ("conversion_rate", "fraction", "higher"),
            "ConvPct": ("conversion_pct", "percent", "higher"),
        },
        market="DE",
    )
    assert _values(frame) == pytest.approx(
        {
            ("Craftly", "conversion_rate"): 0.2614,
            ("Craftly", "conversion_pct"): 26.14,
            ("Rival", "conversion_rate"): 0.05,
            ("Rival", "conversion_pct"): 5.0,
        }
    )


def test_when_periods_come_in_every_shape_then_each_is_its_calendar_quarter(tmp_path: Path):
    periods = ["2025Q3", "Q3 2025", "2025-Q3", "Sep 2024", "September 2024", "2024-09-30", "q1-2026", "2026-04"]
    text = "Company,Period,GMV\n" + "".join(f"C{k},{period},1\n" for k, period in enumerate(periods))
    frame = read_benchmark_sheet(
        _csv(tmp_path, text), company_column="Company", period_column="Period", kpi_columns=GMV, market="DE"
    )
    assert dict(zip(frame["company"], frame["period"], strict=True)) == {
        "C0": "2025Q3",
        "C1": "2025Q3",
        "C2": "2025Q3",
        "C3": "2024Q3",
        "C4": "2024Q3",
        "C5": "2024Q3",
        "C6": "2026Q1",
        "C7": "2026Q2",
    }


def test_when_cells_are_missing_then_they_are_counted_reported_and_left_out_never_zero(tmp_path: Path):
    text = (
        "Company,Quarter,Country,GMV,NPS\n"
        "A,2025Q3,DE,N/A,10\n"
        "B,2025Q3,DE,n/a,NA\n"
        "C,2025Q3,DE,—,–\n"
        "D,2025Q3,DE,-,\n"
        "E,2025Q3,DE,5,0\n"
    )
    frame = read_benchmark_sheet(
        _csv(tmp_path, text),
        company_column="Company",
        period_column="Quarter",
        kpi_columns={**GMV, "NPS": ("nps", "score -100..100", "higher")},
        market_column="Country",
    )
    assert _values(frame) == {("A", "nps"): 10.0, ("E", "gmv"): 5.0, ("E", "nps"): 0.0}
    assert frame.attrs["missing"].to_dict("list") == {
        "file": [str(tmp_path / "sheet.csv")] * 2,
        "column": ["GMV", "NPS"],
        "kpi": ["gmv", "nps"],
        "missing": [4, 3],
        "rows": ["2, 3, 4, 5", "3, 4, 5"],
    }
    assert frame.attrs["summary"].endswith(
        "sheet.csv: 3 benchmark values read; 7 missing (N/A, dash or empty) left out, not zero: "
        "'GMV' 4 (rows 2, 3, 4, 5), 'NPS' 3 (rows 3, 4, 5)."
    )


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("KPIs")
    sheet.append(["Company", "Market", "Period", "Conversion", "Share", "GMV"])
    sheet.append(["Craftly", "de", datetime(2024, 9, 30), 0.2614, 0.12, "$1.2M"])
    sheet.append(["Rival", "FR", "Q4 2024", "3.5%", None, 2_000_000])
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped
    sheet.append(["Third", "FR", "Oct 2024", "N/A", 0.3, "(1,000)"])
    sheet["E2"].number_format = "0.00%"
    book.save(path)
    return path


def test_when_excel_then_numbers_text_dates_and_percent_cells_read_from_the_named_sheet(tmp_path: Path):
    frame = read_benchmark_sheet(
        _workbook(tmp_path / "panel.xlsx"),
        company_column="Company",
        period_column="Period",
        kpi_columns={
            "Conversion": ("conversion_rate", "fraction", "higher"),
            "Share": ("market_share", "percent", "higher"),
            "GMV": ("gmv", "USD", "higher"),
        },
        market_column="Market",
        sheet="KPIs",
    )
    assert frame[["company", "market", "period"]].drop_duplicates().values.tolist() == [
        ["Craftly", "DE", "2024Q3"],
        ["Rival", "FR", "2024Q4"],
        ["Third", "FR", "2024Q4"],
    ]
    assert _values(frame) == pytest.approx(
        {
            ("Craftly", "conversion_rate"): 0.2614,
            ("Craftly", "market_share"): 12.0,  # shown as 12.00%, unit percent
            ("Craftly", "gmv"): 1.2e6,
            ("Rival", "conversion_rate"): 0.035,
            ("Rival", "gmv"): 2e6,
            ("Third", "market_share"): 0.3,
            ("Third", "gmv"): -1000.0,
        }
    )
    assert frame.attrs["missing"][["column", "missing", "rows"]].values.tolist() == [
        ["Conversion", 1, "5"],
        ["Share", 1, "3"],
    ]


def test_when_a_cell_cannot_be_read_then_the_error_names_file_row_column_and_value(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,GMV\nA,2025Q3,12\nB,2025Q3,about 5\n")
    with pytest.raises(DataFileError) as error:
        read_benchmark_sheet(path, company_column="Company", period_column="Quarter", kpi_columns=GMV, market="DE")
    assert str(error.value).startswith(f"{path}, row 3, column 'GMV': cannot read 'about 5' as a number; valid: ")
    assert (error.value.file, error.value.column, error.value.value) == (str(path), "GMV", "about 5")
    assert "26.14%" in error.value.valid and "N/A" in error.value.valid


def test_when_a_decimal_comma_is_ambiguous_then_it_is_refused_not_guessed(tmp_path: Path):
    path = _csv(tmp_path, 'Company,Quarter,GMV\nA,2025Q3,"1,5"\n')
    with pytest.raises(DataFileError, match=r"row 2, column 'GMV': cannot read '1,5' as a number"):
        read_benchmark_sheet(path, company_column="Company", period_column="Quarter", kpi_columns=GMV, market="DE")


def test_when_a_period_cannot_be_read_then_the_error_says_what_would_be_valid(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,GMV\nA,Q5 2025,1\n")
    with pytest.raises(DataFileError) as error:
        read_benchmark_sheet(path, company_column="Company", period_column="Quarter", kpi_columns=GMV, market="DE")
    assert str(error.value) == (
        f"{path}, row 2, column 'Quarter': cannot read 'Q5 2025' as a period; valid: a quarter such as 2025Q3, "
        "Q3 2025 or 2025-Q3, a month such as Sep 2024, or a date such as 2024-09-30"
    )


def test_when_the_sheet_breaks_its_shape_then_errors_name_what_is_wrong(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,GMV\nA,2025Q3,1\nA,Q3 2025,2\n")
    kwargs = {"company_column": "Company", "period_column": "Quarter", "kpi_columns": GMV}
    with pytest.raises(DataFileError, match=r"rows 2 and 3 both give gmv of A in DE, 2025Q3"):
        read_benchmark_sheet(path, **kwargs, market="DE")
    with pytest.raises(DataFileError, match=r"no column\(s\) \['Country'\]; the header \(row 1\) has"):
        read_benchmark_sheet(path, **kwargs, market_column="Country")
    with pytest.raises(ParameterError, match="give exactly one of market"):
        read_benchmark_sheet(path, **kwargs)
    with pytest.raises(ParameterError, match="market 'ALL' cannot label benchmark rows"):
        read_benchmark_sheet(path, **kwargs, market="ALL")
    with pytest.raises(ParameterError, match=r"direction 'higher' or 'lower'"):
        read_benchmark_sheet(path, **{**kwargs, "kpi_columns": {"GMV": ("gmv", "USD", "up")}}, market="DE")
    with pytest.raises(DataFileError, match=r"no sheet 'Data'; its sheets are \['Notes', 'KPIs'\]"):
        read_benchmark_sheet(_workbook(tmp_path / "b.xlsx"), **kwargs, market="DE", sheet="Data")


def _mapping(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.yml"
    path.write_text(
        "company_column: Company\nperiod_column: Quarter\nmarket: DE\n"
        "kpi_columns:\n  Conversion: [conversion_rate, fraction, higher]\n",
        encoding="utf-8",
    )
    return path


def test_when_importing_then_benchmarks_csv_is_written_and_merged_without_overwriting(tmp_path: Path):
    mapping, out = _mapping(tmp_path), tmp_path / "data"
    first = _csv(tmp_path, "Company,Quarter,Conversion\nCraftly,2025Q3,12.5%\nRival,2025Q3,N/A\n", "first.csv")
    said: list[str] = []
    written = import_benchmarks(first, mapping, out, echo=said.append)
    assert written == out / "benchmarks.csv"
    assert written.read_text() == (
        "company,market,period,kpi,value,unit,direction\nCraftly,DE,2025Q3,conversion_rate,0.125,fraction,higher\n"
    )
    assert said == [
        f"{first}: 1 benchmark values read; 1 missing (N/A, dash or empty) left out, not zero: "
        f"'Conversion' 1 (row 3). Wrote 1 rows to {written}."
    ]
    second = _csv(tmp_path, "Company,Quarter,Conversion\nCraftly,Q3 2025,0.125\nRival,2025Q4,0.2\n", "second.csv")
    import_benchmarks(second, mapping, out)
    assert pd.read_csv(written)[["company", "period", "value"]].values.tolist() == [
        ["Craftly", "2025Q3", 0.125],
        ["Rival", "2025Q4", 0.2],
    ]
    clash = _csv(tmp_path, "Company,Quarter,Conversion\nCraftly,2025Q3,13%\n", "clash.csv")
    before = written.read_text()
    with pytest.raises(DataFileError) as error:
        import_benchmarks(clash, mapping, out)
    assert str(error.value) == (
        f"{written}: 1 row(s) of {clash} would overwrite different values; nothing written:\n"
        "Craftly, DE, 2025Q3, conversion_rate: 0.125 fraction in the file, 0.13 fraction in the sheet"
    )
    assert written.read_text() == before


def test_when_the_mapping_file_is_wrong_then_a_config_error_names_the_key(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_text("company_column: Company\nperiod_column: Q\nkpi_columns: {}\ncolour: red\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['colour'\]") as error:
        import_benchmarks(tmp_path / "any.csv", path, tmp_path)
    assert error.value.parameter == "colour"


def test_when_a_csv_row_has_more_cells_than_the_header_then_unquoted_separators_are_suspected(tmp_path: Path):
    path = _csv(tmp_path, "Company,Quarter,GMV\nA,2025Q3,1,234\n")
    with pytest.raises(DataFileError, match=r"row 2: 4 cells but the header \(row 1\) has 3 columns; is a number"):
        read_benchmark_sheet(path, company_column="Company", period_column="Quarter", kpi_columns=GMV, market="DE")
