"""``backprop bench``: the training engines side by side on the worksheet's network.

Prints a table of the minimum and the median of ``--repeats`` round-robin runs per engine,
the ratios between them and the machine's load (or, with ``--json``, an object with
``records`` (``autodiff.training.bench.RECORD_KEYS``), ``machine``, ``missed`` and
``notes``). ``--check`` exits 1 unless this run's minima meet the speed targets: the numpy
engine at least 11× and the jax engine 80× the seed loop (the worksheet's), ensembles of
K = 1024 on the CPU 4× the single-network jax engine, and the jax engine's heart below
cost 0.002 after 50,000 iterations or more. A missed target whose cause is known is
explained under the table (``autodiff.training.bench_report.notes``).
"""

from __future__ import annotations

import argparse
import json
import sys

from autodiff.core.arguments import comma_list, count, counts

ENGINES = ("seed", "numpy", "jax")


def check_help() -> str:
    """``--check``'s help, written from the targets that ``check_targets`` applies."""
    from autodiff.training.bench import (
        COST_TARGET,
        ENSEMBLE_TARGET,
        ENSEMBLE_TARGET_K,
        SPEED_TARGETS,
    )

    return (f"exit 1 unless the speed targets hold on minima: numpy "
            f"{SPEED_TARGETS['numpy/cpu']:g}× and jax {SPEED_TARGETS['jax/cpu']:g}× the seed "
            f"loop, ensembles of K={ENSEMBLE_TARGET_K} {ENSEMBLE_TARGET:g}× the single "
            f"network, the jax heart below cost {COST_TARGET:g}")


EXAMPLES = """examples:
  backprop bench                                       # every engine and ensemble, 3 repeats
  backprop bench --engines numpy,jax --ensemble-sizes '' --repeats 5
  backprop bench --check --json                        # exit 1 if a speed target is missed"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", type=count(1, "50,000"), default=50_000, metavar="N",
                        help="iterations per single-network engine (default 50,000)")
    parser.add_argument("--engines", type=comma_list(str, "engine names", "numpy,jax"),
                        default=list(ENGINES),
                        metavar="NAME,…",
                        help="single-network engines to time: seed (the worksheet's loop), "
                             "numpy, jax (default all three)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of the jax runs (seed and numpy are float64)")
    parser.add_argument("--ensemble-sizes", type=counts("1,1024"), default=None,
                        metavar="K,…",
                        help="ensemble sizes (default: 1024 on a CPU; 1,1024,16384 with a GPU; "
                             "'' for none)")
    parser.add_argument("--ensemble-devices", type=comma_list(str, "device names", "gpu,cpu"),
                        default=None, metavar="DEV,…",
                        help="devices for the ensembles (default: gpu,cpu with a GPU, else cpu)")
    parser.add_argument("--ensemble-iterations", type=count(1, "1,000"), default=1000, metavar="N",
                        help="iterations of every ensemble run (default 1,000)")
    parser.add_argument("--layout", choices=["networks-first", "networks-last", "unrolled"],
                        default=None,
                        help="array layout of the ensembles (default: networks-first on a "
                             "CPU, networks-last on a GPU)")
    parser.add_argument("--repeats", type=count(1, "5"), default=3, metavar="R",
                        help="round-robin runs per engine; the minimum and the median are "
                             "reported, targets use the minimum (default 3)")
    parser.add_argument("--check", action="store_true", help=check_help())
    parser.add_argument("--json", action="store_true", help="print a JSON object on stdout")


def run(args) -> int:
    from autodiff.cli import UsageError
    from autodiff.core.progress import progress_bar, wanted
    from autodiff.training.distributed import use_every_cpu_core

    use_every_cpu_core()  # before anything starts JAX: CPU ensembles then use every core
    from autodiff.training.bench import plan, run_benchmark
    from autodiff.training.bench_report import check_targets, format_table, notes

    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        raise UsageError(f"--engines: unknown {sorted(unknown)}; expected {', '.join(ENGINES)}")
    bad_devices = set(args.ensemble_devices or ()) - {"cpu", "gpu"}
    if bad_devices:
        raise UsageError(f"--ensemble-devices: unknown {sorted(bad_devices)}; expected cpu, gpu")
    jobs = plan(args.engines, args.ensemble_sizes, args.ensemble_devices)
    _refuse_if_too_large(jobs, args.dtype)
    runs = len(jobs) * args.repeats
    bar = progress_bar(runs, wanted(args.json), unit="run")

    def progress(engine, device, k):
        bar.set_postfix_str(f"{engine}/{device} K={k}")
        bar.update(1)

    records, machine = run_benchmark(args.iterations, args.engines, args.dtype,
                                     args.ensemble_sizes, args.ensemble_devices,
                                     args.ensemble_iterations, args.repeats,
                                     layout=args.layout, progress=progress)
    bar.close()
    missed, explained = check_targets(records), notes(records)
    if args.json:
        print(json.dumps({"machine": machine, "records": records, "missed": missed,
                          "notes": explained}))
    else:
        print(format_table(records, machine))
        for note in explained:
            print(f"note: {note}")
    if not args.check:
        return 0
    for failure in missed:
        print(f"backprop bench: target missed: {failure}", file=sys.stderr)
    return 1 if missed else 0


def _refuse_if_too_large(jobs, dtype: str) -> None:
    """A TooLarge error, before any run, for the largest ensemble if the memory cannot hold
    it (every run trains the worksheet's 1-6-7-2 network on the heart's 100 points)."""
    from autodiff.core.memory import refuse_if_too_large, training_estimate

    for engine, device, k in sorted(jobs, key=lambda job: job[2], reverse=True):
        estimate = training_estimate(engine.removesuffix("-ensemble"), [1, 6, 7, 2], 100, k,
                                     dtype, device)
        refuse_if_too_large(estimate, f"an ensemble of K={k:,} networks on the {device}",
                            "use smaller --ensemble-sizes", device)
