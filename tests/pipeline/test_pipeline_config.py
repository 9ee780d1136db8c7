"""Validation of the run configuration: every problem reported at once, each naming its key and value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis import errors
from analysis.pipeline import ConfigError, load_run_config
from analysis.pipeline.plan import plan_reports

GOOD = """\
data_dir: data
reports_dir: out/reports
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE, FR]
notebooks:
  - notebook: sales
    parameters: {min_group: 5}
  - notebook: summary
    per_market: false
"""
NOTEBOOKS = {"sales": ["print(market)"], "summary": ["print(market)"]}


def project(tmp_path: Path, config: str) -> Path:
    return write_project(tmp_path, NOTEBOOKS, config, extra_parameters="min_group = 10  # smallest group shown\n")


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    assert str(caught.value) == "\n".join(f"{path}: {problem}" for problem in caught.value.problems)
    return caught.value.problems


def test_when_config_is_good_then_it_loads_with_folders_relative_to_the_file(tmp_path):
    config = load_run_config(project(tmp_path, GOOD))

    assert config.data_dir == tmp_path / "data"
    assert config.reports_dir == tmp_path / "out" / "reports"
    assert config.notebooks_dir == tmp_path / "notebooks"
    assert (config.period.start, config.period.end) == (date(2025, 1, 1), date(2025, 6, 30))
    assert config.markets == ["DE", "FR"]
    assert [(spec.notebook, spec.per_market, spec.parameters) for spec in config.notebooks] == [
        ("sales", True, {"min_group": 5}),
        ("summary", False, {}),
    ]


def test_when_config_is_good_then_plan_gives_each_notebook_its_parameters(tmp_path):
    config = load_run_config(project(tmp_path, GOOD))

    plan = plan_reports(config)

    assert [(report.notebook, report.market) for report in plan] == [
        ("sales", "DE"),
        ("sales", "FR"),
        ("summary", "ALL"),
    ]
    assert plan[1].parameters == {
        "market": "FR",
        "start_date": "2025-01-01",
        "end_date": "2025-06-30",
        "data_dir": str(tmp_path / "data"),
        "min_group": 5,
    }
    assert plan[2].notebook_path == tmp_path / "notebooks" / "summary.ipynb"


def test_when_selection_names_an_unconfigured_market_then_error_lists_the_configured_ones(tmp_path):
    config = load_run_config(project(tmp_path, GOOD))

    with pytest.raises(ConfigError) as caught:
        plan_reports(config, markets=["DE", "JP"])

    assert caught.value.problems == ["market 'JP' is not in the run configuration (configured: ['DE', 'FR'], or ALL)"]


def test_when_key_is_unknown_then_error_names_it_and_the_valid_keys(tmp_path):
    path = project(tmp_path, GOOD + "colour: blue\n")

    assert problems_of(path) == [
        "colour: unknown key (valid here: data_dir, reports_dir, notebooks_dir, period, markets, notebooks, engine, "
        "spark, tables, chart_files)"
    ]


def test_when_notebook_entry_has_unknown_key_then_error_gives_its_key_path(tmp_path):
    path = project(tmp_path, GOOD.replace("per_market: false", "per_market: false\n    title: x"))

    assert problems_of(path) == [
        "notebooks[1].title: unknown key (valid here: notebook, per_market, markets, with_all, parameters)"
    ]


def test_when_notebook_file_is_missing_then_error_names_the_path_and_the_available_notebooks(tmp_path):
    path = project(tmp_path, GOOD.replace("notebook: summary", "notebook: summery"))

    assert problems_of(path) == [
        f"notebooks[1].notebook: notebook file not found: {tmp_path / 'notebooks' / 'summery.ipynb'} "
        "(available: sales, summary)"
    ]


def test_when_market_is_not_a_two_letter_code_then_error_names_the_value(tmp_path):
    path = project(tmp_path, GOOD.replace("[DE, FR]", "[DE, '../../x', D3]"))

    assert problems_of(path) == [
        "markets[1]: '../../x' is not an ISO 3166-1 alpha-2 market code (two letters, e.g. DE)",
        "markets[2]: 'D3' is not an ISO 3166-1 alpha-2 market code (two letters, e.g. DE)",
    ]


def test_when_markets_are_given_in_lower_case_then_they_mean_the_capital_codes(tmp_path):
    config = load_run_config(project(tmp_path, GOOD.replace("[DE, FR]", "[de, Fr]")))

    assert config.markets == ["DE", "FR"]
    assert [report.market for report in plan_reports(config, markets=["fr"])] == ["FR", "ALL"]


def test_when_a_market_is_listed_in_two_cases_then_it_is_listed_twice(tmp_path):
    path = project(tmp_path, GOOD.replace("[DE, FR]", "[DE, de]"))

    assert problems_of(path) == ["markets[1]: 'DE' is listed twice (also markets[0])"]


def test_when_market_is_not_in_the_markets_table_then_error_lists_the_known_markets(tmp_path):
    path = project(tmp_path, GOOD.replace("[DE, FR]", "[DE, JP]"))

    assert problems_of(path) == [
        f"markets[1]: 'JP' is not in the markets table of {tmp_path / 'data'} (known: DE, FR, US)"
    ]


def test_when_market_is_listed_twice_then_error_points_to_both(tmp_path):
    path = project(tmp_path, GOOD.replace("[DE, FR]", "[DE, FR, DE]"))

    assert problems_of(path) == ["markets[2]: 'DE' is listed twice (also markets[0])"]


def test_when_end_is_before_start_then_error_names_both_dates(tmp_path):
    path = project(
        tmp_path, GOOD.replace("{start: 2025-01-01, end: 2025-06-30}", "{start: 2025-06-30, end: 2025-01-01}")
    )

    assert problems_of(path) == ["period: end 2025-01-01 is before start 2025-06-30"]


def test_when_date_does_not_exist_then_error_names_it_and_the_expected_form(tmp_path):
    path = project(tmp_path, GOOD.replace("end: 2025-06-30", "end: 2025-02-30"))

    assert problems_of(path) == ["period.end: '2025-02-30' is not a date (expected YYYY-MM-DD, e.g. 2025-01-01)"]


def test_when_parameter_is_not_in_the_notebook_then_error_lists_its_parameters(tmp_path):
    path = project(tmp_path, GOOD.replace("{min_group: 5}", "{min_groop: 5}"))

    assert problems_of(path) == ["notebooks[0].parameters.min_groop: not a parameter of sales (known: min_group)"]


def test_when_config_sets_a_pipeline_parameter_then_error_says_it_is_set_by_the_pipeline(tmp_path):
    path = project(tmp_path, GOOD.replace("{min_group: 5}", "{market: GB}"))

    assert problems_of(path) == [
        "notebooks[0].parameters.market: set by the pipeline for every notebook; remove it here"
    ]


def test_when_notebook_lacks_a_pipeline_parameter_then_error_names_the_missing_ones(tmp_path):
    path = project(tmp_path, GOOD)
    notebook = tmp_path / "notebooks" / "summary.ipynb"
    notebook.write_text(notebook.read_text().replace('data_dir = \\"\\"', 'folder = \\"\\"'))

    assert problems_of(path) == [
        "notebooks[1].notebook: the parameters cell of summary does not define data_dir "
        "(every notebook receives market, start_date, end_date, data_dir)"
    ]


def test_when_notebook_name_leaves_the_folder_then_it_is_rejected(tmp_path):
    path = project(tmp_path, GOOD.replace("notebook: summary", "notebook: ../../summary"))

    assert problems_of(path) == [
        "notebooks[1].notebook: '../../summary' is not a notebook name "
        "(the file name in the notebooks folder without .ipynb: letters, digits, '_' and '-')"
    ]


def test_when_data_dir_is_missing_then_error_names_the_resolved_folder(tmp_path):
    path = project(tmp_path, GOOD.replace("data_dir: data", "data_dir: nowhere"))

    assert problems_of(path) == [
        f"data_dir: folder not found: {tmp_path / 'nowhere'} (relative paths start at {tmp_path})"
    ]


def test_when_several_things_are_wrong_then_all_are_reported_together(tmp_path):
    config = (
        GOOD.replace("end: 2025-06-30", "end: 2025-13-01")
        .replace("[DE, FR]", "[DE, JP, f3]")
        .replace("{min_group: 5}", "{min_groop: 5}")
        .replace("per_market: false", "per_market: maybe")
    )
    path = project(tmp_path, config)

    assert problems_of(path) == [
        "period.end: '2025-13-01' is not a date (expected YYYY-MM-DD, e.g. 2025-01-01)",
        "markets[2]: 'f3' is not an ISO 3166-1 alpha-2 market code (two letters, e.g. DE)",
        "notebooks[1].per_market: Input should be a valid boolean, unable to interpret input (got 'maybe')",
        f"markets[1]: 'JP' is not in the markets table of {tmp_path / 'data'} (known: DE, FR, US)",
        "notebooks[0].parameters.min_groop: not a parameter of sales (known: min_group)",
    ]


def test_when_a_required_key_is_missing_then_error_says_so(tmp_path):
    path = project(tmp_path, GOOD.replace("markets: [DE, FR]\n", ""))

    assert problems_of(path) == ["markets: missing (required)"]


def test_when_file_is_not_a_mapping_then_error_names_the_expected_keys(tmp_path):
    path = tmp_path / "workbook.yml"
    path.write_text("- data_dir\n")

    assert problems_of(path) == [
        "expected a mapping with keys data_dir, reports_dir, notebooks_dir, period, markets, notebooks, engine, spark, "
        "tables, chart_files; got list"
    ]


def test_when_file_does_not_exist_then_error_says_so(tmp_path):
    assert problems_of(tmp_path / "missing.yml") == ["file not found"]


def test_when_config_is_refused_then_the_error_is_a_workbook_config_error_naming_the_file(tmp_path):
    path = project(tmp_path, GOOD + "colour: blue\n")

    with pytest.raises(errors.ConfigError) as caught:  # the shared base: the CLI and callers catch this one
        load_run_config(path)

    error = caught.value
    assert isinstance(error, ConfigError)
    assert isinstance(error, errors.WorkbookError)
    assert isinstance(error, ValueError)  # callers written against the earlier ValueError keep working
    assert error.exit_code == 2
    assert (error.source, error.file) == (str(path), str(path))
    assert error.message == str(error) == f"{path}: {error.problems[0]}"


def test_when_a_selection_is_refused_then_the_error_names_no_file():
    error = ConfigError("selection", ["market 'JP' is not in the run configuration (configured: ['DE'])"])

    assert (error.source, error.file) == ("selection", None)
    assert str(error) == "selection: market 'JP' is not in the run configuration (configured: ['DE'])"


def test_when_a_config_error_has_several_problems_then_each_is_one_line_and_the_facts_are_kept():
    error = ConfigError("run_reports", ["jobs: 0 is not a number", "markets: empty"], parameter="jobs", value=0)

    assert str(error).splitlines() == ["run_reports: jobs: 0 is not a number", "run_reports: markets: empty"]
    assert error.problems == ["jobs: 0 is not a number", "markets: empty"]
    assert (error.parameter, error.value) == ("jobs", 0)
