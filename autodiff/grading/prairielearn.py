"""PrairieLearn's external-grader ``results.json`` for one submission (``--prairielearn``).

PrairieLearn reads ``/grade/results/results.json``: ``gradable`` (false when the submission
could not be run at all: it did not load, and PrairieLearn does not count it as graded),
``score`` between 0 and 1, a ``message`` for the whole submission, and ``tests``: per
function its ``name``, ``points`` earned, ``max_points``, a one-line ``message`` and the
``output`` (the failure, diagnoses and reproduction, as in Gradescope's). PrairieLearn has
no "shown after the due date": a function named in ``--hidden`` shows its points and status
only. Text from the submission is escaped (``escape``).
"""

from __future__ import annotations

from autodiff.grading.escape import escaped
from autodiff.grading.gradebook import function_output, write_json
from autodiff.grading.grader import GradeReport

HIDDEN = "details are hidden until after the due date"


def results(report: GradeReport, names, points: dict[str, float], hidden=frozenset()) -> dict:
    """The ``results.json`` document of ``report`` (see the module docstring)."""
    passing = {result.name for result in report.functions if result.passed}
    tests = []
    for name in names:
        earned = points[name] if name in passing else 0.0
        status = "passes" if name in passing else "fails"
        tests.append({"name": name, "points": earned, "max_points": points[name],
                      "message": f"{name} {status}" + (f" ({HIDDEN})" if name in hidden
                                                         else ""),
                      "output": "" if name in hidden else function_output(report, name)})
    total = sum(points[name] for name in names)
    earned = sum(test["points"] for test in tests)
    gradable = report.load_error is None
    message = (f"{len(passing & set(names))} of {len(names)} Jacobians pass." if gradable
               else f"The submission could not be graded: {escaped(report.load_error)}")
    return {"gradable": gradable, "score": earned / total if total > 0 else 0.0,
            "message": message, "tests": tests}


def write(path, report: GradeReport, names, points: dict[str, float],
          hidden=frozenset()) -> None:
    write_json(path, results(report, names, points, hidden))
