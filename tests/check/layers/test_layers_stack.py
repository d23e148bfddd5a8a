"""Networks as stacks of library layers: shapes inferred, the worksheet's network one of them,
hand gradients checked against ``jax.grad`` and, layer by layer, against ``jax.vjp``."""

import numpy as np
import pytest

import reference
import reference.layers as L
from autodiff.check.layers.stack import check_stack

CONV = "conv2d,relu,maxpool,dense(units=3),softmax_cross_entropy"


def test_shapes_are_inferred_and_images_flattened_for_dense_layers():
    stack = L.Stack.parse(CONV)
    assert stack.names == ["conv2d", "relu", "maxpool", "flatten", "dense",
                           "softmax_cross_entropy"]
    assert stack.shapes == ((2, 3, 6, 6), (2, 4, 6, 6), (2, 4, 6, 6), (2, 4, 3, 3), (36, 2),
                            (3, 2))
    assert dict(stack.layers[0][1]) == {"filters": 4, "kernel": 3, "stride": 1, "padding": 1}
    params, x, target = L.init(stack, seed=0)
    assert x.shape == (2, 3, 6, 6)
    assert [tuple(p.shape for p in layer) for layer in params] == [
        ((4, 3, 3, 3), (4,)), (), (), (), ((3, 36), (3, 1))]
    assert target.shape == (2,) and target.dtype.kind == "i"


def test_options_syntax_and_a_missing_loss():
    stack = L.Stack.parse("embedding(vocab=7, dim=3), lstm_step(hidden=2), dense(units=1)")
    assert stack.names[-1] == "squared_error"  # appended
    assert stack.shapes == ((5,), (3, 5), (2, 5), (1, 5))
    assert L.Stack.parse("maxpool(size=3,stride=None)").layers[0][1] == (
        ("size", 3), ("stride", None))


@pytest.mark.parametrize(("text", "message"), [
    ("dense,nope", r"stack: unknown layer 'nope'; expected one of \["),
    ("dense,squared_error,relu", r"the loss 'squared_error' must come last"),
    ("dense,embedding", r"'embedding' takes token ids \(N,\): it must be the first layer"),
    ("dense,conv2d", r"'conv2d' takes images \(N, C, H, W\), but gets shape \(4, 5\)"),
    ("dense(width=3)", r"dense: unknown option 'width'; expected one of \['units'\]"),
    ("dense(units=x)", r"expected a number for 'units', got 'x'"),
    ("dense;relu", r"expected names like"),
    ("conv2d(kernel=9)", r"layer 'conv2d' would output shape"),
])
def test_bad_stacks_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        L.Stack.parse(text)


def test_a_bad_parameter_names_its_layer():
    stack = L.Stack.parse(CONV)
    params, x, target = L.init(stack)
    params[4] = (params[4][0][:, :5], params[4][1])
    with pytest.raises(ValueError, match=r"layer 5 \(dense\): x: expected 5 rows"):
        L.gradients(stack, params, x, target)
    with pytest.raises(ValueError, match=r"params: expected 5 tuples, one per layer"):
        L.gradients(stack, params[:2], x, target)


def test_the_worksheet_network_is_one_stack():
    params = reference.init_params([1, 6, 7, 2], rng=0)
    x, y = reference.training_data()
    stack = L.network_stack([1, 6, 7, 2])
    assert stack.names == ["dense", "logistic"] * 3 + ["squared_error"]
    grads = L.network_grads(L.gradients(stack, L.stack_params(params), x, y))
    for (dW, db), (rW, rb) in zip(grads, reference.gradients(params, x, y), strict=True):
        np.testing.assert_allclose(dW, rW, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(db, rb, rtol=1e-13, atol=1e-16)
    assert L.loss(stack, L.stack_params(params), x, y) == pytest.approx(
        reference.cost(params, x, y), rel=1e-14)


@pytest.mark.parametrize(("text", "dtype"), [
    (CONV, "float64"),
    (CONV, "float32"),
    ("embedding,lstm_step,layernorm,attention,dense(units=2),binary_cross_entropy", "float64"),
    ("dense,batchnorm,dropout,rnn_step,softplus,leaky_relu,softmax,squared_error", "float32"),
])
def test_hand_stack_gradients_agree_with_jax_layer_by_layer(text, dtype):
    result = check_stack(text, dtype=dtype, seed=1)
    assert result.passed, result.table()
    assert result.first_wrong_layer is None
    assert len(result.layers) == len(L.Stack.parse(text).layers)
    assert "PASS" in result.table() and "layer 1 (" in result.table()


def test_maxpool_ties_among_relu_zeros_are_a_kink_not_a_failure():
    result = check_stack(CONV, seed=0)
    maxpool = next(layer for layer in result.layers if layer.layer == "maxpool")
    assert maxpool.passed and "a kink" in maxpool.blocks[0].note
    assert "pass, at a kink" in result.table()


def test_a_wrong_layer_is_found_by_feeding_it_the_true_upstream_gradient():
    def first_of_window(dout, x, *, size=2, stride=None):
        # routes every window's gradient to its top-left input, whatever the maximum
        dx = np.zeros_like(x)
        dx[:, :, ::size, ::size] = dout
        return (dx,)

    result = check_stack(CONV, backwards={"maxpool": first_of_window})
    assert not result.passed
    assert result.first_wrong_layer == 3 and result.first_wrong.layer == "maxpool"
    assert "first wrong layer: layer 3 (maxpool), in dinput" in result.table()
    # the layers above and below it are right, fed the truth
    assert [layer.passed for layer in result.layers] == [True, True, True, False, True, True]


def test_gradients_of_layers_below_a_wrong_one_are_wrong_too_but_it_is_named():
    def doubled(dout, x, W, b):
        dx, dW, db = L.dense_backward(dout, x, W, b)
        return 2 * dx, dW, db

    result = check_stack("dense,tanh,dense,tanh,dense(units=2),squared_error",
                         backwards={4: doubled})
    failing = [block.name for block in result.blocks if block.status == "fail"]
    assert failing == ["1:dense.W", "1:dense.b", "3:dense.W", "3:dense.b", "input"]
    assert result.first_wrong_layer == 5


def test_running_statistics_are_kept_outside_the_stack():
    stack = L.Stack.parse("dense,batchnorm,dense(units=2)")
    params, x, _ = L.init(stack)
    state: dict = {}
    L.outputs(stack, params, x, state)
    assert set(state) == {1} and state[1]["mean"].shape == (4, 1)
