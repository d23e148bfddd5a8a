"""A network's gradient under one slip of hand backprop: the candidates of a diagnosis.

For a block ``W_k`` or ``b_k`` of the project's network (``params = [(W1, b1), …]``, columns
are examples, ``C = ||a_L - y||² / N``), ``candidates`` computes what the block's gradient
would be with one classic mistake in the chain rule — σ' dropped, taken at ``a`` instead of
``z``, at the wrong layer, replaced by σ or by a wrong formula, applied twice; a weight not
transposed on the way down; the wrong activation or ``z`` where ``a_(k-1)`` belongs; a bias
summed over the wrong axis or multiplied by an activation like its weight. ``diagnose_block``
hands them to ``autodiff.core.diagnose``, which also tries the array-level slips (sign,
factors, 1/N, transpose …) and their combinations, so "σ' missing and 1/N missing" is named.

Everything is NumPy, in float64, along the backward pass written once (``block_gradient``).
δ here is ``N·∂C/∂z``: ``δ_L = 2(a_L - y)·σ'(z_L)``, ``δ_l = (W_(l+1)ᵀ δ_(l+1))·σ'(z_l)``,
``∂C/∂W_k = δ_k a_(k-1)ᵀ / N`` and ``∂C/∂b_k = Σ_columns δ_k / N``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from autodiff.core.diagnose import Candidate, Diagnosis, diagnose
from reference.activations import get_activation

# Wrong derivative formulas seen in hand backprop: the other activation's formula.
_WRONG_FORMULAS = {
    "logistic": ("1 - σ(z)² (tanh's formula)", lambda f, z: 1.0 - f(z) ** 2),
    "tanh": ("1 - tanh(z) (the square forgotten)", lambda f, z: 1.0 - f(z)),
}


@dataclass(frozen=True)
class Trace:
    """One forward pass, indexed by layer: ``a[0] = x … a[L]``, ``z[l]`` and ``slope[l] =
    σ'(z_l)`` for ``l = 1 … L`` (index 0 is ``None``); ``backward[l]`` is the matrix that
    carries δ_l down a layer (``W_lᵀ`` when right)."""

    a: list
    z: list
    slope: list
    backward: list


def trace(params, x: np.ndarray, activation: str = "logistic") -> Trace:
    """The forward pass of ``params`` on ``x`` (float64), with the right slopes and weights."""
    f, f_prime = get_activation(activation)
    a, z = [np.asarray(x, dtype=np.float64)], [None]
    for W, b in params:
        z.append(np.asarray(W, np.float64) @ a[-1] + np.asarray(b, np.float64))
        a.append(f(z[-1]))
    backward = [None, *(np.asarray(W, np.float64).T for W, _ in params)]
    return Trace(a, z, [None, *(f_prime(zl) for zl in z[1:])], backward)


def delta(forward: Trace, y: np.ndarray, k: int) -> np.ndarray:
    """δ_k = ``N·∂C/∂z_k`` along ``forward``, shaped ``(n_k, N)``."""
    n_layers = len(forward.a) - 1
    d = 2 * (forward.a[n_layers] - y) * forward.slope[n_layers]
    for layer in range(n_layers - 1, k - 1, -1):
        d = (forward.backward[layer + 1] @ d) * forward.slope[layer]
    return d


def block_gradient(forward: Trace, y: np.ndarray, block: str) -> np.ndarray:
    """``∂C/∂block`` (``"W2"``, ``"b1"`` …) along ``forward``'s values, as hand backprop does."""
    kind, k = block[0], int(block[1:])
    d, n = delta(forward, y, k), forward.a[0].shape[1]
    if kind == "W":
        return d @ forward.a[k - 1].T / n
    return d.sum(axis=1, keepdims=True) / n


def _slope_slips(forward: Trace, activation: str, k: int) -> list[tuple[str, str, dict]]:
    """``(key, text, {layer: wrong slope})``: σ' replaced at one layer ≥ k, or at all."""
    f, f_prime = get_activation(activation)
    sym = "σ" if activation == "logistic" else activation
    n_layers = len(forward.a) - 1
    layers = range(k, n_layers + 1)
    formula_text, formula = _WRONG_FORMULAS[activation]
    kinds = [  # key, text with {z} {a} {every}, the wrong slope at layer j
        ("sigma_prime_missing", "{s}'({z}) missing{every}",
         lambda j: np.ones_like(forward.z[j])),
        ("sigma_prime_at_a", "{s}' evaluated at {a} instead of {z}{every}",
         lambda j: f_prime(forward.a[j])),
        ("sigma_instead", "{s}({z}) used where {s}'({z}) belongs{every}",
         lambda j: f(forward.z[j])),
        ("sigma_prime_twice", "{s}'({z}) applied twice{every}",
         lambda j: forward.slope[j] ** 2),
        ("wrong_derivative", "{s}'({z}) computed as " + formula_text + "{every}",
         lambda j: formula(f, forward.z[j])),
    ]
    every = f" (in every layer: {', '.join(f'z{j}' for j in layers)})"
    slips = []
    for key, text, value in kinds:
        slips += [(key, text.format(s=sym, z=f"z{j}", a=f"a{j}", every=""), {j: value(j)})
                  for j in layers]
        if len(layers) > 1:
            slips.append((key, text.format(s=sym, z="z", a="a", every=every),
                          {j: value(j) for j in layers}))
    for j in layers:
        for i in range(1, n_layers + 1):
            if i != j and forward.z[i].shape[0] in (forward.z[j].shape[0], 1):
                slips.append(("sigma_prime_wrong_layer", f"{sym}' at the wrong layer: "
                              f"{sym}'(z{i}) where {sym}'(z{j}) belongs",
                              {j: forward.slope[i]}))
    return slips


def candidates(params, x: np.ndarray, y: np.ndarray, block: str,
               activation: str = "logistic") -> list[Candidate]:
    """The ``block``'s gradient under each hand-backprop slip this module knows.

    A candidate's ``scale`` is its size relative to the right gradient (at least 1), so the
    tolerance grows with the larger chains a wrong σ can make.
    """
    kind, k = block[0], int(block[1:])
    y = np.asarray(y, dtype=np.float64)
    right = trace(params, x, activation)
    n_layers, n = len(params), right.a[0].shape[1]
    size = float(np.max(np.abs(block_gradient(right, y, block)), initial=0.0))
    found: list[Candidate] = []

    def add(key: str, text: str, value: np.ndarray) -> None:
        top = float(np.max(np.abs(value), initial=0.0))
        found.append(Candidate(key, text, value, max(1.0, top / size) if size else 1.0))

    for key, text, slopes in _slope_slips(right, activation, k):
        wrong = replace(right, slope=[slopes.get(j, s) for j, s in enumerate(right.slope)])
        add(key, text, block_gradient(wrong, y, block))
    steps = range(k + 1, n_layers + 1)
    for chosen in [[j] for j in steps] + ([list(steps)] if len(steps) > 1 else []):
        backward = list(right.backward)
        for j in chosen:
            W = np.asarray(params[j - 1][0], np.float64)
            backward[j] = W if W.shape[0] == W.shape[1] else W.reshape(W.shape[::-1])
        names = ", ".join(f"W{j}" for j in chosen)
        transposed = ", ".join(f"W{j}ᵀ" for j in chosen)
        square = all(params[j - 1][0].shape[0] == params[j - 1][0].shape[1] for j in chosen)
        add("weight_not_transposed", f"{names} used where {transposed} "
            f"belong{'s' if len(chosen) == 1 else ''} on the way down"
            + ("" if square else " (reshaped to fit)"),
            block_gradient(replace(right, backward=backward), y, block))
    d = delta(right, y, k)
    if kind == "W":
        if k > 1:
            add("z_not_a", f"multiplies by z{k - 1} where a{k - 1} belongs",
                d @ right.z[k - 1].T / n)
        for i in range(n_layers + 1):
            if i != k - 1 and right.a[i].shape[0] == right.a[k - 1].shape[0]:
                name = "x" if i == 0 else f"a{i}"
                add("wrong_activation", f"multiplies by {name} where a{k - 1} belongs",
                    d @ right.a[i].T / n)
    else:
        add("sum_axis", "sums over axis 0 (the units) instead of axis 1 (the examples)",
            d.sum(axis=0) / n)
        add("sum_all", "sums over every axis instead of over the examples only",
            np.array(d.sum() / n))
        add("no_sum", "does not sum over the examples", d / n)
        a_prev = right.a[k - 1]
        if a_prev.shape[0] in (1, d.shape[0]):
            name = "x" if k == 1 else f"a{k - 1}"
            add("bias_like_weight", f"multiplied by {name} like the weight's gradient: "
                f"∂z{k}/∂b{k} is 1, not {name}", (d * a_prev).sum(axis=1, keepdims=True) / n)
    return found


def diagnose_block(params, x: np.ndarray, y: np.ndarray, block: str, got, expected,
                   tolerance, activation: str = "logistic") -> list[Diagnosis]:
    """The diagnoses of a wrong ``got`` for ``block`` (``autodiff.core.diagnose.diagnose``
    with this module's candidates): named slips, or one that says no pattern was recognised."""
    return diagnose(expected, got, tolerance, batch=np.shape(x)[1],
                    candidates=candidates(params, x, y, block, activation))


@dataclass(frozen=True)
class Slip:
    """One classic mistake of the network's hand backprop, planted in the backward pass written
    once above: ``change(trace, activation, block)`` alters the values a block's gradient is
    formed from, ``finish(gradient, block, trace, y)`` the finished block. ``first_wrong`` is
    where the hand deltas first go wrong ("output" or "below-output"); ``key`` the diagnosis
    (``autodiff.core.diagnose`` over ``candidates``) that names it on the blocks it makes
    wrong."""

    name: str
    description: str
    first_wrong: str
    key: str
    change: Callable | None = None
    finish: Callable | None = None

    def gradients(self, params, x: np.ndarray, y: np.ndarray,
                  activation: str = "logistic") -> list[tuple[np.ndarray, np.ndarray]]:
        """The hand gradient ``[(dW, db), …]`` with this slip in it, in the params' dtype."""
        return hand_gradients(params, x, y, activation, self)


def hand_gradients(params, x: np.ndarray, y: np.ndarray, activation: str = "logistic",
                   slip: Slip | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(dW, db), …]`` by the backward pass above (``block_gradient``), with ``slip`` in it
    if given, in the params' dtype: the planted mistakes' common ground."""
    right = trace(params, x, activation)
    y = np.asarray(y, dtype=np.float64)
    grads = []
    for layer, (W, _) in enumerate(params, start=1):
        pair = []
        for block in (f"W{layer}", f"b{layer}"):
            wrong = right if slip is None or slip.change is None else slip.change(
                right, activation, block)
            value = block_gradient(wrong, y, block)
            if slip is not None and slip.finish is not None:
                value = slip.finish(value, block, right, y)
            pair.append(value.astype(np.asarray(W).dtype))
        grads.append(tuple(pair))
    return grads


def _every_slope(slope: Callable) -> Callable:
    """A change with ``slope(trace, activation, j)`` in place of σ'(z_j) at every layer."""
    def change(right: Trace, activation: str, block: str) -> Trace:
        return replace(right, slope=[None, *(slope(right, activation, j)
                                             for j in range(1, len(right.z)))])
    return change


def _own_slope_missing(right: Trace, activation: str, block: str) -> Trace:
    """σ'(z_l) applied to δ_l before stepping down, instead of σ'(z_(l-1)) after: each δ_k
    lacks its own σ'(z_k), and the chain above it is right."""
    k = int(block[1:])
    return replace(right, slope=[1.0 if j == k else s for j, s in enumerate(right.slope)])


def _not_transposed(right: Trace, activation: str, block: str) -> Trace:
    """``W`` reshaped to ``Wᵀ``'s shape carries δ down (``W`` itself when square)."""
    return replace(right, backward=[None, *(W_T.T.reshape(W_T.shape)
                                            for W_T in right.backward[1:])])


def _bias_only(build: Callable) -> Callable:
    """A finish rebuilding a bias's gradient as ``build(δ_k, n)``; weights stay right."""
    def finish(value, block, right: Trace, y):
        if block[0] == "W":
            return value
        return build(delta(right, y, int(block[1:])), right.a[0].shape[1])
    return finish


def _times(factor: Callable) -> Callable:
    return lambda value, block, right, y: factor(right.a[0].shape[1]) * value


NETWORK_SLIPS: dict[str, Slip] = {slip.name: slip for slip in [
    Slip("dropped-sigma-prime", "σ' left out of every delta", "output", "sigma_prime_missing",
         _every_slope(lambda right, activation, j: np.ones_like(right.z[j]))),
    Slip("sigma-prime-wrong-layer",
         "σ' of layer l applied to δ_l before stepping down, instead of σ'(z_(l-1)) after",
         "output", "sigma_prime_missing", _own_slope_missing),
    Slip("missing-transpose", "W used where Wᵀ belongs (reshaped to fit)", "below-output",
         "weight_not_transposed", _not_transposed),
    Slip("missing-1/N", "the cost's average over examples forgotten", "output", "missing_1/N",
         finish=_times(float)),
    Slip("factor-2", "the 2 of d(r²)/dr forgotten", "output", "half",
         finish=_times(lambda n: 0.5)),
    Slip("sign", "(y - a) where (a - y) belongs", "output", "sign",
         finish=_times(lambda n: -1.0)),
    Slip("bias-not-summed", "db = δ, one column per example, not summed", "output", "no_sum",
         finish=_bias_only(lambda d, n: d / n)),
    Slip("bias-averaged", "db = mean of δ over the batch, dividing by N twice", "output",
         "double_1/N", finish=_bias_only(lambda d, n: d.sum(axis=1, keepdims=True) / n / n)),
    Slip("wrong-derivative", "1 - σ² (tanh's formula) for σ'; 1 - tanh for tanh'", "output",
         "wrong_derivative", _every_slope(
             lambda right, activation, j: _WRONG_FORMULAS[activation][1](
                 get_activation(activation)[0], right.z[j]))),
    Slip("derivative-of-activation", "σ'(a) where σ'(z) belongs", "output",
         "sigma_prime_at_a", _every_slope(
             lambda right, activation, j: get_activation(activation)[1](right.a[j]))),
]}
