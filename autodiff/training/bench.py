"""Time the training engines side by side on the worksheet's network and heart.

Every engine trains the same network from the same seed for the same number of iterations.
Each is first run briefly so that JAX's compile time stays out of the timing, then the runs
go round-robin ``repeats`` times and each engine keeps its fastest: on a shared machine a
burst of load then hits every engine alike. A record's keys are ``RECORD_KEYS``; speed
ratios are only ever taken between records of one run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

RECORD_KEYS = ("engine", "device", "dtype", "sizes", "batch", "iterations", "ensemble",
               "seconds", "us_per_iter", "net_iters_per_s", "final_cost")
SEED_SIZES = (1, 6, 7, 2)
BATCH = 100
GPU_ENSEMBLE_SIZES = (1, 1024, 16384)
# The targets: per-iteration speed over the seed engine, and the heart trained.
SPEED_TARGETS = {"numpy/cpu": 6.0, "jax/cpu": 50.0}
COST_TARGET, COST_ITERATIONS = 0.002, 50_000


def has_gpu() -> bool:
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def record(engine: str, device: str, dtype: str, iterations: int, ensemble: int,
           seconds: float, final_cost: float, sizes=SEED_SIZES, batch: int = BATCH) -> dict:
    """One benchmark record with exactly ``RECORD_KEYS``."""
    return {"engine": engine, "device": device, "dtype": dtype, "sizes": list(sizes),
            "batch": batch, "iterations": iterations, "ensemble": ensemble,
            "seconds": seconds, "us_per_iter": seconds / iterations * 1e6,
            "net_iters_per_s": ensemble * iterations / seconds, "final_cost": final_cost}


def _single(engine: str, dtype: str, device: str):
    """A zero-argument callable running one engine for ``iterations``; returns (seconds, cost)."""
    from autodiff.training.engine import train

    options = {"dtype": dtype, "device": device} if engine == "jax" else {}

    def go(iterations: int, chunk: int):
        start = time.perf_counter()
        result = train(engine, SEED_SIZES, iterations, seed=0, chunk=chunk, **options)
        return time.perf_counter() - start, result.final_cost

    return go


def _ensemble(k: int, dtype: str, device: str):
    from autodiff.training.ensemble import train_ensemble

    def go(iterations: int, chunk: int):
        start = time.perf_counter()
        result = train_ensemble(SEED_SIZES, iterations, seeds=range(k), dtype=dtype,
                                device=device, chunk=chunk)
        return time.perf_counter() - start, float(np.nanmin(result.final_costs))

    return go


def plan(engines: Sequence[str], ensemble_sizes: Sequence[int] | None,
         ensemble_devices: Sequence[str] | None) -> list[tuple[str, str, int]]:
    """The ``(engine, device, K)`` runs of a benchmark. Ensembles run on the jax engine
    (``jax-ensemble``); with a GPU present the default is K = 1, 1024, 16384 on GPU and CPU."""
    runs = [(engine, "cpu", 1) for engine in engines]
    gpu = has_gpu()
    if gpu and "jax" in engines:
        runs.append(("jax", "gpu", 1))
    if ensemble_sizes is None:
        ensemble_sizes = GPU_ENSEMBLE_SIZES if gpu else ()
    if ensemble_devices is None:
        ensemble_devices = ("gpu", "cpu") if gpu else ("cpu",)
    runs += [("jax-ensemble", device, k) for device in ensemble_devices for k in ensemble_sizes]
    return runs


def run_benchmark(iterations: int = 50_000, engines: Sequence[str] = ("seed", "numpy", "jax"),
                  dtype: str = "float32", ensemble_sizes: Sequence[int] | None = None,
                  ensemble_devices: Sequence[str] | None = None,
                  ensemble_iterations: int = 1000, repeats: int = 1, chunk: int = 5000,
                  progress=None) -> list[dict]:
    """Run ``plan(...)`` and return one record per run (fastest of ``repeats``). The seed and
    numpy engines are float64 NumPy; ``dtype`` applies to the jax runs."""
    runs = plan(engines, ensemble_sizes, ensemble_devices)
    jobs = []
    for engine, device, k in runs:
        is_jax = engine.startswith("jax")
        run_dtype = dtype if is_jax else "float64"
        steps = ensemble_iterations if engine == "jax-ensemble" else iterations
        go = (_ensemble(k, run_dtype, device) if engine == "jax-ensemble"
              else _single(engine, run_dtype, device))
        size = min(chunk, steps)
        if is_jax:
            go(size, size)  # compile (same chunk shape as the timed run) outside the timing
        jobs.append((engine, device, k, steps, size, go, run_dtype))
    best: dict[int, tuple[float, float]] = {}
    for _ in range(max(1, repeats)):
        for index, (engine, device, k, steps, size, go, _) in enumerate(jobs):
            seconds, cost = go(steps, size)
            if index not in best or seconds < best[index][0]:
                best[index] = (seconds, cost)
            if progress is not None:
                progress(engine, device, k)
    return [record(engine, device, run_dtype, steps, k, *best[index])
            for index, (engine, device, k, steps, _, _, run_dtype) in enumerate(jobs)]


def speedups(records: list[dict], baseline: str = "seed") -> dict[str, float]:
    """Per-iteration speed of each single-network record relative to ``baseline`` (same run)."""
    base = next((r for r in records if r["engine"] == baseline and r["ensemble"] == 1), None)
    if base is None:
        return {}
    return {f"{r['engine']}/{r['device']}": base["us_per_iter"] / r["us_per_iter"]
            for r in records if r["ensemble"] == 1 and r["engine"] != "jax-ensemble"}


def format_table(records: list[dict]) -> str:
    """A plain-text table of the records, with the speed-up over the seed engine."""
    ratios = speedups(records)
    lines = [f"{'engine':<13}{'device':<7}{'dtype':<9}{'K':>6}{'iters':>8}{'seconds':>9}"
             f"{'µs/iter':>10}{'net-it/s':>11}{'× seed':>8}{'final cost':>12}"]
    for r in records:
        ratio = ratios.get(f"{r['engine']}/{r['device']}") if r["ensemble"] == 1 else None
        lines.append(
            f"{r['engine']:<13}{r['device']:<7}{r['dtype']:<9}{r['ensemble']:>6}"
            f"{r['iterations']:>8}{r['seconds']:>9.3f}{r['us_per_iter']:>10.2f}"
            f"{r['net_iters_per_s']:>11.3g}{(f'{ratio:.1f}' if ratio else ''):>8}"
            f"{r['final_cost']:>12.5f}")
    for k, ratio in device_ratios(records).items():
        lines.append(f"ensemble K={k}: gpu/cpu net-iterations per second = {ratio:.1f}×")
    lines += bandwidth_lines(records)
    return "\n".join(lines)


def bandwidth_lines(records: list[dict], device_kind: str | None = None) -> list[str]:
    """For each GPU ensemble record, its distance from the memory-bandwidth bound
    (``autodiff.training.roofline``); ``device_kind`` defaults to the first GPU's."""
    from autodiff.training import roofline

    gpu_records = [r for r in records if r["engine"] == "jax-ensemble" and r["device"] == "gpu"]
    if not gpu_records:
        return []
    if device_kind is None:
        import jax

        device_kind = jax.devices("gpu")[0].device_kind
    lines = []
    for r in gpu_records:
        text = roofline.bandwidth_report(r["net_iters_per_s"], r["sizes"], r["batch"],
                                         r["dtype"], device_kind)
        lines.append(f"ensemble K={r['ensemble']} on " + (
            text or f"{device_kind}: peak bandwidth unknown, no bound estimated"))
    return lines


def device_ratios(records: list[dict]) -> dict[int, float]:
    """GPU over CPU net-iterations per second for each ensemble size run on both."""
    rate = {(r["device"], r["ensemble"]): r["net_iters_per_s"]
            for r in records if r["engine"] == "jax-ensemble"}
    return {k: rate[("gpu", k)] / rate[("cpu", k)]
            for device, k in rate if device == "gpu" and ("cpu", k) in rate}


def check_targets(records: list[dict]) -> list[str]:
    """The targets this run missed, one sentence each (empty when all hold): ``SPEED_TARGETS``
    over the seed engine, and every jax run of ``COST_ITERATIONS`` or more below
    ``COST_TARGET``."""
    ratios, failures = speedups(records), []
    for name, target in SPEED_TARGETS.items():
        if name not in ratios:  # a target this run cannot confirm is not met
            failures.append(f"{name} against the seed engine was not measured in this run")
        elif ratios[name] < target:
            failures.append(f"{name} is {ratios[name]:.1f}× the seed engine, target {target}×")
    for r in records:
        if r["engine"] == "jax" and r["iterations"] >= COST_ITERATIONS and not (
                r["final_cost"] < COST_TARGET):
            failures.append(f"jax/{r['device']} final cost {r['final_cost']:.5f} "
                            f"is not below {COST_TARGET}")
    return failures
