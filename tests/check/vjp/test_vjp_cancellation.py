"""Bounds account for cancellation in ``x − mean`` (``check.vjp.tolerance``): a correct float32
batch norm of two examples whose spread is 2% of their size passes — it is off by 0.1%, which
the bound without the cancellation term called "0.999 times the right value" — while a 0.999
factor on a well-spread input, and a 0.9 factor on the ill-conditioned one, still fail."""

import numpy as np
import pytest
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style
from autodiff.check.strategies import check_layer

PAIR = from_cache_style(L.batchnorm_centred_forward, L.batchnorm_centred_backward)


def close_pair(seed: int, n: int = 2, d: int = 1):
    """A batch whose first feature's spread is 0.012 around 0.52 (the condition of
    ``x − mean`` about 87), others drawn normal, in float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[:, 0] = 0.52 + 0.006 * np.linspace(-1, 1, n) * (1 + 0.1 * rng.standard_normal(n))
    gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
    return x, gamma.astype(np.float32), beta.astype(np.float32)


def scaled(factor):
    def backward(dout, cache):
        dx, dgamma, dbeta = L.batchnorm_centred_backward(dout, cache)
        return factor * dx, dgamma, dbeta
    return backward


@pytest.mark.parametrize("shape", [(2, 1), (2, 3), (4, 2)])
def test_a_correct_float32_batch_norm_with_a_small_spread_passes(shape):
    for seed in range(4):
        result = check_vjp(*PAIR, *close_pair(seed, *shape), seed=seed)
        assert result.passed, result.table()
        assert result.dtype == "float32" and result["x"].oracle != "jax.vjp"


def test_a_constant_factor_still_fails_where_the_input_is_well_spread():
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    assert check_vjp(*PAIR, x, gamma, beta).passed
    wrong = check_vjp(PAIR[0],
                      from_cache_style(L.batchnorm_centred_forward, scaled(0.999))[1],
                      x, gamma, beta)
    assert wrong.failing == ["x"], wrong.table()


def test_a_real_mistake_still_fails_on_the_ill_conditioned_input():
    result = check_vjp(PAIR[0], from_cache_style(L.batchnorm_centred_forward, scaled(0.9))[1],
                       *close_pair(0, 2, 3))
    assert result.failing == ["x"], result.table()


def test_check_layer_passes_the_correct_batch_norm_at_the_smallest_sizes():
    check_layer(L.batchnorm_centred_forward, L.batchnorm_centred_backward,
                {"x": ("N", "D"), "gamma": ("D",), "beta": ("D",)}, cache_style=True,
                dims={"N": 2}, dtype="float32", scale=0.5, max_examples=8)


def test_a_bound_widened_by_cancellation_is_said_and_float64_is_not():
    loose = check_vjp(*PAIR, *close_pair(0, 2, 3))
    said = [w for w in loose.warnings if w.startswith("x is spread narrowly")]
    assert loose.passed and said and "check such inputs in float64" in said[0], loose.warnings
    x, gamma, beta = close_pair(0, 2, 3)
    tight = check_vjp(*PAIR, x, gamma, beta, dtype="float64")
    assert tight.passed and not [w for w in tight.warnings if "spread narrowly" in w]
    well = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    assert check_vjp(*PAIR, well, gamma, beta).warnings == []
