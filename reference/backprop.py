"""General hand-derived backpropagation for fully connected networks of any depth and width.

Conventions, shared with ``autodiff``: a network is ``params = [(W1, b1), …, (WL, bL)]`` with
``W`` of shape ``(n_out, n_in)`` and ``b`` of shape ``(n_out, 1)``; inputs ``x`` are
``(n_in, N)`` and targets ``y`` are ``(n_out, N)``, one example per column. Every layer,
the last included, applies the same activation. The cost is the squared error summed over
outputs and averaged over the ``N`` examples: ``C = ||a_L - y||² / N``.
"""

from __future__ import annotations

import itertools

import numpy as np

from reference.activations import get_activation
from reference.validation import Params, check_batch, check_params


def init_params(
    sizes: list[int], rng: np.random.Generator | int | None = None, scale: float = 0.5
) -> Params:
    """Draw a network with layer widths ``sizes = [n_in, n_1, …, n_out]``.

    Every weight and bias is ``scale`` times a standard normal, as the worksheet's
    ``reset_network`` does with ``scale = 1/2``. ``rng`` is a Generator or a seed.
    """
    if (
        not isinstance(sizes, (list, tuple))
        or len(sizes) < 2
        or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                   for n in sizes)
    ):
        raise ValueError(
            f"sizes: expected a list of at least two positive integers [n_in, …, n_out], "
            f"got {sizes!r}"
        )
    rng = np.random.default_rng(rng)
    return [
        (scale * rng.standard_normal((n_out, n_in)), scale * rng.standard_normal((n_out, 1)))
        for n_in, n_out in itertools.pairwise(sizes)
    ]


def layer_widths(params: Params) -> list[int]:
    """``[n_in, n_1, …, n_out]``, the ``sizes`` that ``init_params`` would draw ``params`` from."""
    return [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]


def forward_trace(
    params: Params, x: np.ndarray, activation: str = "logistic"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Run the network, keeping what backprop needs: ``zs = [z1, …, zL]``, ``activations =
    [a0, …, aL]`` with ``a0 = x``. Inputs are assumed valid (see ``forward``)."""
    f, _ = get_activation(activation)
    a = x
    zs, activations = [], [a]
    for W, b in params:
        z = W @ a + b
        a = f(z)
        zs.append(z)
        activations.append(a)
    return zs, activations


def forward(params: Params, x: np.ndarray, activation: str = "logistic") -> np.ndarray:
    """The output ``a_L``, shape ``(n_out, N)``, for inputs ``x`` of shape ``(n_in, N)``."""
    params = check_params(params)
    (x,) = check_batch(params, x)
    return forward_trace(params, x, activation)[1][-1]


def cost(params: Params, x: np.ndarray, y: np.ndarray, activation: str = "logistic") -> float:
    """``||a_L - y||² / N``: squared error summed over outputs, averaged over the N examples.

    (The worksheet divides by ``x.size``, which equals N only for one input unit.)
    """
    params = check_params(params)
    x, y = check_batch(params, x, y)
    residual = forward_trace(params, x, activation)[1][-1] - y
    return float(np.sum(residual**2) / x.shape[1])


def gradients(
    params: Params, x: np.ndarray, y: np.ndarray, activation: str = "logistic"
) -> Params:
    """``[(dC/dW1, dC/db1), …]``, each shaped like its parameter: one forward, one backward pass.

    Backward, from the output layer down:
        delta_L = 2 (a_L - y) / N * f'(z_L)
        dC/dW_l = delta_l @ a_{l-1}ᵀ,   dC/db_l = Σ_examples delta_l
        delta_{l-1} = (W_lᵀ @ delta_l) * f'(z_{l-1})
    """
    params = check_params(params)
    x, y = check_batch(params, x, y)
    _, f_prime = get_activation(activation)
    zs, activations = forward_trace(params, x, activation)

    n_examples = x.shape[1]
    delta = 2 * (activations[-1] - y) / n_examples * f_prime(zs[-1])
    grads: Params = []
    for layer in reversed(range(len(params))):
        dW = delta @ activations[layer].T
        db = np.sum(delta, axis=1, keepdims=True)
        grads.append((dW, db))
        if layer > 0:
            W = params[layer][0]
            delta = (W.T @ delta) * f_prime(zs[layer - 1])
    grads.reverse()
    return grads
