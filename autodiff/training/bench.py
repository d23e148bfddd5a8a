"""Time the training engines side by side on the worksheet's network and heart.

Every single-network engine trains the same network from the same seed for the same number
of iterations; ensembles train K networks for ``ensemble_iterations``. Each jax run is first
made once so that compile time stays out of the timing, then the runs go round-robin
``repeats`` times: a burst of load from elsewhere then hits every engine alike. A record
keeps the minimum and the median of its repeats (``RECORD_KEYS``); targets are checked on
minima, the best each engine showed, so a busy machine does not fail a correct engine. An
ensemble is timed by its training loop alone (``EnsembleResult.loop_seconds``). The
machine's load average is sampled before every timed run (``machine``). Speed ratios are
only ever taken between records of one run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence

import numpy as np

RECORD_KEYS = ("engine", "device", "dtype", "sizes", "batch", "iterations", "ensemble",
               "repeats", "seconds", "seconds_median", "us_per_iter", "us_per_iter_median",
               "net_iters_per_s", "net_iters_per_s_median", "final_cost")
SEED_SIZES = (1, 6, 7, 2)
BATCH = 100
GPU_ENSEMBLE_SIZES = (1, 1024, 16384)
CPU_ENSEMBLE_SIZES = (1024,)
# Per-iteration speed over the seed engine (the worksheet's loop), compared on minima.
SPEED_TARGETS = {"numpy/cpu": 11.0, "jax/cpu": 80.0}
# Ensemble net-iterations per second over the single-network jax engine on the same device.
ENSEMBLE_TARGET_K, ENSEMBLE_TARGET = 1024, 4.0
COST_TARGET, COST_ITERATIONS = 0.002, 50_000


def has_gpu() -> bool:
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def record(engine: str, device: str, dtype: str, iterations: int, ensemble: int,
           seconds: Sequence[float], final_cost: float, sizes=SEED_SIZES,
           batch: int = BATCH) -> dict:
    """One benchmark record with exactly ``RECORD_KEYS`` from the wall times of its repeats."""
    best, median = min(seconds), statistics.median(seconds)
    return {"engine": engine, "device": device, "dtype": dtype, "sizes": list(sizes),
            "batch": batch, "iterations": iterations, "ensemble": ensemble,
            "repeats": len(seconds), "seconds": best, "seconds_median": median,
            "us_per_iter": best / iterations * 1e6, "us_per_iter_median": median / iterations * 1e6,
            "net_iters_per_s": ensemble * iterations / best,
            "net_iters_per_s_median": ensemble * iterations / median, "final_cost": final_cost}


def _single(engine: str, dtype: str, device: str):
    """A callable running one engine for ``iterations``; returns (seconds, cost)."""
    from autodiff.training.engine import train

    options = {"dtype": dtype, "device": device} if engine == "jax" else {}

    def go(iterations: int, chunk: int):
        start = time.perf_counter()
        result = train(engine, SEED_SIZES, iterations, seed=0, chunk=chunk, **options)
        return time.perf_counter() - start, result.final_cost

    return go


def _ensemble(k: int, dtype: str, device: str, layout: str | None = None):
    """Like ``_single`` for K networks; on the CPU split over its devices where there are
    several (``distributed.use_every_cpu_core``) and K divides evenly."""
    from autodiff.training.distributed import cpu_placement
    from autodiff.training.ensemble import train_ensemble

    place = cpu_placement(k) if device == "cpu" else None

    def go(iterations: int, chunk: int):
        # The training loop alone: at K = 16384 on an H200, drawing the starting networks
        # (0.76 s) and the final float64 costs (0.77 s) on the host dwarfed the 0.08 s of 200
        # steps: set-up that a run pays once, not what a step costs.
        result = train_ensemble(SEED_SIZES, iterations, seeds=range(k), dtype=dtype,
                                device=device, chunk=chunk, layout=layout, place=place)
        return result.loop_seconds, float(np.nanmin(result.final_costs))

    return go


def plan(engines: Sequence[str], ensemble_sizes: Sequence[int] | None,
         ensemble_devices: Sequence[str] | None) -> list[tuple[str, str, int]]:
    """The ``(engine, device, K)`` runs of a benchmark. Ensembles run on the jax engine
    (``jax-ensemble``): by default K = 1024 on the CPU, and with a GPU K = 1, 1024, 16384
    on GPU and CPU."""
    runs = [(engine, "cpu", 1) for engine in engines]
    gpu = has_gpu()
    if gpu and "jax" in engines:
        runs.append(("jax", "gpu", 1))
    if ensemble_sizes is None:
        ensemble_sizes = GPU_ENSEMBLE_SIZES if gpu else CPU_ENSEMBLE_SIZES
    if ensemble_devices is None:
        ensemble_devices = ("gpu", "cpu") if gpu else ("cpu",)
    runs += [("jax-ensemble", device, k) for device in ensemble_devices for k in ensemble_sizes]
    return runs


def run_benchmark(iterations: int = 50_000, engines: Sequence[str] = ("seed", "numpy", "jax"),
                  dtype: str = "float32", ensemble_sizes: Sequence[int] | None = None,
                  ensemble_devices: Sequence[str] | None = None,
                  ensemble_iterations: int = 1000, repeats: int = 3, chunk: int = 5000,
                  layout: str | None = None, progress=None) -> tuple[list[dict], dict]:
    """Run ``plan(...)``; return one record per run and the machine's state during the runs.
    The seed and numpy engines are float64 NumPy; ``dtype`` applies to the jax runs;
    ``layout`` to the ensembles (default: each device's)."""
    jobs = []
    for engine, device, k in plan(engines, ensemble_sizes, ensemble_devices):
        is_jax = engine.startswith("jax")
        run_dtype = dtype if is_jax else "float64"
        steps = ensemble_iterations if engine == "jax-ensemble" else iterations
        go = (_ensemble(k, run_dtype, device, layout) if engine == "jax-ensemble"
              else _single(engine, run_dtype, device))
        size = min(chunk, steps)
        if is_jax:
            go(size, size)  # compile (same chunk shape as the timed run) outside the timing
        jobs.append((engine, device, k, steps, size, go, run_dtype))
    times: list[list[float]] = [[] for _ in jobs]
    costs: list[float] = [float("nan")] * len(jobs)
    loads = []
    for _ in range(max(1, repeats)):
        for index, (engine, device, k, steps, size, go, _) in enumerate(jobs):
            loads.append(os.getloadavg()[0])
            seconds, costs[index] = go(steps, size)
            times[index].append(seconds)
            if progress is not None:
                progress(engine, device, k)
    records = [record(engine, device, run_dtype, steps, k, times[index], costs[index])
               for index, (engine, device, k, steps, _, _, run_dtype) in enumerate(jobs)]
    return records, machine_state(loads)


def machine_state(loads: Sequence[float]) -> dict:
    """The CPU count, JAX's CPU devices and the 1-minute load average sampled before each
    timed run."""
    import jax

    return {"cpus": os.cpu_count(), "cpu_devices": len(jax.devices("cpu")),
            "load_min": min(loads, default=float("nan")),
            "load_median": statistics.median(loads) if loads else float("nan"),
            "load_max": max(loads, default=float("nan"))}
