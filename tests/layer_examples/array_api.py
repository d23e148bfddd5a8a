"""Layers whose forward is written once against the array API (``xp =
x.__array_namespace__()``), so NumPy runs it and JAX differentiates the very same code; the
backward is derived by hand in NumPy, one chain-rule step per line. Pair style:
``forward(*args) -> out``, ``backward(dout, *args) -> grads``. Every pair here is correct.
"""

import numpy as np


def affine(x, w, b):
    return x @ w + b


def affine_backward(dout, x, w, b):
    return dout @ w.T, x.T @ dout, np.sum(dout, axis=0)


def relu(x):
    xp = x.__array_namespace__()
    return xp.maximum(x, 0.0)


def relu_backward(dout, x):
    return dout * (x > 0)


def tanh(x):
    xp = x.__array_namespace__()
    return xp.tanh(x)


def tanh_backward(dout, x):
    return dout * (1 - np.tanh(x) ** 2)


def sigmoid(x):
    xp = x.__array_namespace__()
    return 1 / (1 + xp.exp(-x))


def sigmoid_backward(dout, x):
    s = 1 / (1 + np.exp(-x))
    return dout * s * (1 - s)


def softmax(x):
    """Row-wise softmax of ``x`` shaped ``(N, C)``."""
    xp = x.__array_namespace__()
    e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


def softmax_backward(dout, x):
    p = softmax(x)
    return p * (dout - np.sum(dout * p, axis=1, keepdims=True))


def softmax_loss(x, y):
    """Mean cross-entropy of logits ``x`` ``(N, C)`` against integer labels ``y`` ``(N,)``."""
    xp = x.__array_namespace__()
    shifted = x - xp.max(x, axis=1, keepdims=True)
    log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    picked = xp.take_along_axis(log_p, xp.asarray(y)[:, None], axis=1)
    return -xp.sum(picked) / x.shape[0]


def softmax_loss_backward(dout, x, y):
    p = softmax(x)
    p[np.arange(x.shape[0]), y] -= 1
    return dout * p / x.shape[0]


def layernorm(x, gamma, beta, params):
    """Normalises each row of ``x`` ``(N, D)``; ``params`` holds ``eps``."""
    xp = x.__array_namespace__()
    mean = xp.mean(x, axis=1, keepdims=True)
    var = xp.mean((x - mean) ** 2, axis=1, keepdims=True)
    return gamma * (x - mean) / xp.sqrt(var + params["eps"]) + beta


def layernorm_backward(dout, x, gamma, beta, params):
    d = x.shape[1]
    mean = np.mean(x, axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(np.mean((x - mean) ** 2, axis=1, keepdims=True) + params["eps"])
    xhat = (x - mean) * inv_std
    dxhat = dout * gamma
    dx = inv_std / d * (d * dxhat - np.sum(dxhat, axis=1, keepdims=True)
                        - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True))
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def attention(q, k, v):
    """``softmax(q kᵀ / √d) v`` for ``q``, ``k``, ``v`` shaped ``(T, d)``."""
    xp = q.__array_namespace__()
    scores = q @ k.T / xp.sqrt(xp.asarray(q.shape[1], dtype=q.dtype))
    return softmax(scores) @ v


def attention_backward(dout, q, k, v):
    scale = 1 / np.sqrt(q.shape[1])
    p = softmax(q @ k.T * scale)
    dv = p.T @ dout
    dp = dout @ v.T
    dscores = p * (dp - np.sum(dp * p, axis=1, keepdims=True)) * scale
    return dscores @ k, dscores.T @ q, dv


def max_pool_1d(x):
    """Max over non-overlapping pairs along axis 1 of ``x`` ``(N, 2M)``."""
    xp = x.__array_namespace__()
    return xp.max(xp.reshape(x, (x.shape[0], x.shape[1] // 2, 2)), axis=2)


def max_pool_1d_backward(dout, x):
    pairs = x.reshape(x.shape[0], -1, 2)
    first = pairs[:, :, 0] >= pairs[:, :, 1]
    return np.stack([dout * first, dout * ~first], axis=2).reshape(x.shape)


def max_pool_1d_backward_every_max(dout, x):
    """Gives the gradient to every maximum of a pair: on a tie it is counted twice (wrong)."""
    pairs = x.reshape(x.shape[0], -1, 2)
    top = np.max(pairs, axis=2, keepdims=True)
    return (dout[:, :, None] * (pairs == top)).reshape(x.shape)


def lstm_cell(x, h, c, w):
    """One LSTM step, ``w`` ``(D + H, 4H)``: returns ``(next_h, next_c)``."""
    xp = x.__array_namespace__()
    hidden = h.shape[1]
    a = xp.concat([x, h], axis=1) @ w
    i, f, o = (1 / (1 + xp.exp(-a[:, s * hidden:(s + 1) * hidden])) for s in range(3))
    g = xp.tanh(a[:, 3 * hidden:])
    next_c = f * c + i * g
    return o * xp.tanh(next_c), next_c


def lstm_cell_backward(dout, x, h, c, w):
    dnext_h, dnext_c = dout
    hidden = h.shape[1]
    xh = np.concatenate([x, h], axis=1)
    a = xh @ w
    i, f, o = (1 / (1 + np.exp(-a[:, s * hidden:(s + 1) * hidden])) for s in range(3))
    g = np.tanh(a[:, 3 * hidden:])
    next_c = f * c + i * g
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f),
                         dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)], axis=1)
    dxh = da @ w.T
    return dxh[:, :x.shape[1]], dxh[:, x.shape[1]:], dc * f, xh.T @ da
