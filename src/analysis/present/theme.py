"""One look for every chart: seaborn's look set through matplotlib alone, the workbook's colours, compact images.

Every present module takes its colours from here: the theme's colour cycle (``PALETTE``, see :func:`series_colours`)
for data series, and the named colours below for fixed roles (bars, highlights, reference lines).

The look is seaborn's ``set_theme(context="notebook", style="whitegrid", palette="colorblind")`` written out as the
matplotlib settings it makes (seaborn 0.13), so a report does not import seaborn (and, through it, ``scipy.stats``:
seconds per report) to draw its first chart. ``tests/project/test_import_cost.py`` holds these settings equal to
seaborn's. One is left out: seaborn's default colour map for images (``rocket``, which only exists once seaborn is
imported); every chart of the workbook names its colour map.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.colors import to_rgb

from analysis.present.capture import capture_tables_and_charts

PALETTE = "colorblind"  # the theme's colour cycle: lines, points and error bars
ACCENT_PALETTE = "deep"  # seaborn palette of fixed-role colours: bars and stacked parts of a whole
BAR_COLOUR = "#4C72B0"  # deep blue: counts per category
SECOND_BAR_COLOUR = "#55A868"  # deep green: a second kind of count (e.g. durations)
HIGHLIGHT_COLOUR = "#8C1C13"  # dark red: annotations that point at a loss
REFERENCE_COLOUR = "grey"  # reference lines such as everyone's rate
FIGURE_DPI = 96  # PNG at screen resolution: sharp enough to read, a few tens of KB each

# seaborn's named palettes the workbook uses (seaborn.palettes.SEABORN_PALETTES, seaborn 0.13).
_PALETTES: dict[str, tuple[str, ...]] = {
    "colorblind": (
        "#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9",
    ),
    "deep": (
        "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD",
    ),
}  # fmt: skip
# seaborn's colour codes for the colorblind palette (its six-colour variant, then a near black): "b", "g", "r" ... in
# a matplotlib format string draw in these colours.
_COLOUR_CODES: dict[str, str | tuple[float, float, float]] = {
    "b": "#0173B2", "g": "#029E73", "r": "#D55E00", "m": "#CC78BC", "y": "#ECE133", "c": "#56B4E9",
    "k": (0.1, 0.1, 0.1),
}  # fmt: skip
# seaborn.plotting_context("notebook")
_CONTEXT: dict[str, object] = {
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6, "patch.linewidth": 1,
    "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.width": 1, "ytick.minor.width": 1,
    "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4,
    "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11, "ytick.labelsize": 11,
    "legend.fontsize": 11, "legend.title_fontsize": 12,
}  # fmt: skip
# seaborn.axes_style("whitegrid") with font "sans-serif", without "image.cmap": "rocket" (see the module docstring)
_STYLE: dict[str, object] = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8",
    "grid.color": ".8", "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
    "axes.spines.top": True, "xtick.bottom": False, "ytick.left": False,
}  # fmt: skip
# The workbook's own settings on top of seaborn's.
_WORKBOOK: dict[str, object] = {
    "figure.dpi": FIGURE_DPI,
    "savefig.dpi": FIGURE_DPI,
    "figure.figsize": (9, 4),
    "axes.titlesize": "medium",
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _palette(name: str, count: int | None) -> list[tuple[float, float, float]]:
    colours = _PALETTES[name]
    count = len(colours) if count is None else count
    return [to_rgb(colours[i % len(colours)]) for i in range(count)]  # cycles when more are asked, as seaborn does


def accent_colours(count: int | None = None) -> list[tuple[float, float, float]]:
    """``count`` colours of ``ACCENT_PALETTE`` for parts of a chart that are categories, not a series.

    The same RGB triples as ``seaborn.color_palette(ACCENT_PALETTE, count)``: all ten when ``count`` is None, repeated
    from the first when more are asked.
    """
    return _palette(ACCENT_PALETTE, count)


def series_colours(count: int | None = None) -> list[tuple[float, float, float]]:
    """``count`` colours of the theme's colour cycle (``PALETTE``), as ``seaborn.color_palette(PALETTE, count)``."""
    return _palette(PALETTE, count)


def use_report_theme() -> None:
    """Apply the workbook's theme (seaborn's notebook, whitegrid, colorblind look) and make inline figures compact PNGs.

    Call once at the top of a notebook. Works in JupyterLab and under Papermill.
    """
    matplotlib.rcParams.update(_CONTEXT)
    matplotlib.rcParams.update(_STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = cycler("color", series_colours())
    for code, colour in _COLOUR_CODES.items():
        matplotlib.colors.colorConverter.colors[code] = to_rgb(colour)
    matplotlib.rcParams.update(_WORKBOOK)
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png", bbox_inches="tight")
    except ImportError:  # outside IPython there is nothing to configure
        pass
    capture_tables_and_charts()  # tables and charts as data too, for the run's exports (after the formats above)


def small_multiples(count: int, columns: int = 2, height: float = 2.8):
    """A grid of ``count`` axes sharing the x axis; unused cells are hidden."""
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(9, height * rows), sharex=True, squeeze=False)
    flat = axes.ravel()
    for spare in flat[count:]:
        spare.set_visible(False)
    return figure, flat[:count]


def empty_figure(message: str, height: float = 2.0):
    """A chart's place when there is nothing to draw: a small frame that says why, so a report never shows a blank."""
    figure, axis = plt.subplots(figsize=(9, height))
    axis.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color=REFERENCE_COLOUR, wrap=True)
    axis.set_axis_off()
    return figure


def mark_launches(axis, launches, first=None, last=None) -> int:
    """Mark each launch on a time chart: a dashed reference line and a small upright label ("US launch").

    Parameters
    ----------
    axis
        The matplotlib axis of a chart whose x axis holds dates.
    launches
        ``(label, day)`` pairs, e.g. ``[("US", date(2025, 10, 1))]``; missing days (never launched) are skipped.
    first, last
        The span the chart covers; launches outside it are not drawn (None: no bound).

    Returns
    -------
    int
        How many launches were drawn.
    """
    import pandas as pd  # only charts with dates need it, and every such chart has already imported it

    drawn = 0
    for label, day in launches:
        if day is None or pd.isna(day):
            continue
        moment = pd.Timestamp(day)
        if (first is not None and moment < pd.Timestamp(first)) or (last is not None and moment > pd.Timestamp(last)):
            continue
        axis.axvline(moment, color=REFERENCE_COLOUR, ls="--", lw=1)
        axis.annotate(f"{label} launch", (moment, 1), xycoords=("data", "axes fraction"), rotation=90,
                      fontsize=8, color=REFERENCE_COLOUR, va="top", ha="right")  # fmt: skip
        drawn += 1
    return drawn


def error_widths(value, low, high) -> list:
    """Matplotlib's ``xerr``/``yerr`` for intervals ``low``..``high`` around ``value``: distances, never negative.

    An interval that ends at its estimate (a Wilson interval of 100%: upper bound 0.99999999999) would otherwise
    give a width of -1e-14, which matplotlib refuses.
    """
    import numpy as np  # only charts with intervals need it

    value, low, high = (np.asarray(part, dtype=float) for part in (value, low, high))
    return [np.clip(value - low, 0, None), np.clip(high - value, 0, None)]
