"""``backprop bench``: the training engines side by side on the worksheet's network.

Prints a table (or, with ``--json``, a JSON list of records:
``autodiff.training.bench.RECORD_KEYS``).
``--check`` exits 1 unless the issue's targets hold in this run: numpy ≥ 6× and jax (CPU)
≥ 50× the seed engine per iteration, and, at 50,000 iterations or more, the jax run's final
cost below 0.002.
"""

from __future__ import annotations

import argparse
import json
import sys

from autodiff.cli import comma_list


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", type=int, default=50_000,
                        help="iterations per single-network engine (default 50,000)")
    parser.add_argument("--engines", type=comma_list(str, "names"),
                        default=["seed", "numpy", "jax"])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of the jax runs (seed and numpy are float64)")
    parser.add_argument("--ensemble-sizes", type=comma_list(int, "integers"), default=None,
                        metavar="K,…",
                        help="ensemble sizes (default: 1,1024,16384 with a GPU, none without)")
    parser.add_argument("--ensemble-devices", type=comma_list(str, "names"), default=None,
                        metavar="DEV,…",
                        help="devices for the ensembles (default: gpu,cpu with a GPU, else cpu)")
    parser.add_argument("--ensemble-iterations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1,
                        help="round-robin repeats; each engine keeps its fastest (default 1)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the issue's speed and cost targets hold")
    parser.add_argument("--json", action="store_true", help="print JSON records on stdout")


def run(args) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.training.bench import check_targets, format_table, plan, run_benchmark

    if not args.engines:
        raise UsageError("--engines: expected at least one of seed, numpy, jax")
    unknown = set(args.engines) - {"seed", "numpy", "jax"}
    if unknown:
        raise UsageError(f"--engines: unknown {sorted(unknown)}; expected seed, numpy, jax")
    if args.iterations < 1 or args.ensemble_iterations < 1 or args.repeats < 1:
        raise UsageError("--iterations, --ensemble-iterations and --repeats must be >= 1")
    if args.ensemble_sizes is not None and any(k < 1 for k in args.ensemble_sizes):
        raise UsageError(f"--ensemble-sizes: expected K >= 1, got {args.ensemble_sizes}")
    runs = len(plan(args.engines, args.ensemble_sizes, args.ensemble_devices)) * args.repeats
    bar = tqdm(total=runs, disable=args.json or not sys.stderr.isatty(), file=sys.stderr,
               unit="run")

    def progress(engine, device, k):
        bar.set_postfix_str(f"{engine}/{device} K={k}")
        bar.update(1)

    records = run_benchmark(args.iterations, args.engines, args.dtype, args.ensemble_sizes,
                            args.ensemble_devices, args.ensemble_iterations, args.repeats,
                            progress=progress)
    bar.close()
    if args.json:
        print(json.dumps(records))
    else:
        print(format_table(records))
    if not args.check:
        return 0
    failures = check_targets(records)
    for failure in failures:
        print(f"backprop bench: target missed: {failure}", file=sys.stderr)
    return 1 if failures else 0
