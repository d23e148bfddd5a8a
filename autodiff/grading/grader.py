"""Grade a submission: for each Jacobian, search for its smallest failing case.

For each of ``J_W3 … J_b1`` the grader first calls it on the worksheet's own case (1-6-7-2
network, 100 heart points) and on the same shapes with saturating weights, then lets
hypothesis search the drawn cases (``cases.cases``) for one where it differs from
``jax.grad``, and shrink that case to the smallest. A function passes when no case fails. A
call that hangs or kills the child ends the search at once: its case is the verdict's case.
Every other failure is then diagnosed (``diagnose``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from autodiff.grading import expected as oracle
from autodiff.grading.cases import Case, cases, saturated_case, worksheet_case
from autodiff.grading.diagnose import diagnose
from autodiff.grading.judge import Failure, judge
from autodiff.grading.loader import JACOBIAN_NAMES, LoadError, load_submission
from autodiff.grading.sandbox import FATAL, Sandbox


@dataclass
class FunctionResult:
    """The verdict on one function; ``case`` and ``failure`` are set when it failed."""

    name: str
    passed: bool
    cases_tried: int = 0
    case: Case | None = None
    failure: Failure | None = None
    expected: np.ndarray | None = None
    diagnosis: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class GradeReport:
    """Every function's verdict, or ``load_error`` when the file could not be run at all."""

    path: str
    functions: list[FunctionResult]
    seconds: float
    examples: int
    load_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.load_error is None and all(result.passed for result in self.functions)


class Grader:
    """Grades the functions of one loaded submission; ``deadline`` is a ``time.monotonic``."""

    def __init__(self, box: Sandbox, *, examples: int, seed: int, deadline: float):
        self.box, self.examples, self.seed, self.deadline = box, examples, seed, deadline
        self._oracle_cache: dict[bytes, tuple[dict, dict]] = {}

    def oracle(self, case: Case) -> tuple[dict, dict]:
        """Expected Jacobians and tolerances of ``case``, keyed by block, computed once."""
        key = case.key()
        if key not in self._oracle_cache:
            self._oracle_cache[key] = (oracle.expected_jacobians(case.params, case.x, case.y),
                                       oracle.tolerance(case.params, case.x, case.y))
        return self._oracle_cache[key]

    def check(self, name: str, case: Case) -> Failure | None:
        """Call ``name`` on ``case`` in the child and judge the answer."""
        expected, tolerance = self.oracle(case)
        remaining = max(self.deadline - time.monotonic(), 0.001)
        outcome = self.box.call(name, case.params, case.x, case.y, timeout=remaining)
        return judge(outcome, expected[name[2:]], tolerance[name[2:]])

    def grade_function(self, name: str) -> FunctionResult:
        result = FunctionResult(name, passed=False)
        if name in self.box.missing:
            result.failure = Failure("missing", f"{name} is not defined (or not a function)")
            return result
        if time.monotonic() >= self.deadline:
            result.failure = Failure("timeout", "not graded: the overall time limit was reached")
            return result
        # The worksheet's own case, and its shapes at saturation, are always tried.
        fixed = [(case, self.check(name, case)) for case in (worksheet_case(), saturated_case())]
        fixed_failures = [(case, failure) for case, failure in fixed if failure is not None]
        worksheet_failure = fixed[0][1]
        result.cases_tried = len(fixed)
        for case, failure in fixed_failures:
            if failure.kind in FATAL:
                return self._failed(result, case, failure)

        fatal: list[tuple[Case, Failure]] = []
        out_of_time = False

        def fails(case: Case) -> bool:
            nonlocal out_of_time
            if fatal:
                return True  # the search is over: let hypothesis finish at once
            if time.monotonic() >= self.deadline:
                out_of_time = True
                return False
            result.cases_tried += 1
            failure = self.check(name, case)
            if failure is not None and failure.kind in FATAL:
                fatal.append((case, failure))
            return failure is not None

        try:
            minimal = find(cases(), fails, settings=self._settings(),
                           random=random.Random(self.seed))
        except NoSuchExample:
            minimal = None
        if fatal:
            return self._failed(result, *fatal[0])
        if minimal is not None:
            failure = self.check(name, minimal)
            if failure is not None:
                result = self._failed(result, minimal, failure)
                if worksheet_failure is None:
                    result.notes.append(
                        "passes on the worksheet's own 1-6-7-2 network and 100 heart points: "
                        "a grader using only those would not see this mistake")
                return result
        if fixed_failures:
            return self._failed(result, *fixed_failures[0])
        if out_of_time:
            result.failure = Failure("timeout", "the overall time limit ended the check early")
            return result
        result.passed = True
        return result

    def _failed(self, result: FunctionResult, case: Case, failure: Failure) -> FunctionResult:
        result.case, result.failure = case, failure
        result.expected = self.oracle(case)[0][result.name[2:]]
        if failure.kind not in FATAL:
            result.diagnosis = diagnose(self, result.name, case, failure)
        return result

    def _settings(self) -> settings:
        # The seed, not the test profile, decides the cases: a grading is reproducible.
        return settings(max_examples=self.examples, database=None, deadline=None,
                        derandomize=False, suppress_health_check=list(HealthCheck),
                        verbosity=Verbosity.quiet)



def grade(path: str | Path, *, examples: int = 100, seed: int = 0, call_timeout: float = 5.0,
          total_timeout: float = 300.0, names=JACOBIAN_NAMES,
          progress: Callable[[str], None] | None = None) -> GradeReport:
    """Grade the submission at ``path``; ``examples`` drawn cases per function at most.

    A file that cannot be read or run gives a report with ``load_error`` set; it raises
    nothing for anything the submission does.
    """
    start = time.monotonic()
    deadline = start + total_timeout
    report = GradeReport(str(path), [], 0.0, examples)
    try:
        cells = load_submission(path)
        with Sandbox(cells, names, call_timeout=call_timeout,
                     load_timeout=min(30.0, total_timeout)) as box:
            box.load()
            grader = Grader(box, examples=examples, seed=seed, deadline=deadline)
            for name in names:
                report.functions.append(grader.grade_function(name))
                if progress is not None:
                    progress(name)
    except LoadError as error:
        report.load_error = str(error)
    report.seconds = time.monotonic() - start
    return report
