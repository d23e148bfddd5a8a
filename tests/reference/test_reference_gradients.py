"""The general hand-derived backprop against central finite differences.

The oracle below shares no code with ``reference``: its own forward pass, its own activations,
its own cost. Central differences with step h have truncation error ~h²·|C'''|/6 and rounding
error ~eps·|C|/h; with h = eps^(1/3) (≈6e-6 in float64) both are ~eps^(2/3) ≈ 4e-11 times the
scale of the cost and its derivatives, which are O(1) here (bounded activations, weights O(1)).
The comparison tolerance, 1e-7 absolute plus 1e-6 relative, leaves a margin of over 1000× for
that, and is still 10⁴× below the smallest planted mistake's effect.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from reference import activations as reference_activations

EPS = np.finfo(np.float64).eps
STEP = EPS ** (1 / 3)
ATOL, RTOL = 1e-7, 1e-6

_ORACLE_ACTIVATIONS = {
    "logistic": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # an identity, not the backprop's form
    "tanh": np.tanh,
}


def oracle_cost(params, x, y, activation):
    f = _ORACLE_ACTIVATIONS[activation]
    a = x
    for W, b in params:
        a = f(np.einsum("ij,jk->ik", W, a) + b)
    return float(((a - y) ** 2).sum() / x.shape[1])


def finite_difference_gradients(params, x, y, activation):
    """Central differences for every parameter, one at a time."""
    work = [(W.copy(), b.copy()) for W, b in params]
    grads = []
    for W, b in work:
        blocks = []
        for array in (W, b):
            grad = np.empty_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                h = STEP * max(1.0, abs(saved))
                array[index] = saved + h
                up = oracle_cost(work, x, y, activation)
                array[index] = saved - h
                down = oracle_cost(work, x, y, activation)
                array[index] = saved
                grad[index] = (up - down) / (2 * h)
            blocks.append(grad)
        grads.append(tuple(blocks))
    return grads


def assert_matches_oracle(grads, params, x, y, activation):
    expected = finite_difference_gradients(params, x, y, activation)
    for layer, (got, want) in enumerate(zip(grads, expected, strict=True)):
        for name, g, w in zip(("W", "b"), got, want, strict=True):
            assert g.shape == w.shape, f"layer {layer + 1} {name}: shape {g.shape} != {w.shape}"
            np.testing.assert_allclose(
                g, w, rtol=RTOL, atol=ATOL, err_msg=f"layer {layer + 1} d{name}"
            )


def random_case(seed: int):
    """A random network of depth 1-5, widths 1-12, input/output 1-4, batch 1-40."""
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 6))
    sizes = (
        [int(rng.integers(1, 5))]
        + [int(rng.integers(1, 13)) for _ in range(depth - 1)]
        + [int(rng.integers(1, 5))]
    )
    batch = int(rng.choice([1, 2, 7, 40]))
    scale = float(rng.choice([0.1, 0.5, 1.5]))
    params = reference.init_params(sizes, rng=rng, scale=scale)
    x = rng.standard_normal((sizes[0], batch))
    y = rng.uniform(-1, 1, size=(sizes[-1], batch))
    return params, x, y


CASES = [(seed, activation) for seed in range(24) for activation in ("logistic", "tanh")]


@pytest.mark.parametrize(("seed", "activation"), CASES)
def test_gradients_match_finite_differences(seed, activation):
    params, x, y = random_case(seed)
    grads = reference.gradients(params, x, y, activation=activation)
    assert_matches_oracle(grads, params, x, y, activation)


@pytest.mark.parametrize(
    "sizes", [[1, 1], [3, 2], [1, 1, 1, 1, 1, 1], [2, 12, 1], [1, 6, 7, 2]], ids=str
)
@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_edge_shapes_depth_one_width_one_batch_one(sizes, activation):
    rng = np.random.default_rng(len(sizes))
    params = reference.init_params(sizes, rng=rng)
    x = rng.standard_normal((sizes[0], 1))
    y = rng.uniform(size=(sizes[-1], 1))
    grads = reference.gradients(params, x, y, activation=activation)
    assert_matches_oracle(grads, params, x, y, activation)


def test_gradients_keep_float32():
    params, x, y = random_case(3)
    params32 = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    grads = reference.gradients(params32, x.astype(np.float32), y.astype(np.float32))
    assert all(g.dtype == np.float32 for pair in grads for g in pair)


# --- the oracle can fail: planted mistakes in the backprop are caught -------------------------

def _wrong_logistic_derivative(z):
    return reference_activations.logistic(z)  # σ instead of σ'


def _scaled(grads, factor, layer):
    return [
        (W * factor, b * factor) if index == layer else (W, b)
        for index, (W, b) in enumerate(grads)
    ]


PLANTED = {
    "missing 1/N": lambda g, n: _scaled(g, n, 0),
    "factor 2 dropped in the last layer": lambda g, n: _scaled(g, 0.5, len(g) - 1),
    "sign flipped": lambda g, n: _scaled(g, -1.0, 0),
    "bias divided by N twice": lambda g, n: [(W, b / n) for W, b in g],
}


@pytest.mark.parametrize("mistake", sorted(PLANTED))
def test_oracle_catches_planted_output_mistakes(mistake):
    params, x, y = random_case(5)
    n = x.shape[1]
    assert n > 1, "the case must have several examples for every mistake to show"
    wrong = PLANTED[mistake](reference.gradients(params, x, y), n)
    with pytest.raises(AssertionError):
        assert_matches_oracle(wrong, params, x, y, "logistic")


def test_oracle_catches_a_wrong_derivative_inside_the_backprop(monkeypatch):
    params, x, y = random_case(7)
    monkeypatch.setitem(
        reference_activations.ACTIVATIONS,
        "logistic",
        (reference_activations.logistic, _wrong_logistic_derivative),
    )
    grads = reference.gradients(params, x, y, activation="logistic")
    with pytest.raises(AssertionError):
        assert_matches_oracle(grads, params, x, y, "logistic")


def test_finite_difference_oracle_error_is_far_below_tolerance():
    # The derivation above claims an error ~eps^(2/3); check it on the closed form for one
    # logistic unit: C = (σ(w x + b) - y)², dC/dw = 2 (σ - y) σ(1 - σ) x.
    w, b, x, y = 0.7, -0.3, 1.3, 0.2
    params = [(np.array([[w]]), np.array([[b]]))]
    s = 1 / (1 + math.exp(-(w * x + b)))
    exact = 2 * (s - y) * s * (1 - s) * x
    fd = finite_difference_gradients(params, np.array([[x]]), np.array([[y]]), "logistic")
    assert abs(fd[0][0][0, 0] - exact) < 1e3 * EPS ** (2 / 3)
