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
from autodiff.grading.confinement.sandbox import Sandbox
from autodiff.grading.loader import JACOBIAN_NAMES
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
EXPECT = re.compile(r"^# expect (J_\w+): (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def session():
    with Session(Options(examples=10, seed=0, call_timeout=0.5)) as session:
        yield session


@pytest.fixture(scope="module")
def misbehaving_reports(session):
    return {name: session.grade(ZOO / name) for name in ("misbehaving_a.py", "misbehaving_b.py")}


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


def test_files_that_cannot_be_loaded_exit_2_with_the_reason(tmp_path, capsys):
    for filename, (source, _) in LOAD_FAILURES.items():
        (tmp_path / filename).write_text(source)
    paths = [str(tmp_path / filename) for filename in sorted(LOAD_FAILURES)]
    assert main(["grade", *paths, "--timeout", "1", "-j", "1", "--json", "--seed", "0"]) == 2
    reports = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)["submissions"]}
    for filename, (_, reason) in LOAD_FAILURES.items():
        assert reason in reports[filename]["load_error"], filename
    assert main(["grade", paths[0], "--timeout", "1"]) == 2
    assert LOAD_FAILURES[Path(paths[0]).name][1] in capsys.readouterr().out


def test_a_syntax_error_names_its_place_once(session, tmp_path):
    (tmp_path / "typo.py").write_text("import numpy as np\n\ndef J_W3(x, y)\n    return x\n")
    error = session.grade(tmp_path / "typo.py").load_error
    assert error.startswith("SyntaxError: ") and error.count("typo.py, line 3") == 1, error


@pytest.mark.parametrize("argument", ["absent.py", "absent/*.ipynb", "empty"])
def test_a_path_that_names_no_submission_exits_2_naming_it(argument, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / argument), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"{tmp_path / argument}: no such file" in captured.err


def test_the_child_process_never_imports_jax(session):
    source = "import sys\n\ndef J_W3(x, y):\n    return np.array([[float('jax' in sys.modules)]])\n"
    params = [(np.ones((1, 1)), np.ones((1, 1)))] * 2 + [(np.ones((2, 1)), np.ones((2, 1)))]
    with Sandbox(session.zygote, session.isolation, [("probe.py", source)], JACOBIAN_NAMES) as box:
        assert box.load() == [name for name in JACOBIAN_NAMES if name != "J_W3"]
        outcome = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
    assert outcome.status == "value" and outcome.value.tolist() == [[0.0]]


def test_the_sandbox_starts_afresh_after_a_crash(session):
    source = ("import os\ncalls = []\n\ndef J_W3(x, y):\n    calls.append(1)\n"
              "    os._exit(1) if x[0, 0] < 0 else None\n"
              "    return np.full((2, 1), float(len(calls)))\n")
    params = [(np.ones((1, 1)), np.ones((1, 1)))] * 2 + [(np.ones((2, 1)), np.ones((2, 1)))]
    with Sandbox(session.zygote, session.isolation, [("crashy.py", source)], ["J_W3"]) as box:
        box.load()
        first = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
        crash = box.call("J_W3", params, -np.ones((1, 1)), np.ones((2, 1)))
        after = box.call("J_W3", params, np.ones((1, 1)), np.ones((2, 1)))
    assert crash.status == "crash" and "exit status 1" in crash.message
    # A fresh process ran the cells again: its list of calls starts empty.
    assert first.value[0, 0] == after.value[0, 0] == 1.0
