"""Parameter values are checked against each notebook's parameters cell before any kernel starts."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest
from helpers.pipeline_notebooks import real_run_config_on_test_data, write_project

from analysis.config import NOTEBOOKS_DIR
from analysis.pipeline import ConfigError, load_run_config
from analysis.pipeline.parameters import NotebookParameter, Rule, RuleSyntaxError, notebook_parameters, parse_rules

CONFIG = """\
data_dir: data
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE, FR]
notebooks:
  - notebook: kpis
    parameters: PARAMETERS
"""
# declared as the real notebooks declare theirs: annotation, default, meaning; rules after ';'
DECLARED = """\
freq: str = "month"  # KPI period; one of: week, month, quarter
window: str = "1D"  # conversion window; pattern: ^[1-9][0-9]*(s|min|h|D)$
share: float = 0.8  # share of the weight covered; range: 0..1
min_group_size: int = 100  # smallest group shown; range: 1..
breakdowns: list = ["segment"]  # columns; each one of: segment, device, channel
"""


def project(tmp_path: Path, parameters: str) -> Path:
    return write_project(
        tmp_path, {"kpis": ["print(freq)"]}, CONFIG.replace("PARAMETERS", parameters), extra_parameters=DECLARED
    )


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    return caught.value


def test_when_workbook_yml_sets_freq_fortnight_then_the_run_fails_before_any_kernel_starts(tmp_path, monkeypatch):
    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    path = project(tmp_path, "{freq: fortnight}")
    load_run_config(project(tmp_path / "warm", "{}"))  # imports and the data engine warmed up

    error = refused(path)  # before any kernel: starting one would raise above

    assert error.problems == [
        "notebooks[0].parameters.freq: 'fortnight' is not a valid freq for notebook kpis "
        "(valid: a str; one of: week, month, quarter)"
    ]
    assert (error.file, error.notebook, error.parameter, error.value) == (str(path), "kpis", "freq", "fortnight")
    assert error.valid == "a str; one of: week, month, quarter"
    assert not (tmp_path / "reports").exists()


def test_when_window_is_one_day_in_words_then_the_error_names_the_pattern(tmp_path):
    error = refused(project(tmp_path, '{window: "one day"}'))

    assert error.problems == [
        "notebooks[0].parameters.window: 'one day' is not a valid window for notebook kpis "
        "(valid: a str; pattern: ^[1-9][0-9]*(s|min|h|D)$)"
    ]


def test_when_several_values_are_wrong_then_every_one_is_reported_at_once(tmp_path):
    error = refused(
        project(tmp_path, '{freq: fortnight, share: 1.5, min_group_size: "100", breakdowns: [segment, colour]}')
    )

    assert [(p.parameter, p.value) for p in error.parameter_problems] == [
        ("freq", "fortnight"),
        ("share", 1.5),
        ("min_group_size", "100"),
        ("breakdowns", ["segment", "colour"]),
    ]
    assert error.parameter is None  # several problems: no single offending parameter
    assert len(str(error).splitlines()) == 4


def test_when_values_follow_the_rules_then_the_configuration_loads(tmp_path):
    config = load_run_config(
        project(tmp_path, "{freq: quarter, window: 30min, share: 1, min_group_size: 5, breakdowns: [device]}")
    )

    assert config.notebooks[0].parameters["freq"] == "quarter"


def test_when_a_notebook_only_accepts_some_markets_then_a_configured_market_outside_them_is_refused(tmp_path):
    path = write_project(
        tmp_path,
        {"kpis": ["print(market)"]},
        CONFIG.replace("PARAMETERS", "{}"),
        extra_parameters="",
    )
    notebook = tmp_path / "notebooks" / "kpis.ipynb"
    notebook.write_text(notebook.read_text().replace('# ISO alpha-2 market code, or \\"ALL\\"', "# market; one of: DE"))

    error = refused(path)

    assert error.problems == ["markets[1]: 'FR' is not a valid market for notebook kpis (valid: one of: DE)"]


@pytest.mark.parametrize(
    ("comment", "rules"),
    [
        ("KPI period; one of: week, month", (Rule("one of", "week, month"),)),
        ("meaning only; no rule here", ()),
        ("w; pattern: ^a;b$", (Rule("pattern", "^a;b$"),)),  # a pattern runs to the end of the comment
        ("share; range: 0..1; each one of: 0, 1", (Rule("range", "0..1"), Rule("one of", "0, 1", each=True))),
    ],
)
def test_when_a_comment_is_read_then_rules_follow_the_documented_syntax(comment, rules):
    assert parse_rules(comment) == rules


@pytest.mark.parametrize("comment", ["x; pattern: ([a-z]", "x; range: zero..one", "x; range: 5", "x; one of: ,"])
def test_when_a_rule_is_malformed_then_reading_it_fails_with_the_rule(comment):
    with pytest.raises(RuleSyntaxError):
        parse_rules(comment)


@pytest.mark.parametrize(
    ("type_name", "rules", "value", "valid"),
    [
        ("int", (), True, False),  # a bool is not a number of units
        ("float", (), 3, True),
        ("float", (Rule("range", "0..1"),), 1.0, True),
        ("float", (Rule("range", "0..1"),), -0.01, False),
        ("int", (Rule("range", "1.."),), 10**9, True),
        ("list", (Rule("pattern", r"^\w+$", each=True),), ["a", "b c"], False),
        ("str", (Rule("pattern", "(?i)^([a-z]{2}|all)$"),), "de", True),
        ("int", (Rule("one of", "1, 2"),), 2, True),
        (None, (), object(), True),
    ],
)
def test_when_a_value_is_checked_then_type_and_rules_decide(type_name, rules, value, valid):
    parameter = NotebookParameter("p", type_name, "", "", rules)

    assert (parameter.problem(value) is None) is valid


@pytest.mark.parametrize("path", sorted(NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.stem)
def test_when_a_project_notebook_is_inspected_then_every_parameter_has_a_type_and_its_default_is_valid(path: Path):
    declared = notebook_parameters(path)

    untyped = [name for name, parameter in declared.items() if parameter.type_name is None]
    assert untyped == []
    for name, parameter in declared.items():
        default = eval(parameter.default)  # noqa: S307 - the notebook's own literal
        assert parameter.problem(default) is None, f"{path.stem}.{name}: default {default!r} breaks its own rules"


def test_when_the_demo_configuration_is_loaded_then_the_real_notebooks_accept_its_values(tmp_path):
    config = load_run_config(real_run_config_on_test_data(tmp_path))

    assert config.markets  # and no ConfigError: every market, date and parameter passes every notebook's rules
