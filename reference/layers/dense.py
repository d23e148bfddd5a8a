"""Layers that move whole columns: dense, flatten, dropout (given its mask), embedding.

Columns are examples, as in ``reference.backprop``: a dense layer maps ``x`` of shape
``(n_in, N)`` with ``W`` ``(n_out, n_in)`` and ``b`` ``(n_out, 1)`` to ``(n_out, N)``;
flatten turns an image batch ``(N, C, H, W)`` into such columns ``(C·H·W, N)``; an embedding
``E`` of shape ``(dim, vocab)`` is a dense layer applied to one-hot columns, so it maps token
ids ``(N,)`` to ``(dim, N)``.
"""

from __future__ import annotations

import math

import numpy as np

from reference.layers.arrays import (
    as_array,
    gradient,
    indices,
    namespace,
    number,
    real,
    real_any,
    same_shape,
)


def _dense_args(x, W, b):
    x = real(x, "x", 2, "(n_in, N)")
    W = real(W, "W", 2, "(n_out, n_in)")
    b = real(b, "b", 2, "(n_out, 1)")
    same_shape(b, "b", (W.shape[0], 1), f"(a column, to match W of shape {tuple(W.shape)})")
    if x.shape[0] != W.shape[1]:
        raise ValueError(f"x: expected {W.shape[1]} rows (W's columns, shape {tuple(W.shape)}),"
                         f" got shape {tuple(x.shape)}")
    return x, W, b


def dense_forward(x, W, b):
    """z = W x + b, shape ``(n_out, N)``."""
    x, W, b = _dense_args(x, W, b)
    return W @ x + b


def dense_backward(dout, x, W, b):
    """``(dx, dW, db)``: dx = Wᵀ dout, dW = dout xᵀ, db = Σ_examples dout."""
    x, W, b = _dense_args(x, W, b)
    dout = gradient(dout, (W.shape[0], x.shape[1]), x.dtype)
    dx = W.T @ dout
    dW = dout @ x.T
    db = np.sum(dout, axis=1, keepdims=True)
    return dx, dW, db


def dense_jvp(primals, tangents):
    """``(z, dz)`` for tangents ``(dx, dW, db)``: dz = dW x + W dx + db."""
    x, W, b = _dense_args(*primals)
    dx, dW, db = (gradient(t, p.shape, x.dtype, f"tangent of {n}")
                  for t, p, n in zip(tangents, (x, W, b), ("x", "W", "b"), strict=True))
    z = W @ x + b
    dz = dW @ x + W @ dx + db
    return z, dz


def _batch_first(x):
    x = real_any(x, "x", "(N, …)")
    if x.ndim < 2:
        raise ValueError(f"x: expected an array (N, C, H, W) or (N, …), got shape {x.shape}")
    return x


def flatten_forward(x):
    """``(N, C, H, W)`` (or any ``(N, …)``) to columns ``(C·H·W, N)``, C-order within a column."""
    x = _batch_first(x)
    xp = namespace(x)
    n_examples = x.shape[0]
    return xp.permute_dims(xp.reshape(x, (n_examples, math.prod(x.shape[1:]))), (1, 0))


def flatten_backward(dout, x):
    """``(dx,)``: the columns put back as ``(N, C, H, W)``."""
    x = _batch_first(x)
    dout = gradient(dout, (math.prod(x.shape[1:]), x.shape[0]), x.dtype)
    dx = dout.T.reshape(x.shape)
    return (dx,)


def flatten_jvp(primals, tangents):
    """``(out, dout)``: the tangent flattened like the input."""
    (x,), (dx,) = primals, tangents
    x = _batch_first(x)
    dx = gradient(dx, x.shape, x.dtype, "tangent of x")
    return flatten_forward(x), flatten_forward(dx)


def _dropout_args(x, keep, p):
    x = real_any(x, "x")
    keep = as_array(keep, "keep")
    if keep.dtype != bool:
        raise TypeError("keep: expected a boolean mask (True keeps a unit), got dtype "
                        f"{keep.dtype}")
    same_shape(keep, "keep", x.shape, "(x's)")
    number(p, "p (the drop probability)", 0, 1, high_open=True)
    return x, keep


def dropout_forward(x, keep, *, p: float = 0.5):
    """Inverted dropout, given the mask: ``x · keep / (1 - p)``, ``keep`` boolean of x's shape."""
    x, keep = _dropout_args(x, keep, p)
    xp = namespace(x)
    return xp.where(keep, x, xp.zeros_like(x)) / (1 - p)


def dropout_backward(dout, x, keep, *, p: float = 0.5):
    """``(dx,)``: dx = dout · keep / (1 - p) — the mask gets no gradient."""
    x, keep = _dropout_args(x, keep, p)
    dout = gradient(dout, x.shape, x.dtype)
    dx = dout * keep / (1 - p)
    return (dx,)


def dropout_jvp(primals, tangents, *, p: float = 0.5):
    """``(out, dout)``: dout = dx · keep / (1 - p); the mask's tangent is ``None``."""
    (x, keep), (dx, _) = primals, tangents
    x, keep = _dropout_args(x, keep, p)
    dx = gradient(dx, x.shape, x.dtype, "tangent of x")
    out = np.where(keep, x, 0.0).astype(x.dtype) / (1 - p)
    dout = dx * keep / (1 - p)
    return out, dout


def _embedding_args(ids, E):
    E = real(E, "E", 2, "(dim, vocab)")
    ids = indices(ids, "ids", 1, E.shape[1], f"(N,) of token ids below the vocabulary {E.shape[1]}")
    return ids, E


def embedding_forward(ids, E):
    """The columns of ``E`` picked by ``ids``: ``E[:, ids]``, shape ``(dim, N)``."""
    ids, E = _embedding_args(ids, E)
    return namespace(E).take(E, ids, axis=1)


def embedding_backward(dout, ids, E):
    """``(dE,)``: dE = dout · onehot(ids)ᵀ, so an id used twice collects both columns."""
    ids, E = _embedding_args(ids, E)
    dout = gradient(dout, (E.shape[0], ids.shape[0]), E.dtype)
    onehot = (np.arange(E.shape[1])[:, None] == np.asarray(ids)[None, :]).astype(E.dtype)
    dE = dout @ onehot.T
    return (dE,)


def embedding_jvp(primals, tangents):
    """``(out, dout)``: the columns of dE picked by ``ids`` (the ids' tangent is ``None``)."""
    (ids, E), (_, dE) = primals, tangents
    ids, E = _embedding_args(ids, E)
    dE = gradient(dE, E.shape, E.dtype, "tangent of E")
    out = E[:, np.asarray(ids)]
    dout = dE[:, np.asarray(ids)]
    return out, dout
