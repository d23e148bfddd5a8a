"""Formulations of the ensemble step timed side by side on one device (issue 12, item 5).

The GPU ensemble of K = 16384 networks ran at 2.26e6 net-it/s on an H100 in ``backprop bench``
(7.2 ms a step, 1.7% of the bandwidth bound). This script separates what that figure mixes:

* ``step/<layout>``: ``chunk`` scanned steps of ``ensemble_step`` with the step factors
  precomputed (no noise drawn, no divergence bookkeeping), for every layout of
  ``autodiff.training.ensemble_step.LAYOUTS`` and two experimental ones defined here:
  ``unrolled-dot`` (the gradients' sums over the examples as products with a row of ones) and
  ``examples-minor`` (``(units, K, N)``: the sums over the examples run along the minor axis);
* ``noise-in-step/<layout>``: the same with each step drawing its members' noise;
* ``chunk/<layout>``: the engine's compiled chunk (noise table per chunk, divergence, end costs);
* ``host/...``: the host work of ``train_ensemble`` at this K (start networks, final float64
  costs) and one whole ``train_ensemble`` call of ``--train-iterations`` as the bench runs it.

Each device variant reports ms per step (min and median of ``--repeats`` after a warm-up),
net-it/s, its fraction of the bandwidth bound (``autodiff.training.roofline``; GPUs only) and the
kernels in its compiled program (fusions and library calls, one scanned step: ``unroll=1``).
Before timing, each variant's float64 step on the CPU (K=3) is compared with the textbook step
(``reference.gradients``); its largest gap is the ``f64 gap`` column. Every variant runs in its own
``try``; a failure prints its error and the rest go on. The table comes last; ``--json PATH``
writes the same rows.

    python benchmarks/gpu_variants.py --json variants.json       # on the GPU machine, ~1-2 min
    python benchmarks/gpu_variants.py --k 256 --iterations 20    # a CPU try-out
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax
import jax.numpy as jnp
import numpy as np

from autodiff.training import roofline
from autodiff.training.engine import with_ones
from autodiff.training.ensemble import (
    ensemble_runner,
    init_ensemble,
    member_noise,
    stacked_costs,
    train_ensemble,
)
from autodiff.training.ensemble_step import LAYOUTS, Unrolled, ensemble_step
from reference import gradients
from reference.heart import training_data

SIZES, BATCH, AGGRESSION, NOISE = (1, 6, 7, 2), 100, 7.0, 1.0


class UnrolledDot(Unrolled):
    """``Unrolled`` with the gradients' sums over the N examples as products with a row of
    ones (a matrix-library call each) instead of reductions."""

    name = "unrolled-dot"

    @staticmethod
    def gradient(delta, a):  # (o, N, K) x (i, N, K or 1) -> (o, i+1, K)
        products = jnp.concatenate([delta[:, None] * a[None], delta[:, None]], axis=1)
        ones = jnp.ones((1, delta.shape[1]), delta.dtype)
        return jnp.einsum("pn,oink->oik", ones, products)


class ExamplesMinor(Unrolled):
    """Activations ``(units, K, N)``: the unrolled sums over units as ``Unrolled``, the sums over
    the examples along the minor (contiguous) axis. Weights stay ``(o, i+1, K)``."""

    name = "examples-minor"

    @staticmethod
    def inputs(x1):
        return x1[:-1, None, :]

    @staticmethod
    def targets(y):
        return y[:, None, :]

    @staticmethod
    def forward(Wb, a):  # (o, i+1, K) x (i, K or 1, N) -> (o, K, N)
        return jnp.stack([sum((Wb[j, i][:, None] * a[i] for i in range(a.shape[0])),
                              Wb[j, -1][:, None]) for j in range(Wb.shape[0])])

    @staticmethod
    def gradient(delta, a):  # (o, K, N) x (i, K or 1, N) -> (o, i+1, K)
        return jnp.concatenate([jnp.sum(delta[:, None] * a[None], axis=3),
                                jnp.sum(delta, axis=2)[:, None]], axis=1)

    @staticmethod
    def backward(Wb, delta):  # (i, K, N)
        return jnp.stack([sum(Wb[j, i][:, None] * delta[j] for j in range(Wb.shape[0]))
                          for i in range(Wb.shape[1] - 1)])

    @staticmethod
    def cost(residual):
        return jnp.sum(residual * residual, axis=(0, 2))


EXPERIMENTS = {layout.name: layout for layout in (UnrolledDot, ExamplesMinor)}
ALL_LAYOUTS = {**LAYOUTS, **EXPERIMENTS}


def problem(k: int, dtype: str, seed: int = 0):
    """The heart, K start networks stacked ``(K, o, i+1)``, seeds, per-member scale and noise."""
    x, y = training_data(BATCH)
    params = init_ensemble(SIZES, range(seed, seed + k))
    Wbs = [np.concatenate([W, b], axis=2).astype(dtype) for W, b in params]
    scales = np.full(k, -AGGRESSION * 2.0 / BATCH, dtype)
    return x.astype(dtype), y.astype(dtype), params, Wbs, scales


def scanned_steps(ops, draw_noise: bool):
    """A function running ``rows.shape[0]`` steps of ``ensemble_step`` in ``ops``' layout.
    ``rows`` are the precomputed factors ``(steps, K, 2L)``, or, with ``draw_noise``, only
    their count matters and each step draws its noise (``member_noise``)."""

    def run(Wbs, rows, x1, y, seeds, scales, noises):
        state = [ops.from_stacked(Wb) for Wb in Wbs]

        def body(state, inputs):
            i, row = inputs
            if draw_noise:
                eps = member_noise(seeds, i, 1, 2 * len(state), x1.dtype)[0]     # (K, 2L)
                row = scales[:, None] * (1 + noises[:, None] * eps)
            return ensemble_step(state, ops.factor_rows(row[None])[0], x1, y, "logistic",
                                 ops)[0], None

        state, _ = jax.lax.scan(body, state, (jnp.arange(rows.shape[0]), rows))
        return [ops.to_stacked(Wb) for Wb in state]

    return jax.jit(run)


def kernel_count(compiled_text: str) -> int:
    """Fusions and library calls in a compiled XLA program (each one kernel or call)."""
    return len(re.findall(r"\s(?:fusion|custom-call|cublas\S*|gemm\S*)\(", compiled_text))


def textbook_gap(advance) -> float:
    """Largest |gap| between one float64 step of a variant (CPU, K=3, members' noise of
    iteration 0 as ``member_noise`` draws it) and the textbook step
    ``W - aggression (1 + noise eps) dW`` from ``reference.gradients``. ``advance(Wbs, params,
    seeds, scales, noises, eps, x, y)`` returns the stepped ``(K, o, i+1)`` blocks."""
    cpu = jax.devices("cpu")[0]
    with jax.enable_x64(True), jax.default_device(cpu):
        x, y, params, Wbs, scales = problem(3, "float64", seed=4)
        seeds = np.arange(4, 7, dtype=np.uint32)
        noises = np.array([0.0, 0.8, 1.6])
        eps = np.asarray(member_noise(seeds, 0, 1, 2 * len(params), "float64")[0])  # (K, 2L)
        new = advance(Wbs, params, seeds, scales, noises, eps, x, y)
        gap = 0.0
        for k in range(3):
            member = [(W[k], b[k]) for W, b in params]
            for l, ((W, b), (dW, db)) in enumerate(zip(member, gradients(member, x, y),
                                                       strict=True)):
                step = -AGGRESSION * (1 + noises[k] * eps[k])
                expected = np.concatenate([W + step[2 * l] * dW, b + step[2 * l + 1] * db], 1)
                gap = max(gap, float(np.max(np.abs(np.asarray(new[l][k]) - expected))))
        return gap


def step_variant(layout: str, draw_noise: bool):
    """``(advance, prepare)`` for ``scanned_steps``: ``advance`` as ``textbook_gap`` wants it,
    ``prepare(k, steps, dtype, device)`` the lowered program and its arguments on ``device``."""
    run = scanned_steps(ALL_LAYOUTS[layout], draw_noise)

    def advance(Wbs, params, seeds, scales, noises, eps, x, y):
        factors = scales[:, None] * (1 + noises[:, None] * eps)
        return run(Wbs, factors[None], with_ones(x), y, seeds, scales, noises)

    def prepare(k, steps, dtype, device):
        x, y, _, Wbs, scales = problem(k, dtype)
        eps = np.random.default_rng(1).standard_normal((steps, k, 2 * len(Wbs)))
        rows = (scales[None, :, None] * (1 + NOISE * eps)).astype(dtype)
        args = (Wbs, rows, with_ones(x).astype(dtype), y, np.arange(k, dtype=np.uint32),
                scales, np.full(k, NOISE, dtype))
        args = jax.device_put(args, device)
        return run.lower(*args), args

    return advance, prepare


def chunk_variant(layout: str):
    """``(advance, prepare)`` for the engine's compiled chunk (``ensemble_runner``)."""

    def call(runner, steps, params, seeds, scales, noises, x, y):
        return runner(params, seeds, jnp.full(seeds.shape, -1, jnp.int32), 0, steps, scales,
                      noises, x, y, chunk=steps, layout=layout, unroll=1)

    def advance(Wbs, params, seeds, scales, noises, eps, x, y):
        new = call(ensemble_runner("cpu"), 1, params, seeds, scales, noises, x, y)[0]
        return [np.concatenate([W, b], axis=2) for W, b in new]

    def prepare(k, steps, dtype, device):
        x, y, params, _, scales = problem(k, dtype)
        params = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
        args = (params, np.arange(k, dtype=np.uint32), scales, np.full(k, NOISE, dtype), x, y)
        params, seeds, *rest = jax.device_put(args, device)
        args = (params, seeds, jax.device_put(np.full(k, -1, np.int32), device), 0, steps, *rest)
        lowered = ensemble_runner(device.platform).lower(*args, chunk=steps, layout=layout,
                                                          unroll=1)
        return lowered, args

    return advance, prepare


def variants(chunk_layouts) -> dict:
    found = {f"step/{name}": step_variant(name, False) for name in ALL_LAYOUTS}
    found.update({f"noise-in-step/{name}": step_variant(name, True) for name in chunk_layouts})
    found.update({f"chunk/{name}": chunk_variant(name) for name in chunk_layouts})
    return found


def time_variant(name, advance, prepare, k, steps, dtype, device, repeats) -> dict:
    """One table row: the float64 gap, then ms per step, rates, bound and kernels."""
    row = {"variant": name, "k": k, "steps": steps}
    row["f64_gap"] = textbook_gap(advance)
    lowered, args = prepare(k, steps, dtype, device)
    compiled = lowered.compile()
    row["kernels"] = kernel_count(compiled.as_text())
    jax.block_until_ready(compiled(*args))  # warm-up outside the timing
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        seconds.append(time.perf_counter() - start)
    row["ms_per_step"] = min(seconds) / steps * 1e3
    row["ms_per_step_median"] = statistics.median(seconds) / steps * 1e3
    row["net_it_per_s"] = k * steps / min(seconds)
    row["bound_fraction"] = bound_fraction(row["net_it_per_s"], dtype, device)
    return row


def bound_fraction(rate: float, dtype: str, device) -> float | None:
    """The rate over the bandwidth bound with activations in memory (None: bandwidth unknown)."""
    bandwidth = roofline.peak_bandwidth(device.device_kind)
    if bandwidth is None:
        return None
    traffic = roofline.traffic_per_net_iteration(SIZES, BATCH, dtype)
    return rate * sum(traffic.values()) / bandwidth


def host_rows(k: int, train_iterations: int, dtype: str, device) -> list[dict]:
    """Seconds of ``train_ensemble``'s host work at this K, and one whole call."""
    x, y = training_data(BATCH)
    rows = []
    start = time.perf_counter()
    params = init_ensemble(SIZES, range(k))
    rows.append({"variant": "host/init_ensemble", "k": k, "seconds": time.perf_counter() - start})
    start = time.perf_counter()
    stacked_costs(params, x, y)
    rows.append({"variant": "host/stacked_costs", "k": k, "seconds": time.perf_counter() - start})
    options = {"seeds": range(k), "dtype": dtype, "device": device.platform,
               "chunk": train_iterations}
    train_ensemble(SIZES, train_iterations, **options)  # compile
    start = time.perf_counter()
    train_ensemble(SIZES, train_iterations, **options)
    seconds = time.perf_counter() - start
    rows.append({"variant": f"host/train_ensemble {train_iterations} its", "k": k,
                 "seconds": seconds, "net_it_per_s": k * train_iterations / seconds})
    return rows


def format_rows(rows: list[dict]) -> str:
    lines = [f"{'variant':<30}{'K':>7}{'ms/step':>10}{'median':>9}{'net-it/s':>11}"
             f"{'bound':>8}{'kernels':>8}{'f64 gap':>10}{'s':>8}"]
    def cell(r, key, width, spec):
        value = r.get(key)
        return f"{value:>{width}{spec}}" if value is not None else " " * width

    for r in rows:
        if "error" in r:
            lines.append(f"{r['variant']:<30}{r['k']:>7}  error: {r['error']}")
            continue
        lines.append(f"{r['variant']:<30}{r['k']:>7}{cell(r, 'ms_per_step', 10, '.3f')}"
                     f"{cell(r, 'ms_per_step_median', 9, '.3f')}"
                     f"{cell(r, 'net_it_per_s', 11, '.3g')}"
                     f"{cell(r, 'bound_fraction', 8, '.1%')}{cell(r, 'kernels', 8, 'd')}"
                     f"{cell(r, 'f64_gap', 10, '.1e')}{cell(r, 'seconds', 8, '.2f')}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("gpu", "cpu"), default=None,
                        help="where to time (default: the GPU if there is one)")
    parser.add_argument("--k", type=int, default=None,
                        help="networks (default 16384 on a GPU, 256 on the CPU)")
    parser.add_argument("--iterations", type=int, default=100, help="scanned steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--train-iterations", type=int, default=200,
                        help="iterations of the whole train_ensemble call (0: skip host rows)")
    parser.add_argument("--only", default=None, help="comma-separated variant names to run")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    platform = args.device or ("gpu" if any(d.platform == "gpu" for d in jax.devices())
                               else "cpu")
    device = jax.devices(platform)[0]
    k = args.k or (16384 if platform == "gpu" else 256)
    print(f"device {device.device_kind} ({platform}), K={k}, {args.iterations} steps, "
          f"{args.dtype}, jax {jax.__version__}", flush=True)
    rows = []
    chosen = variants(("networks-last", "unrolled"))
    if args.only:
        chosen = {n: v for n, v in chosen.items() if n in args.only.split(",")}
    for name, (advance, prepare) in chosen.items():
        try:
            rows.append(time_variant(name, advance, prepare, k, args.iterations, args.dtype,
                                     device, args.repeats))
        except Exception as error:  # one variant's failure must not stop the rest
            traceback.print_exc()
            rows.append({"variant": name, "k": k, "error": f"{type(error).__name__}: {error}"})
        print(format_rows(rows[-1:]).splitlines()[-1], flush=True)
    if args.train_iterations > 0:
        try:
            rows += host_rows(k, args.train_iterations, args.dtype, device)
        except Exception as error:
            traceback.print_exc()
            rows.append({"variant": "host", "k": k, "error": f"{type(error).__name__}: {error}"})
    print(format_rows(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({"device": device.device_kind, "platform": platform,
                                         "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
