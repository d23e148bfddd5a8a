"""The user's forward as a scalar function of one argument, for the numerical opinions.

``check_vjp`` compares ``backward(dout, *args)`` with ``dout · ∂out/∂args``. For one argument
``x`` that is the gradient of ``φ(x) = Σ_k dout_k · out_k(…, x, …)``, so every numerical
opinion (finite differences, the complex step) only ever needs ``φ``. ``Probe`` evaluates it in
float64 — or complex128 — at the checked point, on fresh copies of the arguments. Differences
``φ(x + t·v) − φ(x)`` are formed output by output before the weighted sum, so outputs that do not
depend on ``x`` contribute exact zeros rather than the rounding of the whole sum.
"""

from __future__ import annotations

import numpy as np

from autodiff.check.vjp.args import Layout, as_outputs, differentiable_outputs

UNIT_ROUNDOFF_64 = float(np.finfo(np.float64).eps) / 2


class Probe:
    """``φ`` of each differentiable argument of ``forward`` at ``layout``'s values (as float64),
    weighted by ``douts`` (a list aligned with the outputs, ``None`` for non-float ones)."""

    def __init__(self, forward, layout: Layout, douts: list):
        self.forward = forward
        self.layout = layout
        self.douts = [None if d is None else np.asarray(d, np.float64) for d in douts]
        self.base = self.outputs(None, None)
        self.calls = 0
        # The outputs' size, once: ``noise`` runs for every step of the scan.
        total = 0.0
        for d, base in zip(self.douts, self.base, strict=True):
            if d is not None:
                rms = float(np.sqrt(np.mean(np.abs(base) ** 2))) if base.size else 0.0
                total += float(np.sum(np.abs(d) * (np.abs(base) + rms)))
        self._noise = 16 * UNIT_ROUNDOFF_64 * total

    def outputs(self, position: int | None, value) -> list:
        """The float outputs (list aligned with ``douts``) with argument ``position`` replaced
        by ``value``; other differentiable arguments are taken in float64."""
        replace = {} if position is None else {position: value}
        out, _ = as_outputs(self.forward(*self.layout.call_args(replace, dtype=np.float64)))
        if len(out) != len(self.douts):
            raise ValueError(f"forward: returned {len(out)} outputs on a perturbed input, "
                             f"{len(self.douts)} on the original one")
        carries = differentiable_outputs(out)
        return [o if carry else None for o, carry in zip(out, carries, strict=True)]

    def value(self, position: int) -> np.ndarray:
        return np.asarray(self.layout.values[position], np.float64)

    def scale(self, position: int) -> float:
        """A typical magnitude of argument ``position`` (its RMS; of all arguments if zero)."""
        for values in ([self.value(position)],
                       [self.value(i) for i in self.layout.wrt]):
            flat = np.concatenate([v.ravel() for v in values])
            rms = float(np.sqrt(np.mean(flat * flat))) if flat.size else 0.0
            if rms > 0 and np.isfinite(rms):
                return rms
        return 1.0

    def differences(self, position: int, value) -> list:
        """``out_k(value) − out_k(x)`` for each float output (``None`` elsewhere)."""
        self.calls += 1
        moved = self.outputs(position, value)
        return [None if d is None else m - b
                for d, m, b in zip(self.douts, moved, self.base, strict=True)]

    def weigh(self, differences: list) -> float:
        """``Σ_k dout_k · difference_k`` (complex where the differences are)."""
        return sum(np.sum(d * diff) for d, diff in zip(self.douts, differences, strict=True)
                   if d is not None)

    def dphi(self, position: int, value) -> float:
        """``φ(value) − φ(x)`` for argument ``position``."""
        return float(np.real(self.weigh(self.differences(position, value))))

    def noise(self, differences: list) -> float:
        """A bound on the rounding in ``weigh(differences)``: every output known to a few
        units of roundoff of its magnitude (or of the output's RMS, if larger). Outputs that did
        not move count too — a change below their resolution reads as none. (It depends on
        the base outputs only.)"""
        return self._noise
