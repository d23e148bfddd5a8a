"""``backprop grade PATH``: verify a worksheet submission's six hand-written Jacobians.

Exit status 0 when all six pass, 1 when any fails, 2 when the file cannot be loaded (the
reason is printed) or the options are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the submission: a .py file or an .ipynb notebook")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.add_argument("--examples", type=int, default=100,
                        help="drawn cases per function at most (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    parser.add_argument("--call-timeout", type=float, default=5.0,
                        help="seconds one call may take (default 5)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds the whole grading may take (default 300)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="grade only this function (repeatable), e.g. --only J_b2")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.grading.grader import grade
    from autodiff.grading.loader import JACOBIAN_NAMES
    from autodiff.grading.report import to_json, to_text

    if args.examples < 1:
        raise UsageError(f"--examples: expected a positive number of cases, got {args.examples}")
    if args.call_timeout <= 0 or args.timeout <= 0:
        raise UsageError("--call-timeout and --timeout: expected positive numbers of seconds")
    names = tuple(args.only or JACOBIAN_NAMES)
    unknown = sorted(set(names) - set(JACOBIAN_NAMES))
    if unknown:
        raise UsageError(f"--only: unknown function {unknown[0]!r}; expected one of "
                         f"{', '.join(JACOBIAN_NAMES)}")
    bar = tqdm(total=len(names), disable=args.json or not sys.stderr.isatty(), desc="grading",
               unit="function", file=sys.stderr)

    def progress(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    report = grade(args.path, examples=args.examples, seed=args.seed,
                   call_timeout=args.call_timeout, total_timeout=args.timeout, names=names,
                   progress=progress)
    bar.close()
    if args.json:
        print(json.dumps(to_json(report), indent=2))
    else:
        print(to_text(report))
    if report.load_error is not None:
        return 2
    return 0 if report.passed else 1

