"""One look for every chart: a seaborn theme and compact embedded images that keep reports lean."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = "colorblind"
FIGURE_DPI = 96  # PNG at screen resolution: sharp enough to read, a few tens of KB each


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
