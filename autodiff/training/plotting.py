"""Pictures of a training run in the worksheet's colours, on the unit square.

A *curve* is a ``(2, M)`` array: the network's two outputs as its single input runs over
``[0, 1)`` (``network_curve``). The target is green, the curves seen during training are
translucent pink, the final curve is orange. PNG through matplotlib's Agg backend; the
optional GIF goes through matplotlib's pillow writer. Nothing here needs JAX.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference.backprop import forward
from reference.validation import Params

TARGET_GREEN = "#2ca02c"
TRAINING_PINK = "#ff69b4"
FINAL_ORANGE = "#ff7f0e"


def network_curve(params: Params, points: int = 400, activation: str = "logistic") -> np.ndarray:
    """The ``(2, points)`` outputs of a 1-input, 2-output network for inputs evenly on [0, 1)."""
    t = np.arange(points).reshape(1, points) / points
    return forward(params, t, activation)


def _axes(figure, title: str | None):
    axes = figure.add_subplot(1, 1, 1)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_aspect("equal")
    if title:
        axes.set_title(title, fontsize=9)
    return axes


def _closed(curve: np.ndarray) -> np.ndarray:
    """The target traced back to its start; network curves stay open, as computed."""
    return np.concatenate([curve, curve[:, :1]], axis=1)  # the heart is a closed curve


def plot_training(target: np.ndarray, curves: Sequence[np.ndarray], final: np.ndarray,
                  path: str, title: str | None = None, dpi: int = 100) -> str:
    """Write a PNG to ``path``: ``target`` (2, N) green, each of ``curves`` translucent pink,
    ``final`` orange. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 4))
    axes = _axes(figure, title)
    alpha = float(np.clip(8.0 / max(len(curves), 1), 0.1, 0.5))  # many curves stay readable
    for curve in curves:
        axes.plot(*curve, color=TRAINING_PINK, alpha=alpha, linewidth=1)
    axes.plot(*_closed(target), color=TARGET_GREEN, linewidth=2, label="target")
    axes.plot(*final, color=FINAL_ORANGE, linewidth=2, label="network")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path


def animate_training(target: np.ndarray, curves: Sequence[np.ndarray], path: str,
                     labels: Sequence[str] | None = None, fps: int = 10) -> str:
    """Write a GIF to ``path``: one frame per curve (orange) over the green target, the earlier
    curves fading in pink. ``labels`` (one per frame) title the frames. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    if not curves:
        raise ValueError("curves: expected at least one curve to animate, got none")
    figure = Figure(figsize=(3, 3))
    axes = _axes(figure, None)
    axes.plot(*_closed(target), color=TARGET_GREEN, linewidth=2)
    (trail,) = axes.plot([], [], color=TRAINING_PINK, alpha=0.4, linewidth=1)
    (current,) = axes.plot([], [], color=FINAL_ORANGE, linewidth=2)
    title = axes.set_title("", fontsize=8)

    def draw(frame: int):
        if frame > 0:
            trail.set_data(*curves[frame - 1])
        current.set_data(*curves[frame])
        title.set_text(labels[frame] if labels else "")
        return trail, current, title

    animation = FuncAnimation(figure, draw, frames=len(curves), blit=False)
    animation.save(path, writer=PillowWriter(fps=fps), dpi=80)
    return path
