"""Grade many submissions: ``grade_many`` over files, folders and globs, in parallel.

The parent draws the run's cases and their expected Jacobians once (``CaseBook``) and probes
the isolation once, then hands both to ``jobs`` worker processes, each a ``Session`` with its
own zygote, which grade one file at a time (every file in a fresh sandbox). A file that
cannot be loaded, hangs or crashes is a report like any other; a worker that dies is replaced,
its file reported as not graded. Ctrl-C stops the workers (and, through the zygotes, every
sandbox) and returns the reports finished so far, with ``interrupted`` set.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from autodiff.grading.grader import GradeReport
from autodiff.grading.session import Options, Session

SUFFIXES = (".py", ".ipynb")


@dataclass
class Batch:
    """The reports of a run, in the order of the files; ``interrupted`` when Ctrl-C ended it
    (the files not yet graded are absent)."""

    reports: list[GradeReport]
    seed: int
    sandbox: dict
    interrupted: bool = False


def expand(arguments) -> tuple[list[str], list[str]]:
    """``(files, unmatched)``: the submissions that files, folders (searched recursively,
    hidden folders and notebook checkpoints skipped) and globs name, each once, in order."""
    files, unmatched = [], []
    for argument in arguments:
        matches = sorted(glob.glob(argument, recursive=True)) if glob.has_magic(argument) else (
            [argument] if os.path.exists(argument) else [])
        found = []
        for match in matches:
            if os.path.isdir(match):
                found += sorted(str(path) for path in Path(match).rglob("*")
                                if path.suffix in SUFFIXES and path.is_file()
                                and not any(part.startswith(".")
                                            for part in path.relative_to(match).parts))
            else:
                found.append(match)
        if not found:
            unmatched.append(argument)
        files += [path for path in found if path not in files]
    return files, unmatched


def grade_many(paths: list[str], options: Options, *, jobs: int = 1,
               progress: Callable[[GradeReport], None] | None = None) -> Batch:
    """Grade every file of ``paths``; ``progress`` is called with each report as it is done."""
    options = options.with_seed()
    if jobs <= 1 or len(paths) <= 1:
        return _in_process(paths, options, progress)
    return _in_workers(paths, options, jobs, progress)


def _in_process(paths, options, progress) -> Batch:
    with Session(options) as session:
        batch = Batch([], options.seed, session.isolation.to_json())
        try:
            for path in paths:
                batch.reports.append(session.grade(path))
                if progress is not None:
                    progress(batch.reports[-1])
        except KeyboardInterrupt:
            batch.interrupted = True
    return batch


def _worker(connection, options, book, isolation, parent: int) -> None:
    """A worker process: grade the paths it is sent until it is sent None."""
    from autodiff.grading.confinement.confine import set_parent_death_signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # A grader killed outright (SIGKILL, SIGTERM: no handler of ours runs) takes its workers
    # with it, and they their zygotes and every sandbox; daemon=True covers only a clean exit.
    set_parent_death_signal()
    if os.getppid() != parent:  # it died before the line above
        return
    with Session(options, book, isolation) as session:
        while (path := connection.recv()) is not None:
            try:
                report = session.grade(path)
            except Exception as error:  # a bug of ours: a row, and the run goes on
                report = GradeReport(path, [], 0.0, options.examples, seed=options.seed,
                                     sandbox=session.isolation.to_json(), load_error=(
                                         f"not graded: internal error ({type(error).__name__}: "
                                         f"{error})"))
            connection.send(report)


def _in_workers(paths, options, jobs, progress) -> Batch:
    from autodiff.grading.casebook import CaseBook
    from autodiff.grading.confinement.isolation import strongest
    from autodiff.grading.confinement.zygote_client import Zygote

    with Zygote(options.limits) as zygote:
        isolation = strongest(zygote, options.allow_weak)
    book = CaseBook(options.seed, options.examples).warm()
    context = multiprocessing.get_context("spawn")
    batch = Batch([], options.seed, isolation.to_json())
    done: dict[int, GradeReport] = {}
    queue = list(enumerate(paths))
    workers: dict = {}  # connection -> (process, index of the file it grades or None)
    started = []

    def start() -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, daemon=True,
                                  args=(theirs, options, book, isolation, os.getpid()))
        process.start()
        started.append(process)
        theirs.close()
        workers[ours] = (process, None)

    def dispatch(connection) -> None:
        process, _ = workers[connection]
        if queue:
            index, path = queue.pop(0)
            connection.send(path)
            workers[connection] = (process, index)
        else:
            connection.send(None)
            workers.pop(connection)

    def finish(index: int, report: GradeReport) -> None:
        done[index] = report
        if progress is not None:
            progress(report)

    try:
        for _ in range(min(jobs, len(paths))):
            start()
        for connection in list(workers):
            dispatch(connection)
        while workers:
            sentinels = {process.sentinel: connection
                         for connection, (process, _) in workers.items()}
            for ready in wait([*workers, *sentinels]):
                connection = sentinels.get(ready, ready)
                if connection not in workers:
                    continue
                process, index = workers[connection]
                try:
                    report = connection.recv()
                except (EOFError, OSError):
                    process.join()
                    workers.pop(connection)
                    if index is not None:
                        finish(index, GradeReport(
                            paths[index], [], 0.0, options.examples, seed=options.seed,
                            sandbox=batch.sandbox, load_error="not graded: the grader's worker "
                            f"process ended (exit status {process.exitcode})"))
                    if queue:
                        start()
                        dispatch(list(workers)[-1])
                    continue
                finish(index, report)
                dispatch(connection)
    except KeyboardInterrupt:
        batch.interrupted = True
        for process, _ in workers.values():
            process.terminate()
    finally:
        for process in started:
            process.join(timeout=5)
    batch.reports = [done[index] for index in sorted(done)]
    return batch
