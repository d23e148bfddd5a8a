"""``H v`` of the project's network checked with ``check_hvp``: ``reference.hvp`` (or a planted
slip, or any function with its signature) against forward-over-reverse JAX on the cost of
``autodiff.core.network``, one row per block ``W1, b1, …``; a failure is named by ``slips``.

**Saturation.** Where every unit of a layer is saturated (``|f'(z)| ≤ √u·max f'``, the network
check's rule: ``core.tolerance.saturated_layers``), what flows through it — the gradient and
its R-derivative alike — is mostly rounding: JAX forms ``1 - tanh²`` as an exact 0 where the
hand ``4e/(1 + e)²`` keeps 1e-70, and the bound measured from JAX's zeros is zero too. A block
below (or in) such a layer is marked ``saturated``, neither passed nor failed, as the gradient
check marks it; a result whose every block is so is ``inconclusive`` (nothing was tested).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autodiff.check.hvp.check import HVPResult, check_hvp, random_direction
from autodiff.check.hvp.slips import recognise
from reference.hvp import hvp as reference_hvp
from reference.validation import check_batch, check_params


def _pairs(blocks) -> list:
    return [(blocks[i], blocks[i + 1]) for i in range(0, len(blocks), 2)]


def network_cost(*arguments):
    """``C`` of ``autodiff.core.network`` for ``arguments = (W1, b1, …, WL, bL, x, y,
    activation)``: one function for every check, so its compiled gradient is kept."""
    from autodiff.core.network import cost

    *blocks, x, y, activation = arguments
    return cost(_pairs(blocks), x, y, activation)


def check_network_hvp(params, x, y, activation: str = "logistic", hvp=None, *, v=None,
                      seed: int = 0, dtype=None) -> HVPResult:
    """Check ``hvp(params, x, y, v, activation=...)`` (default ``reference.hvp``) for the
    network ``params`` on the batch ``x`` ``(n_in, N)``, ``y`` ``(n_out, N)``; ``v`` laid out
    like ``params`` (default standard normal, ``seed``)."""
    params = check_params(params)
    x, y = check_batch(params, x, y)
    hvp = reference_hvp if hvp is None else hvp
    blocks = [np.asarray(a, np.float64) for pair in params for a in pair]
    names = [f"{kind}{layer}" for layer in range(1, len(params) + 1) for kind in "Wb"]

    def flat_hvp(direction, *arguments):
        product = hvp(_pairs(arguments[:len(blocks)]), x, y, _pairs(direction),
                      activation=activation)
        return tuple(block for pair in product for block in pair)

    flat_hvp.__name__ = getattr(hvp, "__name__", "hvp")
    if v is None:
        direction = random_direction(blocks, seed)
    else:
        direction = [np.asarray(a, np.float64) for pair in v for a in pair]
    result = check_hvp(network_cost, flat_hvp, *blocks, np.asarray(x, np.float64),
                       np.asarray(y, np.float64), activation, v=tuple(direction), seed=seed,
                       dtype=dtype, wrt=range(len(blocks)), names=[*names, "x", "y", "activation"])
    result.forward_name = f"cost [{activation}]"
    if v is None:
        result.dout = f"random (seed {seed})"
    result = _saturated(result, params, x, y, activation, result.dtype)
    if result.passed:
        return result
    got = [np.asarray(g, np.float64) for g in flat_hvp(tuple(direction), *blocks)]
    expected = _expected(params, x, y, direction, activation)
    tolerances = [a.tolerance or 0.0 for a in result.arguments]
    found = recognise(params, x, y, _pairs(direction), activation, got, expected, tolerances)
    if not found:
        return result
    arguments = [a if a.passed else replace(a, diagnosis=[*found, *(
        d for d in a.diagnosis if d.key != "unrecognised")]) for a in result.arguments]
    return replace(result, arguments=arguments, diagnosis=found)


def _saturated(result: HVPResult, params, x, y, activation: str, dtype) -> HVPResult:
    """``result`` with each block below a saturated layer marked ``saturated``."""
    from autodiff.core.tolerance import error_bounds, saturated_layers

    saturated = saturated_layers(error_bounds(params, x, y, activation, dtype), activation)
    arguments = []
    for index, argument in enumerate(result.arguments):
        layers = [f"{k + 1}" for k in range(index // 2, len(params)) if saturated[k]]
        if not layers:
            arguments.append(argument)
            continue
        arguments.append(replace(argument, status="saturated", diagnosis=[], trust=(
            f"{argument.trust}; layer {', '.join(layers)} saturated (|f'| ≤ √u·max f' on every "
            "unit): what flows through it is mostly rounding, so this is no verdict")))
    return replace(result, arguments=arguments)


def _expected(params, x, y, direction, activation):
    """Forward-over-reverse ``H v`` of the network, float64, as flat blocks."""
    import jax

    from autodiff.core.network import cost

    with jax.enable_x64(True):
        p = [(np.asarray(W), np.asarray(b)) for W, b in params]
        _, product = jax.jvp(lambda q: jax.grad(cost)(q, x, y, activation), (p,),
                             (_pairs(direction),))
    return [np.asarray(block, np.float64) for pair in product for block in pair]
