"""Findings and tables of the post-initiative results; every number comes from an :class:`ImpactAnalysis`.

One sentence per KPI says the effect, its interval, how it was estimated and the verdict against the target; whether
an effect is called real comes only from the analysis' ``real`` column. The few-cluster check, the pre-trend test
and the comparison with a two-way fixed-effects regression follow, then what the design cannot tell us. The charts
live in :mod:`analysis.present.impact_charts`.
"""

from __future__ import annotations

import math

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.contract import ALL_MARKETS
from analysis.metrics.impact.analysis import KPIS, ImpactAnalysis
from analysis.present import formatting as fmt
from analysis.present.findings import escaped_style
from analysis.present.labels import kpi_label
from analysis.present.theme import HIGHLIGHT_COLOUR, REFERENCE_COLOUR, SECOND_BAR_COLOUR

SCORE_KPIS = ("nps",)  # KPIs measured as a score (−100..100), not a rate: absolute effects in points of the score
VERDICT_WORDS = {"met": "met", "missed": "missed", "inconclusive": "inconclusive against"}
VERDICT_COLOURS = {"met": SECOND_BAR_COLOUR, "missed": HIGHLIGHT_COLOUR, "inconclusive": REFERENCE_COLOUR}
NOTE_WORDS = {
    "intention_to_treat": (
        "read as intention-to-treat: in {randomised} only the treatment arm's users were treated (the A/B test), "
        "so the market-level effect is diluted"
    ),
    "randomised_market_left_out": (
        "{randomised} left out (only its treatment arm was treated, so its market-level effect is diluted)"
    ),
    "partly_treated_periods": (
        "periods in which the launch fell part-way through are left out of the effect (event time 0 of the event "
        "study shows them)"
    ),
}
DESIGN_NAMES = {
    "randomised": "A/B test",
    "staggered_did": "staggered difference-in-differences",
    "interrupted_time_series": "interrupted time series",
    "not_launched": "not launched",
    "not_estimable": "not estimable",
}


def confidence(analysis: ImpactAnalysis) -> str:
    """The intervals' level as a reader names it: alpha 0.05 -> ``'95%'``."""
    return f"{(1 - analysis.alpha) * 100:g}%"


def effect_text(analysis: ImpactAnalysis, row: pd.Series) -> str:
    """'+17.1% (95% CI +12.4% to +21.9%)': the relative effect, or the absolute one where no relative exists."""
    level = confidence(analysis)
    if _finite(row["relative"]):
        interval = _interval(row["relative_ci_low"], row["relative_ci_high"], _signed_percent)
        return f"{_signed_percent(row['relative'])} ({level} CI {interval})"
    kpi = row["kpi"]
    interval = _interval(row["effect_ci_low"], row["effect_ci_high"], lambda v: absolute_text(kpi, v))
    return f"{absolute_text(kpi, row['effect'])} ({level} CI {interval})"


def absolute_text(kpi: str, value: float) -> str:
    """An absolute effect in the KPI's units: a rate's in percentage points, a score's in points of the score."""
    if not _finite(value):
        return "–"
    return f"{value:+.1f} points" if kpi in SCORE_KPIS else fmt.points(value)


def target_text(low: float, high: float) -> str:
    """A target range as the case studies write it: (0.15, 0.20) -> '+15–20%', (-0.25, -0.30) -> '-25–30%'."""
    if not (_finite(low) and _finite(high)):
        return "–"
    near, far = sorted((low, high), key=abs)
    sign = "+" if near > 0 else "-"
    if math.isclose(near, far):
        return f"{sign}{abs(near) * 100:g}%"
    return f"{sign}{abs(near) * 100:g}–{abs(far) * 100:g}%"


def design_text(analysis: ImpactAnalysis, row: pd.Series) -> str:
    """How the KPI's effect was estimated, in words, with the evidence's weakness said where there is one."""
    design = row["design"]
    if design == "randomised":
        return f"A/B test in {_join(market_names(analysis, randomised_markets(analysis))) or _where(analysis)}"
    if design == "staggered_did":
        launches = int(row["treated_markets"])
        comparisons = int(row["comparison_markets"])
        return (
            f"staggered difference-in-differences over {launches} launch{'es' if launches != 1 else ''} against "
            f"{comparisons} comparison market{'s' if comparisons != 1 else ''}"
        )
    if design == "interrupted_time_series":
        return "single-market interrupted time series (weaker evidence: no comparison market)"
    return DESIGN_NAMES.get(design, str(design))


def findings(analysis: ImpactAnalysis) -> list[str]:
    """Sentences a reviewer reads first: each KPI's effect against its target, then the checks on the design."""
    if analysis.effects.empty:
        return [f"There is no initiative to read in {analysis.scope.label}."]
    sentences = [_kpi_sentence(analysis, row) for _, row in in_kpi_order(analysis.effects).iterrows()]
    sentences += [s for s in (_few_cluster_sentence(analysis), _pre_trend_sentence(analysis)) if s]
    sentences += _twfe_sentences(analysis)
    return sentences


def _kpi_sentence(analysis: ImpactAnalysis, row: pd.Series) -> str:
    label = kpi_label(row["kpi"])
    if row["design"] == "not_launched":
        return f"{label}: the initiative did not launch in {_where(analysis)}: no effect to estimate."
    if row["design"] == "not_estimable" or not _finite(row["effect"]):
        reasons = analysis.unestimable.loc[analysis.unestimable["kpi"] == row["kpi"], "reason"]
        why = f" ({'; '.join(dict.fromkeys(str(r) for r in reasons))})" if len(reasons) else ""
        return f"{label}: could not be estimated in {_where(analysis)}{why}."
    real = "a real change" if bool(row["real"]) else "within the noise"
    p_value = fmt.p_text(row["p_value"])
    sentence = f"{label} {effect_text(analysis, row)}, {real} ({p_value}), {design_text(analysis, row)}"
    target = target_text(row["target_low"], row["target_high"])
    if row["verdict"] in VERDICT_WORDS:
        kind = "target" if math.isclose(row["target_low"], row["target_high"]) else "target range"
        sentence += f", {VERDICT_WORDS[row['verdict']]} the {target} {kind}"
        if row["position"]:
            sentence += f" (point estimate {row['position']} it)"
    else:
        sentence += ", no target set"
    notes = note_text(analysis, row["note"])
    return sentence + (f"; {notes}" if notes else "") + "."


def note_text(analysis: ImpactAnalysis, note: str) -> str:
    """The analysis' caveat codes (comma- or semicolon-separated) in plain words; unknown codes spelled out."""
    codes = [code.strip() for code in str(note or "").replace(";", ",").split(",") if code.strip()]
    randomised = _join(market_names(analysis, randomised_markets(analysis))) or "the randomised market"
    return "; ".join(NOTE_WORDS.get(code, code.replace("_", " ")).format(randomised=randomised) for code in codes)


def _few_cluster_sentence(analysis: ImpactAnalysis) -> str:
    effects = analysis.effects
    did = effects[(effects["design"] == "staggered_did") & effects["few_cluster_p_value"].map(_finite)]
    if did.empty:
        return ""
    method = str(did["few_cluster_method"].iloc[0]) or "wild cluster bootstrap"
    markets = int(did["treated_markets"].max() + did["comparison_markets"].max())
    listed = "; ".join(
        f"{kpi_label(row.kpi)} {fmt.p_text(row.few_cluster_p_value)} (DiD {fmt.p_text(row.p_value)})"
        for row in in_kpi_order(did).itertuples()
    )
    inference = _join(list(dict.fromkeys(str(i) for i in did["inference"] if i)))
    return (
        f"With only {markets} markets as clusters, cluster-robust standard errors run too small, so each "
        f"difference-in-differences has a few-cluster check beside it, a {method}: {listed}. The verdicts use the "
        f"difference-in-differences intervals{': ' + inference if inference else ''}."
    )


def _pre_trend_sentence(analysis: ImpactAnalysis) -> str:
    trends = in_kpi_order(analysis.pre_trends)
    if trends.empty:
        return ""
    parallel = [f"{kpi_label(r.kpi)} ({fmt.p_text(r.p_value)})" for r in trends.itertuples() if bool(r.parallel)]
    diverging = [f"{kpi_label(r.kpi)} ({fmt.p_text(r.p_value)})" for r in trends.itertuples() if not bool(r.parallel)]
    parts = []
    if parallel:
        parts.append(f"no sign of diverging trends before the launches for {_join(parallel)}")
    if diverging:
        parts.append(
            f"trends already diverged before the launches for {_join(diverging)}, so their difference-in-differences "
            "estimates rest on an assumption the data do not support"
        )
    return f"Pre-trend check (joint test that every pre-launch effect is zero): {'; '.join(parts)}."


def _twfe_sentences(analysis: ImpactAnalysis) -> list[str]:
    twfe = in_kpi_order(analysis.twfe)
    if twfe.empty:
        return []
    disagree = twfe[twfe["disagree"].astype(bool)]
    if disagree.empty:
        return [
            "A two-way fixed-effects regression agrees with Callaway–Sant'Anna for every KPI estimated by "
            "difference-in-differences (its estimate inside Callaway–Sant'Anna's interval)."
        ]
    return [
        f"For {kpi_label(row.kpi)} a two-way fixed-effects regression gives "
        f"{absolute_text(row.kpi, row.twfe_effect)}, outside the interval of Callaway–Sant'Anna's "
        f"{absolute_text(row.kpi, row.did_effect)}: with staggered launches it makes "
        "forbidden comparisons of already-treated markets, used as controls for later launches, "
        "so the Callaway–Sant'Anna estimate is the one read here."
        for row in disagree.itertuples()
    ]


def effects_table(analysis: ImpactAnalysis) -> Styler | pd.DataFrame:
    """Every KPI's effect with its interval, design, target and verdict; the verdict coloured met / missed / open."""
    if analysis.effects.empty:
        return pd.DataFrame({"": [f"no initiative to read in {analysis.scope.label}"]})
    effects = in_kpi_order(analysis.effects)
    level = confidence(analysis)
    table = pd.DataFrame(
        {
            "KPI": effects["kpi"].map(kpi_label),
            "design": effects["design"].map(lambda d: DESIGN_NAMES.get(d, d)),
            "markets (treated / comparison)": [
                f"{fmt.count(t)} / {fmt.count(c)}"
                for t, c in zip(effects["treated_markets"], effects["comparison_markets"], strict=True)
            ],
            "effect": [_signed_percent(v) for v in effects["relative"]],
            f"{level} CI": [
                _interval(lo, hi, _signed_percent)
                for lo, hi in zip(effects["relative_ci_low"], effects["relative_ci_high"], strict=True)
            ],
            "absolute effect": [absolute_text(k, v) for k, v in zip(effects["kpi"], effects["effect"], strict=True)],
            "p": [_p(p) for p in effects["p_value"]],
            "few-cluster p": [_p(p) for p in effects["few_cluster_p_value"]],
            "real": ["yes" if r else "no" for r in effects["real"]],
            "target": [
                target_text(lo, hi) for lo, hi in zip(effects["target_low"], effects["target_high"], strict=True)
            ],
            "verdict": [v or "–" for v in effects["verdict"]],
            "point estimate": [p or "–" for p in effects["position"]],
            "note": [note_text(analysis, n) or "–" for n in effects["note"]],
        }
    )
    return escaped_style(table.set_index("KPI")).map(_verdict_colour, subset=["verdict"])


def pre_trends_table(analysis: ImpactAnalysis) -> Styler | pd.DataFrame:
    """The joint test of the pre-launch effects per KPI estimated by difference-in-differences."""
    if analysis.pre_trends.empty:
        return pd.DataFrame({"": ["no KPI was estimated by difference-in-differences"]})
    trends = in_kpi_order(analysis.pre_trends)
    table = pd.DataFrame(
        {
            "KPI": trends["kpi"].map(kpi_label),
            "Wald statistic": [f"{s:.2f}" if _finite(s) else "–" for s in trends["statistic"]],
            "degrees of freedom": [fmt.count(d) for d in trends["degrees_of_freedom"]],
            "p": [_p(p) for p in trends["p_value"]],
            "parallel before launch": ["yes" if p else "no" for p in trends["parallel"]],
        }
    )
    return escaped_style(table.set_index("KPI"))


def twfe_table(analysis: ImpactAnalysis) -> Styler | pd.DataFrame:
    """Two-way fixed effects beside Callaway–Sant'Anna per KPI, absolute effects in the KPI's units."""
    if analysis.twfe.empty:
        return pd.DataFrame({"": ["no KPI was estimated by difference-in-differences"]})
    twfe = in_kpi_order(analysis.twfe)
    level = confidence(analysis)
    table = pd.DataFrame(
        {
            "KPI": twfe["kpi"].map(kpi_label),
            "TWFE effect": [absolute_text(k, v) for k, v in zip(twfe["kpi"], twfe["twfe_effect"], strict=True)],
            f"TWFE {level} CI": [
                _interval(lo, hi, lambda v, kpi=kpi: absolute_text(kpi, v))
                for kpi, lo, hi in zip(twfe["kpi"], twfe["twfe_ci_low"], twfe["twfe_ci_high"], strict=True)
            ],
            "TWFE p (clustered by market)": [_p(p) for p in twfe["twfe_p_value"]],
            "few-cluster p": [_p(p) for p in twfe["few_cluster_p_value"]],
            "Callaway–Sant'Anna effect": [
                absolute_text(k, v) for k, v in zip(twfe["kpi"], twfe["did_effect"], strict=True)
            ],
            "disagree": ["yes" if d else "no" for d in twfe["disagree"]],
        }
    )
    return escaped_style(table.set_index("KPI"))


def limitations(analysis: ImpactAnalysis) -> list[str]:
    """What this analysis cannot tell us, from its own facts: few markets, spill-overs, concurrent changes, ITT."""
    launches = analysis.launches
    launched = launches[launches["launch_date"].notna()]
    never = sorted(launches.loc[launches["launch_date"].isna(), "market"].astype(str))
    never_names = _join(market_names(analysis, never)) or "none"
    launched_names = _join(market_names(analysis, sorted(launched["market"].astype(str)))) or "none"
    sentences = [
        f"The initiative launched in {len(launched)} of {len(launches)} markets ({launched_names}); "
        f"{len(never)} never launched ({never_names}). With so few markets every difference-in-differences "
        "rests on few clusters: one unusual market can move an estimate, and intervals are wider than the session "
        "counts suggest."
    ]
    sentences.append(
        "Markets are not sealed off: shoppers, sellers and marketing cross borders, so a launch may also move the "
        "comparison markets (spill-overs), which would bias the effects towards zero."
    )
    sentences.append(
        "Anything else that changed in a market at its launch (prices, campaigns, a season that differs by market) "
        "is read as the initiative's effect; the pre-trend check cannot rule out a change that starts with the launch."
    )
    randomised = randomised_markets(analysis)
    if randomised:
        sentences.append(
            f"In {_join(market_names(analysis, randomised))} the initiative ran as an A/B test: "
            "conversion and cart abandonment come from the "
            "test, but survey and order KPIs can only be read for the whole market, where only the treatment arm's "
            "users were treated (intention-to-treat), so those effects understate the effect on a treated user."
        )
    if not analysis.effects.empty and (analysis.effects["design"] == "interrupted_time_series").any():
        sentences.append(
            "Single-market interrupted time series have no comparison market: they assume the pre-launch trend "
            "would have continued, so any shift at the launch date, whatever its cause, counts as the effect."
        )
    # one sentence per KPI and reason, however many markets share it
    for (kpi, reason), rows in analysis.unestimable.groupby(["kpi", "reason"], sort=False):
        markets = _join(sorted(rows["market"].astype(str).unique()))
        sentences.append(f"Not estimated: {kpi_label(kpi)} in {markets} ({reason}).")
    return sentences


def randomised_markets(analysis: ImpactAnalysis) -> list[str]:
    """The in-scope markets where the initiative ran as an A/B test."""
    launches = analysis.launches
    chosen = launches["randomised"].astype(bool) & launches["in_scope"].astype(bool)
    return sorted(launches.loc[chosen, "market"].astype(str))


def in_kpi_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows in the order of :data:`KPIS` (unknown KPIs last, in their own order)."""
    if frame.empty:
        return frame
    order = {kpi: index for index, kpi in enumerate(KPIS)}
    return frame.iloc[frame["kpi"].map(lambda k: order.get(k, len(order))).argsort(kind="stable")]


def market_names(analysis: ImpactAnalysis, markets: list[str]) -> list[str]:
    """The markets' names from ``analysis.launches`` (``name``), their codes where it gives none."""
    launches = analysis.launches
    if "name" not in launches:
        return list(markets)
    named = dict(zip(launches["market"].astype(str), launches["name"], strict=True))
    return [str(named[m]) if m in named and isinstance(named[m], str) and named[m] else m for m in markets]


def _where(analysis: ImpactAnalysis) -> str:
    market = analysis.scope.market
    return "any market" if market == ALL_MARKETS else market_names(analysis, [market])[0]


def _verdict_colour(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict)
    return f"color: {colour}; font-weight: bold" if colour else ""


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _signed_percent(value: float) -> str:
    return f"{value * 100:+.1f}%" if _finite(value) else "–"


def _interval(low: float, high: float, number) -> str:
    return f"{number(low)} to {number(high)}" if _finite(low) and _finite(high) else "unavailable"


def _p(value: float) -> str:
    return fmt.p_value(value) if _finite(value) else "–"
