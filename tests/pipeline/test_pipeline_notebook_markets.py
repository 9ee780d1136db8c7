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
