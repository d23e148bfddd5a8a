"""``backprop check``: hand-derived gradients versus ``jax.grad`` and a third opinion.

Default: the worksheet's 1-6-7-2 logistic network (``reference.init_params``, seed 0) on the
heart data, one table row per parameter block. ``--random N`` checks N random networks
through the compiled fast path and prints networks checked per second (with ``--baseline``,
next to naive eager ``jax.grad``). ``--plant MISTAKE`` swaps in a planted backprop mistake
to show a failure. ``--plot FILE`` draws each block's element-wise error over its tolerance,
``--graph FILE`` the network as a graph, each weight's edge coloured by its agreement
(``commands.pictures``).
``backprop check LAYERS.py`` checks a user's module of layer pairs instead (``check.modules``);
``--hvp [SLIP]`` checks ``reference.hvp`` (or a planted R-operator slip) instead (``check.hvp``).
Exit 0 all agree, 1 something disagrees, 2 bad usage or input, 4 inconclusive (nothing
disagrees, but every block is saturated or below the rounding noise floor: nothing was
tested).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from autodiff.cli import UsageError
from autodiff.commands import pictures
from autodiff.core.arguments import count, layer_sizes, whole_number

DEFAULT_SIZES = [1, 6, 7, 2]
HEART_POINTS = 100
DEFAULT_SCALE = 0.5
EXIT_INCONCLUSIVE = 4
EPILOG = ("exit status: 0 the gradients agree, 1 they disagree, 2 bad usage or input,\n"
          f"{EXIT_INCONCLUSIVE} inconclusive (every block saturated or below the rounding "
          "noise\nfloor: nothing was tested)")
EXAMPLES = """examples:
  backprop check                                    # the worksheet's 1-6-7-2 network
  backprop check --plant sign                       # a planted mistake, to see a failure
  backprop check --sizes 784,512,512,10 --batch 64 --dtype float32
  backprop check --random 1000 --baseline           # random networks, and eager jax.grad"""


def _integer_at_least(minimum: int, what: str, maximum: int | None = None,
                      why: str = "that many would take days"):
    """An argparse ``type`` reading an integer >= ``minimum`` (``what`` names such integers)
    and, if given, <= ``maximum`` (``why`` says why not more)."""

    def parse(text: str) -> int:
        value = whole_number(text)  # 100,000 as the help texts write it
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"expected at most {maximum:,}, got {text!r} ({why})")
        return value

    return parse


_positive = _integer_at_least(1, "a positive integer such as 32")


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number like 0.5, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from autodiff.check.mistakes import MISTAKES  # NumPy only: keeps --help fast
    from autodiff.check.probes import MAX_PROBES, PROBES
    from autodiff.check.sweep import MAX_NETWORKS
    from reference.activations import ACTIVATIONS

    parser.epilog = EPILOG

    parser.add_argument("--sizes", type=layer_sizes, default=None, metavar="N,…",
                        help="layer widths n_in,…,n_out (default 1,6,7,2, the worksheet's)")
    parser.add_argument("--batch", type=_positive, default=None,
                        help=f"examples (default {HEART_POINTS} heart points for 1-…-2 "
                             "networks, else 32 random ones)")
    parser.add_argument("--activation", choices=list(ACTIVATIONS), default=None,
                        help="activation of every layer (default logistic; with --random, both)")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="precision of the gradients compared: float64 (default; the "
                             "tightest tolerances) or float32 (tolerances widen with its "
                             "rounding, derived the same way)")
    parser.add_argument("--seed", type=_integer_at_least(0, "a non-negative integer such as 0"),
                        default=0,
                        help="seed of the params (and data)")
    parser.add_argument("--scale", type=_scale, default=None, metavar="S",
                        help="every weight and bias is S times a standard normal (default 0.5, "
                             "the worksheet's; large S saturates the units)")
    parser.add_argument("--random",
                        type=_integer_at_least(1, "a positive integer such as 1000", MAX_NETWORKS),
                        metavar="N", default=None,
                        help="check N random networks (depth 1-5, widths 1-16, batch 1-256, "
                             "both activations unless --activation is given) and report "
                             f"throughput; N at most {MAX_NETWORKS:,}")
    parser.add_argument("--baseline", action="store_true",
                        help="with --random: also time naive eager jax.grad on unseen shapes "
                             "and print the speedup (costs about as much CPU as the check)")
    parser.add_argument("--naive-sample", type=count(1, "3"), default=None, metavar="K",
                        help="with --baseline: the unseen shapes it times (default 3)")
    parser.add_argument("--plant", choices=sorted(MISTAKES), metavar="MISTAKE", default=None,
                        help="check a planted backprop mistake instead of the reference: "
                             + ", ".join(sorted(MISTAKES)))
    parser.add_argument("--no-oracle", dest="oracle", action="store_false",
                        help="skip the third opinion (the complex step): manual versus "
                             "jax.grad only, for quick runs")
    parser.add_argument("--third-opinion", choices=["auto", "always"], default=None,
                        help="where the third opinion runs: auto (default) on the blocks where "
                             "it decides something or costs next to nothing, always on every "
                             "block (single network only)")
    parser.add_argument("--probes", default=PROBES, metavar="K",
                        type=_integer_at_least(1, "a positive integer such as 16", MAX_PROBES,
                                               "each is a complex-step pass of every probed "
                                               "block: 4,096 take minutes at 784,512,512,10"),
                        help="random directions for each block too large for the third "
                             f"opinion to cover element by element (default {PROBES}, at "
                             f"most {MAX_PROBES:,}; single network only)")
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="draw each compared block's (argument's, tangent's) error over "
                             "its tolerance, element by element, as heatmaps into the PNG "
                             "FILE, the worst element and kinks marked (the network, --hvp, "
                             "--layer, --stack)")
    parser.add_argument("--graph", metavar="FILE", default=None,
                        help="draw the network as a graph into the PNG FILE: each weight an "
                             "edge coloured by how far its manual gradient is from jax.grad's "
                             "(networks up to 16 units wide, like the worksheet's)")
    # A user's module of layers (autodiff.check.vjp.modules): every NAME_forward/NAME_backward.
    parser.add_argument("path", nargs="?", default=None, metavar="LAYERS.py",
                        help="check every NAME_forward/NAME_backward pair of this module "
                             "against jax.vjp or finite differences (see the README)")
    # --- layer library: --layer, --list-layers, --stack, layer mistakes for --plant --------
    from autodiff.commands import layers
    layers.add_arguments(parser)
    # --- end layer library ----------------------------------------------------------------
    # --- Hessian-vector products: autodiff.check.hvp ----------------------------------------
    from autodiff.check.hvp.slips import HVP_SLIPS
    parser.add_argument("--hvp", nargs="?", const="reference", default=None, metavar="SLIP",
                        choices=["reference", *sorted(HVP_SLIPS)],
                        help="check the Hessian-vector product reference.hvp (the R-operator) "
                             "of the network against jax.jvp of jax.grad, or a planted slip: "
                             + ", ".join(sorted(HVP_SLIPS)))


def _run_hvp(args) -> int:
    from autodiff.check.hvp.network import check_network_hvp
    from autodiff.check.hvp.slips import get_slip
    from autodiff.commands import layers

    clash = [name for name, value in (("--random", args.random), ("--plant", args.plant),
                                      ("LAYERS.py", args.path),
                                      ("--third-opinion", args.third_opinion))
             if value is not None]
    clash += ["--layer/--stack/--list-layers"] if layers.wants(args) else []
    if clash:
        raise UsageError(f"--hvp checks the network's Hessian-vector product: drop "
                         f"{'/'.join(clash)} (plant an R-operator slip with --hvp SLIP)")
    args.activation = args.activation or "logistic"
    params, x, y = _data(args)
    hvp = None if args.hvp == "reference" else get_slip(args.hvp).hvp
    result = check_network_hvp(params, x, y, args.activation, hvp, seed=args.seed,
                               dtype=args.dtype)
    status = _report(result, result.table, args.json)
    if args.plot:
        pictures.draw({"hvp": result}, args.plot)
    return EXIT_INCONCLUSIVE if status == 0 and result.inconclusive else status


def _data(args):
    import numpy as np

    import reference

    sizes = args.sizes or DEFAULT_SIZES
    params = reference.init_params(sizes, rng=args.seed, scale=args.scale or DEFAULT_SCALE)
    if sizes[0] == 1 and sizes[-1] == 2:
        x, y = reference.training_data(args.batch or HEART_POINTS)
    else:
        rng = np.random.default_rng([args.seed, 1])
        batch = args.batch or 32
        x = rng.standard_normal((sizes[0], batch))
        y = rng.uniform(0.0 if args.activation == "logistic" else -1.0, 1.0,
                        size=(sizes[-1], batch))
    return params, x, y


def _refuse_if_too_large(args) -> None:
    """A TooLarge error, before the network is drawn, if the memory cannot hold the check."""
    from autodiff.core.memory import check_estimate, refuse_if_too_large

    sizes = args.sizes or DEFAULT_SIZES
    heart = sizes[0] == 1 and sizes[-1] == 2
    batch = args.batch or (HEART_POINTS if heart else 32)
    refuse_if_too_large(check_estimate(sizes, batch),
                        f"checking --sizes {','.join(map(str, sizes))} on {batch:,} examples",
                        "use smaller --sizes or --batch")


def _run_single(args) -> int:
    from autodiff.check.crosscheck import check_gradients
    from autodiff.check.mistakes import get_mistake

    _refuse_if_too_large(args)
    params, x, y = _data(args)
    manual = get_mistake(args.plant, args.activation) if args.plant else None
    result = check_gradients(params, x, y, args.activation, manual=manual, dtype=args.dtype,
                             oracle=args.oracle, probes=args.probes,
                             third_opinion=args.third_opinion or "auto")
    status = _report(result, result.table, args.json)
    if args.plot:
        pictures.draw({"network": result}, args.plot)
    if args.graph:
        pictures.draw_graph(result, args.graph)
    return EXIT_INCONCLUSIVE if status == 0 and result.inconclusive else status


def _run_random(args) -> int:
    from autodiff.check.mistakes import get_mistake
    from autodiff.check.sweep import SweepInterrupted, run_sweep

    manual_for, manual_expr = None, None
    if args.plant:
        manual_for = lambda act: get_mistake(args.plant, act)  # noqa: E731
        manual_expr = ("__import__('autodiff.check.mistakes').check.mistakes"
                       f".get_mistake({args.plant!r}, act)")
    try:
        result = run_sweep(
            args.random, seed=args.seed, dtype=args.dtype, activation=args.activation,
            manual_for=manual_for,
            naive_sample=(args.naive_sample or 3) if args.baseline else 0,
            progress=sys.stderr.isatty(), manual_expr=manual_expr, oracle=args.oracle)
    except SweepInterrupted as stopped:  # say how far it got
        print(f"backprop check: {stopped}", file=sys.stderr)
        return 130
    return _report(result, result.report, args.json)


def _report(result, text, as_json: bool) -> int:
    """Print ``result`` as JSON or as ``text()``; the exit status: 0 passed, 1 failed."""
    if as_json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(text())
    return 0 if result.passed else 1


def _pictures(args) -> None:
    """Refuse a picture option the chosen check cannot draw, or a path it cannot write,
    before any work."""
    from autodiff.check.graph import MAX_UNITS
    from autodiff.commands import layers

    if args.plot is not None:
        for name, value in (("--random", args.random), ("LAYERS.py", args.path)):
            if value is not None:
                raise UsageError(f"--plot draws one check; {name} prints a summary of many: "
                                 "drop one of them")
        if args.list_layers:
            raise UsageError("--plot draws a check: use it with --layer NAME or --stack, not "
                             "--list-layers")
        args.plot = pictures.plot_path("--plot", args.plot)
    if args.graph is not None:
        other = [name for name, given in (
            ("--hvp", args.hvp is not None), ("--random", args.random is not None),
            ("LAYERS.py", args.path is not None), ("--layer/--stack", layers.wants(args)))
            if given]
        if other:
            raise UsageError(f"--graph draws the network check as a graph: drop {other[0]}")
        sizes = args.sizes or DEFAULT_SIZES
        if max(sizes) > MAX_UNITS:
            raise UsageError(f"--graph: drawn for networks up to {MAX_UNITS} units wide, got "
                             f"--sizes {','.join(map(str, sizes))}; --plot FILE draws their "
                             "heatmaps")
        args.graph = pictures.plot_path("--graph", args.graph)


def run(args) -> int:
    _pictures(args)
    if args.hvp is not None:
        return _run_hvp(args)
    if args.path is not None:  # a user's module of layers: autodiff.check.vjp.modules
        from autodiff.check.vjp.modules import check_module_from_cli

        result = check_module_from_cli(args)
        return _report(result, result.summary, args.json)
    # --- layer library: the network options below do not apply to it -------------------------
    from autodiff.commands import layers
    if layers.wants(args):
        return layers.run(args)
    # --- end layer library ----------------------------------------------------------------
    if args.random is None:
        args.activation = args.activation or "logistic"
    drawn = {"--sizes": args.sizes, "--batch": args.batch, "--scale": args.scale}
    if args.random is not None and any(value is not None for value in drawn.values()):
        given = [name for name, value in drawn.items() if value is not None]
        raise UsageError(f"--random draws its own sizes, batches and weight scales: drop "
                         f"{'/'.join(given)}")
    if (args.baseline or args.naive_sample) and args.random is None:
        raise UsageError("--baseline/--naive-sample time the eager baseline of --random N")
    if args.naive_sample and not args.baseline:
        raise UsageError(f"--naive-sample {args.naive_sample}: applies with --baseline")
    if args.third_opinion is not None and (args.random is not None or not args.oracle):
        raise UsageError(f"--third-opinion {args.third_opinion}: "
                         + ("--no-oracle skips the third opinion" if not args.oracle else
                            "applies to a single network check, not --random"))
    if args.random is not None:
        return _run_random(args)
    return _run_single(args)
