"""Grade many submissions: ``grade_many`` over files, folders and globs, in parallel.

The parent draws the run's cases and their expected Jacobians once (``CaseBook``) and probes
the isolation once, then hands both to ``jobs`` worker processes (``WorkerPool``), each a
``Session`` with its own zygote, which grade one file at a time (every file in a fresh
sandbox). A file that cannot be loaded, hangs or crashes is a report like any other; a worker
that dies is replaced, its file reported as not graded. Ctrl-C (``interrupts``) stops the
workers (and, through the zygotes, every sandbox) and returns the reports finished so far,
with ``interrupted`` set.
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
from autodiff.grading.interrupts import Interrupts, recording_interrupts
from autodiff.grading.session import Options, Session, internal_error

SUFFIXES = (".py", ".ipynb")


@dataclass
class Batch:
    """The reports of a run, in the order of the files; ``interrupted`` when Ctrl-C ended it
    (the files not yet graded are absent)."""

    reports: list[GradeReport]
    seed: int
    sandbox: dict | None  # None when interrupted before the isolation was probed
    interrupted: bool = False


def expand(arguments) -> tuple[list[str], list[str]]:
    """``(files, unmatched)``: the submissions that files, folders (searched recursively,
    hidden folders and notebook checkpoints skipped) and globs name, each once, in order.
    A symbolic link or a pipe found in a folder is kept, so that its row says why it was not
    graded (``loader.load_submission`` refuses to follow or open it); linked folders are not
    entered."""
    files, unmatched = [], []
    for argument in arguments:
        matches = sorted(glob.glob(argument, recursive=True)) if glob.has_magic(argument) else (
            [argument] if os.path.exists(argument) else [])
        found = []
        for match in matches:
            if os.path.isdir(match):
                found += sorted(str(path) for path in Path(match).rglob("*")
                                if path.suffix in SUFFIXES
                                and (path.is_symlink() or not path.is_dir())
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
    """Grade every file of ``paths``; ``progress`` is called with each report as it is done.
    Ctrl-C at any moment (drawing the cases, starting the workers, grading) ends the run with
    ``interrupted`` set and the reports finished so far."""
    options = options.with_seed()
    batch = Batch([], options.seed, None)
    with recording_interrupts() as interrupts:
        try:
            if jobs <= 1 or len(paths) <= 1:
                _in_process(batch, paths, options, progress, interrupts)
            else:
                _in_workers(batch, paths, options, jobs, progress, interrupts)
            interrupts.check()
        except KeyboardInterrupt:
            interrupts.stopping = True
            batch.interrupted = True
        # An interrupt lost at the very end (in a gc callback) still ends the run as one.
        batch.interrupted = batch.interrupted or interrupts.seen
    return batch


def _in_process(batch, paths, options, progress, interrupts) -> None:
    with Session(options) as session:
        batch.sandbox = session.isolation.to_json()
        try:
            for path in paths:
                interrupts.check()
                batch.reports.append(session.grade(path))
                if progress is not None:
                    progress(batch.reports[-1])
        finally:
            interrupts.stopping = True  # closing the session's zygote is not interrupted


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
                                     sandbox=session.isolation.to_json(),
                                     load_error=internal_error(error))
            connection.send(report)


def _in_workers(batch: Batch, paths, options: Options, jobs: int, progress,
                interrupts: Interrupts) -> None:
    from autodiff.grading.casebook import CaseBook
    from autodiff.grading.confinement.isolation import strongest
    from autodiff.grading.confinement.zygote_client import Zygote

    with Zygote(options.limits) as zygote:
        isolation = strongest(zygote, options.allow_weak, options.allow_unscoped_signals)
    batch.sandbox = isolation.to_json()
    interrupts.check()
    book = CaseBook(options.seed, options.examples).warm()
    interrupts.check()  # after drawing the cases
    pool = WorkerPool(paths, options, book, isolation, batch.sandbox, progress)
    try:
        pool.run(jobs, interrupts)
    except KeyboardInterrupt:
        interrupts.stopping = True
        batch.interrupted = True
        pool.terminate()
    finally:
        interrupts.stopping = True  # the clean-up below is not interrupted
        batch.reports = pool.reports()
        pool.join()


class WorkerPool:
    """Worker processes grading ``paths``, each file sent to the next idle worker; a worker
    that ends is replaced, and its file is a row ('the grader's worker process ended')."""

    def __init__(self, paths: list[str], options: Options, book, isolation,
                 sandbox: dict | None, progress: Callable[[GradeReport], None] | None):
        self.paths, self.options, self.book, self.isolation = paths, options, book, isolation
        self.sandbox, self.progress = sandbox, progress
        self.context = multiprocessing.get_context("spawn")
        self.queue = list(enumerate(paths))  # (index, path) of the files not yet sent
        self.workers: dict = {}  # connection -> (process, index of the file it grades or None)
        self.unsent: dict[int, int] = {}  # index of a file -> how often sending it failed
        self.started: list = []
        self.done: dict[int, GradeReport] = {}

    def run(self, jobs: int, interrupts: Interrupts) -> None:
        """Start ``jobs`` workers (at most one per file) and grade every file."""
        for _ in range(min(jobs, len(self.paths))):
            self.start()
            interrupts.check()
        for connection in list(self.workers):
            self.dispatch(connection)
        while self.workers:
            interrupts.check()
            sentinels = {process.sentinel: connection
                         for connection, (process, _) in self.workers.items()}
            # A timeout, so that an interrupt lost in a gc callback is seen within it.
            for ready in wait([*self.workers, *sentinels], timeout=0.25):
                self.receive(sentinels.get(ready, ready))
        while self.queue:  # no worker could be started for these
            self.not_graded(self.queue.pop(0)[0],
                            "no worker process of the grader could be started")

    def start(self):
        """A new worker's connection; None when three tries to start one failed (a worker
        killed while it reads its start-up data fails ``process.start``)."""
        for _ in range(3):
            ours, theirs = self.context.Pipe()
            process = self.context.Process(
                target=_worker, daemon=True,
                args=(theirs, self.options, self.book, self.isolation, os.getpid()))
            # The worker starts with Ctrl-C blocked (the mask is inherited): the parent
            # decides when to stop, also while the worker is still importing; ours waits
            # until it started.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                process.start()
            except OSError:
                ours.close()
                continue
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                theirs.close()
            self.started.append(process)
            self.workers[ours] = (process, None)
            return ours
        return None

    def receive(self, connection) -> None:
        """The report a worker sent (or its end) and its next file."""
        if connection not in self.workers:
            return
        _, index = self.workers[connection]
        try:
            report = connection.recv()
        except (EOFError, OSError):
            replacement = self.lost(connection, index)
            if replacement is not None:
                self.dispatch(replacement)
            return
        self.finish(index, report)
        self.dispatch(connection)

    def dispatch(self, connection) -> None:
        """Send the worker of ``connection`` the next file (or None: stop). A worker that
        cannot be sent to has ended (killed while it started, say): it is replaced, and the
        file goes back to the queue, once; a second time it is a row of the results."""
        while connection is not None:
            process, _ = self.workers[connection]
            index, path = self.queue.pop(0) if self.queue else (None, None)
            try:
                connection.send(path)
            except OSError:  # BrokenPipeError and the like: the worker is gone
                row = None
                if index is not None:
                    self.unsent[index] = self.unsent.get(index, 0) + 1
                    if self.unsent[index] < 2:
                        self.queue.insert(0, (index, path))
                    else:
                        row = index
                connection = self.lost(connection, row)
                continue
            if index is None:
                self.workers.pop(connection)
            else:
                self.workers[connection] = (process, index)
            connection = None

    def lost(self, connection, index):
        """Forget the ended worker of ``connection``; the file it had (``index``) is a row.
        Returns the connection of its replacement when files are left, else None."""
        process, _ = self.workers.pop(connection)
        process.terminate()  # if it is not quite gone yet
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
        connection.close()
        if index is not None:
            self.not_graded(index, f"the grader's worker process ended (exit status "
                                   f"{process.exitcode})")
        return self.start() if self.queue else None

    def not_graded(self, index: int, why: str) -> None:
        self.finish(index, GradeReport(self.paths[index], [], 0.0, self.options.examples,
                                       seed=self.options.seed, sandbox=self.sandbox,
                                       load_error=f"not graded: {why}"))

    def finish(self, index: int, report: GradeReport) -> None:
        self.done[index] = report
        if self.progress is not None:
            self.progress(report)

    def reports(self) -> list[GradeReport]:
        """The reports finished so far, in the order of the files."""
        return [self.done[index] for index in sorted(self.done)]

    def terminate(self) -> None:
        for process in self.started:
            process.terminate()

    def join(self) -> None:
        for process in self.started:
            process.join(timeout=5)
