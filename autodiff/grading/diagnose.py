"""Name the mistake behind a failing Jacobian, when its result is a known wrong formula.

Each candidate is the block's Jacobian computed with one mistake a student makes (a sign, a
factor, a σ' dropped or moved, a sum over the wrong axis, a transpose …). A candidate is the
diagnosis when it equals the submission's result on the failing case and on fresh random
cases of the same widths (one with a different batch size, to tell "off by 2" from "missing
1/N" at N = 2). Two behavioural checks complete it: passing at the worksheet's batch size
N = 100, or at its widths 6 and 7, while failing elsewhere. Diagnoses are ``(key, text)``.
"""

from __future__ import annotations

import numpy as np

from autodiff.grading.cases import WORKSHEET_BATCH, WORKSHEET_WIDTHS, Case, random_case
from autodiff.grading.judge import Failure
from reference.activations import d_logistic, logistic
from reference.backprop import forward_trace

Diagnosis = tuple[str, str]
# Candidates with the right values in the wrong shape: they match only in their own shape.
SHAPE_ONLY = frozenset({"transposed", "flattened"})


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

    ``scale`` bounds the candidate's size relative to the correct chain, for the tolerance.
    """
    kind, k = block[0], int(block[1])
    a, z = _forward(case)
    n = case.batch
    correct = {j: d_logistic(z[j]) for j in (1, 2, 3)}

    def finish(delta):
        if kind == "W":
            return delta[k] @ a[k - 1].T / n
        return delta[k].sum(axis=1, keepdims=True) / n

    for key, text, factor in (
        ("sign", "sign flipped (a3 - y the wrong way round?)", -1.0),
        ("factor_2", "off by a factor 2: twice the Jacobian", 2.0),
        ("half", "off by a factor 2: half the Jacobian (the 2 of d(r²)/dr missing?)", 0.5),
        ("missing_1/N", "off by N: sums over the examples instead of averaging (1/N missing)",
         float(n)),
        ("double_1/N", "off by N: divides by the number of examples twice", 1 / n),
        ("only_worksheet_batch", "divides by 100, not by N: works only for the worksheet's "
         "batch size", n / WORKSHEET_BATCH),
    ):
        yield key, text, expected * factor, abs(factor)
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
            yield key, text, finish(_deltas(case, a, {**correct, j: value})), 1.0
    delta = _deltas(case, a, correct)[k]
    if kind == "W":
        yield ("transposed", f"transposed: J_W{k} must have W{k}'s shape (n_out, n_in)",
               expected.T, 1.0)
        if k > 1:
            yield ("z_not_a", f"multiplies by z{k - 1} where a{k - 1} belongs",
                   delta @ z[k - 1].T / n, 1.0)
    else:
        yield ("flattened", f"returns a flat array: keep b{k}'s column shape (n, 1) "
               "(keepdims=True)", expected.ravel(), 1.0)
        yield ("sum_axis", "sums over axis 0 (the units) instead of axis 1 (the examples)",
               delta.sum(axis=0) / n, 1.0)
        yield ("sum_all", "sums over every axis instead of over the examples only",
               np.array(delta.sum() / n), 1.0)
        yield ("no_sum", "does not sum over the examples", delta / n, 1.0)
    yield "zeros", "returns zeros", np.zeros_like(expected), 1.0


def matching(block: str, case: Case, expected: np.ndarray, tolerance: np.ndarray,
             got: np.ndarray) -> dict[str, str]:
    """The candidates equal to ``got`` (same values, in any shape of the same size, except
    for the ``SHAPE_ONLY`` ones).

    A candidate's chain has factors no larger than the magnitudes behind ``tolerance``, so the
    same tolerance, times the candidate's scale, covers its rounding.
    """
    found = {}
    limit = float(tolerance.max())
    for key, text, value, scale in candidates(block, case, expected):
        value = np.asarray(value)
        if value.size == 1 and got.size > 1:
            value = np.broadcast_to(value.reshape(()), got.shape)
        if value.size != got.size or (key in SHAPE_ONLY and value.shape != got.shape):
            continue
        if np.all(np.abs(got.ravel() - value.ravel()) <= limit * max(1.0, scale)):
            found.setdefault(key, text)
    return found


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
