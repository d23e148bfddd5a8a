"""``check_vjp`` on plain NumPy forwards (loops, buffers, ``np.var``): the checker finds an
oracle that works on each, says which and why the better ones were not used, and every oracle
— ``jax.vjp`` rebound, the complex step, Ridders — is shown able to fail."""

import numpy as np
import pytest
from layer_examples import array_api as A
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style
from autodiff.check.vjp import oracles as vjp_oracles
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.probe import Probe

rng = np.random.default_rng(11)


def normal(*shape):
    return rng.standard_normal(shape)


CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"size": 2, "stride": 2}
LAYERS = {  # name: (layer_forward, layer_backward, args, the oracle it must end up with)
    "conv": (L.conv_forward_naive, L.conv_backward_naive,
             (normal(1, 2, 3, 3), normal(2, 2, 2, 2), normal(2), CONV_PARAM), "ridders"),
    "max_pool": (L.max_pool_forward_naive, L.max_pool_backward_naive,
                 (normal(2, 1, 4, 4), POOL_PARAM), "ridders"),
    "batchnorm_columns": (L.batchnorm_columns_forward, L.batchnorm_backward,
                          (normal(5, 3), normal(3), normal(3), {}), "ridders"),
    "sigmoid_loop": (L.sigmoid_loop_forward, L.sigmoid_loop_backward, (normal(3, 4),),
                     "complex step"),
    # Only array methods (.reshape, .dot): JAX runs it as it is.
    "affine": (L.affine_forward, L.affine_backward, (normal(3, 2, 2), normal(4, 3), normal(3)),
               "jax.vjp"),
    "lstm_step": (L.lstm_step_forward, L.lstm_step_backward,
                  (normal(2, 3), normal(2, 2), normal(2, 2), normal(3, 8), normal(2, 8),
                   normal(8)), "jax.vjp (numpy rebound to jax.numpy)"),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_correct_numpy_layers_pass_with_a_working_oracle(layer, dtype):
    layer_forward, layer_backward, args, oracle = LAYERS[layer]
    result = check_vjp(*from_cache_style(layer_forward, layer_backward), *args, dtype=dtype)
    assert result.passed, result.table()
    assert {a.oracle for a in result.arguments} == {oracle}, result.table()
    for argument in result.arguments:
        relative = argument.tolerance / argument.scale
        assert relative < (1e-9 if dtype == "float64" else 1e-3), argument


def test_why_better_oracles_were_not_used_is_reported():
    layer_forward, layer_backward, args, _ = LAYERS["conv"]
    result = check_vjp(*from_cache_style(layer_forward, layer_backward), *args)
    fallbacks = " ".join(result["w"].fallbacks)
    assert "jax.vjp: it converts its input to a NumPy array" in fallbacks
    assert "rebound to jax.numpy: it assigns into an array in place" in fallbacks
    assert "ComplexWarning" in fallbacks and "zero derivative" in fallbacks
    assert "estimated error" in result["w"].trust and "not used:" in result.table()


def test_the_silent_complex_step_trap_is_caught_by_validation():
    """``np.var`` of a complex column is real: the complex step loses the variance's share of
    the derivative without any warning. Validated against finite differences, it is refused."""
    layer_forward, layer_backward, args, _ = LAYERS["batchnorm_columns"]
    forward, backward = from_cache_style(layer_forward, layer_backward)
    layout = Layout.build(forward, args)
    probe = Probe(forward, layout, [normal(5, 3)])
    everything = np.ones((5, 3), bool)
    silent = vjp_oracles.complex_step(probe, 0, everything)
    honest, error = vjp_oracles.ridders_gradient(probe, 0, everything)
    assert np.max(np.abs(silent - honest)) > 1e3 * np.max(error)  # wrong, and no warning
    with pytest.raises(ValueError, match="complex step disagrees with finite differences"):
        check_vjp(forward, backward, *args, oracle="complex-step")
    with pytest.raises(ValueError, match="ComplexWarning"):
        check_vjp(*from_cache_style(L.conv_forward_naive, L.conv_backward_naive),
                  *LAYERS["conv"][2], oracle="complex-step")


def test_a_jax_oracle_that_disagrees_with_finite_differences_is_refused():
    def detached(x):  # same values under JAX, but no derivative flows through the tanh
        xp = x.__array_namespace__()
        if xp.__name__.startswith("jax"):
            import jax
            return jax.lax.stop_gradient(xp.tanh(x))
        return xp.tanh(x)

    result = check_vjp(detached, A.tanh_backward, normal(3, 4))
    assert result.passed and result["x"].oracle == "complex step"
    assert "jax.vjp disagrees with finite differences" in result["x"].fallbacks[0]


def _nudged(backward, which, relative=1e-6):
    def nudged(dout, *args):
        grads = [np.array(g, dtype=float) for g in backward(dout, *args)]
        grads[which].flat[np.argmax(np.abs(grads[which]))] *= 1 + relative
        return tuple(grads)
    return nudged


@pytest.mark.parametrize("oracle", ["jax", "complex-step", "ridders"])
def test_each_oracle_catches_a_millionth_in_one_float64_element(oracle):
    forward, backward = from_cache_style(L.affine_forward, L.affine_backward)
    args = LAYERS["affine"][2]
    assert check_vjp(forward, backward, *args, oracle=oracle).passed
    for which, name in enumerate(["x", "w", "b"]):
        result = check_vjp(forward, _nudged(backward, which), *args, oracle=oracle)
        assert result.failing == [name], (oracle, result.table())
        assert result[name].max_rel_error == pytest.approx(1e-6, rel=1e-2)


def test_ridders_catches_mistakes_in_a_loop_layer():
    layer_forward, layer_backward, args, _ = LAYERS["conv"]
    forward, backward = from_cache_style(layer_forward, layer_backward)

    def skips_last_row(dout, *args):  # a loop bound one short: dx's last row is never written
        dx, dw, db = backward(dout, *args)
        dx = dx.copy()
        dx[:, :, -1, :] = 0
        return dx, dw, db

    result = check_vjp(forward, skips_last_row, *args)
    assert result.failing == ["x"] and result["x"].oracle == "ridders"
    assert result["x"].diagnosis[0][0] == "slice", result.table()
    assert "index 2 (the last) of axis 2" in result["x"].diagnosis[0][1]
    twice = check_vjp(forward, lambda d, *a: (lambda dx, dw, db: (dx, 2 * dw, db))(
        *backward(d, *a)), *args, dtype="float32")
    assert twice.failing == ["w"] and twice["w"].diagnosis[0][0] == "factor_2"


def test_complex_step_catches_a_mistake_in_a_loop_layer():
    forward, backward = from_cache_style(L.sigmoid_loop_forward, L.sigmoid_loop_backward)
    x = normal(3, 4)
    result = check_vjp(forward, lambda dout, x: backward(dout, x) * (1 - x * 1e-3), x)
    assert result.failing == ["x"] and result["x"].oracle == "complex step"


def test_rebound_jax_catches_a_mistake_in_a_vectorized_numpy_layer():
    layer_forward, layer_backward, args, _ = LAYERS["lstm_step"]
    forward, backward = from_cache_style(layer_forward, layer_backward)

    def forget_gate_derivative_dropped(dout, *args):  # dc * f lost: gradient of prev_c zero
        grads = list(backward(dout, *args))
        grads[2] = np.zeros_like(grads[2])
        return tuple(grads)

    result = check_vjp(forward, forget_gate_derivative_dropped, *args)
    assert result.failing == ["prev_c"] and result["prev_c"].diagnosis[0][0] == "zeros"
    assert result["prev_c"].oracle.startswith("jax.vjp (numpy rebound")


def test_saturated_float32_layers_pass_and_their_mistakes_still_fail():
    """At saturation a correct float32 backward loses the small derivative to cancellation
    (``σ(1 − σ)`` with σ ≈ 1, a confident softmax's ``dout − Σ dout·p``); the tolerance's secant
    and forward-value terms admit exactly that, not a wrong formula."""
    x = np.array([[0.5, -1.0, 2.0],        # unsaturated: a 0.1% error shows here
                  [-10.85, -45.8, 9.8]])    # saturated: softmax 1 - 1e-9 in one place
    forward, backward = from_cache_style(L.sigmoid_loop_forward, L.sigmoid_loop_backward)
    assert check_vjp(forward, backward, x, dtype="float32").passed
    halved = check_vjp(forward, lambda d, x: backward(d, x) * 0.999, x, dtype="float32")
    assert halved.failing == ["x"]
    result = check_vjp(A.softmax, A.softmax_backward, x, dtype="float32", oracle="complex-step")
    assert result.passed, result.table()
    no_shift = check_vjp(A.softmax, lambda d, x: A.softmax(x) * d, x, dtype="float32",
                         oracle="complex-step")
    assert no_shift.failing == ["x"]
