"""Elementwise layers: logistic, tanh, ReLU, leaky ReLU, softplus. Any shape in, same shape out.

``NAME_forward(x)`` returns ``y = f(x)``; ``NAME_backward(dout, x)`` returns ``(dx,)`` with
``dx = dout · f'(x)``. The forwards never overflow: they go through ``exp(-|x|)``, and
``-|x|`` is written ``where(x >= 0, -x, x)`` so that autodiff sees the slope ``-1`` at
``x = 0`` (JAX's derivative of ``abs`` at 0 is 0, which would make σ'(0) come out as 0).
"""

from __future__ import annotations

import numpy as np

from reference.activations import d_logistic, d_tanh, logistic
from reference.layers.arrays import gradient, namespace, number, real_any


def _any(x):
    return real_any(x, "x")


def _minus_abs(xp, x):
    """``-|x|``, differentiable with slope -1 at 0 (see the module docstring)."""
    return xp.where(x >= 0, -x, x)


def logistic_forward(x):
    """σ(x) = 1 / (1 + exp(-x)), as ``1/(1+e)`` or ``e/(1+e)`` with ``e = exp(-|x|) ≤ 1``."""
    x = _any(x)
    xp = namespace(x)
    e = xp.exp(_minus_abs(xp, x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def logistic_backward(dout, x):
    """dx = dout · σ'(x), σ' = e/(1+e)² (full relative accuracy in saturation)."""
    x = _any(x)
    dout = gradient(dout, x.shape, x.dtype)
    dx = dout * d_logistic(x)
    return (dx,)


def tanh_forward(x):
    """tanh(x); both namespaces' own tanh is overflow-free."""
    x = _any(x)
    return namespace(x).tanh(x)


def tanh_backward(dout, x):
    """dx = dout · tanh'(x), tanh' = 4e/(1+e)² with e = exp(-2|x|) (not 1 - tanh²)."""
    x = _any(x)
    dout = gradient(dout, x.shape, x.dtype)
    dx = dout * d_tanh(x)
    return (dx,)


def relu_forward(x):
    """max(x, 0)."""
    x = _any(x)
    xp = namespace(x)
    return xp.where(x > 0, x, xp.zeros_like(x))


def relu_backward(dout, x):
    """dx = dout · [x > 0]. At x = 0 any slope in [0, 1] is a subgradient; this takes 0."""
    x = _any(x)
    dout = gradient(dout, x.shape, x.dtype)
    dx = dout * (x > 0)
    return (dx,)


def _slope(slope: object) -> float:
    return number(slope, "slope", 0, 1, high_open=True)


def leaky_relu_forward(x, *, slope: float = 0.01):
    """x where x > 0, ``slope · x`` elsewhere."""
    x = _any(x)
    xp = namespace(x)
    return xp.where(x > 0, x, _slope(slope) * x)


def leaky_relu_backward(dout, x, *, slope: float = 0.01):
    """dx = dout · (1 where x > 0, else slope)."""
    x = _any(x)
    dout = gradient(dout, x.shape, x.dtype)
    local_slope = np.where(x > 0, 1.0, _slope(slope)).astype(x.dtype)
    dx = dout * local_slope
    return (dx,)


def softplus_forward(x):
    """log(1 + eˣ) = max(x, 0) + log1p(exp(-|x|)): no overflow, no cancellation."""
    x = _any(x)
    xp = namespace(x)
    return xp.where(x >= 0, x, xp.zeros_like(x)) + xp.log1p(xp.exp(_minus_abs(xp, x)))


def softplus_backward(dout, x):
    """dx = dout · σ(x): softplus' is the logistic."""
    x = _any(x)
    dout = gradient(dout, x.shape, x.dtype)
    dx = dout * logistic(x)
    return (dx,)


def _tangent(tangents, x):
    (dx,) = tangents
    return gradient(dx, x.shape, x.dtype, "tangent of x")


def logistic_jvp(primals, tangents):
    """``(y, dy)``: dy = σ'(x) · dx."""
    x = _any(primals[0])
    dx = _tangent(tangents, x)
    dy = d_logistic(x) * dx
    return logistic_forward(x), dy


def tanh_jvp(primals, tangents):
    """``(y, dy)``: dy = tanh'(x) · dx."""
    x = _any(primals[0])
    dx = _tangent(tangents, x)
    dy = d_tanh(x) * dx
    return tanh_forward(x), dy


def relu_jvp(primals, tangents):
    """``(y, dy)``: dy = [x > 0] · dx (slope 0 at x = 0, as the backward)."""
    x = _any(primals[0])
    dx = _tangent(tangents, x)
    dy = dx * (x > 0)
    return relu_forward(x), dy


def leaky_relu_jvp(primals, tangents, *, slope: float = 0.01):
    """``(y, dy)``: dy = (1 where x > 0, else slope) · dx."""
    x = _any(primals[0])
    dx = _tangent(tangents, x)
    dy = np.where(x > 0, 1.0, _slope(slope)).astype(x.dtype) * dx
    return leaky_relu_forward(x, slope=slope), dy


def softplus_jvp(primals, tangents):
    """``(y, dy)``: dy = σ(x) · dx."""
    x = _any(primals[0])
    dx = _tangent(tangents, x)
    dy = logistic(x) * dx
    return softplus_forward(x), dy
