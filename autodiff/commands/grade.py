"""``backprop grade PATH``: verify a worksheet submission's six hand-written Jacobians.

Exit status 0 when all six pass, 1 when any fails, 2 when the file cannot be loaded (the
reason is printed) or the options are wrong. ``--csv``/``--gradescope`` also write the
grading as a gradebook (``autodiff.grading.gradebook``); ``--points`` weighs the functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


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
    # Gradebook output (autodiff.grading.gradebook).
    parser.add_argument("--csv", metavar="FILE",
                        help="write a gradebook CSV: a row per submission with the points per "
                        "function, score, diagnoses and flags")
    parser.add_argument("--gradescope", metavar="FILE",
                        help="write Gradescope's autograder results.json (one submission), "
                        "e.g. /autograder/results/results.json")
    parser.add_argument("--points", metavar="POINTS",
                        help="points per function: one number for each, or NAME=POINTS,... "
                        "such as J_W3=2,J_b1=3 (default 1 each)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.grading import gradebook
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
    try:
        points = gradebook.parse_points(args.points, names)
    except ValueError as error:
        raise UsageError(str(error)) from None
    for flag, target in (("--csv", args.csv), ("--gradescope", args.gradescope)):
        # Said before grading, not after minutes of it.
        if target is not None and (Path(target).is_dir() or not Path(target).parent.is_dir()):
            raise UsageError(f"{flag}: cannot write {target!r}: expected a file in an existing "
                             "folder")
    bar = tqdm(total=len(names), disable=args.json or not sys.stderr.isatty(), desc="grading",
               unit="function", file=sys.stderr)

    def progress(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    report = grade(args.path, examples=args.examples, seed=args.seed,
                   call_timeout=args.call_timeout, total_timeout=args.timeout, names=names,
                   progress=progress)
    bar.close()
    reports = [report]
    if args.json:
        print(json.dumps({**to_json(report), **gradebook.json_fields(report, names, points)},
                         indent=2))
    else:
        print(to_text(report))
    _gradebook(args, reports, names, points)
    if report.load_error is not None:
        return 2
    return 0 if report.passed else 1



def _gradebook(args: argparse.Namespace, reports: list, names, points: dict) -> None:
    """Write ``--csv`` and ``--gradescope`` for ``reports``; print the class summary when
    there are several (text mode)."""
    from autodiff.cli import UsageError
    from autodiff.grading import gradebook, summary

    if len(reports) > 1 and not args.json:
        print(summary.to_text(reports))
    try:
        if args.csv:
            gradebook.write_csv(args.csv, reports, names, points)
        if args.gradescope:
            if len(reports) != 1:
                raise UsageError(f"--gradescope: Gradescope grades one submission at a time; "
                                 f"got {len(reports)}")
            gradebook.write_gradescope(args.gradescope, reports[0], names, points)
    except OSError as error:
        raise UsageError(f"cannot write the gradebook: {error}") from None
