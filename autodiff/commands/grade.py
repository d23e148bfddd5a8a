"""``backprop grade PATH...``: verify worksheet submissions' six hand-written Jacobians.

Each submission runs in a fresh sandbox (``autodiff.grading``); a run refuses to start when
this machine cannot confine untrusted code fully, unless ``--allow-weak-sandbox``. One file
prints its full report; several (files, folders, globs) print a line each, graded by ``-j``
workers. Exit status: 0 when every function of every submission passes, 1 when one fails,
2 when a file cannot be loaded (the reason is printed) or the options are wrong, 130 after
Ctrl-C (what was graded is still printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


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
                   args.allow_weak_sandbox)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.grading.pool import expand, grade_many
    from autodiff.grading.report import printable, sandbox_line, summary_line, to_json, to_text
    from autodiff.grading.zygote_client import SandboxUnavailable

    options = _options(args)
    paths, unmatched = expand(args.paths)
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
    if not batch.sandbox["full"]:
        print(f"warning: {sandbox_line(batch.sandbox)}", file=sys.stderr)
    if args.json:
        documents = [to_json(report) for report in batch.reports]
        print(json.dumps(documents[0] if single and documents else {
            "seed": batch.seed, "sandbox": batch.sandbox, "interrupted": batch.interrupted,
            "submissions": documents}, indent=2))
    elif single and batch.reports:
        print(to_text(batch.reports[0]))
    else:
        for report in batch.reports:
            print(summary_line(report))
        print(f"{len(batch.reports)} of {len(paths)} submissions graded (seed {batch.seed}: "
              f"--seed {batch.seed} reproduces the cases); {sandbox_line(batch.sandbox)}")
    if batch.interrupted:
        print("backprop grade: interrupted; the submissions above were graded", file=sys.stderr)
        return 130
    statuses = [2 if report.load_error is not None else 0 if report.passed else 1
                for report in batch.reports]
    return max(statuses, default=0)
