"""``check_custom_rule``: a ``jax.custom_jvp``/``jax.custom_vjp`` function's own rule against
the differentiation of its primal implementation (``fn.fun``), and a PyTorch
``torch.autograd.Function``'s backward against finite differences of its forward.

The rule goes through ``check_jvp`` (``fn.jvp``) or ``check_vjp`` (``fn.fwd``/``fn.bwd``) with
``fn.fun`` as the forward, so the oracle is ``jax.jvp``/``jax.vjp`` of ``fn.fun`` where that
traces and agrees with finite differences (a primal written for stability may not), else the
complex step or Ridders of it — the report's ``oracle`` column says which.

**Arguments that are not differentiable.** Float arrays are differentiated; an integer array or
Python number is not, and neither is any position in ``fn.nondiff_argnums``. The contract a
rule must honour, as JAX states it: a ``custom_jvp`` rule receives a ``float0`` zero tangent
for an integer argument and may return ``None`` or a ``float0``/zero tangent for an integer
output; a ``custom_vjp`` ``bwd`` returns one cotangent per argument not in ``nondiff_argnums``,
``None`` (or a zero) for the integer ones — a nonzero cotangent there is a violation — and
``None`` for a float argument means a zero gradient, which the comparison then holds to the
oracle like any other value. And ``fwd`` must return ``fn.fun``'s primal output, within
rounding. Violations are listed in ``contract`` and fail the check.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass, field

import numpy as np

from autodiff.core.render import short, worst_of


@dataclass
class CustomRuleResult:
    """``kind`` ("custom_jvp", "custom_vjp", "torch.autograd.Function"), ``result`` (the
    ``JVPResult``/``VJPResult`` of the rule), and ``contract`` (violations of the
    non-differentiable arguments' contract, see the module docstring)."""

    kind: str
    name: str
    result: object
    contract: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.result.passed and not self.contract

    @property
    def oracle(self) -> str:
        """The oracles the rule was held to (not the primal rows' forward), in order."""
        return ", ".join(dict.fromkeys(a.oracle for a in self.result.arguments
                                       if a.oracle != "the forward"))

    def __repr__(self) -> str:
        if self.contract:
            return f"CustomRuleResult(FAIL, contract: {self.contract[0]})"
        worst, excess = worst_of((a.name, a.excess) for a in self.result.arguments)
        return short("CustomRuleResult", "PASS" if self.passed else "FAIL", worst, excess)

    def plot(self, path):
        """The rule's check drawn (``Rendered.plot``): each row's error over its tolerance."""
        return self.result.plot(path)

    def table(self) -> str:
        lines = [f"{self.kind} {self.name}: its rule against {self.oracle} of its primal "
                 "implementation", self.result.table()]
        lines += [f"  contract: {c}" for c in self.contract]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "kind": self.kind, "name": self.name,
                "oracle": self.oracle, "contract": list(self.contract),
                "result": self.result.to_dict()}


def _is_float(value) -> bool:
    return np.issubdtype(np.asarray(value).dtype, np.floating) and isinstance(
        value, np.ndarray)


def _zero(value) -> bool:
    """``None``, a ``float0`` array, or all zeros: what a non-differentiable slot may hold."""
    if value is None:
        return True
    array = np.asarray(value)
    return array.dtype.kind == "V" or (array.dtype.kind in "biuf" and not np.any(array))


def _primal(fn):
    """``fn.fun`` run in float64 where its inputs are (a scoped ``jax.enable_x64``)."""
    import jax

    def forward(*args):
        with jax.enable_x64(True):
            return fn.fun(*args)

    forward.__name__ = getattr(fn, "__name__", "fun")
    with contextlib.suppress(TypeError, ValueError):  # the report names fn.fun's arguments
        forward.__signature__ = inspect.signature(fn.fun)
    return forward


def _jvp_rule(fn, contract: list):
    import jax

    nondiff = set(fn.nondiff_argnums)

    def rule(primals, tangents):
        diff = [i for i in range(len(primals)) if i not in nondiff]
        moves = tuple(np.zeros(np.shape(primals[i]), jax.dtypes.float0)
                      if tangents[i] is None else tangents[i] for i in diff)
        with jax.enable_x64(True):
            out, tangent = fn.jvp(*[primals[i] for i in sorted(nondiff)],
                                  tuple(primals[i] for i in diff), moves)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        tangent_items = tangent if isinstance(out, (tuple, list)) else (tangent,)
        for index, (o, t) in enumerate(zip(outs, tangent_items, strict=False)):
            if not np.issubdtype(np.asarray(o).dtype, np.inexact) and not _zero(t):
                contract.append(f"the tangent of integer output {index} is not zero (None or "
                                "float0 expected)")
        return out, tangent

    rule.__name__ = f"{getattr(fn, '__name__', 'fn')}.jvp"
    return rule


def _primal_gap(fn, values, primal, floats) -> list[str]:
    """``fwd``'s primal output against ``fn.fun``'s in float64: within ``k·u·(|out| + max
    |out|)`` of the checked dtype (``k`` as in ``vjp.tolerance``) plus twice ``fn.fun``'s own
    error in that dtype; a message per output that is not."""
    import jax

    from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF, rounding_count

    dtype = np.asarray(values[floats[0]]).dtype if floats else np.dtype(np.float64)
    wide = [np.asarray(v, np.float64) if i in floats else v for i, v in enumerate(values)]
    with jax.enable_x64(True):
        own, exact = fn.fun(*values), fn.fun(*wide)
    pairs = zip(*(o if isinstance(o, (tuple, list)) else (o,) for o in (primal, own, exact)),
                strict=True)
    found = []
    for index, (got, mine, true) in enumerate(pairs):
        got, mine, true = (np.asarray(a, np.float64) for a in (got, mine, true))
        if got.shape != true.shape:
            found.append(f"fwd's primal output {index} has shape {got.shape}, fn.fun's "
                         f"{true.shape}")
            continue
        count = rounding_count([*(np.asarray(values[i]) for i in floats), true])
        bound = count * UNIT_ROUNDOFF[np.dtype(dtype)] * (np.abs(true) + float(
            np.max(np.abs(true), initial=0.0))) + 2 * np.abs(mine - true)
        if np.any(~(np.abs(got - true) <= bound)):
            worst = np.unravel_index(int(np.argmax(np.abs(got - true) - bound)), true.shape)
            found.append(f"fwd's primal output {index} differs from fn.fun's at "
                         f"{tuple(int(i) for i in worst)}: {float(got[worst]):.6g} against "
                         f"{float(true[worst]):.6g}")
    return found


def _vjp_backward(fn, args, contract: list):
    import jax

    nondiff = set(fn.nondiff_argnums)
    diff = [i for i in range(len(args)) if i not in nondiff]
    floats = [i for i in diff if _is_float(args[i])]

    def backward(dout, *values):
        with jax.enable_x64(True):
            primal, residuals = fn.fwd(*values)
            grads = fn.bwd(*[values[i] for i in sorted(nondiff)], residuals, dout)
        contract.extend(_primal_gap(fn, values, primal, floats))
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(diff):
            raise TypeError(f"{backward.__name__}: returned {len(grads)} cotangents, expected "
                            f"{len(diff)} (one per argument not in nondiff_argnums)")
        result = []
        for position, grad in zip(diff, grads, strict=True):
            if position in floats:
                result.append(np.zeros(np.shape(values[position])) if grad is None
                              else np.asarray(grad, np.float64))
            elif not _zero(grad):
                contract.append(f"bwd returns a nonzero cotangent for argument {position}, "
                                f"which is not differentiable ({type(values[position]).__name__}"
                                "); return None there")
        return tuple(result)

    backward.__name__ = f"{getattr(fn, '__name__', 'fn')}.bwd"
    return backward, floats


def _kind(fn) -> str:
    if inspect.isclass(fn) and any(f"{c.__module__}.{c.__name__}" ==
                                   "torch.autograd.function.Function" for c in fn.__mro__):
        return "torch.autograd.Function"
    for kind in ("custom_jvp", "custom_vjp"):
        if type(fn).__name__.startswith(kind) and hasattr(fn, "fun"):
            return kind
    raise TypeError(f"fn: expected a function decorated with jax.custom_jvp or jax.custom_vjp, "
                    f"or a torch.autograd.Function subclass; got {type(fn).__name__}")


def check_custom_rule(fn, *args, dtype=None, seed: int = 0, oracle: str = "auto"
                      ) -> CustomRuleResult:
    """Check ``fn``'s custom rule at ``args`` (NumPy arrays; float ones are differentiated).
    ``dtype``, ``seed`` and ``oracle`` are as for ``check_jvp``/``check_vjp``."""
    kind = _kind(fn)
    name = getattr(fn, "__name__", repr(fn))
    contract: list[str] = []
    options = dict(dtype=dtype, seed=seed, oracle=oracle)
    if kind == "torch.autograd.Function":
        from autodiff.check.custom_torch import torch_pair
        from autodiff.check.vjp.check import check_vjp

        forward, backward = torch_pair(fn)
        wrt = [i for i, v in enumerate(args) if _is_float(v)]
        return CustomRuleResult(kind, name, check_vjp(forward, backward, *args, wrt=wrt,
                                                      **options))
    if kind == "custom_jvp":
        from autodiff.check.jvp.check import check_jvp

        if getattr(fn, "jvp", None) is None:
            raise TypeError(f"fn: {name} has no jvp rule (call {name}.defjvp first)")
        wrt = [i for i, v in enumerate(args) if _is_float(v) and i not in fn.nondiff_argnums]
        result = check_jvp(_primal(fn), _jvp_rule(fn, contract), *args, wrt=wrt, **options)
        return CustomRuleResult(kind, name, result, list(dict.fromkeys(contract)))
    from autodiff.check.vjp.check import check_vjp

    if getattr(fn, "fwd", None) is None:
        raise TypeError(f"fn: {name} has no vjp rule (call {name}.defvjp first)")
    backward, floats = _vjp_backward(fn, args, contract)
    result = check_vjp(_primal(fn), backward, *args, wrt=floats, **options)
    return CustomRuleResult(kind, name, result, list(dict.fromkeys(contract)))
