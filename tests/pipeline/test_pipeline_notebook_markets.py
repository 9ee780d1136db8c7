"""A per-market notebook can be narrowed to some of the run's markets (an experiment runs only where it ran)."""

from __future__ import annotations

import pytest
from helpers.pipeline_notebooks import write_project

from analysis.pipeline import ConfigError, load_run_config
from analysis.pipeline.plan import plan_reports

CONFIG = """\
data_dir: data
period: {{start: 2025-01-01, end: 2025-03-31}}
markets: [DE, FR, US]
notebooks:
  - notebook: everywhere
  - notebook: somewhere
    markets: {markets}
"""


def project(tmp_path, markets: str):
    return write_project(tmp_path, {"everywhere": ["1"], "somewhere": ["1"]}, CONFIG.format(markets=markets))


def test_when_a_notebook_lists_markets_then_it_runs_only_there_and_the_others_run_everywhere(tmp_path):
    plan = plan_reports(load_run_config(project(tmp_path, "[fr]")))
    assert [(report.notebook, report.market) for report in plan] == [
        ("everywhere", "DE"),
        ("everywhere", "FR"),
        ("everywhere", "US"),
        ("somewhere", "FR"),
    ]
    assert plan_reports(load_run_config(project(tmp_path, "[FR]")), markets=["DE"])[-1].notebook == "everywhere"


def test_when_a_notebook_lists_a_market_outside_the_run_then_the_configuration_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"notebook somewhere: markets \['GB'\] are not in the run's markets"):
        load_run_config(project(tmp_path, "[GB]"))


def test_when_a_notebook_asks_for_all_then_an_across_markets_report_follows_its_markets(tmp_path):
    config = CONFIG.format(markets="[FR, US]") + "    with_all: true\n"
    root = write_project(tmp_path, {"everywhere": ["1"], "somewhere": ["1"]}, config)
    plan = plan_reports(load_run_config(root))
    assert [(report.notebook, report.market) for report in plan][-3:] == [
        ("somewhere", "FR"),
        ("somewhere", "US"),
        ("somewhere", "ALL"),
    ]
    assert plan[-1].parameters["market"] == "ALL"
    assert [(r.notebook, r.market) for r in plan_reports(load_run_config(root), markets=["all"])] == [
        ("somewhere", "ALL")
    ]
    assert [r.market for r in plan_reports(load_run_config(root), markets=["US"])] == ["US", "US"]


def test_when_a_once_only_notebook_asks_for_all_then_the_configuration_is_refused(tmp_path):
    config = CONFIG.format(markets="null").replace(
        "  - notebook: somewhere\n", "  - notebook: somewhere\n    per_market: false\n    with_all: true\n"
    )
    with pytest.raises(ConfigError, match="notebook somewhere: with_all is only for per_market notebooks"):
        load_run_config(write_project(tmp_path, {"everywhere": ["1"], "somewhere": ["1"]}, config))
