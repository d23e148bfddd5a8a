"""A picture of a check: per row (an output, its tangent) the element-wise error over its
tolerance as a heatmap, so a wrong row or column is seen at once.

Each row's array is drawn as a 2-D grid (a vector as one row, a higher-rank array with its
first axis down and the rest flattened across), coloured by ``log10(error / tolerance)``
(floored at ``FLOOR``): below 0 (inside the tolerance) in blues, above 0 (outside) in reds.
The worst element — where any error is — gets a black square, and every element on a kink a
small ``×``. PNG through matplotlib's Agg canvas, no
display needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR = -8.0  # errors below 1e-8 of their tolerance (exact ones too) share the palest blue


@dataclass
class Elements:
    """One row's per-element ``ratio`` (error over tolerance; 0 where not compared) and
    ``kinks`` (a mask), both shaped like the compared array."""

    name: str
    ratio: np.ndarray
    kinks: np.ndarray


def grid(array: np.ndarray) -> np.ndarray:
    """``array`` as the 2-D grid drawn (see the module docstring)."""
    array = np.asarray(array)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def plot_elements(rows: list[Elements], path, title: str = "") -> list[tuple | None]:
    """Draw ``rows`` into the PNG at ``path``; returns the worst element marked per row (its
    index in the row's own array, ``()`` for a scalar; ``None`` where no element errs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(4.0 * max(len(rows), 1), 3.6))
    FigureCanvasAgg(figure)
    marked = []
    for column, row in enumerate(rows, start=1):
        axes = figure.add_subplot(1, max(len(rows), 1), column)
        with np.errstate(divide="ignore"):
            logs = np.log10(np.where(row.ratio > 0, row.ratio, np.nan))
        shown = grid(np.clip(np.nan_to_num(logs, nan=FLOOR, posinf=16.0), FLOOR, None))
        high = max(float(shown.max()), 1.0)
        image = axes.imshow(shown, cmap="RdBu_r", aspect="auto", interpolation="nearest",
                            norm=TwoSlopeNorm(0.0, FLOOR, high))
        figure.colorbar(image, ax=axes, label="log10(error / tolerance)")
        worst = None
        if row.ratio.size and float(np.max(row.ratio)) > 0:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(row.ratio)),
                                                           row.ratio.shape))
            r, c = np.unravel_index(int(np.argmax(grid(row.ratio))), shown.shape)
            axes.add_patch(_square(r, c))
        for r, c in np.argwhere(grid(row.kinks)):
            axes.plot(c, r, marker="x", color="black", markersize=5, linestyle="none")
        failing = int(np.count_nonzero(row.ratio > 1))
        axes.set_title(f"{row.name}: {failing} of {row.ratio.size} outside", fontsize=9)
        axes.set_xlabel("flattened trailing axes" if row.ratio.ndim > 2 else "axis 1")
        axes.set_ylabel("axis 0")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        marked.append(worst)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return marked


def _square(row: int, column: int):
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black",
                     linewidth=2)
