"""Layers in plain NumPy, CS231n-style (``out, cache = f(*args)``, ``grads = f_backward(dout,
cache)``), written the way students write them: loops, in-place writes into ``np.zeros``
buffers, ``np.maximum``, argmax masks, ``np.var``, a parameter dict the forward writes into.
Every pair here is correct; the tests plant mistakes by wrapping them.

Each forward defeats some oracle on purpose: the loops and buffer writes stop JAX, the
``np.zeros(shape)`` buffers drop a complex step's imaginary part (a ComplexWarning), ``np.var``
and ``np.abs`` drop it silently — so the checker must find a working oracle for each.
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def relu_backward_at_zero_too(dout, cache):
    """The other convention at 0: ``x >= 0``. Equally correct."""
    return dout * (cache >= 0)


def abs_forward(x):
    return np.abs(x), x


def abs_backward(dout, cache):
    return dout * np.sign(cache)


def _windows(size, field, stride):
    return range(1 + (size - field) // stride)


def sigmoid_loop_forward(x):
    """Element by element into ``np.zeros_like(x)``: a buffer of the input's dtype, so the
    complex step works here (and JAX does not: the writes are in place)."""
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        out[index] = 1 / (1 + np.exp(-x[index]))
    return out, out


def sigmoid_loop_backward(dout, cache):
    return dout * cache * (1 - cache)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, field_h, field_w = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = _windows(padded.shape[2], field_h, stride)
    cols = _windows(padded.shape[3], field_w, stride)
    out = np.zeros((x.shape[0], w.shape[0], len(rows), len(cols)))
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for i in rows:
                for j in cols:
                    window = padded[n, :, i * stride:i * stride + field_h,
                                    j * stride:j * stride + field_w]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, field_h, field_w = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dpadded, dw = np.zeros_like(padded), np.zeros_like(w)
    for n in range(dout.shape[0]):
        for f in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + field_h)
                    cols = slice(j * stride, j * stride + field_w)
                    dpadded[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += padded[n, :, rows, cols] * dout[n, f, i, j]
    dx = dpadded[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, np.sum(dout, axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    size, stride = pool_param["size"], pool_param["stride"]
    rows, cols = _windows(x.shape[2], size, stride), _windows(x.shape[3], size, stride)
    out = np.zeros((x.shape[0], x.shape[1], len(rows), len(cols)))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in rows:
                for j in cols:
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + size,
                                               j * stride:j * stride + size])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Routes each window's gradient to its first maximum (argmax)."""
    x, pool_param = cache
    size, stride = pool_param["size"], pool_param["stride"]
    dx = np.zeros_like(x)
    for n in range(dout.shape[0]):
        for c in range(dout.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Training-mode batch norm; updates the running statistics in ``bn_param``."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    mean, var = np.mean(x, axis=0), np.var(x, axis=0)
    xhat = (x - mean) / np.sqrt(var + eps)
    running = bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    bn_param["running_mean"] = momentum * running + (1 - momentum) * mean
    return gamma * xhat + beta, (xhat, gamma, var + eps)


def batchnorm_backward(dout, cache):
    xhat, gamma, var_eps = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (
        n * np.sqrt(var_eps))
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def batchnorm_columns_forward(x, gamma, beta, bn_param):
    """The same batch norm, one column at a time into ``np.empty_like(x)``: complex-safe
    buffers, but ``np.var`` of a complex column is real — the silent complex-step trap."""
    out = np.empty_like(x)
    var_eps = np.empty(x.shape[1])
    xhat = np.empty_like(x)
    for d in range(x.shape[1]):
        column = x[:, d]
        var_eps[d] = np.var(column) + bn_param.get("eps", 1e-5)
        xhat[:, d] = (column - np.mean(column)) / np.sqrt(var_eps[d])
        out[:, d] = gamma[d] * xhat[:, d] + beta[d]
    return out, (xhat, gamma, var_eps)


def dropout_forward(x, dropout_param):
    rng = np.random.default_rng(dropout_param.get("seed"))  # a fresh mask per call unless seeded
    mask = (rng.random(x.shape) < dropout_param["p"]) / dropout_param["p"]
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout * cache


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """Returns ``next_h, next_c, cache`` — two outputs, as CS231n's LSTM step does."""
    hidden = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1 / (1 + np.exp(-a[:, :hidden]))
    f = 1 / (1 + np.exp(-a[:, hidden:2 * hidden]))
    o = 1 / (1 + np.exp(-a[:, 2 * hidden:3 * hidden]))
    g = np.tanh(a[:, 3 * hidden:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
    return (da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
            np.sum(da, axis=0))


def lstm_step_backward_in_place(dnext_h, dnext_c, cache):
    """As CS231n solutions write it: the cell's gradient accumulated into ``dnext_c`` itself.
    Correct, but the caller's ``dnext_c`` changes."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dnext_c += dnext_h * o * (1 - np.tanh(next_c) ** 2)
    di, df, dg = dnext_c * g, dnext_c * prev_c, dnext_c * i
    do = dnext_h * np.tanh(next_c)
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    dx, dprev_h = da.dot(Wx.T), da.dot(Wh.T)
    dWx, dWh, db = x.T.dot(da), prev_h.T.dot(da), np.sum(da, axis=0)
    return dx, dprev_h, dnext_c * f, dWx, dWh, db


def batchnorm_centred_forward(x, gamma, beta):
    """Batch norm as a from-scratch book writes it: centred first, ``eps`` = 1e-7, the output
    built column by column into ``np.empty_like(x)`` (so JAX cannot run it)."""
    xc = x - x.mean(axis=0)
    std = np.sqrt(np.mean(xc ** 2, axis=0) + 1e-7)
    xn = xc / std
    out = np.empty_like(x)
    for d in range(x.shape[1]):
        out[:, d] = gamma[d] * xn[:, d] + beta[d]
    return out, (xc, xn, std, gamma)


def batchnorm_centred_backward(dout, cache):
    xc, xn, std, gamma = cache
    n = dout.shape[0]
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -np.sum(dxn * xc / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / n) * xc * dvar
    dx = dxc - np.sum(dxc, axis=0) / n
    return dx, np.sum(xn * dout, axis=0), np.sum(dout, axis=0)
