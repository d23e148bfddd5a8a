"""Tolerances for comparing two gradients, derived from the dtype's rounding and the network.

A gradient computed in floating point differs from the exact one by rounding alone. We bound
that difference element by element with a first-order running-error analysis of the forward
and backward passes, in the spirit of Higham's γₙ ≈ n·u bounds, where ``u = eps / 2`` is the
dtype's unit roundoff:

* a sum of n products ``Σ pᵢ`` computed in any order is off by at most ``n·u·Σ|pᵢ|``;
* ``exp``, ``tanh`` and the logistic built on them are accurate to ``ACTIVATION_ULPS`` units
  of roundoff beyond the error of their argument. NumPy's libm is within 1-2 ulp; XLA's CPU
  kernels are polynomial approximations, and over a million points in [-20, 20] we measured
  at most 7 ulp (tanh, float64), 4.4 ulp (tanh, float32) and 4.5 ulp (logistic): 8 covers them;
* ``f'(z)`` is formed from differences of numbers no larger than 1 (``σ(1 - σ)``,
  ``1 - tanh²``), so its error is absolute: ``f = 1 - t²`` with ``t`` off by
  ``ACTIVATION_ULPS`` relative is off by ``2·ACTIVATION_ULPS + 1`` units (``F_PRIME_ULPS``;
  measured: at most 14), plus ``|f''(z)|`` times the error of ``z``. This is what makes
  saturated units (σ' ≈ 0) safe: a true σ' of 1e-12 may come out as 0 or as 1e-12 ± u, and
  the bound allows exactly that;
* the residual ``a_L - y`` can cancel, so its error is relative to ``|a_L| + |y|``, not to
  the residual;
* XLA flushes subnormals to zero, so every step also carries an absolute error of the dtype's
  smallest normal number.

``tangent_bounds`` runs the same analysis the other way up, for a forward-mode (complex-step)
directional derivative: the tangent of a pre-activation climbs through ``f'`` and the layers
above into the cost, each step adding its rounding to the error it carries.

The recursion below carries, next to every quantity, its magnitude and this error bound, so
cancellation can never make a tolerance tighter than rounding allows. Any correct
implementation — hand backprop, ``jax.grad``, forward mode — lies within ``bound`` of the exact
gradient, so two of them agree to within the sum of their bounds. Bounds are worst case (all
roundings aligned); real errors are usually far smaller, and a real mistake (a factor of 2, a
dropped σ') is of the gradient's own size, far above them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.activations import get_activation

# Accuracy, in units of roundoff, of one evaluation of tanh/logistic (relative) and of f'
# (absolute); see the module docstring for the measurements behind them.
ACTIVATION_ULPS = 8
F_PRIME_ULPS = 2 * ACTIVATION_ULPS + 1


def second_derivative(activation: str, z: np.ndarray) -> np.ndarray:
    """``f''(z)``: ``σ'(1 - 2σ)`` for the logistic, ``-2 tanh(z) tanh'(z)`` for tanh."""
    f, f_prime = get_activation(activation)
    if activation == "logistic":
        return f_prime(z) * (1.0 - 2.0 * f(z))
    return -2.0 * f(z) * f_prime(z)


@dataclass(frozen=True)
class ErrorBounds:
    """Rounding-error bounds of one gradient computation in ``dtype``.

    ``grads`` is ``[(bound_dW, bound_db), …]`` shaped like params; ``deltas`` is
    ``[bound_δ1, …]`` shaped ``(n_l, N)``; ``f_prime`` is ``[f'(z_l), …]`` (kept to spot
    saturation); ``unit_roundoff`` is ``u = eps / 2`` of ``dtype``. ``forward`` keeps the
    forward pass's values and error bounds for ``tangent_bounds``.
    """

    grads: list[tuple[np.ndarray, np.ndarray]]
    deltas: list[np.ndarray]
    f_prime: list[np.ndarray]
    unit_roundoff: float
    dtype: np.dtype
    forward: ForwardBounds | None = None


@dataclass(frozen=True)
class ForwardBounds:
    """The forward pass in float64 with its error bounds: ``activations`` ``[a_0 = x, …, a_L]``
    and their bounds ``errors``; per layer ``|f''(z_l)|·e_z``, the most that the error of
    ``z_l`` moves ``f'(z_l)`` (``drift``); and ``y``, whose residual ends the pass."""

    activations: list[np.ndarray]
    errors: list[np.ndarray]
    drift: list[np.ndarray]
    y: np.ndarray


def error_bounds(params, x, y, activation: str, dtype) -> ErrorBounds:
    """Bound, element by element, how far a correct ``dtype`` gradient can be from the exact one.

    ``params``, ``x``, ``y`` follow the project's layout; the bound is computed in float64
    from their values (which should already be representable in ``dtype``).
    """
    dtype = np.dtype(dtype)
    u = float(np.finfo(dtype).eps) / 2
    tiny = float(np.finfo(dtype).tiny)
    act = ACTIVATION_ULPS * u
    f, f_prime = get_activation(activation)
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n_examples = x.shape[1]

    # Forward: a (value), A = |a| (magnitude), e_a (error bound); per layer keep z, f', f''.
    a, e_a = x, np.zeros_like(x)  # inputs are taken as exact
    activations, errors_a, fps, fpps = [a], [e_a], [], []
    for W, b in params:
        z = W @ a + b
        # The inputs are exact (e_a = 0): the widest product, |W1|·e_a, is skipped.
        carried = np.abs(W) @ e_a if np.any(e_a) else 0.0
        e_z = (W.shape[1] + 1) * u * (np.abs(W) @ np.abs(a) + np.abs(b)) + carried + tiny
        fp, fpp = f_prime(z), second_derivative(activation, z)
        a = f(z)
        e_a = np.abs(fp) * e_z + act * np.abs(a) + tiny
        activations.append(a)
        errors_a.append(e_a)
        fps.append(fp)
        fpps.append((fpp, e_z))

    def f_prime_error(layer: int) -> np.ndarray:
        fpp, e_z = fpps[layer]
        return np.abs(fpp) * e_z + F_PRIME_ULPS * u + tiny

    # Backward: δ (value), its error bound e_δ.
    residual = activations[-1] - y
    e_residual = errors_a[-1] + u * (np.abs(activations[-1]) + np.abs(y))
    delta = 2.0 * residual / n_examples * fps[-1]
    e_delta = (2.0 / n_examples) * (
        e_residual * np.abs(fps[-1]) + np.abs(residual) * f_prime_error(-1)
    ) + 3 * u * np.abs(delta) + tiny

    # Products use the *computed* magnitudes |v| + e_v, not the exact |v|: where a quantity is
    # mostly rounding (δ below saturated units, σ' ≈ 0), the product of two errors is as large
    # as either term, and a first-order bound that drops it is too tight by orders of
    # magnitude (seen: tanh networks at weight scale ~15, jax.grad off by 2x its bound).
    grads, delta_bounds = [], []
    for layer in reversed(range(len(params))):
        A_prev, e_prev = np.abs(activations[layer]), errors_a[layer]
        D = np.abs(delta) + e_delta
        # (e_δ + N·u·D)·(A + e)ᵀ + D·eᵀ: the bound of δ·aᵀ, its N roundings and a's error.
        e_dW = (e_delta + n_examples * u * D) @ (A_prev + e_prev).T + tiny
        if np.any(e_prev):
            e_dW += D @ e_prev.T
        e_db = np.sum(e_delta, axis=1, keepdims=True) + n_examples * u * np.sum(
            D, axis=1, keepdims=True) + tiny
        grads.append((e_dW, e_db))
        delta_bounds.append(e_delta)
        if layer > 0:
            W = params[layer][0]
            back = W.T @ delta
            P = np.abs(W).T @ D
            e_back = np.abs(W).T @ e_delta + W.shape[0] * u * P
            fp, e_fp = fps[layer - 1], f_prime_error(layer - 1)
            delta = back * fp
            e_delta = e_back * (np.abs(fp) + e_fp) + P * e_fp + u * np.abs(delta)
            e_delta = e_delta + tiny
    grads.reverse()
    delta_bounds.reverse()
    drift = [np.abs(fpp) * e_z for fpp, e_z in fpps]
    return ErrorBounds(grads, delta_bounds, fps, u, dtype,
                       ForwardBounds(activations, errors_a, drift, y))


def tangent_bounds(bounds: ErrorBounds, weights, layer: int, magnitude: np.ndarray,
                   error: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Bound, per direction, the rounding error of a forward-mode directional derivative of C.

    ``magnitude`` and ``error``, shaped ``(k, n, N)`` for k directions, bound ``|ż|`` (exact)
    and the error of the computed ``ż``, the tangent of layer ``layer``'s pre-activation
    (0-based). The tangent then runs ``ȧ = f'(z)·ż`` (``f'`` relatively accurate to
    ``ACTIVATION_ULPS``, moved by the error of ``z``), ``ż ← W ȧ`` (n rounded products) and
    ``Ċ = 2 Σ r·ȧ_L / N``. ``floor`` is an absolute error per ``ȧ`` (an underflow); ``bounds``
    are the computation's (float64 for the complex step); ``weights`` are ``[W1, …]``.
    """
    forward = bounds.forward
    u = bounds.unit_roundoff
    act = ACTIVATION_ULPS * u
    M, E = magnitude, error
    for m in range(layer, len(weights)):
        F = (1 + act) * np.abs(bounds.f_prime[m]) + forward.drift[m]  # ≥ |f'| exact or computed
        M_a = F * M
        E_a = F * (1 + act) * E + (forward.drift[m] + act * F) * M + floor
        if m + 1 < len(weights):
            W = np.abs(np.asarray(weights[m + 1], np.float64))
            M = np.matmul(W, M_a)
            E = np.matmul(W, E_a + W.shape[1] * u * (M_a + E_a))
    a_out, e_out, y = forward.activations[-1], forward.errors[-1], forward.y
    e_residual = e_out + u * (np.abs(a_out) + np.abs(y))
    R = np.abs(a_out - y) + e_residual  # ≥ |residual|, exact or computed
    scale = 2.0 / y.shape[1]
    # r·ȧ is one complex product, the sum has n_L·N terms, and scaling by h and 1/h two more.
    return scale * (np.sum(e_residual * (M_a + E_a) + R * E_a, axis=(-2, -1))
                    + (y.size + 6) * u * np.sum(R * (M_a + E_a), axis=(-2, -1)))


def saturation_threshold(activation: str, unit_roundoff: float) -> float:
    """``√u · max f'``: a unit whose ``|f'(z)|`` is at most this is saturated, the gradient
    that flows through it shrunk by more than half the dtype's digits, so what is left is
    mostly rounding."""
    _, f_prime = get_activation(activation)
    return float(np.sqrt(unit_roundoff) * f_prime(np.zeros(1))[0])


def saturated_layers(bounds: ErrorBounds, activation: str) -> list[bool]:
    """For each layer, whether every unit on every example is saturated
    (``saturation_threshold``)."""
    threshold = saturation_threshold(activation, bounds.unit_roundoff)
    return [bool(np.all(np.abs(fp) <= threshold)) for fp in bounds.f_prime]
