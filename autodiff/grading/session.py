"""A grading session: the trusted, long-lived side that grades submission after submission.

A ``Session`` holds what every submission of a run shares: the zygote that forks the
sandboxes, the isolation this machine gives (probed once; refused when too weak, unless
accepted), and the case book (the drawn cases and their expected Jacobians). Each
``grade(path)`` loads one file and grades it in a fresh sandbox; whatever the file or its
code does, the result is a ``GradeReport``, never an exception.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autodiff.grading.casebook import CaseBook, fresh_seed
from autodiff.grading.confinement.isolation import Isolation, strongest
from autodiff.grading.confinement.sandbox import Sandbox
from autodiff.grading.confinement.zygote_client import Limits, SandboxUnavailable, Zygote
from autodiff.grading.escape import escaped
from autodiff.grading.grader import Grader, GradeReport
from autodiff.grading.judge import MESSAGE_LIMIT
from autodiff.grading.loader import JACOBIAN_NAMES, LoadError, LoadTimeout, load_submission


@dataclass(frozen=True)
class Options:
    """How to grade: ``examples`` drawn cases per function at most, the search's ``seed``
    (None: fresh), time limits in seconds, the functions, and whether to accept isolation
    weaker than this kernel's best (and, in it, signals the kernel does not scope)."""

    examples: int = 100
    seed: int | None = None
    call_timeout: float = 5.0
    total_timeout: float = 300.0
    names: tuple[str, ...] = JACOBIAN_NAMES
    allow_weak: bool = False
    limits: Limits = field(default_factory=Limits)
    allow_unscoped_signals: bool = False

    def with_seed(self) -> Options:
        """These options with the seed fixed (drawn now when None)."""
        return dataclasses.replace(self, seed=fresh_seed() if self.seed is None else self.seed)


class Session:
    """Grades files one after another. ``book`` and ``isolation`` may come from a parent
    process (the worker pool); otherwise they are made here. Use as a context manager."""

    def __init__(self, options: Options, book: CaseBook | None = None,
                 isolation: Isolation | None = None):
        self.options = options.with_seed()
        self.zygote = Zygote(self.options.limits)  # starts now, while the cases are drawn
        try:
            self.book = book or CaseBook(self.options.seed, self.options.examples)
            # Refuse before paying for JAX when the machine cannot confine the submissions.
            self.isolation = isolation or strongest(self.zygote, self.options.allow_weak,
                                                    self.options.allow_unscoped_signals)
            self.book.warm()
        except BaseException:
            self.zygote.close()
            raise

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zygote.close()

    def grade(self, path: str | Path,
              progress: Callable[[str], None] | None = None) -> GradeReport:
        """Grade the file at ``path``; a file that cannot be read or run gives a report with
        ``load_error`` set."""
        options, start = self.options, time.monotonic()
        report = GradeReport(str(path), [], 0.0, options.examples, seed=options.seed,
                             sandbox=self.isolation.to_json())
        try:
            cells = load_submission(path)
            with Sandbox(self.zygote, self.isolation, cells, options.names,
                         call_timeout=options.call_timeout,
                         load_timeout=min(30.0, options.total_timeout)) as box:
                box.load()
                grader = Grader(box, self.book, deadline=start + options.total_timeout)
                report.functions = grader.grade(options.names, progress)
        except LoadError as error:
            report.load_error = escaped(str(error), MESSAGE_LIMIT)
            report.load_hung = isinstance(error, LoadTimeout)
        except SandboxUnavailable as error:
            report.load_error = f"the sandbox failed: {escaped(str(error), MESSAGE_LIMIT)}"
            self.zygote.close()
            self.zygote = Zygote(options.limits)
        except Exception as error:  # a bug of ours: this file's row, and the run goes on
            report.functions = []
            report.load_error = internal_error(error)
        report.seconds = time.monotonic() - start
        return report


def internal_error(error: Exception) -> str:
    """A row's reason when grading one file failed by a bug of the grader's own."""
    return (f"not graded: internal error ({type(error).__name__}: "
            f"{escaped(str(error), MESSAGE_LIMIT)})")


def grade(path: str | Path, *, examples: int = 100, seed: int | None = None,
          call_timeout: float = 5.0, total_timeout: float = 300.0, names=JACOBIAN_NAMES,
          allow_weak: bool = False,
          progress: Callable[[str], None] | None = None) -> GradeReport:
    """Grade the one submission at ``path`` (see ``Session.grade``)."""
    options = Options(examples, seed, call_timeout, total_timeout, tuple(names), allow_weak)
    with Session(options) as session:
        return session.grade(path, progress)
