"""The third opinion: complex-step derivatives, sharing no code with ``reference`` or JAX.

For a real-analytic cost ``C``, ``C(p + i·h·e) = C(p) + i·h·∂C/∂p·e + O(h²)``, so
``Im C(p + i·h·e) / h`` is the directional derivative along ``e`` with no subtraction and
hence no cancellation: it is exact to rounding even for ``h = 1e-30``, unlike finite
differences, which trade truncation against cancellation. The network below is a tiny
complex NumPy forward pass written here on purpose, so that a shared bug cannot make two
opinions agree. Everything runs in complex128 on the given (real) values.
"""

from __future__ import annotations

import numpy as np

# Any h far below √eps·|p| makes the O(h²) term vanish below rounding; far above the
# smallest normal number keeps the imaginary parts from underflowing.
STEP = 1e-30


def _logistic(z: np.ndarray) -> np.ndarray:
    # Evaluate at w = ±z with Re w ≥ 0 so that |exp(-w)| ≤ 1 never overflows.
    sign = np.where(z.real >= 0, 1.0, -1.0)
    e = np.exp(-sign * z)
    return np.where(sign > 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _tanh(z: np.ndarray) -> np.ndarray:
    # tanh is odd: tanh(z) = s·(1 - e)/(1 + e) with e = exp(-2·s·z), Re(s·z) ≥ 0. The
    # numerator is -expm1(-2·s·z): written as 1 - e it cancels for small |z| and loses
    # eps/|z| of relative accuracy (1e-9 at z = 1e-8), which a downstream layer turns into a
    # false alarm.
    sign = np.where(z.real >= 0, 1.0, -1.0)
    w = -2.0 * sign * z
    return sign * -np.expm1(w) / (1.0 + np.exp(w))


_COMPLEX_ACTIVATIONS = {"logistic": _logistic, "tanh": _tanh}


def _complex_activation(name: str):
    try:
        return _COMPLEX_ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation: unknown name {name!r}; expected one of {sorted(_COMPLEX_ACTIVATIONS)}"
        ) from None


def _run_layers(layers, a: np.ndarray, f) -> np.ndarray:
    """Apply ``a ← f(W a + b)`` for each layer; arrays may carry a leading stack axis."""
    for W, b in layers:
        a = f(np.matmul(W, a) + b)
    return a


def _stacked_costs(a_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``Σ (a - y)² / N`` over the last two axes (no ``abs``: that would break analyticity)."""
    residual = a_out - y
    return np.sum(residual * residual, axis=(-2, -1)) / y.shape[1]


def layer_inputs(params, x, activation: str = "logistic") -> list[np.ndarray]:
    """``[a_0 = x, a_1, …, a_(L-1)]``, each layer's input ``(n_in, N)``, by the complex pass
    itself (with zero imaginary parts), so that perturbed passes start from its own values."""
    f = _complex_activation(activation)
    inputs = [np.asarray(x, np.complex128)]
    for W, b in params[:-1]:
        inputs.append(f(np.asarray(W, np.float64) @ inputs[-1] + np.asarray(b, np.float64)))
    return inputs


def tangents_along(params, inputs, layer: int, which: int, directions) -> np.ndarray:
    """``ż``, shaped ``(k, n_out, N)``: the change of layer ``layer``'s pre-activation (0-based)
    along each of the k directions ``(k, *block.shape)`` of its ``W`` (``which=0``) or ``b``."""
    directions = np.asarray(directions, np.float64)
    if which == 0:
        return np.matmul(directions, inputs[layer].real)
    return np.broadcast_to(directions, (*directions.shape[:-1], inputs[layer].shape[1]))


def complex_step_tangents(params, y, inputs, layer: int, tangents, activation: str = "logistic"
                          ) -> np.ndarray:
    """``Im C(z_layer + i·h·ż) / h`` for each of the k tangents ``ż`` ``(k, n_out, N)`` of
    layer ``layer``'s pre-activation: the k directional derivatives of the cost, shape ``(k,)``.
    ``inputs`` is ``layer_inputs(params, x, activation)``. Memory: a few ``(k, n, N)`` stacks."""
    f = _complex_activation(activation)
    W, b = (np.asarray(p, np.float64) for p in params[layer])
    z = (W @ inputs[layer].real + b) + 1j * STEP * np.asarray(tangents, np.float64)
    above = [(np.asarray(W, np.float64), np.asarray(b, np.float64))
             for W, b in params[layer + 1:]]
    costs = _stacked_costs(_run_layers(above, f(z), f), np.asarray(y, np.float64))
    return costs.imag / STEP


def element_tangents(inputs, layer: int, which: int, shape, elements) -> np.ndarray:
    """``ż`` for the basis directions of the block elements ``elements`` (flat indices into a
    block of ``shape``), ``(len(elements), n_out, N)``: element ``(i, j)`` of ``W`` moves row
    ``i`` by ``a_j`` (row ``i`` by 1 for ``b_i``), without forming the basis matrices."""
    a_in = inputs[layer].real
    rows, cols = np.unravel_index(np.asarray(elements), shape)
    tangents = np.zeros((len(rows), shape[0], a_in.shape[1]))
    tangents[np.arange(len(rows)), rows] = a_in[cols] if which == 0 else 1.0
    return tangents


def complex_step_gradient(params, x, y, activation: str = "logistic", chunk: int = 256):
    """``[(dC/dW1, dC/db1), …]`` by one complex-step derivative per parameter element.

    Inputs are the project's layout (any real dtype; computed in complex128). The layers
    below a perturbed block run once; above it, ``chunk`` elements' perturbations run as one
    stacked pass, so memory stays at ``chunk`` copies of the widest layer's activations.
    """
    inputs = layer_inputs(params, x, activation)
    grads = []
    for layer, (W, b) in enumerate(params):
        blocks = []
        for which, block in enumerate((W, b)):
            shape = np.shape(block)
            values = np.empty(int(np.prod(shape)))
            for first in range(0, values.size, chunk):
                elements = np.arange(first, min(first + chunk, values.size))
                tangents = element_tangents(inputs, layer, which, shape, elements)
                values[elements] = complex_step_tangents(params, y, inputs, layer, tangents,
                                                         activation)
            blocks.append(values.reshape(shape))
        grads.append(tuple(blocks))
    return grads


def complex_step_directional(params, x, y, directions, activation: str = "logistic"):
    """``[(dC/dW1 · V1, dC/db1 · v1), …]``: one directional derivative per block.

    ``directions`` is shaped like params. All 2L perturbed networks run as one stacked pass,
    so this costs about 2L forward passes — cheap enough for every network of a large sweep.
    """
    f = _complex_activation(activation)
    n_blocks = 2 * len(params)
    layers = []
    for index, ((W, b), (vW, vb)) in enumerate(zip(params, directions, strict=True)):
        stack_W = np.repeat(np.asarray(W, np.complex128)[None], n_blocks, axis=0)
        stack_b = np.repeat(np.asarray(b, np.complex128)[None], n_blocks, axis=0)
        stack_W[2 * index] += 1j * STEP * np.asarray(vW, np.float64)
        stack_b[2 * index + 1] += 1j * STEP * np.asarray(vb, np.float64)
        layers.append((stack_W, stack_b))
    a_out = _run_layers(layers, np.asarray(x, np.complex128), f)
    values = _stacked_costs(a_out, np.asarray(y, np.float64)).imag / STEP
    return [(float(values[2 * i]), float(values[2 * i + 1])) for i in range(len(params))]
