"""A drawing of a checked network as a graph: where its gradient is wrong, and by how much.

Left, the network: its units as circles, layer by layer (inputs on the left), and an edge for
every weight ``W_l[i, j]``, from unit ``j`` of layer ``l - 1`` to unit ``i`` of layer ``l``.
An edge's colour is how far the manual gradient of that weight is from ``jax.grad``'s, over
its tolerance, in the heatmap's palette (``core.picture``: white to blue inside the tolerance,
red outside); its width is the size of ``jax.grad``'s gradient, and an edge outside its tolerance
is drawn opaque, thick and on top, the others faded. A unit's colour is its bias's agreement
(a thick ring: outside). Right, every weight and bias as a point: ``jax.grad``'s gradient
across, the manual one up, coloured the same, on the diagonal where they agree. The worst
elements outside their tolerance (up to ``LABELLED``; one per block the manual left unusable)
are numbered in both panels and listed under them with both values.

Drawn for networks up to ``MAX_UNITS`` wide (the worksheet's is 1-6-7-2): a wider one is a
thicket of edges, and ``CheckResult.plot``'s heatmaps show it better.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from autodiff.core.picture import FLOOR, palette, shade

MAX_UNITS = 16
LABELLED = 4


@dataclass
class Edge:
    """One drawn parameter: ``block`` ("W2", "b1"), ``index`` in it, the ``manual`` and
    ``automatic`` (``jax.grad``) gradients, their error over tolerance (``ratio``) and the
    RGBA ``colour`` it was drawn in; ``labelled`` when named on the drawing. A block the manual
    returned unusable (missing, misshapen) has ``manual`` NaN, ``ratio`` infinite and a
    ``note`` saying why."""

    block: str
    index: tuple[int, int]
    manual: float
    automatic: float
    ratio: float
    colour: tuple[float, float, float, float]
    note: str = ""
    labelled: bool = False

    @property
    def name(self) -> str:
        return f"{self.block}[{self.index[0]},{self.index[1]}]"


def _edges(result) -> list[Edge]:
    edges = []
    for block in result.blocks:
        elements = block.elements
        if elements is None or elements.expected is None:
            raise ValueError(f"plot_graph: block {block.name} has no jax.grad gradient kept "
                             "to draw")
        expected = np.asarray(elements.expected)
        usable = elements.ratio is not None
        for index in np.ndindex(*expected.shape):
            edges.append(Edge(block.name, tuple(int(i) for i in index),
                              float(np.asarray(elements.got)[index]) if usable else math.nan,
                              float(expected[index]),
                              float(elements.ratio[index]) if usable else math.inf,
                              (0.0, 0.0, 0.0, 0.0), "" if usable else elements.note))
    return edges


def plot_graph(result, path) -> list[Edge]:
    """Draw the network of ``result`` (a ``CheckResult``) into the PNG at ``path`` (see the
    module docstring); returns every weight and bias as drawn, in params order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.figure import Figure

    sizes = list(result.sizes)
    if max(sizes) > MAX_UNITS:
        raise ValueError(f"plot_graph: the graph is drawn for networks up to {MAX_UNITS} "
                         f"units wide, got sizes {'-'.join(map(str, sizes))}; draw its "
                         "blocks' heatmaps with result.plot(path) (backprop check --plot)")
    edges = _edges(result)
    shades = shade(np.array([edge.ratio for edge in edges]))
    cmap, norm = palette(float(shades.max(initial=FLOOR)))
    for edge, value in zip(edges, shades, strict=True):
        edge.colour = tuple(float(c) for c in cmap(norm(value)))
    named = []  # the worst outside their tolerance; one per block the manual left unusable
    for edge in sorted((e for e in edges if not e.ratio <= 1), key=lambda e: -e.ratio):
        if len(named) < LABELLED and not (edge.note and any(n.block == edge.block
                                                            for n in named)):
            edge.labelled = True
            named.append(edge)

    figure = Figure(figsize=(12.0, 6.2))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(bottom=0.27, top=0.88)
    graph, points = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    _draw_network(graph, sizes, edges, named)
    _draw_points(points, edges, named)
    lines = [f"{number}  {_words(edge)}" for number, edge in enumerate(named, start=1)]
    figure.text(0.06, 0.15, "\n".join(lines) or "every weight and bias within its tolerance",
                va="top", fontsize=8, family="monospace")
    figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=[graph, points],
                    label="log10(|manual - jax.grad| / tolerance)")
    figure.suptitle(f"{result.summary().splitlines()[0]}: {result.headline()}", fontsize=10)
    figure.savefig(path, format="png", dpi=100)
    return edges


def _place(sizes: list[int]) -> list[list[tuple[float, float]]]:
    """Each unit's (x, y): layers across, units top to bottom, centred."""
    return [[(float(layer), (n - 1) / 2 - unit) for unit in range(n)]
            for layer, n in enumerate(sizes)]


def _words(edge: Edge) -> str:
    if edge.note:
        return f"{edge.block}: not compared, {textwrap.shorten(edge.note, 90)}"
    return (f"{edge.name}: manual {edge.manual:.10g}, jax.grad {edge.automatic:.10g}, "
            f"{edge.ratio:.2g}x its tolerance apart")


def _draw_network(axes, sizes: list[int], edges: list[Edge], named: list[Edge]) -> None:
    places = _place(sizes)
    largest = max((abs(e.automatic) for e in edges if e.block[0] == "W"), default=0.0) or 1.0
    biases = {}
    for edge in edges:
        layer = int(edge.block[1:])
        if edge.block[0] == "b":
            biases[(layer, edge.index[0])] = edge
            continue
        (x0, y0), (x1, y1) = places[layer - 1][edge.index[1]], places[layer][edge.index[0]]
        outside = not edge.ratio <= 1
        width = 0.6 + 3.4 * abs(edge.automatic) / largest
        axes.plot([x0, x1], [y0, y1], color=edge.colour, zorder=3 if outside else 1,
                  linewidth=max(width, 3.0) if outside else width,
                  alpha=1.0 if outside else 0.45, solid_capstyle="round")
        if edge.labelled:
            _label(axes, (x0 + x1) / 2, (y0 + y1) / 2, named.index(edge) + 1)
    for layer, units in enumerate(places):
        for unit, (x, y) in enumerate(units):
            bias = biases.get((layer, unit))
            face = bias.colour if bias is not None else (0.85, 0.85, 0.85, 1.0)
            outside = bias is not None and not bias.ratio <= 1
            axes.scatter([x], [y], s=260, color=[face], edgecolors="black",
                         linewidths=2.5 if outside else 0.8, zorder=4)
            if bias is not None and bias.labelled:
                _label(axes, x, y, named.index(bias) + 1)
    axes.set_xticks(range(len(sizes)),
                    ["input", *(f"layer {k}" for k in range(1, len(sizes)))])
    axes.set_yticks([])
    axes.set_xlim(-0.4, len(sizes) - 0.4)
    axes.margins(y=0.12)
    axes.set_title("edges: weights; circles: biases (grey: inputs)", fontsize=9)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)


def _label(axes, x: float, y: float, number: int) -> None:
    axes.annotate(str(number), (x, y), xytext=(7, 7), textcoords="offset points", fontsize=8,
                  zorder=5, bbox={"boxstyle": "circle", "facecolor": "white", "alpha": 0.9})


def _draw_points(axes, edges: list[Edge], named: list[Edge]) -> None:
    automatic = np.array([e.automatic for e in edges])
    manual = np.array([e.manual for e in edges])
    finite = np.isfinite(manual)
    outside = np.array([not e.ratio <= 1 for e in edges])
    for chosen, size, zorder in ((finite & ~outside, 22, 3), (finite & outside, 55, 4)):
        axes.scatter(automatic[chosen], manual[chosen], s=size, zorder=zorder,
                     c=[e.colour for e, c in zip(edges, chosen, strict=True) if c],
                     edgecolors="black", linewidths=0.3)
    span = np.concatenate([automatic, manual[finite]])
    low, high = float(span.min(initial=0.0)), float(span.max(initial=0.0))
    pad = 0.05 * (high - low or 1.0)
    axes.plot([low - pad, high + pad], [low - pad, high + pad], color="grey", linewidth=0.8,
              linestyle="--", zorder=1)
    for number, edge in enumerate(named, start=1):
        if np.isfinite(edge.manual):
            axes.annotate(str(number), (edge.automatic, edge.manual), xytext=(6, -10),
                          textcoords="offset points", fontsize=8)
    axes.set_xlabel("jax.grad")
    axes.set_ylabel("manual")
    axes.set_title("every weight and bias: on the diagonal where they agree", fontsize=9)
