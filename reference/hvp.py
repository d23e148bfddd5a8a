"""The network's Hessian-vector product, derived by hand with Pearlmutter's R-operator.

For the cost ``C(θ) = ||a_L - y||² / N`` of ``reference.backprop`` and a direction ``v`` laid
out like ``params`` (``v = [(V1, c1), …, (VL, cL)]``), ``hvp`` returns ``H v``, the derivative
of the gradient along ``v``, in the same layout. ``R{·}`` is that directional derivative,
``R{g} = d/dε g(θ + ε v)`` at ε = 0, applied to every line of forward and backward passes:

    forward                           R-forward
    z_l = W_l a_(l-1) + b_l           R{z_l} = V_l a_(l-1) + W_l R{a_(l-1)} + c_l
    a_l = f(z_l)                      R{a_l} = f'(z_l) ⊙ R{z_l}              (R{a_0} = 0)

    backward                          R-backward
    δ_L = 2 (a_L - y) / N ⊙ f'(z_L)   R{δ_L} = 2 R{a_L} / N ⊙ f'(z_L)
                                              + 2 (a_L - y) / N ⊙ f''(z_L) ⊙ R{z_L}
    δ_(l-1) = (W_lᵀ δ_l) ⊙ f'(z_(l-1))
                                      R{δ_(l-1)} = (V_lᵀ δ_l + W_lᵀ R{δ_l}) ⊙ f'(z_(l-1))
                                              + (W_lᵀ δ_l) ⊙ f''(z_(l-1)) ⊙ R{z_(l-1)}
    ∂W_l = δ_l a_(l-1)ᵀ               R{∂W_l} = R{δ_l} a_(l-1)ᵀ + δ_l R{a_(l-1)}ᵀ
    ∂b_l = Σ_examples δ_l             R{∂b_l} = Σ_examples R{δ_l}

The terms with ``f''`` are the curvature of the units, ``δ_l R{a_(l-1)}ᵀ`` and ``V_lᵀ δ_l`` the
cross terms (a weight's gradient moves with the activations and weights around it); dropping
all of them leaves the Gauss-Newton product ``2 Jᵀ J v / N``.

One forward, one R-forward, one backward and one R-backward pass: the cost of about two
gradients, never the Hessian itself.
"""

from __future__ import annotations

import numpy as np

from reference.activations import get_activation, get_second_derivative
from reference.backprop import forward_trace
from reference.validation import Params, as_real_array, check_batch, check_params


def check_direction(params: Params, v: object) -> Params:
    """Validate a direction ``v = [(V1, c1), …]`` laid out exactly like ``params``."""
    if not isinstance(v, (list, tuple)) or len(v) != len(params):
        got = f"length {len(v)}" if isinstance(v, (list, tuple)) else type(v).__name__
        raise TypeError(f"v: expected a list of {len(params)} (V, c) pairs shaped like params, "
                        f"got {got}")
    checked: Params = []
    for index, (layer, (W, b)) in enumerate(zip(v, params, strict=True)):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(f"v[{index}]: expected a (V, c) pair, got {type(layer).__name__}")
        V = as_real_array(layer[0], f"v[{index}] V")
        c = as_real_array(layer[1], f"v[{index}] c")
        for name, got, like in ((f"v[{index}] V", V, W), (f"v[{index}] c", c, b)):
            if got.shape != like.shape:
                raise ValueError(f"{name}: expected shape {like.shape} like params[{index}], "
                                 f"got {got.shape}")
        checked.append((V, c))
    return checked


def hvp(params: Params, x: np.ndarray, y: np.ndarray, v: Params,
        activation: str = "logistic") -> Params:
    """``H v`` of the cost at ``params`` on the batch ``x`` ``(n_in, N)``, ``y`` ``(n_out, N)``:
    ``[(R{∂C/∂W1}, R{∂C/∂b1}), …]``, each shaped like its parameter (see the module docstring)."""
    params = check_params(params)
    x, y = check_batch(params, x, y)
    v = check_direction(params, v)
    _, f_prime = get_activation(activation)
    f_second = get_second_derivative(activation)
    zs, activations = forward_trace(params, x, activation)
    n_examples = x.shape[1]

    # R-forward: R{a_0} = 0, since the inputs do not move with the parameters.
    R_a = [np.zeros_like(x)]
    R_z = []
    for (W, _), (V, c), a_prev, z in zip(params, v, activations[:-1], zs, strict=True):
        R_z.append(V @ a_prev + W @ R_a[-1] + c)
        R_a.append(f_prime(z) * R_z[-1])

    # Backward and R-backward together, from the output layer down.
    residual = activations[-1] - y
    delta = 2 * residual / n_examples * f_prime(zs[-1])
    R_delta = (2 * R_a[-1] / n_examples * f_prime(zs[-1])
               + 2 * residual / n_examples * f_second(zs[-1]) * R_z[-1])
    result: Params = []
    for layer in reversed(range(len(params))):
        R_dW = R_delta @ activations[layer].T + delta @ R_a[layer].T
        R_db = np.sum(R_delta, axis=1, keepdims=True)
        result.append((R_dW, R_db))
        if layer > 0:
            W, V = params[layer][0], v[layer][0]
            back = W.T @ delta
            R_back = V.T @ delta + W.T @ R_delta
            delta, R_delta = (back * f_prime(zs[layer - 1]),
                              R_back * f_prime(zs[layer - 1])
                              + back * f_second(zs[layer - 1]) * R_z[layer - 1])
    result.reverse()
    return result
