"""When a hand gradient differs from ``jax.vjp`` only where the forward is not smooth.

At a kink — a tie in a max-pool window, a ReLU at exactly 0 — more than one derivative is valid,
and the hand and JAX may pick different ones: the hand routes a tied window's gradient to its
first maximum, JAX splits it. ``excuse_kinks`` passes a failing gradient block when every
element that fails sits on a kink, and the hand's gradient could be a generalized gradient.

Splitting the upstream gradient by sign, ``dout = dout⁺ - dout⁻``, makes ``f± = ⟨dout±, F⟩``
convex for the library's kinked layers (max-pool, ReLU, leaky ReLU: each output convex in the
input), and a subgradient ``h±`` of a convex ``f±`` has ``⟨h±, v⟩`` between the one-sided
derivatives of ``f±`` along any ``v``. So the hand's ``h = h⁺ - h⁻`` must lie, element by element,
within the one-sided partial derivatives' ranges of ``f⁺`` less those of ``f⁻``
(``autodiff.core.layers.one_sided``) — an input tied in two overlapping windows whose upstream
gradients differ in sign can be routed either way — and, along the kinked inputs moved together,
within the same range of the directional derivatives: a gradient routed to two tied maxima at
once is counted twice there, though each element alone looks valid.

An element is on a kink when its one-sided partial derivatives differ by more than the
tolerance at both the ``LARGE`` and the ``SMALL`` relative step, by about as much: a smooth
derivative drifts in proportion to the step (1000 times less at ``SMALL``), a jump does not.
The judgement, off the kinks and on their intervals, is ``autodiff.core.compare``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from autodiff.check.layers.report import KINK
from autodiff.core.compare import compare, interval
from autodiff.core.layers import cast, one_sided
from autodiff.core.picture import Elements
from autodiff.core.report import BlockReport

LARGE, SMALL = 1e-9, 1e-12  # relative steps: both far above float64's 1.1e-16


@functools.lru_cache(maxsize=64)
def _compiled_along(forward: Callable):
    """``(right, left)``: the derivative of ``⟨dout, forward(a, *params)⟩`` along ``v`` just
    beyond ``a + step · v`` and ``a - step · v`` (one compiled function per forward)."""
    import jax
    import jax.numpy as jnp

    def sides(a, params, dout, v, step):
        grad = jax.grad(lambda x: jnp.vdot(dout, forward(x, *params)))
        return jnp.vdot(grad(a + step * v), v), jnp.vdot(grad(a - step * v), v)

    return jax.jit(sides)


def _sides(forward: Callable, a, params: tuple, dout) -> tuple[np.ndarray, ...]:
    """``(jumps, gap, low, high)`` of ``⟨dout, forward(a, *params)⟩`` for every element of
    ``a``: whether its one-sided partial derivatives jump (by a similar amount at both steps),
    by how much, and their range, at the ``SMALL`` step, in float64."""
    gaps = []
    for step in (LARGE, SMALL):
        right, left = one_sided(forward, a, params, dout, step)
        gaps.append(np.abs(right - left))
    low, high = interval(right, left)
    return gaps[1] > gaps[0] / 2, gaps[1], low, high


def _direction(a: np.ndarray, on_kink: np.ndarray) -> np.ndarray:
    """Weights in [1, 2) on the kinked elements, 0 elsewhere, the same for equal values: tied
    maxima share a value, so they move together and stay tied, while windows tied at different
    values weigh differently and a gradient counted twice in one is unlikely to cancel another's
    lost."""
    values, rank = np.unique(a[on_kink], return_inverse=True)
    v = np.zeros(a.shape)
    v[on_kink] = 1 + rank.reshape(-1) / len(values)
    return v


def _along(forward: Callable, a, params: tuple, dout, v) -> tuple[float, float]:
    """``(low, high)``: the one-sided derivatives of ``⟨dout, forward(a, *params)⟩`` along
    ``v``, from its gradient just beyond ``a ± step · v``."""
    import jax

    step = SMALL * (1 + float(np.abs(a[v > 0]).max()))
    with jax.enable_x64(True):
        right, left = (float(s) for s in _compiled_along(forward)(
            a, tuple(cast(tuple(params), np.float64)), np.asarray(dout, np.float64), v, step))
    return min(left, right), max(left, right)


def excuse_kinks(block: BlockReport, forward: Callable, a, params: tuple, dout, hand, truth,
                 tol) -> BlockReport:
    """``block`` (a failing gradient of ``a``) passed, noted "at a kink", if it differs from
    ``truth`` only at kinks of ``forward(a, *params)`` and could be a generalized gradient
    there (see the module); else ``block`` unchanged, noted when the kinked inputs moved
    together are what fails. ``tol`` is the per-element tolerance."""
    a = np.asarray(a, np.float64)
    hand, truth = np.asarray(hand, np.float64), np.asarray(truth, np.float64)
    dout = np.asarray(dout, np.float64)
    tol = np.broadcast_to(np.asarray(tol, np.float64), truth.shape)
    failing = compare(hand, truth, tol).failing  # a nan fails
    parts = [np.maximum(dout, 0), np.maximum(-dout, 0)]  # dout = dout⁺ - dout⁻
    plus, minus = (_sides(forward, a, params, part) for part in parts)
    on_kink = (plus[0] & (plus[1] > tol)) | (minus[0] & (minus[1] > tol))
    low, high = plus[2] - minus[3], plus[3] - minus[2]
    if not np.any(failing):
        return block
    judged = compare(hand, truth, tol, kink=failing & on_kink, low=low, high=high)
    if not judged.passed:
        return block
    v = _direction(a, on_kink)
    (low_p, high_p), (low_m, high_m) = (_along(forward, a, params, part, v) for part in parts)
    low_v, high_v = low_p - high_m, high_p - low_m
    slack = float(np.sum(v * tol))
    along = float(np.sum(v * hand))
    if not low_v - slack <= along <= high_v + slack:
        block.note = (f"at {KINK} in {int(on_kink.sum())} input(s), but moving them together "
                      f"the hand's derivative is {along:.6g}, outside [{low_v:.6g}, "
                      f"{high_v:.6g}]: a tied gradient counted more than once, or lost")
        return block
    block.status = "pass"
    block.elements = Elements(block.name, judged.ratio, on_kink)
    block.note = (f"differs from jax.vjp only at {KINK}: {int(failing.sum())} input(s), of "
                  f"{int(on_kink.sum())} on a kink, where the hand's value is a valid "
                  "derivative")
    return block
