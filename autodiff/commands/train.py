"""``backprop train``: train the worksheet's network to draw the heart and save the picture.

With no options: the 1-6-7-2 logistic network, 50,000 iterations of noisy descent
(aggression 7, noise 1) on the jax engine in float32, picture in ``heart.png``. ``--ensemble K``
trains K networks (seeds ``seed … seed+K-1``, times every ``--aggression``/``--noise`` value
given as a comma list) at once and draws the best one.

Every engine runs in chunks of about a tenth of a second (``CHUNK_WORK``), between which the
progress bar (on a terminal) shows the iterations done and the cost. Ctrl-C stops a run
within a chunk: the picture of the network trained so far (the starting network if no chunk
finished) is written and the command exits 130 (a second Ctrl-C ends it at once).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import signal
import sys
import time

from autodiff.core.arguments import count, layer_sizes, numbers

PICTURES = 50  # pink curves drawn along the way, one every picture_interval iterations
# Multiply-adds per chunk: about 0.1 s of each engine on one CPU core (a GPU does GPU_SPEED
# times more). A compiled chunk holds a Ctrl-C until it ends, so its size bounds how long the
# jax engine takes to stop; the NumPy engines stop at once, and their chunk only paces the
# progress bar and the picture a Ctrl-C leaves.
CHUNK_WORK = {"seed": 2 * 10**6, "numpy": 2 * 10**7, "jax": 2 * 10**8}
GPU_SPEED = 50


EXAMPLES = """examples:
  backprop train                                  # 1-6-7-2, 50,000 iterations, heart.png
  backprop train --engine seed --iterations 2000  # the worksheet's own loop
  backprop train --ensemble 16 --aggression 3.5,7 --gif learn.gif
  backprop train --sizes 1,20,20,2 --aggression 3.5 --output wide.png

on a terminal a progress bar shows the iterations and the cost; Ctrl-C stops the run and
writes the picture of the network so far (exit 130). A run larger than the free memory is
refused before it starts (exit 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=layer_sizes, default=[1, 6, 7, 2], metavar="N,…",
                        help="layer widths, 1,…,2 for the heart (default 1,6,7,2)")
    parser.add_argument("--iterations", type=count(1, "50,000"), default=50_000, metavar="N",
                        help="noisy-descent steps (default 50,000)")
    parser.add_argument("--aggression", type=numbers("step size", "7 or 3.5,7", positive=True),
                        default=[7.0], metavar="A,…",
                        help="step size > 0; a comma list sweeps it in an ensemble (default 7)")
    parser.add_argument("--noise", type=numbers("noise", "1 or 0,0.5,1"), default=[1.0],
                        metavar="S,…",
                        help="gradient noise >= 0, each block's step scaled by 1 + noise·randn; "
                             "a comma list sweeps it in an ensemble (default 1)")
    parser.add_argument("--engine", choices=["seed", "numpy", "jax"], default="jax",
                        help="seed: the worksheet's loop over its six J_*; numpy: fused "
                             "hand-derived backprop; jax: compiled (default)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                        help="where the jax engine runs (default cpu)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of the jax engine (default float32; seed and numpy "
                             "run float64)")
    parser.add_argument("--activation", choices=["logistic", "tanh"], default="logistic",
                        help="every layer's activation (default logistic, the worksheet's)")
    parser.add_argument("--ensemble", type=count(1, "64"), default=1, metavar="K",
                        help="train K networks at once (jax engine) and draw the best")
    parser.add_argument("--shard", action="store_true",
                        help="split the ensemble over every local device (jax.sharding); "
                             "on a CPU it is split over its cores whenever K divides evenly")
    parser.add_argument("--seed", type=count(0, "42"), default=0,
                        help="seed of the starting network and of the noise (default 0); "
                             "ensemble members take seed, seed+1, …")
    parser.add_argument("--output", default="heart.png", metavar="PATH",
                        help="picture file (.png unless named otherwise) or folder to write "
                             "heart.png into (default heart.png)")
    parser.add_argument("--gif", default=None, metavar="PATH",
                        help="also write an animation of the curve being learned (.gif, or a "
                             "folder to write learn.gif into)")
    parser.add_argument("--json", action="store_true", help="print a JSON record on stdout")


def _check(args) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    from autodiff.cli import UsageError

    if len(args.sizes) < 2 or args.sizes[0] != 1 or args.sizes[-1] != 2:
        raise UsageError(f"--sizes: the heart needs 1 input and 2 outputs, got {args.sizes}")
    if args.engine == "seed" and args.activation != "logistic":
        raise UsageError("--activation: the seed engine is the worksheet's logistic network")
    if _is_ensemble(args) and args.engine != "jax":
        raise UsageError("--ensemble/--shard/sweeps run on the jax engine; drop --engine "
                         f"{args.engine} or the ensemble options")
    _refuse_if_too_large(args)
    # Fail before training, not after it, when a picture could not be written.
    from autodiff.core.arguments import picture_path

    args.output = picture_path("--output", args.output, "heart.png",
                               FigureCanvasBase.get_supported_filetypes())
    if args.gif is not None:
        args.gif = picture_path("--gif", args.gif, "learn.gif", {"gif"})


def members(args) -> int:
    """Networks trained at once: ``--ensemble`` times every aggression and noise swept."""
    return args.ensemble * len(args.aggression) * len(args.noise)


def _refuse_if_too_large(args) -> None:
    """A TooLarge error, before anything is allocated, for a run the memory cannot hold."""
    from autodiff.core.memory import refuse_if_too_large, training_estimate

    device = args.device if args.engine == "jax" else "cpu"
    estimate = training_estimate(args.engine, args.sizes, 100, members(args), args.dtype,
                                 device)
    what = f"--sizes {','.join(map(str, args.sizes))}"
    if members(args) > 1:
        what += f" with {members(args):,} networks at once"
    refuse_if_too_large(estimate, f"{what} on the {args.engine} engine",
                        "use smaller --sizes or fewer networks", device)


def _is_ensemble(args) -> bool:
    """Whether the options ask for ``train_ensemble``: several members, a sweep, or sharding."""
    return args.ensemble > 1 or args.shard or len(args.aggression) > 1 or len(args.noise) > 1


def picture_interval(iterations: int) -> int:
    """Iterations between two pictures: ``iterations / PICTURES``, but at least 100."""
    return max(min(100, iterations), iterations // PICTURES)


def chunk_size(engine: str, sizes, iterations: int, members: int, device: str = "cpu",
               batch: int = 100) -> int:
    """Iterations per chunk: the picture interval cut into equal pieces of at most
    ``CHUNK_WORK[engine]`` multiply-adds (on a GPU ``GPU_SPEED`` times more) of ``members``
    networks on ``batch`` examples."""
    interval = picture_interval(iterations)
    per_iteration = members * batch * sum(a * b for a, b in itertools.pairwise(sizes))
    budget = CHUNK_WORK[engine] * (GPU_SPEED if device == "gpu" else 1)
    pieces = math.ceil(interval * per_iteration / budget)
    return max(1, interval // pieces)


def run(args) -> int:
    if args.engine == "jax":
        from autodiff.training.distributed import use_every_cpu_core

        use_every_cpu_core()  # before anything starts JAX: CPU ensembles then use every core
    import numpy as np

    from autodiff.core.progress import progress_bar, wanted
    from autodiff.training.plotting import network_curve
    from reference.heart import training_data
    from reference.training import TrainingDiverged

    _check(args)
    x, y = training_data(100)
    bar = progress_bar(args.iterations, wanted(args.json), unit="it", desc=args.engine)
    interval = picture_interval(args.iterations)
    snapshots: list = []
    latest: dict = {"done": 0, "params": None}

    def on_chunk(done, params, cost):  # between compiled chunks only
        bar.update(done - bar.n)
        costs = np.atleast_1d(cost)
        if np.any(np.isfinite(costs)):
            bar.set_postfix(cost=f"{float(np.nanmin(costs)):.5f}")
        latest.update(done=done, params=params)
        if done // interval > len(snapshots) and done < args.iterations:
            snapshots.append((done, network_curve(_fetched(params), activation=args.activation)))

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
    except KeyboardInterrupt:
        bar.close()
        return _interrupted(args, y, snapshots, latest)
    bar.close()
    record["seconds"] = time.perf_counter() - started
    stuck = saturated_layer(final, x, args.activation)
    record["saturated_layer"] = stuck
    if stuck is not None:  # finite, but dead: say so rather than report a success
        steps = f"aggression {args.aggression[0]:g} and noise {args.noise[0]:g}"
        if _is_ensemble(args):
            steps = "the best member's aggression and noise"
        print(f"backprop train: warning: every unit of layer {stuck} is saturated on every "
              f"point, so the network no longer learns (the steps aggression·(1 + "
              f"noise·randn), with {steps}, are probably too large)", file=sys.stderr)
    _draw(args, y, snapshots, final, f"cost {record['final_cost']:.5f}")
    record["output"] = args.output
    if args.gif:
        record["gif"] = args.gif
    if args.json:
        print(json.dumps(record))
    else:
        print(f"final cost {record['final_cost']:.6f} after {args.iterations} iterations "
              f"({record['seconds']:.2f} s, {args.engine}); picture in {args.output}")
    return 0


def _fetched(params):
    """The params a chunk handed over: a network, or the ensemble's call fetching its best."""
    return params() if callable(params) else params


def _draw(args, y, snapshots, final, caption: str) -> None:
    from autodiff.training.plotting import animate_training, network_curve, plot_training

    final_curve = network_curve(final, activation=args.activation)
    curves = [curve for _, curve in snapshots]
    title = f"{'-'.join(map(str, args.sizes))}, {args.iterations} iterations, {caption}"
    plot_training(y, curves, final_curve, args.output, title)
    if args.gif:
        animate_training(y, [*curves, final_curve], args.gif,
                         labels=[*(f"iteration {done}" for done, _ in snapshots), "final"])


def _interrupted(args, y, snapshots, latest) -> int:
    """Ctrl-C: draw the network of the last finished chunk, exit 130. From here on a second
    Ctrl-C ends the process at once (the default handler, left in place: the command is
    ending), not after the picture or inside JAX's exit handlers."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    done, params = latest["done"], latest["params"]
    if params is None:  # no chunk finished: the network every engine starts from
        import numpy as np

        from reference.backprop import init_params

        params = init_params(list(args.sizes), np.random.default_rng(args.seed))
    _draw(args, y, snapshots, _fetched(params), f"interrupted at {done}")
    print(f"backprop train: interrupted after {done} of {args.iterations} iterations; "
          f"picture of the network so far in {args.output}", file=sys.stderr)
    return 130


def saturated_layer(params, x, activation: str) -> int | None:
    """The first layer (1-based) whose every unit is saturated on every example of ``x``
    (``|f'(z)| ≤ √u · max f'`` in float64, the checker's test): no gradient flows through it,
    so training has stopped learning whatever its cost says. ``None`` if there is none."""
    import numpy as np

    from autodiff.core.tolerance import saturation_threshold
    from reference.activations import get_activation
    from reference.backprop import forward_trace

    _, f_prime = get_activation(activation)
    threshold = saturation_threshold(activation, float(np.finfo(np.float64).eps) / 2)
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
    with np.errstate(all="ignore"):  # weights of 1e298 overflow z: saturated all the same
        zs, _ = forward_trace(params, np.asarray(x, np.float64), activation)
        for layer, z in enumerate(zs, 1):
            if np.all(~(np.abs(f_prime(z)) > threshold)):
                return layer
    return None


def _base_record(args) -> dict:
    return {"engine": args.engine, "sizes": args.sizes, "iterations": args.iterations,
            "seed": args.seed, "activation": args.activation}


def _engine(name: str):
    """The training function of engine ``name``; only the jax engine imports JAX."""
    if name == "jax":
        from autodiff.training.engine import train_jax

        return train_jax
    from reference.training import train_numpy, train_seed

    return {"seed": train_seed, "numpy": train_numpy}[name]


def _run_single(args, x, y, on_chunk):
    from reference.training import train_fresh

    device = args.device if args.engine == "jax" else "cpu"
    options = {"chunk": chunk_size(args.engine, args.sizes, args.iterations, 1, device)}
    if args.engine != "seed":
        options["activation"] = args.activation
    if args.engine == "jax":
        options.update(dtype=args.dtype, device=args.device)
    result = train_fresh(_engine(args.engine), args.sizes, args.iterations, args.aggression[0],
                         args.noise[0], args.seed, x, y, callback=on_chunk, **options)
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
    import jax

    from autodiff.training.distributed import Sharded, cpu_placement

    # One part per core on a CPU where K splits evenly; every local device with --shard.
    place = cpu_placement(len(seeds)) if args.device == "cpu" else None
    if args.shard:
        place = Sharded(jax.local_devices(backend=args.device))
    result = train_ensemble(args.sizes, args.iterations, seeds, aggressions, noises, x, y,
                            activation=args.activation, dtype=args.dtype, device=args.device,
                            chunk=chunk_size("jax", args.sizes, args.iterations,
                                             len(seeds), args.device),
                            place=place,
                            callback=lambda done, costs, best: on_chunk(done, best, costs))
    summary = result.summary()
    record = _base_record(args) | {"dtype": args.dtype, "device": args.device,
                                   "aggression": args.aggression, "noise": args.noise,
                                   "ensemble": summary,
                                   "final_cost": summary["best"]["final_cost"]}
    return record, result.member(result.best)
