"""Tolerances for comparing any backward pass with an oracle, derived from rounding.

A correct backward computed in a dtype with unit roundoff ``u`` (``eps / 2``: 1.1e-16 for
float64, 6.0e-8 for float32) differs from the exact ``dout · ∂out/∂x`` by rounding alone. For the
project's own network ``autodiff/core/tolerance.py`` follows every operation; for an arbitrary
forward we cannot, so we bound the error the way a first-order analysis does for any
algorithm built from sums, products and elementwise functions (Higham, *Accuracy and Stability
of Numerical Algorithms*, ch. 3): element ``j`` is off by at most

    k · u · (C_j + F),   C_j = max(Σ_k |dout_k|·|∂out_k/∂x_j|, S_j, V_j) + |x_j|·|∂²φ/∂x_j²|,
                         F = max_j of the first term

* ``Σ_k |dout_k|·|∂out_k/∂x_j|`` is the size of the terms whose sum *is* element ``j`` of the
  gradient (a sum of n terms computed in any order is off by at most ``n·u·Σ|terms|``), and
  ``|x_j|·|∂²φ/∂x_j²|`` the change of the gradient when ``x_j`` itself is rounded.
* ``S_j`` is the same sum with the local slope replaced by the secant from ``x_j`` to 0: a
  backward forms the Jacobian from forward values (``1 − tanh²``, ``σ(1 − σ)``, ``p − 1``) whose
  size is set by how far the output moves over the input's range, and where the unit
  saturates the local slope is a small difference of them, with their absolute error.
* ``V_j = Σ_k |dout_k|·|out_k| / max(|x_j|, rms(x))`` (over the outputs that depend on ``x_j``)
  is those forward values themselves, per unit of the input's size: a confident softmax
  forms ``dout_j − Σ dout·p`` from terms of size ``|dout|``, and its small result carries
  their error. Dividing by the input's size is where the function's own scale (1 for tanh,
  a logit) is unknown; ``k`` covers inputs up to some tens of times it.
  All four come from the finite-difference scan of ``kinks``.
* ``F``, the largest ``Σ_k |dout_k|·|∂out_k/∂x_j|`` over the argument, is a normwise floor: a
  backward forms intermediates of that size and may cancel them (``σ(1 − σ)`` at saturation,
  ``p − 1`` in softmax, batch norm's mean path), leaving an error relative to them rather than
  to the small result.
* ``k = n + SLACK_OPS`` counts the roundings along one path: ``n``, the largest array the pair
  sees (no reduction is longer), plus ``SLACK_OPS`` for chains of elementwise operations —
  transcendental functions are accurate to 1–8 units (measured for XLA's CPU kernels in
  ``autodiff/core/tolerance.py``) and a layer applies a handful.

**Cancellation.** A function that does not change when ``x`` is shifted by a constant along
a set of axes (batch norm along the batch, layer norm and softmax along the features) depends on
``x`` only through differences ``x − m`` (a mean, a max). Forming one rounds ``x`` to ``u·|x|``:
an error of ``u·M/s`` relative to the difference, with ``M`` the largest ``|x|`` of the slice
and ``s`` its spread (the RMS of ``x − mean``) — the condition of ``x − mean``. A mean of ``L``
terms is itself off by ``(L − 1)·u·M``. What the forward keeps (``x̂``, the standard deviation)
carries this error, and the backward multiplies it by terms of size ``Σ_k |dout_k|·|out_k| / s``
(for such a function the scale of the input is its spread, not ``|x|``), which may cancel down
to a small gradient: batch norm of two examples whose spread is near ``√eps``. So an element of
such a slice gets

    X_j = CANCEL_OPS · L · Σ_k |dout_k|·|out_k| · M / s²

added to ``k·(C_j + F)``, for the slice (over every invariant set of axes) where it is largest.
The forward's values then carry a relative error up to ``κ·u``, ``κ = L·M/s`` of the worst
such slice of any argument, and every argument's gradient is formed from them (batch norm's
``dγ = Σ dout·x̂``): each gets ``CANCEL_OPS·κ·(C_j + F)`` more.
The invariance is tested on ``φ`` itself: shifting every slice by a random constant of its own
leaves ``φ`` unchanged within rounding (one evaluation per set of axes). ``X_j`` is about
``L·(M/s)²`` times the terms' size per unit of ``x``: negligible for a well-spread input
(``M/s`` a few). For two examples whose spread is 2% of their size (``M/s`` about 90) it lets
through the 0.1% a correct float32 batch norm is off: ``CANCEL_OPS`` = 4 leaves a margin of 4
over the largest error seen in float32 batch norms (N 2–8, spreads 1e-3–1e-1 of sizes up to
3, two formulations), while a mistake of 0.1% on a well-spread input, or of 10% on that pair,
still fails. Arguments scanned on a sample get no such term (their slices are not seen whole).

The backward in ``dtype`` and the oracle (float64) each get such a bound and the tolerance is
their sum; an oracle with its own error (Ridders' estimate, the spread of JAX in float32) adds
it. These are worst-case bounds — real rounding errors grow like ``√n·u`` and are far smaller —
yet in float64 they sit near ``1e-13`` of the gradient's scale, so a relative error of ``1e-6``
in one element is caught; in float32 near ``1e-5``, far below any real mistake (a factor, a
sign, a transpose, a missing term), while every correct float32 layer we tried passes.
For inputs far beyond a function's own scale in float32 (``tanh`` at 100, logits 100 apart)
a correct float32 backward can still exceed the bound; check such inputs in float64.
"""

from __future__ import annotations

import itertools

import numpy as np

from autodiff.check.vjp.kinks import Scan
from autodiff.check.vjp.probe import Probe

SLACK_OPS = 32
CANCEL_OPS = 4
INVARIANT = 1e-6  # a slice's derivatives sum to zero within this share of their magnitudes
UNIT_ROUNDOFF = {np.dtype(np.float64): float(np.finfo(np.float64).eps) / 2,
                 np.dtype(np.float32): float(np.finfo(np.float32).eps) / 2}


def rounding_count(arrays) -> int:
    """``k``: the largest array's size plus ``SLACK_OPS`` (``arrays`` may hold ``None``)."""
    sizes = [np.size(a) for a in arrays if a is not None]
    return max(sizes, default=1) + SLACK_OPS


def magnitudes(scan: Scan) -> tuple[np.ndarray, float]:
    """``C`` per element and the normwise floor ``F``; unscanned elements get ``C = 0`` (the
    floor stands for them)."""
    magnitude = np.where(scan.scanned, np.maximum.reduce(
        [scan.magnitude, scan.secant, scan.values]), 0.0)
    floor = float(np.max(magnitude, initial=0.0))
    return magnitude + np.where(scan.scanned, scan.curvature, 0.0), floor


def _invariant(probe: Probe, position: int, scan: Scan, axes: tuple) -> bool:
    """Whether ``φ`` is unchanged when every slice over ``axes`` is shifted by a constant of
    its own (random, 1% of the argument's scale): within ``INVARIANT`` of the change such a
    move makes to first order if it were not, plus rounding."""
    x = probe.value(position)
    shape = [1 if a in axes else n for a, n in enumerate(x.shape)]
    shift = np.random.default_rng(len(axes)).standard_normal(shape) * 0.01 * probe.scale(position)
    moved = np.broadcast_to(shift, x.shape)
    first_order = float(np.sum(np.abs(moved) * scan.magnitude))
    differences = probe.differences(position, x + moved)
    change = abs(float(np.real(probe.weigh(differences))))
    return first_order > 0 and change <= INVARIANT * first_order + 4 * probe.noise(differences)


def cancellation(probe: Probe, position: int, scan: Scan) -> tuple[np.ndarray, float]:
    """``(X_j / CANCEL_OPS per element, κ)`` for argument ``position``: 0 where no slice of it
    is shift-invariant, and ``κ`` the largest ``L·M/s`` of its invariant slices (see the module
    docstring)."""
    x = probe.value(position)
    result, condition = np.zeros(x.shape), 0.0
    if x.size < 2 or not np.all(scan.scanned):
        return result, condition
    size = np.maximum(np.abs(x), np.sqrt(np.mean(x * x)))
    terms = scan.values * size  # Σ_k |dout_k|·|out_k| over the outputs x_j moves
    for count in range(1, x.ndim + 1):
        for axes in itertools.combinations(range(x.ndim), count):
            length = int(np.prod([x.shape[a] for a in axes]))
            if length < 2 or not _invariant(probe, position, scan, axes):
                continue
            centred = x - np.mean(x, axis=axes, keepdims=True)
            spread = np.sqrt(np.mean(centred * centred, axis=axes, keepdims=True))
            largest = np.max(np.abs(x), axis=axes, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(spread > 0, length * terms * largest / (spread * spread), 0.0)
                ratio = np.where(spread > 0, length * largest / spread, 0.0)
            result = np.maximum(result, term)
            condition = max(condition, float(np.max(ratio)))
    return result, condition


def rounding_bound(scan: Scan, count: int, dtype, cancelled: np.ndarray | float = 0.0,
                   condition: float = 0.0) -> np.ndarray:
    """How far a correct computation in ``dtype`` may be from the exact gradient, per element;
    ``cancelled`` is the argument's own cancellation term and ``condition`` the largest ``κ``
    of every argument's (``cancellation``)."""
    magnitude, floor = magnitudes(scan)
    magnitude = magnitude + CANCEL_OPS * (cancelled + condition * (magnitude + floor)) / count
    tiny = float(np.finfo(np.dtype(dtype)).tiny)
    return count * UNIT_ROUNDOFF[np.dtype(dtype)] * (magnitude + floor) + tiny
