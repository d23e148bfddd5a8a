"""The network of ``reference``, written in JAX: same params layout, same conventions.

``params = [(W1, b1), …, (WL, bL)]``, ``W`` of shape ``(n_out, n_in)``, ``b`` of shape
``(n_out, 1)``; ``x`` is ``(n_in, N)`` and ``y`` is ``(n_out, N)``, one example per column;
``cost = ||a_L - y||² / N``. Gradients come from ``jax.grad`` and never from a hand formula.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "logistic": jax.nn.sigmoid,
    "tanh": jnp.tanh,
}


def activation_fn(name: str) -> Callable[[jax.Array], jax.Array]:
    """The JAX activation called ``name``; a ValueError names the choices otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation: unknown name {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None


def forward(params, x: jax.Array, activation: str = "logistic") -> jax.Array:
    """The network's output ``a_L`` of shape ``(n_out, N)``."""
    f = activation_fn(activation)
    a = x
    for W, b in params:
        a = f(W @ a + b)
    return a


def cost(params, x: jax.Array, y: jax.Array, activation: str = "logistic") -> jax.Array:
    """``||a_L - y||² / N``, a scalar."""
    residual = forward(params, x, activation) - y
    return jnp.sum(residual**2) / x.shape[1]


def grad(params, x: jax.Array, y: jax.Array, activation: str = "logistic"):
    """``jax.grad`` of ``cost`` with respect to ``params``: a list of ``(dW, db)`` like params."""
    return jax.grad(cost)(params, x, y, activation)
