"""Results as data: a report's headline numbers, verdicts and findings, recorded in the executed notebook.

A notebook's last cell calls :func:`record_results` with what its presenters already computed and printed (KPI
values with their intervals as the report writes them, verdicts against targets, the findings sentences, the ids of
its tables and charts). The record is glued into the executed notebook as one display output of MIME type
:data:`RESULTS_MIME`, the way scrapbook glues values: the pipeline reads it from the ``.ipynb`` (never from the
HTML), builds the run's executive summary and the index's headlines from it, and leaves it out of the HTML report.

Strings stay raw in the record (as the data spells them); whoever renders them escapes them. Numbers that are not
finite are recorded as ``null``. What each report records (its headline, KPIs with their trends, verdicts) is chosen
by the helpers of :mod:`analysis.present.report_results`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from analysis.errors import ParameterError

RESULTS_MIME = "application/vnd.workbook.results+json"
RESULTS_VERSION = 1
VERDICTS = ("met", "missed", "inconclusive")
CHANGE_DIRECTIONS = ("rise", "fall", "none", "")  # a report's call on a KPI's change ("" = it makes none)


@dataclass(frozen=True)
class Kpi:
    """One headline number of a report.

    Attributes
    ----------
    name
        the KPI's code (``"conversion_rate"``): rows of the cross-market scorecard are matched on it.
    label
        the reader's name (``"Conversion rate"``).
    text
        the value as the report prints it (``"3.2%"``); the summary shows this very text.
    value, ci_low, ci_high
        the value and its interval in code units (rates as fractions); None when there is none.
    interval
        the interval as the report prints it (``"95% CI 3.0% to 3.4%"``), or ``""``.
    market
        the market the number is for, when it is not the report's own (an across-markets report's per-market
        rows); None for the report's market.
    trend
        the KPI over time as the report shows it, oldest first: ``(period label, value, value as printed)``
        triples (``("2025-01-01", 0.021, "2.10%")``); the value is None where the period has none. Empty when the
        report shows no series.
    trend_label
        what the series is, in the reader's words (``"monthly, as in the KPI table"``), or ``""``.
    change
        the report's own words on the KPI's change (its sentence, or the clause of one), verbatim, or ``""`` when
        the report makes no call.
    change_direction
        that sentence's verdict: ``"rise"`` or ``"fall"`` (a real change by the report's test), ``"none"``
        (within the noise), or ``""`` when the report makes no call.
    """

    name: str
    label: str
    text: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    interval: str = ""
    market: str | None = None
    trend: tuple[tuple[str, float | None, str], ...] = ()
    trend_label: str = ""
    change: str = ""
    change_direction: str = ""

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high"):
            object.__setattr__(self, name, _number(getattr(self, name), name))
        object.__setattr__(self, "trend", _trend_points(self.name, self.trend))
        if self.change_direction not in CHANGE_DIRECTIONS:
            raise ParameterError(
                f"change_direction of {self.name!r}: {self.change_direction!r} is not a direction "
                f"(one of {', '.join(repr(d) for d in CHANGE_DIRECTIONS)})",
                parameter="change_direction",
                value=self.change_direction,
                valid=list(CHANGE_DIRECTIONS),
            )


@dataclass(frozen=True)
class Verdict:
    """A KPI's verdict against its target.

    Attributes
    ----------
    kpi, label
        the KPI's code and the reader's name.
    verdict
        ``"met"``, ``"missed"`` or ``"inconclusive"`` (the interval holds both sides of the target).
    estimate
        the estimated effect as the report prints it, with its interval (``"+17.1% (95% CI +12.0% to +22.3%)"``).
    target
        the target as the report prints it (``"+15–20%"``).
    market
        the market the verdict is for, when it is not the report's own; None for the report's market.
    """

    kpi: str
    label: str
    verdict: str
    estimate: str
    target: str
    market: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ParameterError(
                f"verdict of {self.kpi!r}: {self.verdict!r} is not a verdict (one of {', '.join(VERDICTS)})",
                parameter="verdict",
                value=self.verdict,
                valid=list(VERDICTS),
            )


@dataclass(frozen=True)
class Results:
    """What one report records about itself (see the module docstring).

    Attributes
    ----------
    kind
        the notebook (``"customer_journey_funnel"``).
    market
        the report's market code (``"ALL"`` for an across-markets report).
    headline
        one sentence, shown beside the report's link in the index and the summary: its most informative finding
        (chosen by :mod:`analysis.present.report_results`, a funnel's or overview's without its "Scope: …" opening),
        else its first.
    kpis, verdicts
        the headline numbers and the verdicts against targets.
    findings
        the report's findings sentences, most important first.
    tables, charts
        ids of the report's tables and charts (a presenter's name, e.g. ``"ranking_table"``).
    """

    kind: str
    market: str
    headline: str
    kpis: tuple[Kpi, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    findings: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()
    version: int = field(default=RESULTS_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values (lists, dicts, strings, finite numbers and None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Results:
        """The record :meth:`to_dict` wrote; unknown keys (a newer version's) are ignored.

        Raises
        ------
        ParameterError
            if a verdict is not one of :data:`VERDICTS`.
        KeyError, TypeError
            if a required key is missing or a value has the wrong shape.
        """
        return cls(
            kind=str(record["kind"]),
            market=str(record["market"]),
            headline=str(record.get("headline") or ""),
            kpis=tuple(Kpi(**_known(Kpi, kpi)) for kpi in record.get("kpis") or ()),
            verdicts=tuple(Verdict(**_known(Verdict, verdict)) for verdict in record.get("verdicts") or ()),
            findings=tuple(str(sentence) for sentence in record.get("findings") or ()),
            tables=tuple(str(table) for table in record.get("tables") or ()),
            charts=tuple(str(chart) for chart in record.get("charts") or ()),
            version=int(record.get("version", RESULTS_VERSION)),
        )


def build_results(
    kind: str,
    market: str,
    headline: str | None = None,
    *,
    kpis: Iterable[Kpi] = (),
    verdicts: Iterable[Verdict] = (),
    findings: Iterable[str] = (),
    tables: Iterable[str] = (),
    charts: Iterable[str] = (),
) -> Results:
    """The :class:`Results` of a report (see :func:`record_results` for the parameters)."""
    sentences = tuple(str(sentence) for sentence in findings)
    return Results(
        kind=str(kind),
        market=str(market),
        headline=str(headline) if headline is not None else next(iter(sentences), ""),
        kpis=tuple(kpis),
        verdicts=tuple(verdicts),
        findings=sentences,
        tables=tuple(str(table) for table in tables),
        charts=tuple(str(chart) for chart in charts),
    )


def record_results(
    kind: str,
    market: str,
    headline: str | None = None,
    *,
    kpis: Iterable[Kpi] = (),
    verdicts: Iterable[Verdict] = (),
    findings: Iterable[str] = (),
    tables: Iterable[str] = (),
    charts: Iterable[str] = (),
) -> None:
    """Record the report's results in the executed notebook: one display output of type :data:`RESULTS_MIME`.

    Nothing is shown: the output holds only the JSON record, which notebook front ends and the pipeline's HTML
    report leave out.

    Parameters
    ----------
    kind
        the notebook's name (``"data_overview"``).
    market
        the report's market parameter (a code or ``"ALL"``); upper-cased.
    headline
        the sentence the index shows for the report; the first of ``findings`` when None.
    kpis, verdicts
        :class:`Kpi` and :class:`Verdict` records, their texts as the report prints them.
    findings
        the findings sentences, most important first (raw: not Markdown-escaped).
    tables, charts
        ids of the report's tables and charts.
    """
    from IPython.display import display  # imported here: recording needs a kernel, building a record does not

    results = build_results(
        kind,
        str(market).upper(),
        headline,
        kpis=kpis,
        verdicts=verdicts,
        findings=findings,
        tables=tables,
        charts=charts,
    )
    display({RESULTS_MIME: results.to_dict()}, raw=True, metadata={RESULTS_MIME: {"version": RESULTS_VERSION}})


def _number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        message = f"{name}: {value!r} is not a number"
        raise ParameterError(message, parameter=name, value=value, valid="a number or None")
    value = float(value)
    return value if math.isfinite(value) else None


def _trend_points(kpi: str, points: Iterable) -> tuple[tuple[str, float | None, str], ...]:
    """``points`` as (label, value, text) tuples (JSON gives lists back); a malformed point is a ParameterError."""
    checked = []
    for point in points or ():
        if isinstance(point, str) or len(point) != 3:
            raise ParameterError(
                f"trend of {kpi!r}: {point!r} is not a (period label, value, text) triple",
                parameter="trend",
                value=point,
                valid="(period label, value or None, value as printed)",
            )
        label, value, text = point
        checked.append((str(label), _number(value, "trend"), str(text)))
    return tuple(checked)


def _known(record_type: type, values: Mapping[str, Any]) -> dict[str, Any]:
    names = record_type.__dataclass_fields__
    return {name: value for name, value in values.items() if name in names}


def restates_headline(finding: str, headline: str) -> bool:
    """Whether ``finding`` is the report's headline: the same sentence, or it after an opening such as "Scope: …. "."""
    return bool(headline) and (finding == headline or finding.endswith(f". {headline}"))
