"""A small finished run made by hand, for the export tests: executed notebooks with results, tables and charts.

``reports/<RUN_ID>/`` holds a funnel report for Germany (a table, two charts written beside it as the pipeline does),
a failed funnel report for France (recorded nothing), and an across-markets impact report (a table and verdicts); the
data folder's markets table names the markets, one with markup in its name.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
from nbformat import v4  # noqa: E402

from analysis.pipeline.charts import keep_charts_beside  # noqa: E402
from analysis.present.capture import CHART_MIME, TABLE_MIME, chart_record, table_record  # noqa: E402
from analysis.present.results import (  # noqa: E402
    RESULTS_MIME,  # noqa: E402
    Kpi,
    Verdict,
    build_results,
)

RUN_ID = "20260101T000000Z-abcd"
FINGERPRINT = "0123456789ab" + "c" * 52
SCRIPT = "<script>x</script>"
FORMULA = '=HYPERLINK("http://evil","click")'
MARKETS_CSV = f"market,name,region,currency\nDE,Germany,Europe,EUR\nFR,France {SCRIPT},Europe,EUR\n"
FUNNEL_TITLE, IMPACT_TITLE = "Customer-journey funnel", "Post-initiative results"
FUNNEL_FINDINGS = (
    "Conversion in Germany is 3.2% (95% CI 3.0% to 3.4%).",
    "Mobile converts worse than desktop: 2.1% against 4.0%, a real difference after Holm's correction.",
    "Paid search " + "brings many visitors who leave at the cart " * 10 + "and rarely return.",
    "A third finding.",
    "A fourth finding.",
    "A fifth finding, not shown.",
)
DEVICE_TABLE = pd.DataFrame(
    {"units": [1204, 37], "rate": ["2.1%", "4.0%"], "share": [0.75, float("nan")], "real difference?": ["yes", "no"]},
    index=pd.Index(["Mobile", FORMULA], name="Device"),
)
IMPACT_TABLE = pd.DataFrame({"KPI": ["Conversion rate", "NPS"], "effect": [0.171, 2.0], "verdict": ["met", "missed"]})
IMPACT = build_results(
    "post_initiative_results",
    "ALL",
    "Two of three KPIs met their target.",
    verdicts=[
        Verdict("conversion_rate", "Conversion rate", "met", "+17.1% (95% CI +12% to +22%)", "+15–20%"),
        Verdict("nps", "NPS", "missed", "+2 (95% CI +1 to +3)", "+5"),
        Verdict("conversion_rate", "Conversion rate", "inconclusive", "+9% (95% CI -1% to +19%)", "+15–20%", "DE"),
    ],
    findings=["Two of three KPIs met their target.", "NPS missed its target."],
)


def chart_output(height: float) -> nbformat.NotebookNode:
    """A chart as a kernel displays it: the inline PNG and its record."""
    figure, axis = plt.subplots(figsize=(4, height))
    axis.bar(["a", "b"], [1, 2])
    record = chart_record(figure)
    plt.close(figure)
    return v4.new_output(
        "display_data", data={"image/png": record["png"], CHART_MIME: record, "text/plain": "<Figure>"}
    )


def table_output(frame: pd.DataFrame) -> nbformat.NotebookNode:
    return v4.new_output("display_data", data={"text/html": frame.to_html(), TABLE_MIME: table_record(frame)})


def write_report(run_dir: Path, notebook: str, market: str, cells: list, *, status: str = "ok") -> dict:
    path = run_dir / notebook / f"{market}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    executed = keep_charts_beside(v4.new_notebook(cells=cells), path)  # as the pipeline keeps it
    nbformat.write(executed, path)
    return {"notebook": notebook, "market": market, "status": status, "ipynb": f"{notebook}/{market}.ipynb"}


def write_run(root: Path) -> Path:
    """``root/reports`` with the run described in the module docstring (its data folder is ``root/client-data``)."""
    data = root / "client-data"
    data.mkdir(parents=True)
    (data / "markets.csv").write_text(MARKETS_CSV)
    reports = root / "reports"
    run_dir = reports / RUN_ID
    funnel = build_results(
        "customer_journey_funnel",
        "DE",
        kpis=[Kpi("conversion_rate", "Conversion rate", "3.2%", 0.032)],
        findings=FUNNEL_FINDINGS,
    )
    results = [
        write_report(
            run_dir,
            "customer_journey_funnel",
            "DE",
            [
                v4.new_markdown_cell(f"# {FUNNEL_TITLE}\n\nWhat it shows."),
                v4.new_markdown_cell("## The funnel"),
                v4.new_code_cell("", outputs=[chart_output(3.0)]),
                v4.new_markdown_cell("## Conversion by device\n\nText."),
                v4.new_code_cell("", outputs=[chart_output(2.0), table_output(DEVICE_TABLE)]),
                v4.new_code_cell("", outputs=[v4.new_output("display_data", data={RESULTS_MIME: funnel.to_dict()})]),
            ],
        ),
        write_report(
            run_dir, "customer_journey_funnel", "FR", [v4.new_markdown_cell(f"# {FUNNEL_TITLE}")], status="failed"
        ),
        write_report(
            run_dir,
            "post_initiative_results",
            "ALL",
            [
                v4.new_markdown_cell(f"# {IMPACT_TITLE}\n\n## Effects against targets"),
                v4.new_code_cell("", outputs=[table_output(IMPACT_TABLE)]),
                v4.new_code_cell("", outputs=[v4.new_output("display_data", data={RESULTS_MIME: IMPACT.to_dict()})]),
            ],
        ),
    ]
    manifest = {
        "run_id": RUN_ID,
        "status": "failed",
        "config": {"period": {"start": "2025-01-01", "end": "2026-06-30"}, "data_dir": str(data)},
        "plan": {"notebooks": ["customer_journey_funnel", "post_initiative_results"], "markets": ["DE", "FR", "ALL"]},
        "provenance": {"data_fingerprint": FINGERPRINT, "started_at": "2026-01-01T00:00:00Z", "git_commit": "abc1234"},
        "results": results,
    }
    (run_dir / "run.json").write_text(json.dumps(manifest))
    return reports
