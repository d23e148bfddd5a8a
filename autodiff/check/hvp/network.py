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


def _stable(function, slope):
    """``function`` with ``jax.custom_jvp`` derivative ``slope(z)``: JAX then differentiates
    ``slope`` for the second derivative, never a cancelling ``1 - f(z)²``."""
    import jax

    wrapped = jax.custom_jvp(function)
    wrapped.defjvp(lambda primals, tangents: (function(primals[0]),
                                              slope(primals[0]) * tangents[0]))
    return wrapped


def _activations() -> dict:
    """The network's activations for the oracle, their slopes written so that saturated units
    keep their digits: JAX's own ``σ(1 - σ)`` and ``1 - tanh²`` are exact zeros where the slope
    is 1e-70, and their float64 error (1e-10 of ``H v`` on the worksheet's network at weight
    scale 2, measured) exceeds the bound, which is measured from JAX's values themselves."""
    import jax
    import jax.numpy as jnp

    def logistic_slope(z):
        e = jnp.exp(-jnp.abs(z))
        return e / (1 + e) ** 2

    def tanh_slope(z):
        e = jnp.exp(-2 * jnp.abs(z))
        return 4 * e / (1 + e) ** 2

    return {"logistic": _stable(jax.nn.sigmoid, logistic_slope),
            "tanh": _stable(jnp.tanh, tanh_slope)}


_ORACLE_ACTIVATIONS: dict = {}


def network_cost(*arguments):
    """``C = ||a_L - y||² / N`` in JAX for ``arguments = (W1, b1, …, WL, bL, x, y,
    activation)``: one function for every check, so its compiled gradient is kept."""
    import jax.numpy as jnp

    if not _ORACLE_ACTIVATIONS:
        _ORACLE_ACTIVATIONS.update(_activations())
    *blocks, x, y, activation = arguments
    f = _ORACLE_ACTIVATIONS[activation]
    a = x
    for W, b in _pairs(blocks):
        a = f(W @ a + b)
    return jnp.sum((a - y) ** 2) / x.shape[1]


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

    flat_hvp.__name__ = _name(hvp)
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


def _name(hvp) -> str:
    """How the report names ``hvp``: ``reference.hvp``, a planted slip by its name, or the
    function's own name."""
    if hvp is reference_hvp:
        return "reference.hvp"
    slip = getattr(getattr(hvp, "__self__", None), "name", None)
    return f"{slip} (planted)" if isinstance(slip, str) else getattr(hvp, "__name__", "hvp")


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
    """Forward-over-reverse ``H v`` of ``network_cost``, float64, as flat blocks."""
    import jax

    blocks = [np.asarray(a, np.float64) for pair in params for a in pair]
    count = len(blocks)
    with jax.enable_x64(True):
        def gradient(*diff):
            return jax.grad(network_cost, argnums=tuple(range(count)))(*diff, x, y, activation)

        _, product = jax.jvp(gradient, tuple(blocks), tuple(direction))
    return [np.asarray(block, np.float64) for block in product]
