"""Compare one argument's gradient from the backward with its oracle, kinks included.

The judgement is ``autodiff.core.compare``'s, with the scan's kink intervals and ties: element
``j`` passes when ``|got_j − expected_j| ≤ tolerance_j`` or, on a kink, when ``got_j`` lies in
the scan's interval of valid derivatives widened by the tolerance and the interval's own error;
tied elements' gradients must also sum to a value in the range found by moving them together.
This module words the verdict for ``check_vjp``; failing arguments get a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodiff.check.vjp.diagnose import Context, diagnose_argument
from autodiff.check.vjp.kinks import Scan
from autodiff.check.vjp.report import ArgumentReport
from autodiff.core.compare import compare as judge
from autodiff.core.compare import tie_gap
from autodiff.core.diagnose import Diagnosis
from autodiff.core.picture import Elements


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


def compare(name: str, position: int, got, note: str, opinion: Opinion, scan: Scan,
            tolerance: np.ndarray, context: Context, ties=()) -> ArgumentReport:
    """The report of one argument (``got`` is ``None`` or misshapen when the backward's
    gradient was unusable: ``note`` says why). ``ties`` are ``ties.tie_check``'s."""
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
        why = note or ("no gradient returned" if got is None else
                       f"shape {got.shape}, expected {shape}")
        return ArgumentReport(status="fail", max_abs_error=np.inf, max_rel_error=np.inf,
                              worst_index=None, got=None, expected=None, tolerance=None,
                              diagnosis=diagnosis, elements=Elements.unusable(name, why),
                              **base)
    on_kinks = scan.kink & scan.scanned
    judged = judge(got, opinion.values, tolerance, kink=on_kinks, low=scan.low, high=scan.high,
                   interval_error=scan.interval_error, checked=opinion.checked)
    distance, margin, ratio, failing = (judged.distance, judged.margin, judged.ratio,
                                        judged.failing)
    worst = judged.worst if judged.worst is not None else ()
    base["elements"] = Elements(name, ratio, on_kinks)
    on_kink = bool(on_kinks[worst]) if ratio.size else False
    diagnosis, status = [], "pass" if judged.passed else "fail"
    for tie in ties if status == "pass" else ():
        gap, allowed, total = tie_gap(got, tie.mask, tie.low, tie.high, margin, tie.error)
        if gap > allowed:
            where = np.argwhere(tie.mask)
            named = ", ".join(str(tuple(int(i) for i in w)) for w in where[:3])
            named += ", …" if len(where) > 3 else ""
            expected = tie.low if total < tie.low else tie.high
            valid = (f"at slope {expected:.6g}" if tie.high - tie.low <= tie.error else
                     f"at a slope between {tie.low:.6g} and {tie.high:.6g}")
            return ArgumentReport(
                status="fail", max_abs_error=gap, max_rel_error=gap / max(abs(expected), allowed),
                worst_index=None, got=total, expected=expected, tolerance=allowed,
                diagnosis=[Diagnosis(
                    "tie", f"the gradients at the {len(where)} tied inputs {named} sum to "
                    f"{total:.6g}, but moving them together changes the output {valid}: a tie "
                    "counted twice?")],
                **base)
    if status == "fail":
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
