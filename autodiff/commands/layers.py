"""``backprop check --layer NAME | --list-layers | --stack TEXT``: the layer library's checks.

``--list-layers`` prints the library's layers and losses, one name per line. ``--layer NAME``
checks that layer's hand backward against ``jax.vjp`` of its forward on example arguments, and
asks ``check_vjp`` for a second opinion on the same arguments (an oracle it cross-checks by
finite differences, tolerances and diagnoses of its own); ``--mode jvp`` checks its hand
forward-mode rule with ``check_jvp`` instead, ``--mode both`` does both and ties the two rules
by the dot-product identity (``check_pair``). ``--plot FILE`` draws what was checked, row by
row (``commands.pictures``).
``--stack TEXT`` checks a stack (``"conv2d(filters=4),relu,maxpool,dense(units=3),
softmax_cross_entropy"``; shapes are inferred from ``--input``, by default a small batch of
what the first layer takes; see ``reference.layers.stack``) against ``jax.grad``, then layer by
layer. ``--plant MISTAKE`` with a layer mistake swaps it in: alone, it checks its layer and a
small stack around it; with ``--layer`` or ``--stack``, there. ``--dtype``, ``--seed`` and
``--json`` work as for the network check. Exit 0 all agree, 1 something disagrees, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from autodiff.cli import UsageError
from autodiff.commands.pictures import draw

NETWORK_OPTIONS = ("sizes", "batch", "activation", "random", "third_opinion")


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive sizes like 2,3,8,8 (N, C, H, W), got {text!r}")
    return shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from autodiff.check.layers.mistakes import LAYER_MISTAKES
    from reference.layers import LAYER_NAMES

    group = parser.add_argument_group("layer library (reference.layers)")
    group.add_argument("--list-layers", action="store_true",
                       help="print the library's layers and losses, one name per line")
    group.add_argument("--layer", choices=LAYER_NAMES, metavar="NAME", default=None,
                       help="check one layer's hand backward against jax.vjp: "
                            + ", ".join(LAYER_NAMES))
    group.add_argument("--mode", choices=["vjp", "jvp", "both"], default="vjp",
                       help="with --layer: check the hand backward (vjp), the hand forward-mode "
                            "rule against jax.jvp (jvp), or both and the dot-product identity "
                            "between them (both)")
    group.add_argument("--stack", metavar="LAYERS", default=None,
                       help='check a stack layer by layer, e.g. "conv2d,relu,maxpool,dense,'
                            'softmax_cross_entropy"; options in brackets: dense(units=3)')
    group.add_argument("--input", type=_shape, metavar="SHAPE", default=None,
                       help="with --stack: the input's shape (default: by the first layer, "
                            "e.g. 2,3,6,6 for images, 4,5 for columns)")
    # --plant also takes the layer mistakes (argparse has no public way to extend choices).
    plant = next(action for action in parser._actions if action.dest == "plant")
    plant.choices = [*plant.choices, *sorted(LAYER_MISTAKES)]
    plant.help += "; or a layer mistake: " + ", ".join(sorted(LAYER_MISTAKES))


def wants(args) -> bool:
    """Whether these arguments ask for the layer library rather than the network check."""
    from autodiff.check.layers.mistakes import LAYER_MISTAKES

    return bool(args.list_layers or args.layer or args.stack or args.mode != "vjp"
                or (args.plant and args.plant in LAYER_MISTAKES))


def _usage(args) -> None:
    given = [f"--{name.replace('_', '-')}" for name in NETWORK_OPTIONS
             if getattr(args, name, None) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: options of the network check; drop them with "
                         "--layer, --stack or a layer mistake")
    if args.layer and args.stack:
        raise UsageError("--layer and --stack: choose one")
    if args.input is not None and not args.stack:
        raise UsageError("--input sets a stack's input shape: use it with --stack")
    if args.mode != "vjp" and not args.layer:
        raise UsageError(f"--mode {args.mode} checks a layer's forward-mode rule: use it with "
                         "--layer NAME")
    if args.mode == "jvp" and args.plant:
        raise UsageError("--plant swaps in a wrong backward: use it with --mode vjp or both")
    if args.plant and not wants_layer_mistake(args.plant):
        raise UsageError(f"--plant {args.plant} is a network mistake: use it without "
                         "--layer/--stack")


def wants_layer_mistake(name: str) -> bool:
    from autodiff.check.layers.mistakes import LAYER_MISTAKES

    return name in LAYER_MISTAKES


def _emit(results: dict, as_json: bool) -> int:
    """Print the named results (tables, or one JSON object); 0 if all passed, else 1."""
    if as_json:
        json.dump({name: result.to_dict() for name, result in results.items()}
                  if len(results) > 1 else next(iter(results.values())).to_dict(),
                  sys.stdout, indent=2)
        print()
    else:
        print("\n\n".join(result.table() for result in results.values()))
    return 0 if all(result.passed for result in results.values()) else 1


def run(args) -> int:
    from autodiff.check.layers.mistakes import LAYER_MISTAKES
    from reference.layers import LAYERS, Stack

    _usage(args)
    if args.list_layers:
        if args.json:
            json.dump([{"name": name, "kind": layer.kind, "layout": layer.layout,
                        "mistakes": sorted(m.name for m in LAYER_MISTAKES.values()
                                           if m.layer == name)}
                       for name, layer in LAYERS.items()], sys.stdout, indent=2)
            print()
        else:
            print("\n".join(LAYERS))
        return 0

    from autodiff.check.layers.check import check_library_layer, check_vjp_of
    from autodiff.check.layers.stack import check_stack, stack_around

    mistake = LAYER_MISTAKES[args.plant] if args.plant else None
    if args.stack:
        stack = Stack.parse(args.stack, args.input)
        backwards = {}
        if mistake:
            if mistake.layer not in stack.names:
                raise UsageError(f"--plant {mistake.name} is a {mistake.layer} mistake, and the "
                                 f"stack has no {mistake.layer}")
            backwards = {mistake.layer: mistake}
        results = {"stack": check_stack(stack, backwards=backwards, dtype=args.dtype,
                                        seed=args.seed)}
        status = _emit(results, args.json)
        if args.plot:
            draw(results, args.plot)
        return status
    name = args.layer or mistake.layer
    if mistake and mistake.layer != name:
        raise UsageError(f"--plant {mistake.name} is a {mistake.layer} mistake, not {name}'s")
    options = dict(mistake.options) if mistake else None
    results = {}
    if args.mode != "jvp":
        results = {"layer": check_library_layer(name, options=options, backward=mistake,
                                                dtype=args.dtype, seed=args.seed),
                   "check_vjp": check_vjp_of(name, mistake, options, args.dtype, args.seed)}
    if args.mode != "vjp":
        from autodiff.check.jvp.layers import check_layer_jvp, check_layer_pair

        results["check_jvp"] = check_layer_jvp(name, dtype=args.dtype, seed=args.seed)
    if args.mode == "both":
        results["pair"] = check_layer_pair(name, backward=mistake, options=options,
                                           dtype=args.dtype, seed=args.seed)
    if mistake and not args.layer:  # and in a small stack, to see it named there
        results["stack"] = check_stack(stack_around(name, options), backwards={name: mistake},
                                       dtype=args.dtype, seed=args.seed)
    status = _emit(results, args.json)
    if args.plot:  # check_vjp's second opinion repeats the layer's rows; a pair has none
        draw({shown: results[label] for label, shown in (
            ("layer", "backward"), ("check_jvp", "forward mode"), ("stack", "stack"))
            if label in results}, args.plot)
    return status
