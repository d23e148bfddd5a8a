"""One step of a vanilla RNN and of an LSTM, on columns: ``x`` ``(D, N)``, states ``(H, N)``.

* RNN: ``h_next = tanh(Wx x + Wh h_prev + b)`` with ``Wx`` ``(H, D)``, ``Wh`` ``(H, H)``,
  ``b`` ``(H, 1)``.
* LSTM: ``a = Wx x + Wh h_prev + b`` with ``Wx`` ``(4H, D)``, ``Wh`` ``(4H, H)``, ``b``
  ``(4H, 1)``, split in four blocks of H rows, in this order: input gate ``i = σ(a_i)``, forget
  gate ``f = σ(a_f)``, output gate ``o = σ(a_o)``, candidate ``g = tanh(a_g)``; then
  ``c_next = f ⊙ c_prev + i ⊙ g`` and ``h_next = o ⊙ tanh(c_next)``. The step returns the pair
  ``(h_next, c_next)``, and its backward takes the pair ``(dh_next, dc_next)``.

Unrolling over a sequence is these steps in a loop; backprop through time sums their
parameter gradients and carries ``dh_prev``/``dc_prev`` one step back.
"""

from __future__ import annotations

import numpy as np

from reference.activations import d_logistic, d_tanh, logistic
from reference.layers.arrays import gradient, namespace, real, same_shape
from reference.layers.elementwise import logistic_forward


def _step_args(x, h_prev, Wx, Wh, b, gates: int):
    x = real(x, "x", 2, "(D, N)")
    h_prev = real(h_prev, "h_prev", 2, "(H, N)")
    hidden, n_examples = h_prev.shape
    Wx = real(Wx, "Wx", 2, f"({gates}H, D)")
    Wh = real(Wh, "Wh", 2, f"({gates}H, H)")
    b = real(b, "b", 2, f"({gates}H, 1)")
    same_shape(x, "x", (x.shape[0], n_examples), f"(as many examples as h_prev {h_prev.shape})")
    same_shape(Wx, "Wx", (gates * hidden, x.shape[0]), f"({gates}·H, D) for H = {hidden}")
    same_shape(Wh, "Wh", (gates * hidden, hidden), f"({gates}·H, H) for H = {hidden}")
    same_shape(b, "b", (gates * hidden, 1), f"(a column of {gates}·H)")
    return x, h_prev, Wx, Wh, b


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """h_next = tanh(Wx x + Wh h_prev + b), shape ``(H, N)``."""
    x, h_prev, Wx, Wh, b = _step_args(x, h_prev, Wx, Wh, b, 1)
    return namespace(x, h_prev, Wx, Wh, b).tanh(Wx @ x + Wh @ h_prev + b)


def rnn_step_backward(dout, x, h_prev, Wx, Wh, b):
    """``(dx, dh_prev, dWx, dWh, db)`` through ``z = Wx x + Wh h_prev + b``, ``h = tanh(z)``."""
    x, h_prev, Wx, Wh, b = _step_args(x, h_prev, Wx, Wh, b, 1)
    dout = gradient(dout, h_prev.shape, x.dtype)
    z = Wx @ x + Wh @ h_prev + b
    dz = dout * d_tanh(z)
    dx = Wx.T @ dz
    dh_prev = Wh.T @ dz
    dWx = dz @ x.T
    dWh = dz @ h_prev.T
    db = np.sum(dz, axis=1, keepdims=True)
    return dx, dh_prev, dWx, dWh, db


def rnn_step_jvp(primals, tangents):
    """``(h_next, dh_next)`` for tangents ``(dx, dh_prev, dWx, dWh, db)``."""
    x, h_prev, Wx, Wh, b = _step_args(*primals, 1)
    dx, dh_prev, dWx, dWh, db = _step_tangents(tangents, (x, h_prev, Wx, Wh, b))
    z = Wx @ x + Wh @ h_prev + b
    dz = dWx @ x + Wx @ dx + dWh @ h_prev + Wh @ dh_prev + db
    dh_next = d_tanh(z) * dz
    return np.tanh(z), dh_next


def _step_tangents(tangents, primals):
    names = ("x", "h_prev", "c_prev", "Wx", "Wh", "b") if len(primals) == 6 else (
        "x", "h_prev", "Wx", "Wh", "b")
    return tuple(gradient(t, p.shape, primals[0].dtype, f"tangent of {n}")
                 for t, p, n in zip(tangents, primals, names, strict=True))


def _lstm_args(x, h_prev, c_prev, Wx, Wh, b):
    x, h_prev, Wx, Wh, b = _step_args(x, h_prev, Wx, Wh, b, 4)
    c_prev = real(c_prev, "c_prev", 2, "(H, N)")
    same_shape(c_prev, "c_prev", h_prev.shape, "(h_prev's)")
    return x, h_prev, c_prev, Wx, Wh, b


def lstm_gates(x, h_prev, Wx, Wh, b):
    """``(a_i, a_f, a_o, a_g)``: the four pre-activation blocks of H rows each."""
    a = Wx @ x + Wh @ h_prev + b
    hidden = h_prev.shape[0]
    return tuple(a[k * hidden:(k + 1) * hidden] for k in range(4))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """``(h_next, c_next)``, each ``(H, N)``; gates in the order i, f, o, g."""
    x, h_prev, c_prev, Wx, Wh, b = _lstm_args(x, h_prev, c_prev, Wx, Wh, b)
    xp = namespace(x, h_prev, c_prev, Wx, Wh, b)
    a_i, a_f, a_o, a_g = lstm_gates(x, h_prev, Wx, Wh, b)
    i, f, o = (logistic_forward(a) for a in (a_i, a_f, a_o))   # overflow-free σ
    g = xp.tanh(a_g)
    c_next = f * c_prev + i * g
    h_next = o * xp.tanh(c_next)
    return h_next, c_next


def lstm_step_backward(dout, x, h_prev, c_prev, Wx, Wh, b):
    """``(dx, dh_prev, dc_prev, dWx, dWh, db)`` from ``dout = (dh_next, dc_next)``."""
    x, h_prev, c_prev, Wx, Wh, b = _lstm_args(x, h_prev, c_prev, Wx, Wh, b)
    if not isinstance(dout, (tuple, list)) or len(dout) != 2:
        raise TypeError("dout: expected the pair (dh_next, dc_next) of the step's two outputs, "
                        f"got {type(dout).__name__}")
    dh_next = gradient(dout[0], h_prev.shape, x.dtype, "dout[0] (dh_next)")
    dc_next = gradient(dout[1], h_prev.shape, x.dtype, "dout[1] (dc_next)")
    a_i, a_f, a_o, a_g = lstm_gates(x, h_prev, Wx, Wh, b)
    i, f, o, g = logistic(a_i), logistic(a_f), logistic(a_o), np.tanh(a_g)
    c_next = f * c_prev + i * g
    dc = dc_next + dh_next * o * d_tanh(c_next)   # c_next reaches the loss twice: directly
    do = dh_next * np.tanh(c_next)                #   and through h_next = o ⊙ tanh(c_next)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate([di * d_logistic(a_i), df * d_logistic(a_f), do * d_logistic(a_o),
                         dg * d_tanh(a_g)])
    dx = Wx.T @ da
    dh_prev = Wh.T @ da
    dWx = da @ x.T
    dWh = da @ h_prev.T
    db = np.sum(da, axis=1, keepdims=True)
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_step_jvp(primals, tangents):
    """``((h_next, c_next), (dh_next, dc_next))`` for tangents ``(dx, dh_prev, dc_prev, dWx,
    dWh, db)``, the forward's graph walked in its own order."""
    x, h_prev, c_prev, Wx, Wh, b = _lstm_args(*primals)
    dx, dh_prev, dc_prev, dWx, dWh, db = _step_tangents(tangents, (x, h_prev, c_prev, Wx, Wh, b))
    a_i, a_f, a_o, a_g = lstm_gates(x, h_prev, Wx, Wh, b)
    da_i, da_f, da_o, da_g = _gate_tangents(x, h_prev, Wx, Wh, dx, dh_prev, dWx, dWh, db)
    i, f, o, g = logistic(a_i), logistic(a_f), logistic(a_o), np.tanh(a_g)
    di, df, do = d_logistic(a_i) * da_i, d_logistic(a_f) * da_f, d_logistic(a_o) * da_o
    dg = d_tanh(a_g) * da_g
    c_next = f * c_prev + i * g
    dc_next = df * c_prev + f * dc_prev + di * g + i * dg     # c_next = f ⊙ c_prev + i ⊙ g
    dh_next = do * np.tanh(c_next) + o * d_tanh(c_next) * dc_next  # h_next = o ⊙ tanh(c_next)
    return (o * np.tanh(c_next), c_next), (dh_next, dc_next)


def _gate_tangents(x, h_prev, Wx, Wh, dx, dh_prev, dWx, dWh, db):
    """The tangents of the four pre-activation blocks: da = dWx x + Wx dx + dWh h + Wh dh + db."""
    da = dWx @ x + Wx @ dx + dWh @ h_prev + Wh @ dh_prev + db
    hidden = h_prev.shape[0]
    return tuple(da[k * hidden:(k + 1) * hidden] for k in range(4))
