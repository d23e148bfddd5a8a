"""K networks trained at once: the ``jax`` engine's step under ``vmap``, one scan per chunk.

Member ``k`` has its own seed, aggression and noise (a sweep is just a grid of them, see
``sweep``). Its starting network is ``init_params(sizes, np.random.default_rng(seed_k))`` —
the same network a single run with that seed starts from — and its noise is drawn on the
device: iteration ``i`` uses ``jax.random.normal(fold_in(PRNGKey(seed_k), i), (2L,))``. The
noise therefore depends only on ``(seed_k, i)``: not on K, the member's position, the chunk
size or how the ensemble axis is sharded over devices (``autodiff.training.distributed``).
Drawing it on the device keeps the host out of the loop when K is in the thousands.

A member whose cost turns NaN/inf is marked diverged (``diverged_at``) and the others go on;
``TrainingDiverged`` is raised only when every member diverged.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from autodiff.core.network import activation_fn
from autodiff.training.engine import (
    check_dtype,
    compiler_accepts,
    resolve_device,
    with_ones,
)
from autodiff.training.ensemble_step import LAYOUTS, NetworksFirst, default_layout, ensemble_step
from reference.activations import get_activation
from reference.backprop import init_params
from reference.heart import training_data
from reference.training import TrainingDiverged, check_hyperparameters


@dataclass
class EnsembleResult:
    """``params``: ``[(W, b), …]`` stacked on a leading K axis (float64 NumPy);
    ``final_costs`` (K,), NaN for a diverged member; ``diverged_at`` (K,), the first iteration
    with a non-finite cost or -1; ``history`` (chunks, K), the cost at the end of each chunk
    (in the run's dtype); ``loop_seconds``, the wall time of the training loop alone (the
    compiled chunks, their noise and their cost fetches), without drawing the starting
    networks or computing the final float64 costs on the host."""

    params: list
    final_costs: np.ndarray
    diverged_at: np.ndarray
    history: np.ndarray
    seeds: np.ndarray
    aggressions: np.ndarray
    noises: np.ndarray
    loop_seconds: float = float("nan")

    @property
    def best(self) -> int:
        """Index of the member with the lowest final cost."""
        return int(np.nanargmin(self.final_costs))

    def member(self, k: int) -> list:
        """Member ``k``'s network as ``[(W, b), …]``."""
        return [(W[k], b[k]) for W, b in self.params]

    def summary(self) -> dict:
        """Best member and the spread of the final costs, as plain JSON-ready values."""
        finite = self.final_costs[np.isfinite(self.final_costs)]
        best = self.best
        return {
            "members": int(self.final_costs.size),
            "diverged": int(np.sum(self.diverged_at >= 0)),
            "best": {"index": best, "seed": int(self.seeds[best]),
                     "aggression": float(self.aggressions[best]),
                     "noise": float(self.noises[best]),
                     "final_cost": float(self.final_costs[best])},
            "spread": {name: float(fn(finite)) for name, fn in
                       (("min", np.min), ("median", np.median), ("max", np.max),
                        ("std", np.std))},
        }


def sweep(seeds: Sequence[int], aggressions: Sequence[float], noises: Sequence[float]):
    """Every (seed, aggression, noise) combination, as three equal-length arrays."""
    grid = list(itertools.product(seeds, aggressions, noises))
    columns = np.array(grid, dtype=np.float64).T
    return columns[0].astype(np.int64), columns[1], columns[2]


def init_ensemble(sizes: Sequence[int], seeds: Sequence[int]) -> list:
    """Each member's starting network from its own seed, stacked: ``[(W (K,o,i), b (K,o,1))]``."""
    members = [init_params(list(sizes), np.random.default_rng(int(s))) for s in seeds]
    return [(np.stack([m[l][0] for m in members]), np.stack([m[l][1] for m in members]))
            for l in range(len(sizes) - 1)]


NOISE_TABLE_LIMIT = 2**25  # numbers: 128 MiB in float32


def member_noise(seeds, start, chunk: int, n_blocks: int, dtype):
    """``(chunk, K, n_blocks)`` standard normals: row ``j`` of member ``k`` is
    ``jax.random.normal(fold_in(PRNGKey(seeds[k]), start + j), (n_blocks,))``, the same numbers
    whatever K, the chunking or the layout. Drawn for a whole chunk at once: one batched draw
    instead of K small ones inside every step."""
    keys = jax.vmap(jax.random.PRNGKey)(seeds)
    iterations = start + jnp.arange(chunk)

    def draw(key, i):
        return jax.random.normal(jax.random.fold_in(key, i), (n_blocks,), dtype=dtype)

    return jax.vmap(lambda i: jax.vmap(lambda key: draw(key, i))(keys))(iterations)


def _run_ensemble_chunk(params, seeds, diverged_at, start, count, scales, noises, x, y, *,
                        chunk: int, activation: str = "logistic", unroll: int = 2,
                        layout: str = NetworksFirst.name):
    """``chunk`` steps of every member from iteration ``start``; steps from ``start + count``
    on are zero steps (padding, so the last chunk reuses the compiled shape). ``params`` are
    stacked ``[(W (K,o,i), b (K,o,1)), …]``; inside, the state is in ``layout``
    (``autodiff.training.ensemble_step``). ``diverged_at`` (K,) keeps each member's first
    iteration with a non-finite cost (-1: none). Returns the stacked params, the updated
    ``diverged_at`` and the members' costs at the end."""
    ops = LAYOUTS[layout]
    x1 = with_ones(x)
    live = jnp.arange(chunk) < count
    eps = member_noise(seeds, start, chunk, 2 * len(params), x.dtype)       # (chunk, K, 2L)
    rows = jnp.where(live[:, None, None],
                     scales[None, :, None] * (1 + noises[None, :, None] * eps), 0)

    def body(carry, inputs):
        Wbs, first_bad = carry
        row, i, is_live = inputs
        Wbs, costs = ensemble_step(Wbs, row, x1, y, activation, ops)
        first_bad = jnp.where((first_bad < 0) & is_live & ~jnp.isfinite(costs),
                              i.astype(first_bad.dtype), first_bad)
        return (Wbs, first_bad), None

    Wbs = [ops.from_stacked(jnp.concatenate([W, b], axis=2)) for W, b in params]
    (Wbs, diverged_at), _ = jax.lax.scan(
        body, (Wbs, diverged_at), (ops.factor_rows(rows), start + jnp.arange(chunk), live),
        unroll=unroll)
    end_costs = ensemble_step(Wbs, jnp.zeros_like(ops.factor_rows(rows)[0]), x1, y,
                              activation, ops)[1]
    stacked = [ops.to_stacked(Wb) for Wb in Wbs]
    return [(Wb[:, :, :-1], Wb[:, :, -1:]) for Wb in stacked], diverged_at, end_costs


# On a CPU the networks-first step is matrix-library calls and elementwise loops; LLVM's loops
# over the 100 examples run about 7% faster with 512-bit vectors (3.5 against 3.75 µs of CPU
# time per network-iteration, K = 1024). The engine's CPU_OPTIONS (reductions out of the
# library) made this step slower (6.8 µs), unlike the single-network one.
ENSEMBLE_CPU_OPTIONS = {"xla_cpu_prefer_vector_width": 512}
_STATIC = ("chunk", "activation", "unroll", "layout")
run_ensemble_chunk = jax.jit(_run_ensemble_chunk, static_argnames=_STATIC)
run_ensemble_chunk_cpu = jax.jit(_run_ensemble_chunk, static_argnames=_STATIC,
                                 compiler_options=ENSEMBLE_CPU_OPTIONS)


def ensemble_runner(platform: str):
    """The compiled ensemble chunk for a device platform (CPU options where XLA has them)."""
    if platform == "cpu" and compiler_accepts(tuple(ENSEMBLE_CPU_OPTIONS.items())):
        return run_ensemble_chunk_cpu
    return run_ensemble_chunk


def _fetch(tree):
    """Device arrays (a pytree) as NumPy, gathered from every process when they span several;
    one gather call for the whole tree, since each call compiles and synchronises."""
    leaves = jax.tree_util.tree_leaves(tree)
    if all(getattr(leaf, "is_fully_addressable", True) for leaf in leaves):
        return jax.tree_util.tree_map(np.asarray, tree)
    from jax.experimental import multihost_utils

    return jax.tree_util.tree_map(np.asarray,
                                  multihost_utils.process_allgather(tree, tiled=True))


def train_ensemble(sizes=(1, 6, 7, 2), iterations: int = 5000, seeds=(0,),
                   aggressions=7.0, noises=1.0, x=None, y=None, activation: str = "logistic",
                   dtype: str = "float32", device: str = "cpu", chunk: int = 1000,
                   unroll: int = 2, place=None, callback=None,
                   layout: str | None = None) -> EnsembleResult:
    """Train ``K = len(seeds)`` networks; ``aggressions``/``noises`` are scalars or length-K.
    ``place`` puts host arrays on devices (default ``SingleDevice(device)``;
    ``autodiff.training.distributed.Sharded`` spreads the K axis over a mesh). ``layout``
    (``autodiff.training.ensemble_step.LAYOUTS``) defaults to the devices' platform's.
    ``callback(done, costs (K,), best)`` runs between chunks; ``best()`` fetches the network
    of the member with the lowest cost so far."""
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
    k = seeds.size
    aggressions = np.broadcast_to(np.asarray(aggressions, dtype=np.float64), (k,)).copy()
    noises = np.broadcast_to(np.asarray(noises, dtype=np.float64), (k,)).copy()
    for a, n in zip(aggressions, noises, strict=True):
        check_hyperparameters(iterations, float(a), float(n), chunk)
    check_dtype(dtype)
    activation_fn(activation)  # a clear error before any work
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {sorted(LAYOUTS)}, got {layout!r}")
    if x is None and y is None:
        x, y = training_data(100)
    params = init_ensemble(sizes, seeds)
    # The chunk's noise table holds chunk·K·2L numbers: keep it to NOISE_TABLE_LIMIT.
    chunk = max(1, min(chunk, iterations, NOISE_TABLE_LIMIT // (k * 2 * len(params))))
    with jax.enable_x64(dtype == "float64"):
        place = place or SingleDevice(resolve_device(device))
        layout = layout or default_layout(place.platform)
        compiled = ensemble_runner(place.platform)
        state = [(place.shard(W.astype(dtype)), place.shard(b.astype(dtype))) for W, b in params]
        shared = tuple(place.replicate(np.asarray(a, dtype=dtype)) for a in (x, y))
        member_seeds = place.shard(seeds.astype(np.uint32))
        with np.errstate(over="ignore"):  # a huge step may be inf in float32: it diverges
            scales = place.shard((-aggressions * 2.0 / x.shape[1]).astype(dtype))
            member_noises = place.shard(noises.astype(dtype))
        diverged = place.shard(np.full(k, -1, dtype=np.int32))
        history, done = [], 0
        started = time.perf_counter()
        while done < iterations:
            count = min(chunk, iterations - done)
            state, diverged, end_costs = compiled(
                state, member_seeds, diverged, done, count, scales, member_noises, *shared,
                chunk=chunk, activation=activation, unroll=unroll, layout=layout)
            done += count
            history.append(_fetch(end_costs))
            if not np.any(np.isfinite(history[-1])):  # every member diverged: stop here
                raise _all_diverged(_fetch(diverged), done, aggressions, noises)
            if callback is not None:
                callback(done, history[-1], functools.partial(_best_member, state, history[-1]))
        final, diverged_at = _fetch(([(W, b) for W, b in state], diverged))
        loop_seconds = time.perf_counter() - started
        final = [(W.astype(np.float64), b.astype(np.float64)) for W, b in final]
    final_costs = stacked_costs(final, np.asarray(x, np.float64), np.asarray(y, np.float64),
                                activation)
    final_costs[diverged_at >= 0] = np.nan
    if not np.any(np.isfinite(final_costs)):  # the last step can overflow unseen
        raise _all_diverged(diverged_at, iterations, aggressions, noises)
    return EnsembleResult(final, final_costs, diverged_at, np.array(history), seeds,
                          aggressions, noises, loop_seconds)


def _all_diverged(diverged_at, done: int, aggressions, noises) -> TrainingDiverged:
    """The error for a run whose members all diverged, naming the first one to (a member
    without a recorded iteration diverged on the last step before ``done``)."""
    at = np.where(diverged_at >= 0, diverged_at, done)
    first = int(np.argmin(at))
    return TrainingDiverged(int(at[first]), float(aggressions[first]), float(noises[first]))


def _best_member(state, costs: np.ndarray) -> list:
    """The member with the lowest cost as float64 NumPy ``[(W, b), …]`` (one small fetch)."""
    k = int(np.nanargmin(costs)) if np.any(np.isfinite(costs)) else 0
    return [(np.asarray(W[k], np.float64), np.asarray(b[k], np.float64)) for W, b in state]


def stacked_costs(params, x, y, activation: str = "logistic") -> np.ndarray:
    """float64 NumPy cost of every member of stacked ``params``: shape (K,), NaN where the
    network is not finite."""
    f = get_activation(activation)[0]
    with np.errstate(all="ignore"):
        a = np.broadcast_to(x, (params[0][0].shape[0], *x.shape))
        for W, b in params:
            a = f(W @ a + b)
        return np.sum((a - y) ** 2, axis=(1, 2)) / x.shape[1]


class SingleDevice:
    """Placement of the ensemble on one device: ``shard`` and ``replicate`` both copy there.
    ``autodiff.training.distributed.Sharded`` has the same two methods for a mesh of devices."""

    def __init__(self, device):
        self.device = device
        self.platform = device.platform

    def shard(self, array: np.ndarray):
        return jax.device_put(array, self.device)

    replicate = shard
