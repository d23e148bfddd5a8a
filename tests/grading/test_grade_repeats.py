"""The grader's second call of an input: a different answer is ``nondeterministic``, but a
call that a time limit cut short gave no answer at all, so it never makes a function that
answers the same way twice nondeterministic (a teacher's --timeout running out in the final
repeat once did)."""

from __future__ import annotations

import numpy as np

from autodiff.grading.casebook import CaseBook
from autodiff.grading.confinement.sandbox import Outcome
from autodiff.grading.grader import Grader

NAMES = ("J_W3",)


class Box:
    """Stands in for the sandbox: ``J_W3`` answers ones of the right shape (wrong values)
    the first time it sees an input; a second call of an input answers as ``again`` says."""

    def __init__(self, again):
        self.again, self.missing, self.cases, self.seen = again, [], [], set()

    def add_cases(self, cases):
        start = len(self.cases)
        self.cases += cases
        return list(range(start, len(self.cases)))

    def run(self, pairs, deadline):
        return [self._answer(self.cases[index]) for _, index in pairs]

    def call(self, name, params, x, y, timeout=None):
        (W1, b1), (W2, b2), (W3, b3) = params
        return self._answer([W1, b1, W2, b2, W3, b3, x, y])

    def apply(self, *args, **kwargs):
        return Outcome("raised", "no helpers here")

    def _answer(self, arrays):
        key = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
        W3 = arrays[4]
        if key in self.seen:
            if self.again == "timeout":
                return Outcome("timeout", "the overall time limit ended this call")
            if self.again == "different":
                return Outcome("value", value=np.full(W3.shape, 2.0), dtype="float64")
        self.seen.add(key)
        return Outcome("value", value=np.ones(W3.shape), dtype="float64")


def grade(again):
    book = CaseBook(seed=3, examples=5)
    (result,) = Grader(Box(again), book, deadline=float("inf")).grade(NAMES)
    return result


def test_a_repeat_cut_short_by_a_limit_is_not_a_second_answer():
    result = grade("timeout")
    assert not result.passed and result.failure.kind == "value", result.failure


def test_a_different_second_answer_is_nondeterministic():
    result = grade("different")
    assert result.failure.kind == "nondeterministic", result.failure
    assert np.all(result.failure.first == 1.0) and np.all(result.failure.got == 2.0)


def test_the_same_second_answer_is_judged_once():
    assert grade("same").failure.kind == "value"
