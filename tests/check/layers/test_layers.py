"""The layer library: every hand backward agrees with ``jax.vjp`` of its own forward, the one
forward runs under NumPy and JAX alike, nothing overflows, and bad input is named."""

import numpy as np
import pytest

import reference.layers as L
from autodiff.check.layers.check import check_library_layer, check_vjp_of
from autodiff.core.layers import vjp

NAMES = L.LAYER_NAMES


def test_the_catalogue_holds_the_twenty_layers_and_losses():
    assert set(NAMES) >= {
        "dense", "logistic", "tanh", "relu", "leaky_relu", "softplus", "softmax", "layernorm",
        "batchnorm", "dropout", "conv2d", "maxpool", "embedding", "rnn_step", "lstm_step",
        "attention", "squared_error", "softmax_cross_entropy", "binary_cross_entropy"}
    assert set(L.LOSS_NAMES) == {"squared_error", "softmax_cross_entropy", "binary_cross_entropy"}
    for name in NAMES:
        layer = L.LAYERS[name]
        assert layer.forward is getattr(L, f"{name}_forward")
        assert layer.backward is getattr(L, f"{name}_backward")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_hand_backward_agrees_with_jax_vjp(name, dtype):
    result = check_library_layer(name, dtype=dtype)
    assert result.passed, result.table()
    assert [b.status for b in result.blocks] == ["pass"] * len(L.LAYERS[name].grads)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_check_vjp_agrees_every_hand_backward_is_right(name, dtype):
    # a second, independent checker: its oracle is cross-checked by finite differences
    result = check_vjp_of(name, dtype=dtype)
    assert result.passed, result.table()


@pytest.mark.parametrize("name", NAMES)
def test_one_forward_runs_under_numpy_and_jax(name):
    import jax
    import jax.numpy as jnp

    layer = L.LAYERS[name]
    args, options = layer.example(L.Draw(np.random.default_rng(3)))
    out = layer.forward(*args, **options)
    for leaf in out if isinstance(out, tuple) else (out,):
        assert isinstance(leaf, (np.ndarray, np.floating)), type(leaf)
    with jax.enable_x64(True):
        traced = layer.forward(*[jnp.asarray(a) for a in args], **options)
        for numpy_leaf, jax_leaf in zip(out if isinstance(out, tuple) else (out,),
                                        traced if isinstance(traced, tuple) else (traced,),
                                        strict=True):
            assert isinstance(jax_leaf, jax.Array)
            # the same code in two libraries: equal up to a few roundings
            np.testing.assert_allclose(np.asarray(jax_leaf), numpy_leaf, rtol=1e-13, atol=1e-13)


def test_the_check_sees_a_tiny_error_in_one_element():
    layer = L.LAYERS["batchnorm"]

    def off_by_a_little(dout, *args):
        dx, dgamma, dbeta = layer.backward(dout, *args)
        dx = dx.copy()
        dx[1, 2] *= 1 + 1e-10  # far below what a test of "close enough" would see
        return dx, dgamma, dbeta

    result = check_library_layer("batchnorm", backward=off_by_a_little)
    assert not result.passed and result.failing == ["dx"]
    assert result.blocks[0].worst_index == (1, 2)
    # float32 is looser by its rounding: a 1e-3 error is still far outside it
    assert not check_library_layer("batchnorm", dtype="float32", backward=lambda d, *a: (
        layer.backward(d, *a)[0] * (1 + 1e-3), *layer.backward(d, *a)[1:])).passed


def test_tolerances_follow_the_rounding_of_the_computation():
    # batch norm's x - μ cancels: a large mean makes every later rounding larger, and the
    # running-error bound (so the tolerance) grows with it, where a fixed rtol would not
    args, _ = L.LAYERS["batchnorm"].example(L.Draw(np.random.default_rng(4)))
    base = check_library_layer("batchnorm", args=args, seed=4).blocks[0].tolerance
    shifted = (args[0] + 1e4, *args[1:])
    result = check_library_layer("batchnorm", args=shifted, seed=4)
    assert result.passed, result.table()
    assert result.blocks[0].tolerance > 1e3 * base


def test_the_bound_covers_saturation_where_jax_itself_rounds_to_zero():
    # tanh'(30) = 4e-26, which the hand's 4e/(1+e)² keeps and JAX's 1 - tanh² rounds to 0:
    # both are right to rounding, and the check says so
    x = np.array([[30.0, -30.0, 0.5]])
    result = check_library_layer("tanh", args=(x,), dout=np.ones((1, 3)))
    assert result.passed, result.table()
    assert L.tanh_backward(np.ones((1, 3)), x)[0][0, 0] > 0


LARGE = [1e3, -1e3, 1e30, -1e30, 0.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["logistic", "tanh", "softplus", "softmax", "leaky_relu",
                                  "binary_cross_entropy", "softmax_cross_entropy"])
def test_no_overflow_at_large_inputs(name, dtype):
    layer = L.LAYERS[name]
    z = np.array([LARGE, LARGE[::-1]], dtype=dtype)
    args = {"binary_cross_entropy": (z, np.full(z.shape, 0.5, dtype)),
            "softmax_cross_entropy": (z, np.array([0, 1, 0, 1, 0]))}.get(name, (z,))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = layer.forward(*args)
        grads = layer.backward(np.ones(np.shape(out), dtype), *args)
    assert np.all(np.isfinite(out))
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert all(g.dtype == dtype for g in grads)  # a float32 pass stays float32


def test_large_logits_keep_the_cross_entropy_exact():
    z = np.array([[1000.0, -1000.0], [0.0, 0.0]])
    # each example's wrong class leads by 1000: exactly 1000 nats each, not inf or nan
    assert L.softmax_cross_entropy_forward(z, np.array([1, 0])) == pytest.approx(1000.0)
    assert L.softmax_cross_entropy_forward(z, np.array([0, 1])) == pytest.approx(0.0, abs=1e-300)
    assert L.binary_cross_entropy_forward(z[:1], np.array([[0.0, 1.0]])) == pytest.approx(1000.0)


def test_at_the_kink_the_derivatives_stay_valid_subgradients():
    zero = np.zeros((1, 1))
    assert L.relu_backward(np.ones((1, 1)), zero)[0][0, 0] == 0.0       # in [0, 1]
    assert L.logistic_backward(np.ones((1, 1)), zero)[0][0, 0] == 0.25  # smooth: exact
    truth = vjp(L.logistic_forward, (zero,), np.ones((1, 1)))           # JAX agrees at 0
    assert truth[0][0, 0] == pytest.approx(0.25)


def test_batchnorm_updates_its_running_statistics():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.standard_normal((3, 8)), np.ones((3, 1)), np.zeros((3, 1))
    running: dict = {}
    L.batchnorm_forward(x, gamma, beta, momentum=0.9, running=running)
    np.testing.assert_allclose(running["mean"], 0.1 * x.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(running["var"], 0.9 + 0.1 * x.var(axis=1, keepdims=True))
    L.batchnorm_forward(x, gamma, beta, momentum=0.9, running=running)
    np.testing.assert_allclose(running["mean"], 0.19 * x.mean(axis=1, keepdims=True))


def test_an_lstm_step_unrolled_is_backprop_through_time():
    # two steps by hand, carrying dh and dc back, equal jax.vjp of the two-step forward
    rng = np.random.default_rng(1)
    d, h, n = 2, 3, 4
    xs = [rng.standard_normal((d, n)) for _ in range(2)]
    h0, c0 = rng.standard_normal((h, n)), rng.standard_normal((h, n))
    Wx, Wh = rng.standard_normal((4 * h, d)), rng.standard_normal((4 * h, h))
    b = np.zeros((4 * h, 1))

    def two_steps(h0, c0, Wx, Wh):
        h1, c1 = L.lstm_step_forward(xs[0], h0, c0, Wx, Wh, b)
        return L.lstm_step_forward(xs[1], h1, c1, Wx, Wh, b)[0]

    h1, c1 = L.lstm_step_forward(xs[0], h0, c0, Wx, Wh, b)
    dh2 = rng.standard_normal((h, n))
    _, dh1, dc1, dWx2, dWh2, _ = L.lstm_step_backward((dh2, np.zeros((h, n))), xs[1], h1, c1,
                                                      Wx, Wh, b)
    _, dh0, dc0, dWx1, dWh1, _ = L.lstm_step_backward((dh1, dc1), xs[0], h0, c0, Wx, Wh, b)
    truth = vjp(two_steps, (h0, c0, Wx, Wh), dh2)
    for hand, true in zip((dh0, dc0, dWx1 + dWx2, dWh1 + dWh2), truth, strict=True):
        np.testing.assert_allclose(hand, true, rtol=1e-12, atol=1e-12)


X, W, B = np.ones((3, 2)), np.ones((4, 3)), np.ones((4, 1))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: L.dense_forward(X, np.ones((4, 5)), B), ValueError, r"x: expected 5 rows"),
    (lambda: L.dense_forward(X, W, np.ones(4)), ValueError, r"b: expected a 2-D array \(n_out,"),
    (lambda: L.dense_forward(X.astype(int), W, B), TypeError, r"x: expected a real floating"),
    (lambda: L.dense_forward(np.full((3, 2), np.nan), W, B), ValueError, r"x: expected finite"),
    (lambda: L.dense_backward(np.ones((4, 3)), X, W, B), ValueError,
     r"dout: expected shape \(4, 2\) \(the forward's output\), got \(4, 3\)"),
    (lambda: L.conv2d_forward(np.ones((1, 2, 5, 5)), np.ones((3, 4, 3, 3)), np.ones(3)),
     ValueError, r"w: expected 2 input channels"),
    (lambda: L.conv2d_forward(np.ones((1, 2, 2, 2)), np.ones((3, 2, 3, 3)), np.ones(3)),
     ValueError, r"smaller than the window 3"),
    (lambda: L.conv2d_forward(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), np.ones(3), stride=0),
     ValueError, r"stride: expected an integer >= 1, got 0"),
    (lambda: L.maxpool_forward(np.ones((2, 5, 5))), ValueError, r"x: expected a 4-D array \(N, C"),
    (lambda: L.softmax_cross_entropy_forward(np.ones((3, 2)), np.array([0, 3])), ValueError,
     r"labels: expected entries in \[0, 3\), got 3"),
    (lambda: L.softmax_cross_entropy_forward(np.ones((3, 2)), np.array([0.0, 1.0])), TypeError,
     r"labels: expected an integer array"),
    (lambda: L.binary_cross_entropy_forward(np.ones((1, 2)), np.array([[0.0, 2.0]])), ValueError,
     r"y: expected targets in \[0, 1\], got 2.0"),
    (lambda: L.dropout_forward(X, np.ones((3, 2)), p=0.5), TypeError, r"keep: expected a boolean"),
    (lambda: L.dropout_forward(X, np.ones((3, 2), bool), p=1.0), ValueError, r"p \(the drop"),
    (lambda: L.embedding_forward(np.array([0, 9]), np.ones((2, 4))), ValueError,
     r"ids: expected entries in \[0, 4\), got 9"),
    (lambda: L.layernorm_forward(X, np.ones((2, 1)), np.ones((3, 1))), ValueError,
     r"gamma: expected shape \(3, 1\)"),
    (lambda: L.batchnorm_forward(X, np.ones((3, 1)), np.ones((3, 1)), eps=-1), ValueError,
     r"eps: expected a number"),
    (lambda: L.rnn_step_forward(X, np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 4)), B),
     ValueError, r"Wx: expected shape \(4, 3\)"),
    (lambda: L.lstm_step_backward(np.ones((2, 2)), np.ones((3, 2)), np.ones((2, 2)),
                                  np.ones((2, 2)), np.ones((8, 3)), np.ones((8, 2)),
                                  np.ones((8, 1))), TypeError, r"dout: expected the pair"),
    (lambda: L.attention_forward(np.ones((2, 3)), np.ones((3, 3)), np.ones((2, 3))), ValueError,
     r"k: expected 2 rows"),
    (lambda: L.squared_error_backward(np.ones(3), X, X), ValueError, r"dout: expected a floating"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
