"""Kinks: on ReLU's 0, ``abs``'s 0 or a max-pool tie any value between the one-sided derivatives
is right (both ``x > 0`` and ``x >= 0`` masks pass, reported "at a kink"); off kinks the
check is as strict as anywhere, and a tie counted twice is caught."""

import numpy as np
import pytest
from layer_examples import array_api as A
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.kinks import scan_argument
from autodiff.check.vjp.probe import Probe

rng = np.random.default_rng(5)
X = rng.standard_normal((4, 5))
X[0, :3] = 0.0
X[2, 1] = 0.0                      # four inputs exactly on ReLU's kink
MASKS = {
    "x>0": lambda x: x > 0,
    "x>=0": lambda x: x >= 0,
    "0.7 at 0": lambda x: np.where(x == 0, 0.7, x > 0),
}
FORWARDS = {  # name: (forward, oracle); JAX says 0.5 at 0, the complex step 1, Ridders ½
    "array-api": (A.relu, "auto"),
    "numpy-complex-step": (from_cache_style(L.relu_forward, L.relu_backward)[0], "complex-step"),
    "numpy-ridders": (from_cache_style(L.relu_forward, L.relu_backward)[0], "ridders"),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("kind", sorted(FORWARDS))
def test_any_value_in_the_subgradient_passes_at_a_kink(kind, mask, dtype):
    forward, oracle = FORWARDS[kind]
    result = check_vjp(forward, lambda dout, x: dout * MASKS[mask](x), X, dtype=dtype,
                       oracle=oracle)
    assert result.passed, result.table()
    assert result["x"].kinks == 4
    assert "pass, at a kink (4)" in result.table()


@pytest.mark.parametrize("kind", sorted(FORWARDS))
def test_values_outside_the_subgradient_fail(kind):
    forward, oracle = FORWARDS[kind]
    inverted = check_vjp(forward, lambda dout, x: dout * (x < 0), X, oracle=oracle)
    assert inverted.failing == ["x"]
    beyond = check_vjp(forward, lambda dout, x: dout * np.where(x == 0, 1.5, x > 0), X,
                       oracle=oracle)
    report = beyond["x"]
    assert not beyond.passed and report.worst_at_kink
    low, high = report.interval
    assert low < high and (low == 0 or high == 0) and not low <= report.got <= high
    assert ("kink", "wrong only at inputs on a kink: the value there must lie between the "
                    "one-sided derivatives") in report.diagnosis
    assert "is on a kink: valid values lie in [" in beyond.table()


def test_abs_at_zero_takes_any_sign_convention():
    forward, backward = from_cache_style(L.abs_forward, L.abs_backward)
    assert check_vjp(forward, backward, X).passed               # sign(0) = 0
    assert check_vjp(forward, lambda d, x: d * np.where(x >= 0, 1.0, -1.0), X).passed
    assert not check_vjp(forward, lambda d, x: d, X).passed  # ignores the sign


def _tied_pairs():
    x = rng.standard_normal((3, 6))
    x[0, 1] = x[0, 0]
    x[2, 4] = x[2, 5]
    return x


def test_a_max_pool_tie_takes_either_input_but_not_both():
    x = _tied_pairs()
    first = check_vjp(A.max_pool_1d, A.max_pool_1d_backward, x)
    assert first.passed and first["x"].kinks == 4
    second = check_vjp(A.max_pool_1d, _second_max, x)
    assert second.passed, second.table()
    twice = check_vjp(A.max_pool_1d, A.max_pool_1d_backward_every_max, x)
    assert not twice.passed and twice["x"].diagnosis[0][0] == "tie"
    assert "a tie counted twice?" in twice.table()


def _second_max(dout, x):
    """Routes a tied pair's gradient to its second input (the other valid convention)."""
    pairs = x.reshape(x.shape[0], -1, 2)
    second = pairs[:, :, 1] >= pairs[:, :, 0]
    return np.stack([dout * ~second, dout * second], axis=2).reshape(x.shape)


def test_a_tie_in_a_loop_max_pool_is_found_by_finite_differences():
    x = rng.standard_normal((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.max(x[0, 0, :2, :2]) + 1.0
    forward, backward = from_cache_style(L.max_pool_forward_naive, L.max_pool_backward_naive)
    result = check_vjp(forward, backward, x, {"size": 2, "stride": 2})
    assert result.passed and result["x"].oracle == "ridders" and result["x"].kinks == 2

    def every_max(dout, cache):
        x, _ = cache
        dx = np.zeros_like(x)
        for i, j in np.ndindex(2, 2):
            window = x[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            dx[0, 0, 2 * i:2 * i + 2, 2 * j:2 * j + 2] = (window == window.max()) * dout[
                0, 0, i, j]
        return dx

    twice = check_vjp(forward, from_cache_style(L.max_pool_forward_naive, every_max)[1], x,
                      {"size": 2, "stride": 2})
    assert twice.failing == ["x"] and twice["x"].diagnosis[0][0] == "tie"


def test_a_float32_near_tie_counts_as_a_tie():
    x = rng.standard_normal((2, 4))
    x[1, 3] = x[1, 2] * (1 + 1e-9)      # distinct in float64, one value in float32
    for dtype in ("float32", "float64"):
        for backward in (A.max_pool_1d_backward, _second_max):
            result = check_vjp(A.max_pool_1d, backward, x, dtype=dtype)
            assert result.passed and result["x"].kinks == 2, result.table()


def test_off_kinks_the_check_is_strict():
    x = rng.standard_normal((2, 4))
    x[0, 1] = x[0, 0] + 1e-3          # a near-tie, but far beyond the scan's resolution
    assert check_vjp(A.max_pool_1d, A.max_pool_1d_backward, x)["x"].kinks == 0
    assert not check_vjp(A.max_pool_1d, _wrong_of_the_pair, x).passed
    away = np.where(np.abs(X) < 0.05, 0.5, X)   # nothing near ReLU's kink
    result = check_vjp(A.relu, lambda d, x: d * (x > 0.1), away)
    assert result["x"].kinks == 0
    assert result.passed == bool(np.all((away <= 0) | (away > 0.1)))
    assert not check_vjp(A.relu, lambda d, x: d * (x > 0.6), away).passed


def _wrong_of_the_pair(dout, x):
    """Picks the smaller input of each pair: wrong wherever there is no tie."""
    pairs = x.reshape(x.shape[0], -1, 2)
    first = pairs[:, :, 0] < pairs[:, :, 1]
    return np.stack([dout * first, dout * ~first], axis=2).reshape(x.shape)


def test_the_scan_finds_exactly_the_kinks_and_their_interval():
    forward, _ = from_cache_style(L.relu_forward, L.relu_backward)
    dout = rng.standard_normal(X.shape)
    layout = Layout.build(forward, (X,))
    scan = scan_argument(Probe(forward, layout, [dout]), 0)
    assert np.array_equal(scan.kink, X == 0)
    on = scan.kink
    np.testing.assert_allclose(scan.low[on], np.minimum(dout[on], 0), atol=1e-9)
    np.testing.assert_allclose(scan.high[on], np.maximum(dout[on], 0), atol=1e-9)
    np.testing.assert_allclose(scan.estimate[~on], (dout * (X > 0))[~on], atol=1e-9)


def test_near_a_kink_ridders_stays_on_its_side():
    """Inputs 1.5e-5 to 3e-3 from ReLU's kink: beyond the scan's resolution, so the derivative is
    strict there, but Ridders' usual steps (0.1 down to 2e-4 of the scale) straddle the kink and
    return the mean of its slopes. Where the scan does not vouch for it Ridders is rerun from
    steps within what the scan saw; a mask off by a hair is still caught."""
    near = np.array([[1.5e-5, -2e-5, 5e-5, -8e-5, 2e-4, -5e-4, 1e-3, 3e-3],
                     [1.0, -1.2, 0.5, -0.7, 2.0, 0.3, -0.1, 1.1]])
    forward, _ = FORWARDS["numpy-ridders"]
    for dtype in ("float32", "float64"):
        result = check_vjp(forward, lambda d, x: d * (x > 0), near, dtype=dtype, oracle="ridders")
        assert result.passed and result["x"].kinks == 0, result.table()
        assert "near a kink, from steps within the kink scan's" in result["x"].trust
        late = check_vjp(forward, lambda d, x: d * (x > 4e-5), near, dtype=dtype,
                         oracle="ridders")
        assert late.failing == ["x"] and late["x"].worst_index == (0, 0), late.table()
