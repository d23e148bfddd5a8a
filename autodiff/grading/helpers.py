"""Test the submission's own helpers — ``sigma``, ``d_sigma``, ``network_function`` — directly.

A student may redefine the worksheet's helpers, and a wrong helper makes every Jacobian that
uses it wrong. ``check_helpers`` calls each one on chosen points and says which is wrong and
where ("your d_sigma(0.5) returns 0.125; σ'(0.5) = 0.235"); ``own_trace`` runs the forward
pass and σ' with the submission's helpers, so that a Jacobian computed right *from them* is
recognised as such.

Both talk to the submission through a ``Caller``: ``call(name, *arrays, params=None,
item=None)`` returns the float64 array the helper gave (``params`` sets the globals
``W1 … b3`` first; ``item`` picks one value of a returned tuple), or a ``CallError``.
``sandbox_caller`` implements it over ``Sandbox.apply``; a test can pass a plain function.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

import numpy as np

from autodiff.core.diagnose import Diagnosis
from autodiff.core.slips import Trace
from autodiff.grading.escape import escaped
from autodiff.grading.judge import MESSAGE_LIMIT
from reference.activations import d_logistic, logistic

# Points where sigma and d_sigma are compared with the logistic: near 0, where a Taylor
# polynomial of σ' is right, and away from it, where it is not.
# The first clearly wrong point in this order is the one reported: a readable one first.
POINTS = np.array([[0.5, -0.5, 2.0, -2.0, 5.0, -5.0, 0.0, 0.01, -0.01]])
CLEARLY_WRONG = 1e-3
NEAR_ZERO = np.abs(POINTS[0]) <= 0.01
# Correct formulas of σ and σ' agree to a few units of roundoff (1e-16) at these points.
RELATIVE_TOLERANCE = 1e-10
STAGES = ("a0", "z1", "a1", "z2", "a2", "z3", "a3")


class CallError(NamedTuple):
    """A call that gave no array: ``status`` as ``sandbox.Outcome``'s, and why."""

    status: str
    message: str


class Caller(Protocol):
    def __call__(self, name: str, *arrays: np.ndarray, params=None,
                 item: int | None = None) -> np.ndarray | CallError: ...


def sandbox_caller(box, timeout: float | None = None) -> Caller:
    """A ``Caller`` over a loaded ``Sandbox`` (its ``apply`` op)."""

    def call(name, *arrays, params=None, item=None):
        outcome = box.apply(name, *arrays, params=params, item=item, timeout=timeout)
        if outcome.status == "value":
            return outcome.value
        return CallError(outcome.status, escaped(outcome.message, MESSAGE_LIMIT))

    return call


def _digits(relative: float) -> int:
    """Significant digits that show two numbers ``relative`` apart as different."""
    return min(17, max(3, math.ceil(-math.log10(max(relative, 1e-17))) + 2))


def _elementwise(call: Caller, name: str, symbol: str, right) -> Diagnosis | None:
    """Compare ``name`` with ``right`` at ``POINTS``; a Diagnosis at the worst point if wrong."""
    got = call(name, POINTS)
    key = f"wrong_{name}"
    if isinstance(got, CallError):
        return Diagnosis(key, f"your {name} fails on an array of z: {got.message}")
    if got.shape != POINTS.shape:
        return Diagnosis(key, f"your {name} returns shape {got.shape} for z of shape "
                         f"{POINTS.shape}: it must work elementwise")
    expected = right(POINTS)
    relative = np.abs(got - expected) / np.abs(expected)
    relative = np.where(np.isfinite(relative), relative, np.inf)[0]
    if relative.max() <= RELATIVE_TOLERANCE:
        return None
    clearly = np.flatnonzero(relative > CLEARLY_WRONG)
    worst = int(clearly[0]) if clearly.size else int(np.argmax(relative))
    digits = _digits(float(relative[worst]))
    z = POINTS[0, worst]
    text = (f"your {name}({z:g}) returns {got[0, worst]:.{digits}g}; "
            f"{symbol}({z:g}) = {expected[0, worst]:.{digits}g}")
    near = float(relative[NEAR_ZERO].max())
    if near <= 1e-6 and relative.max() > 100 * max(near, 1e-16):
        text += (" (right near 0, wrong away from it: an approximation, such as a Taylor "
                 "polynomial or a finite difference?)")
    elif relative.max() < 1e-3:
        text += (f" (close, relative error {relative.max():.1g}: an approximation, such as a "
                 "finite difference?)")
    return Diagnosis(key, text)


def _stages(call: Caller, params, x: np.ndarray) -> list[np.ndarray] | CallError:
    stages = []
    for item in range(len(STAGES)):
        value = call("network_function", x, params=params, item=item)
        if isinstance(value, CallError):
            return value
        stages.append(value)
    return stages


def _network_function(call: Caller, params, x: np.ndarray) -> Diagnosis | None:
    """Each stage of ``network_function(x)`` against the one before it: ``z_l = W_l a_(l-1) +
    b_l`` and ``a_l = sigma(z_l)`` with the submission's own ``sigma``, so that a wrong sigma
    is blamed on sigma, and the first wrong stage is named."""
    key = "wrong_network_function"
    stages = _stages(call, params, x)
    if isinstance(stages, CallError):
        return Diagnosis(key, "your network_function(x) does not give the 7 stages "
                         f"a0, z1, a1, z2, a2, z3, a3: {stages.message}")
    shapes = stage_shapes(params, x)
    for index, (stage, got) in enumerate(zip(STAGES, stages, strict=True)):
        layer = (index + 1) // 2
        if got.shape != shapes[index]:  # checked before any arithmetic: nothing broadcasts
            return Diagnosis(key, f"your network_function returns {stage} of shape "
                             f"{got.shape}; the network's {stage} has shape {shapes[index]}")
        if index == 0:
            right, formula = x, "x"
        elif stage[0] == "z":
            W, b = params[layer - 1]
            right, formula = W @ stages[index - 1] + b, f"W{layer} @ a{layer - 1} + b{layer}"
        else:
            right, formula = call("sigma", stages[index - 1]), f"sigma(z{layer})"
            if isinstance(right, CallError) or right.shape != got.shape:
                right = logistic(stages[index - 1])
        if got.shape != right.shape:
            return Diagnosis(key, f"your network_function returns {stage} of shape "
                             f"{got.shape}; {formula} has shape {right.shape}")
        error = np.abs(got - right)
        wrong = ~(error <= RELATIVE_TOLERANCE * (1.0 + np.abs(right)))
        if wrong.any():
            at = np.unravel_index(int(np.argmax(np.where(wrong, np.nan_to_num(error, nan=np.inf),
                                                         -1.0))), error.shape)
            where = ", ".join(str(int(i)) for i in at)
            return Diagnosis(key, f"your network_function's {stage} is wrong: at [{where}] "
                             f"it is {got[at]:.6g}; {formula} = {right[at]:.6g}")
    return None


def check_helpers(call: Caller, params, x: np.ndarray) -> list[Diagnosis]:
    """The submission's wrong helpers, each with where it is wrong; ``[]`` when all are right.

    ``params`` and ``x`` (the worksheet's layout) are the network ``network_function`` runs.
    """
    found = [_elementwise(call, "sigma", "σ", logistic),
             _elementwise(call, "d_sigma", "σ'", d_logistic),
             _network_function(call, params, x)]
    return [diagnosis for diagnosis in found if diagnosis is not None]


def stage_shapes(params, x: np.ndarray) -> list[tuple[int, ...]]:
    """The shapes of ``a0, z1, a1, z2, a2, z3, a3`` in a right forward pass of ``params`` on
    ``x``: ``a0`` is ``x``, ``z_l`` and ``a_l`` are ``(n_l, N)``."""
    batch = x.shape[1]
    return [x.shape, *(shape for W, _ in params for shape in [(W.shape[0], batch)] * 2)]


def _usable(value, shape) -> bool:
    """Whether a submission's array can enter the trusted side's arithmetic: ``shape``
    exactly (nothing is broadcast), every element finite."""
    return (isinstance(value, np.ndarray) and value.shape == tuple(shape)
            and bool(np.isfinite(value).all()))


def own_trace(call: Caller, params, x: np.ndarray) -> Trace | None:
    """The forward pass and the σ' of ``network_function`` and ``d_sigma`` as the submission
    defines them, for ``autodiff.core.slips.block_gradient``; ``None`` if either fails or
    gives an array of the wrong shape or a non-finite one."""
    stages = _stages(call, params, x)
    if isinstance(stages, CallError) or not all(
            _usable(stage, shape) for stage, shape in zip(stages, stage_shapes(params, x),
                                                           strict=True)):
        return None
    a, z = stages[0::2], [None, *stages[1::2]]
    slope = [None]
    for zl in z[1:]:
        value = call("d_sigma", zl)
        if isinstance(value, CallError) or not _usable(value, zl.shape):
            return None
        slope.append(value)
    return Trace(a, z, slope, [None, *(np.asarray(W, np.float64).T for W, _ in params)])
