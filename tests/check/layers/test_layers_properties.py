"""Properties of the layer library on hypothesis-drawn shapes, dtypes, scales and values: every
layer and a few stacks agree with JAX, and every planted mistake is caught wherever it changes
the gradient.

Compiling a check costs far more than running it, so shapes come from two sizes per layer and
options from small sets: the values, scales and dtypes vary freely, and one compiled function
serves many examples.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference.layers as L
from autodiff.check.layers.check import check_library_layer
from autodiff.check.layers.mistakes import LAYER_MISTAKES
from autodiff.check.layers.stack import check_stack

SIZES = st.sampled_from([(2, 2), (3, 3)])  # (n, w): batch and width of the example
SEEDS = st.integers(0, 2**32 - 1)
DTYPES = st.sampled_from(["float64", "float32"])
# log-uniform from nearly linear to deep saturation, shrinking toward 1
SCALES = st.floats(-2, 2).map(lambda e: float(f"{10.0 ** e:.3g}"))
OPTIONS = {
    "conv2d": st.fixed_dictionaries({"stride": st.sampled_from([1, 2]),
                                     "padding": st.sampled_from([0, 1])}),
    "maxpool": st.sampled_from([{"size": 2}, {"size": 2, "stride": 1}]),
    "leaky_relu": st.sampled_from([{"slope": 0.01}, {"slope": 0.3}]),
}


def draw_args(name, size, seed, scale, dtype):
    n, w = size
    draw = L.Draw(np.random.default_rng(seed), np.dtype(dtype), scale, n=n, w=w)
    return L.LAYERS[name].example(draw)[0]


@pytest.mark.parametrize("name", L.LAYER_NAMES)
@given(data=st.data(), size=SIZES, seed=SEEDS, scale=SCALES, dtype=DTYPES)
def test_every_layer_agrees_with_jax_vjp(name, data, size, seed, scale, dtype):
    options = data.draw(OPTIONS.get(name, st.just({})), label="options")
    if name in ("conv2d", "maxpool"):
        size = (2, 3)  # their options already vary the output shape
    args = draw_args(name, size, seed, scale, dtype)
    result = check_library_layer(name, args=args, options=options, dtype=dtype, seed=seed)
    assert result.passed, result.table()


STACKS = [
    "conv2d(filters=2),tanh,maxpool,dense(units=3),softmax_cross_entropy",
    "dense,layernorm,relu,dense(units=2),binary_cross_entropy",
    "embedding(vocab=4),rnn_step,batchnorm,softplus,dense(units=2),squared_error",
]


@pytest.mark.parametrize("text", STACKS)
@settings(max_examples=8)
@given(seed=SEEDS, scale=st.floats(-1, 0.7).map(lambda e: 10.0 ** e), dtype=DTYPES)
def test_stacks_agree_with_jax_grad_layer_by_layer(text, seed, scale, dtype):
    result = check_stack(text, seed=seed, scale=scale, dtype=dtype)
    assert result.passed, result.table()


def _visible(mistake, args, options, dout) -> bool:
    """Whether the slip changes the gradient on these inputs beyond doubt (in float64): by more
    than 1e-6 of the gradient's or the upstream gradient's size (in deep saturation a whole
    gradient of 1e-53 is rounding noise, and a slip in it is no mistake anyone can see)."""
    layer = L.LAYERS[mistake.layer]
    right = layer.backward(dout, *args, **options)
    wrong = mistake(dout, *args, **options)
    scale = max(float(np.max(np.abs(g), initial=0)) for g in (*right, *np.atleast_1d(dout)))
    return any(np.shape(r) != np.shape(g) or np.max(np.abs(np.subtract(r, g)), initial=0)
               > 1e-6 * scale for r, g in zip(right, wrong, strict=True))


@pytest.mark.parametrize("name", sorted(LAYER_MISTAKES))
@settings(max_examples=6)
@given(seed=SEEDS, scale=SCALES)
def test_every_planted_mistake_is_caught_wherever_it_shows(name, seed, scale):
    mistake = LAYER_MISTAKES[name]
    layer = L.LAYERS[mistake.layer]
    rng = np.random.default_rng(seed)
    args, drawn = layer.example(L.Draw(rng, np.dtype("float64"), scale))
    options = {**drawn, **mistake.options}
    out = layer.forward(*args, **options)
    dout = (tuple(rng.standard_normal(np.shape(o)) for o in out) if isinstance(out, tuple)
            else rng.standard_normal(np.shape(out)))
    assume(_visible(mistake, args, options, dout))
    result = check_library_layer(layer, args=args, options=options, backward=mistake, dout=dout)
    assert not result.passed
    assert math.isfinite(result.blocks[0].max_abs_error) or result.blocks[0].status == "fail"
