"""``backprop grade`` on the zoo in ``tests/submissions``: correct solutions written in many
ways must pass (saturating weights included), every planted mistake must fail in the right
function with the right diagnosis, including mistakes the worksheet's own case hides."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from autodiff.cli import main
from autodiff.grading.cases import worksheet_case
from autodiff.grading.confinement.sandbox import Sandbox
from autodiff.grading.grader import Grader
from autodiff.grading.loader import JACOBIAN_NAMES, load_submission, support_source
from autodiff.grading.report import reproduction, to_text
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
CORRECT = ["correct_worksheet.py", "correct_einsum.py", "correct_mean.py", "correct_loops.py",
           "correct_notebook.ipynb"]
SHEETS = ["mistakes_a.py", "mistakes_b.py", "mistakes_c.py"]
EXAMPLES = 30
EXPECT = re.compile(r"^# expect (J_\w+): (\S+)( hidden)?$", re.MULTILINE)


def expectations(path: Path) -> dict[str, tuple[str, bool]]:
    """The ``# expect J_xx: key [hidden]`` lines of a zoo file."""
    return {name: (key, bool(hidden)) for name, key, hidden in EXPECT.findall(path.read_text())}


@pytest.fixture(scope="module")
def session():
    with Session(Options(examples=EXAMPLES, seed=0)) as session:
        yield session


@pytest.fixture(scope="module")
def sheet_reports(session):
    return {sheet: session.grade(ZOO / sheet) for sheet in SHEETS}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_submissions_pass_every_function(name, session):
    report = session.grade(ZOO / name)
    assert report.load_error is None
    assert {r.name: r.failure.reason for r in report.functions if not r.passed} == {}
    # Worksheet case, saturated case, then every drawn case: the search really ran.
    assert [r.cases_tried for r in report.functions] == [EXAMPLES + 2] * 6
    assert report.passed


def test_the_zoo_plants_at_least_fifteen_distinct_diagnosed_mistakes():
    planted = {expectations(ZOO / sheet)[name] for sheet in SHEETS for name in JACOBIAN_NAMES}
    assert len(planted) >= 15


@pytest.mark.parametrize("sheet", SHEETS)
def test_each_planted_mistake_fails_in_its_function_with_its_diagnosis(sheet, sheet_reports):
    report = sheet_reports[sheet]
    expected = expectations(ZOO / sheet)
    assert [r.name for r in report.functions] == list(JACOBIAN_NAMES)
    for result in report.functions:
        key, _ = expected[result.name]
        assert not result.passed, result.name
        assert key in [k for k, _ in result.diagnosis], (result.name, result.diagnosis)
        assert f"{result.name}  FAIL" in to_text(report)


@pytest.mark.parametrize("sheet", SHEETS)
def test_mistakes_the_worksheet_case_hides_pass_there_and_are_flagged(sheet, sheet_reports,
                                                                     session):
    hidden = [name for name, (_, is_hidden) in expectations(ZOO / sheet).items() if is_hidden]
    with Sandbox(session.zygote, session.isolation, load_submission(ZOO / sheet),
                 JACOBIAN_NAMES) as box:
        box.load()
        grader = Grader(box, session.book, deadline=float("inf"))
        on_worksheet = {name: grader.check(name, worksheet_case()) for name in JACOBIAN_NAMES}
    for name in JACOBIAN_NAMES:
        result = next(r for r in sheet_reports[sheet].functions if r.name == name)
        flagged = any("worksheet's own" in note for note in result.notes)
        assert (on_worksheet[name] is None) == (name in hidden) == flagged, name


def test_shrinking_reaches_the_smallest_revealing_case(sheet_reports):
    functions = {(sheet, r.name): r for sheet, report in sheet_reports.items()
                 for r in report.functions}
    sign = functions["mistakes_a.py", "J_b3"].case
    assert (sign.widths, sign.batch) == ((1, 1), 1)
    # 1/N missing is invisible with one example; the transpose "fixed" by shape needs a
    # square W2 larger than 1 x 1.
    assert functions["mistakes_b.py", "J_b3"].case.batch == 2
    assert functions["mistakes_b.py", "J_W2"].case.widths == (2, 2)


def test_worst_element_shows_expected_and_got(sheet_reports):
    result = sheet_reports["mistakes_a.py"].functions[1]  # J_b3, the sign flip
    worst = result.failure.worst
    assert worst["got"] == pytest.approx(-worst["expected"])
    assert worst["error"] > worst["tolerance"]


@pytest.mark.parametrize("sheet", SHEETS)
def test_reproductions_run_and_reproduce_the_failure(sheet, sheet_reports):
    cells = load_submission(ZOO / sheet)
    for result in sheet_reports[sheet].functions:
        namespace: dict = {}
        exec(support_source(), namespace)
        for label, source in cells:
            exec(compile(source, label, "exec"), namespace)
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(reproduction(result), namespace)
                got = namespace[result.name](namespace["x"], namespace["y"])
            except ValueError:  # the reshape(7, 1) mistake raises at these widths
                assert result.failure.kind == "raised"
                continue
        np.testing.assert_array_equal(np.asarray(got).reshape(result.failure.got.shape),
                                      result.failure.got)


def test_cli_json_exit_codes_and_text(capsys):
    assert main(["grade", str(ZOO / "correct_mean.py"), "--json", "--examples", "5",
                 "--seed", "0"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["passed"] and [f["verdict"] for f in document["functions"]] == ["PASS"] * 6

    assert main(["grade", str(ZOO / "mistakes_c.py"), "--only", "J_W1", "--examples", "5",
                 "--seed", "0"]) == 1
    text = capsys.readouterr().out
    assert "J_W1  FAIL" in text and "diagnosis: off by a factor 2" in text
    assert "J_b1" not in text

    assert main(["grade", str(ZOO / "mistakes_c.py"), "--only", "J_W1", "--json",
                 "--seed", "0"]) == 1
    function = json.loads(capsys.readouterr().out)["functions"][0]
    assert function["verdict"] == "FAIL" and function["diagnosis"][0]["key"] == "factor_2"
    assert function["case"]["widths"] == [1, 1, 1, 2] and "print(J_W1(x, y))" in (
        function["reproduction"])
    assert "It replaces your network's W1 ... b3, x and y" in function["reproduction"]

    assert main(["grade", str(ZOO / "correct_mean.py"), "--only", "J_b3", "--examples", "2",
                 "--seed", "0"]) == 0
    assert "1 of 1 function passes" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--only", "J_b4"], ["--examples", "0"]])
def test_cli_rejects_bad_options(argv, capsys):
    assert main(["grade", str(ZOO / "correct_mean.py"), *argv]) == 2
    assert "backprop grade: error:" in capsys.readouterr().err
