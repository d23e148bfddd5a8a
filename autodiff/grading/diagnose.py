"""Name the mistake behind a failing Jacobian, when its result is a known wrong formula.

The matching is ``autodiff.core.diagnose``'s (a sign, a factor, 1/N, a transpose … and their
combinations); this module adds the worksheet's candidates: the block's Jacobian computed
with one mistake a student makes (a σ' dropped or moved, a sum over the wrong axis …). A
diagnosis stands when it holds on the failing case and on fresh random cases of the same
widths (one with a different batch size, to tell "off by 2" from "missing 1/N" at N = 2).
Two behavioural checks complete it: passing at the worksheet's batch size N = 100, or at its
widths 6 and 7, while failing elsewhere. Diagnoses are ``(key, text)``.
"""

from __future__ import annotations

import numpy as np

from autodiff.core.diagnose import Candidate, match, scalar_slips
from autodiff.grading.cases import WORKSHEET_BATCH, WORKSHEET_WIDTHS, Case, random_case
from autodiff.grading.judge import Failure
from reference.activations import d_logistic, logistic
from reference.backprop import forward_trace

Diagnosis = tuple[str, str]


def _forward(case: Case) -> tuple[list, list]:
    """``a = [a0, a1, a2, a3]`` and ``z = [None, z1, z2, z3]`` (indexed by layer)."""
    z, a = forward_trace(list(case.params), case.x)
    return a, [None, *z]


def _deltas(case: Case, a: list, factor: dict) -> dict:
    """δ_k = ∂C/∂z_k · N for k = 3, 2, 1, with ``factor[k]`` standing for σ'(z_k)."""
    W = [None] + [W for W, _ in case.params]
    delta = {3: 2 * (a[3] - case.y) * factor[3]}
    for k in (2, 1):
        delta[k] = (W[k + 1].T @ delta[k + 1]) * factor[k]
    return delta


def candidates(block: str, case: Case, expected: np.ndarray):
    """Yield ``(key, text, value, scale)``: the block's Jacobian under one known mistake.

    The array-level slips (``autodiff.core.diagnose``) applied to ``expected``, then the
    worksheet's own: ``1/100`` for ``1/N`` and the chain-rule slips. ``scale`` bounds the
    candidate's size relative to the correct chain, for the tolerance.
    """
    for factor, slips in scalar_slips(case.batch):
        if len(slips) == 1:
            yield slips[0].key, slips[0].text, expected * factor, abs(factor)
    for candidate in _worksheet_candidates(block, case, expected):
        yield candidate.key, candidate.text, candidate.value, candidate.scale
    if block[0] == "W":
        yield "transposed", "transposed", expected.T, 1.0
    else:
        yield "flattened", "flattened", expected.ravel(), 1.0
    yield "zeros", "returns zeros", np.zeros_like(expected), 1.0


def _worksheet_candidates(block: str, case: Case, expected: np.ndarray) -> list[Candidate]:
    """The block's Jacobian under one slip of the chain rule, as the worksheet writes it."""
    kind, k = block[0], int(block[1])
    a, z = _forward(case)
    n = case.batch
    correct = {j: d_logistic(z[j]) for j in (1, 2, 3)}

    def finish(delta):
        if kind == "W":
            return delta[k] @ a[k - 1].T / n
        return delta[k].sum(axis=1, keepdims=True) / n

    found = [Candidate("only_worksheet_batch", "divides by 100, not by N: works only for the "
                       "worksheet's batch size", expected * n / WORKSHEET_BATCH,
                       n / WORKSHEET_BATCH)]
    for j in range(k, 4):
        for key, text, value in (
            ("sigma_prime_missing", f"σ'(z{j}) missing", np.ones_like(z[j])),
            ("sigma_prime_at_a", f"σ' evaluated at a{j} instead of z{j}", d_logistic(a[j])),
            ("sigma_instead", f"σ(z{j}) used where σ'(z{j}) belongs", logistic(z[j])),
            *(("sigma_prime_wrong_layer", f"σ' at the wrong layer: σ'(z{i}) where σ'(z{j}) "
               "belongs", correct[i]) for i in (1, 2, 3) if i != j
              and z[i].shape == z[j].shape),
            ("sigma_prime_twice", f"σ'(z{j}) applied twice", correct[j] ** 2),
        ):
            found.append(Candidate(key, text, finish(_deltas(case, a, {**correct, j: value}))))
    delta = _deltas(case, a, correct)[k]
    if kind == "W":
        if k > 1:
            found.append(Candidate("z_not_a", f"multiplies by z{k - 1} where a{k - 1} belongs",
                                   delta @ z[k - 1].T / n))
    else:
        found += [
            Candidate("sum_axis", "sums over axis 0 (the units) instead of axis 1 (the "
                      "examples)", delta.sum(axis=0) / n),
            Candidate("sum_all", "sums over every axis instead of over the examples only",
                      np.array(delta.sum() / n)),
            Candidate("no_sum", "does not sum over the examples", delta / n),
        ]
    return found


def matching(block: str, case: Case, expected: np.ndarray, tolerance: np.ndarray,
             got: np.ndarray) -> dict[str, str]:
    """The slips that turn ``expected`` into ``got`` (``autodiff.core.diagnose.match`` with
    the worksheet's candidates), as ``{key: text}``.

    A candidate's chain has factors no larger than the magnitudes behind ``tolerance``, so the
    same tolerance, times the candidate's scale, covers its rounding.
    """
    found = match(expected, got, tolerance, batch=case.batch,
                  candidates=_worksheet_candidates(block, case, expected))
    return dict(found)


def diagnose(grader, name: str, case: Case, failure: Failure) -> list[Diagnosis]:
    """The diagnoses of ``name`` failing on ``case``, confirmed on fresh random cases."""
    block = name[2:]
    expected, tolerance = grader.oracle(case)
    found = ({} if failure.got is None
             else matching(block, case, expected[block], tolerance[block], failure.got))
    n1, n2 = case.widths
    rng = np.random.default_rng(0)
    # Wider by one keeps equal widths equal, so a mistake seen only at equal widths shows.
    confirming = [random_case(n1, n2, case.batch, rng), random_case(n1, n2, case.batch, rng),
                  random_case(n1 + 1, n2 + 1, case.batch + 1, rng)]
    for other in confirming:
        if not found:
            break
        other_failure = grader.check(name, other)
        if other_failure is None or other_failure.got is None:
            continue  # no evidence either way
        exp, tol = grader.oracle(other)
        again = matching(block, other, exp[block], tol[block], other_failure.got)
        found = {key: text for key, text in found.items() if key in again}
    diagnoses = list(found.items())
    keys = set(found)
    if ("only_worksheet_batch" not in keys and case.batch != WORKSHEET_BATCH
            and grader.check(name, random_case(n1, n2, WORKSHEET_BATCH, rng)) is None):
        diagnoses.append(("only_worksheet_batch",
                          f"works only for the worksheet's batch size N={WORKSHEET_BATCH}"))
    if ((n1, n2) != WORKSHEET_WIDTHS
            and grader.check(name, random_case(*WORKSHEET_WIDTHS, case.batch, rng)) is None):
        diagnoses.append(("only_worksheet_widths", "works only for the worksheet's hidden "
                          f"widths {WORKSHEET_WIDTHS[0]} and {WORKSHEET_WIDTHS[1]}"))
    return diagnoses
