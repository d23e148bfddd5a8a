"""The cross-check engine: a hand-derived gradient against ``jax.grad`` and a third opinion.

``check_gradients`` compares, for every parameter block ``W1, b1, …, WL, bL``, three
opinions of ``dC/dparams`` for the project's network (see ``autodiff.core.network``):
the *manual* one (``reference.gradients`` or a user function ``manual(params, x, y)``),
``jax.grad`` (reverse-mode autodiff) and the complex-step derivative of ``autodiff.check.oracles``
(which shares no code with either; element by element where that is cheap, along random
directions elsewhere, see ``autodiff.check.probes``). Each pair must agree within the rounding
bounds of ``autodiff.core.tolerance``. When a block disagrees, the first wrong layer is located by
comparing the hand deltas with ``jax.vjp`` (see ``first_wrong_layer``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import reference
from autodiff.check import probes as third
from autodiff.core import slips
from autodiff.core.report import BlockReport, CheckResult, block_names
from autodiff.core.tolerance import error_bounds, saturated_layers
from reference.activations import get_activation
from reference.backprop import layer_widths

__all__ = ["BlockReport", "CheckResult", "Manual", "check_gradients", "first_wrong_layer"]

Manual = Callable[[list, np.ndarray, np.ndarray], list]

_DTYPES = {"float64": np.float64, "float32": np.float32}


def resolve_dtype(dtype, params) -> np.dtype:
    """``dtype`` as a NumPy float32/float64 dtype; ``None`` means the dtype of ``W1``."""
    if dtype is None:
        dtype = np.asarray(params[0][0]).dtype
        return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)
    try:
        resolved = np.dtype(_DTYPES.get(dtype, dtype))
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    return resolved


def default_manual(activation: str) -> Manual:
    """``reference.gradients`` with ``activation`` bound: the project's own hand backprop."""

    def manual(params, x, y):
        return reference.gradients(params, x, y, activation)

    manual.__name__ = f"reference.gradients[{activation}]"
    return manual


def _flat(layers) -> list:
    """``[(W1, b1), …]`` (params, gradients or bounds) as ``[W1, b1, …]``, block-name order."""
    return [block for layer in layers for block in layer]


def _as_blocks(grads, params, who: str) -> tuple[list[np.ndarray | None], list[str]]:
    """Flatten ``[(dW, db), …]`` to ``[dW1, db1, …]``; a misshapen block becomes ``None``."""
    names = block_names(len(params))
    expected = _flat(params)
    if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
        got = f"{len(grads)} layers" if isinstance(grads, (list, tuple)) else type(grads).__name__
        raise TypeError(
            f"{who}: expected a list of {len(params)} (dW, db) pairs like params, got {got}"
        )
    flat, notes = [], []
    for index, layer in enumerate(grads):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(f"{who}[{index}]: expected a (dW, db) pair, got {type(layer).__name__}")
        flat.extend(np.asarray(block, dtype=np.float64) for block in layer)
    checked = []
    for name, block, param in zip(names, flat, expected, strict=True):
        if block.shape != np.shape(param):
            checked.append(None)
            notes.append(f"{who} {name} has shape {block.shape}, expected {np.shape(param)}")
        else:
            checked.append(block)
            notes.append("")
    return checked, notes


def _jax_gradient(params, x, y, activation: str) -> list[np.ndarray]:
    """``jax.grad`` of the cost as flat float64 blocks, computed in the inputs' dtype.

    A network that fits the default padded bucket goes through ``autodiff.check.buckets``:
    one compile serves every such shape, where jit of the plain cost compiles each new shape
    (about 0.2 s; most of a small check, and over hypothesis' 200 ms deadline on its own).
    """
    import jax

    from autodiff.check import buckets
    from autodiff.core import network

    if buckets.Bucket().fits(layer_widths(params), x.shape[1]):
        grads = buckets.grads_many([(params, x, y)], activation, x.dtype, chunk=1)[0]
        return [np.asarray(block, np.float64) for block in _flat(grads)]
    with jax.enable_x64(True):  # keeps float64 inputs in float64; float32 stay float32
        grads = jax.jit(network.grad, static_argnames="activation")(
            params, x, y, activation=activation)
        return [np.asarray(block, np.float64) for block in _flat(grads)]


def check_gradients(
    params,
    x,
    y,
    activation: str = "logistic",
    manual: Manual | None = None,
    dtype=None,
    oracle: bool = True,
    locate: bool = True,
    probes: int = third.PROBES,
    third_opinion: str = "auto",
) -> CheckResult:
    """Compare ``manual(params, x, y)`` with ``jax.grad`` and the complex step, block by block.

    ``params``/``x``/``y`` follow the project's layout; they are cast to ``dtype``
    ("float64", "float32" or ``None`` for W1's dtype) before any gradient is taken. ``manual``
    defaults to ``reference.gradients``. ``oracle=False`` skips the third opinion;
    ``third_opinion="auto"`` spends it where it decides something (``probes.spent``: manual
    and jax.grad near or past their tolerance) or costs next to nothing, "always" on every
    block; blocks too large to cover element by element get ``probes`` random directions,
    and the result's hints say which blocks went without. ``locate=False``
    skips the first-wrong-layer search. Never raises for a wrong gradient — that is
    reported; raises ValueError/TypeError for bad input.
    """
    get_activation(activation)
    params = reference.check_params(params)
    x, y = reference.check_batch(params, x, y)
    dtype = resolve_dtype(dtype, params)
    params = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
    x, y = x.astype(dtype), y.astype(dtype)
    manual = manual or default_manual(activation)
    if not isinstance(probes, int) or isinstance(probes, bool) or probes < 1:
        raise ValueError(f"probes: expected a positive number of directions, got {probes!r}")

    manual_grads = manual(params, x, y)
    manual_blocks, notes = _as_blocks(manual_grads, params, "manual")
    jax_blocks = _jax_gradient(params, x, y, activation)
    bounds = error_bounds(params, x, y, activation, dtype)
    bound_blocks = _flat(bounds.grads)
    opinions, skipped = [third.Opinion()] * len(bound_blocks), ""
    if oracle:
        only, skipped = third.spent(params, x, manual_blocks, jax_blocks, bound_blocks, probes,
                                    third_opinion)
        if any(only):
            # The complex step runs in float64 whatever the dtype: its bounds are float64's.
            bounds64 = bounds if dtype == np.float64 else error_bounds(params, x, y, activation,
                                                                       np.float64)
            opinions = third.third_opinion(params, x, y, activation, manual_blocks, jax_blocks,
                                           bound_blocks, bounds64, probes, only=only)
    saturated = saturated_layers(bounds, activation)

    reports = []
    for index, name in enumerate(block_names(len(params))):
        layer = index // 2
        reports.append(BlockReport.compare(
            name=name,
            manual=manual_blocks[index],
            jax=jax_blocks[index],
            oracle=opinions[index].values,
            bound=bound_blocks[index],
            oracle_bound=opinions[index].tolerance,
            saturated=any(saturated[layer:]),
            note=notes[index],
            probe=opinions[index].probe,
        ))
    # What each failing block's mistake looks like (autodiff.core.slips): one call per block.
    for report, got, expected, bound in zip(reports, _flat(manual_grads), jax_blocks,
                                            bound_blocks, strict=True):
        if report.status == "fail":
            report.diagnosis = slips.diagnose_block(params, x, y, report.name, got, expected,
                                                    2 * bound, activation)
    result = CheckResult(
        blocks=reports,
        sizes=layer_widths(params),
        batch=x.shape[1],
        activation=activation,
        dtype=dtype.name,
        manual_name=getattr(manual, "__name__", repr(manual)),
    )
    if skipped:
        result.hints.append(skipped)
    if not result.passed and dtype == np.float64:
        result.hints.extend(_float32_hints(manual_grads, params, x, y, activation, manual_blocks,
                                           jax_blocks, result))
    if locate and not result.passed:
        result.first_wrong_layer = first_wrong_layer(params, x, y, activation, manual, result,
                                                     bounds)
    return result


def _float32_hints(manual_grads, params, x, y, activation, manual_blocks, jax_blocks,
                   result: CheckResult) -> list[str]:
    """Why a float64 check may fail a correct gradient: it was computed in float32 (returned
    as such, or with every failing element within float32's rounding bounds)."""
    returned = {np.asarray(block).dtype for layer in manual_grads for block in layer}
    if np.dtype(np.float32) in returned:
        return ["hint: the manual returned float32 arrays, whose rounding alone exceeds float64 "
                "tolerances; check float32 code in float32 (dtype='float32', --dtype float32)"]
    bounds32 = _flat(error_bounds(params, x, y, activation, np.float32).grads)
    failing = [index for index, block in enumerate(result.blocks) if block.status == "fail"]
    if all(manual_blocks[i] is not None
           and np.all(np.abs(manual_blocks[i] - jax_blocks[i]) <= 2 * bounds32[i])
           for i in failing):
        return ["hint: every disagreement is small enough to be float32 rounding: if the manual "
                "computes in float32 anywhere, check it in float32 (dtype='float32', --dtype "
                "float32); if not, the mistake is real but small"]
    return []


def _hand_deltas(params, x, y, manual: Manual) -> list[np.ndarray] | None:
    """The manual's deltas, one example at a time: for a batch of one, ``dC/db_l = δ_l``."""
    columns = []
    for k in range(x.shape[1]):
        try:
            grads = manual(params, x[:, k:k + 1], y[:, k:k + 1])
            column = [np.asarray(db, np.float64).reshape(W.shape[0])
                      for (_, db), (W, _) in zip(grads, params, strict=True)]
        except (ValueError, TypeError):
            return None  # the manual cannot run on single examples: fall back to blocks
        columns.append(column)
    return [np.stack([c[layer] for c in columns], axis=1) for layer in range(len(params))]


def first_wrong_layer(params, x, y, activation, manual: Manual, result: CheckResult,
                      bounds) -> int | None:
    """The 1-based layer where the hand backward pass first goes wrong, walking down from L.

    The hand deltas are read off the manual itself: on a batch of one example, ``dC/db_l``
    *is* ``δ_l``. The true ones come from ``jax.vjp`` (``autodiff.core.network.deltas``); on the
    batch, ``δ_l`` of example k is ``1/N`` of its single-example value. If every delta
    agrees, the mistake is in assembling ``dW``/``db`` from them (a missing ``1/N``, a bias
    not summed), and the answer is the highest layer with a failing block.
    """
    import jax

    from autodiff.core import network

    failing = [index // 2 + 1 for index, block in enumerate(result.blocks)
               if block.status == "fail"]
    if not failing:
        return None
    hand = _hand_deltas(params, x, y, manual)
    if hand is not None:
        with jax.enable_x64(True):  # one compile, not one per primitive as eager would
            deltas = jax.jit(network.deltas, static_argnames="activation")
            true = [np.asarray(d, np.float64) for d in deltas(params, x, y, activation=activation)]
        n_examples = x.shape[1]
        for layer in reversed(range(len(params))):
            # Both sides carry the single-example rounding bound, N times the batch one.
            tolerance = 2 * n_examples * bounds.deltas[layer]
            if np.any(np.abs(hand[layer] - n_examples * true[layer]) > tolerance):
                return layer + 1
    return max(failing)
