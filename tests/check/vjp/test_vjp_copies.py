"""Every call gets its own copies: a backward that writes into its ``dout`` (CS231n's LSTM step
does ``dnext_c += …``) or a forward or backward that writes into an argument is checked on what
it was given — no false alarm — and the write is warned about, since in a network it changes
the caller's arrays."""

import numpy as np
import pytest
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style

rng = np.random.default_rng(5)


def normal(*shape):
    return rng.standard_normal(shape)


def triple(x):
    return 3 * x


def triple_backward_zeroing_dout(dout, x):
    dx = 3 * dout
    dout *= 0
    return dx


def test_a_backward_that_zeroes_its_dout_passes_with_a_warning():
    result = check_vjp(triple, triple_backward_zeroing_dout, normal(3, 4))
    assert result.passed, result.table()
    assert any("backward writes into its dout" in w for w in result.warnings), result.warnings
    assert "warning: the backward writes into its dout" in result.table()


def test_a_correct_backward_leaves_no_write_warning():
    result = check_vjp(triple, lambda dout, x: 3 * dout, normal(3, 4))
    assert result.passed and result.warnings == []


def test_the_check_still_fails_a_wrong_backward_that_writes_into_dout():
    def wrong(dout, x):
        dx = 2 * dout
        dout *= 0
        return dx

    result = check_vjp(triple, wrong, normal(3, 4))
    assert not result.passed and result["x"].diagnosis
    assert any("writes into its dout" in w for w in result.warnings)


LSTM_ARGS = (normal(2, 3), normal(2, 2), normal(2, 2), normal(3, 8), normal(2, 8), normal(8))


def test_a_cs231n_lstm_step_accumulating_into_dnext_c_passes_with_a_warning():
    for dtype in ("float64", "float32"):
        result = check_vjp(*from_cache_style(L.lstm_step_forward,
                                             L.lstm_step_backward_in_place),
                           *LSTM_ARGS, dtype=dtype)
        assert result.passed, result.table()
        assert [w for w in result.warnings if "dout[1]" in w and "writes" in w], result.warnings
    gate_slip = check_vjp(*from_cache_style(
        L.lstm_step_forward, lambda dh, dc, cache: L.lstm_step_backward_in_place(
            dh, 2 * dc, cache)), *LSTM_ARGS)
    assert not gate_slip.passed  # the same backward with a real slip still fails


def test_a_forward_or_backward_writing_into_an_argument_is_warned_not_failed():
    def scale_in_place(x, w):
        x *= w  # the caller's x changes
        return x

    def scale_backward(dout, x, w):
        dx = dout * w
        dw = np.sum(dout * x, axis=0)
        x[...] = 0  # the backward wipes its argument after use
        return dx, dw

    x, w = normal(4, 3), normal(3)
    before = x.copy()
    result = check_vjp(scale_in_place, scale_backward, x, w)
    assert result.passed, result.table()
    assert np.array_equal(x, before)  # the user's own array is never written into
    assert any("forward writes into its argument x" in m for m in result.warnings)
    assert any("backward writes into its argument x" in m for m in result.warnings)


def test_a_wrong_count_of_gradients_points_to_wrt():
    def scale(x, w):
        return x * w

    with pytest.raises(TypeError, match=r"returned 1 gradients .* wrt=\(0,\) for x"):
        check_vjp(scale, lambda dout, x, w: (dout * w,), normal(4, 3), normal(3))
    with pytest.raises(TypeError, match=r"expected a tuple of 2 gradients .* wrt="):
        check_vjp(scale, lambda dout, x, w: dout * w, normal(4, 3), normal(3))
    result = check_vjp(scale, lambda dout, x, w: dout * w, normal(4, 3), normal(3), wrt=(0,))
    assert result.passed and [a.name for a in result.arguments] == ["x"]


def test_a_cache_style_forward_writing_into_its_argument_is_blamed_on_the_forward_only():
    def scale_forward(x, w):
        x *= w
        return x, (x, w)

    def scale_backward(dout, cache):
        x, w = cache
        return dout * w, np.sum(dout * x / w, axis=0)

    result = check_vjp(*from_cache_style(scale_forward, scale_backward), normal(4, 3),
                       normal(3) + 3)
    assert result.passed, result.table()
    assert [w for w in result.warnings if "writes into its argument x" in w] == [
        w for w in result.warnings if w.startswith("the forward writes into its argument x")]
