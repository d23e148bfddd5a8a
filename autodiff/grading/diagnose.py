"""Name the mistake behind a failing Jacobian, as precisely as the evidence allows.

1. **Known formulas.** ``autodiff.core.diagnose`` matches the result against the right
   Jacobian under array-level slips (sign, 2, ½, N, 1/N, a transpose … and their
   combinations) and against ``worksheet_candidates``: the chain-rule slips of
   ``autodiff.core.slips`` and dividing by the worksheet's 100. When a helper of the
   submission is wrong (``grading.helpers``), the right formula computed through the
   submission's own helpers is one more candidate: if it matches, the helper is the mistake.
2. **Confirmation.** The function is called on fresh random cases of the same widths, wider by
   one, and with batches N + 1 and N + 2; a diagnosis stands when it matched on some case and
   on every case where it could show (``visible_keys``: a 1/N cannot show at N = 1).
3. **Behaviour.** Passing at the worksheet's batch size or widths only; and, when nothing else
   is recognised, ``grading.behaviours`` (an argument ignored, σ' approximated), else a
   diagnosis that says no pattern was recognised, with the ratio and difference.

Wrong helpers are named on every failing function. Diagnoses are ``(key, text)`` pairs.
"""

from __future__ import annotations

import time
import weakref

import numpy as np

from autodiff.core import slips
from autodiff.core.diagnose import (
    Candidate,
    Diagnosis,
    match,
    scalar_slips,
    unrecognised,
    visible_keys,
)
from autodiff.grading import behaviours, helpers
from autodiff.grading.cases import WORKSHEET_BATCH, WORKSHEET_WIDTHS, Case, random_case
from autodiff.grading.judge import Failure

# The candidate "the right formula through the submission's own helpers": when it matches,
# the diagnosis is the wrong helper (reported once per function, not as a chain slip).
OWN_HELPERS = "own_helpers"
_HELPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
OTHER_WIDTHS = (3, 5)


def worksheet_candidates(block: str, case: Case, expected: np.ndarray) -> list[Candidate]:
    """The block's Jacobian under each chain-rule slip (``autodiff.core.slips``), and under
    the worksheet's own: dividing by its 100 examples instead of by N."""
    return [Candidate("only_worksheet_batch", "divides by 100, not by N: works only for the "
                      "worksheet's batch size", expected * case.batch / WORKSHEET_BATCH,
                      case.batch / WORKSHEET_BATCH),
            *slips.candidates(case.params, case.x, case.y, block)]


def candidates(block: str, case: Case, expected: np.ndarray):
    """Yield ``(key, text, value, scale)`` for every single mistake ``matching`` knows: the
    array-level slips (``autodiff.core.diagnose``), then ``worksheet_candidates``."""
    for factor, found in scalar_slips(case.batch):
        if len(found) == 1:
            yield found[0].key, found[0].text, expected * factor, abs(factor)
    for candidate in worksheet_candidates(block, case, expected):
        yield candidate.key, candidate.text, candidate.value, candidate.scale
    if block[0] == "W":
        yield "transposed", "transposed", expected.T, 1.0
    else:
        yield "flattened", "flattened", expected.ravel(), 1.0
    yield "zeros", "returns zeros", np.zeros_like(expected), 1.0


def matching(block: str, case: Case, expected: np.ndarray, tolerance: np.ndarray,
             got: np.ndarray, extra=()) -> dict[str, str]:
    """The slips that turn ``expected`` into ``got`` (``autodiff.core.diagnose.match`` with
    ``worksheet_candidates`` and ``extra``), as ``{key: text}``.

    A candidate's chain has factors no larger than the magnitudes behind ``tolerance``, so the
    same tolerance, times the candidate's scale, covers its rounding.
    """
    found = match(expected, got, tolerance, batch=case.batch,
                  candidates=[*worksheet_candidates(block, case, expected), *extra])
    return dict(found)


def _wrong_helpers(grader) -> list[Diagnosis]:
    """The submission's wrong helpers (``grading.helpers``), tested once per grading."""
    if grader not in _HELPERS:
        case = random_case(3, 4, 5, np.random.default_rng(1))
        _HELPERS[grader] = helpers.check_helpers(_caller(grader), case.params, case.x)
    return _HELPERS[grader]


def _caller(grader) -> helpers.Caller:
    return helpers.sandbox_caller(grader.box, max(grader.deadline - time.monotonic(), 0.001))


def _own_helpers(grader, block: str, case: Case) -> list[Candidate]:
    """The block's right formula computed with the submission's own (wrong) helpers."""
    forward = helpers.own_trace(_caller(grader), case.params, case.x)
    if forward is None:
        return []
    return [Candidate(OWN_HELPERS, "", slips.block_gradient(forward, case.y, block))]


def _evidence(grader, name: str, case: Case, got, wrong_helpers) -> tuple[dict, set]:
    """What ``got`` on ``case`` says: the matching slips ``{key: text}``, and the keys that
    could have shown there (``autodiff.core.diagnose.visible_keys``)."""
    block = name[2:]
    expected, tolerance = grader.oracle(case)
    found = [*worksheet_candidates(block, case, expected[block]),
             *(_own_helpers(grader, block, case) if wrong_helpers else [])]
    args = (expected[block], got, tolerance[block])
    return (dict(match(*args, batch=case.batch, candidates=found)),
            visible_keys(*args, batch=case.batch, candidates=found))


def _confirmed(evidence: list[tuple[dict, set]]) -> dict[str, str]:
    """The keys found on some case and found on every case where they could show."""
    named: dict[str, str] = {}
    for found, _ in evidence:
        for key, text in found.items():
            named.setdefault(key, text)
    return {key: text for key, text in named.items()
            if all(key in found or key not in visible for found, visible in evidence)}


def diagnose(grader, name: str, case: Case, failure: Failure) -> list[Diagnosis]:
    """The diagnoses of ``name`` failing on ``case``, confirmed on fresh random cases; when
    none is recognised, one that says so and shows the ratio and difference."""
    wrong_helpers = _wrong_helpers(grader)
    n1, n2 = case.widths
    rng = np.random.default_rng(0)
    # Wider by one keeps equal widths equal, so a mistake seen only at equal widths shows;
    # batches N + 1 and N + 2 show a 1/N hidden at N = 1 and tell it from a 2 at N = 2.
    confirming = [random_case(n1, n2, case.batch, rng), random_case(n1, n2, case.batch, rng),
                  random_case(n1 + 1, n2 + 1, case.batch + 1, rng),
                  random_case(n1 + 1, n2 + 1, case.batch + 2, rng)]
    evidence = []
    if failure.got is not None:
        evidence.append(_evidence(grader, name, case, failure.got, wrong_helpers))
    else:  # it raised here: look for cases where it returns a value (equal widths first)
        width = max(n1, n2, 2)
        confirming.insert(0, random_case(width, width, case.batch, rng))
    for other in confirming:
        other_failure = grader.check(name, other)
        if other_failure is None or other_failure.got is None:
            continue  # no evidence either way
        evidence.append(_evidence(grader, name, other, other_failure.got, wrong_helpers))
    found = _confirmed(evidence)
    diagnoses = [Diagnosis(key, text) for key, text in found.items() if key != OWN_HELPERS]
    keys = set(found)
    # An answer this close everywhere is an approximation (a finite difference): that it
    # passes at the worksheet's batch or widths, where the tolerance is wider, says nothing.
    close = behaviours.close(grader.oracle(case)[0][name[2:]], failure.got)
    if (not close and "only_worksheet_batch" not in keys and case.batch != WORKSHEET_BATCH
            and grader.check(name, random_case(n1, n2, WORKSHEET_BATCH, rng)) is None):
        diagnoses.append(Diagnosis("only_worksheet_batch", "works only for the worksheet's "
                                   f"batch size N={WORKSHEET_BATCH}"))
    # "Only the worksheet's widths" if it also fails at other unequal widths: a mistake seen
    # only at equal widths passes at 6 and 7 as well as at 3 and 5.
    if (not close and (n1, n2) != WORKSHEET_WIDTHS
            and grader.check(name, random_case(*WORKSHEET_WIDTHS, case.batch, rng)) is None
            and grader.check(name, random_case(*OTHER_WIDTHS, case.batch, rng)) is not None):
        diagnoses.append(Diagnosis("only_worksheet_widths", "works only for the worksheet's "
                                   f"hidden widths {WORKSHEET_WIDTHS[0]} and "
                                   f"{WORKSHEET_WIDTHS[1]}"))
    if diagnoses or OWN_HELPERS in keys or failure.got is None:
        return [*wrong_helpers, *diagnoses]
    return [*wrong_helpers, *(behaviours.diagnose(grader, name, case, failure, rng)
                              or [unrecognised(grader.oracle(case)[0][name[2:]], failure.got)])]
