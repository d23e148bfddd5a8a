"""The grader's parts on their own: the notebook loader and its magics, the oracle and its
derived tolerance (tight enough to fail a planted error, loose enough for correct formulas at
saturation), the judge's exact-shape rule and the diagnosis candidates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff.core import worksheet_oracle as oracle
from autodiff.grading.cases import Case, cases, random_case, saturated_case
from autodiff.grading.confinement.sandbox import Outcome
from autodiff.grading.confinement.worker import strip_magics
from autodiff.grading.diagnose import candidates, matching
from autodiff.grading.judge import judge
from autodiff.grading.loader import notebook_cells
from reference.backprop import gradients

ZOO = Path(__file__).resolve().parents[1] / "submissions"


def test_notebook_keeps_only_marked_cells_in_order():
    cells = notebook_cells((ZOO / "correct_notebook.ipynb").read_text(), "nb")
    assert [source.split("\n", 1)[0] for _, source in cells] == [
        "# PACKAGE", "# GRADED FUNCTION", "# GRADED FUNCTION", "# GRADED FUNCTION"]
    for _, source in cells:
        compile(strip_magics(source), "cell", "exec")  # the child neutralises the magics


def test_magics_become_pass_but_valid_python_is_untouched():
    broken = "y = (a\n     % b)\nz = a ! = b if False else 1\n"
    assert strip_magics("y = (a\n     % b)\n") == "y = (a\n     % b)\n"
    cleaned = strip_magics("%matplotlib inline\n!ls -l\nnp.sum?\nif True:\n    %time f()\nx = 1")
    assert cleaned.count("\n") == 5  # line numbers kept for error messages
    namespace: dict = {}
    exec(cleaned, namespace)
    assert namespace["x"] == 1
    with pytest.raises(SyntaxError):  # a real syntax error stays one
        compile(strip_magics(broken), "cell", "exec")


def test_cells_may_be_lists_of_lines_as_jupyter_saves_them():
    notebook = {"cells": [{"cell_type": "code", "source": ["# GRADED FUNCTION\n", "x = 1\n"]},
                          {"cell_type": "markdown", "source": "# GRADED FUNCTION"}]}
    assert [source for _, source in notebook_cells(json.dumps(notebook), "nb")] == [
        "# GRADED FUNCTION\nx = 1\n"]


def _blocks(params, x, y) -> dict[str, np.ndarray]:
    grads = gradients([(W, b) for W, b in params], x, y)
    return {f"{kind}{layer}": array for layer, pair in enumerate(grads, start=1)
            for kind, array in zip("Wb", pair, strict=True)}


@settings(max_examples=25, deadline=None)
@given(cases())
def test_oracle_agrees_with_hand_backprop_within_tolerance(case):
    expected = oracle.expected_jacobians(case.params, case.x, case.y)
    tolerance = oracle.tolerance(case.params, case.x, case.y)
    hand = _blocks(case.params, case.x, case.y)
    for block in oracle.BLOCKS:
        assert expected[block].shape == case_shape(case, block)
        assert np.all(np.abs(hand[block] - expected[block]) <= tolerance[block]), block


def case_shape(case: Case, block: str) -> tuple[int, int]:
    W, b = case.params[int(block[1]) - 1]
    return W.shape if block[0] == "W" else b.shape


def test_s_times_one_minus_s_passes_at_saturation():
    """σ' as s(1 - s) loses all relative accuracy where σ' ≈ 1e-40: the bound allows it."""
    case = saturated_case()
    a, z = [case.x], []
    for W, b in case.params:
        z.append(W @ a[-1] + b)
        a.append(1 / (1 + np.exp(-z[-1])))
    slope = [s * (1 - s) for s in a[1:]]
    assert np.mean(slope[1] < 1e-6) > 0.5  # the case does saturate
    (_, _), (W2, _), (W3, _) = case.params
    d3 = 2 * (a[3] - case.y) * slope[2]
    d2 = (W3.T @ d3) * slope[1]
    d1 = (W2.T @ d2) * slope[0]
    n = case.batch
    got = {"W3": d3 @ a[2].T / n, "W2": d2 @ a[1].T / n, "W1": d1 @ a[0].T / n,
           "b3": d3.sum(1, keepdims=True) / n, "b2": d2.sum(1, keepdims=True) / n,
           "b1": d1.sum(1, keepdims=True) / n}
    expected = oracle.expected_jacobians(case.params, case.x, case.y)
    tolerance = oracle.tolerance(case.params, case.x, case.y)
    for block in oracle.BLOCKS:
        assert judge(Outcome("value", value=got[block]), expected[block], tolerance[block]) is None


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(oracle.BLOCKS))
def test_a_relative_error_of_a_millionth_fails(seed, block):
    case = random_case(4, 3, 5, np.random.default_rng(seed))
    expected = oracle.expected_jacobians(case.params, case.x, case.y)[block]
    tolerance = oracle.tolerance(case.params, case.x, case.y)[block]
    got = expected.copy()
    index = np.unravel_index(np.argmax(np.abs(got)), got.shape)
    got[index] *= 1 + 1e-6
    failure = judge(Outcome("value", value=got), expected, tolerance)
    assert failure is not None and failure.kind == "value"
    assert failure.worst["index"] == list(index)


def test_shape_must_match_exactly_and_nan_is_caught():
    expected, tolerance = np.ones((3, 1)), np.full((3, 1), 1e-12)
    assert judge(Outcome("value", value=expected.ravel()), expected, tolerance).kind == "shape"
    assert judge(Outcome("value", value=expected.T), expected, tolerance).kind == "shape"
    with_nan = expected.copy()
    with_nan[1, 0] = np.nan
    assert judge(Outcome("value", value=with_nan), expected, tolerance).kind == "non_finite"
    assert judge(Outcome("raised", "ZeroDivisionError"), expected, tolerance).kind == "raised"
    assert judge(Outcome("value", value=expected.copy()), expected, tolerance) is None


@pytest.mark.parametrize("block", oracle.BLOCKS)
def test_every_candidate_recognises_itself_and_not_the_right_answer(block):
    case = random_case(3, 4, 5, np.random.default_rng(1))
    expected = oracle.expected_jacobians(case.params, case.x, case.y)[block]
    tolerance = oracle.tolerance(case.params, case.x, case.y)[block]
    assert matching(block, case, expected, tolerance, expected) == {}
    for key, _, value, _ in candidates(block, case, expected):
        got = np.broadcast_to(np.asarray(value), expected.shape) if np.size(value) == 1 else value
        assert key in matching(block, case, expected, tolerance, np.asarray(got)), key
    # A shape-only candidate needs its shape: the right values as a column are not "flattened".
    assert "flattened" not in matching(block, case, expected, tolerance, expected.ravel()[:, None])
