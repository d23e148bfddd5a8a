"""The mistaken backwards behind ``autodiff.check.layers.mistakes``: each is a layer's correct
backward with one line replaced, written as a student would slip, so that it differs from the
truth in exactly one place. Same signatures as the layers' backwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reference import layers as L
from reference.activations import d_logistic, d_tanh, logistic
from reference.layers.conv import correlate, dilate
from reference.layers.normalization import EXAMPLES, normalize, normalize_backward


def with_(grads, index: int, value):
    """``grads`` with the gradient at ``index`` replaced by the mistaken ``value``."""
    return tuple(value if i == index else g for i, g in enumerate(grads))


# --- columns: dense, elementwise, dropout, flatten, embedding ------------------------------

def dense_missing_transpose(dout, x, W, b):
    return with_(L.dense_backward(dout, x, W, b), 0, W.reshape(W.shape[::-1]) @ dout)


def dense_bias_averaged(dout, x, W, b):
    return with_(L.dense_backward(dout, x, W, b), 2, np.mean(dout, axis=1, keepdims=True))


def elementwise(slip: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    """A mistaken elementwise backward ``dx = slip(dout, x)``."""
    return lambda dout, x, **options: (slip(dout, x, **options),)


def embedding_overwrites(dout, ids, E):
    dE = np.zeros_like(E)
    dE[:, ids] = dout  # fancy-index assignment: a repeated id keeps only its last column
    return (dE,)


def embedding_averages(dout, ids, E):
    (dE,) = L.embedding_backward(dout, ids, E)
    counts = np.bincount(ids, minlength=E.shape[1])
    return (dE / np.maximum(counts, 1),)


# --- norms ---------------------------------------------------------------------------------

def norm_without_paths(axis: int, forward_backward: Callable):
    def backward(dout, x, gamma, beta, *, eps=1e-5, **_):
        _, dgamma, dbeta = forward_backward(dout, x, gamma, beta, eps=eps)
        _, _, var = normalize(x, axis, eps)
        dx = dout * gamma / np.sqrt(var + eps)  # through x̂ alone: μ and σ² taken as constants
        return dx, dgamma, dbeta
    return backward


def layernorm_wrong_axis(dout, x, gamma, beta, *, eps=1e-5):
    _, dgamma, dbeta = L.layernorm_backward(dout, x, gamma, beta, eps=eps)
    return normalize_backward(dout * gamma, x, EXAMPLES, eps), dgamma, dbeta


def batchnorm_dgamma_unnormalised(dout, x, gamma, beta, *, eps=1e-5, **_):
    dx, _, dbeta = L.batchnorm_backward(dout, x, gamma, beta, eps=eps)
    dgamma = np.sum(dout * (x - np.mean(x, axis=EXAMPLES, keepdims=True)), axis=EXAMPLES,
                    keepdims=True)  # x - μ where x̂ belongs
    return dx, dgamma, dbeta


# --- convolution and pooling ---------------------------------------------------------------

def _conv_dx(dout, x, w, stride, padding, flip: bool, crop_at: int | None):
    kh, kw = w.shape[2:]
    dout_full = np.pad(dilate(dout, stride), ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    used = correlate(dout_full, kernel.transpose(1, 0, 2, 3))
    dxpad = np.zeros((*x.shape[:2], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding), x.dtype)
    dxpad[:, :, :used.shape[2], :used.shape[3]] = used
    at = padding if crop_at is None else crop_at
    return dxpad[:, :, at:at + x.shape[2], at:at + x.shape[3]]


def conv_unflipped(dout, x, w, b, *, stride=1, padding=0):
    grads = L.conv2d_backward(dout, x, w, b, stride=stride, padding=padding)
    return with_(grads, 0, _conv_dx(dout, x, w, stride, padding, flip=False, crop_at=None))


def conv_crop_offset(dout, x, w, b, *, stride=1, padding=0):
    grads = L.conv2d_backward(dout, x, w, b, stride=stride, padding=padding)
    return with_(grads, 0, _conv_dx(dout, x, w, stride, padding, flip=True, crop_at=0))


def pool_routes(route: Callable):
    def backward(dout, x, *, size=2, stride=None):
        stride = stride or size
        windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
        windows = windows[:, :, ::stride, ::stride]
        winner = np.argmax(windows.reshape(*windows.shape[:4], size * size), axis=-1)
        dx = np.zeros_like(x)
        h, w = dout.shape[2:]
        for u in range(size):
            for v in range(size):
                rows = slice(u, u + stride * (h - 1) + 1, stride)
                cols = slice(v, v + stride * (w - 1) + 1, stride)
                dx[:, :, rows, cols] += dout * route(winner, u, v, size)
        return (dx,)
    return backward


# --- recurrent and attention ---------------------------------------------------------------

def rnn_derivative_of_output(dout, x, h_prev, Wx, Wh, b):
    h_next = np.tanh(Wx @ x + Wh @ h_prev + b)
    dz = dout * d_tanh(h_next)  # tanh' at h = tanh(z), not at z
    return Wx.T @ dz, Wh.T @ dz, dz @ x.T, dz @ h_prev.T, np.sum(dz, axis=1, keepdims=True)


def rnn_dWh_with_h_next(dout, x, h_prev, Wx, Wh, b):
    grads = L.rnn_step_backward(dout, x, h_prev, Wx, Wh, b)
    dz = dout * d_tanh(Wx @ x + Wh @ h_prev + b)
    h_next = np.tanh(Wx @ x + Wh @ h_prev + b)
    return with_(grads, 3, dz @ h_next.T)  # h_next where h_prev belongs


def lstm(slip: str):
    def backward(dout, x, h_prev, c_prev, Wx, Wh, b):
        dh_next, dc_next = dout
        a_i, a_f, a_o, a_g = L.recurrent.lstm_gates(x, h_prev, Wx, Wh, b)
        i, f, o, g = logistic(a_i), logistic(a_f), logistic(a_o), np.tanh(a_g)
        c_next = f * c_prev + i * g
        dc = dc_next if slip == "no-cell-path" else dc_next + dh_next * o * d_tanh(c_next)
        do = dh_next * np.tanh(c_next)
        di, df = (dc * c_prev, dc * g) if slip == "gates-swapped" else (dc * g, dc * c_prev)
        dg, dc_prev = dc * i, dc * f
        da = np.concatenate([di * d_logistic(a_i), df * d_logistic(a_f), do * d_logistic(a_o),
                             dg * d_tanh(a_g)])
        return (Wx.T @ da, Wh.T @ da, dc_prev, da @ x.T, da @ h_prev.T,
                np.sum(da, axis=1, keepdims=True))
    return backward


def attention(slip: str):
    def backward(dout, q, k, v):
        scores = k.T @ q / math.sqrt(q.shape[0])
        P = L.softmax_forward(scores)
        dv = dout @ P.T
        dP = v.T @ dout
        dS = P * dP if slip == "no-subtraction" else P * (dP - np.sum(P * dP, axis=0,
                                                                          keepdims=True))
        scale = 1.0 if slip == "no-scale" else 1 / math.sqrt(q.shape[0])
        return k @ dS * scale, q @ dS.T * scale, dv
    return backward


# --- losses --------------------------------------------------------------------------------

def loss(grads_of: Callable):
    """A mistaken loss backward: ``grads_of(dout, *args)`` returns every gradient."""
    return lambda dout, *args: grads_of(np.asarray(dout, args[0].dtype), *args)


def onehot(z, labels):
    return np.arange(z.shape[0])[:, None] == labels[None, :]


def squared_error(factor: float, per_example: bool):
    def grads(dout, a, y):
        da = dout * factor * (a - y) / (a.shape[1] if per_example else 1)
        return da, -da
    return grads
