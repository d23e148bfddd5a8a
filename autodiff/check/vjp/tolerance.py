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

import numpy as np

from autodiff.check.vjp.kinks import Scan

SLACK_OPS = 32
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


def rounding_bound(scan: Scan, count: int, dtype) -> np.ndarray:
    """How far a correct computation in ``dtype`` may be from the exact gradient, per element."""
    magnitude, floor = magnitudes(scan)
    tiny = float(np.finfo(np.dtype(dtype)).tiny)
    return count * UNIT_ROUNDOFF[np.dtype(dtype)] * (magnitude + floor) + tiny
