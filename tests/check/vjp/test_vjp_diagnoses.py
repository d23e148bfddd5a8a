"""``check_vjp``'s diagnoses of four mistakes real code makes: a backward written for
``dout = 1`` (a loss's, an activation's), a mean where the bias's sum belongs (1/N once, not
"twice"), a convolution returning an empty ``dx`` (the shape alone, not also "zeros"), and
batch norm without its mean path. Each is named, and a right backward gets no diagnosis."""

import numpy as np
from layer_examples import array_api as A
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style

rng = np.random.default_rng(21)


def normal(*shape):
    return rng.standard_normal(shape)


def keys(report):
    return [key for key, _ in report.diagnosis]


def test_a_loss_backward_written_for_dout_one_is_named():
    x, y = normal(4, 5), np.array([0, 3, 1, 3])
    result = check_vjp(A.softmax_loss, lambda dout, x, y: A.softmax_loss_backward(1.0, x, y),
                       x, y)
    assert keys(result["x"]) == ["ignores_dout"], result.table()
    assert "ignores dout" in result.table()
    assert check_vjp(A.softmax_loss, A.softmax_loss_backward, x, y).passed


def test_an_activation_backward_written_for_dout_one_is_named():
    x = normal(3, 4)
    result = check_vjp(A.tanh, lambda dout, x: 1 - np.tanh(x) ** 2, x)
    assert keys(result["x"]) == ["ignores_dout"], result.table()


def test_a_bias_averaged_over_the_batch_is_one_extra_one_over_n():
    x, w, b = normal(4, 5), normal(5, 3), normal(3)
    result = check_vjp(A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, d.mean(axis=0)), x, w, b)
    (key, text), = result["b"].diagnosis
    assert key == "double_1/N" and "N = 4" in text and "once" in text
    assert "twice" not in text


def test_an_empty_dx_is_named_by_its_shape_alone():
    conv_param = {"stride": 1, "pad": 1}

    def empty_dx(dout, cache):
        return (np.zeros((2, 3, 0, 0)), *L.conv_backward_naive(dout, cache)[1:])

    result = check_vjp(*from_cache_style(L.conv_forward_naive, empty_dx), normal(2, 3, 4, 4),
                       normal(2, 3, 3, 3), normal(2), conv_param)
    assert result.failing == ["x"]
    assert "shape (2, 3, 0, 0), expected (2, 3, 4, 4)" in result["x"].note
    assert result["x"].diagnosis == []
    assert "returns zeros" not in result.table()


def test_batch_norm_without_its_mean_path_is_named():
    def no_mean_path(dout, cache):
        xhat, gamma, var_eps = cache
        dxhat = dout * gamma
        dx = (dxhat - xhat * (dxhat * xhat).mean(axis=0)) / np.sqrt(var_eps)
        return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)

    args = normal(4, 5), normal(5), normal(5), {}
    result = check_vjp(*from_cache_style(L.batchnorm_forward, no_mean_path), *args)
    assert keys(result["x"]) == ["mean_path"], result.table()
    assert "axis 0" in result["x"].diagnosis[0][1]
    assert check_vjp(*from_cache_style(L.batchnorm_forward, L.batchnorm_backward), *args).passed
