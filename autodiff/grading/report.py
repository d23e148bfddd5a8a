"""A grading as text for a person, or as a JSON document, with a runnable reproduction.

The JSON document: ``{"file", "passed", "load_error", "seconds", "examples", "functions":
[{"name", "verdict": "PASS" | "FAIL", "cases_tried", "reason", "kind", "case", "worst",
"diagnosis": [{"key", "text"}], "notes", "reproduction"}]}``; failure fields are null on a pass.
"""

from __future__ import annotations

import numpy as np

from autodiff.grading.cases import Case
from autodiff.grading.grader import FunctionResult, GradeReport


def _literal(array: np.ndarray) -> str:
    return f"np.array({np.asarray(array).tolist()!r})"


def reproduction(result: FunctionResult) -> str | None:
    """Lines to paste after the submission's code that show the failing call."""
    case = result.case
    if case is None:
        return None
    lines = ["# Paste below your code (in a notebook: a new cell after the graded cells)."]
    if case.source == "worksheet":
        lines += ["reset_network(6, 7, random=np.random.RandomState(0))",
                  "x, y = training_data(100)"]
    elif case.batch > 12:
        lines += ["import numpy as np", "# this case is large: see the JSON report (--json) "
                  "for every value of W1 ... b3, x and y"]
    else:
        lines.append("import numpy as np")
        for layer, (W, b) in enumerate(case.params, start=1):
            lines += [f"W{layer} = {_literal(W)}", f"b{layer} = {_literal(b)}"]
        lines += [f"x = {_literal(case.x)}", f"y = {_literal(case.y)}"]
    lines.append(f"print({result.name}(x, y))")
    if result.expected is not None and result.expected.size <= 64:
        lines.append(f"# expected (jax.grad, float64): {result.expected.tolist()!r}")
    return "\n".join(lines)


def _case_json(case: Case | None) -> dict | None:
    if case is None:
        return None
    n1, n2 = case.widths
    return {"source": case.source, "widths": [1, n1, n2, 2], "batch": case.batch,
            "weight_scale": case.scale,
            "params": [[W.tolist(), b.tolist()] for W, b in case.params],
            "x": case.x.tolist(), "y": case.y.tolist()}


def function_json(result: FunctionResult) -> dict:
    failure = result.failure
    return {
        "name": result.name,
        "verdict": "PASS" if result.passed else "FAIL",
        "cases_tried": result.cases_tried,
        "kind": None if failure is None else failure.kind,
        "reason": None if failure is None else failure.reason,
        "case": _case_json(result.case),
        "worst": None if failure is None else failure.worst,
        "diagnosis": [{"key": key, "text": text} for key, text in result.diagnosis],
        "notes": result.notes,
        "reproduction": None if result.passed else reproduction(result),
    }


def to_json(report: GradeReport) -> dict:
    return {"file": report.path, "passed": report.passed, "load_error": report.load_error,
            "seconds": round(report.seconds, 3), "examples": report.examples,
            "functions": [function_json(result) for result in report.functions]}


_SOURCES = {"worksheet": " (the worksheet's own, heart data)",
            "saturated": " (the worksheet's shapes, heart data, saturating weights)",
            "hypothesis": " (smallest failing case found)", "random": ""}


def to_text(report: GradeReport) -> str:
    if report.load_error is not None:
        return f"{report.path}: cannot be graded: {report.load_error}"
    lines = [f"Grading {report.path}"]
    for result in report.functions:
        if result.passed:
            lines.append(f"  {result.name}  PASS  ({result.cases_tried} cases)")
            continue
        failure = result.failure
        lines.append(f"  {result.name}  FAIL  {failure.reason}")
        if result.case is not None:
            lines.append(f"        case: {result.case.describe()}" + _SOURCES[result.case.source])
        if failure.worst is not None:
            worst = failure.worst
            lines.append(f"        at {worst['index']}: expected {worst['expected']:.17g}, "
                         f"got {worst['got']:.17g} (error {worst['error']:.3g} > tolerance "
                         f"{worst['tolerance']:.3g})")
        for _, text in result.diagnosis:
            lines.append(f"        diagnosis: {text}")
        for note in result.notes:
            lines.append(f"        note: {note}")
        snippet = reproduction(result)
        if snippet:
            lines.append("        reproduce:")
            lines += [f"          {line}" for line in snippet.split("\n")]
    passed = sum(result.passed for result in report.functions)
    lines.append(f"{passed} of {len(report.functions)} functions pass "
                 f"({report.seconds:.1f} s)")
    return "\n".join(lines)
