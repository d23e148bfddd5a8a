"""Gradebook output of a grading: a CSV row per submission, and Gradescope's ``results.json``.

Both are built from ``GradeReport``s (``grading.grader``) and a ``points`` table (points per
function, ``parse_points``). A function scores its points when it passes, 0 otherwise.

* CSV: ``file``, one column per function (the points it earned), ``score``, ``max_score``,
  ``diagnoses`` (``J_b3: sign, missing_1/N; J_W2: raised …`` — the diagnosis keys, else the
  failure's kind) and ``flags`` (what a
  teacher should look at: ``did_not_load`` (with ``hung`` when loading did not finish in
  time), a ``hung`` (a call that did not return in time)/``crash``/``output_limit``/
  ``protocol``/``exit``/``mutated``/``missing`` function, ``hidden`` when the worksheet's own
  case does not show the mistake). Every cell is escaped (``escape.cell``: no control or
  bidirectional character, no formula, even after leading blanks), since file names and
  messages come from students.
* Gradescope (its autograder specification, ``/autograder/results/results.json``): the total
  ``score``, ``execution_time``, an ``output`` for the whole submission, ``extra_data`` (the
  seed and the sandbox), and a ``tests`` entry per function with ``name``, ``score``,
  ``max_score``, ``status`` (``passed``/``failed``), ``output`` (the failure, its diagnoses
  and the reproduction) and ``visibility`` (``after_due_date`` for a function in
  ``hidden``). Several submissions give one such file each, in a folder (``write_folder``,
  which PrairieLearn's files use too); none found gives a file with score 0 that says so
  (``write_no_submission``).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

from autodiff.grading.escape import cell, escaped, file_name
from autodiff.grading.grader import FunctionResult, GradeReport
from autodiff.grading.report import reproduction, worst_line

# Failure kinds a teacher should look at: the submission hung, crashed, flooded, cheated …
# Failures a teacher should look at beyond the score: the sandbox stopped the function, or it
# broke the worksheet's rules (an autodiff import, answers that change for the same input).
FLAGGED_KINDS = ("timeout", "crash", "output_limit", "protocol", "exit", "mutated", "missing",
                 "integrity", "nondeterministic")
# A call that did not return in time is flagged as the README says: it hung.
FLAG_WORDS = {"timeout": "hung"}


def parse_points(text: str | None, names) -> dict[str, float]:
    """Points per function from ``--points``: ``None`` (1 each), one number (each), or
    ``J_W3=2,J_b3=1`` (the others 1). A ValueError names what is wrong."""
    points = dict.fromkeys(names, 1.0)
    if text is None:
        return points
    try:
        float(text)
    except ValueError:
        pass
    else:
        return dict.fromkeys(names, _positive(text))
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--points: expected a number or NAME=POINTS,…, got {item!r}")
        if name not in points:
            raise ValueError(f"--points: {name!r} is not a graded function; expected one of "
                             f"{', '.join(points)}")
        points[name] = _positive(value)
    return points


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"--points: expected a non-negative number of points, got {text!r}")
    return value


def _score(result: FunctionResult, points: dict[str, float]) -> float:
    return points.get(result.name, 1.0) if result.passed else 0.0


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def flags(report: GradeReport) -> list[str]:
    """What a teacher should look at in this submission, as short words."""
    if report.load_error is not None:
        return ["did_not_load", "hung"] if report.load_hung else ["did_not_load"]
    found = []
    for result in report.functions:
        if result.failure is not None and result.failure.kind in FLAGGED_KINDS:
            word = FLAG_WORDS.get(result.failure.kind, result.failure.kind)
            found.append(f"{word}:{result.name}")
        if any("worksheet's own" in note for note in result.notes):
            found.append(f"hidden:{result.name}")
    return found


def short_diagnoses(report: GradeReport) -> str:
    """``J_b3: sign, missing_1/N; J_W2: raised`` (or why it did not load): a failed function's
    diagnosis keys, else the kind of its failure (``raised``, ``shape``, ``not_array`` …), so
    that no failure is hidden."""
    if report.load_error is not None:
        return f"did not load: {report.load_error}"
    return "; ".join(
        f"{result.name}: "
        + (", ".join(key for key, _ in result.diagnosis) or (
            result.failure.kind if result.failure is not None else "failed"))
        for result in report.functions if not result.passed or result.diagnosis)


def json_fields(report: GradeReport, names, points: dict[str, float]) -> dict:
    """What the gradebook adds to a report's JSON document: ``score``, ``max_score``,
    ``points`` earned per function and ``flags``, so that the JSON stays the superset."""
    by_name = {result.name: result for result in report.functions}
    earned = {name: _number(_score(by_name[name], points) if name in by_name else 0.0)
              for name in names}
    return {"score": _number(sum(earned.values())),
            "max_score": _number(sum(points.get(name, 1.0) for name in names)),
            "points": earned, "flags": flags(report)}


def csv_rows(reports: list[GradeReport], names, points: dict[str, float]) -> list[list]:
    """The header and one row per report (see the module docstring)."""
    names = list(names)
    rows = [["file", *names, "score", "max_score", "diagnoses", "flags"]]
    total = sum(points.get(name, 1.0) for name in names)
    for report in reports:
        by_name = {result.name: result for result in report.functions}
        earned = [_score(by_name[name], points) if name in by_name else 0.0 for name in names]
        rows.append([report.path, *map(_number, earned), _number(sum(earned)), _number(total),
                     short_diagnoses(report), " ".join(flags(report))])
    return [[cell(value) for value in row] for row in rows]


def write_csv(path: str | Path, reports: list[GradeReport], names, points) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(csv_rows(reports, names, points))


def test_output(result: FunctionResult) -> str:
    """One function's verdict as text for a student: the failure, its case, the worst
    element, the diagnoses and the reproduction (or that it passes)."""
    if result.passed:
        return f"passes ({result.cases_tried} cases)"
    lines = [escaped(result.failure.reason) if result.failure is not None else "failed"]
    if result.case is not None:
        lines.append(f"case: {result.case.describe()}")
    if worst_line(result):
        lines.append(worst_line(result))
    lines += [f"diagnosis: {escaped(text)}" for _, text in result.diagnosis]
    lines += [f"note: {note}" for note in result.notes]
    snippet = reproduction(result)
    if snippet:
        lines += ["", "reproduce:", snippet]
    return "\n".join(lines)


def function_output(report: GradeReport, name: str) -> str:
    """``test_output`` of ``name`` in ``report``, or why it was not graded."""
    if report.load_error is not None:
        return f"not graded: the submission did not load: {escaped(report.load_error)}"
    result = next((result for result in report.functions if result.name == name), None)
    return "not graded" if result is None else test_output(result)


def gradescope_results(report: GradeReport, names, points: dict[str, float],
                       hidden=frozenset()) -> dict:
    """Gradescope's ``results.json`` for one submission (every function a test; those in
    ``hidden`` shown after the due date). ``extra_data`` holds the seed and the sandbox."""
    passing = {result.name for result in report.functions if result.passed}
    tests = [{"name": name, "score": _number(points[name] if name in passing else 0.0),
              "max_score": _number(points[name]),
              "status": "passed" if name in passing else "failed",
              "output": function_output(report, name), "output_format": "text",
              "visibility": "after_due_date" if name in hidden else "visible"}
             for name in names]
    shown = [name for name in names if name not in hidden]
    later = (f" {len(names) - len(shown)} more are shown after the due date."
             if len(shown) < len(names) else "")
    overall = (f"The submission could not be graded: {escaped(report.load_error)}"
               if report.load_error is not None
               else f"{len(passing & set(shown))} of {len(shown)} Jacobians pass.{later}")
    return {"score": _number(sum(test["score"] for test in tests)),
            "execution_time": round(report.seconds, 3), "output": overall,
            "output_format": "text", "visibility": "visible",
            "extra_data": {"seed": report.seed, "sandbox": report.sandbox}, "tests": tests}


def no_submission_results(where: str, names, points: dict[str, float],
                          visibility: str = "visible") -> dict:
    """Gradescope's ``results.json`` when no submission was found at ``where``: score 0, and
    an ``output`` that says so (Gradescope shows only 'results.json not found' otherwise)."""
    output = (f"No submission was found in {escaped(where)}: expected a .py file or a .ipynb "
              "notebook.")
    tests = [{"name": name, "score": 0, "max_score": _number(points[name]), "status": "failed",
              "output": "not graded: no submission was found", "output_format": "text",
              "visibility": visibility} for name in names]
    return {"score": 0, "execution_time": 0.0, "output": output, "output_format": "text",
            "visibility": visibility, "tests": tests}


def write_json(path: str | Path, document: dict) -> None:
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def write_gradescope(path: str | Path, report: GradeReport, names, points,
                     hidden=frozenset()) -> None:
    write_json(path, gradescope_results(report, names, points, hidden))


def write_no_submission(path: str | Path, where: str, names, points) -> None:
    write_json(path, no_submission_results(where, names, points))


def gradescope_folder(path: str | Path) -> Path:
    """Where ``--gradescope PATH`` puts one results file per submission of a batch: PATH
    without its ``.json`` suffix (``results.json`` -> ``results/``), else PATH itself."""
    path = Path(path)
    return path.with_suffix("") if path.suffix == ".json" else path


def gradescope_names(files: list[str]) -> list[str]:
    """A results file name per submission: its path relative to the submissions' common
    folder, separators replaced (``late/alice.ipynb`` -> ``late__alice.ipynb.json``), escaped
    (``escape.file_name``: printable, at most 255 bytes), each name distinct (a ``-2``, ``-3``
    … before ``.json`` where two would be the same)."""
    # Not resolved: a symbolic link's name is the submission's, its target the student's.
    absolute = [Path(os.path.abspath(file)) for file in files]
    root = Path(os.path.commonpath([str(path.parent) for path in absolute])) if files else None
    taken: set[str] = set()
    return [file_name("__".join(path.relative_to(root).parts), ".json", taken)
            for path in absolute]


def write_folder(folder: str | Path, reports: list[GradeReport], write,
                 files: list[str] | None = None) -> list[str]:
    """One results file per report in ``folder`` (made if missing), written by
    ``write(path, report)`` and named by ``gradescope_names`` of ``files`` (all the run's
    submissions, so that a name does not depend on which were graded; default: the reports'
    files). Each file is written on its own: returns why each one that could not be written
    failed (escaped), ``[]`` when all were."""
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    files = [report.path for report in reports] if files is None else files
    by_file = dict(zip(files, gradescope_names(files), strict=True))
    failed = []
    for report in reports:
        target = folder / by_file[report.path]
        try:
            write(target, report)
        except (OSError, ValueError) as error:
            failed.append(f"{escaped(str(target))}: {escaped(str(error))}")
    return failed


def write_gradescope_folder(folder: str | Path, reports: list[GradeReport], names, points,
                            files: list[str] | None = None, hidden=frozenset()) -> list[str]:
    """Gradescope's ``results.json`` of each report in ``folder`` (``write_folder``)."""
    return write_folder(folder, reports, lambda path, report: write_gradescope(
        path, report, names, points, hidden), files)
