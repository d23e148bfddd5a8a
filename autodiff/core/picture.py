"""The one picture of a check: per compared block or argument, its element-wise error over its
tolerance as a heatmap, so a wrong row or column is seen at once.

Every result draws through here (``Rendered.plot``): each of its rows keeps an ``Elements`` —
the per-element ratio the one comparison (``compare``) measured, and the elements on a kink.
Each is drawn as a 2-D grid (a vector as one row, a higher-rank array with its first axis down
and the rest flattened across), coloured by ``log10(error / tolerance)`` floored at ``FLOOR``:
inside the tolerance from white to light blue, outside from pink to dark red (``palette``).
The worst element — where
any error is — gets a square (solid black when outside its tolerance, dashed grey when
inside), every element on a kink a small ``×``. A row with no usable
values (missing, misshapen) is a panel that says so. Panels wrap ``COLUMNS`` to a line. PNG
through matplotlib's Agg canvas, no display needed.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

FLOOR = -8.0  # errors below 1e-8 of their tolerance (exact ones too) share the palest blue
COLUMNS = 4  # panels per line


@dataclass
class Elements:
    """One row's per-element ``ratio`` (error over tolerance; 0 where not compared) and
    ``kinks`` (a mask, or ``None``), both shaped like the compared array; ``ratio`` is ``None``
    where the row had no usable values, and ``note`` says why. ``got`` and ``expected`` are the
    values compared, where a drawing needs them (the network's graph)."""

    name: str
    ratio: np.ndarray | None
    kinks: np.ndarray | None = None
    note: str = ""
    got: np.ndarray | None = None
    expected: np.ndarray | None = None

    @classmethod
    def unusable(cls, name: str, note: str, expected=None) -> Elements:
        return cls(name, None, None, note or "no usable values", expected=expected)

    @property
    def worst(self) -> tuple[int, ...] | None:
        """The index of the largest ratio, ``None`` where no element errs."""
        if self.ratio is None or not self.ratio.size or not np.any(self.ratio > 0):
            return None
        return tuple(int(i) for i in np.unravel_index(int(np.argmax(self.ratio)),
                                                      self.ratio.shape))

    @property
    def failing(self) -> int:
        return 0 if self.ratio is None else int(np.count_nonzero(~(self.ratio <= 1)))


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
    index in the row's own array, ``()`` for a scalar; ``None`` where no element errs or the
    row had no values)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("plot: this result compared no arrays element by element: nothing "
                         "to draw")
    columns = min(len(rows), COLUMNS)
    lines = math.ceil(len(rows) / columns)
    figure = Figure(figsize=(4.0 * columns, 3.4 * lines + (0.4 if title else 0.0)))
    FigureCanvasAgg(figure)
    marked = []
    for place, row in enumerate(rows, start=1):
        axes = figure.add_subplot(lines, columns, place)
        marked.append(_panel(figure, axes, row))
    if title:
        figure.suptitle(textwrap.fill(title, 48 * columns), fontsize=10)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return marked


def shade(ratio: np.ndarray) -> np.ndarray:
    """``log10(ratio)`` as drawn: floored at ``FLOOR`` (0 and tiny ratios), capped at 16."""
    ratio = np.asarray(ratio, np.float64)
    with np.errstate(divide="ignore"):
        logs = np.log10(np.where(ratio > 0, ratio, np.nan))
    return np.clip(np.nan_to_num(logs, nan=FLOOR, posinf=16.0), FLOOR, 16.0)


def palette(high: float):
    """``(colormap, norm)`` of ``shade``'s values up to ``high``: inside the tolerance (below
    0) from white (exact) to a light blue at the tolerance, outside from pink to dark red, so
    the eye goes to what is wrong and never to what is exact."""
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    colours = LinearSegmentedColormap.from_list("agreement", [
        (0.0, "#ffffff"), (0.4999, "#6baed6"), (0.5, "#fc9272"), (1.0, "#67000d")])
    return colours, TwoSlopeNorm(0.0, FLOOR, max(float(high), 1.0))


def plot_named(results: dict, path) -> list[tuple | None]:
    """One picture of several results (``{label: Rendered}``) at ``path``: every row each one
    draws, named ``label: row`` when there are several; the title is each one's verdict."""
    from dataclasses import replace

    drawn = {label: result.pictured() for label, result in results.items()}
    drawn = {label: rows for label, rows in drawn.items() if rows}
    rows = [replace(row, name=f"{label}: {row.name}") if len(drawn) > 1 else row
            for label, rows in drawn.items() for row in rows]
    title = "; ".join(f"{label}: {results[label].headline()}" for label in drawn)
    if len(drawn) == 1:
        only = results[next(iter(drawn))]
        title = f"{only.summary().splitlines()[0]}: {only.headline()}"
    return plot_elements(rows, path, title)


def _panel(figure, axes, row: Elements) -> tuple | None:
    from matplotlib.ticker import MaxNLocator

    if row.ratio is None:
        axes.text(0.5, 0.5, row.note, ha="center", va="center", wrap=True, fontsize=9,
                  color="darkred", transform=axes.transAxes)
        axes.set_axis_off()
        axes.set_title(f"{row.name}: not compared", fontsize=9)
        return None
    shown = grid(shade(row.ratio))
    cmap, norm = palette(shown.max(initial=FLOOR))
    image = axes.imshow(shown, cmap=cmap, aspect="auto", interpolation="nearest", norm=norm)
    figure.colorbar(image, ax=axes, label="log10(error / tolerance)")
    worst = row.worst
    if worst is not None:
        r, c = np.unravel_index(int(np.argmax(grid(row.ratio))), shown.shape)
        axes.add_patch(_square(r, c, outside=not row.ratio[worst] <= 1))
    if row.kinks is not None:
        for r, c in np.argwhere(grid(row.kinks)):
            axes.plot(c, r, marker="x", color="black", markersize=5, linestyle="none")
    axes.set_title(f"{row.name}: {row.failing} of {row.ratio.size} outside", fontsize=9)
    axes.set_xlabel("flattened trailing axes" if row.ratio.ndim > 2 else
                    "index" if row.ratio.ndim < 2 else "axis 1")
    axes.set_ylabel("axis 0" if row.ratio.ndim >= 2 else "")
    for axis, count in ((axes.xaxis, shown.shape[1]), (axes.yaxis, shown.shape[0])):
        if count <= 12:
            axis.set_ticks(range(count))
        else:
            axis.set_major_locator(MaxNLocator(integer=True))
    return worst


def _square(row: int, column: int, outside: bool):
    """The worst element's frame: solid black outside its tolerance, dashed grey inside."""
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False,
                     edgecolor="black" if outside else "dimgrey", linewidth=2,
                     linestyle="-" if outside else "--")
