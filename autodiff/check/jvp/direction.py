"""The user's forward along one direction, and the finite-difference scan of it.

``check_jvp`` compares a rule's tangent ``J·t`` with the derivative of ``g(ε) = f(x + ε·t)`` at
``ε = 0`` (every differentiable argument moved along its own tangent at once). ``g`` has one
input, so the scan of ``vjp.kinks`` — one-sided slopes at ``±h`` and ``±h/4`` — costs four
evaluations of the forward for every output element together, and yields the same
``kinks.Scan`` per output, shaped like it: the kinks along ``t`` (a ReLU input at 0 whose
tangent is not 0, a max-pool tie), the interval of valid tangents there (between the one-sided
slopes), the Richardson estimate and its error, and the magnitudes ``vjp.tolerance`` turns into
a rounding bound. Two more evaluations at ``±`` the inputs' own size give the secant (a
saturated unit's small slope is a small difference of large values).

The step is ``h = RESOLUTION · min_i rms(x_i) / rms(t_i)``: every argument moves by about
``RESOLUTION`` of its size, as each element does in the VJP scan.
"""

from __future__ import annotations

import numpy as np

from autodiff.check.vjp.args import Layout, as_outputs, differentiable_outputs
from autodiff.check.vjp.kinks import RESOLUTION, SMOOTH_SLACK, Scan

UNIT_ROUNDOFF_64 = float(np.finfo(np.float64).eps) / 2


def _rms(value) -> float:
    value = np.asarray(value, np.float64)
    return float(np.sqrt(np.mean(value * value))) if value.size else 0.0


class Direction:
    """``g(ε)`` for ``forward`` at ``layout``'s values (float64) along ``tangents`` (a list
    aligned with ``layout.wrt``): ``outputs(ε)`` lists the float outputs (``None`` elsewhere)."""

    def __init__(self, forward, layout: Layout, tangents: list):
        self.forward = forward
        self.layout = layout
        self.tangents = [np.asarray(t, np.float64) for t in tangents]
        self.base = self.outputs(0.0)
        ratios = []
        for position, t in zip(layout.wrt, self.tangents, strict=True):
            size, move = _rms(layout.values[position]), _rms(t)
            if move > 0:
                ratios.append((size if size > 0 else 1.0) / move)
        # The ε at which each argument has moved by about its own size.
        self.scale = min(ratios, default=1.0)

    def outputs(self, epsilon) -> list:
        """The forward's float outputs at ``x + ε·t`` (complex ``ε`` gives complex inputs)."""
        replace = {position: np.asarray(self.layout.values[position], np.float64) + epsilon * t
                   for position, t in zip(self.layout.wrt, self.tangents, strict=True)}
        out, _ = as_outputs(self.forward(*self.layout.call_args(replace, dtype=np.float64)))
        if hasattr(self, "base") and len(out) != len(self.base):
            raise ValueError(f"forward: returned {len(out)} outputs on a perturbed input, "
                             f"{len(self.base)} on the original one")
        carries = differentiable_outputs(out)
        return [o if carry else None for o, carry in zip(out, carries, strict=True)]

    def differences(self, epsilon) -> list:
        """``out_k(x + ε·t) − out_k(x)`` per float output (``None`` elsewhere)."""
        moved = self.outputs(epsilon)
        return [None if b is None else m - b for m, b in zip(moved, self.base, strict=True)]

    def noise(self, slot: int) -> np.ndarray:
        """A bound on the rounding of a difference of output ``slot``, per element."""
        base = self.base[slot]
        return 16 * UNIT_ROUNDOFF_64 * (np.abs(base) + _rms(base))


def _slopes(direction: Direction, step: float) -> tuple[list, list]:
    right = direction.differences(step)
    left = direction.differences(-step)
    return ([None if r is None else r / step for r in right],
            [None if m is None else -m / step for m in left])


def _secants(direction: Direction, right: list, left: list) -> tuple[list, list]:
    """The one-sided slopes over the inputs' own size — or an eighth, a 64th of it where the
    forward refuses the longer move (targets leaving [0, 1]); the ``h/4`` slopes at worst."""
    for share in (1, 1 / 8, 1 / 64):
        try:
            return _slopes(direction, direction.scale * share)
        except (ValueError, ArithmeticError):
            continue
    return right, left


def scan_direction(direction: Direction) -> list[Scan | None]:
    """One ``Scan`` per output (``None`` for the outputs that carry no tangent)."""
    h = RESOLUTION * direction.scale
    (right_h, left_h), (right, left) = _slopes(direction, h), _slopes(direction, h / 4)
    secant_up, secant_down = _secants(direction, right, left)
    scans = []
    for slot, base in enumerate(direction.base):
        if base is None:
            scans.append(None)
            continue
        noise = direction.noise(slot) * 4 / h  # at the h/4 steps, the largest
        gap_h, gap = right_h[slot] - left_h[slot], right[slot] - left[slot]
        low_h, high_h = np.minimum(right_h[slot], left_h[slot]), np.maximum(right_h[slot],
                                                                           left_h[slot])
        low, high = np.minimum(right[slot], left[slot]), np.maximum(right[slot], left[slot])
        width = high - low
        kink = (width > 4 * noise) & (np.abs((high_h - low_h) - width) <= 0.5 * width)
        central_h, central = (right_h[slot] + left_h[slot]) / 2, (right[slot] + left[slot]) / 2
        slack = SMOOTH_SLACK * np.abs(gap_h) + 2 * noise
        clean = ~kink & (np.abs(gap - gap_h / 4) <= slack) & (np.abs(central_h - central)
                                                               <= slack)
        magnitude = np.maximum(np.abs(right[slot]), np.abs(left[slot]))
        secant = np.maximum(np.abs(secant_up[slot]), np.abs(secant_down[slot]))
        shape = np.shape(base)
        scans.append(Scan(
            scanned=np.ones(shape, bool), kink=kink, low=low, high=high,
            interval_error=np.maximum(np.abs(low_h - low), np.abs(high_h - high)) + noise,
            estimate=(16 * central - central_h) / 15,
            estimate_error=np.abs(central_h - central) / 15 + noise + noise / 60,
            clean=clean, magnitude=magnitude,
            curvature=np.where(clean, direction.scale * np.abs(gap_h) / h, 0.0),
            secant=secant,
            # The forward's values per unit ε that moves the inputs by their own size.
            values=np.abs(base) / direction.scale,
            step=np.full(shape, h)))
    return scans
