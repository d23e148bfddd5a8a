"""What a submission writes reaches no output unescaped: CSV cells as a spreadsheet and a line
tool read them, Gradescope's and the JSON report's text, the class summary, and the results
files' names (escaped, at most 255 bytes, distinct, each written on its own)."""

from __future__ import annotations

import csv
import io
import json
import os

from autodiff.grading import gradebook, summary
from autodiff.grading.escape import NAME_MAX, cell, escaped
from autodiff.grading.grader import FunctionResult, GradeReport
from autodiff.grading.judge import Failure
from autodiff.grading.loader import JACOBIAN_NAMES
from autodiff.grading.report import to_json, to_text

POINTS = dict.fromkeys(JACOBIAN_NAMES, 1.0)
# Characters that move a terminal's cursor, forge a line or a row, or reorder what is shown.
HOSTILE = ["\t", "\n", "\r", "\x1b[2J", "\x85", "\u202e", "\u2066", "\u2069", "\u200f",
           "\u2028", os.fsdecode(b"\xe9")]
LATIN1 = os.fsdecode(b"caf\xe9.py")  # a name from an old zip: not UTF-8


def _unsafe(text: str) -> list[str]:
    return [c for c in text if not c.isprintable()]


def _hostile_class() -> list[GradeReport]:
    name = "eve" + "".join(HOSTILE) + "\u202egnp.py"
    message = "boom" + "".join(HOSTILE) + "\nJ_W3  PASS"
    functions = [FunctionResult(n, passed=n != "J_W3", cases_tried=3) for n in JACOBIAN_NAMES]
    functions[0].failure = Failure("raised", message)
    return [GradeReport(name, functions, 1.0, 3, seed=7),
            GradeReport(LATIN1, [], 0.5, 3, load_error=f"{LATIN1}: {message}"),
            GradeReport("alice.py", [FunctionResult(n, passed=True, cases_tried=3)
                                     for n in JACOBIAN_NAMES], 1.0, 3)]


def test_the_csv_has_one_line_per_row_and_no_unsafe_character():
    stream = io.StringIO()
    csv.writer(stream).writerows(gradebook.csv_rows(_hostile_class(), JACOBIAN_NAMES, POINTS))
    text = stream.getvalue()
    assert len(text.splitlines()) == 4  # a line tool sees the header and three rows
    assert _unsafe(text.replace("\r\n", "")) == []
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == [escaped(r.path) for r in _hostile_class()]
    assert "\\u202e" in rows[1][0] and "\\udce9" in rows[2][0]
    assert rows[1][-4:-2] == ["5", "6"] and rows[3][-4:-2] == ["6", "6"]
    text.encode("utf-8")  # a file name that is not UTF-8 no longer stops the writer


def test_a_formula_is_neutralised_after_leading_blanks():
    values = ("=1+1", " =1+1", "\t=HYPERLINK(\"x\")", "  @SUM(A1)", "\n+cmd", "-2+3")
    reports = [GradeReport(value, [], 0.1, 3, load_error="x") for value in values]
    rows = gradebook.csv_rows(reports, JACOBIAN_NAMES, POINTS)[1:]
    assert [row[0][:1] for row in rows] == ["'"] * len(values)
    assert cell("alice.py") == "alice.py" and cell(3) == 3


def test_gradescope_json_report_and_summary_text_are_escaped():
    reports = _hostile_class()
    for report in reports:
        document = gradebook.gradescope_results(report, JACOBIAN_NAMES, POINTS)
        strings = [document["output"], *(test["output"] for test in document["tests"])]
        assert all(_unsafe(line) == [] for text in strings for line in text.split("\n"))
        report_json = json.dumps(to_json(report), ensure_ascii=False)
        assert _unsafe(report_json) == []
        assert all(_unsafe(line) == [] for line in to_text(report).split("\n"))
    assert _unsafe(json.dumps(summary.summarise(reports), ensure_ascii=False)) == []
    assert all(_unsafe(line) == [] for line in summary.to_text(reports).split("\n"))


def test_results_file_names_fit_in_255_bytes_and_stay_distinct(tmp_path):
    long = "é" * 125 + "x.py"  # 254 bytes: a legal name, too long with ".json" added
    twin = "é" * 125 + "y.py"  # the same name once cut
    files = [str(tmp_path / name) for name in (long, twin, LATIN1, "a\nb\u202e.py", "ok.py")]
    names = gradebook.gradescope_names(files)
    assert len(set(names)) == len(names)
    assert all(len(name.encode()) <= NAME_MAX and name.endswith(".json") for name in names)
    assert all(_unsafe(name) == [] and "/" not in name for name in names)
    assert names[2] == "caf\\udce9.py.json" and names[4] == "ok.py.json"
    reports = [GradeReport(file, [], 0.1, 3, load_error="x") for file in files]
    failed = gradebook.write_gradescope_folder(tmp_path / "out", reports, JACOBIAN_NAMES,
                                               POINTS)
    assert failed == []
    assert sorted(os.listdir(tmp_path / "out")) == sorted(names)


def test_one_results_file_that_cannot_be_written_costs_only_itself(tmp_path):
    reports = [GradeReport(str(tmp_path / name), [], 0.1, 3, load_error="x")
               for name in ("a.py", "b.py", "c.py")]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.py.json").mkdir()  # a folder where b's file belongs
    failed = gradebook.write_gradescope_folder(tmp_path / "out", reports, JACOBIAN_NAMES,
                                               POINTS)
    assert len(failed) == 1 and "b.py.json" in failed[0]
    for name in ("a.py.json", "c.py.json"):
        assert json.loads((tmp_path / "out" / name).read_text())["score"] == 0
