"""``check_vjp`` on array-API layers (the ``jax.vjp`` oracle): correct pairs pass in float64 and
float32, planted mistakes fail with the argument, element and pattern named, and the argument
conventions (pass-through, lone arrays, tuple outputs, dicts written into) hold."""

import json

import numpy as np
import pytest
from layer_examples import array_api as A
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style

rng = np.random.default_rng(7)


def normal(*shape):
    return rng.standard_normal(shape)


LAYERS = {
    "affine": (A.affine, A.affine_backward, (normal(4, 5), normal(5, 3), normal(3))),
    "softmax_loss": (A.softmax_loss, A.softmax_loss_backward,
                     (normal(4, 5), np.array([0, 3, 1, 3]))),
    "layernorm": (A.layernorm, A.layernorm_backward,
                  (normal(4, 5), normal(5), normal(5), {"eps": 1e-5})),
    "attention": (A.attention, A.attention_backward, (normal(3, 4), normal(3, 4), normal(3, 4))),
    "lstm_cell": (A.lstm_cell, A.lstm_cell_backward,
                  (normal(2, 3), normal(2, 2), normal(2, 2), normal(5, 8))),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_correct_array_api_layers_pass(layer, dtype):
    forward, backward, args = LAYERS[layer]
    result = check_vjp(forward, backward, *args, dtype=dtype)
    assert result.passed, result.table()
    assert result.dtype == dtype
    for argument in result.arguments:
        assert argument.oracle == "jax.vjp"
        # The derived tolerance resolves float64 to ~1e-12 and float32 to ~1e-4 of the
        # gradient's size.
        relative = argument.tolerance / argument.scale
        assert relative < (1e-10 if dtype == "float64" else 1e-3), argument


def _planted(backward, mistake):
    def planted(dout, *args):
        grads = backward(dout, *args)
        return mistake(*grads) if isinstance(grads, tuple) else mistake(grads)
    return planted


def _rows(a):  # (dx, dw, db) with the last row of dx wrong by a tenth
    a = a.copy()
    a[-1] *= 1.1
    return a


MISTAKES = [  # (layer, mistake, wrong argument, diagnosis key)
    ("affine", lambda dx, dw, db: (-dx, dw, db), "x", "sign"),
    ("affine", lambda dx, dw, db: (dx, 2 * dw, db), "w", "factor_2"),
    ("affine", lambda dx, dw, db: (dx, dw.T, db), "w", "transposed"),
    ("affine", lambda dx, dw, db: (_rows(dx), dw, db), "x", "slice"),
    ("softmax_loss", lambda dx: dx * 4, "x", "missing_1/N"),
    ("affine", lambda dx, dw, db: (dx, dw, db / 5), "b", "over_5"),
    ("attention", lambda dq, dk, dv: (dk, dq, dv), "q", "swapped"),
    ("layernorm", lambda dx, dg, db: (dx, dg, db * 0), "beta", "zeros"),
]


@pytest.mark.parametrize(("layer", "mistake", "wrong", "key"), MISTAKES,
                         ids=[f"{m[0]}-{m[3]}" for m in MISTAKES])
def test_planted_mistakes_fail_and_are_diagnosed(layer, mistake, wrong, key):
    forward, backward, args = LAYERS[layer]
    result = check_vjp(forward, _planted(backward, mistake), *args)
    assert not result.passed
    assert wrong in result.failing
    report = result[wrong]
    assert [k for k, _ in report.diagnosis] == [key], result.table()
    assert report.diagnosis[0][1] in result.table()


def test_missing_one_over_n_is_named_with_the_batch_size():
    forward, backward, args = LAYERS["softmax_loss"]
    result = check_vjp(forward, lambda dout, x, y: backward(dout, x, y) * 4, *args)
    assert result["x"].diagnosis[0] == ("missing_1/N", result["x"].diagnosis[0][1])
    assert "sums over the examples instead of averaging" in result["x"].diagnosis[0][1]


def test_bias_summed_over_the_wrong_axis():
    x, w, b = normal(4, 5), normal(5, 3), normal(3)
    result = check_vjp(A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, d.sum(axis=1)), x, w, b)
    report = result["b"]
    assert not result.passed and report.got is None
    assert "shape (4,), expected (3,)" in report.note
    assert report.diagnosis == [("wrong_axis", "sums dout over axis 1; the gradient sums it "
                                               "over axis 0")]


def test_one_element_off_by_a_millionth_is_caught_in_float64():
    x, w, b = normal(4, 5), normal(5, 3), normal(3)

    def nudged(dout, x, w, b):
        dx, dw, db = A.affine_backward(dout, x, w, b)
        dw[2, 1] *= 1 + 1e-6
        return dx, dw, db

    result = check_vjp(A.affine, nudged, x, w, b)
    assert result.failing == ["w"]
    assert result["w"].worst_index == (2, 1)
    assert result["w"].max_rel_error == pytest.approx(1e-6, rel=1e-3)


def test_a_wrong_float32_layer_fails_while_the_right_one_passes():
    x = normal(6, 4).astype(np.float32)
    gamma, beta = normal(4).astype(np.float32), normal(4).astype(np.float32)

    def no_mean_path(dout, x, gamma, beta, params):  # drops the Σ dxhat term
        dx, dgamma, dbeta = A.layernorm_backward(dout, x, gamma, beta, params)
        d = x.shape[1]
        mean = x.mean(axis=1, keepdims=True)
        inv_std = 1 / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)
        return dx + inv_std / d * np.sum(dout * gamma, axis=1, keepdims=True), dgamma, dbeta

    params = {"eps": 1e-5}
    assert check_vjp(A.layernorm, A.layernorm_backward, x, gamma, beta, params).passed
    wrong = check_vjp(A.layernorm, no_mean_path, x, gamma, beta, params)
    assert wrong.dtype == "float32" and wrong.failing == ["x"]


def test_lone_array_tuple_output_and_given_douts():
    x = normal(3, 4)
    assert check_vjp(A.tanh, A.tanh_backward, x).passed                      # a lone array
    assert check_vjp(A.tanh, lambda d, x: (A.tanh_backward(d, x),), x).passed  # a 1-tuple
    forward, backward, args = LAYERS["lstm_cell"]
    douts = (normal(2, 2), normal(2, 2))
    assert check_vjp(forward, backward, *args, dout=douts).passed
    with pytest.raises(TypeError, match="dout must be a tuple of 2"):
        check_vjp(forward, backward, *args, dout=douts[0])
    with pytest.raises(ValueError, match=r"dout: shape \(2, 2\) does not match .* \(3, 4\)"):
        check_vjp(A.tanh, A.tanh_backward, x, dout=normal(2, 2))


def test_argument_conventions():
    x, w, b = normal(4, 5), normal(5, 3), normal(3)
    with pytest.raises(TypeError, match=r"returned 2 gradients \(shapes \(4, 5\), \(5, 3\)\), "
                                        r"expected 3, one per float argument: x \(4, 5\), "
                                        r"w \(5, 3\), b \(3,\)"):
        check_vjp(A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d), x, w, b)
    # One gradient per argument, None at the non-differentiable ones, is accepted too.
    y = np.array([1, 0, 2, 4])
    forward, backward, _ = LAYERS["softmax_loss"]
    assert check_vjp(forward, lambda d, x, y: (backward(d, x, y), None), x, y).passed
    # wrt picks the differentiable arguments: here only w.
    result = check_vjp(A.affine, lambda d, x, w, b: x.T @ d, x, w, b, wrt=[1])
    assert result.passed and [a.name for a in result.arguments] == ["w"]
    with pytest.raises(TypeError, match=r"no float np\.ndarray argument"):
        check_vjp(A.affine, A.affine_backward, [1.0], 2.0, 3)
    with pytest.raises(ValueError, match="dtype: expected 'float64' or 'float32', got 'f16'"):
        check_vjp(A.tanh, A.tanh_backward, x, dtype="f16")


def test_forward_that_writes_into_its_dict_sees_the_same_inputs():
    bn_param = {"momentum": 0.5}
    forward, backward = from_cache_style(L.batchnorm_forward, L.batchnorm_backward)
    result = check_vjp(forward, backward, normal(6, 3), normal(3), normal(3), bn_param)
    assert result.passed, result.table()
    assert bn_param == {"momentum": 0.5}  # the caller's dict is never written into


def test_random_forward_is_refused_unless_seeded():
    forward, backward = from_cache_style(L.dropout_forward, L.dropout_backward)
    with pytest.raises(ValueError, match="returned different outputs"):
        check_vjp(forward, backward, normal(4, 5), {"p": 0.5})
    assert check_vjp(forward, backward, normal(4, 5), {"p": 0.5, "seed": 3}).passed


def test_degenerate_dout_or_input_warns():
    x = normal(3, 4)
    result = check_vjp(A.tanh, A.tanh_backward, x, dout=np.ones((3, 4)))
    assert result.passed and "dout is uniform (every element 1)" in result.warnings[0]
    assert "warning: dout is uniform" in result.table()
    result = check_vjp(A.tanh, A.tanh_backward, np.full((3, 4), 0.5))
    assert "input x is uniform" in result.warnings[0]
    assert check_vjp(A.tanh, A.tanh_backward, x).warnings == []


def test_report_serialises_and_names_everything():
    forward, backward, args = LAYERS["affine"]
    result = check_vjp(forward, lambda d, *a: (-d @ args[1].T, *backward(d, *a)[1:]), *args)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is False and data["dout"] == "random (seed 0)"
    x = data["arguments"][0]
    assert x["argument"] == "x" and x["status"] == "fail" and x["oracle"] == "jax.vjp"
    assert x["diagnosis"][0]["key"] == "sign" and len(x["worst_index"]) == 2
    assert x["got"] == pytest.approx(-x["expected"])
    assert "Ridders confirms the value expected" in x["trust"]


@pytest.mark.parametrize(("factor", "key"), [(0.5, "half"), (2.0, "factor_2")])
def test_a_factor_is_named_once_where_a_dimension_could_make_it_two(factor, key):
    # x is 3x4: ½ is also "1/4 (axis 1's size) times 2", and 2 is "4 times ½"; one slip is named.
    x = normal(3, 4)
    result = check_vjp(lambda x: np.maximum(0, x), lambda d, x: factor * d * (x > 0), x)
    assert [k for k, _ in result["x"].diagnosis] == [key], result.table()


def test_the_default_dout_is_not_the_users_own_draw_from_the_same_seed():
    # The README's idiom draws x from default_rng(0), the checker's default seed. Were dout drawn
    # from that same stream it would equal x, and batch norm's exact dx (which vanishes for
    # dout ∝ x) would shrink to ~1e-5 of its size, a millionth off in it below the tolerance.
    x = np.random.default_rng(0).standard_normal((6, 4))
    seen = []

    def backward(dout, x):
        seen.append(dout)
        return 2 * x * dout

    assert check_vjp(lambda x: x * x, backward, x).passed
    correlation = np.corrcoef(seen[0].ravel(), x.ravel())[0, 1]
    assert abs(correlation) < 0.9, correlation


def test_a_gradient_for_an_integer_argument_is_flagged_not_silently_dropped():
    x, w = np.arange(20).reshape(4, 5), normal(5, 3)  # x: integers, where floats were meant
    result = check_vjp(lambda x, w: x @ w, lambda d, x, w: (d @ w.T, x.T @ d), x, w)
    assert [r.name for r in result.arguments] == ["w"]
    assert any("gradient for x (int64 array), which is not checked" in w
               for w in result.warnings), result.warnings
    assert "not checked" in result.table()

