"""A correct hvp of a function near saturation is not failed for ``jax.jvp``'s own rounding:
inside JAX's derivative of ``tanh`` the ``1 − tanh²`` cancels terms of size 1 to leave 1e-9,
which the finite-difference scan cannot see, and the float64 oracle strays by more than the
scan's rounding allows. The same program run in ``longdouble`` (``core.extended``) does not,
and judged against it the correct hvp passes while a relative error of 1e-6 still fails."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import autodiff.check.vjp.oracles as vjp_oracles
from autodiff import check_hvp

RNG = np.random.default_rng(1)
W, X = RNG.standard_normal((3, 4)) * 40, RNG.standard_normal((4, 5))  # |w x| up to ~100


def cost(w, x):
    return jnp.sum(jax.nn.softplus(w @ x) + jnp.tanh(w @ x) ** 2)


def hvp(v, w, x):
    """By hand: the second derivative of softplus(z) + tanh(z)² in z, times (v x), times xᵀ."""
    z = w @ x
    s, t = 1 / (1 + np.exp(-z)), np.tanh(z)
    second = s * (1 - s) + 2 * (1 - t ** 2) ** 2 - 4 * t ** 2 * (1 - t ** 2)
    return (second * (v @ x)) @ x.T


def test_a_correct_hvp_near_saturation_passes(monkeypatch):
    result = check_hvp(cost, hvp, W, X, wrt=[0])
    assert result.passed, result.table()
    assert "rerun in longdouble" in result["w"].trust
    # Without the oracle's longdouble rerun, this correct hvp fails: the false alarm it stops.
    monkeypatch.setattr(vjp_oracles, "jax_extended", lambda *args: None)
    assert not check_hvp(cost, hvp, W, X, wrt=[0]).passed


@pytest.mark.parametrize("where", ["largest", "rounded"])
def test_a_relative_error_of_1e_6_is_still_caught(where):
    # At the largest element, and at the one where the float64 oracle strays the most.
    v = np.random.default_rng(5).standard_normal(W.shape)
    exact = hvp(v, W, X)
    with jax.enable_x64(True):
        oracle = np.asarray(jax.jvp(lambda w: jax.grad(cost)(w, X), (W,), (v,))[1])
    worst = np.unravel_index(int(np.argmax(np.abs(exact) if where == "largest" else
                                           np.abs(oracle - exact) / np.abs(exact))),
                             exact.shape)

    def one_off(direction, w, x):
        product = hvp(direction, w, x)
        product[worst] *= 1 + 1e-6
        return product

    result = check_hvp(cost, one_off, W, X, v=v, wrt=[0])
    assert not result.passed
    assert result["w"].worst_index == tuple(int(i) for i in worst)
