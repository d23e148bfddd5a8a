"""The grader's sharper diagnoses (issue 10, item 5), each on a planted submission in
``tests/submissions/diagnoses``: a wrong helper named with where it is wrong, σ' at the wrong
layer, the wrong activation, a weight not transposed at equal widths, σ' approximated, the
bias built like the weight, the argument ignored, two mistakes in one function, and a mistake
with no pattern. Each label is shown able to fail: no function gets a label planted for
another mistake (here or in the older sheets), and a right submission's helpers pass."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from autodiff.grading.cases import random_case
from autodiff.grading.confinement.isolation import strongest
from autodiff.grading.confinement.sandbox import Sandbox
from autodiff.grading.confinement.zygote_client import Zygote
from autodiff.grading.helpers import CallError, check_helpers, own_trace, sandbox_caller
from autodiff.grading.loader import JACOBIAN_NAMES, load_submission
from autodiff.grading.session import grade
from reference.activations import d_logistic, logistic

ZOO = Path(__file__).resolve().parents[1] / "submissions"
SHEETS = sorted(path.name for path in (ZOO / "diagnoses").glob("*.py"))
OLDER = ["mistakes_a.py", "mistakes_b.py", "mistakes_c.py"]
EXPECT = re.compile(r"^# expect (J_\w+): (.+)$", re.MULTILINE)
EXAMPLES = 10  # every planted mistake shows on the worksheet case or within a few draws


def expectations(path: Path) -> dict[str, set[str]]:
    """``# expect J_xx: key key …`` (``pass``: the function is right), first word of the older
    sheets' lines."""
    return {name: set(keys.split()) - {"hidden"} for name, keys in EXPECT.findall(
        path.read_text())}


def _labels() -> set[str]:
    """Every label planted anywhere in the zoo."""
    sheets = [ZOO / "diagnoses" / sheet for sheet in SHEETS] + [ZOO / sheet for sheet in OLDER]
    return set().union(*(keys for path in sheets for keys in expectations(path).values()))


def _graded(path: Path):
    """Grade the functions the sheet plants; assert none has a label planted for another."""
    expected = expectations(path)
    report = grade(path, examples=EXAMPLES, seed=0, names=tuple(expected))
    assert report.load_error is None
    others = _labels()
    for result in report.functions:
        keys = {key for key, _ in result.diagnosis}
        assert not keys & (others - expected[result.name]), (path.name, result.name, keys)
    return report, expected


def test_the_planted_sheets_cover_every_diagnosis_of_the_issue():
    planted = set().union(*(keys for sheet in SHEETS
                            for keys in expectations(ZOO / "diagnoses" / sheet).values()))
    assert planted >= {
        "wrong_sigma", "wrong_d_sigma", "wrong_network_function", "sigma_prime_wrong_layer",
        "wrong_activation", "ignores_x", "weight_not_transposed", "sigma_prime_approximated",
        "bias_like_weight", "unrecognised", "sign", "missing_1/N", "close_not_equal", "zeros",
        "constant_factor", "ignores_y", "worksheet_data"}


def _helper_texts(texts: set[str], sheet: str) -> None:
    """The wrong helper is named with its value and the right one."""
    if sheet == "helper_d_sigma.py":
        assert texts == {f"your d_sigma(0.5) returns {np.exp(-0.5) / (1 + np.exp(-0.5)):.3g}; "
                         f"σ'(0.5) = {d_logistic(0.5):.3g}"}
    elif sheet == "helper_sigma.py":
        assert texts == {f"your sigma(0.5) returns {logistic(-0.5):.3g}; "
                         f"σ(0.5) = {logistic(0.5):.3g}"}
    elif sheet == "helper_taylor.py":
        [taylor] = texts
        assert taylor.startswith("your d_sigma(0.5) returns 0.23438; σ'(0.5) = 0.235")
        assert "right near 0, wrong away from it" in taylor
    elif sheet == "helper_network_function.py":
        [stage] = texts
        assert stage.startswith("your network_function's z2 is wrong")
        assert "W2 @ a1 + b2" in stage


def _no_pattern(result) -> None:
    """A mistake with no pattern says so, with the ratio and difference of got to expected."""
    [(key, text)] = result.diagnosis
    got, expected = result.failure.got, result.expected
    assert key == "unrecognised" and text.startswith("no recognised pattern")
    assert f"got - expected is {np.max(got - expected):.3g}" in text
    ratio = got / expected
    assert f"from {ratio.min():.3g} to {ratio.max():.3g}" in text


@pytest.mark.parametrize("sheet", SHEETS)
def test_each_planted_mistake_gets_its_diagnoses_and_no_other_label(sheet):
    report, expected = _graded(ZOO / "diagnoses" / sheet)
    for result in report.functions:
        keys = {key for key, _ in result.diagnosis}
        if expected[result.name] == {"pass"}:
            assert result.passed and keys == set(), result.name
            continue
        assert not result.passed, result.name
        assert expected[result.name] <= keys, (result.name, result.diagnosis)
        if "unrecognised" in expected[result.name]:
            _no_pattern(result)
    if sheet.startswith("helper_"):
        _helper_texts({text for result in report.functions for _, text in result.diagnosis},
                      sheet)


# The text a student reads, not only the key, for the chain-rule mistakes.
TEXTS = {
    ("chain_a.py", "J_W1"): "σ' at the wrong layer: σ'(z2) where σ'(z1) belongs",
    ("chain_a.py", "J_W3"): "multiplies by a1 where a2 belongs",
    ("chain_a.py", "J_b2"): "W3 used where W3ᵀ belongs on the way down",
    ("chain_a.py", "J_b1"): "multiplied by x like the weight's gradient: ∂z1/∂b1 is 1, not x",
    ("chain_b.py", "J_W3"): "right when every z is near 0, wrong away from it",
    ("chain_b.py", "J_b3"): "right when every z is near 0, wrong away from it",
}


@pytest.mark.parametrize("sheet", ["chain_a.py", "chain_b.py"])
def test_the_chain_rule_diagnoses_say_what_is_wrong(sheet):
    names = tuple(name for planted, name in TEXTS if planted == sheet)
    report = grade(ZOO / "diagnoses" / sheet, examples=EXAMPLES, seed=0, names=names)
    texts = {result.name: [text for _, text in result.diagnosis] for result in report.functions}
    for name in names:
        assert any(text.startswith(TEXTS[sheet, name]) for text in texts[name]), (name, texts)
    if sheet == "chain_b.py":  # σ' approximated: asks whether by Taylor or a difference
        assert all(text.endswith("is σ' approximated, by a Taylor polynomial or a finite "
                                 "difference?") for text in texts["J_W3"] + texts["J_b3"])


@pytest.mark.parametrize("sheet", OLDER)
def test_the_older_sheets_get_none_of_the_new_labels(sheet):
    _graded(ZOO / sheet)


# The helpers' checks on their own, through a fake caller: quick, and each shown able to fail.

def _caller(sigma=logistic, d_sigma=d_logistic, stages=None):
    """A ``Caller`` as the sandbox's: ``network_function`` uses this ``sigma``."""

    def call(name, *arrays, params=None, item=None):
        if name == "sigma":
            return sigma(arrays[0])
        if name == "d_sigma":
            return d_sigma(arrays[0])
        values = [arrays[0]]
        for W, b in params:
            values += [W @ values[-1] + b]
            values += [sigma(values[-1])]
        values = stages(values) if stages else values
        return values[item] if item < len(values) else CallError("not_array", "6 values")

    return call


CASE = random_case(3, 4, 5, np.random.default_rng(1))


def test_right_helpers_pass_and_each_wrong_one_is_named_alone():
    assert check_helpers(_caller(), CASE.params, CASE.x) == []
    wrong = {
        "wrong_sigma": _caller(sigma=lambda z: logistic(-z)),
        "wrong_d_sigma": _caller(d_sigma=lambda z: z / 4),
        "wrong_network_function": _caller(stages=lambda v: [*v[:3], 2 * v[3], *v[4:]]),
    }
    for key, call in wrong.items():
        assert [d.key for d in check_helpers(call, CASE.params, CASE.x)] == [key]


def test_the_reported_point_is_a_readable_clearly_wrong_one():
    [found] = check_helpers(_caller(d_sigma=lambda z: z / 4), CASE.params, CASE.x)
    assert found.text == "your d_sigma(0.5) returns 0.125; σ'(0.5) = 0.235"
    # Off by 1e-9 relative everywhere: enough digits to see it, and called an approximation.
    [close] = check_helpers(_caller(d_sigma=lambda z: d_logistic(z) * (1 + 1e-9)), CASE.params,
                            CASE.x)
    assert "0.235003712" in close.text and "close, relative error 1e-09" in close.text


def test_network_function_errors_are_named():
    short = _caller(stages=lambda v: v[:6])
    [found] = check_helpers(short, CASE.params, CASE.x)
    assert found.key == "wrong_network_function" and "7 stages" in found.text


def test_sandbox_apply_calls_the_submissions_helpers():
    with Zygote() as zygote, Sandbox(zygote, strongest(zygote, allow_weak=False),
                                     load_submission(ZOO / "diagnoses" / "helper_d_sigma.py"),
                                     JACOBIAN_NAMES) as box:
        box.load()
        call = sandbox_caller(box)
        z = np.array([[0.0, 0.5]])
        np.testing.assert_array_equal(call("d_sigma", z), np.exp(-z) / (1 + np.exp(-z)))
        assert call("no_such_helper", z).status == "missing"
        assert call("network_function", CASE.x).status == "raised"  # no weights yet
        tuple_without_item = call("network_function", CASE.x, params=CASE.params)
        assert tuple_without_item.status == "not_array"
        forward = own_trace(call, CASE.params, CASE.x)
        np.testing.assert_array_equal(forward.slope[2], np.exp(-forward.z[2]) / (
            1 + np.exp(-forward.z[2])))
        assert call("network_function", CASE.x, params=CASE.params, item=7).status == (
            "not_array")
