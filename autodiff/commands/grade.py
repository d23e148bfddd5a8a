"""``backprop grade PATH...``: verify worksheet submissions' six hand-written Jacobians.

Each submission runs in a fresh sandbox (``autodiff.grading``); a run refuses to start when
this machine cannot confine untrusted code fully, unless ``--allow-weak-sandbox``. One file
prints its full report; several (files, folders, globs) print a line each, graded by ``-j``
workers, then the class summary. ``--csv``/``--gradescope``/``--prairielearn`` also write the
grading as a gradebook (``autodiff.grading.gradebook``, ``prairielearn``), ``--similar`` the
files with identical wrong answers (``similarity``); ``--points`` weighs the functions,
``--hidden`` keeps some functions' detail for after the due date. Exit status: 0 when every
function of every submission passes, 1 when one fails, 2 when a file cannot be loaded (the
reason is printed), an output cannot be written or the options are wrong, 130 after Ctrl-C
(what was graded is still printed and written).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

EXAMPLES = """examples:
  backprop grade student.ipynb                    # one notebook (or .py): its full report
  backprop grade submissions/ -j 2 --csv grades.csv --similar similar.json
  backprop grade submission.ipynb --gradescope results.json --points J_W1=2,J_b1=2
  backprop grade class/ --hidden J_W1,J_b1 --prairielearn results.json

each submission runs in a sandbox; a class prints a line per submission, then its summary.
Ctrl-C stops the run and still writes what was graded (exit 130)."""

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
    parser.add_argument("--hidden", metavar="NAME,...",
                        help="functions whose detail students see after the due date only: "
                        "Gradescope shows their tests then, the text report says only "
                        "PASS or FAIL")
    parser.add_argument("--prairielearn", metavar="PATH",
                        help="write PrairieLearn's external-grader results.json (several "
                        "submissions: one file each in the folder PATH without .json)")
    parser.add_argument("--similar", metavar="FILE",
                        help="write the similarity report (JSON): files whose functions give "
                        "identical wrong answers on the same cases; a hint, not a verdict")


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
    for flag, target in (("--csv", args.csv), ("--gradescope", args.gradescope),
                         ("--prairielearn", args.prairielearn), ("--similar", args.similar)):
        if target is not None and not Path(target).parent.is_dir():
            raise UsageError(f"{flag}: cannot write {target!r}: expected a file in an existing "
                             "folder")
    for flag, target in (("--csv", args.csv), ("--similar", args.similar)):
        if target is not None and Path(target).is_dir():
            raise UsageError(f"{flag}: cannot write {target!r}: it is a folder; expected a "
                             "file")
    return points


def _hidden(args: argparse.Namespace) -> frozenset[str]:
    """The functions of ``--hidden`` (any of the six, graded or not, so that one command line
    serves with and without ``--only``); an unknown name is said before grading."""
    from autodiff.cli import UsageError
    from autodiff.grading.loader import JACOBIAN_NAMES

    hidden = frozenset(name.strip() for name in (args.hidden or "").split(",") if name.strip())
    unknown = sorted(hidden - set(JACOBIAN_NAMES))
    if unknown:
        raise UsageError(f"--hidden: {unknown[0]!r} is not a graded function; expected one of "
                         f"{', '.join(JACOBIAN_NAMES)}")
    return hidden


def _checked_results_target(flag: str, target: str | None, count: int) -> None:
    """One submission (or none) goes to the file ``target``; several to a folder."""
    from autodiff.cli import UsageError
    from autodiff.grading.gradebook import gradescope_folder

    if target is None:
        return
    if count <= 1 and Path(target).is_dir():
        raise UsageError(f"{flag}: cannot write {target!r}: it is a folder; expected a "
                         "file (one submission)")
    if count > 1 and gradescope_folder(target).exists() and not gradescope_folder(
            target).is_dir():
        raise UsageError(f"{flag}: cannot write {count} results files into "
                         f"{str(gradescope_folder(target))!r}: it is a file, not a folder")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autodiff.cli import UsageError
    from autodiff.grading import gradebook, summary
    from autodiff.grading.confinement.zygote_client import SandboxUnavailable
    from autodiff.grading.escape import escaped
    from autodiff.grading.interrupts import recording_interrupts
    from autodiff.grading.pool import expand, grade_many
    from autodiff.grading.report import sandbox_line, summary_line, to_json, to_text

    options = _options(args)
    points = _checked_gradebook_options(args, options.names)
    hidden = _hidden(args)
    paths, unmatched = expand(args.paths)
    _checked_results_target("--gradescope", args.gradescope, len(paths))
    _checked_results_target("--prairielearn", args.prairielearn, len(paths))
    if not paths and args.gradescope:
        # Gradescope shows only 'results.json not found' unless there is one that says why.
        where = ", ".join(escaped(path, 200) for path in args.paths)
        try:
            gradebook.write_no_submission(args.gradescope, where, options.names, points)
        except OSError as error:
            raise UsageError(f"cannot write the gradebook: {error}") from None
    if unmatched:
        raise UsageError(f"{escaped(unmatched[0], 500)}: no such file, folder or submission")
    single = len(paths) == 1
    quiet = args.json or not sys.stderr.isatty()
    # Every submission redraws the bar: the next may be a minute away.
    bar = tqdm(total=len(paths), disable=quiet, desc="grading", unit="submission",
               file=sys.stderr, mininterval=0, miniters=1)
    # A Ctrl-C once the run has stopped (a second one, or one while the outputs are written)
    # is recorded, never raised: the gradebook of what was graded is always written.
    with recording_interrupts() as held:
        try:
            batch = grade_many(paths, options, jobs=args.jobs,
                               progress=lambda report: bar.update(1))
        except SandboxUnavailable as error:
            raise UsageError(str(error)) from None
        finally:
            held.stopping = True
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
            print(to_text(reports[0], hidden))
        else:
            for report in reports:
                print(summary_line(report))
            print(f"{len(reports)} of {len(paths)} submissions graded (seed {batch.seed}: "
                  f"--seed {batch.seed} reproduces the cases); {sandbox_line(batch.sandbox)}")
        _gradebook(args, reports, options.names, points, paths, hidden, batch.seed)
        interrupted = batch.interrupted or held.seen
    if interrupted:
        # Stopping already: one more Ctrl-C while the interpreter shuts down is no news.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("backprop grade: interrupted; the submissions above were graded", file=sys.stderr)
        return 130
    statuses = [2 if report.load_error is not None else 0 if report.passed else 1
                for report in reports]
    return max(statuses, default=0)


def _gradebook(args: argparse.Namespace, reports: list, names, points: dict,
               paths: list[str] | None = None, hidden=frozenset(), seed=None) -> None:
    """Write ``--csv``, ``--gradescope``, ``--prairielearn`` and ``--similar`` for
    ``reports`` (of the run's ``paths``); print the class summary when there are several
    (text mode). A results file is PATH for one submission, one file per submission in a
    folder for several. Each output is written on its own: one that cannot be written
    costs only itself, and all that failed are said at the end (exit 2)."""
    from autodiff.cli import UsageError
    from autodiff.grading import gradebook, prairielearn, similarity, summary

    paths = [report.path for report in reports] if paths is None else paths
    if len(reports) > 1 and not args.json:
        print(summary.to_text(reports))
    failed = []
    if args.csv:
        failed += _written(args.csv, gradebook.write_csv, args.csv, reports, names, points)
    if args.similar:
        failed += _written(args.similar, gradebook.write_json, args.similar,
                           similarity.document(reports, seed))
    for platform, target, write in (("Gradescope", args.gradescope, gradebook.write_gradescope),
                                    ("PrairieLearn", args.prairielearn, prairielearn.write)):
        if target and reports:
            failed += _results_files(platform, target, write, reports, names, points, paths,
                                     hidden, sys.stderr if args.json else sys.stdout)
    if failed:
        raise UsageError("cannot write the gradebook: " + "; ".join(failed))


def _results_files(platform: str, target: str, write, reports, names, points, paths,
                   hidden, stream) -> list[str]:
    """``write`` one results file: ``target`` for one submission, else one per submission
    in ``target``'s folder (said on ``stream``); returns what could not be written."""
    from autodiff.grading import gradebook
    from autodiff.grading.escape import escaped

    if len(paths) == 1:
        return _written(target, write, target, reports[0], names, points, hidden)
    folder, lost = gradebook.gradescope_folder(target), []
    failed = _written(str(folder), lambda: lost.extend(gradebook.write_folder(
        folder, reports, lambda path, report: write(path, report, names, points, hidden),
        paths)))
    if not failed:
        print(f"{platform} results: {len(reports) - len(lost)} files in "
              f"{escaped(str(folder), 500)}/, one per submission", file=stream)
    return failed + lost


def _written(target: str, write, *args) -> list[str]:
    """``[]`` when ``write(*args)`` succeeds, else why ``target`` could not be written."""
    from autodiff.grading.escape import escaped

    try:
        write(*args)
    except (OSError, ValueError) as error:
        return [f"{escaped(target, 500)}: {escaped(str(error), 500)}"]
    return []
