"""``backprop grade PATH...``: verify worksheet submissions' six hand-written Jacobians.

Each submission runs in a fresh sandbox (``autodiff.grading``); a run refuses to start when
this machine cannot confine untrusted code fully, unless ``--allow-weak-sandbox``. One file
prints its full report; several (files, folders, globs) print a line each, graded by ``-j``
workers, then the class summary. ``--csv``/``--gradescope`` also write the grading as a
gradebook (``autodiff.grading.gradebook``); ``--points`` weighs the functions. Exit status: 0
when every function of every submission passes, 1 when one fails, 2 when a file cannot be
loaded (the reason is printed) or the options are wrong, 130 after Ctrl-C (what was graded is
still printed and written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="submissions: .py files, .ipynb notebooks, folders of them "
                             "(searched recursively) or globs")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.add_argument("-j", "--jobs", type=int, default=_cores(),
                        help=f"submissions graded in parallel (default: the cores, {_cores()})")
    parser.add_argument("--examples", type=int, default=100,
                        help="drawn cases per function at most (default 100)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the drawn cases (default: fresh each run, printed)")
    parser.add_argument("--call-timeout", type=float, default=5.0,
                        help="seconds one call may take (default 5)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds one submission's grading may take (default 300)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="grade only this function (repeatable), e.g. --only J_b2")
    parser.add_argument("--allow-weak-sandbox", action="store_true",
                        help="grade even where this machine cannot isolate the submissions "
                             "fully (the report says which protections are missing)")
    parser.add_argument("--allow-unscoped-signals", action="store_true",
                        help="with --allow-weak-sandbox, grade even where Landlock is older "
                             "than ABI 6 (Linux 6.12): the kernel then does not keep a "
                             "submission's signals from your processes, only the seccomp "
                             "filter does")
    # Gradebook output (autodiff.grading.gradebook).
    parser.add_argument("--csv", metavar="FILE",
                        help="write a gradebook CSV: a row per submission with the points per "
                        "function, score, diagnoses and flags")
    parser.add_argument("--gradescope", metavar="PATH",
                        help="write Gradescope's autograder results.json, e.g. "
                        "/autograder/results/results.json; several submissions: one file "
                        "each in the folder PATH (without its .json suffix)")
    parser.add_argument("--points", metavar="POINTS",
                        help="points per function: one number for each, or NAME=POINTS,... "
                        "such as J_W3=2,J_b1=3 (default 1 each)")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _options(args: argparse.Namespace):
    from autodiff.cli import UsageError
    from autodiff.grading.loader import JACOBIAN_NAMES
    from autodiff.grading.session import Options

    if args.examples < 1:
        raise UsageError(f"--examples: expected a positive number of cases, got {args.examples}")
    if args.call_timeout <= 0 or args.timeout <= 0:
        raise UsageError("--call-timeout and --timeout: expected positive numbers of seconds")
    if args.jobs < 1:
        raise UsageError(f"--jobs: expected at least 1 worker, got {args.jobs}")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise UsageError(f"--seed: expected an integer in [0, 2**32), got {args.seed}")
    names = tuple(args.only or JACOBIAN_NAMES)
    unknown = sorted(set(names) - set(JACOBIAN_NAMES))
    if unknown:
        raise UsageError(f"--only: unknown function {unknown[0]!r}; expected one of "
                         f"{', '.join(JACOBIAN_NAMES)}")
    return Options(args.examples, args.seed, args.call_timeout, args.timeout, names,
                   args.allow_weak_sandbox, allow_unscoped_signals=args.allow_unscoped_signals)


def _checked_gradebook_options(args: argparse.Namespace, names) -> dict:
    """The points per function; bad gradebook options are said before grading, not after."""
    from autodiff.cli import UsageError
    from autodiff.grading import gradebook

    try:
        points = gradebook.parse_points(args.points, names)
    except ValueError as error:
        raise UsageError(str(error)) from None
    for flag, target in (("--csv", args.csv), ("--gradescope", args.gradescope)):
        if target is not None and not Path(target).parent.is_dir():
            raise UsageError(f"{flag}: cannot write {target!r}: expected a file in an existing "
                             "folder")
    if args.csv is not None and Path(args.csv).is_dir():
        raise UsageError(f"--csv: cannot write {args.csv!r}: it is a folder; expected a file")
    return points


def _checked_gradescope_target(target: str | None, count: int) -> None:
    """One submission (or none) goes to the file ``target``; several to a folder."""
    from autodiff.cli import UsageError
    from autodiff.grading.gradebook import gradescope_folder

    if target is None:
        return
    if count <= 1 and Path(target).is_dir():
        raise UsageError(f"--gradescope: cannot write {target!r}: it is a folder; expected a "
                         "file (one submission)")
    if count > 1 and gradescope_folder(target).exists() and not gradescope_folder(
            target).is_dir():
        raise UsageError(f"--gradescope: cannot write {count} results files into "
                         f"{str(gradescope_folder(target))!r}: it is a file, not a folder")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.grading import gradebook, summary
    from autodiff.grading.confinement.zygote_client import SandboxUnavailable
    from autodiff.grading.pool import expand, grade_many
    from autodiff.grading.report import printable, sandbox_line, summary_line, to_json, to_text

    options = _options(args)
    points = _checked_gradebook_options(args, options.names)
    paths, unmatched = expand(args.paths)
    _checked_gradescope_target(args.gradescope, len(paths))
    if not paths and args.gradescope:
        # Gradescope shows only 'results.json not found' unless there is one that says why.
        where = ", ".join(printable(path, 200) for path in args.paths)
        try:
            gradebook.write_no_submission(args.gradescope, where, options.names, points)
        except OSError as error:
            raise UsageError(f"cannot write the gradebook: {error}") from None
    if unmatched:
        raise UsageError(f"{printable(unmatched[0])}: no such file, folder or submission")
    single = len(paths) == 1
    quiet = args.json or not sys.stderr.isatty()
    # Every submission redraws the bar: the next may be a minute away.
    bar = tqdm(total=len(paths), disable=quiet, desc="grading", unit="submission",
               file=sys.stderr, mininterval=0, miniters=1)
    try:
        batch = grade_many(paths, options, jobs=args.jobs,
                           progress=lambda report: bar.update(1))
    except SandboxUnavailable as error:
        raise UsageError(str(error)) from None
    finally:
        bar.close()
    if batch.sandbox is not None and not batch.sandbox["full"]:
        print(f"warning: {sandbox_line(batch.sandbox)}", file=sys.stderr)
    reports = batch.reports
    if args.json:
        documents = [{**to_json(report), **gradebook.json_fields(report, options.names, points)}
                     for report in reports]
        print(json.dumps(documents[0] if single and documents else {
            "seed": batch.seed, "sandbox": batch.sandbox, "interrupted": batch.interrupted,
            "summary": summary.summarise(reports), "submissions": documents}, indent=2))
    elif single and reports:
        print(to_text(reports[0]))
    else:
        for report in reports:
            print(summary_line(report))
        print(f"{len(reports)} of {len(paths)} submissions graded (seed {batch.seed}: "
              f"--seed {batch.seed} reproduces the cases); {sandbox_line(batch.sandbox)}")
    _gradebook(args, reports, options.names, points, paths)
    if batch.interrupted:
        print("backprop grade: interrupted; the submissions above were graded", file=sys.stderr)
        return 130
    statuses = [2 if report.load_error is not None else 0 if report.passed else 1
                for report in reports]
    return max(statuses, default=0)


def _gradebook(args: argparse.Namespace, reports: list, names, points: dict,
               paths: list[str] | None = None) -> None:
    """Write ``--csv`` and ``--gradescope`` for ``reports`` (of the run's ``paths``); print
    the class summary when there are several (text mode). Gradescope's file is PATH for one
    submission, one file per submission in a folder for several."""
    from autodiff.cli import UsageError
    from autodiff.grading import gradebook, summary
    from autodiff.grading.report import printable

    paths = [report.path for report in reports] if paths is None else paths
    if len(reports) > 1 and not args.json:
        print(summary.to_text(reports))
    try:
        if args.csv:
            gradebook.write_csv(args.csv, reports, names, points)
        if args.gradescope and len(paths) == 1 and reports:
            gradebook.write_gradescope(args.gradescope, reports[0], names, points)
        elif args.gradescope and len(paths) > 1:
            folder = gradebook.write_gradescope_folder(
                gradebook.gradescope_folder(args.gradescope), reports, names, points, paths)
            print(f"Gradescope results: {len(reports)} files in {printable(str(folder))}/, "
                  "one per submission", file=sys.stderr if args.json else sys.stdout)
    except OSError as error:
        raise UsageError(f"cannot write the gradebook: {error}") from None
