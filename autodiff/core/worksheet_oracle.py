"""The grader's oracle: ``jax.grad`` of the worksheet's cost in float64, and the tolerance.

``params = [(W1, b1), (W2, b2), (W3, b3)]`` (``W`` shaped ``(n_out, n_in)``), ``x`` is
``(1, N)``, ``y`` is ``(2, N)``; the cost is ``||a3 - y||² / N`` with logistic units, which is
the worksheet's ``/ x.size`` since the input layer has one unit. Blocks are keyed
``"W1" … "b3"``.

Compiling a gradient per shape costs about half a second, and a search meets dozens of shapes,
so the network is padded to a few fixed shapes: extra hidden units get zero weights in and out,
extra examples get weight zero in the cost, and every padded term is an exact ``0.0``, so the
real entries of the gradient are those of the unpadded network.
"""

from __future__ import annotations

import functools

import numpy as np

from reference.backprop import forward_trace

BLOCKS = ("W1", "b1", "W2", "b2", "W3", "b3")
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2
SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)
# Roundings per layer beyond the dot products: z's addition of b, σ and σ' (a few ulps each,
# however they are written), the products by σ' and by 2, the residual's subtraction.
ROUNDINGS_PER_LAYER = 8


def _padded(size: int, floor: int, step: int) -> int:
    return max(floor, -(-size // step) * step)


@functools.cache
def _jitted_gradient():
    import jax
    import jax.numpy as jnp

    from autodiff.core.network import forward

    def masked_cost(params, x, y, weight, n_examples):
        residual = forward(params, x, "logistic") - y
        return jnp.sum(weight * residual**2) / n_examples

    return jax.jit(jax.grad(masked_cost))


def expected_jacobians(params, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """``jax.grad`` of the worksheet's cost, float64, one array per block shaped like it."""
    import jax

    (W1, _), (W2, _), _ = params
    n1, n2, n_examples = W1.shape[0], W2.shape[0], x.shape[1]
    p1, p2 = _padded(n1, 8, 8), _padded(n2, 8, 8)
    pn = _padded(n_examples, 16, 16) if n_examples <= 16 else _padded(n_examples, 128, 128)
    rows, cols = (p1, p2, 2), (1, p1, p2)
    padded = []
    for (W, b), n_out, n_in in zip(params, rows, cols, strict=True):
        W_pad = np.zeros((n_out, n_in))
        W_pad[: W.shape[0], : W.shape[1]] = W
        b_pad = np.zeros((n_out, 1))
        b_pad[: b.shape[0]] = b
        padded.append((W_pad, b_pad))
    x_pad, y_pad, weight = np.zeros((1, pn)), np.zeros((2, pn)), np.zeros((1, pn))
    x_pad[:, :n_examples], y_pad[:, :n_examples], weight[:, :n_examples] = x, y, 1.0
    with jax.enable_x64(True):
        grads = _jitted_gradient()(padded, x_pad, y_pad, weight, float(n_examples))
        grads = [(np.asarray(dW), np.asarray(db)) for dW, db in grads]
    result = {}
    for layer, ((dW, db), (W, b)) in enumerate(zip(grads, params, strict=True), start=1):
        result[f"W{layer}"] = dW[: W.shape[0], : W.shape[1]].copy()
        result[f"b{layer}"] = db[: b.shape[0]].copy()
    return result


def tolerance(params, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per element, how far two correct float64 computations of the Jacobians may differ.

    A first-order rounding bound: the gradient is the same chain of products, written with
    every factor replaced by a bound on its size *and* on the absolute error a correct formula
    may make in it. For a logistic layer that bound is ``S = 1 + |W| S_prev + |b|``: σ and σ'
    are at most 1 and a correct formula may lose one unit of 1 (``s * (1 - s)`` near
    saturation), and rounding ``z`` by ``u·(|W||a| + |b|)`` moves them by at most as much.
    Each element of that magnitude chain ``M`` is a sum of at most ``K`` roundings
    (dot products of length ``n_in + 1``, ``n_out`` and ``N``, plus ``ROUNDINGS_PER_LAYER`` per
    layer), so one computation is within ``K·u·M`` of the exact value; the submission and
    ``jax.grad`` are each that close, hence ``2·K·u·M``, plus the smallest normal number per
    rounding because XLA may flush subnormals to zero.
    """
    (W1, b1), (W2, b2), (W3, b3) = params
    n_examples = x.shape[1]
    A0 = np.abs(x)
    S1 = 1 + np.abs(W1) @ A0 + np.abs(b1)
    S2 = 1 + np.abs(W2) @ S1 + np.abs(b2)
    S3 = 1 + np.abs(W3) @ S2 + np.abs(b3)
    # The residual's own size, plus a3's error bound.
    a3 = forward_trace(params, x)[1][-1]
    D3 = 2 * (np.abs(a3 - y) + S3) * S3
    D2 = (np.abs(W3).T @ D3) * S2
    D1 = (np.abs(W2).T @ D2) * S1
    magnitude = {
        "W3": D3 @ S2.T, "b3": D3.sum(axis=1, keepdims=True),
        "W2": D2 @ S1.T, "b2": D2.sum(axis=1, keepdims=True),
        "W1": D1 @ A0.T, "b1": D1.sum(axis=1, keepdims=True),
    }
    roundings = n_examples + W1.shape[0] + W2.shape[0] + 2 + 3 + 3 * ROUNDINGS_PER_LAYER
    return {name: 2 * roundings * (UNIT_ROUNDOFF * m / n_examples + SMALLEST_NORMAL)
            for name, m in magnitude.items()}
