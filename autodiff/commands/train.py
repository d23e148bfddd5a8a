"""``backprop train``: train the worksheet's network to draw the heart and save the picture.

With no options: the 1-6-7-2 logistic network, 50,000 iterations of noisy descent
(aggression 7, noise 1) on the jax engine in float32, picture in ``heart.png``. ``--ensemble K``
trains K networks (seeds ``seed … seed+K-1``, times every ``--aggression``/``--noise`` value
given as a comma list) at once and draws the best one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from autodiff.cli import comma_list


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=comma_list(int, "integers"), default=[1, 6, 7, 2],
                        help="layer widths, 1,…,2 for the heart (default 1,6,7,2)")
    parser.add_argument("--iterations", type=int, default=50_000)
    parser.add_argument("--aggression", type=comma_list(float, "numbers"), default=[7.0],
                        help="step size; a comma list sweeps it in an ensemble (default 7)")
    parser.add_argument("--noise", type=comma_list(float, "numbers"), default=[1.0],
                        help="gradient noise; a comma list sweeps it in an ensemble (default 1)")
    parser.add_argument("--engine", choices=["seed", "numpy", "jax"], default="jax")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--activation", choices=["logistic", "tanh"], default="logistic")
    parser.add_argument("--ensemble", type=int, default=1, metavar="K",
                        help="train K networks at once (jax engine) and draw the best")
    parser.add_argument("--shard", action="store_true",
                        help="split the ensemble over every local device (jax.sharding)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="heart.png", help="PNG path (default heart.png)")
    parser.add_argument("--gif", default=None, metavar="PATH",
                        help="also write an animation of the curve being learned")
    parser.add_argument("--json", action="store_true", help="print a JSON record on stdout")


def _check(args) -> None:
    from autodiff.cli import UsageError

    if len(args.sizes) < 2 or args.sizes[0] != 1 or args.sizes[-1] != 2:
        raise UsageError(f"--sizes: the heart needs 1 input and 2 outputs, got {args.sizes}")
    for flag, values in (("--aggression", args.aggression), ("--noise", args.noise)):
        if not values:
            raise UsageError(f"{flag}: expected at least one number, got none")
    if args.iterations < 1:
        raise UsageError(f"--iterations: expected a positive number, got {args.iterations}")
    if args.ensemble < 1:
        raise UsageError(f"--ensemble: expected K >= 1, got {args.ensemble}")
    if args.engine == "seed" and args.activation != "logistic":
        raise UsageError("--activation: the seed engine is the worksheet's logistic network")
    if _is_ensemble(args) and args.engine != "jax":
        raise UsageError("--ensemble/--shard/sweeps run on the jax engine; drop --engine "
                         f"{args.engine} or the ensemble options")
    # Fail before training, not after it, when a picture could not be written.
    for flag, path in (("--output", args.output), ("--gif", args.gif)):
        if path is not None and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise UsageError(f"{flag}: the folder of {path!r} does not exist")


def _is_ensemble(args) -> bool:
    """Whether the options ask for ``train_ensemble``: several members, a sweep, or sharding."""
    return args.ensemble > 1 or args.shard or len(args.aggression) > 1 or len(args.noise) > 1


def run(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from autodiff.training.plotting import animate_training, network_curve, plot_training
    from reference.heart import training_data
    from reference.training import TrainingDiverged

    _check(args)
    x, y = training_data(100)
    quiet = args.json or not sys.stderr.isatty()
    bar = tqdm(total=args.iterations, disable=quiet, unit="it", desc=args.engine,
               file=sys.stderr)
    snapshots: list = []

    def on_chunk(done, params, cost):  # between compiled chunks only
        bar.update(done - bar.n)
        bar.set_postfix(cost=f"{float(np.nanmin(cost)):.5f}")
        if params is not None:
            snapshots.append((done, network_curve(params, activation=args.activation)))

    started = time.perf_counter()
    try:
        if _is_ensemble(args):
            record, final = _run_ensemble(args, x, y, on_chunk)
        else:
            record, final = _run_single(args, x, y, on_chunk)
    except TrainingDiverged as error:
        bar.close()
        print(f"backprop train: {error}", file=sys.stderr)
        return 1
    bar.close()
    record["seconds"] = time.perf_counter() - started

    final_curve = network_curve(final, activation=args.activation)
    title = (f"{'-'.join(map(str, args.sizes))}, {args.iterations} iterations, "
             f"cost {record['final_cost']:.5f}")
    plot_training(y, [curve for _, curve in snapshots], final_curve, args.output, title)
    record["output"] = args.output
    if args.gif:
        animate_training(y, [curve for _, curve in snapshots] + [final_curve], args.gif,
                         labels=[f"iteration {done}" for done, _ in snapshots] + ["final"])
        record["gif"] = args.gif
    if args.json:
        print(json.dumps(record))
    else:
        print(f"final cost {record['final_cost']:.6f} after {args.iterations} iterations "
              f"({record['seconds']:.2f} s, {args.engine}); picture in {args.output}")
    return 0


def _base_record(args) -> dict:
    return {"engine": args.engine, "sizes": args.sizes, "iterations": args.iterations,
            "seed": args.seed, "activation": args.activation}


def _run_single(args, x, y, on_chunk):
    from autodiff.training.engine import train

    options = {"chunk": max(100, args.iterations // 50)}  # about 50 pink curves
    if args.engine != "seed":
        options["activation"] = args.activation
    if args.engine == "jax":
        options.update(dtype=args.dtype, device=args.device)
    result = train(args.engine, args.sizes, args.iterations, args.aggression[0], args.noise[0],
                   args.seed, x, y, callback=on_chunk, **options)
    record = _base_record(args) | {
        "aggression": args.aggression[0], "noise": args.noise[0],
        "dtype": args.dtype if args.engine == "jax" else "float64",
        "device": args.device if args.engine == "jax" else "cpu",
        "final_cost": result.final_cost}
    return record, result.params


def _run_ensemble(args, x, y, on_chunk):
    from autodiff.training.ensemble import sweep, train_ensemble

    seeds, aggressions, noises = sweep(range(args.seed, args.seed + args.ensemble),
                                       args.aggression, args.noise)
    place = None
    if args.shard:
        import jax

        from autodiff.training.distributed import Sharded

        place = Sharded(jax.local_devices(backend=args.device))
    result = train_ensemble(args.sizes, args.iterations, seeds, aggressions, noises, x, y,
                            activation=args.activation, dtype=args.dtype, device=args.device,
                            chunk=max(100, args.iterations // 50), place=place,
                            callback=lambda done, costs, best: on_chunk(done, best(), costs))
    summary = result.summary()
    record = _base_record(args) | {"dtype": args.dtype, "device": args.device,
                                   "aggression": args.aggression, "noise": args.noise,
                                   "ensemble": summary,
                                   "final_cost": summary["best"]["final_cost"]}
    return record, result.member(result.best)
