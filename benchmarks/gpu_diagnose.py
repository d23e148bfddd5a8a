"""Where float64 runs of the jax engines on the CPU and on the GPU part, quantity by quantity.

1. One step from the same network and noise on both devices: each parameter block's largest
   difference, relative to the block's largest entry (single network and ensembles, both
   layouts).
2. The configuration of the GPU test that failed (1-6-7-2, seed 1, 200 iterations,
   aggression 7, noise 1, 30 heart points, chunk 64), every cost recorded: the first
   iteration where GPU and CPU differ by more than 1e-12 and 1e-9 relatively, and the same for
   two CPU engines (numpy and jax), which measures how strongly the trajectory itself
   amplifies rounding.
3. A well-conditioned configuration (aggression 3.5, noise 0.5): the largest difference.

Without a GPU the GPU columns say so and the CPU parts still run. Usage:
``python benchmarks/gpu_diagnose.py [--json PATH]``; prints readable lines on stdout.
"""

from __future__ import annotations

import argparse
import json

import jax
import numpy as np

from autodiff.training.engine import train
from autodiff.training.ensemble import train_ensemble
from autodiff.training.ensemble_step import LAYOUTS
from reference.heart import training_data

SIZES = (1, 6, 7, 2)
X, Y = training_data(30)


def has_gpu() -> bool:
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def block_gaps(first, second) -> list[float]:
    """Per block (W1, b1, W2, …): max |difference| / max |entry| of the second run."""
    return [float(np.max(np.abs(p - q)) / np.max(np.abs(q)))
            for pair_p, pair_q in zip(first, second, strict=True)
            for p, q in zip(pair_p, pair_q, strict=True)]


def parting(costs, reference) -> dict:
    """The first iterations where two cost trajectories differ by > 1e-12 and > 1e-9
    relatively (None: never), and the largest relative difference."""
    gap = np.abs(np.asarray(costs) - reference) / np.abs(reference)
    first = {f"first_above_{tol:g}": (int(np.argmax(gap > tol)) if np.any(gap > tol) else None)
             for tol in (1e-12, 1e-9)}
    return first | {"max": float(gap.max())}


def single(device: str, iterations: int, aggression: float, noise: float, seed: int = 1,
           engine: str = "jax"):
    options = {"dtype": "float64", "device": device, "chunk": 64,
               "record_costs": True} if engine == "jax" else {}
    return train(engine, SIZES, iterations, aggression, noise, seed=seed, x=X, y=Y, **options)


def report(gpu: bool) -> dict:
    devices = ("cpu", "gpu") if gpu else ("cpu",)
    found: dict = {"gpu": gpu, "devices": [str(d) for d in jax.devices()]}
    one = {d: single(d, 1, 7.0, 1.0) for d in devices}
    one_numpy = single("cpu", 1, 7.0, 1.0, engine="numpy")
    found["one_step"] = {"jax cpu vs numpy": block_gaps(one["cpu"].params, one_numpy.params)}
    if gpu:
        found["one_step"]["jax gpu vs cpu"] = block_gaps(one["gpu"].params, one["cpu"].params)
        found["one_step"]["cost before, gpu vs cpu"] = float(
            abs(one["gpu"].costs[0] - one["cpu"].costs[0]) / one["cpu"].costs[0])
    for layout in sorted(LAYOUTS):
        runs = {d: train_ensemble(SIZES, 1, range(4), x=X, y=Y, dtype="float64", device=d,
                                  layout=layout).params for d in devices}
        if gpu:
            found["one_step"][f"ensemble {layout} gpu vs cpu"] = block_gaps(runs["gpu"],
                                                                            runs["cpu"])
    failing = {d: single(d, 200, 7.0, 1.0) for d in devices}
    numpy_run = single("cpu", 200, 7.0, 1.0, engine="numpy")
    found["failing_config"] = {
        "final_costs": {d: r.final_cost for d, r in failing.items()} | {
            "numpy cpu": numpy_run.final_cost},
        "jax cpu vs numpy cpu": parting(failing["cpu"].costs, numpy_run.costs)}
    if gpu:
        found["failing_config"]["jax gpu vs jax cpu"] = parting(failing["gpu"].costs,
                                                                failing["cpu"].costs)
    calm = {d: single(d, 200, 3.5, 0.5) for d in devices}
    found["well_conditioned"] = {"jax cpu vs numpy cpu": parting(
        calm["cpu"].costs, single("cpu", 200, 3.5, 0.5, engine="numpy").costs)}
    if gpu:
        found["well_conditioned"]["jax gpu vs jax cpu"] = parting(calm["gpu"].costs,
                                                                  calm["cpu"].costs)
    return found


def lines(found: dict) -> list[str]:
    out = [f"devices: {', '.join(found['devices'])}"]
    for name, gaps in found["one_step"].items():
        worst = max(gaps) if isinstance(gaps, list) else gaps
        out.append(f"one step, {name}: largest block difference {worst:.2e}")
    for config in ("failing_config", "well_conditioned"):
        for name, part in found[config].items():
            if name == "final_costs":
                out.append(f"{config}: final costs {part}")
            else:
                out.append(f"{config}, {name}: first iteration >1e-12 "
                           f"{part['first_above_1e-12']}, >1e-9 {part['first_above_1e-09']}, "
                           f"largest {part['max']:.2e}")
    if not found["gpu"]:
        out.append("no GPU: the GPU columns were skipped")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the findings as JSON")
    args = parser.parse_args()
    found = report(has_gpu())
    print("\n".join(lines(found)))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(found, handle, indent=1)


if __name__ == "__main__":
    main()
