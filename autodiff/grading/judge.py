"""One call's verdict: does the returned array equal the expected Jacobian, shape and values?

The shape must match exactly (``(n, 1)`` is not ``(n,)``), every element must be finite where
the expected one is, and ``|got - expected| <= tolerance`` element by element (the tolerance
is derived in ``core.worksheet_oracle.tolerance``; the judgement is ``core.compare``'s). A
failure keeps the element where the error is largest relative to its tolerance. Two different
answers to the same input are ``nondeterministic``, whichever of them is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.core.compare import compare
from autodiff.grading.confinement.sandbox import Outcome


@dataclass
class Failure:
    """Why a call failed: ``kind`` is the outcome's status (``raised``, ``timeout`` …) or
    ``shape``, ``non_finite``, ``value``, ``nondeterministic``; ``worst`` holds the worst
    element for values; ``first`` the earlier answer of a nondeterministic function."""

    kind: str
    reason: str
    got: np.ndarray | None = None
    worst: dict | None = None
    first: np.ndarray | None = None


def judge(outcome: Outcome, expected: np.ndarray, tolerance: np.ndarray) -> Failure | None:
    """None when ``outcome`` is a correct Jacobian, a ``Failure`` saying why otherwise."""
    if outcome.status != "value":
        return Failure(outcome.status, outcome.message)
    got = outcome.value
    note = "" if outcome.dtype in (None, "float64") else f" (returned dtype {outcome.dtype})"
    if got.shape != expected.shape:
        return Failure("shape", f"returned shape {got.shape}, expected {expected.shape}{note}",
                       got)
    judged = compare(got, expected, tolerance)  # a NaN or an infinity anywhere fails
    if judged.passed:
        return None
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Failure("non_finite", f"returned {got[index]} at index {list(index)}{note}", got,
                       _element(index, expected, got, tolerance))
    index = judged.worst
    worst = _element(index, expected, got, tolerance)
    return Failure("value", f"wrong values (worst at index {list(index)}){note}", got, worst)


def _element(index, expected, got, tolerance) -> dict:
    return {"index": list(index), "expected": float(expected[index]), "got": float(got[index]),
            "error": float(abs(got[index] - expected[index])),
            "tolerance": float(tolerance[index])}


def _answer(outcome: Outcome) -> str:
    if outcome.status == "value":
        return f"returned an array of shape {outcome.value.shape}"
    return outcome.message or outcome.status


def nondeterministic(first: Outcome, second: Outcome, expected: np.ndarray,
                     tolerance: np.ndarray) -> Failure:
    """The verdict on a function that answered one input twice, differently: both answers,
    at the element where they differ most when both are arrays of one shape."""
    if (first.status == second.status == "value" and first.value.shape == second.value.shape
            and first.value.shape == expected.shape):
        gap = np.abs(np.nan_to_num(first.value - second.value, nan=np.inf))
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))
        worst = _element(index, expected, second.value, tolerance)
        worst["first"] = float(first.value[index])
        reason = (f"answers the same input differently: at index {list(index)} first "
                  f"{worst['first']:.17g}, then {worst['got']:.17g}")
        return Failure("nondeterministic", reason, second.value, worst, first.value)
    reason = (f"answers the same input differently: first {_answer(first)}, "
              f"then {_answer(second)}")
    return Failure("nondeterministic", reason, second.value, None, first.value)
