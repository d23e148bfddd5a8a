"""Compare one argument's gradient from the backward with its oracle, kinks included.

Element ``j`` passes when ``|got_j − expected_j| ≤ tolerance_j`` or, on a kink, when ``got_j``
lies in the scan's interval of valid derivatives widened by the tolerance and the interval's
own error. If two or more elements sit on kinks and moving them together is smooth (a tie moved
as a whole), their gradients must also sum to that slope. Failing arguments get a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodiff.check.kinks import Scan
from autodiff.check.vjp_diagnose import Context, diagnose_argument
from autodiff.check.vjp_report import ArgumentReport
from autodiff.core.diagnose import Diagnosis


@dataclass
class Opinion:
    """An oracle's gradient of one argument: ``values``, ``checked`` (the elements it computed),
    ``extra`` (its error beyond rounding, per element) and words on how far to trust it."""

    name: str
    values: np.ndarray
    checked: np.ndarray
    extra: np.ndarray
    trust: str
    fallbacks: list = field(default_factory=list)


def _distance(got, opinion: Opinion, scan: Scan, tolerance) -> tuple[np.ndarray, np.ndarray]:
    """``(distance, margin)`` per element: how far ``got`` is from what is valid, and how far it
    may be. On kinks the distance is to the interval; unchecked elements get distance 0."""
    distance = np.abs(got - opinion.values)
    margin = tolerance.copy()
    on_kink = scan.kink & scan.scanned
    outside = np.maximum(np.maximum(scan.low - got, got - scan.high), 0.0)
    distance = np.where(on_kink, outside, distance)
    margin = np.where(on_kink, tolerance + scan.interval_error, margin)
    distance = np.where(opinion.checked, distance, 0.0)
    distance = np.where(np.isfinite(got), distance, np.inf)
    return distance, margin


def compare(name: str, position: int, got, note: str, opinion: Opinion, scan: Scan,
            tolerance: np.ndarray, context: Context, tie=None) -> ArgumentReport:
    """The report of one argument (``got`` is ``None`` or misshapen when the backward's
    gradient was unusable: ``note`` says why). ``tie`` is ``kinks.tie_check``'s result."""
    shape = opinion.values.shape
    kinks = int(np.count_nonzero(scan.kink & scan.scanned))
    base = dict(name=name, position=position, shape=shape, oracle=opinion.name,
                trust=opinion.trust, fallbacks=list(opinion.fallbacks),
                oracle_error=float(np.max(opinion.extra, initial=0.0)),
                kinks=kinks, checked=int(np.count_nonzero(opinion.checked)), note=note,
                scale=float(np.max(np.abs(opinion.values[opinion.checked]), initial=0.0)))
    if got is None or got.shape != shape:
        diagnosis = [] if got is None else diagnose_argument(
            got, opinion.values, tolerance, opinion.checked, None, context)
        return ArgumentReport(status="fail", max_abs_error=np.inf, max_rel_error=np.inf,
                              worst_index=None, got=None, expected=None, tolerance=None,
                              diagnosis=diagnosis, **base)
    distance, margin = _distance(got, opinion, scan, tolerance)
    ratio = distance / margin
    failing = ratio > 1
    worst = np.unravel_index(int(np.argmax(ratio)), shape) if ratio.size else ()
    on_kink = bool(scan.kink[worst] and scan.scanned[worst]) if ratio.size else False
    diagnosis, status = [], "fail" if np.any(failing) else "pass"
    if status == "pass" and tie is not None:
        mask = scan.kink & scan.scanned
        total, (slope, error) = float(np.sum(got[mask])), tie
        allowed = float(np.sum(margin[mask])) + error
        if abs(total - slope) > allowed:
            gap = abs(total - slope)
            return ArgumentReport(
                status="fail", max_abs_error=gap, max_rel_error=gap / max(abs(slope), allowed),
                worst_index=None, got=total, expected=slope, tolerance=allowed,
                diagnosis=[Diagnosis(
                    "tie", f"the gradients at the {kinks} inputs on kinks sum to {total:.6g}, "
                    f"but moving those inputs together changes the output at slope "
                    f"{slope:.6g}: a tie counted twice?")],
                **base)
    elif status == "fail":
        on_kinks = scan.kink & scan.scanned
        if np.all(~failing | on_kinks):
            diagnosis = [Diagnosis("kink", "wrong only at inputs on a kink: the value there "
                                           "must lie between the one-sided derivatives")]
        else:
            held = opinion.checked & ~on_kinks
            diagnosis = diagnose_argument(got, opinion.values, tolerance, held, failing,
                                          context)
    checked = opinion.checked & np.isfinite(got)
    expected_scale = np.maximum(np.abs(opinion.values), tolerance)
    return ArgumentReport(
        status=status,
        max_abs_error=float(np.max(np.where(checked, distance, 0.0), initial=0.0))
        if np.all(np.isfinite(got)) else np.inf,
        max_rel_error=float(np.max(distance / expected_scale, initial=0.0)),
        worst_index=tuple(int(i) for i in worst),
        got=float(got[worst]) if ratio.size else None,
        expected=float(opinion.values[worst]) if ratio.size else None,
        tolerance=float(margin[worst]) if ratio.size else None,
        worst_at_kink=on_kink,
        interval=(float(scan.low[worst]), float(scan.high[worst])) if on_kink else None,
        diagnosis=diagnosis, **base)
