"""The ``backprop`` command line (also ``python -m autodiff``).

Each subcommand lives in its own module under ``autodiff.commands`` and provides
``add_arguments(parser)`` and ``run(args) -> int``; heavy imports (JAX) happen inside ``run``
so that ``backprop --help`` stays fast. Exit codes: 0 success, 1 a check or run failed,
2 bad usage or input (one line on stderr, never a traceback), 3 an internal error (one line;
``BACKPROP_TRACEBACK=1`` shows the traceback), 130 interrupted, 141 the output pipe closed.
Compiled programs are kept between runs (``autodiff.core.compile_cache``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys

from autodiff._version import __version__
from autodiff.core import compile_cache

# name -> (module, one-line help). Modules are imported only to build the parser.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("autodiff.commands.check", "check hand-derived gradients against jax.grad"),
    "train": ("autodiff.commands.train", "train the worksheet network to draw the heart"),
    "bench": ("autodiff.commands.bench", "time the training engines side by side"),
    "grade": ("autodiff.commands.grade", "verify a worksheet submission's six Jacobians"),
}


class UsageError(Exception):
    """Bad usage or input: reported in one line on stderr, exit status 2."""


EXAMPLES = """examples:
  backprop check                        # the worksheet's gradients against jax.grad
  backprop train --output heart.png     # train the worksheet's network to draw the heart
  backprop bench --repeats 1            # the training engines side by side
  backprop grade submission.py          # verify a submission's six Jacobians

each command's --help lists its options and more examples"""


def build_parser() -> argparse.ArgumentParser:
    """The ``backprop`` parser; each subcommand's ``EXAMPLES`` (if its module has them) end
    its help, as written."""
    parser = argparse.ArgumentParser(
        prog="backprop",
        description="Hand-derived backpropagation versus automatic differentiation.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"backprop {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=help_text,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        if getattr(module, "EXAMPLES", None):
            sub.epilog = "\n\n".join(filter(None, (sub.epilog, module.EXAMPLES)))
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    compile_cache.enable()  # before any command imports JAX; BACKPROP_COMPILE_CACHE=off: none
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the subcommand, with its own usage, not the top-level one
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not hasattr(args, "_run"):
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except (UsageError, ValueError, TypeError, FileNotFoundError) as error:
        if os.environ.get("BACKPROP_TRACEBACK"):
            raise
        print(f"backprop {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"backprop {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as error:
        if not _reader_gone():  # another pipe broke (a child's): not the reader's doing
            return _internal_error(args, error)
        # The reader went away (`backprop check --json | head`): stop quietly, as Unix tools
        # do, and keep Python's final flush of stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # a bug of ours: one line, and the way to see the traceback
        return _internal_error(args, error)


def _internal_error(args, error: Exception) -> int:
    if os.environ.get("BACKPROP_TRACEBACK"):
        raise error
    print(f"backprop {args.command}: internal error: {type(error).__name__}: {error} "
          "(run with BACKPROP_TRACEBACK=1 for the traceback)", file=sys.stderr)
    return 3


def _reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end is closed (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no real stdout (a test's capture)
        return False


if __name__ == "__main__":
    sys.exit(main())
