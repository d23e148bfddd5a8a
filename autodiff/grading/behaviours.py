"""Diagnoses read from how a failing Jacobian behaves on other inputs, not from one result.

Used when no known formula matches the result (``diagnose``): call the function again on
chosen cases and compare.

* **ignores x (or y)**: the same result for another ``x`` — the function reads a global
  instead of its argument; said more precisely when the result is the Jacobian on the
  worksheet's heart data.
* **σ' approximated**: right (to a millionth) when every ``z`` is near 0, wrong away from
  it — a Taylor polynomial of σ' or a finite difference; or close everywhere (relative error
  below 1e-3) but not within rounding — an approximation such as a finite difference.
"""

from __future__ import annotations

import numpy as np

from autodiff.core.diagnose import Diagnosis
from autodiff.grading.cases import WORKSHEET_BATCH, Case, random_case
from autodiff.grading.judge import Failure
from reference.heart import training_data

# Weights and inputs this small keep every z within about 1e-2 of 0, where σ'(z) = 1/4 - z²/16.
NEAR_ZERO_SCALE = 1e-3
# "Right near 0": a relative error at most this there, and this many times less than away.
NEAR_ZERO_ERROR = 1e-6
NEAR_ZERO_RATIO = 100.0
CLOSE = 1e-3


def close(expected: np.ndarray, got: np.ndarray | None) -> bool:
    """Whether ``got`` is within ``CLOSE`` of ``expected`` relative to its largest element
    (same shape, every element finite)."""
    if got is None or got.shape != expected.shape or not np.isfinite(got).all():
        return False
    scale = float(np.max(np.abs(expected)))
    return scale > 0 and float(np.max(np.abs(got - expected))) < CLOSE * scale


def _relative_error(grader, name: str, case: Case) -> float | None:
    """max |got - expected| / max |expected| of ``name`` on ``case``; 0 when it passes,
    ``None`` when it gives no value."""
    failure = grader.check(name, case)
    if failure is None:
        return 0.0
    if failure.got is None:
        return None
    expected = grader.oracle(case)[0][name[2:]]
    if failure.got.size != expected.size:
        return None
    scale = float(np.max(np.abs(expected)))
    error = float(np.max(np.abs(failure.got.reshape(expected.shape) - expected)))
    return error / scale if scale > 0 else None


def _ignored(grader, name: str, case: Case, failure: Failure, rng) -> list[Diagnosis]:
    found = []
    for argument, other in (
        ("x", Case(case.params, rng.uniform(-1.5, 1.5, case.x.shape), case.y, case.scale)),
        ("y", Case(case.params, case.x, rng.uniform(0, 1, case.y.shape), case.scale)),
    ):
        again = grader.check(name, other)
        if again is not None and again.got is not None and np.array_equal(again.got,
                                                                           failure.got):
            found.append(Diagnosis(f"ignores_{argument}", f"gives the same result whatever "
                                   f"{argument} is: ignores its argument {argument} "
                                   "(uses a global instead?)"))
    if found:
        heart = Case(case.params, *training_data(WORKSHEET_BATCH), case.scale)
        expected, tolerance = grader.oracle(heart)
        right_there = expected[name[2:]]
        if failure.got.shape == right_there.shape and np.all(
                np.abs(failure.got - right_there) <= tolerance[name[2:]]):
            found.append(Diagnosis("worksheet_data", "returns the Jacobian on the "
                                   "worksheet's heart data (x, y = training_data()), not on "
                                   "the x and y it is given"))
    return found


def _approximated(grader, name: str, case: Case, rng) -> list[Diagnosis]:
    n1, n2 = case.widths
    near = random_case(n1, n2, case.batch, rng, scale=NEAR_ZERO_SCALE,
                       x_range=NEAR_ZERO_SCALE)
    away = random_case(n1, n2, case.batch, rng, scale=2.0, x_range=3.0)
    errors = [_relative_error(grader, name, c) for c in (near, case, away)]
    if any(error is None for error in errors):
        return []
    near_error, far_error = errors[0], max(errors[1:])
    if near_error <= NEAR_ZERO_ERROR and far_error > NEAR_ZERO_RATIO * max(near_error, 1e-16):
        return [Diagnosis("sigma_prime_approximated", "right when every z is near 0, wrong "
                          f"away from it (relative error {near_error:.1g} there, "
                          f"{far_error:.1g} away): is σ' approximated, by a Taylor polynomial "
                          "or a finite difference?")]
    if 0 < far_error < CLOSE:
        return [Diagnosis("close_not_equal", "close to the right Jacobian but not within "
                          f"rounding (relative error {far_error:.1g}): an approximation, such "
                          "as a finite difference, or float32 arithmetic?")]
    return []


def diagnose(grader, name: str, case: Case, failure: Failure, rng) -> list[Diagnosis]:
    """Behavioural diagnoses of ``name`` failing on ``case`` with a value ``failure.got``."""
    return _ignored(grader, name, case, failure, rng) or _approximated(grader, name, case, rng)
