"""Gradebook output (``--csv``, ``--gradescope``, ``--points``) and the class summary, on
hand-made reports (quick, every field checked) and once end to end through the CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from autodiff.cli import main
from autodiff.grading import gradebook, summary
from autodiff.grading.grader import FunctionResult, GradeReport
from autodiff.grading.judge import Failure
from autodiff.grading.loader import JACOBIAN_NAMES

ZOO = Path(__file__).resolve().parents[1] / "submissions"
POINTS = dict.fromkeys(JACOBIAN_NAMES, 1.0)


def _result(name, *diagnosis, kind="value", notes=()):
    if not diagnosis and kind == "value":
        return FunctionResult(name, passed=True, cases_tried=7)
    return FunctionResult(name, passed=False, failure=Failure(kind, f"{kind} reason"),
                          diagnosis=list(diagnosis), notes=list(notes))


def _report(path, failing: dict, load_error=None):
    functions = [] if load_error else [failing.get(name) or _result(name)
                                       for name in JACOBIAN_NAMES]
    return GradeReport(path, functions, 1.25, 10, load_error)


SIGN = ("sign", "sign flipped")
HALF = ("half", "half the right value")
CLASS = [
    _report("alice.py", {}),
    _report("bob.py", {"J_b3": _result("J_b3", SIGN, ("missing_1/N", "1/N missing")),
                       "J_W1": _result("J_W1", HALF)}),
    _report("carol.ipynb", {"J_b3": _result("J_b3", SIGN),
                            "J_W3": _result("J_W3", kind="timeout"),
                            "J_b2": _result("J_b2", ("only_worksheet_widths", "6 and 7 only"),
                                            notes=["passes on the worksheet's own case"])}),
    _report("dave.py", {}, load_error="SyntaxError: invalid syntax (dave.py, line 3)\x1b[2J"),
]


def test_points_default_number_and_per_function():
    assert gradebook.parse_points(None, JACOBIAN_NAMES) == POINTS
    assert gradebook.parse_points("2.5", JACOBIAN_NAMES) == dict.fromkeys(JACOBIAN_NAMES, 2.5)
    assert gradebook.parse_points("J_W3=2, J_b1=0", JACOBIAN_NAMES) == {
        **POINTS, "J_W3": 2.0, "J_b1": 0.0}


@pytest.mark.parametrize(("text", "message"), [
    ("J_X=1", "'J_X' is not a graded function"), ("-1", "non-negative"),
    ("J_W3=many", "non-negative number of points, got 'many'"), ("J_W3", "NAME=POINTS"),
    ("inf", "non-negative")])
def test_bad_points_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        gradebook.parse_points(text, JACOBIAN_NAMES)


def test_csv_rows_scores_diagnoses_and_flags():
    points = {**POINTS, "J_b3": 2.0}
    rows = list(csv.reader(io.StringIO(_csv(CLASS, points))))
    assert rows[0] == ["file", *JACOBIAN_NAMES, "score", "max_score", "diagnoses", "flags"]
    by_file = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_file["alice.py"]["score"] == "7" and by_file["alice.py"]["max_score"] == "7"
    assert by_file["alice.py"]["diagnoses"] == by_file["alice.py"]["flags"] == ""
    bob = by_file["bob.py"]
    assert (bob["J_b3"], bob["J_W1"], bob["J_W3"], bob["score"]) == ("0", "0", "1", "4")
    assert bob["diagnoses"] == "J_b3: sign, missing_1/N; J_W1: half"
    assert by_file["carol.ipynb"]["flags"] == "hung:J_W3 hidden:J_b2"
    dave = by_file["dave.py"]
    assert dave["flags"] == "did_not_load" and dave["score"] == "0"
    assert dave["diagnoses"].startswith("did not load: SyntaxError")
    assert "\x1b" not in dave["diagnoses"] and "\\x1b[2J" in dave["diagnoses"]


def test_a_failure_without_a_diagnosis_shows_its_kind_in_the_csv():
    """A submission scoring 1/6 must not show empty diagnoses: raised, shape, not_array …"""
    frank = _report("frank.py", {name: _result(name, kind=kind) for name, kind in zip(
        JACOBIAN_NAMES, ["raised", "shape", "not_array", "", "nan"], strict=False)})
    frank.functions[3] = _result("J_b2", SIGN)
    row = dict(zip(*gradebook.csv_rows([frank], JACOBIAN_NAMES, POINTS), strict=True))
    assert row["score"] == 1
    assert row["diagnoses"] == ("J_W3: raised; J_b3: shape; J_W2: not_array; J_b2: sign; "
                                "J_W1: nan")


def test_hanging_at_load_or_in_a_call_is_flagged_hung(tmp_path):
    """The README promises a flag for a submission that hung; one that did not load for
    another reason is did_not_load alone, whatever its message says."""
    from autodiff.grading.session import Options, Session

    files = {"load.py": "while True:\n    pass\n",
             "call.py": "def J_W3(x, y):\n    while True:\n        pass\n",
             "fake.py": "raise RuntimeError('loading the submission did not finish within 2 s')\n"}
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    with Session(Options(examples=2, seed=0, call_timeout=0.5, total_timeout=2.0,
                         names=("J_W3",))) as session:
        flagged = {name: gradebook.flags(session.grade(tmp_path / name)) for name in files}
    assert flagged == {"load.py": ["did_not_load", "hung"], "call.py": ["hung:J_W3"],
                       "fake.py": ["did_not_load"]}


def test_integrity_and_nondeterminism_are_flagged():
    erin = _report("erin.py", {"J_W3": _result("J_W3", kind="integrity"),
                               "J_b1": _result("J_b1", kind="nondeterministic")})
    row = dict(zip(*gradebook.csv_rows([erin], JACOBIAN_NAMES, POINTS), strict=True))
    assert row["flags"] == "integrity:J_W3 nondeterministic:J_b1"


def _csv(reports, points) -> str:
    stream = io.StringIO()
    csv.writer(stream).writerows(gradebook.csv_rows(reports, JACOBIAN_NAMES, points))
    return stream.getvalue()


def test_csv_cells_never_read_as_formulas():
    hostile = _report("=HYPERLINK(\"http://x\")", {}, load_error="+cmd|' /C calc'!A0")
    row = gradebook.csv_rows([hostile], JACOBIAN_NAMES, POINTS)[1]
    assert row[0] == "'=HYPERLINK(\"http://x\")"
    assert all(not str(cell).startswith(("=", "+", "-", "@")) for cell in row)


def test_gradescope_results_one_test_per_function():
    results = gradebook.gradescope_results(CLASS[2], JACOBIAN_NAMES, {**POINTS, "J_W3": 3.0})
    assert results["score"] == 3 and results["output"] == "3 of 6 Jacobians pass."
    tests = {test["name"]: test for test in results["tests"]}
    assert list(tests) == list(JACOBIAN_NAMES)
    assert tests["J_W3"] == {"name": "J_W3", "score": 0, "max_score": 3, "status": "failed",
                             "output": "timeout reason", "output_format": "text",
                             "visibility": "visible"}
    assert tests["J_W2"]["status"] == "passed" and tests["J_W2"]["score"] == 1
    assert tests["J_b3"]["output"] == "value reason\ndiagnosis: sign flipped"
    json.dumps(results)  # plain JSON


def test_gradescope_results_of_a_submission_that_did_not_load():
    results = gradebook.gradescope_results(CLASS[3], JACOBIAN_NAMES, POINTS)
    assert results["score"] == 0 and results["output"].startswith("The submission could not")
    assert [test["status"] for test in results["tests"]] == ["failed"] * 6
    assert sum(test["max_score"] for test in results["tests"]) == 6


def test_class_summary_counts_passes_mistakes_and_load_failures():
    data = summary.summarise(CLASS)
    assert (data["submissions"], data["graded"], data["passed_all"]) == (4, 3, 1)
    assert data["functions"]["J_b3"] == {"passed": 1, "graded": 3}
    assert data["functions"]["J_W2"] == {"passed": 3, "graded": 3}
    assert data["diagnoses"][0] == {"key": "sign", "text": "sign flipped", "count": 2,
                                    "functions": {"J_b3": 2}}
    assert {item["key"] for item in data["diagnoses"]} == {
        "sign", "missing_1/N", "half", "only_worksheet_widths"}
    assert data["did_not_load"] == [{"file": "dave.py", "reason": CLASS[3].load_error.replace(
        "\x1b", "\\x1b")}]
    # The loader's reasons begin with the path, which the row already names: once, not twice.
    prefixed = summary.summarise([_report("erin.py", {}, load_error="erin.py: no such file")])
    assert prefixed["did_not_load"] == [{"file": "erin.py", "reason": "no such file"}]
    text = summary.to_text(CLASS)
    assert "4 submissions, 3 graded, 1 did not load; 1 of 3 pass every function" in text
    assert "     2 submissions: sign flipped  (J_b3 ×2)" in text
    assert "     1 submission: half the right value  (J_W1 ×1)" in text
    assert "dave.py: SyntaxError" in text and "\x1b" not in text


@pytest.fixture(scope="module")
def wrong_d_sigma_reports():
    """Two real gradings of a submission whose own d_sigma is wrong (J_W3 and J_b1 use it)."""
    from autodiff.grading.session import Options, Session

    with Session(Options(examples=3, seed=0, names=("J_W3", "J_b1"))) as session:
        report = session.grade(ZOO / "diagnoses" / "helper_d_sigma.py")
    return [report, dataclasses.replace(report, path="other.py")]


def test_the_summary_counts_submissions_not_functions(wrong_d_sigma_reports):
    """Two students with a wrong d_sigma are two, however many functions show it."""
    item = next(item for item in summary.summarise(wrong_d_sigma_reports)["diagnoses"]
                if item["key"] == "wrong_d_sigma")
    assert item["count"] == 2 and item["functions"] == {"J_W3": 2, "J_b1": 2}
    assert ("     2 submissions: their own d_sigma is wrong  (J_W3 ×2, J_b1 ×2)"
            in summary.to_text(wrong_d_sigma_reports))


def test_summary_speaks_of_a_wrong_helper_in_general():
    helper = ("wrong_d_sigma", "your d_sigma(0.5) returns 0.378; σ'(0.5) = 0.235")
    reports = [_report(f"s{i}.py", {"J_W3": _result("J_W3", helper)}) for i in range(3)]
    [item] = summary.summarise(reports)["diagnoses"]
    assert item["text"] == "their own d_sigma is wrong" and item["count"] == 3


def test_cli_writes_csv_gradescope_and_json_points(tmp_path, capsys):
    sheet = ZOO / "mistakes_c.py"
    grades, results = tmp_path / "grades.csv", tmp_path / "results.json"
    argv = ["grade", str(sheet), "--only", "J_W1", "--only", "J_b3", "--examples", "3",
            "--points", "J_W1=2", "--csv", str(grades), "--gradescope", str(results)]
    assert main(argv) == 1
    [header, row] = list(csv.reader(grades.open()))
    assert header == ["file", "J_W1", "J_b3", "score", "max_score", "diagnoses", "flags"]
    record = dict(zip(header, row, strict=True))
    assert record["score"] == "0" and record["max_score"] == "3"
    assert "J_W1: factor_2" in record["diagnoses"] and "J_b3: sum_all" in record["diagnoses"]
    document = json.loads(results.read_text())
    assert {test["name"]: test["max_score"] for test in document["tests"]} == {
        "J_W1": 2, "J_b3": 1}
    assert all("reproduce:" in test["output"] for test in document["tests"])
    # The line the text report shows: expected versus got at the worst element.
    [worst] = [line for line in document["tests"][0]["output"].split("\n")
               if line.startswith("at [")]
    assert re.fullmatch(r"at \[\d+, \d+\]: expected \S+, got \S+ \(error \S+ > tolerance \S+\)",
                        worst), worst
    capsys.readouterr()
    assert main([*argv[:10], "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["points"] == {"J_W1": 0, "J_b3": 0} and report["max_score"] == 3
    assert report["flags"] == []


@pytest.mark.parametrize("argv", [["--points", "J_W9=1"], ["--csv", "/no/such/folder/g.csv"],
                                  ["--gradescope", "."]])
def test_cli_rejects_bad_gradebook_options_before_grading(argv, capsys):
    assert main(["grade", str(ZOO / "correct_mean.py"), *argv]) == 2
    err = capsys.readouterr().err
    assert "backprop grade: error:" in err and argv[0] in err


def test_a_batch_prints_the_summary_and_writes_a_gradescope_file_each(tmp_path, capsys):
    """The block the batch grader hands its list of reports to."""
    import argparse

    from autodiff.commands.grade import _gradebook

    args = argparse.Namespace(json=False, csv=str(tmp_path / "g.csv"), gradescope=None,
                              prairielearn=None, similar=None)
    _gradebook(args, CLASS, JACOBIAN_NAMES, POINTS)
    assert capsys.readouterr().out.startswith("Class summary: 4 submissions")
    assert len(list(csv.reader((tmp_path / "g.csv").open()))) == 5
    args.gradescope = str(tmp_path / "results.json")
    _gradebook(args, CLASS, JACOBIAN_NAMES, POINTS)
    assert f"4 files in {tmp_path / 'results'}/" in capsys.readouterr().out
    written = {path.name: json.loads(path.read_text())
               for path in (tmp_path / "results").iterdir()}
    assert set(written) == {"alice.py.json", "bob.py.json", "carol.ipynb.json", "dave.py.json"}
    assert written["carol.ipynb.json"]["output"] == "3 of 6 Jacobians pass."


def test_gradescope_names_follow_the_paths_and_never_collide(tmp_path):
    files = [str(tmp_path / "late" / "alice.ipynb"), str(tmp_path / "alice.py"),
             str(tmp_path / "late__alice.ipynb"), str(tmp_path / "alice.ipynb")]
    assert gradebook.gradescope_names(files) == [
        "late__alice.ipynb.json", "alice.py.json", "late__alice.ipynb-2.json",
        "alice.ipynb.json"]
    assert gradebook.gradescope_folder("out/results.json") == Path("out/results")
    # A link is named after itself, never after where it points (a student's choice).
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "carol.py").symlink_to("/etc/hostname")
    (tmp_path / "class" / "dan.py").write_text("")
    assert gradebook.gradescope_names([str(tmp_path / "class" / name)
                                       for name in ("carol.py", "dan.py")]) == [
        "carol.py.json", "dan.py.json"]
    assert gradebook.gradescope_folder("out/results") == Path("out/results")


def test_the_issues_command_grades_a_folder_into_csv_and_gradescope_files(tmp_path, capsys):
    """``backprop grade submissions/ --csv grades.csv --gradescope results.json``."""
    submissions = tmp_path / "submissions"
    (submissions / "late").mkdir(parents=True)
    (submissions / "alice.py").write_text((ZOO / "correct_mean.py").read_text())
    (submissions / "late" / "alice.py").write_text((ZOO / "mistakes_c.py").read_text())
    grades, results = tmp_path / "grades.csv", tmp_path / "results.json"
    assert main(["grade", str(submissions), "--csv", str(grades), "--gradescope", str(results),
                 "--only", "J_b3", "--examples", "3", "--seed", "0", "-j", "1"]) == 1
    assert f"2 files in {tmp_path / 'results'}/" in capsys.readouterr().out
    assert [row[0] for row in csv.reader(grades.open())][1:] == [
        str(submissions / "alice.py"), str(submissions / "late" / "alice.py")]
    assert not results.exists()
    alice = json.loads((tmp_path / "results" / "alice.py.json").read_text())
    late = json.loads((tmp_path / "results" / "late__alice.py.json").read_text())
    assert (alice["score"], late["score"]) == (1, 0)
    assert late["tests"][0]["name"] == "J_b3" and late["tests"][0]["status"] == "failed"


def test_a_batch_json_has_the_class_summary(tmp_path, capsys):
    assert main(["grade", str(ZOO / "correct_mean.py"), str(ZOO / "mistakes_c.py"), "--json",
                 "--only", "J_b3", "--examples", "3", "--seed", "0", "-j", "1"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert len(document["submissions"]) == 2
    assert document["summary"]["submissions"] == 2 and document["summary"]["passed_all"] == 1
    assert document["summary"]["functions"] == {"J_b3": {"passed": 1, "graded": 2}}
    assert [item["key"] for item in document["summary"]["diagnoses"]] == ["sum_all"]


def test_no_submission_found_still_writes_a_gradescope_file_that_says_so(tmp_path, capsys):
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results.json"
    assert main(["grade", str(tmp_path / "submission"), "--gradescope", str(results)]) == 2
    assert "no such file, folder or submission" in capsys.readouterr().err
    document = json.loads(results.read_text())
    assert document["score"] == 0 and len(document["tests"]) == 6
    assert document["output"].startswith(f"No submission was found in {tmp_path / 'submission'}")


def test_gradescope_with_one_submission_refuses_a_folder_and_several_refuse_a_file(tmp_path,
                                                                                  capsys):
    assert main(["grade", str(ZOO / "correct_mean.py"), "--gradescope", str(tmp_path)]) == 2
    assert "--gradescope: cannot write" in capsys.readouterr().err
    (tmp_path / "results").write_text("")
    assert main(["grade", str(ZOO / "correct_mean.py"), str(ZOO / "correct_loops.py"),
                 "--gradescope", str(tmp_path / "results.json")]) == 2
    assert "it is a file, not a folder" in capsys.readouterr().err
