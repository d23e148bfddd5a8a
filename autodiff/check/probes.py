"""The third opinion at any size: which blocks the complex step covers element by element,
which along random directions, and what a probe along random directions can detect.

Element by element costs one complex pass from the block's layer up *per element*; that is
cheap for small blocks and hopeless for a 784×512 one. There, each probe is one pass along a
Gaussian direction ``V`` of the block: the complex step gives ``d = dC/dW · V`` and it must
match ``<manual, V>`` and ``<jax.grad, V>`` within the probe's own tolerance

    S(V) = Σ|V|·bound (the opinion's element bounds) + n·u·Σ|V·g| (the dot, n terms)
           + tangent_bounds(V) (the complex step's own rounding, ``autodiff.core.tolerance``).

Power: if the manual block is off by ``e``, a probe misses only when ``|<e, V>| ≤ 2·S``, and
``<e, V> ~ N(0, ‖e‖²)``, so k independent probes all miss with probability at most
``(√(2/π)·2S/‖e‖)^k``. ``detects`` is the ‖e‖₂ at which that is ``MISS``. Memory stays within
``CHUNK_BYTES`` per stacked pass (one direction at least), and time grows with the number of
probes and of elements covered, never with parameters squared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from autodiff.check import oracles
from autodiff.core.compare import compare
from autodiff.core.report import ProbeSummary, block_names
from autodiff.core.tolerance import ErrorBounds, tangent_bounds

PROBES = 16  # random directions per probed block
# The command line's most: each direction is one complex-step pass of every probed block
# (4,096 took 144 s at 784,512,512,10, batch 64, on the 2-core development machine).
MAX_PROBES = 4096
MISS = 1e-6  # the miss probability that `detects` is quoted at
# Complex multiply-adds one block may spend to be covered element by element (about a second
# here); the worksheet's network and every network of the property suite stay far below it.
FULL_BUDGET = 2e8
# What one complex activation costs, in multiply-adds (exp and a division, complex).
ACTIVATION_COST = 40
CHUNK_BYTES = 32 * 2**20  # memory of one stacked pass: values, tangents and their bounds
# An imaginary part below the smallest normal number loses digits: an absolute error per ȧ.
UNDERFLOW = float(np.finfo(np.float64).tiny) / oracles.STEP
# Where ``third_opinion="auto"`` spends the complex step (``spent``): on a block whose manual
# and jax.grad disagree by more than NEAR of their tolerance (it then decides which is wrong,
# or whether rounding explains it), and on any block it covers for at most CHEAP multiply-adds
# (a few milliseconds: the worksheet's network, every block of the property suite).
NEAR = 0.1
CHEAP = 2e6
POLICIES = ("auto", "always")


@dataclass
class Opinion:
    """One block's third opinion: element by element (``values`` and their own rounding
    bounds ``tolerance``, both shaped like the block), or ``probe`` along random directions."""

    values: np.ndarray | None = None
    tolerance: np.ndarray | None = None
    probe: ProbeSummary | None = None


def pass_cost(sizes, batch: int, layer: int) -> float:
    """Complex multiply-adds of one pass from layer ``layer`` (0-based) up to the cost."""
    # The layer's own W·a is computed once for all elements; per element, its activation
    # and every layer above.
    return batch * (sizes[layer + 1] * ACTIVATION_COST + sum(
        sizes[m + 1] * (sizes[m] + ACTIVATION_COST) for m in range(layer + 1, len(sizes) - 1)))


def covers_every_element(sizes, batch: int, layer: int, size: int,
                         budget: float | None = None) -> bool:
    """Whether a block of ``size`` elements in layer ``layer`` fits ``budget`` (default
    ``FULL_BUDGET``) element by element."""
    return size * pass_cost(sizes, batch, layer) <= (FULL_BUDGET if budget is None else budget)


def _chunk(sizes, batch: int, layer: int, per_direction: int = 0) -> int:
    """Directions per stacked pass: ~10 float64 stacks of the widest layer above, plus
    ``per_direction`` more values each, within ``CHUNK_BYTES``."""
    widest = max(sizes[layer + 1:])
    return max(1, CHUNK_BYTES // (8 * (10 * widest * batch + 3 * per_direction)))


def _elementwise(params, y, inputs, bounds64, layer, which, activation):
    shape = np.shape(params[layer][which])
    sizes = [inputs[0].shape[0]] + [W.shape[0] for W, _ in params]
    batch = inputs[0].shape[1]
    weights = [W for W, _ in params]
    a_in = bounds64.forward.activations[layer]
    e_in = bounds64.forward.errors[layer]
    values, tolerance = np.empty(int(np.prod(shape))), np.empty(int(np.prod(shape)))
    step = _chunk(sizes, batch, layer)
    for first in range(0, values.size, step):
        elements = np.arange(first, min(first + step, values.size))
        tangents = oracles.element_tangents(inputs, layer, which, shape, elements)
        values[elements] = oracles.complex_step_tangents(params, y, inputs, layer, tangents,
                                                         activation)
        # ż of element (i, j) is a_j in row i, exact but for the error of a_j; of b_i, 1.
        rows, cols = np.unravel_index(elements, shape)
        magnitude, error = np.zeros_like(tangents), np.zeros_like(tangents)
        index = np.arange(len(rows))
        magnitude[index, rows] = np.abs(a_in[cols]) + 2 * e_in[cols] if which == 0 else 1.0
        error[index, rows] = e_in[cols] if which == 0 else 0.0
        tolerance[elements] = tangent_bounds(bounds64, weights, layer, magnitude, error,
                                             UNDERFLOW)
    return Opinion(values.reshape(shape), tolerance.reshape(shape))


def _probed(params, y, inputs, bounds64, layer, which, activation, opinions, bound,
            probes, rng) -> Opinion:
    """``probes`` Gaussian directions of one block; ``opinions`` maps a name to its block
    (``None`` if misshapen), ``bound`` is their element bounds (both in the check's dtype)."""
    block = np.asarray(params[layer][which], np.float64)
    sizes = [inputs[0].shape[0]] + [W.shape[0] for W, _ in params]
    batch = inputs[0].shape[1]
    weights = [W for W, _ in params]
    u = bounds64.unit_roundoff
    a_in = np.abs(bounds64.forward.activations[layer])
    e_in = bounds64.forward.errors[layer]
    ratios = {name: [] for name in opinions}
    slacks = {name: [] for name in opinions}
    step = _chunk(sizes, batch, layer, block.size)
    for first in range(0, probes, step):
        V = rng.standard_normal((min(step, probes - first), *block.shape))
        tangents = oracles.tangents_along(params, inputs, layer, which, V)
        along = oracles.complex_step_tangents(params, y, inputs, layer, tangents, activation)
        if which == 0:  # ż = V·a: the error of a, and a dot of n_in rounded products
            magnitude = np.matmul(np.abs(V), a_in + 2 * e_in)
            error = np.matmul(np.abs(V), e_in + block.shape[1] * u * (a_in + 2 * e_in))
        else:
            magnitude, error = np.broadcast_to(np.abs(V), tangents.shape), 0.0 * tangents
        own = tangent_bounds(bounds64, weights, layer, magnitude, error, UNDERFLOW)
        flat_V = V.reshape(len(V), -1)
        spread = np.abs(flat_V) @ np.ravel(bound)
        for name, values in opinions.items():
            if values is None:
                continue
            g = np.ravel(values)
            slack = spread + own + block.size * u * (np.abs(flat_V) @ np.abs(g))
            # <g, V> against the directional derivative, each direction within its slack.
            ratios[name].extend(compare(flat_V @ g, along, slack).ratio)
            slacks[name].extend(slack)
    # The probes' tolerances vary little from one direction to the next: quote the largest.
    largest = max(slacks["manual"] or slacks["jax"])
    detects = math.sqrt(8 / math.pi) * largest * MISS ** (-1 / probes)
    worst = {name: max(values) if values else math.inf for name, values in ratios.items()}
    reference_norm = float(np.linalg.norm(opinions["jax"]))
    return Opinion(probe=ProbeSummary(
        directions=probes, manual_excess=float(worst["manual"]),
        jax_excess=float(worst["jax"]), detects=float(detects),
        gradient_norm=reference_norm, miss=MISS))


def _cost(sizes, batch: int, layer: int, size: int, probes: int) -> float:
    """Multiply-adds of one block's third opinion: the complex pass up to its layer (which
    ``layer_inputs`` computes once), then element by element, or ``probes`` passes."""
    below = batch * sum(sizes[m + 1] * (sizes[m] + ACTIVATION_COST) for m in range(layer))
    per_pass = pass_cost(sizes, batch, layer)
    return below + (size * per_pass if covers_every_element(sizes, batch, layer, size)
                    else probes * (per_pass + 2 * size))


def spent(params, x, manual_blocks, jax_blocks, bound_blocks, probes: int,
          policy: str = "auto") -> tuple[list[bool], str]:
    """Which blocks (flat ``[W1, b1, …]``) get the third opinion under ``policy`` (one of
    ``POLICIES``), and a line saying so: "auto" runs it where it decides something or costs
    next to nothing (see ``NEAR``, ``CHEAP``), "always" everywhere."""
    if policy not in POLICIES:
        raise ValueError(f"third_opinion: expected one of {POLICIES}, got {policy!r}")
    names = block_names(len(params))
    if policy == "always":
        return [True] * len(names), ""
    sizes = [np.shape(x)[0]] + [np.shape(W)[0] for W, _ in params]
    batch = np.shape(x)[1]
    chosen, closest = [], 0.0
    for index, (manual, jax, bound) in enumerate(zip(manual_blocks, jax_blocks, bound_blocks,
                                                     strict=True)):
        layer, which = divmod(index, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.inf if manual is None else float(np.nan_to_num(
                np.max(np.abs(manual - jax) / (2 * bound), initial=0.0), nan=np.inf))
        cheap = _cost(sizes, batch, layer, np.size(params[layer][which]), probes) <= CHEAP
        chosen.append(ratio > NEAR or cheap)
        if not chosen[-1]:
            closest = max(closest, ratio)
    skipped = [name for name, run in zip(names, chosen, strict=True) if not run]
    if not skipped:
        return chosen, ""
    return chosen, (f"third opinion not run on {', '.join(skipped)}: manual and jax.grad agree "
                    f"there within {closest:.1e} of their tolerance, where it could not change "
                    f"the verdict (third_opinion='always' runs it)")


def third_opinion(params, x, y, activation: str, manual_blocks, jax_blocks, bound_blocks,
                  bounds64: ErrorBounds, probes: int = PROBES, seed: int = 0,
                  budget: float | None = None, only: list[bool] | None = None) -> list[Opinion]:
    """One ``Opinion`` per block in block-name order. Blocks within ``budget`` (default
    ``FULL_BUDGET``) are covered element by element; the others get ``probes`` Gaussian
    directions, drawn from ``seed`` and the block's index. ``*_blocks`` are flat
    ``[W1, b1, …]`` in the check's dtype (``bounds64``: float64's bounds). Blocks that ``only``
    marks ``False`` get an empty ``Opinion``."""
    if probes < 1:
        raise ValueError(f"probes: expected a positive number of directions, got {probes!r}")
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
    inputs = oracles.layer_inputs(params, x, activation)
    sizes = [np.shape(x)[0]] + [W.shape[0] for W, _ in params]
    batch = np.shape(x)[1]
    opinions = []
    for index in range(2 * len(params)):
        layer, which = divmod(index, 2)
        size = params[layer][which].size
        if only is not None and not only[index]:
            opinions.append(Opinion())
        elif covers_every_element(sizes, batch, layer, size, budget):
            opinions.append(_elementwise(params, y, inputs, bounds64, layer, which, activation))
        else:
            rng = np.random.default_rng([seed, index])
            opinions.append(_probed(
                params, y, inputs, bounds64, layer, which, activation,
                {"manual": manual_blocks[index], "jax": jax_blocks[index]},
                bound_blocks[index], probes, rng))
    return opinions
