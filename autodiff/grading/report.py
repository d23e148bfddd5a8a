"""A grading as text for a person, or as a JSON document, with a runnable reproduction.

The JSON document: ``{"file", "passed", "load_error", "seconds", "examples", "seed",
"sandbox": {"full", "namespaces", "landlock_abi", "held", "missing"}, "functions": [{"name",
"verdict": "PASS" | "FAIL", "cases_tried", "reason", "kind", "case", "worst", "first",
"diagnosis": [{"key", "text"}], "notes", "reproduction"}]}``; failure fields are null on a
pass, ``first`` is the earlier answer of a nondeterministic function. In the text and the
JSON, anything the submission wrote (messages, names) is escaped (``escape.escaped``; in the
text also cut short), so that it cannot move the cursor, recolour the terminal, reorder what
is shown or forge a line of the report.
"""

from __future__ import annotations

import numpy as np

from autodiff.core.render import json_safe
from autodiff.grading.cases import Case
from autodiff.grading.escape import escaped
from autodiff.grading.grader import FunctionResult, GradeReport


def _literal(array: np.ndarray) -> str:
    return f"np.array({np.asarray(array).tolist()!r})"


def reproduction(result: FunctionResult) -> str | None:
    """Lines to paste after the submission's code that show the failing call."""
    case = result.case
    if case is None:
        return None
    lines = ["# Paste below your code (in a notebook: a new cell after the graded cells).",
             "# It replaces your network's W1 ... b3, x and y with the failing case's."]
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
    if result.failure is not None and result.failure.kind == "nondeterministic":
        lines.append(f"print({result.name}(x, y))  # the same call again: a different answer")
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
        "reason": None if failure is None else escaped(failure.reason),
        "case": _case_json(result.case),
        # A submission's NaN or infinity is null here: JSON has neither.
        "worst": None if failure is None else json_safe(failure.worst),
        "first": None if failure is None or failure.first is None else json_safe(failure.first),
        "diagnosis": [{"key": key, "text": escaped(text)} for key, text in result.diagnosis],
        "notes": result.notes,
        "reproduction": None if result.passed else reproduction(result),
    }


def to_json(report: GradeReport) -> dict:
    load_error = None if report.load_error is None else escaped(report.load_error)
    return {"file": escaped(report.path), "passed": report.passed, "load_error": load_error,
            "seconds": round(report.seconds, 3), "examples": report.examples,
            "seed": report.seed, "sandbox": report.sandbox,
            "functions": [function_json(result) for result in report.functions]}


_SOURCES = {"worksheet": " (the worksheet's own, heart data)",
            "saturated": " (the worksheet's shapes, heart data, saturating weights)",
            "hypothesis": " (smallest failing case found)", "random": ""}


def sandbox_line(sandbox: dict | None) -> str:
    if sandbox is None:
        return "sandbox: none"
    landlock = (f"Landlock ABI {sandbox['landlock_abi']}" if sandbox["landlock_abi"]
                else "no Landlock on this kernel")
    memory = ("memory of the whole sandbox capped by a cgroup v2"
              if "memory_cgroup" in sandbox["held"] else "memory capped per process only: "
              "no delegated cgroup v2")
    held = f"{len(sandbox['held'])} protections held ({landlock}; {memory})"
    if sandbox["full"]:
        return f"sandbox: full isolation, {held}"
    return f"sandbox: WEAKER isolation, {held}; missing: {', '.join(sandbox['missing'])}"


def worst_line(result: FunctionResult) -> str | None:
    """``at [i, j]: expected …, got … (error … > tolerance …)`` for a failure with a worst
    element (not a nondeterministic one: its two answers are shown otherwise)."""
    failure = result.failure
    if failure is None or failure.worst is None or failure.kind == "nondeterministic":
        return None
    worst = failure.worst
    return (f"at {worst['index']}: expected {worst['expected']:.17g}, got {worst['got']:.17g} "
            f"(error {worst['error']:.3g} > tolerance {worst['tolerance']:.3g})")


def to_text(report: GradeReport, hidden=frozenset()) -> str:
    """The report for a person; a failing function named in ``hidden`` (``--hidden``) says
    only that it fails, its detail kept for after the due date."""
    path = escaped(report.path, 500)
    if report.load_error is not None:
        return f"{path}: cannot be graded: {escaped(report.load_error, 500)}"
    lines = [f"Grading {path}  (seed {report.seed}: --seed {report.seed} reproduces the cases)",
             f"  {sandbox_line(report.sandbox)}"]
    for result in report.functions:
        if result.passed:
            lines.append(f"  {result.name}  PASS  ({result.cases_tried} cases)")
            continue
        failure = result.failure
        if result.name in hidden:
            lines.append(f"  {result.name}  FAIL  (the details are shown after the due date)")
            continue
        lines.append(f"  {result.name}  FAIL  {escaped(failure.reason, 500)}")
        if result.case is not None:
            lines.append(f"        case: {result.case.describe()}" + _SOURCES[result.case.source])
        if worst_line(result):
            lines.append(f"        {worst_line(result)}")
        for _, text in result.diagnosis:
            lines.append(f"        diagnosis: {escaped(text)}")
        for note in result.notes:
            lines.append(f"        note: {note}")
        snippet = reproduction(result)
        if snippet:
            lines.append("        reproduce:")
            lines += [f"          {line}" for line in snippet.split("\n")]
    passed, total = sum(result.passed for result in report.functions), len(report.functions)
    counted = "function passes" if total == 1 else "functions pass"
    lines.append(f"{passed} of {total} {counted} ({report.seconds:.1f} s)")
    return "\n".join(lines)


def summary_line(report: GradeReport) -> str:
    """One line for a submission among many: its verdicts in short."""
    path = escaped(report.path, 200)
    if report.load_error is not None:
        return f"  LOAD  {path}: {escaped(report.load_error, 200)}"
    passed, total = sum(result.passed for result in report.functions), len(report.functions)
    failed = ", ".join(f"{result.name} {result.failure.kind}" for result in report.functions
                       if not result.passed)
    verdict = "PASS" if report.passed else "FAIL"
    return f"  {verdict}  {passed}/{total}  {path}" + (f": {failed}" if failed else "")
