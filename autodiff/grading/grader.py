"""Grade a submission: every function on every case in one batch, then shrink each failure.

The sandbox runs each of ``J_W3 … J_b1`` on the run's cases (``casebook``: the worksheet's own
1-6-7-2 network and heart, its saturated twin, then hypothesis' drawn cases) in one batch,
and again on two of them at the end: a function that answers the same input differently
fails as ``nondeterministic``, with both answers. A function whose drawn cases all pass and
whose fixed cases pass, passes. Otherwise hypothesis' search is replayed with the run's seed,
answered from the batch, and shrinks the first failing case to the smallest; a call that hung
or lost the child ends the search at once, and its case is the verdict's. Failures are then
diagnosed (``diagnose``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
from hypothesis.errors import Flaky, NoSuchExample

from autodiff.core.diagnose import Diagnosis
from autodiff.grading.casebook import CaseBook, search
from autodiff.grading.cases import Case
from autodiff.grading.cases import cases as drawn_cases
from autodiff.grading.confinement.sandbox import FATAL, Outcome, Sandbox
from autodiff.grading.diagnose import diagnose
from autodiff.grading.escape import escaped
from autodiff.grading.judge import Failure, judge, nondeterministic


@dataclass
class FunctionResult:
    """The verdict on one function; ``case`` and ``failure`` are set when it failed."""

    name: str
    passed: bool
    cases_tried: int = 0
    case: Case | None = None
    failure: Failure | None = None
    expected: np.ndarray | None = None
    diagnosis: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Case index in the run's batch -> fingerprint of a wrong array answered there
    # (``fingerprint``), for the similarity report: the same for every submission of a run.
    wrong_answers: dict[int, str] = field(default_factory=dict)


@dataclass
class GradeReport:
    """Every function's verdict, or ``load_error`` when the file could not be run at all.

    ``seed`` reproduces the drawn cases (``--seed``); ``sandbox`` says which protections held;
    ``load_hung`` that loading did not finish in time (the submission hung at load).
    """

    path: str
    functions: list[FunctionResult]
    seconds: float
    examples: int
    load_error: str | None = None
    seed: int | None = None
    sandbox: dict | None = None
    load_hung: bool = False

    @property
    def passed(self) -> bool:
        return self.load_error is None and all(result.passed for result in self.functions)


class Grader:
    """Grades the functions of one loaded submission; ``deadline`` is a ``time.monotonic``."""

    def __init__(self, box: Sandbox, book: CaseBook, *, deadline: float):
        self.box, self.book, self.deadline = box, book, deadline
        # Cases called again at the end of the batch: the worksheet's own, the first drawn.
        self.repeats = [0, len(book.fixed)] if book.drawn else [0]
        self._answers: dict[tuple[str, bytes], tuple[Outcome, Failure | None]] = {}
        self._index: dict[bytes, int] = {}

    def oracle(self, case: Case) -> tuple[dict, dict]:
        return self.book.oracle(case)

    def check(self, name: str, case: Case) -> Failure | None:
        """Call ``name`` on ``case`` in the child and judge the answer; an input it was
        called on before must give the same answer, or the failure is ``nondeterministic``."""
        remaining = max(self.deadline - time.monotonic(), 0.001)
        outcome = self.box.call(name, case.params, case.x, case.y, timeout=remaining)
        return self._record(name, case, outcome)

    def grade(self, names, progress=None) -> list[FunctionResult]:
        """Every function's verdict, in the order of ``names``."""
        cases = self.book.cases
        indices = self.box.add_cases([[*self._arrays(case)] for case in cases])
        repeats = self.repeats
        graded = [name for name in names if name not in self.box.missing]
        pairs = [(name, indices[i]) for name in graded for i in range(len(cases))]
        pairs += [(name, indices[i]) for name in graded for i in repeats]
        outcomes = self.box.run(pairs, self.deadline)
        first, again = outcomes[: len(graded) * len(cases)], outcomes[len(graded) * len(cases):]
        results = []
        for name in names:
            if name in graded:
                k = graded.index(name)
                result = self._verdict(name, first[k * len(cases):(k + 1) * len(cases)],
                                       again[k * len(repeats):(k + 1) * len(repeats)])
            else:
                result = FunctionResult(name, passed=False, failure=Failure(
                    "missing", f"{name} is not defined (or not a function)"))
            result.wrong_answers = self._wrong_answers(name)
            results.append(result)
            if progress is not None:
                progress(name)
        return results

    def _verdict(self, name: str, answered, repeated) -> FunctionResult:
        result = FunctionResult(name, passed=False)
        cases = self.book.cases
        failures = []
        for case, outcome in zip(cases, answered, strict=True):
            if outcome is None:
                break
            failure = self._record(name, case, outcome)
            failures.append((case, failure))
            if failure is not None and failure.kind in FATAL:
                result.cases_tried = len(failures)
                return self._failed(result, case, failure)
        result.cases_tried = len(failures)
        for index, outcome in zip(self.repeats, repeated, strict=True):
            if outcome is not None and index < len(failures):
                failure = self._record(name, cases[index], outcome)
                if failure is not None and failure.kind in (*FATAL, "nondeterministic"):
                    return self._failed(result, cases[index], failure)
        fixed = failures[: len(self.book.fixed)]
        drawn = failures[len(self.book.fixed):]
        if any(failure is not None for _, failure in drawn):
            searched = self._search(result, {case.key: f for case, f in drawn})
            if searched is not None:
                return searched
        for case, failure in fixed:
            if failure is not None:
                return self._failed(result, case, failure)
        if len(failures) < len(cases):
            result.failure = Failure("timeout", "the overall time limit ended the check early")
            return result
        result.passed = True
        return result

    def _wrong_answers(self, name: str) -> dict[int, str]:
        """The fingerprints of the wrong arrays ``name`` answered on the batch's cases."""
        found = {}
        for index, case in enumerate(self.book.cases):
            outcome, failure = self._answers.get((name, case.key), (None, None))
            if failure is not None and outcome.status == "value":
                found[index] = fingerprint(outcome.value)
        return found

    def _search(self, result: FunctionResult, known: dict) -> FunctionResult | None:
        """Replay hypothesis' search from the batch's answers and shrink the first failure."""
        name, stop = result.name, []

        def fails(case: Case) -> bool:
            if stop:
                return True  # the search is over: let hypothesis finish at once
            key = case.key
            if key not in known:
                if time.monotonic() >= self.deadline:
                    return False
                result.cases_tried += 1
                known[key] = self.check(name, case)
            failure = known[key]
            if failure is not None and failure.kind in (*FATAL, "nondeterministic"):
                stop.append((case, failure))
            return failure is not None

        try:
            minimal = search(drawn_cases(), fails, self.book.seed, self.book.examples)
        except (NoSuchExample, Flaky):
            minimal = None
        if stop:
            return self._failed(result, *stop[0])
        if minimal is None:
            return None
        # Once more, time allowing: the same answer, or the verdict is nondeterministic.
        again = self.check(name, minimal) if time.monotonic() < self.deadline else None
        result = self._failed(result, minimal, again or known[minimal.key])
        worksheet = self._answers.get((name, self.book.fixed[0].key))
        if worksheet is not None and worksheet[1] is None:
            result.notes.append(
                "passes on the worksheet's own 1-6-7-2 network and 100 heart points: "
                "a grader using only those would not see this mistake")
        return result

    def _record(self, name: str, case: Case, outcome: Outcome) -> Failure | None:
        expected, tolerance = self.oracle(case)
        block = name[2:]
        failure = judge(outcome, expected[block], tolerance[block])
        key = (name, case.key)
        if key in self._answers:
            first, first_failure = self._answers[key]
            if outcome.status == "timeout" and first.status != "timeout":
                return first_failure  # a call cut short by a limit gave no second answer
            if (first_failure is not None or failure is not None) and not _same(first, outcome):
                return nondeterministic(first, outcome, expected[block], tolerance[block])
        else:
            self._answers[key] = (outcome, failure)
        return failure

    def _failed(self, result: FunctionResult, case: Case, failure: Failure) -> FunctionResult:
        result.case, result.failure = case, failure
        result.expected = self.oracle(case)[0][result.name[2:]]
        if failure.kind not in (*FATAL, "nondeterministic", "integrity"):
            try:
                result.diagnosis = diagnose(self, result.name, case, failure)
            except Exception as error:  # a bug of ours: the verdict stands, undiagnosed
                result.diagnosis = [Diagnosis(
                    "not_diagnosed", "the grader could not diagnose this failure (internal "
                    f"error: {type(error).__name__}: {escaped(str(error), 300)})")]
        return result

    @staticmethod
    def _arrays(case: Case):
        (W1, b1), (W2, b2), (W3, b3) = case.params
        return W1, b1, W2, b2, W3, b3, case.x, case.y


def fingerprint(value: np.ndarray) -> str:
    """A short hash of an answer's shape and float64 bytes: equal answers, equal prints."""
    digest = hashlib.blake2b(str(value.shape).encode(), digest_size=12)
    digest.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _same(first: Outcome, second: Outcome) -> bool:
    if first.status != second.status:
        return False
    if first.status != "value":
        return True
    return (first.value.shape == second.value.shape
            and np.array_equal(first.value, second.value, equal_nan=True))
