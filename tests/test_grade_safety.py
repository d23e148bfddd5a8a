"""The grader survives whatever a submission does: hangs, exits, crashes, floods, mutates,
raises, or fails to load. Each becomes a verdict (or exit status 2 at load); the grader
itself neither hangs nor dies, and grades the remaining functions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from autodiff.cli import main
from autodiff.grading.grader import grade
from autodiff.grading.loader import JACOBIAN_NAMES
from autodiff.grading.sandbox import Sandbox

ZOO = Path(__file__).parent / "submissions"
EXPECT = re.compile(r"^# expect (J_\w+): (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def misbehaving_reports():
    return {name: grade(ZOO / name, examples=10, call_timeout=0.5)
            for name in ("misbehaving_a.py", "misbehaving_b.py")}


@pytest.mark.parametrize("name", ["misbehaving_a.py", "misbehaving_b.py"])
def test_misbehaving_functions_get_their_verdicts(name, misbehaving_reports):
    expected = dict(EXPECT.findall((ZOO / name).read_text()))
    report = misbehaving_reports[name]
    verdicts = {r.name: "pass" if r.passed else r.failure.kind for r in report.functions}
    assert verdicts == expected


def test_reasons_name_what_happened(misbehaving_reports):
    report = misbehaving_reports["misbehaving_b.py"]
    reasons = {r.name: r.failure.reason for r in report.functions if not r.passed}
    assert reasons["J_W3"] == "changes its input y in place"
    assert reasons["J_b3"] == "rebinds the global W3"
    assert reasons["J_W2"] == "changes the global W2 in place"
    assert reasons["J_b2"].startswith("NameError") and "misbehaving_b.py, line" in reasons["J_b2"]
    assert "SIGSEGV" in reasons["J_W1"]


LOAD_FAILURES = {
    "syntax.py": ("def J_W3(x, y)\n    return x\n", "SyntaxError"),
    "exits.py": ("import sys\nsys.exit(3)\n", "called sys.exit(3) while loading"),
    "hangs.py": ("while True:\n    pass\n", "did not finish within"),
    "dies.py": ("import os\nos._exit(0)\n", "ended the process"),
    "floods.py": ("while True:\n    print('#' * 1000)\n", "printed more than"),
    "raises.py": ("1 / 0\n", "ZeroDivisionError"),
    "bad.ipynb": ("{not json", "not a Jupyter notebook"),
    "unmarked.ipynb": (json.dumps({"cells": [{"cell_type": "code", "source": "x = 1"}]}),
                       "no code cell starts with"),
    "notes.txt": ("J_W3 = 1", "expected a .py file or an .ipynb notebook"),
}


@pytest.mark.parametrize("filename", sorted(LOAD_FAILURES))
def test_files_that_cannot_be_loaded_exit_2_with_the_reason(filename, tmp_path, capsys):
    source, reason = LOAD_FAILURES[filename]
    path = tmp_path / filename
    path.write_text(source)
    assert main(["grade", str(path), "--timeout", "1"]) == 2
    assert reason in capsys.readouterr().out


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "absent.py"), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert "no such file" in document["load_error"] and document["functions"] == []


def test_the_child_process_never_imports_jax():
    source = "import sys\n\ndef J_W3(x, y):\n    return np.array([[float('jax' in sys.modules)]])\n"
    params = [(np.ones((1, 1)), np.ones((1, 1)))] * 2 + [(np.ones((2, 1)), np.ones((2, 1)))]
    with Sandbox([("probe.py", source)], JACOBIAN_NAMES) as box:
        assert box.load() == [name for name in JACOBIAN_NAMES if name != "J_W3"]
        outcome = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
    assert outcome.status == "value" and outcome.value.tolist() == [[0.0]]


def test_the_sandbox_starts_afresh_after_a_crash():
    source = ("import os\n\ndef J_W3(x, y):\n    os._exit(1) if x[0, 0] < 0 else None\n"
              "    return np.full((2, 1), float(os.getpid()))\n")
    params = [(np.ones((1, 1)), np.ones((1, 1)))] * 2 + [(np.ones((2, 1)), np.ones((2, 1)))]
    with Sandbox([("crashy.py", source)], ["J_W3"]) as box:
        box.load()
        first = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
        crash = box.call("J_W3", params, -np.ones((1, 1)), np.ones((2, 1)))
        after = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
    assert crash.status == "crash"
    assert first.status == after.status == "value"
    assert first.value[0, 0] != after.value[0, 0]  # a new process, with a new pid
