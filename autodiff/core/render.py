"""What every check's result shares in print: aligned table rows, numbers, JSON-safe floats, and
a one-line ``repr``.

Each result type (``core.report.CheckResult`` for the network, ``check.vjp.report.VJPResult``
for any backward pass, ``check.layers.report.LayerResult``/``StackResult`` for the layer
library) has ``passed``, ``table()`` (the full report, for a person) and ``to_dict()`` (the
same, JSON-ready, written by ``document`` from the fields it declares); its rows are built
here, and its ``repr`` is ``short`` — one line that a
bare ``assert result`` or a debugger shows whole: the verdict, the worst row and how far it is
from its tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np


def finite_or_none(value):
    """``value`` as a float, or ``None`` where it is missing or not finite (JSON has no inf)."""
    return None if value is None or not math.isfinite(value) else float(value)


def json_safe(value):
    """``value`` as JSON: a result by its own ``to_dict()``, a named tuple (a diagnosis) as an
    object of its fields, floats through ``finite_or_none``, arrays, tuples and lists as lists,
    dicts value by value; strings, ``None`` and integers as they are."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite_or_none(value)
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: json_safe(item) for name, item in zip(value._fields, value, strict=True)}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return value


Field = str | tuple[str, str] | tuple[str, Callable]


def document(result, fields: Sequence[Field]) -> dict:
    """The JSON document of ``result``: for each field in order, ``"name"`` is that attribute
    under its own name, ``(key, "name")`` the attribute under another key and ``(key, f)`` the
    value ``f(result)``; every value goes through ``json_safe``."""
    out = {}
    for field in fields:
        key, source = (field, field) if isinstance(field, str) else field
        out[key] = json_safe(source(result) if callable(source) else getattr(result, source))
    return out


def number(value) -> str:
    """A table cell: ``-`` for a missing value, else three significant digits."""
    return "-" if value is None else f"{value:.3e}"


def index(worst) -> str:
    """A worst element's index as a cell (``-`` when there is none, ``()`` for a scalar)."""
    return "-" if worst is None else ",".join(map(str, worst)) or "()"


def aligned(rows: list[tuple]) -> list[str]:
    """The rows (the header first) as lines, every column padded to its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def ratio(error, tolerance) -> float:
    """``error / tolerance`` at a worst element: ``inf`` where there is no value to compare
    (a missing or misshapen gradient), 0 where both are 0."""
    if error is None or tolerance is None or not math.isfinite(error):
        return math.inf
    if tolerance <= 0:
        return 0.0 if error == 0 else math.inf
    return error / tolerance


def short(kind: str, verdict: str, worst: str | None, excess: float | None) -> str:
    """``Kind(VERDICT, worst NAME at R × its tolerance)`` in one line."""
    if worst is None:
        return f"{kind}({verdict})"
    shown = "no value" if excess is None or not math.isfinite(excess) else f"{excess:.3g}"
    return f"{kind}({verdict}, worst {worst}: error {shown} × its tolerance)"


def worst_of(rows) -> tuple[str | None, float | None]:
    """``(name, ratio)`` of the row furthest outside its tolerance among ``(name, ratio)``
    pairs (``(None, None)`` for none)."""
    rows = list(rows)
    if not rows:
        return None, None
    return max(rows, key=lambda row: row[1])


class Rendered:
    """The one renderer of a check's result. A result says what it is — ``summary()`` (its
    first lines), ``columns`` and ``rows()`` (one row per compared block or argument, cells as
    text), ``details()`` (the lines under the table), ``headline()`` (its verdict in a word or
    two) and ``worst()`` (``(name, error over tolerance)`` of its worst row) — and this class
    prints it: ``table()`` for a person, ``repr`` in one line, ``plot(path)`` as a picture of
    the rows it lists in ``pictured()``. ``to_dict()`` is ``document`` of the fields each
    result declares. Dataclasses using it set ``repr=False``."""

    columns: tuple = ()

    def summary(self) -> str:
        raise NotImplementedError

    def rows(self) -> list[tuple]:
        raise NotImplementedError

    def details(self) -> list[str]:
        return []

    def headline(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def worst(self) -> tuple[str | None, float | None]:
        return None, None

    def pictured(self) -> list:
        """Each compared row's ``picture.Elements``, in order, for ``plot`` (none here)."""
        return []

    def plot(self, path) -> list[tuple | None]:
        """A PNG at ``path`` of every compared row's element-wise error over its tolerance
        (``autodiff.core.picture``), the worst element and kinks marked; returns the worst
        element per row (``None`` where none errs)."""
        from autodiff.core.picture import plot_named

        return plot_named({"": self}, path)

    def table(self) -> str:
        return "\n".join([self.summary(), "", *aligned([self.columns, *self.rows()]),
                          *self.details()])

    def __repr__(self) -> str:
        return short(type(self).__name__, self.headline(), *self.worst())
