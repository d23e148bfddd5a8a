"""``check_hvp``: a hand-written Hessian-vector product against forward-over-reverse JAX.

A user brings a scalar ``f(*args)`` and ``hvp(v, *args) -> H v``, with ``v`` and the result one
array per differentiable argument (a lone array where there is one, a tuple for several). The
product is checked element by element by ``check_vjp`` applied to ``g = ∇f`` with cotangent
``v`` (``gradient``): its oracle is ``jax.jvp`` of ``jax.grad``, validated against finite
differences of ``jax.grad`` (the third opinion, on a sample, on every element of a failing
argument), confirmed by Ridders on a failure, with ``check_vjp``'s tolerances, kinks and
diagnoses. The Hessian's symmetry is checked on its own (``symmetry``). Everything runs in a
scoped ``jax.enable_x64``; oracles in float64, the user's code in ``dtype``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autodiff.check.hvp.gradient import FORWARD_OVER_REVERSE, as_numpy, gradient_forward
from autodiff.check.hvp.report import HVPResult
from autodiff.check.hvp.symmetry import symmetry_check
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.check import check_vjp
from autodiff.check.vjp.oracles import JAX_NAMES
from autodiff.core.diagnose import Diagnosis

__all__ = ["HVPResult", "check_hvp"]

_V_STREAM = 0x68767076  # "hvpv": the directions' draws, apart from the user's seed


def random_direction(arrays: list, seed: int) -> list[np.ndarray]:
    """The standard normal ``v`` that ``check_hvp`` draws for ``seed``, one per array."""
    rng = np.random.default_rng([seed, _V_STREAM])
    return [rng.standard_normal(np.shape(a)) for a in arrays]


_WORDS = (("the forward's output shape", "its argument's shape"), ("a backward", "an hvp"),
          ("backward", "hvp"), ("gradients", "products"), ("dout", "v"))


def _said(text: str) -> str:
    """What ``check_vjp`` says of ``g = ∇f``, said of ``H v``: its ``backward`` is the hvp, its
    ``dout`` the direction ``v``, its gradients the products."""
    for vjp_word, hvp_word in _WORDS:
        text = text.replace(vjp_word, hvp_word)
    return text


def check_hvp(f, hvp, *args, v=None, dtype=None, seed: int = 0, wrt=None, names=None,
              max_elements: int = 4096) -> HVPResult:
    """Check ``hvp(v, *args)`` against ``H v``, ``H`` the Hessian of the scalar ``f(*args)``
    over the differentiable arguments (``wrt``; default every float array).

    ``v`` defaults to a standard normal direction (``seed``); ``dtype`` ("float64"/"float32";
    default the first float argument's) is what the hvp runs in. ``names`` name the arguments
    (default ``f``'s parameters); ``max_elements`` as in ``check_vjp``. ``f`` must be traceable
    by JAX (``jax.numpy``, the array API, or NumPy that runs under ``jax.numpy``).
    """
    import jax

    layout = Layout.build(f, args, wrt, dtype, names)
    count = len(layout.wrt)
    v_given = v is not None
    if v is None:
        drawn = random_direction(layout.differentiable(), seed)
        v = tuple(drawn) if count > 1 else drawn[0]
    rng = np.random.default_rng([seed, _V_STREAM, 1])  # u and w of the symmetry check
    hvp_name = getattr(hvp, "__name__", repr(hvp))

    def backward(direction, *values):
        return as_numpy(hvp(direction, *values), count)

    backward.__name__ = hvp_name
    with jax.enable_x64(True):
        values = layout.call_args()
        forward, traced = gradient_forward(f, values, layout.wrt)
        try:
            result = check_vjp(forward, backward, *values, dout=v, dtype=layout.dtype,
                               seed=seed, wrt=layout.wrt, names=layout.names, oracle="auto",
                               max_elements=max_elements)
        except (TypeError, ValueError) as error:
            raise type(error)(_said(str(error))) from None

        def call_hvp(directions):
            given = tuple(directions) if count > 1 else directions[0]
            got = backward(given, *layout.call_args())
            got = list(got) if count > 1 and isinstance(got, tuple) else [got]
            return [None if g is None else np.asarray(g, np.float64) for g in got]

        symmetry = symmetry_check(call_hvp, traced, layout.values,
                                  layout.wrt, layout.dtype, rng)
    arguments = [replace(a, oracle=FORWARD_OVER_REVERSE if a.oracle in JAX_NAMES else a.oracle,
                         diagnosis=[Diagnosis(d.key, _said(d.text)) for d in a.diagnosis],
                         note=_said(a.note))
                 for a in result.arguments]
    return HVPResult(arguments=arguments, dtype=result.dtype,
                     forward_name=getattr(f, "__name__", repr(f)), backward_name=hvp_name,
                     dout="given" if v_given else f"random (seed {seed})",
                     warnings=[_said(w) for w in result.warnings],
                     symmetry=symmetry)

