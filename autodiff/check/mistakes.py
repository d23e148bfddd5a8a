"""Planted backprop mistakes: drop-in ``manual(params, x, y)`` functions, each wrong in one
classic way, for showing (and testing) that the cross-check catches them and names where.

Each mistake is a ``Mistake`` with a ``name``, a one-line ``description``, the ``manual``
function (logistic by default; ``mistake.for_activation("tanh")`` for the other) and
``wrong_from(L)``, the layer whose delta or blocks first go wrong in an L-layer network.
``MISTAKES`` maps names to mistakes. The hand backprop below is written the way a student
would, one flag per slip, so that every mistake differs from the correct pass in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference.activations import get_activation
from reference.backprop import forward_trace


def _wrong_derivative(activation: str) -> Callable[[np.ndarray], np.ndarray]:
    # The other activation's formula applied to this one's output: 1 - σ² for the logistic,
    # 1 - tanh (square forgotten) for tanh.
    f, _ = get_activation(activation)
    if activation == "logistic":
        return lambda z: 1.0 - f(z) ** 2
    return lambda z: 1.0 - f(z)


def _student_backprop(params, x, y, activation: str, slip: str | None = None):
    """Hand backprop, ``[(dW, db), …]``, correct unless ``slip`` names one mistake."""
    f, f_prime = get_activation(activation)
    if slip == "wrong-derivative":
        f_prime = _wrong_derivative(activation)
    if slip == "derivative-of-activation":
        true_prime = f_prime

        def f_prime(z):  # σ' evaluated at a = σ(z) instead of at z
            return true_prime(f(z))

    zs, activations = forward_trace(params, x, activation)
    n_examples = x.shape[1]

    residual = activations[-1] - y
    if slip == "sign":
        residual = -residual
    scale = 1.0 if slip == "factor-2" else 2.0
    if slip != "missing-1/N":
        scale = scale / n_examples
    delta = scale * residual
    if slip not in ("dropped-sigma-prime", "sigma-prime-wrong-layer"):
        delta = delta * f_prime(zs[-1])

    grads = []
    for layer in reversed(range(len(params))):
        a_prev = activations[layer]
        dW = delta @ a_prev.T
        if slip == "bias-not-summed":
            db = delta
        elif slip == "bias-averaged":
            db = np.mean(delta, axis=1, keepdims=True)
        else:
            db = np.sum(delta, axis=1, keepdims=True)
        grads.append((dW, db))
        if layer == 0:
            break
        W = params[layer][0]
        # W.reshape to Wᵀ's shape: the right shape, the wrong matrix (exactly W if square).
        W_back = W.reshape(W.shape[::-1]) if slip == "missing-transpose" else W.T
        if slip == "sigma-prime-wrong-layer":
            # σ' of the layer above, applied before stepping down, instead of the layer below.
            delta = W_back @ (delta * f_prime(zs[layer]))
        elif slip == "dropped-sigma-prime":
            delta = W_back @ delta
        else:
            delta = (W_back @ delta) * f_prime(zs[layer - 1])
    grads.reverse()
    return grads


@dataclass(frozen=True)
class Mistake:
    """One planted mistake; ``manual`` uses ``activation``."""

    name: str
    description: str
    first_wrong: str  # "output" or "below-output": where the hand deltas first go wrong
    activation: str = "logistic"

    def manual(self, params, x, y):
        """The mistaken gradient, ``[(dW, db), …]`` — same signature as ``reference.gradients``
        with the activation bound."""
        return _student_backprop(params, x, y, self.activation, self.name)

    def for_activation(self, activation: str) -> Mistake:
        get_activation(activation)
        return Mistake(self.name, self.description, self.first_wrong, activation)

    def wrong_from(self, n_layers: int) -> int:
        """The 1-based layer that goes wrong first, walking backward from the output."""
        return n_layers if self.first_wrong == "output" else n_layers - 1

    def __call__(self, params, x, y):
        return self.manual(params, x, y)

    @property
    def __name__(self) -> str:  # shown as the manual's name in reports
        return f"mistake {self.name!r} [{self.activation}]"


MISTAKES: dict[str, Mistake] = {m.name: m for m in [
    Mistake("dropped-sigma-prime", "σ' left out of every delta", "output"),
    Mistake("sigma-prime-wrong-layer",
            "σ' of layer l applied to δ_l before stepping down, instead of σ'(z_(l-1)) after",
            "output"),
    Mistake("missing-transpose", "W used where Wᵀ belongs (reshaped to fit)", "below-output"),
    Mistake("missing-1/N", "the cost's average over examples forgotten", "output"),
    Mistake("factor-2", "the 2 of d(r²)/dr forgotten", "output"),
    Mistake("sign", "(y - a) where (a - y) belongs", "output"),
    Mistake("bias-not-summed", "db = δ, one column per example, not summed", "output"),
    Mistake("bias-averaged", "db = mean of δ over the batch, dividing by N twice", "output"),
    Mistake("wrong-derivative", "1 - σ² (tanh's formula) for σ'; 1 - tanh for tanh'",
            "output"),
    Mistake("derivative-of-activation", "σ'(a) where σ'(z) belongs", "output"),
]}


def get_mistake(name: str, activation: str = "logistic") -> Mistake:
    """The mistake called ``name`` for ``activation``; a ValueError lists the choices."""
    try:
        return MISTAKES[name].for_activation(activation)
    except KeyError:
        raise ValueError(f"mistake: unknown name {name!r}; expected one of {sorted(MISTAKES)}"
                         ) from None


# The layer library's planted mistakes (reference.layers), kept in their own module.
from autodiff.check.layers.mistakes import (  # noqa: E402, F401
    LAYER_MISTAKES,
    LayerMistake,
    get_layer_mistake,
)
