"""Submissions that give identical *wrong* answers on the same cases: a hint for the teacher.

Every submission of a run is called on the same batch of cases, and the grader keeps a
fingerprint of each wrong array a function answered there (``FunctionResult.wrong_answers``,
computed in the parent from the answers it judged: no extra call). Two files whose function
gives bit-for-bit the same wrong arrays on the same cases computed the same wrong thing the
same way. Right answers are not compared: every correct submission agrees on them. Identical
wrong answers are a hint, never a verdict: two students who make the same common slip in the
same formula may well agree to the last bit, so each group also shows the diagnoses its
members' function got.

A group: the files (two or more) whose function ``name`` answered wrong on the same cases
with the same fingerprints, at least ``MIN_CASES`` of them; groups of the same files are
merged, with each function and its count of agreeing cases.
"""

from __future__ import annotations

from collections import defaultdict

from autodiff.grading.escape import escaped
from autodiff.grading.grader import GradeReport

# Fewer identical wrong answers than this say too little to show.
MIN_CASES = 3
NOTE = ("Identical wrong answers on the same cases (right answers are not compared: every "
        "correct submission agrees on them). A hint to look at, never a verdict: the same "
        "common slip in the same formula can give the same bits.")


def groups(reports: list[GradeReport], min_cases: int = MIN_CASES) -> list[dict]:
    """``[{"files": [...], "functions": [{"name", "cases", "diagnoses"}]}]``, the groups
    with the most functions and cases first; ``cases`` counts the cases whose wrong answers
    agree, ``diagnoses`` the keys its members got for that function (escaped names)."""
    by_answers: dict[tuple, list[int]] = defaultdict(list)
    for index, report in enumerate(reports):
        for result in report.functions:
            if len(result.wrong_answers) >= min_cases:
                key = (result.name, tuple(sorted(result.wrong_answers.items())))
                by_answers[key].append(index)
    merged: dict[tuple[int, ...], list[dict]] = defaultdict(list)
    for (name, answers), members in by_answers.items():
        if len(members) < 2:
            continue
        keys = sorted({key for index in members for key, _ in _result(reports[index], name)
                       .diagnosis})
        merged[tuple(members)].append({"name": name, "cases": len(answers), "diagnoses": keys})
    found = [{"files": [escaped(reports[index].path) for index in members],
              "functions": functions} for members, functions in merged.items()]
    return sorted(found, key=lambda group: (-len(group["functions"]),
                                            -sum(f["cases"] for f in group["functions"]),
                                            group["files"]))


def _result(report: GradeReport, name: str):
    return next(result for result in report.functions if result.name == name)


def document(reports: list[GradeReport], seed: int | None) -> dict:
    """What ``--similar FILE`` writes: the run's seed, the note and the groups."""
    return {"seed": seed, "note": NOTE, "groups": groups(reports)}


def to_text(found: list[dict]) -> list[str]:
    """Lines for the class summary (none when there is no group)."""
    if not found:
        return []
    lines = ["Identical wrong answers (a hint, not a verdict; right answers not compared):"]
    for group in found:
        spread = ", ".join(
            f"{f['name']} on {f['cases']} cases"
            + (f" ({', '.join(f['diagnoses'])})" if f["diagnoses"] else "")
            for f in group["functions"])
        lines.append(f"  {len(group['files'])} files: {spread}")
        lines += [f"    {escaped(file, 200)}" for file in group["files"]]
    return lines
