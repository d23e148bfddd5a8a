"""A class at a glance: per function how many passed, the most common diagnoses, who did not load.

Built from a list of ``GradeReport``s. ``summarise`` gives the JSON-ready dict, ``to_text``
the lines printed at the end of a batch grading. Diagnoses are counted by key, once per
submission that has it (in any number of functions, each named with its own count); the
text shown for a key is its most common one, or a general one for keys whose text is
particular to one submission (a helper's values, a ratio). Text that came
from a submission (load errors, file names) is escaped before it reaches a terminal.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from autodiff.grading import similarity
from autodiff.grading.escape import escaped
from autodiff.grading.grader import GradeReport

# Keys whose texts carry one submission's numbers: the summary says them in general.
GENERAL = {
    "wrong_sigma": "their own sigma is wrong",
    "wrong_d_sigma": "their own d_sigma is wrong",
    "wrong_network_function": "their own network_function is wrong",
    "unrecognised": "a mistake with no recognised pattern",
    "constant_factor": "off by a constant factor",
    "sigma_prime_approximated": "σ' approximated (right near z = 0 only)",
    "close_not_equal": "close to the right value, not within rounding (an approximation?)",
}
TOP = 10


def summarise(reports: list[GradeReport], top: int = TOP) -> dict:
    """``{"submissions", "graded", "passed_all", "functions": {name: {"passed", "graded"}},
    "diagnoses": [{"key", "text", "count", "functions": {name: count}}], "did_not_load":
    [{"file", "reason"}], "similar": [...]}``; the diagnoses most common first, ``top`` of
    them: ``count`` is the number of submissions with that diagnosis, ``functions`` in how
    many of them each function has it; ``similar`` the groups of files with identical wrong
    answers (``similarity.groups``)."""
    loaded = [report for report in reports if report.load_error is None]
    functions: dict[str, dict[str, int]] = {}
    counts: Counter = Counter()
    where: dict[str, Counter] = defaultdict(Counter)
    texts: dict[str, Counter] = defaultdict(Counter)
    for report in loaded:
        keys: set[str] = set()
        for result in report.functions:
            tally = functions.setdefault(result.name, {"passed": 0, "graded": 0})
            tally["graded"] += 1
            tally["passed"] += result.passed
            for key in dict(result.diagnosis):
                keys.add(key)
                where[key][result.name] += 1
            for key, text in result.diagnosis:
                texts[key][text] += 1
        counts.update(keys)  # a teacher counts students: once per submission
    diagnoses = [{"key": key, "text": GENERAL.get(key) or texts[key].most_common(1)[0][0],
                  "count": count, "functions": dict(where[key].most_common())}
                 for key, count in counts.most_common(top)]
    return {
        "submissions": len(reports),
        "graded": len(loaded),
        "passed_all": sum(report.passed for report in loaded),
        "functions": functions,
        "diagnoses": diagnoses,
        # The loader's reasons begin with the file's path: the row names it already.
        "did_not_load": [{"file": escaped(report.path),
                          "reason": escaped(report.load_error).removeprefix(
                              f"{escaped(report.path)}: ")}
                         for report in reports if report.load_error is not None],
        "similar": similarity.groups(reports),
    }


def to_text(reports: list[GradeReport], top: int = TOP) -> str:
    """The summary as lines for a person (see ``summarise``)."""
    summary = summarise(reports, top)
    graded = summary["graded"]
    lines = [f"Class summary: {summary['submissions']} submissions, {graded} graded, "
             f"{len(summary['did_not_load'])} did not load; {summary['passed_all']} of "
             f"{graded} pass every function"]
    width = max((len(name) for name in summary["functions"]), default=0)
    for name, tally in summary["functions"].items():
        lines.append(f"  {name.ljust(width)}  {tally['passed']:>4} of {tally['graded']} pass")
    if summary["diagnoses"]:
        lines.append("Most common mistakes (what to re-teach), in how many submissions:")
        for item in summary["diagnoses"]:
            spread = ", ".join(f"{name} ×{count}" for name, count in item["functions"].items())
            noun = "submission" if item["count"] == 1 else "submissions"
            lines.append(f"  {item['count']:>4} {noun}: {escaped(item['text'], 300)}  ({spread})")
    lines += similarity.to_text(summary["similar"])
    if summary["did_not_load"]:
        lines.append("Did not load:")
        lines += [f"  {escaped(item['file'], 200)}: {escaped(item['reason'], 200)}"
                  for item in summary["did_not_load"]]
    return "\n".join(lines)
