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


def complex_step_gradient(params, x, y, activation: str = "logistic"):
    """``[(dC/dW1, dC/db1), …]`` by one complex-step derivative per parameter element.

    Inputs are the project's layout (any real dtype; computed in complex128). The layers
    below the perturbed one are run once in real arithmetic; above it, one stacked pass
    carries every element's perturbation at once.
    """
    f = _complex_activation(activation)
    layers = [(np.asarray(W, np.complex128), np.asarray(b, np.complex128)) for W, b in params]
    x = np.asarray(x, np.complex128)
    y = np.asarray(y, np.float64)
    grads = []
    a_below = x
    for index, (W, b) in enumerate(layers):
        above = layers[index + 1:]
        block_grads = []
        for which, block in enumerate((W, b)):
            count = block.size
            basis = np.eye(count).reshape((count, *block.shape))
            perturbed = block[None] + 1j * STEP * basis
            W_stack, b_stack = (perturbed, b) if which == 0 else (W, perturbed)
            a = f(np.matmul(W_stack, a_below) + b_stack)
            costs = _stacked_costs(_run_layers(above, a, f), y)
            block_grads.append((costs.imag / STEP).reshape(block.shape))
        grads.append(tuple(block_grads))
        a_below = f(W @ a_below + b)
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
