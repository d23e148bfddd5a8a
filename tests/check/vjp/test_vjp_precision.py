"""check_vjp where a correct backward rounds more than the forward's terms explain: attention
on a softmax saturated within 1e-15 of one-hot, in float64. It passes (the backward agrees
with the oracle one precision up, and its own rounding is allowed), while a real mistake on
the same inputs — or a backward that rounds to a lower precision inside — still fails."""

import numpy as np
import pytest

from autodiff import check_vjp
from autodiff.check.precision import RAISED
from reference.layers import LAYERS

DENSE, BATCHNORM, ATTENTION = LAYERS["dense"], LAYERS["batchnorm"], LAYERS["attention"]
needs_longdouble = pytest.mark.skipif(RAISED[np.dtype(np.float64)] is None,
                                      reason="longdouble is double on this platform")


def saturated_attention():
    """Scores up to hundreds apart: softmax within 1e-15 of one-hot in places."""
    rng = np.random.default_rng(9)
    return tuple(30 * rng.standard_normal(shape) for shape in ((3, 2), (3, 4), (2, 4)))


def spread(*shapes, seed=3):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape) for shape in shapes)


def changed(backward, change):
    """``backward`` with ``change(grads)`` applied to its list of gradients."""
    def wrong(dout, *args):
        grads = [np.array(g) for g in backward(dout, *args)]
        change(grads)
        return tuple(grads)
    return wrong


def one_element_off(slot, index, relative):
    def change(grads):
        grads[slot][index] *= 1 + relative
    return change


@needs_longdouble
@pytest.mark.parametrize("seed", [0, 2, 4, 7, 8, 9])
def test_a_correct_attention_on_saturated_scores_passes_in_float64(seed):
    result = check_vjp(ATTENTION.forward, ATTENTION.backward, *saturated_attention(),
                       seed=seed)
    assert result.passed, result.table()
    assert any("rerun in longdouble agrees" in a.trust for a in result.arguments), \
        result.table()


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize(("slot", "relative"), [(0, 1e-6), (1, 1e-5), (2, 1e-6)])
def test_a_slip_in_attention_on_saturated_scores_fails(slot, relative, seed):
    """At the largest element of each gradient. q's and k's are ~1e-7, formed from terms of
    size ~10; k's float64 bound here (scanned whole) is ~1e-6 of its largest element, so its
    slip is 1e-5 — as it would be without the rerun."""
    def change(grads):
        index = np.unravel_index(np.argmax(np.abs(grads[slot])), grads[slot].shape)
        grads[slot][index] *= 1 + relative

    result = check_vjp(ATTENTION.forward, changed(ATTENTION.backward, change),
                       *saturated_attention(), seed=seed)
    assert not result.arguments[slot].passed, result.table()


@pytest.mark.parametrize(("layer", "args"), [
    (DENSE, spread((2, 3), (4, 2), (4, 1))), (BATCHNORM, spread((2, 5), (2, 1), (2, 1))),
    (ATTENTION, saturated_attention())])
@pytest.mark.parametrize("change", [
    one_element_off(0, (0, 1), 1e-6),
    lambda grads: grads[0].__imul__(0.999),
], ids=["one element 1e-6 off", "a factor 0.999"])
def test_planted_mistakes_still_fail(layer, args, change):
    result = check_vjp(layer.forward, changed(layer.backward, change), *args)
    assert not result.passed, result.table()


def test_a_dropped_term_still_fails():
    def without_variance_path(dout, x, gamma, beta):  # dx's x̂·mean(dout·x̂) term left out
        dx, dgamma, dbeta = BATCHNORM.backward(dout, x, gamma, beta)
        centred = x - np.mean(x, axis=1, keepdims=True)
        std = np.sqrt(np.mean(centred**2, axis=1, keepdims=True))
        xhat = centred / std
        return dx + gamma / std * xhat * np.mean(dout * xhat, axis=1, keepdims=True), (
            dgamma), dbeta

    args = spread((2, 5), (2, 1), (2, 1))
    assert check_vjp(BATCHNORM.forward, BATCHNORM.backward, *args).passed
    assert not check_vjp(BATCHNORM.forward, without_variance_path, *args).passed


def test_a_dropped_term_in_attention_on_saturated_scores_still_fails():
    def without_dv(dout, q, k, v):
        dq, dk, dv = ATTENTION.backward(dout, q, k, v)
        return dq, dk, np.zeros_like(dv)

    assert not check_vjp(ATTENTION.forward, without_dv, *saturated_attention()).passed


def test_a_backward_rounding_to_float32_inside_a_float64_check_fails():
    def float32_inside(dout, *args):
        grads = ATTENTION.backward(np.float32(dout), *(np.float32(a) for a in args))
        return tuple(np.float64(g) for g in grads)

    assert not check_vjp(ATTENTION.forward, float32_inside, *saturated_attention()).passed
    assert not check_vjp(ATTENTION.forward, float32_inside, *spread(
        (3, 2), (3, 4), (2, 4))).passed


def test_a_backward_casting_to_float64_itself_fails_on_saturated_scores_as_before():
    def float64_inside(dout, *args):  # longdouble in, float64 computation: no higher run
        return ATTENTION.backward(np.float64(dout), *(np.float64(a) for a in args))

    result = check_vjp(ATTENTION.forward, float64_inside, *saturated_attention(), seed=7)
    assert not result.passed, result.table()
    assert not any("rerun" in a.trust for a in result.arguments)


def float32_saturated():
    """Scores tens apart: float32's softmax within its rounding of one-hot in places."""
    rng = np.random.default_rng(9)
    return tuple(np.float32(20 * rng.standard_normal(shape))
                 for shape in ((3, 2), (3, 4), (2, 4)))


def test_a_float32_check_reruns_in_float64():
    result = check_vjp(ATTENTION.forward, ATTENTION.backward, *float32_saturated())
    assert result.passed, result.table()
    assert "rerun in float64 agrees" in result["q"].trust, result.table()


def test_a_slip_in_a_float32_check_on_saturated_scores_fails():
    def change(grads):
        grads[0][np.unravel_index(np.argmax(np.abs(grads[0])), grads[0].shape)] *= 1 + 1e-3

    result = check_vjp(ATTENTION.forward, changed(ATTENTION.backward, change),
                       *float32_saturated())
    assert not result["q"].passed, result.table()
