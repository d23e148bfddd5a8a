"""``reference.hvp`` (the R-operator by hand) and the activations' second derivatives, against
JAX's forward-over-reverse in float64; its input checks name the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import reference
from autodiff.core.network import cost as jax_cost
from reference.activations import ACTIVATIONS, SECOND_DERIVATIVES

JAX_ACTIVATIONS = {"logistic": jax.nn.sigmoid, "tanh": jnp.tanh}


def jax_hvp(params, x, y, v, activation):
    with jax.enable_x64(True):
        _, product = jax.jvp(lambda p: jax.grad(jax_cost)(p, x, y, activation), (params,), (v,))
    return [(np.asarray(dW), np.asarray(db)) for dW, db in product]


def direction(params, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]


def largest_gap(a, b):
    return max(float(np.max(np.abs(p - q))) for pa, pb in zip(a, b, strict=True)
               for p, q in zip(pa, pb, strict=True))


def largest(a):
    return max(float(np.max(np.abs(p))) for pair in a for p in pair)


def test_every_activation_has_a_second_derivative():
    assert set(SECOND_DERIVATIVES) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_second_derivatives_match_jax(name):
    z = np.concatenate([np.linspace(-40, 40, 801), [0.0, 1e-300, -1e-300, 700.0, -800.0]])
    with jax.enable_x64(True):
        expected = np.asarray(jax.vmap(jax.grad(jax.grad(JAX_ACTIVATIONS[name])))(z))
    got = SECOND_DERIVATIVES[name](z)
    # A few ulps of f'' 's largest value (about 0.1 for the logistic, 0.77 for tanh).
    assert np.max(np.abs(got - expected)) <= 64 * np.finfo(float).eps, name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_second_derivatives_are_finite_and_silent_for_huge_inputs(name):
    z = np.array([-np.finfo(float).max, -1e6, 1e6, np.finfo(float).max])
    with np.errstate(all="raise"):
        assert np.all(SECOND_DERIVATIVES[name](z) == 0.0)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[1, 6, 7, 2], [3, 2], [4, 5, 3, 6, 2]])
def test_hvp_matches_forward_over_reverse(sizes, activation):
    params = reference.init_params(sizes, rng=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((sizes[0], 9))
    y = rng.uniform(-1, 1, (sizes[-1], 9))
    v = direction(params, 3)
    got = reference.hvp(params, x, y, v, activation=activation)
    expected = jax_hvp(params, x, y, v, activation)
    assert [(a.shape, b.shape) for a, b in got] == [(W.shape, b.shape) for W, b in params]
    assert largest_gap(got, expected) <= 1e-13 * largest(expected)


def test_worksheet_network_hvp_matches_jax_on_the_heart():
    params = reference.init_params([1, 6, 7, 2], rng=0)
    x, y = reference.training_data(100)
    v = direction(params, 4)
    expected = jax_hvp(params, x, y, v, "logistic")
    assert largest_gap(reference.hvp(params, x, y, v), expected) <= 1e-13 * largest(expected)


def test_hvp_matches_finite_differences_of_the_hand_gradient():
    params = reference.init_params([1, 6, 7, 2], rng=5)
    x, y = reference.training_data(40)
    v = direction(params, 6)
    h = 1e-5

    def moved(sign):
        return reference.gradients([(W + sign * h * V, b + sign * h * c)
                                    for (W, b), (V, c) in zip(params, v, strict=True)], x, y)

    plus, minus = moved(1), moved(-1)
    central = [((p1 - m1) / (2 * h), (p2 - m2) / (2 * h))
               for (p1, p2), (m1, m2) in zip(plus, minus, strict=True)]
    got = reference.hvp(params, x, y, v)
    # Central differences err by h²·|∇³C|/6 plus rounding u·|∇C|/h: about 1e-9 here.
    assert largest_gap(got, central) <= 1e-7 * largest(got)


@pytest.mark.parametrize("bad, message", [
    (lambda p: p[:-1], "v: expected a list of 3"),
    (lambda p: [(p[0][0], p[0][1]), (p[1][0].T, p[1][1]), p[2]], r"v\[1\] V: expected shape"),
    (lambda p: [p[0], (p[1][0], p[1][1].ravel()), p[2]], r"v\[1\] c: expected a 2-D array"),
    (lambda p: [p[0], p[1], (p[2][0], np.full_like(p[2][1], np.nan))],
     r"v\[2\] c: expected finite values"),
    (lambda p: [p[0], p[1], p[2][0]], r"v\[2\]: expected a \(V, c\) pair"),
])
def test_bad_directions_are_named(bad, message):
    params = reference.init_params([1, 6, 7, 2], rng=0)
    x, y = reference.training_data(10)
    with pytest.raises((TypeError, ValueError), match=message):
        reference.hvp(params, x, y, bad(direction(params, 0)))

