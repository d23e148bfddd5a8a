"""check_custom_rule: jax.custom_jvp / custom_vjp rules against their primal implementation, and
the contract for arguments that are not differentiable."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autodiff import check_custom_rule

X = np.random.default_rng(1).standard_normal((3, 4))


def softplus_with(slope):
    @jax.custom_jvp
    def softplus(x):
        return jnp.log1p(jnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return softplus(x), slope(x) * dx

    return softplus


def scaled_sine_with(cotangent_of_n):
    @jax.custom_vjp
    def scaled_sine(x, n):
        return jnp.sin(x) * n

    def fwd(x, n):
        return scaled_sine(x, n), (x, n)

    def bwd(residuals, g):
        x, n = residuals
        return g * jnp.cos(x) * n, cotangent_of_n

    scaled_sine.defvjp(fwd, bwd)
    return scaled_sine


def test_a_right_custom_jvp_passes_against_jax_of_its_primal():
    result = check_custom_rule(softplus_with(jax.nn.sigmoid), X)
    assert result.passed and result.kind == "custom_jvp", result.table()
    assert result.oracle == "jax.jvp"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_wrong_custom_jvp_fails(dtype):
    result = check_custom_rule(softplus_with(lambda x: jax.nn.sigmoid(-x)), X, dtype=dtype)
    assert not result.passed and result.result.failing == ["tangent of out"], result.table()


def test_a_custom_vjp_with_an_integer_argument_honours_the_contract():
    result = check_custom_rule(scaled_sine_with(None), X, 3)
    assert result.passed and result.kind == "custom_vjp", result.table()
    assert result.oracle == "jax.vjp"


def test_a_nonzero_cotangent_for_an_integer_argument_breaks_the_contract():
    result = check_custom_rule(scaled_sine_with(jnp.ones(())), X, 3)
    assert not result.passed and result.result.passed
    assert "argument 1, which is not differentiable" in result.contract[0], result.table()
    assert "contract" in repr(result)


def test_a_none_cotangent_for_a_float_argument_is_read_as_zero_and_fails():
    @jax.custom_vjp
    def product(x, y):
        return x * y

    product.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g * r[1], None))
    result = check_custom_rule(product, X, X + 1)
    assert result.result.failing == ["y"], result.table()


def test_a_custom_jvp_gets_float0_tangents_for_integers_and_nondiff_argnums():
    @functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
    def power(k, x, n):
        return x**k * n

    @power.defjvp
    def power_jvp(k, primals, tangents):
        x, n = primals
        dx, dn = tangents
        assert dn.dtype == jax.dtypes.float0
        return power(k, x, n), k * x ** (k - 1) * n * dx

    result = check_custom_rule(power, 3, X, 2)
    assert result.passed, result.table()
    assert [a.name for a in result.result.arguments] == ["out", "tangent of out"]


def test_an_untraceable_primal_is_checked_by_the_complex_step_and_says_so():
    @jax.custom_vjp
    def clipped(x):
        if float(jnp.real(jnp.sum(x))) > 1e9:  # Python control flow on values: no tracing
            return x
        return jnp.sin(x)

    clipped.defvjp(lambda x: (clipped(x), x), lambda x, g: (g * jnp.cos(x),))
    result = check_custom_rule(clipped, X)
    assert result.passed and result.oracle == "complex step", result.table()


def test_anything_else_is_a_clear_error():
    with pytest.raises(TypeError, match=r"jax\.custom_jvp or jax\.custom_vjp"):
        check_custom_rule(np.sin, X)


def test_a_torch_function_is_checked_when_torch_is_installed():
    torch = pytest.importorskip("torch")

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    class WrongCube(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x**2 * g

    assert check_custom_rule(Cube, X).passed
    assert not check_custom_rule(WrongCube, X).passed


def test_a_fwd_whose_primal_differs_from_fun_breaks_the_contract():
    @jax.custom_vjp
    def sine(x):
        return jnp.sin(x)

    sine.defvjp(lambda x: (jnp.cos(x), x), lambda x, g: (g * jnp.cos(x),))
    result = check_custom_rule(sine, X)
    assert result.result.passed and not result.passed, result.table()
    assert "fwd's primal output 0 differs from fn.fun's" in result.contract[0]
