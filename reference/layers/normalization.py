"""Layer norm and batch norm (training mode), on columns ``x`` of shape ``(D, N)``.

Both normalise ``x̂ = (x - μ) / √(σ² + ε)`` and return ``γ x̂ + β`` with ``γ``, ``β`` of shape
``(D, 1)``. Layer norm takes μ and σ² of each example over its D features (axis 0); batch norm
takes them of each feature over the N examples of the batch (axis 1), and can keep running
averages for inference in a dict. The backward walks the graph
``x → (μ, x - μ) → σ² → 1/√(σ² + ε) → x̂``; the two paths through μ and σ² are what a
hand derivation most often forgets.
"""

from __future__ import annotations

import numpy as np

from reference.layers.arrays import gradient, namespace, number, real, same_shape

FEATURES, EXAMPLES = 0, 1  # the axes of (D, N)


def _norm_args(x, gamma, beta, eps):
    x = real(x, "x", 2, "(D, N)")
    gamma = real(gamma, "gamma", 2, "(D, 1)")
    beta = real(beta, "beta", 2, "(D, 1)")
    why = f"(a column, one per feature of x {tuple(x.shape)})"
    same_shape(gamma, "gamma", (x.shape[0], 1), why)
    same_shape(beta, "beta", (x.shape[0], 1), why)
    if number(eps, "eps", 0, 1) == 0:
        raise ValueError("eps: expected a positive number, got 0")
    return x, gamma, beta


def normalize(x, axis: int, eps: float):
    """``(x̂, μ, σ²)``: x centred and scaled along ``axis``, with that axis' mean and variance."""
    xp = namespace(x)
    mu = xp.mean(x, axis=axis, keepdims=True)
    xc = x - mu
    var = xp.mean(xc * xc, axis=axis, keepdims=True)
    return xc / xp.sqrt(var + eps), mu, var


def normalize_backward(dxhat, x, axis: int, eps: float) -> np.ndarray:
    """dx from dx̂ for ``x̂ = normalize(x, axis, eps)``, one node of the graph per line."""
    m = x.shape[axis]
    mu = np.mean(x, axis=axis, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    dxc = dxhat * inv_std                                       # x̂ = xc · inv_std, through xc
    dinv_std = np.sum(dxhat * xc, axis=axis, keepdims=True)     # … and through inv_std
    dvar = dinv_std * -0.5 * inv_std**3                         # inv_std = (σ² + ε)^(-1/2)
    dxc = dxc + dvar * 2 * xc / m                               # σ² = mean(xc²)
    dmu = -np.sum(dxc, axis=axis, keepdims=True)                # xc = x - μ
    dx = dxc + dmu / m                                          # μ = mean(x)
    return dx


def normalize_jvp(dx, x, axis: int, eps: float) -> np.ndarray:
    """dx̂ from dx for ``x̂ = normalize(x, axis, eps)``, one node of the graph per line."""
    mu = np.mean(x, axis=axis, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    dmu = np.mean(dx, axis=axis, keepdims=True)                 # μ = mean(x)
    dxc = dx - dmu                                              # xc = x - μ
    dvar = np.mean(2 * xc * dxc, axis=axis, keepdims=True)      # σ² = mean(xc²)
    dinv_std = -0.5 * inv_std**3 * dvar                         # inv_std = (σ² + ε)^(-1/2)
    dxhat = dxc * inv_std + xc * dinv_std                       # x̂ = xc · inv_std
    return dxhat


def _norm_jvp(primals, tangents, axis: int, eps: float):
    x, gamma, beta = _norm_args(*primals, eps)
    dx, dgamma, dbeta = (gradient(t, p.shape, x.dtype, f"tangent of {n}") for t, p, n in zip(
        tangents, (x, gamma, beta), ("x", "gamma", "beta"), strict=True))
    xhat, _, _ = normalize(x, axis, eps)
    dxhat = normalize_jvp(dx, x, axis, eps)
    dout = dgamma * xhat + gamma * dxhat + dbeta                # out = γ x̂ + β
    return gamma * xhat + beta, dout


def layernorm_forward(x, gamma, beta, *, eps: float = 1e-5):
    """γ x̂ + β with each column (example) normalised over its D features; ``(D, N)``."""
    x, gamma, beta = _norm_args(x, gamma, beta, eps)
    xhat, _, _ = normalize(x, FEATURES, eps)
    return gamma * xhat + beta


def layernorm_backward(dout, x, gamma, beta, *, eps: float = 1e-5):
    """``(dx, dgamma, dbeta)``; γ and β are shared by the examples, so their sums run over N."""
    x, gamma, beta = _norm_args(x, gamma, beta, eps)
    dout = gradient(dout, x.shape, x.dtype)
    xhat, _, _ = normalize(x, FEATURES, eps)
    dgamma = np.sum(dout * xhat, axis=EXAMPLES, keepdims=True)
    dbeta = np.sum(dout, axis=EXAMPLES, keepdims=True)
    dxhat = dout * gamma
    dx = normalize_backward(dxhat, x, FEATURES, eps)
    return dx, dgamma, dbeta


def batchnorm_forward(x, gamma, beta, *, eps: float = 1e-5, momentum: float = 0.9,
                      running: dict | None = None):
    """γ x̂ + β with each row (feature) normalised over the batch; ``(D, N)``, training mode.

    With a dict ``running``, its ``"mean"`` and ``"var"`` (``(D, 1)``, started at 0 and 1) become
    ``momentum · old + (1 - momentum) · batch`` (the batch variance, divided by N). Pass it only
    with NumPy arrays: under JAX tracing the dict would keep tracers.
    """
    x, gamma, beta = _norm_args(x, gamma, beta, eps)
    xhat, mu, var = normalize(x, EXAMPLES, eps)
    if running is not None:
        _update(running, mu, var, momentum)
    return gamma * xhat + beta


def _update(running: dict, mu, var, momentum: float) -> None:
    if not isinstance(running, dict):
        raise TypeError(f"running: expected a dict of running statistics, got "
                        f"{type(running).__name__}")
    number(momentum, "momentum", 0, 1)
    for key, batch, start in (("mean", mu, 0.0), ("var", var, 1.0)):
        old = running.get(key, np.full(batch.shape, start, dtype=batch.dtype))
        same_shape(np.asarray(old), f"running[{key!r}]", batch.shape, "(one per feature)")
        running[key] = momentum * old + (1 - momentum) * batch


def batchnorm_backward(dout, x, gamma, beta, *, eps: float = 1e-5, momentum: float = 0.9,
                       running: dict | None = None):
    """``(dx, dgamma, dbeta)``; every example's x̂ depends on the whole batch through μ and σ².

    ``momentum`` and ``running`` are accepted (and ignored) so that one set of keywords serves
    both passes.
    """
    del momentum, running
    x, gamma, beta = _norm_args(x, gamma, beta, eps)
    dout = gradient(dout, x.shape, x.dtype)
    xhat, _, _ = normalize(x, EXAMPLES, eps)
    dgamma = np.sum(dout * xhat, axis=EXAMPLES, keepdims=True)
    dbeta = np.sum(dout, axis=EXAMPLES, keepdims=True)
    dxhat = dout * gamma
    dx = normalize_backward(dxhat, x, EXAMPLES, eps)
    return dx, dgamma, dbeta


def layernorm_jvp(primals, tangents, *, eps: float = 1e-5):
    """``(out, dout)`` for tangents ``(dx, dgamma, dbeta)``, each example over its features."""
    return _norm_jvp(primals, tangents, FEATURES, eps)


def batchnorm_jvp(primals, tangents, *, eps: float = 1e-5, momentum: float = 0.9,
                  running: dict | None = None):
    """``(out, dout)`` for tangents ``(dx, dgamma, dbeta)``, each feature over the batch;
    ``momentum`` and ``running`` are accepted and ignored, as by the backward."""
    del momentum, running
    return _norm_jvp(primals, tangents, EXAMPLES, eps)
