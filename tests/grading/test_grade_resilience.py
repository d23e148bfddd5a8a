"""No submission costs anyone else's result: a file name that is not UTF-8, a legal name of 254
bytes, a notebook whose ``execution_count`` Python cannot convert, a ``network_function``
whose stages have the wrong shape — graded alone, one at a time (``-j 1``) and in parallel
(``-j 2``), each is its own row, and the CSV and every Gradescope file are written for the
class. A BOM is accepted, and grading leaves nothing in the folder it runs in."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.cli import main
from autodiff.grading.escape import escaped
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
HOSTILE = ZOO / "gradebook"
LATIN1 = os.fsdecode(b"caf\xe9.py")  # a Latin-1 "é" from an old zip
LONG = "é" * 125 + "x.py"  # 254 bytes: legal; with ".json" added, too long
ARGS = ["--only", "J_W3", "--examples", "5", "--seed", "0"]


def _notebook(*, execution_count: str | None = None, bom: bool = False) -> str:
    """The correct zoo notebook, its first code cell's count replaced by ``execution_count``
    digits, saved with a BOM if ``bom``."""
    text = (ZOO / "correct_notebook.ipynb").read_text()
    if execution_count is not None:
        document = json.loads(text)
        next(cell for cell in document["cells"] if cell["cell_type"] == "code")[
            "execution_count"] = 0
        text = json.dumps(document).replace('"execution_count": 0', '"execution_count": '
                                             + execution_count, 1)
    return ("\ufeff" if bom else "") + text


@pytest.fixture
def hostile_class(tmp_path) -> Path:
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("alice.py", LATIN1, LONG):
        shutil.copy(ZOO / "correct_mean.py", klass / name)
    (klass / "huge.ipynb").write_text(_notebook(execution_count="9" * 5000))
    shutil.copy(HOSTILE / "misshapen_stages.py", klass / "misshapen.py")
    return klass


EXPECTED = {"alice.py": "1", LATIN1: "1", LONG: "1", "huge.ipynb": "1", "misshapen.py": "0"}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_row_and_file_is_written_whatever_one_submission_holds(hostile_class, tmp_path,
                                                                    capsys, jobs):
    grades, results = tmp_path / "grades.csv", tmp_path / "results.json"
    status = main(["grade", str(hostile_class), "--csv", str(grades), "--gradescope",
                   str(results), *ARGS, "-j", jobs])
    out = capsys.readouterr().out
    assert status == 1, out  # misshapen's J_W3 fails; nothing failed to load
    rows = list(csv.reader(grades.open(encoding="utf-8")))
    scores = {row[0]: row[2] for row in rows[1:]}
    assert scores == {escaped(str(hostile_class / name)): score
                      for name, score in EXPECTED.items()}
    misshapen = next(row for row in rows if row[0].endswith("misshapen.py"))
    assert "wrong_network_function" in misshapen[-2] and misshapen[-1] == ""
    written = {path.name: json.loads(path.read_text()) for path in
               (tmp_path / "results").iterdir()}
    assert len(written) == len(EXPECTED)
    assert all(len(name.encode()) <= 255 for name in written)
    assert sorted(document["score"] for document in written.values()) == [0, 1, 1, 1, 1]
    assert written["caf\\udce9.py.json"]["score"] == 1


@pytest.mark.parametrize("name", [LATIN1, LONG, "huge.ipynb", "misshapen.py"])
def test_one_hostile_file_alone_gets_its_report_and_gradebook(hostile_class, tmp_path, capsys,
                                                              name):
    grades, results = tmp_path / "grades.csv", tmp_path / "results.json"
    status = main(["grade", str(hostile_class / name), "--csv", str(grades),
                   "--gradescope", str(results), *ARGS])
    out = capsys.readouterr().out
    assert status == int(EXPECTED[name] == "0"), out
    assert "J_W3  " in out and "cannot be graded" not in out
    [_, row] = list(csv.reader(grades.open(encoding="utf-8")))
    assert row[0] == escaped(str(hostile_class / name)) and row[2] == EXPECTED[name]
    assert json.loads(results.read_text())["score"] == int(EXPECTED[name])


def test_the_diagnosis_never_broadcasts_a_submissions_stages():
    with Session(Options(examples=5, seed=0, names=("J_W3",))) as session:
        report = session.grade(HOSTILE / "misshapen_stages.py")
    [result] = report.functions
    assert report.load_error is None and not result.passed
    assert dict(result.diagnosis)["wrong_network_function"] == (
        "your network_function returns a3 of shape (5, 2); the network's a3 has shape (2, 5)")


def test_a_bug_in_the_diagnosis_keeps_the_verdict(monkeypatch):
    """The last net: whatever the diagnosis raises, the function's verdict stands."""
    from autodiff.grading import grader

    def broken(*args):
        raise ValueError("a bug of ours")

    monkeypatch.setattr(grader, "diagnose", broken)
    with Session(Options(examples=5, seed=0, names=("J_W3",))) as session:
        report = session.grade(ZOO / "mistakes_a.py")
    [result] = report.functions
    assert not result.passed and result.failure.kind == "value"
    assert [key for key, _ in result.diagnosis] == ["not_diagnosed"]
    assert "ValueError: a bug of ours" in result.diagnosis[0][1]


@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
def test_a_correct_file_saved_with_a_bom_passes(tmp_path, suffix):
    path = tmp_path / f"bom{suffix}"
    if suffix == ".py":
        path.write_bytes(b"\xef\xbb\xbf" + (ZOO / "correct_mean.py").read_bytes())
    else:
        path.write_text(_notebook(bom=True), encoding="utf-8")
    with Session(Options(examples=5, seed=0)) as session:
        report = session.grade(path)
    assert report.load_error is None and report.passed


def test_grading_leaves_the_folder_it_runs_in_unchanged(tmp_path):
    """Hypothesis caches what it reads of local modules under ``.hypothesis/`` of the
    folder it was started in; the grader's draws and searches keep that out of the
    teacher's folders (a fresh process: the cache is written once per process)."""
    shutil.copy(ZOO / "mistakes_a.py", tmp_path / "student.py")
    before = sorted(os.listdir(tmp_path))
    done = subprocess.run([sys.executable, "-m", "autodiff", "grade", "student.py",
                           "--examples", "30", "--only", "J_b3", "--only", "J_W1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert sorted(os.listdir(tmp_path)) == before
