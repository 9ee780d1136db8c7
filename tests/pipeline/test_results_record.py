"""Results as data: a notebook's record survives the kernel, the .ipynb and the reading back; the HTML hides it."""

from __future__ import annotations

import json
import math

import nbformat
import pytest
from nbformat import v4

from analysis.errors import ParameterError
from analysis.pipeline.provenance import Provenance
from analysis.pipeline.recorded import recorded_results, report_entries
from analysis.pipeline.render import ReportHeader, render_report
from analysis.present.results import RESULTS_MIME, Kpi, Results, Verdict, build_results, record_results

PROVENANCE = Provenance("2026-01-02T03:04:05Z", "abc1234", False, "f" * 64, {"python": "3.11.7"})
PAYLOAD = "<script>window.__pwned = 1</script>"


def funnel_results() -> Results:
    return build_results(
        "customer_journey_funnel",
        "DE",
        f"Conversion is 3.2% {PAYLOAD}",
        kpis=[Kpi("conversion_rate", "Conversion rate", "3.2%", 0.032, 0.030, 0.034, "95% CI 3.0% to 3.4%")],
        verdicts=[Verdict("conversion_rate", "Conversion rate", "met", "+17.1%", "+15–20%")],
        findings=["one", "two"],
        tables=["conversion_tables"],
        charts=["plot_funnel"],
    )


def recorded_output(results: Results) -> nbformat.NotebookNode:
    return v4.new_output("display_data", data={RESULTS_MIME: results.to_dict()})


def test_when_a_record_is_written_as_json_and_read_back_then_it_is_equal_and_strings_stay_raw():
    results = funnel_results()

    again = Results.from_dict(json.loads(json.dumps(results.to_dict())))

    assert again == results
    assert again.headline == f"Conversion is 3.2% {PAYLOAD}"  # escaping is the renderer's job


def test_when_a_kpi_with_a_trend_is_written_as_json_and_read_back_then_its_points_are_equal():
    trend = [("2025-01-01", 0.021, "2.10%"), ("2025-02-01", math.nan, "–"), (f"2025-03-01 {PAYLOAD}", 0.026, "2.60%")]
    kpi = Kpi("session_conversion_rate", "Session conversion", "2.35%", trend=trend, trend_label="monthly",
              change="Conversion rose.", change_direction="rise")  # fmt: skip
    results = build_results("data_overview", "DE", "Conversion rose.", kpis=[kpi])

    again = Results.from_dict(json.loads(json.dumps(results.to_dict())))

    assert again == results
    assert again.kpis[0].trend == (
        ("2025-01-01", 0.021, "2.10%"),
        ("2025-02-01", None, "–"),
        (f"2025-03-01 {PAYLOAD}", 0.026, "2.60%"),
    )


def test_when_a_trend_point_is_not_a_triple_or_a_direction_is_unknown_then_a_parameter_error_names_the_kpi():
    with pytest.raises(ParameterError, match="trend of 'orders'") as raised:
        Kpi("orders", "Orders", "12", trend=[("Jan", 12.0)])
    assert raised.value.parameter == "trend"
    with pytest.raises(ParameterError, match="change_direction of 'orders': 'up'") as raised:
        Kpi("orders", "Orders", "12", change_direction="up")
    assert raised.value.valid == ["rise", "fall", "none", ""]


def test_when_a_record_from_before_trends_is_read_then_its_kpis_have_none():
    old = {"kind": "x", "market": "DE", "kpis": [{"name": "orders", "label": "Orders", "text": "12"}]}

    (kpi,) = Results.from_dict(old).kpis

    assert (kpi.trend, kpi.trend_label, kpi.change, kpi.change_direction) == ((), "", "", "")


def test_when_a_value_is_not_finite_then_it_is_recorded_as_null():
    kpi = Kpi("nps", "NPS", "–", value=math.nan, ci_low=float("inf"), ci_high=None)

    assert (kpi.value, kpi.ci_low, kpi.ci_high) == (None, None, None)
    assert json.loads(json.dumps(kpi.__dict__))["value"] is None


def test_when_a_verdict_is_not_met_missed_or_inconclusive_then_a_parameter_error_names_the_kpi():
    with pytest.raises(ParameterError, match="'nps'.*'passed'") as raised:
        Verdict("nps", "NPS", "passed", "+3", "+5")

    assert raised.value.valid == ["met", "missed", "inconclusive"]


def test_when_a_record_is_displayed_then_the_output_holds_only_the_record(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: shown.append((args, kwargs)))

    record_results("data_overview", "de", "Orders grew.", findings=["Orders grew."])

    ((data,), options) = shown[0]
    assert list(data) == [RESULTS_MIME] and options["raw"] is True
    assert data[RESULTS_MIME]["market"] == "DE" and data[RESULTS_MIME]["headline"] == "Orders grew."


def test_when_a_notebook_recorded_twice_then_the_last_record_is_read():
    first = build_results("data_overview", "DE", "first")
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("", outputs=[recorded_output(first)]),
            v4.new_code_cell("", outputs=[recorded_output(funnel_results())]),
        ]
    )

    assert recorded_results(notebook) == funnel_results()


def test_when_a_record_cannot_be_read_then_the_report_has_no_results_but_keeps_its_entry(tmp_path):
    broken = v4.new_output("display_data", data={RESULTS_MIME: {"kind": "x"}})  # no market
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Overview"), v4.new_code_cell("", outputs=[broken])])
    (tmp_path / "overview").mkdir()
    nbformat.write(notebook, tmp_path / "overview" / "DE.ipynb")
    manifest = {"results": [{"notebook": "overview", "market": "DE", "status": "ok", "ipynb": "overview/DE.ipynb"}]}

    (entry,) = report_entries(tmp_path, manifest)

    assert (entry.title, entry.results, entry.headline, entry.html) == ("Overview", None, "", None)


def test_when_a_kernel_records_results_then_the_executed_notebook_holds_them_and_the_html_does_not(tmp_path):
    from nbclient import NotebookClient

    from analysis.config import KERNEL_NAME

    source = (
        "from analysis.present.results import Kpi, record_results\n"
        f"record_results('overview', 'de', {PAYLOAD!r}, kpis=[Kpi('orders', 'Orders', '1,204', 1204.0)])"
    )
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Overview\n\n## Orders"), v4.new_code_cell(source)])
    NotebookClient(notebook, kernel_name=KERNEL_NAME, timeout=120).execute()
    nbformat.write(notebook, tmp_path / "executed.ipynb")

    results = recorded_results(nbformat.read(tmp_path / "executed.ipynb", as_version=4))
    page = render_report(notebook, ReportHeader("Overview", "overview", "DE", "p", {}, PROVENANCE, market_name="X"))

    assert results == build_results("overview", "DE", PAYLOAD, kpis=[Kpi("orders", "Orders", "1,204", 1204.0)])
    assert RESULTS_MIME not in page and "__pwned" not in page and "1,204" not in page
    assert page.count('<div class="jp-OutputArea-child') == 0  # no empty output left where the record was


def test_when_a_finding_opens_with_its_scope_then_it_still_counts_as_the_headline_it_restates():
    from analysis.present.results import restates_headline

    headline = "Of 42 sessions that reached Visit, 13.0% reached Purchase."
    assert restates_headline(headline, headline)
    assert restates_headline(f"Scope: US, 01 Jan 2025 to 30 Jun 2026. {headline}", headline)
    assert not restates_headline("The steepest drop is Cart → Checkout.", headline)
    assert not restates_headline(headline, "")
