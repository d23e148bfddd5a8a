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
oracle like any other value. Violations are listed in ``contract`` and fail the check.
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
        """The rule's picture (``JVPResult.plot``) where it has one: a ``custom_jvp``'s."""
        if not hasattr(self.result, "plot"):
            raise TypeError(f"plot: a picture is drawn for a custom_jvp rule's check, not a "
                            f"{self.kind}'s")
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


def _vjp_backward(fn, args, contract: list):
    import jax

    nondiff = set(fn.nondiff_argnums)
    diff = [i for i in range(len(args)) if i not in nondiff]
    floats = [i for i in diff if _is_float(args[i])]

    def backward(dout, *values):
        with jax.enable_x64(True):
            _, residuals = fn.fwd(*values)
            grads = fn.bwd(*[values[i] for i in sorted(nondiff)], residuals, dout)
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


def _torch_pair(fn):
    """``(forward, backward)`` in NumPy for a ``torch.autograd.Function`` subclass."""
    import torch

    def tensors(values):
        return [torch.tensor(v, dtype=torch.float64 if np.asarray(v).dtype == np.float64 else
                             torch.float32, requires_grad=True) if _is_float(v) else v
                for v in values]

    def forward(*values):
        with torch.no_grad():
            out = fn.apply(*tensors(values))
        return out.detach().numpy()

    def backward(dout, *values):
        inputs = tensors(values)
        out = fn.apply(*inputs)
        leaves = [t for t in inputs if isinstance(t, torch.Tensor)]
        grads = torch.autograd.grad(out, leaves, torch.as_tensor(dout, dtype=out.dtype),
                                    allow_unused=True)
        return tuple(None if g is None else g.detach().numpy() for g in grads)

    forward.__name__, backward.__name__ = f"{fn.__name__}.forward", f"{fn.__name__}.backward"
    return forward, backward


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
        from autodiff.check.vjp.check import check_vjp

        forward, backward = _torch_pair(fn)
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
