"""One call's verdict: does the returned array equal the expected Jacobian, shape and values?

The shape must match exactly (``(n, 1)`` is not ``(n,)``), every element must be finite where
the expected one is, and ``|got - expected| <= tolerance`` element by element (the tolerance
is derived in ``expected.tolerance``). A failure keeps the element where the error is largest
relative to its tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.grading.sandbox import Outcome


@dataclass
class Failure:
    """Why a call failed: ``kind`` is the outcome's status (``raised``, ``timeout`` …) or
    ``shape``, ``non_finite``, ``value``; ``worst`` holds the worst element for values."""

    kind: str
    reason: str
    got: np.ndarray | None = None
    worst: dict | None = None


def judge(outcome: Outcome, expected: np.ndarray, tolerance: np.ndarray) -> Failure | None:
    """None when ``outcome`` is a correct Jacobian, a ``Failure`` saying why otherwise."""
    if outcome.status != "value":
        return Failure(outcome.status, outcome.message)
    got = outcome.value
    note = "" if outcome.dtype in (None, "float64") else f" (returned dtype {outcome.dtype})"
    if got.shape != expected.shape:
        return Failure("shape", f"returned shape {got.shape}, expected {expected.shape}{note}",
                       got)
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Failure("non_finite", f"returned {got[index]} at index {list(index)}{note}", got,
                       _element(index, expected, got, tolerance))
    error = np.abs(got - expected)
    if np.all(error <= tolerance):
        return None
    index = np.unravel_index(int(np.argmax(error / tolerance)), error.shape)
    index = tuple(int(i) for i in index)
    worst = _element(index, expected, got, tolerance)
    return Failure("value", f"wrong values (worst at index {list(index)}){note}", got, worst)


def _element(index, expected, got, tolerance) -> dict:
    return {"index": list(index), "expected": float(expected[index]), "got": float(got[index]),
            "error": float(abs(got[index] - expected[index])),
            "tolerance": float(tolerance[index])}
