"""Ctrl-C once a grading run has stopped: the gradebook of what was graded is still written.

A second Ctrl-C (or a first one that lands while the outputs are written) used to reach
Python's default handler, ending the process before the CSV was complete."""

from __future__ import annotations

import csv
import os
import shutil
import signal
from pathlib import Path

from autodiff.cli import main
from autodiff.grading import gradebook

ZOO = Path(__file__).resolve().parents[1] / "submissions"


def test_ctrl_c_while_the_gradebook_is_written_is_held_until_it_is_written(tmp_path, monkeypatch,
                                                                           capsys):
    klass = tmp_path / "class"
    klass.mkdir()
    for index in range(2):
        shutil.copy(ZOO / "correct_mean.py", klass / f"s{index}.py")
    grades = tmp_path / "grades.csv"
    write_csv = gradebook.write_csv

    def interrupted_write(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # delivered here, before the first row is written
        return write_csv(*args, **kwargs)

    monkeypatch.setattr(gradebook, "write_csv", interrupted_write)
    previous = signal.getsignal(signal.SIGINT)
    try:
        status = main(["grade", str(klass), "-j", "1", "--seed", "1", "--examples", "3",
                       "--csv", str(grades)])
        # Interrupted, the command holds any further Ctrl-C until the process ends.
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert status == 130
    assert "interrupted" in capsys.readouterr().err
    rows = list(csv.reader(grades.open()))
    assert [Path(row[0]).name for row in rows[1:]] == ["s0.py", "s1.py"]
    assert all(row[-3] == "6" for row in rows[1:])
