"""One look for every chart: a seaborn theme, the workbook's colours, and compact embedded images.

Every present module takes its colours from here: the theme's colour cycle (``PALETTE``) for data series, and the
named colours below for fixed roles (bars, highlights, reference lines).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"  # the theme's colour cycle: lines, points and error bars
ACCENT_PALETTE = "deep"  # seaborn palette of fixed-role colours: bars and stacked parts of a whole
BAR_COLOUR = "#4C72B0"  # deep blue: counts per category
SECOND_BAR_COLOUR = "#55A868"  # deep green: a second kind of count (e.g. durations)
HIGHLIGHT_COLOUR = "#8C1C13"  # dark red: annotations that point at a loss
REFERENCE_COLOUR = "grey"  # reference lines such as everyone's rate
FIGURE_DPI = 96  # PNG at screen resolution: sharp enough to read, a few tens of KB each


def accent_colours(count: int | None = None) -> list[tuple[float, float, float]]:
    """``count`` colours of ``ACCENT_PALETTE`` for parts of a chart that are categories, not a series."""
    return sns.color_palette(ACCENT_PALETTE, count)


def use_report_theme() -> None:
    """Apply the workbook's seaborn theme and make inline figures compact PNGs.

    Call once at the top of a notebook. Works in JupyterLab and under Papermill.
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    matplotlib.rcParams.update(
        {
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "figure.figsize": (9, 4),
            "axes.titlesize": "medium",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png", bbox_inches="tight")
    except ImportError:  # outside IPython there is nothing to configure
        pass


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
