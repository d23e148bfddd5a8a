"""``check_vjp``'s side of ``autodiff.check.precision``: a backward failing against an exact
oracle judged again, with its gradient's sensitivity to rounding its inputs and ``dout``, and
with the backward rerun one precision up; and, failing against ``jax.vjp``, the oracle's own
program rerun one precision up (``oracle_extended``). Computed once per check, only when
needed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autodiff.check import precision
from autodiff.check.vjp import oracles as vjp_oracles
from autodiff.check.vjp.args import Layout, as_gradients, dout_copy
from autodiff.check.vjp.compare import Opinion
from autodiff.check.vjp.kinks import Scan
from autodiff.check.vjp.probe import Probe
from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF, magnitudes

EXACT = (*vjp_oracles.JAX_NAMES, "complex step")


class Rerun:
    """The oracle's gradients at moved inputs and the backward's one precision up, for every
    argument of one check, each computed on first use."""

    def __init__(self, forward, backward, layout: Layout, douts: list, is_tuple: bool, rng):
        self.forward, self.backward, self.layout = forward, backward, layout
        self.douts, self.is_tuple, self.rng = douts, is_tuple, rng
        self.changes: dict = {}
        self.higher: list | None = None
        self.tried = False
        self.extended: dict = {}

    def _ask(self, name: str):
        def ask(values, douts):
            moved = replace(self.layout, values=values)
            try:
                probe = Probe(self.forward, moved, douts)
                if name in vjp_oracles.JAX_NAMES:  # held to the forward at the moved point
                    reference = [o for o in probe.base if o is not None]
                    return vjp_oracles.jax_gradients(self.forward, moved, douts, reference)[1]
                return [vjp_oracles.complex_step(probe, p, np.ones(np.shape(values[p]), bool))
                        for p in moved.wrt]
            except (vjp_oracles.OracleUnavailable, ValueError, ArithmeticError):
                return None  # the oracle does not answer at the moved point
        return ask

    def sensitivity(self, slot: int, opinion: Opinion, kink: np.ndarray,
                    terms: float) -> np.ndarray | None:
        """``SENSITIVITY_SLACK`` times the largest change of the oracle's gradient of argument
        ``slot`` when the inputs and ``dout`` move by ``u``, or ``None``. Elements on a
        scanned ``kink`` get none; a change above ``√u`` of the gradient's scale (or of
        ``terms``) elsewhere is a kink the scan did not see, not rounding: then none at all."""
        if opinion.name not in self.changes:
            self.changes[opinion.name] = precision.sensitivity(
                self._ask(opinion.name), self.layout, self.douts, self.rng)
        changes = self.changes[opinion.name]
        if changes is None or changes[slot] is None:
            return None
        change = np.where(kink, 0.0, changes[slot])
        scale = max(float(np.max(np.abs(opinion.values), initial=0.0)), terms)
        if np.any(change > np.sqrt(UNIT_ROUNDOFF[np.dtype(self.layout.dtype)]) * scale):
            return None
        return precision.SENSITIVITY_SLACK * change

    def oracle_extended(self, slot: int, name: str) -> np.ndarray | None:
        """The JAX oracle ``name``'s gradient of argument ``slot`` by its own program run in
        ``longdouble`` (``oracles.jax_extended``), or ``None``."""
        if name not in self.extended:
            self.extended[name] = vjp_oracles.jax_extended(self.forward, self.layout,
                                                           self.douts, name)
        values = self.extended[name]
        if values is None or values[slot].shape != np.shape(
                self.layout.values[self.layout.wrt[slot]]):
            return None
        return values[slot]

    def raised(self, slot: int) -> np.ndarray | None:
        """The backward's gradient of argument ``slot`` (float64) with its inputs and ``dout``
        cast one precision up, or ``None`` where there is none or the backward fails there."""
        if not self.tried:
            self.tried = True
            up = precision.raised(self.layout, self.douts)
            if up is not None:
                layout, douts = up
                try:
                    returned = self.backward(dout_copy(douts, self.is_tuple),
                                             *layout.call_args())
                    self.higher = as_gradients(returned, layout)[0]
                except Exception:  # the backward cannot run in that precision: no verdict
                    self.higher = None
        return None if self.higher is None else self.higher[slot]


def judged_again(rerun: Rerun, slot: int, report, judge, got, opinion: Opinion, scan: Scan,
                 bound64, tolerance):
    """``(report, tolerance)`` of a failing argument judged again: the tolerance widened by
    the gradient's sensitivity to its inputs' rounding and, if it still fails, by the
    backward's own rounding where one precision up it agrees with the oracle within the
    oracle's float64 bound and strays from itself by at most ``√u`` of the size of the terms
    its gradient sums (``tolerance.magnitudes``) or of the gradient. ``judge(got, tolerance)``
    compares."""
    if report.passed or opinion.name not in EXACT:
        return report, tolerance
    trust, terms, kink = report.trust, magnitudes(scan)[1], scan.kink & scan.scanned
    widened = rerun.sensitivity(slot, opinion, kink, terms)
    if widened is not None:
        tolerance = tolerance + widened
        trust += "; tolerance widened by the gradient's sensitivity to rounding its inputs"
        report = judge(got, tolerance)
    higher = None if report.passed or got is None else rerun.raised(slot)
    if higher is not None and higher.shape == got.shape and precision.within_noise(
            got, higher, rerun.layout.dtype, terms):
        # One precision up the backward's own rounding is u_up/u of its float64 bound (1/2048
        # for longdouble): what is left to allow is the oracle's.
        formula = bound64 + opinion.extra + (0.0 if widened is None else widened)
        if judge(higher, formula).passed:
            tolerance = tolerance + 2 * np.abs(got - higher)
            up = precision.RAISED[np.dtype(rerun.layout.dtype)]
            up = "longdouble" if up is np.longdouble else np.dtype(up).name
            trust += (f"; the backward rerun in {up} agrees with {opinion.name}: the gap is "
                      f"its own {rerun.layout.dtype.name} rounding (up to "
                      f"{float(np.max(np.abs(got - higher), initial=0.0)):.1e}), allowed")
            report = judge(got, tolerance)
    report.trust = trust
    return report, tolerance
