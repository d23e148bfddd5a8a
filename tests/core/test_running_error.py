"""The running-error bound holds: a float32 run of a computation stays within ``u₃₂ · bound``
of the float64 one, through cancellation, transcendental functions, sums and products; and a
primitive without a rule is refused, not trusted."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autodiff.core.layers import bounded

U32 = float(np.finfo(np.float32).eps) / 2


def cancelling(x, W):
    t = jnp.tanh(W @ x)
    return jnp.sum(1 - t * t, axis=0) - jnp.log1p(jnp.exp(-jnp.abs(x))).sum(axis=0)


def softmax_backward_like(z, g):
    p = jnp.exp(z - jnp.max(z, axis=0)) / jnp.sum(jnp.exp(z - jnp.max(z, axis=0)), axis=0)
    return p * (g - jnp.sum(p * g, axis=0))


@pytest.mark.parametrize("function", [cancelling, softmax_backward_like])
@pytest.mark.parametrize("seed", range(3))
def test_float32_stays_within_the_bound_of_float64(function, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((4, 5)) * 3
    b = rng.standard_normal((4, 4) if function is cancelling else (4, 5)) * 3
    with jax.enable_x64(True):
        args64 = (jnp.asarray(a, jnp.float32).astype(jnp.float64),
                  jnp.asarray(b, jnp.float32).astype(jnp.float64))
        exact, bound = bounded(function)(*args64)
        single = function(*(arg.astype(jnp.float32) for arg in args64))
    error = np.abs(np.asarray(single, np.float64) - np.asarray(exact))
    assert np.all(error <= U32 * np.asarray(bound) + 1e-38)
    assert np.max(np.asarray(bound)) > 0


def test_a_primitive_without_a_rule_is_refused():
    with jax.enable_x64(True), pytest.raises(NotImplementedError, match="'sort'"):
        bounded(lambda x: jnp.sort(x) * 2.0)(jnp.arange(3.0))
