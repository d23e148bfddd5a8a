"""``core.extended``: a jaxpr run by NumPy in ``longdouble`` computes what JAX computes, more
precisely where float64 cancels, and names a primitive it has no rule for."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autodiff.core import extended

pytestmark = pytest.mark.skipif(not extended.available(),
                                reason="longdouble is float64 on this platform")
RNG = np.random.default_rng(0)


def run_both(function, *args):
    with jax.enable_x64(True):
        closed = jax.make_jaxpr(function)(*args)
        expected = jax.tree.leaves(function(*args))
    return extended.evaluate(closed, *args), [np.asarray(e) for e in expected]


def mixed(a, b, c):
    s = jax.nn.softmax(a @ b, axis=-1)
    return (jnp.sum(s * jnp.log1p(jnp.abs(a @ b))) + jnp.mean(jax.nn.relu(a))
            + jnp.max(b) + jnp.sum(jnp.einsum("bij,bjk->bik", c, c).T)
            + jnp.sum(jnp.where(a > 0, jnp.sqrt(jnp.abs(a)), a ** 3)[:, 1:3]))


@pytest.mark.parametrize("function", [mixed, jax.grad(mixed, argnums=(0, 1, 2))],
                         ids=["value", "gradient"])
def test_it_computes_what_jax_computes(function):
    args = (RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)),
            RNG.standard_normal((2, 3, 3)))
    got, expected = run_both(function, *args)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.longdouble and g.shape == e.shape
        np.testing.assert_allclose(g.astype(np.float64), e, rtol=1e-13, atol=1e-15)


def test_where_float64_cancels_it_does_not():
    # JAX's derivative of tanh forms 1 - tanh(z)²: at z near 10, terms of size 1 leave 8e-9.
    z = np.linspace(8.0, 12.0, 9)
    derivative = jax.vmap(jax.grad(jnp.tanh))
    got, expected = run_both(derivative, z)
    exact = 1 / np.cosh(z.astype(np.longdouble)) ** 2
    float64_error = np.max(np.abs(expected[0] - exact) / exact)
    longdouble_error = np.max(np.abs(got[0] - exact) / exact)
    assert float64_error > 1e-9  # float64 is off in the ninth digit
    assert longdouble_error < float64_error / 500


def test_a_primitive_without_a_rule_is_named():
    with jax.enable_x64(True):
        closed = jax.make_jaxpr(lambda x: jax.lax.erf(x))(np.ones(3))
    with pytest.raises(extended.Unsupported, match="erf"):
        extended.evaluate(closed, np.ones(3))
