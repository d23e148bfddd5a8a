"""Softmax and the losses, on columns ``(C, N)``: one example per column, averaged over N.

* ``softmax``: each column to probabilities, ``exp(z - max z) / Σ exp(z - max z)``;
* ``squared_error(a, y)`` = ``Σ (a - y)² / N``, the worksheet's cost;
* ``softmax_cross_entropy(z, labels)`` = ``Σ_k [logsumexp(z_k) - z_(labels_k, k)] / N`` from
  logits ``(C, N)`` and integer labels ``(N,)``;
* ``binary_cross_entropy(z, y)`` = ``Σ [softplus(z) - y z] / N`` from logits and targets
  ``y ∈ [0, 1]`` of one shape — the log-loss of σ(z), written so that no exp overflows.

A loss returns a scalar; its backward takes the scalar ``dout`` (1 for the loss itself) and
returns one gradient per floating argument: targets ``y`` get one, integer labels do not.
"""

from __future__ import annotations

import numpy as np

from reference.activations import logistic
from reference.layers.arrays import gradient, indices, namespace, real, same_shape


def _columns(z, name: str = "z"):
    z = real(z, name, 2, "(C, N), one example per column")
    if z.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one example (column), got shape {z.shape}")
    return z


def _softmax(xp, z):
    e = xp.exp(z - xp.max(z, axis=0, keepdims=True))   # every exponent ≤ 0: no overflow
    return e / xp.sum(e, axis=0, keepdims=True)


def _logsumexp(xp, z):
    m = xp.max(z, axis=0, keepdims=True)
    return m + xp.log(xp.sum(xp.exp(z - m), axis=0, keepdims=True))


def softmax_forward(z):
    """Each column of ``z`` ``(C, N)`` to probabilities summing to 1."""
    z = _columns(z)
    return _softmax(namespace(z), z)


def softmax_backward(dout, z):
    """``(dz,)``: dz = s ⊙ (dout - Σ_c s ⊙ dout), the Jacobian ``diag(s) - s sᵀ`` per column."""
    z = _columns(z)
    dout = gradient(dout, z.shape, z.dtype)
    s = _softmax(np, z)
    dz = s * (dout - np.sum(s * dout, axis=0, keepdims=True))
    return (dz,)


def softmax_jvp(primals, tangents):
    """``(s, ds)``: ds = s ⊙ (dz - Σ_c s ⊙ dz), column by column."""
    z = _columns(primals[0])
    dz = gradient(tangents[0], z.shape, z.dtype, "tangent of z")
    s = _softmax(np, z)
    ds = s * (dz - np.sum(s * dz, axis=0, keepdims=True))
    return s, ds


def _scalar(dout, dtype) -> np.ndarray:
    """The loss's upstream gradient, a scalar in the computation's dtype."""
    dout = np.asarray(dout)
    if dout.shape not in ((), (1,)) or not np.issubdtype(dout.dtype, np.floating):
        raise ValueError(f"dout: expected a floating scalar (a loss is a scalar), got "
                         f"shape {dout.shape}, dtype {dout.dtype}")
    return dout.reshape(()).astype(dtype)


def _pair(a, y, what: str):
    a = _columns(a, "a" if what == "predictions" else "z")
    y = real(y, "y", 2, f"({a.shape[0]}, N) like the {what}")
    same_shape(y, "y", a.shape, f"(the {what}')")
    return a, y


def squared_error_forward(a, y):
    """``Σ (a - y)² / N`` for predictions and targets ``(D, N)``."""
    a, y = _pair(a, y, "predictions")
    xp = namespace(a, y)
    return xp.sum((a - y) ** 2) / a.shape[1]


def squared_error_backward(dout, a, y):
    """``(da, dy)``: da = dout · 2 (a - y) / N, and dy = -da."""
    a, y = _pair(a, y, "predictions")
    dout = _scalar(dout, a.dtype)
    da = dout * 2 * (a - y) / a.shape[1]
    dy = -da
    return da, dy


def _labelled(z, labels):
    z = _columns(z)
    labels = indices(labels, "labels", 1, z.shape[0], f"(N,) of classes below C = {z.shape[0]}")
    same_shape(labels, "labels", (z.shape[1],), "(one class per column of z)")
    return z, labels


def softmax_cross_entropy_forward(z, labels):
    """``Σ_k [logsumexp(z_k) - z_(labels_k, k)] / N`` from logits ``(C, N)``, labels ``(N,)``."""
    z, labels = _labelled(z, labels)
    xp = namespace(z)
    onehot = xp.arange(z.shape[0])[:, None] == labels[None, :]
    picked = xp.sum(xp.where(onehot, z, xp.zeros_like(z)), axis=0, keepdims=True)
    return xp.sum(_logsumexp(xp, z) - picked) / z.shape[1]


def softmax_cross_entropy_backward(dout, z, labels):
    """``(dz,)``: dz = dout · (softmax(z) - onehot(labels)) / N — labels get no gradient."""
    z, labels = _labelled(z, labels)
    dout = _scalar(dout, z.dtype)
    p = _softmax(np, z)
    onehot = np.arange(z.shape[0])[:, None] == np.asarray(labels)[None, :]
    dz = dout * (p - onehot) / z.shape[1]
    return (dz,)


def _binary(z, y):
    z, y = _pair(z, y, "logits")
    if isinstance(y, np.ndarray) and (y.min() < 0 or y.max() > 1):
        bad = float(y.min()) if y.min() < 0 else float(y.max())
        raise ValueError(f"y: expected targets in [0, 1], got {bad}")
    return z, y


def binary_cross_entropy_forward(z, y):
    """``Σ [softplus(z) - y z] / N``: the log-loss of σ(z) against ``y``, from logits ``(K, N)``."""
    z, y = _binary(z, y)
    xp = namespace(z, y)
    softplus = xp.where(z >= 0, z, xp.zeros_like(z)) + xp.log1p(xp.exp(xp.where(z >= 0, -z, z)))
    return xp.sum(softplus - y * z) / z.shape[1]


def binary_cross_entropy_backward(dout, z, y):
    """``(dz, dy)``: dz = dout · (σ(z) - y) / N and dy = -dout · z / N."""
    z, y = _binary(z, y)
    dout = _scalar(dout, z.dtype)
    dz = dout * (logistic(z) - y) / z.shape[1]
    dy = -dout * z / z.shape[1]
    return dz, dy


def squared_error_jvp(primals, tangents):
    """``(loss, dloss)``: dloss = Σ 2 (a - y)(da - dy) / N."""
    a, y = _pair(*primals, "predictions")
    da, dy = (gradient(t, a.shape, a.dtype, f"tangent of {n}")
              for t, n in zip(tangents, ("a", "y"), strict=True))
    residual = a - y
    dloss = np.sum(2 * residual * (da - dy)) / a.shape[1]
    return squared_error_forward(a, y), dloss


def softmax_cross_entropy_jvp(primals, tangents):
    """``(loss, dloss)``: dloss = Σ_k [Σ_c p_ck dz_ck - dz_(labels_k, k)] / N; labels have no
    tangent."""
    z, labels = _labelled(*primals)
    dz = gradient(tangents[0], z.shape, z.dtype, "tangent of z")
    p = _softmax(np, z)
    onehot = np.arange(z.shape[0])[:, None] == np.asarray(labels)[None, :]
    dloss = np.sum((p - onehot) * dz) / z.shape[1]
    return softmax_cross_entropy_forward(z, labels), dloss


def binary_cross_entropy_jvp(primals, tangents):
    """``(loss, dloss)``: dloss = Σ [(σ(z) - y) dz - z dy] / N."""
    z, y = _binary(*primals)
    dz, dy = (gradient(t, z.shape, z.dtype, f"tangent of {n}")
              for t, n in zip(tangents, ("z", "y"), strict=True))
    dloss = np.sum((logistic(z) - y) * dz - z * dy) / z.shape[1]
    return binary_cross_entropy_forward(z, y), dloss
