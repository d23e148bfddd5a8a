"""``backprop check --plot FILE`` and ``--graph FILE``: pictures of a check.

Where a picture goes is checked before any work (``core.arguments.picture_path``: an existing
folder, a PNG name); it is drawn after the table or JSON is printed, so a picture that cannot
be written still leaves the verdict on the screen, and the file drawn is named on stderr
(stdout keeps the table or the JSON alone).
"""

from __future__ import annotations

import sys

from autodiff.cli import UsageError


def plot_path(flag: str, path: str) -> str:
    """``path`` checked for ``flag`` (a folder gets ``check.png`` in it)."""
    from autodiff.core.arguments import picture_path

    return picture_path(flag, path, "check.png" if flag == "--plot" else "graph.png", {"png"})


def draw(results: dict, path: str) -> None:
    """Every row of ``results`` (``{label: result}``) into one heatmap picture at ``path``."""
    from autodiff.core.picture import plot_named

    _drawn("--plot", path, lambda: plot_named(results, path))


def draw_graph(result, path: str) -> None:
    """The network of ``result`` (a ``CheckResult``) as a graph at ``path``."""
    from autodiff.check.graph import plot_graph

    _drawn("--graph", path, lambda: plot_graph(result, path))


def _drawn(flag: str, path: str, drawing) -> None:
    try:
        drawing()
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write it ({error.strerror or error})"
                         ) from None
    except ValueError as error:
        raise UsageError(f"{flag}: {error}") from None
    print(f"backprop check: drew {path}", file=sys.stderr)
