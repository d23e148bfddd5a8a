"""Kinks in one library layer's check: at a max-pool tie or a ReLU at exactly 0 any generalized
gradient passes ("at a kink"), however JAX picks its own; a gradient routed to every tied
maximum at once, a slope out of range, or an error away from the kinks still fails."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import reference.layers as L
from autodiff.check.layers.check import check_library_layer
from autodiff.check.layers.stack import check_stack

DTYPES = ("float64", "float32")
RNG = np.random.default_rng(7)
SATURATED = np.tanh(30 * RNG.standard_normal((2, 2, 4, 4)))  # ±1 exactly, ties in most windows
INTEGERS = RNG.integers(-2, 3, (2, 2, 4, 4)).astype(float)
ZEROS = np.where(RNG.random((3, 6)) < 0.5, 0.0, RNG.standard_normal((3, 6)))
POOLS = [{"size": 2}, {"size": 2, "stride": 1}, {"size": 3, "stride": 1}]


def routed(choose):
    """A max-pool backward sending each window's gradient to the inputs ``choose(window,
    maximum)`` weighs (overlapping windows add up)."""
    def backward(dout, x, *, size=2, stride=None):
        stride = stride or size
        windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
        flat = windows.reshape(*windows.shape[:4], size * size)
        weights = choose(flat, flat.max(axis=-1, keepdims=True))
        dx = np.zeros_like(x)
        height, width = windows.shape[2:4]
        for u in range(size):
            for v in range(size):
                dx[:, :, u:u + stride * height:stride, v:v + stride * width:stride] += (
                    dout * weights[..., u * size + v])
        return (dx,)
    return backward


def last_maximum(flat, top):
    last = flat.shape[-1] - 1 - np.argmax((flat == top)[..., ::-1], axis=-1)
    return np.eye(flat.shape[-1])[last]


def every_maximum(flat, top):  # the slip: a tie's gradient counted once per tied maximum
    return (flat == top).astype(float)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x", [SATURATED, INTEGERS], ids=["tanh-saturated", "integers"])
@pytest.mark.parametrize("options", POOLS, ids=str)
def test_maxpool_routing_a_tie_to_one_maximum_passes_at_a_kink(dtype, x, options):
    for backward in (None, routed(last_maximum)):  # the library's first maximum, and the last
        result = check_library_layer("maxpool", args=(x,), options=options, dtype=dtype,
                                     backward=backward)
        assert result.passed, result.table()
        assert "a kink" in result.blocks[0].note


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", POOLS, ids=str)
def test_maxpool_counting_a_tie_once_per_maximum_fails(dtype, options):
    result = check_library_layer("maxpool", args=(INTEGERS,), options=options, dtype=dtype,
                                 backward=routed(every_maximum))
    assert not result.passed
    assert "counted more than once" in result.blocks[0].note


def test_maxpool_slips_away_from_the_ties_still_fail():
    def top_left(flat, top):  # a window's gradient to its first input, maximum or not
        return np.eye(flat.shape[-1])[np.zeros(flat.shape[:-1], int)]

    def nudged(dout, x, **options):  # right at the ties, 1e-9 off elsewhere
        (dx,) = L.maxpool_backward(dout, x, **options)
        return (dx * (1 + 1e-9),)

    for backward in (routed(top_left), nudged):
        result = check_library_layer("maxpool", args=(INTEGERS,), options={"size": 2},
                                     backward=backward)
        assert not result.passed and "a kink" not in result.blocks[0].note, result.table()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_any_slope_between_the_sides_passes_at_zero_and_none_outside(dtype, name):
    below = 0.0 if name == "relu" else 0.01

    def slope_at_zero(slope):
        def backward(dout, x, **_):
            local = np.where(x > 0, 1.0, np.where(x == 0, slope, below))
            return (dout * local.astype(x.dtype),)
        return backward

    for slope in (1.0, 0.5):
        result = check_library_layer(name, args=(ZEROS,), dtype=dtype,
                                     backward=slope_at_zero(slope))
        assert result.passed and "a kink" in result.blocks[0].note, result.table()
    for slope in (2.0, -1.0):
        result = check_library_layer(name, args=(ZEROS,), dtype=dtype,
                                     backward=slope_at_zero(slope))
        assert not result.passed, result.table()
    assert check_library_layer(name, args=(ZEROS,), dtype=dtype).passed  # the library's own


def test_a_smooth_layer_is_never_excused_as_a_kink():
    def tanh_nudged(dout, x):
        return (dout * (1 - np.tanh(x) ** 2) * (1 + 1e-9),)

    result = check_library_layer("tanh", args=(ZEROS,), backward=tanh_nudged)
    assert not result.passed and "a kink" not in result.blocks[0].note


def test_the_stack_check_catches_a_tie_counted_twice_among_relu_zeros():
    result = check_stack("conv2d,relu,maxpool,dense(units=3),softmax_cross_entropy", seed=0,
                         backwards={"maxpool": routed(every_maximum)})
    assert not result.passed and result.first_wrong.layer == "maxpool"
    assert "counted more than once" in result.first_wrong.blocks[0].note
