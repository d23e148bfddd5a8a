"""What teachers ask of an autograder: ``--hidden`` functions, Gradescope's top-level fields,
PrairieLearn's ``results.json``, and the similarity report (identical wrong answers)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from autodiff.cli import main
from autodiff.grading import gradebook, prairielearn, similarity
from autodiff.grading.grader import FunctionResult, GradeReport
from autodiff.grading.judge import Failure
from autodiff.grading.loader import JACOBIAN_NAMES

ZOO = Path(__file__).resolve().parents[1] / "submissions"
POINTS = {**dict.fromkeys(JACOBIAN_NAMES, 1.0), "J_W3": 2.0}
SANDBOX = {"full": True, "namespaces": True, "landlock_abi": 7, "held": [], "missing": []}


def _bob() -> GradeReport:
    functions = [FunctionResult(name, passed=True, cases_tried=5) for name in JACOBIAN_NAMES]
    functions[0] = FunctionResult("J_W3", passed=False, failure=Failure("value", "wrong values"),
                                  diagnosis=[("sign", "sign flipped")])
    return GradeReport("bob.py", functions, 2.5, 5, seed=42, sandbox=SANDBOX)


def test_hidden_functions_are_shown_in_gradescope_after_the_due_date():
    document = gradebook.gradescope_results(_bob(), JACOBIAN_NAMES, POINTS,
                                            hidden=frozenset({"J_W3", "J_b1"}))
    visibility = {test["name"]: test["visibility"] for test in document["tests"]}
    assert visibility == {**dict.fromkeys(JACOBIAN_NAMES, "visible"),
                          "J_W3": "after_due_date", "J_b1": "after_due_date"}
    assert document["output"] == "4 of 4 Jacobians pass. 2 more are shown after the due date."
    assert document["execution_time"] == 2.5 and document["score"] == 5
    assert document["extra_data"] == {"seed": 42, "sandbox": SANDBOX}


def test_prairielearn_results_follow_its_external_grader_format():
    document = prairielearn.results(_bob(), JACOBIAN_NAMES, POINTS)
    assert document["gradable"] is True and document["score"] == pytest.approx(5 / 7)
    assert document["message"] == "5 of 6 Jacobians pass."
    [w3] = [test for test in document["tests"] if test["name"] == "J_W3"]
    assert (w3["points"], w3["max_points"], w3["message"]) == (0.0, 2.0, "J_W3 fails")
    assert "diagnosis: sign flipped" in w3["output"]
    assert {tuple(sorted(test)) for test in document["tests"]} == {
        ("max_points", "message", "name", "output", "points")}
    hidden = prairielearn.results(_bob(), JACOBIAN_NAMES, POINTS, frozenset({"J_W3"}))
    assert hidden["tests"][0]["output"] == "" and "hidden" in hidden["tests"][0]["message"]
    unloaded = prairielearn.results(GradeReport("x.py", [], 0.1, 5, load_error="x.py: no such "
                                                "file"), JACOBIAN_NAMES, POINTS)
    assert unloaded["gradable"] is False and unloaded["score"] == 0.0


def test_cli_hidden_prairielearn_and_the_text_report(tmp_path, capsys):
    results = tmp_path / "results.json"
    argv = ["grade", str(ZOO / "mistakes_a.py"), "--only", "J_b3", "--only", "J_W1",
            "--examples", "5", "--seed", "0", "--hidden", "J_b3", "--prairielearn",
            str(results)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "J_b3  FAIL  (the details are shown after the due date)" in out
    assert "sign" not in out  # J_b3's diagnosis
    assert "J_W1  FAIL  wrong values" in out and "half the right value" in out  # shown
    document = json.loads(results.read_text())
    assert [test["name"] for test in document["tests"]] == ["J_b3", "J_W1"]
    assert document["score"] == 0.0 and document["gradable"] is True
    assert main([*argv[:-4], "--hidden", "J_X9"]) == 2
    assert "--hidden: 'J_X9' is not a graded function" in capsys.readouterr().err


def test_similarity_groups_identical_wrong_answers_only(tmp_path, capsys):
    klass = tmp_path / "class"
    klass.mkdir()
    for name, source in (("a1.py", "mistakes_a.py"), ("a2.py", "mistakes_a.py"),
                         ("b.py", "mistakes_b.py"), ("good1.py", "correct_mean.py"),
                         ("good2.py", "correct_mean.py")):
        shutil.copy(ZOO / source, klass / name)
    similar, grades = tmp_path / "similar.json", tmp_path / "grades.csv"
    assert main(["grade", str(klass), "--only", "J_b3", "--only", "J_W1", "--examples", "10",
                 "--seed", "0", "-j", "1", "--similar", str(similar), "--csv",
                 str(grades)]) == 1
    out = capsys.readouterr().out
    document = json.loads(similar.read_text())
    assert document["seed"] == 0 and "never a verdict" in document["note"]
    groups = [sorted(Path(file).name for file in group["files"])
              for group in document["groups"]]
    assert ["a1.py", "a2.py"] in groups
    assert not any("good1.py" in group or "good2.py" in group for group in groups)
    [pair] = [group for group in document["groups"]
              if sorted(Path(f).name for f in group["files"]) == ["a1.py", "a2.py"]]
    functions = {f["name"]: f for f in pair["functions"]}
    assert set(functions) == {"J_b3", "J_W1"}
    assert all(f["cases"] >= similarity.MIN_CASES for f in functions.values())
    assert "sign" in functions["J_b3"]["diagnoses"]
    assert "Identical wrong answers (a hint, not a verdict" in out
    assert len(list(csv.reader(grades.open()))) == 6


def test_similarity_needs_the_same_wrong_answers_on_the_same_cases():
    def report(path, answers):
        result = FunctionResult("J_b3", passed=False, failure=Failure("value", "x"),
                                wrong_answers=answers)
        return GradeReport(path, [result], 1.0, 5)

    same = {index: f"h{index}" for index in range(5)}
    reports = [report("p.py", same), report("q.py", dict(same)),
               report("r.py", {**same, 4: "other"}), report("s.py", {0: "h0", 1: "h1"}),
               report("t.py", {0: "h0", 1: "h1"})]
    assert similarity.groups(reports) == [
        {"files": ["p.py", "q.py"], "functions": [{"name": "J_b3", "cases": 5,
                                                    "diagnoses": []}]}]


def test_the_grader_judges_answers_not_derivations():
    """The README's policy: a complex-step derivative of the student's own cost is exact to
    rounding and passes; a central finite difference is close, not exact, and fails as an
    approximation on every function (not as a batch-size mistake: it passes at N = 100
    only because the tolerance is wider there)."""
    from autodiff.grading.session import Options, Session

    with Session(Options(examples=10, seed=0)) as session:
        exact = session.grade(ZOO / "gradebook" / "complex_step.py")
        approximate = session.grade(ZOO / "gradebook" / "finite_difference.py")
    assert exact.passed
    keys = {result.name: [key for key, _ in result.diagnosis]
            for result in approximate.functions}
    assert keys == {name: ["close_not_equal"] for name in JACOBIAN_NAMES}
