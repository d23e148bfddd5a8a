"""The JAX twin agrees with the NumPy reference, and its Jacobians, deltas and per-example
gradients are consistent with its own gradient. float64 throughout, in a scoped x64 context."""

import jax
import numpy as np
import pytest

import reference
from autodiff.core import network
from autodiff.core.tolerance import error_bounds

SIZES = [3, 4, 2]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    params = reference.init_params(SIZES, rng=rng, scale=1.0)
    return params, rng.standard_normal((3, 6)), rng.uniform(size=(2, 6))


def flat(grads):
    return [np.asarray(block, np.float64) for layer in grads for block in layer]


def assert_within_bounds(got, want, case, activation, label):
    # Two correct float64 computations differ by at most twice the derived rounding bound.
    params, x, y = case
    bounds = error_bounds(params, x, y, activation, np.float64)
    for g, w, bound in zip(flat(got), flat(want), flat(bounds.grads), strict=True):
        assert np.all(np.abs(g - w) <= 2 * bound), label


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_forward_cost_and_grad_match_reference(case, activation):
    params, x, y = case
    with jax.enable_x64(True):
        out = np.asarray(network.forward(params, x, activation))
        c = float(network.cost(params, x, y, activation))
        g = network.grad(params, x, y, activation)
    assert out.shape == (2, 6)
    np.testing.assert_allclose(out, reference.forward(params, x, activation), rtol=1e-14)
    np.testing.assert_allclose(c, reference.cost(params, x, y, activation), rtol=1e-13)
    assert_within_bounds(g, reference.gradients(params, x, y, activation), case, activation,
                         "jax.grad vs reference")


def test_a_wrong_gradient_is_outside_the_bounds(case):
    # The comparison above can fail: a 1e-9 relative slip in one element is caught.
    params, x, y = case
    wrong = reference.gradients(params, x, y)
    wrong[1][0][0, 0] *= 1 + 1e-9
    with pytest.raises(AssertionError, match="planted"):
        assert_within_bounds(wrong, reference.gradients(params, x, y), case, "logistic",
                             "planted")


def test_jacfwd_equals_jacrev(case):
    params, x, _ = case
    with jax.enable_x64(True):
        rev = network.output_jacobian(params, x, mode="rev")
        fwd = network.output_jacobian(params, x, mode="fwd")
    for (W, b), (jW_rev, jb_rev), (jW_fwd, jb_fwd) in zip(params, rev, fwd, strict=True):
        assert jW_rev.shape == (2, 6, *W.shape) and jb_rev.shape == (2, 6, *b.shape)
        np.testing.assert_allclose(jW_rev, jW_fwd, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(jb_rev, jb_fwd, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_cost_jacobian_is_the_gradient(case, mode):
    params, x, y = case
    with jax.enable_x64(True):
        jac = network.cost_jacobian(params, x, y, mode=mode)
    assert_within_bounds(jac, reference.gradients(params, x, y), case, "logistic", mode)


def test_unknown_mode_is_refused(case):
    params, x, y = case
    with pytest.raises(ValueError, match="mode: expected 'rev' or 'fwd', got 'sideways'"):
        network.output_jacobian(params, x, mode="sideways")
    with pytest.raises(ValueError, match="mode"):
        network.cost_jacobian(params, x, y, mode="sideways")


def test_deltas_rebuild_the_gradient(case):
    # dC/db_l = Σ_examples δ_l and dC/dW_l = δ_l a_(l-1)ᵀ: the vjp deltas are the true ones.
    params, x, y = case
    with jax.enable_x64(True):
        deltas = [np.asarray(d) for d in network.deltas(params, x, y)]
    _, activations = reference.forward_trace(params, x)
    rebuilt = [(d @ a.T, d.sum(axis=1, keepdims=True))
               for d, a in zip(deltas, activations[:-1], strict=True)]
    assert [d.shape for d in deltas] == [(4, 6), (2, 6)]
    assert_within_bounds(rebuilt, reference.gradients(params, x, y), case, "logistic",
                         "deltas")


def test_mean_of_per_example_grads_is_the_batch_grad(case):
    params, x, y = case
    with jax.enable_x64(True):
        per_example = network.per_example_grads(params, x, y)
        mean = [(np.mean(dW, axis=0), np.mean(db, axis=0)) for dW, db in per_example]
    assert per_example[0][0].shape == (6, 4, 3)
    assert_within_bounds(mean, reference.gradients(params, x, y), case, "logistic", "mean")


def test_unknown_activation_names_the_choices(case):
    params, x, _ = case
    with pytest.raises(ValueError, match=r"activation: unknown name 'relu'.*logistic"):
        network.forward(params, x, "relu")
