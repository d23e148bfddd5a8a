"""The opinions ``check_vjp`` compares a backward with: which oracle, validated how.

For each argument the most exact oracle that works is used — ``jax.vjp``, else the complex
step, else Ridders (``oracles``) — and an exact one only after it agrees, element by
element, with the finite-difference scan of ``kinks`` on every smooth element. Ridders is
held to the same scan (``ridders_checked``): its long steps give float64 precision but may
straddle a kink the scan cannot see, a max-pool near-tie. A failure against an exact oracle is
put to Ridders at its worst element (``contradicted``), and in float32 JAX's own float32 error
at the point may widen the tolerance (``Spread``).
"""

from __future__ import annotations

import numpy as np

from autodiff.check.vjp import oracles as vjp_oracles
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.compare import Opinion
from autodiff.check.vjp.kinks import Scan, ridders_steps, scan_argument
from autodiff.check.vjp.probe import Probe
from autodiff.check.vjp.sampling import SCAN_BUDGET, coverage
from autodiff.check.vjp.tolerance import rounding_bound


def _gap(values, scan: Scan, bound, error=0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(gap, over)`` per element: the disagreement of an oracle (with ``error`` of its own)
    with the scan's estimate, and its ratio to what their errors allow (0 off smooth
    elements)."""
    usable = scan.scanned & scan.clean & ~scan.kink
    gap = np.where(usable, np.abs(values - scan.estimate), 0.0)
    allowed = 8 * scan.estimate_error + 4 * bound + 2 * error
    return gap, np.where(usable, gap / allowed, 0.0)


def _worst_gap(values, scan: Scan, bound) -> tuple[float, tuple | None]:
    """The largest disagreement of an exact oracle with the scan's estimate on smooth elements,
    and where it exceeds what the estimate's error allows (``None``: nowhere)."""
    gap, over = _gap(values, scan, bound)
    worst = np.unravel_index(int(np.argmax(over)), over.shape) if over.size else ()
    bad = tuple(int(i) for i in worst) if over.size and over[worst] > 1 else None
    return float(np.max(gap, initial=0.0)), bad


def choose(probe: Probe, position: int, scan: Scan, bound64, jax_found, oracle: str):
    """The most exact opinion that passes validation, or the forced one; raises ValueError when
    a forced oracle cannot be used."""
    reasons = []
    everything = np.ones(scan.kink.shape, bool)
    if oracle in ("auto", "jax"):
        name, values, extra, reason = jax_found
        if values is not None:
            gap, bad = _worst_gap(values, scan, bound64)
            if bad is None:
                return Opinion(name, values, everything, extra,
                               f"exact to rounding; agrees with finite differences element by "
                               f"element (largest gap {gap:.1e})", reasons)
            reason = f"{name} disagrees with finite differences at {bad}"
        reasons.append(reason)
    if oracle in ("auto", "complex-step"):
        try:
            values = vjp_oracles.complex_step(probe, position, scan.scanned)
            gap, bad = _worst_gap(values, scan, bound64)
            if bad is None:
                return Opinion("complex step", values, scan.scanned, np.zeros(values.shape),
                               f"exact to rounding; agrees with finite differences element by "
                               f"element (largest gap {gap:.1e})", reasons)
            reasons.append(f"complex step disagrees with finite differences at {bad} (a "
                           "non-analytic operation: abs, np.var, .real?)")
        except vjp_oracles.OracleUnavailable as error:
            reasons.append(f"complex step: {error}")
    if oracle in ("auto", "ridders"):
        return ridders_opinion(probe, position, scan, bound64, reasons)
    raise ValueError(f"oracle={oracle!r} cannot differentiate this forward: "
                     + "; ".join(reasons))


def scanned_opinion(probe: Probe, position: int, jax_found, oracle: str, got, count: int,
                    dtype, max_elements: int, rng) -> tuple[Scan, np.ndarray, Opinion, np.ndarray]:
    """``(scan, bound64, opinion, tolerance)`` of one argument. Where ``jax.vjp`` answers, the
    scan starts from ``SCAN_BUDGET`` elements and those near a kink, and is widened to the
    elements where the backward's gradient ``got`` disagrees with it (an unforeseen kink shows
    there); should the sample reject ``jax.vjp``, every element is scanned, as for the other
    oracles, which answer only where the scan looked."""
    sampling = jax_found[1] is not None and oracle in ("auto", "jax")
    scan = scan_argument(probe, position, max_elements, rng, SCAN_BUDGET if sampling else None)
    while True:
        bound64 = rounding_bound(scan, count, np.float64)
        opinion = choose(probe, position, scan, bound64, jax_found, oracle)
        tolerance = rounding_bound(scan, count, dtype) + bound64 + opinion.extra
        if not scan.sampled:
            break
        if opinion.name not in vjp_oracles.JAX_NAMES:
            scan = scan_argument(probe, position, max_elements, rng, previous=scan)
            continue
        usable = got is not None and np.shape(got) == opinion.values.shape
        with np.errstate(invalid="ignore"):
            disagree = ~(np.abs(got - opinion.values) <= tolerance) if usable else None
        if disagree is None or not np.any(disagree & ~scan.scanned):
            break
        scan = scan_argument(probe, position, max_elements, rng, 0, disagree, scan)
    opinion.trust += f"; {coverage(scan)}"
    return scan, bound64, opinion, tolerance


def ridders_checked(probe: Probe, position: int, scan: Scan, bound, mask) -> tuple[
        np.ndarray, np.ndarray, int]:
    """``(values, errors, rerun)``: Ridders at the elements in ``mask`` from its usual first
    step, kept where the scan vouches for the result — a smooth element where it agrees with
    the scan's estimate, or one on a kink (compared by its interval, not this value). Elsewhere
    the long steps may have straddled a kink (a near-tie beyond the scan's resolution), and
    Ridders is rerun from ``kinks.ridders_steps``, within what the scan saw (``rerun`` of
    them): rounding weighs more on short steps, and its error estimate says so."""
    values, errors = vjp_oracles.ridders_gradient(probe, position, mask)
    _, over = _gap(values, scan, bound, errors)
    vouched = scan.scanned & ((scan.clean & (over <= 1)) | scan.kink)
    again = mask & ~vouched
    if np.any(again):
        short, short_errors = vjp_oracles.ridders_gradient(probe, position, again,
                                                           ridders_steps(scan))
        values, errors = np.where(again, short, values), np.where(again, short_errors, errors)
    return values, errors, int(np.count_nonzero(again))


def ridders_opinion(probe: Probe, position: int, scan: Scan, bound, reasons: list[str]) -> Opinion:
    values, errors, rerun = ridders_checked(probe, position, scan, bound, scan.scanned)
    scale = float(np.max(np.abs(values), initial=0.0))
    relative = float(np.max(errors, initial=0.0)) / scale if scale > 0 else np.inf
    near = (f"; {rerun} element(s) near a kink, from steps within the kink scan's"
            if rerun else "")
    return Opinion("ridders", values, scan.scanned, 2 * errors,
                   f"central differences extrapolated by Ridders' method: estimated error "
                   f"≤ {np.max(errors, initial=0.0):.1e} ({relative:.1e} of the gradient's largest "
                   f"element){near}", reasons)


def from_jax(forward, layout: Layout, douts, reference, oracle: str):
    """``[(name, values, extra, reason)]`` per differentiable argument from ``jax.vjp``."""
    count = len(layout.wrt)
    if oracle not in ("auto", "jax"):
        return [(None, None, None, "")] * count
    try:
        name, grads = vjp_oracles.jax_gradients(forward, layout, douts, reference)
    except vjp_oracles.OracleUnavailable as error:
        return [(None, None, None, str(error))] * count
    return [(name, g, np.zeros(g.shape), "") for g in grads]


def _jax_float32_spread(forward, layout: Layout, douts, reference) -> list | None:
    """Twice JAX's own float32 error at this point, per argument: how far an independent
    correct float32 computation strays here (saturated units, cancellations), or ``None``."""
    try:
        _, grads64 = vjp_oracles.jax_gradients(forward, layout, douts, reference)
        _, grads32 = vjp_oracles.jax_gradients(forward, layout, douts, reference, np.float32)
    except vjp_oracles.OracleUnavailable:
        return None
    return [2 * np.abs(g32 - g) for g32, g in zip(grads32, grads64, strict=True)]


def contradicted(probe, position, scan: Scan, bound, got, opinion: Opinion, report,
                 tolerance) -> bool:
    """Whether Ridders, at the worst element of a failure against an exact oracle, sides with
    the backward against the oracle (else the failure is confirmed, and ``trust`` says so)."""
    if report.passed or report.worst_index is None or report.worst_at_kink or got is None:
        return False
    if got.shape != opinion.values.shape or opinion.name == "ridders":
        return False
    mask = np.zeros(got.shape, bool)
    mask[report.worst_index] = True
    values, errors, _ = ridders_checked(probe, position, scan, bound, mask)
    j = report.worst_index
    allowed = 2 * errors[j] + tolerance[j]
    if abs(values[j] - got[j]) <= allowed < abs(values[j] - opinion.values[j]):
        return True
    opinion.trust += f"; Ridders confirms the value expected at {j} ({values[j]:.6g})"
    return False


class Spread:
    """JAX's own float32 error, computed once and only when a float32 check needs it."""

    def __init__(self, forward, layout, douts, reference):
        self.arguments = (forward, layout, douts, reference)
        self.spreads: list | None = None
        self.done = False

    def of(self, slot: int):
        if not self.done:
            self.spreads, self.done = _jax_float32_spread(*self.arguments), True
        return None if self.spreads is None else self.spreads[slot]
