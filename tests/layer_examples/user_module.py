"""A student's layers module as ``backprop check layers.py`` expects it (see
``autodiff/check/vjp/modules.py``): CS231n pairs, each with an example or shapes to check it on.
Everything here is correct; the tests plant mistakes in a copy."""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    return (dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout),
            dout.sum(axis=0))


def affine_example():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 2, 2)), rng.standard_normal((4, 5)), rng.standard_normal(5)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


relu_shapes = {"x": ("N", "D")}
relu_dims = {"D": 7}


def softmax_loss_forward(x, y):
    """Pair style (the backward takes the arguments, not a cache)."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(x.shape[0]), y].mean()


def softmax_loss_backward(dout, x, y):
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(x.shape[0]), y] -= 1
    return dout * p / x.shape[0]


def softmax_loss_example():
    rng = np.random.default_rng(1)
    return rng.standard_normal((4, 5)), rng.integers(0, 5, 4)


def max_pool_forward(x, pool_param):
    size = pool_param["size"]
    out = np.zeros((x.shape[0], x.shape[1] // size))
    for n in range(x.shape[0]):
        for j in range(out.shape[1]):
            out[n, j] = np.max(x[n, j * size:(j + 1) * size])
    return out, (x, pool_param)


def max_pool_backward(dout, cache):
    x, pool_param = cache
    size = pool_param["size"]
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for j in range(dout.shape[1]):
            k = np.argmax(x[n, j * size:(j + 1) * size])
            dx[n, j * size + k] += dout[n, j]
    return dx


SHAPES = {"max_pool": {"x": ("N", 6), "pool_param": {"size": 2}}}


def dropout_forward(x, dropout_param):
    """No example and no shapes: the check skips it and says so."""
    mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < dropout_param["p"]
    return x * mask / dropout_param["p"], mask / dropout_param["p"]


def dropout_backward(dout, cache):
    return dout * cache
