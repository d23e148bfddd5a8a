"""The network of ``reference``, written in JAX: same params layout, same conventions.

``params = [(W1, b1), …, (WL, bL)]``, ``W`` of shape ``(n_out, n_in)``, ``b`` of shape
``(n_out, 1)``; ``x`` is ``(n_in, N)`` and ``y`` is ``(n_out, N)``, one example per column;
``cost = ||a_L - y||² / N``. Gradients come from ``jax.grad`` (reverse mode), the full
Jacobians from ``jax.jacrev`` and ``jax.jacfwd``, the backpropagated deltas from ``jax.vjp``
— never from a hand formula.
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


def _jacobian_builder(mode: str):
    """``jax.jacrev`` for ``mode="rev"``, ``jax.jacfwd`` for ``mode="fwd"``."""
    builders = {"rev": jax.jacrev, "fwd": jax.jacfwd}
    if mode not in builders:
        raise ValueError(f"mode: expected 'rev' or 'fwd', got {mode!r}")
    return builders[mode]


def output_jacobian(params, x: jax.Array, activation: str = "logistic", mode: str = "rev"):
    """The full Jacobian of the output ``a_L`` with respect to every parameter.

    Returns ``[(dA/dW1, dA/db1), …]`` where ``dA/dW`` has shape ``(n_out, N) + W.shape``
    (output unit, example, then the parameter's own indices). ``mode="rev"`` builds it row by
    row with ``jax.jacrev``, ``mode="fwd"`` column by column with ``jax.jacfwd``; the two are
    the same matrix, computed in opposite orders.
    """
    return _jacobian_builder(mode)(forward)(params, x, activation)


def cost_jacobian(params, x: jax.Array, y: jax.Array, activation: str = "logistic",
                  mode: str = "rev"):
    """The Jacobian of the scalar cost (the gradient) by ``jax.jacrev`` or ``jax.jacfwd``.

    Same layout as ``grad``. Forward mode needs one pass per parameter, reverse mode one pass
    in all: for a scalar cost the two agree, and reverse mode is what backprop is.
    """
    return _jacobian_builder(mode)(cost)(params, x, y, activation)


def deltas(params, x: jax.Array, y: jax.Array, activation: str = "logistic") -> list[jax.Array]:
    """The backpropagated errors ``[δ1, …, δL]``, ``δl = ∂C/∂z_l`` of shape ``(n_l, N)``.

    ``jax.vjp`` differentiates the cost with respect to a zero offset added to every
    pre-activation ``z_l``: the cotangent of that offset is exactly ``∂C/∂z_l``.
    """
    f = activation_fn(activation)

    def cost_of_offsets(offsets):
        a = x
        for (W, b), offset in zip(params, offsets, strict=True):
            a = f(W @ a + b + offset)
        return jnp.sum((a - y) ** 2) / x.shape[1]

    zeros = [jnp.zeros((W.shape[0], x.shape[1]), dtype=x.dtype) for W, _ in params]
    _, pullback = jax.vjp(cost_of_offsets, zeros)
    (offset_grads,) = pullback(jnp.ones((), dtype=x.dtype))
    return list(offset_grads)


def per_example_grads(params, x: jax.Array, y: jax.Array, activation: str = "logistic"):
    """``jax.vmap`` of ``grad`` over the columns: like params with a leading axis of size N."""

    def one(x_column, y_column):
        return grad(params, x_column[:, None], y_column[:, None], activation)

    return jax.vmap(one, in_axes=(1, 1))(x, y)
