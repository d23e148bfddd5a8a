"""Scaled dot-product attention, with tokens as columns (the project's examples-as-columns).

Queries ``q`` are ``(d, Tq)``, keys ``k`` ``(d, Tk)``, values ``v`` ``(dv, Tk)``; each column is
one token. The scores ``S = kᵀ q / √d`` are ``(Tk, Tq)``; ``P = softmax(S)`` down each column
(each query's weights over the keys sum to 1); the output ``v P`` is ``(dv, Tq)``, one column
per query. (Rows-as-tokens texts write ``softmax(Q Kᵀ / √d) V``: the same thing transposed.)
"""

from __future__ import annotations

import math

import numpy as np

from reference.layers.arrays import gradient, namespace, real


def _attention_args(q, k, v):
    q = real(q, "q", 2, "(d, Tq), one query per column")
    k = real(k, "k", 2, "(d, Tk), one key per column")
    v = real(v, "v", 2, "(dv, Tk), one value per column")
    if k.shape[0] != q.shape[0]:
        raise ValueError(f"k: expected {q.shape[0]} rows, the queries' dimension d "
                         f"(q is {tuple(q.shape)}), got shape {tuple(k.shape)}")
    if v.shape[1] != k.shape[1]:
        raise ValueError(f"v: expected {k.shape[1]} columns, one per key (k is {tuple(k.shape)}),"
                         f" got shape {tuple(v.shape)}")
    return q, k, v


def _weights(xp, q, k):
    """``P = softmax(kᵀ q / √d)`` down each column: ``(Tk, Tq)``."""
    scores = (xp.matrix_transpose(k) @ q) / math.sqrt(q.shape[0])
    e = xp.exp(scores - xp.max(scores, axis=0, keepdims=True))
    return e / xp.sum(e, axis=0, keepdims=True)


def attention_forward(q, k, v):
    """``v · softmax(kᵀ q / √d)``: each query's output is a weighted mean of the values."""
    q, k, v = _attention_args(q, k, v)
    xp = namespace(q, k, v)
    return v @ _weights(xp, q, k)


def attention_backward(dout, q, k, v):
    """``(dq, dk, dv)``; the softmax's Jacobian ``diag(p) - p pᵀ`` acts on each column of dP."""
    q, k, v = _attention_args(q, k, v)
    dout = gradient(dout, (v.shape[0], q.shape[1]), q.dtype)
    P = _weights(np, q, k)
    dv = dout @ P.T
    dP = v.T @ dout
    dS = P * (dP - np.sum(P * dP, axis=0, keepdims=True))
    dscores = dS / math.sqrt(q.shape[0])
    dq = k @ dscores
    dk = q @ dscores.T
    return dq, dk, dv


def attention_jvp(primals, tangents):
    """``(out, dout)`` for tangents ``(dq, dk, dv)``, through ``S``, ``P`` and ``v P``."""
    q, k, v = _attention_args(*primals)
    dq, dk, dv = (gradient(t, p.shape, q.dtype, f"tangent of {n}")
                  for t, p, n in zip(tangents, (q, k, v), ("q", "k", "v"), strict=True))
    P = _weights(np, q, k)
    dscores = (dk.T @ q + k.T @ dq) / math.sqrt(q.shape[0])   # S = kᵀ q / √d
    dP = P * (dscores - np.sum(P * dscores, axis=0, keepdims=True))  # P = softmax(S)
    dout = dv @ P + v @ dP                                    # out = v P
    return v @ P, dout
