"""Grading a class: paths (files, folders, globs), parallel workers that agree with one at a
time, Ctrl-C that keeps what was graded and leaves no process, and the run's seed: fresh and
printed by default, reproducing with ``--seed``, so that a table of answers recorded against
one seed passes under that seed only."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

from autodiff.cli import main
from autodiff.grading.casebook import CaseBook
from autodiff.grading.pool import expand, grade_many
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
ROOT = Path(__file__).resolve().parents[2]


def test_paths_expand_files_folders_and_globs_once_each(tmp_path):
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / ".ipynb_checkpoints").mkdir()
    for name in ("class/alice/hw.ipynb", "class/bob.py", "class/notes.txt",
                 "class/.ipynb_checkpoints/hw-checkpoint.ipynb", "extra.py"):
        (tmp_path / name).write_text("")
    files, unmatched = expand([str(tmp_path / "class"), str(tmp_path / "*.py"),
                               str(tmp_path / "class" / "bob.py"), str(tmp_path / "none*.py")])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == [
        "class/alice/hw.ipynb", "class/bob.py", "extra.py"]
    assert unmatched == [str(tmp_path / "none*.py")]


def test_parallel_workers_give_the_verdicts_of_one_at_a_time(tmp_path):
    # Failures that need no shrinking (so no worker pays for JAX): missing, hanging, broken.
    (tmp_path / "broken.py").write_text("def J_W3(x, y)\n")
    (tmp_path / "hangs.py").write_text("def J_W3(x, y):\n    while True:\n        pass\n")
    paths = [str(ZOO / "correct_einsum.py"), str(tmp_path / "hangs.py"),
             str(ZOO / "correct_notebook.ipynb"), str(tmp_path / "broken.py")]
    options = Options(examples=5, seed=11, call_timeout=0.5)
    done = []
    parallel = grade_many(paths, options, jobs=2, progress=done.append)
    serial = grade_many(paths, options, jobs=1)

    def verdicts(batch):
        return [(r.path, r.load_error is None and {f.name: f.passed for f in r.functions})
                for r in batch.reports]

    assert verdicts(parallel) == verdicts(serial)
    assert [r.path for r in parallel.reports] == paths and len(done) == len(paths)
    assert parallel.seed == serial.seed == 11 and not parallel.interrupted
    assert "SyntaxError" in parallel.reports[-1].load_error


def test_a_worker_that_cannot_be_sent_to_is_replaced_and_its_file_graded(tmp_path,
                                                                         monkeypatch):
    """The first send to a worker fails as it does when the worker was killed while it
    started (BrokenPipeError): the worker is replaced, the file goes back to the queue once,
    and every file is graded as before. Twice for the same file: it is a row, not graded."""
    from multiprocessing.connection import Connection

    send, failures = Connection.send, []

    def failing(self, obj):
        if isinstance(obj, str) and len(failures) < limit:
            failures.append(obj)
            raise BrokenPipeError(32, "Broken pipe")
        return send(self, obj)

    monkeypatch.setattr(Connection, "send", failing)
    paths = [str(ZOO / "correct_mean.py"), str(ZOO / "correct_loops.py")]
    options = Options(examples=2, seed=3, names=("J_b3",))
    limit = 1
    batch = grade_many(paths, options, jobs=2)
    assert failures == paths[:1] and not batch.interrupted
    assert [(r.path, r.passed) for r in batch.reports] == [(paths[0], True), (paths[1], True)]
    limit, failures[:] = 2, []
    batch = grade_many(paths[:2], options, jobs=2)
    first = batch.reports[0]
    assert failures == paths[:1] * 2 and [r.path for r in batch.reports] == paths
    assert first.load_error.startswith("not graded: the grader's worker process ended")
    assert batch.reports[1].passed


def test_a_worker_killed_while_it_grades_is_a_row_and_the_run_goes_on(tmp_path):
    """SIGKILL to a worker whose sandbox is loading a submission that never finishes: that
    file is a row ('the grader's worker process ended'), the others are graded."""
    import threading

    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("while True:\n    pass\n")
    paths = [str(tmp_path / "a.py"), str(tmp_path / "b.py"), str(ZOO / "correct_mean.py")]
    killed = []

    def kill_a_grading_worker():
        while not killed:
            for pid in _descendants(os.getpid()):
                if "spawn_main" in _cmdline(pid) and len(_descendants(pid)) >= 2:
                    os.kill(pid, signal.SIGKILL)  # its zygote and a sandbox run: it grades
                    killed.append(pid)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=kill_a_grading_worker, daemon=True)
    thread.start()
    batch = grade_many(paths, Options(examples=2, seed=3, names=("J_b3",),
                                      total_timeout=8.0), jobs=2)
    killed.append(None)  # stops the thread if it found nothing
    thread.join()
    assert killed[0] is not None and [r.path for r in batch.reports] == paths
    errors = [r.load_error or "" for r in batch.reports]
    assert sum(error.startswith("not graded: the grader's worker process ended (exit status "
                                "-9)") for error in errors) == 1, errors
    assert sum("did not finish within 8 s" in error for error in errors) == 1, errors
    assert batch.reports[2].passed


def test_cli_grades_a_small_class_with_summary_lines_and_csv_rows(tmp_path, capsys):
    """End to end: a folder of zoo files, one broken, through ``backprop grade``."""
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("correct_mean.py", "mistakes_a.py"):
        shutil.copy(ZOO / name, klass / name)
    for name in ("d1.py", "d2.py"):
        shutil.copy(ZOO / "diagnoses" / "helper_d_sigma.py", klass / name)
    (klass / "zz_broken.py").write_text("def J_W3(x, y)\n")
    grades = tmp_path / "grades.csv"
    assert main(["grade", str(klass), "--csv", str(grades), "--only", "J_W3", "--only", "J_b3",
                 "--examples", "5", "--seed", "0", "-j", "2"]) == 2
    out = capsys.readouterr().out
    assert "5 of 5 submissions graded (seed 0" in out
    assert ("Class summary: 5 submissions, 4 graded, 1 did not load; 1 of 4 pass every "
            "function") in out
    assert re.search(r"^  J_W3 +1 of 4 pass$", out, re.MULTILINE)
    assert re.search(r"^  J_b3 +1 of 4 pass$", out, re.MULTILINE)
    assert re.search(r"^ +2 submissions: their own d_sigma is wrong  \(J_W3 ×2, J_b3 ×2\)$",
                     out, re.MULTILINE), out
    assert re.search(r"^ +1 submission: sign flipped", out, re.MULTILINE)
    assert re.search(r"^Did not load:\n  \S*zz_broken\.py: .*SyntaxError", out, re.MULTILINE)
    rows = {Path(row[0]).name: row for row in csv.reader(grades.open())}
    assert rows.pop("file") == ["file", "J_W3", "J_b3", "score", "max_score", "diagnoses",
                                "flags"]
    assert rows["correct_mean.py"][1:5] == ["1", "1", "2", "2"]
    assert rows["d1.py"][1:5] == ["0", "0", "0", "2"]
    assert rows["d1.py"][5] == "J_W3: wrong_d_sigma; J_b3: wrong_d_sigma"
    assert "J_b3: sign" in rows["mistakes_a.py"][5]
    assert rows["zz_broken.py"][5].startswith("did not load:") and (
        rows["zz_broken.py"][6] == "did_not_load")


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _class_graded_on_a_terminal_until_two_are_done(tmp_path):
    """``(process, controller, tree)``: a run of six submissions (two correct, four that never
    return) on a pseudo-terminal, after the progress bar showed two done; ``tree`` maps every
    process of the run seen so far to its command line."""
    for index in range(2):
        shutil.copy(ZOO / "correct_mean.py", tmp_path / f"a{index}.py")
    for index in range(4):
        (tmp_path / f"z{index}.py").write_text("def J_W3(x, y):\n    while True:\n        pass\n")
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiff", "grade", str(tmp_path), "-j", "2", "--seed", "1",
         "--examples", "3", "--call-timeout", "60", "--csv", str(tmp_path / "grades.csv")],
        stdout=subprocess.PIPE,
        stderr=terminal, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    os.close(terminal)
    screen, tree = b"", {}  # every process of the run seen: pid -> command line
    deadline = time.monotonic() + 120
    while b"2/6" not in screen and time.monotonic() < deadline:
        if select.select([controller], [], [], 0.2)[0]:
            screen += os.read(controller, 4096)
        tree |= {pid: _cmdline(pid) for pid in _descendants(process.pid) if pid not in tree}
    assert b"2/6" in screen, screen[-500:]
    tree |= {pid: _cmdline(pid) for pid in _descendants(process.pid) if pid not in tree}
    return process, controller, tree


def _still_running(tree: dict) -> list[int]:
    return [pid for pid, line in tree.items() if line and _cmdline(pid) == line]


def test_ctrl_c_stops_cleanly_and_keeps_what_was_graded(tmp_path):
    """On a terminal, with a progress bar: interrupted after two submissions of six."""
    process, controller, tree = _class_graded_on_a_terminal_until_two_are_done(tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    stdout, _ = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 130
    assert re.findall(r"PASS +6/6 +\S*a\d\.py", stdout) and "of 6 submissions graded" in stdout
    # The gradebook keeps what was graded: the two correct ones, with their full score.
    rows = {row[0]: row for row in csv.reader((tmp_path / "grades.csv").open())}
    assert rows.pop("file")[-4:] == ["score", "max_score", "diagnoses", "flags"]
    assert {Path(file).name for file in rows} >= {"a0.py", "a1.py"}
    assert rows[str(tmp_path / "a0.py")][-4:-2] == ["6", "6"]
    assert any("zygote.py" in line for line in tree.values())  # the tree was seen whole
    time.sleep(0.5)
    assert _still_running(tree) == []


def test_ctrl_c_in_the_first_seconds_stops_the_run_and_writes_the_csv(tmp_path):
    """Ctrl-C while the cases are drawn and the workers start: a KeyboardInterrupt raised in
    hypothesis' gc callback is lost (CPython ignores it there), so the run used to go on and
    grade the whole class. Sent again and again from the moment the grader's first child
    exists, every one must count: exit 130, the CSV written, no process left."""
    klass = tmp_path / "class"
    klass.mkdir()
    for index in range(4):
        shutil.copy(ZOO / "correct_mean.py", klass / f"s{index}.py")
    grades = tmp_path / "grades.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiff", "grade", str(klass), "-j", "2", "--seed", "1",
         "--examples", "3", "--csv", str(grades)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    tree: dict = {}
    while not tree and process.poll() is None:  # past the interpreter's start-up
        tree = {pid: _cmdline(pid) for pid in _descendants(process.pid)}
    for delay in (0.0, 0.5, 0.7):
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        tree |= {pid: _cmdline(pid) for pid in _descendants(process.pid) if pid not in tree}
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (stdout[-500:], stderr[-2000:])
    assert "interrupted" in stderr and "Traceback" not in stderr
    rows = list(csv.reader(grades.open()))
    assert rows[0][:2] == ["file", "J_W3"] and len(rows) < 5  # not the whole class
    assert all(row[0].startswith(str(klass)) and row[-3] == "6" for row in rows[1:])
    time.sleep(0.5)
    assert _still_running(tree) == []


def test_a_grader_killed_outright_leaves_no_process(tmp_path):
    """SIGKILL to the grader alone (no handler of its own runs): its workers, their zygotes
    and the sandboxes running the never-returning submissions all end with it."""
    process, controller, tree = _class_graded_on_a_terminal_until_two_are_done(tmp_path)
    assert len(tree) > 3  # workers, zygotes and sandboxes were seen
    process.kill()
    process.wait(timeout=30)  # its stdout may be held open by what it left
    process.stdout.close()
    os.close(controller)
    deadline = time.monotonic() + 15
    while _still_running(tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _still_running(tree)
    with contextlib.suppress(ProcessLookupError):  # whatever this test would leave behind
        os.killpg(process.pid, signal.SIGKILL)
    assert left == []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_the_default_seed_is_fresh_printed_and_reproducible(capsys):
    argv = ["grade", str(ZOO / "correct_mean.py"), "--examples", "2", "--only", "J_b3"]
    seeds = []
    for _ in range(2):
        assert main([*argv, "--json"]) == 0
        seeds.append(json.loads(capsys.readouterr().out)["seed"])
    assert seeds[0] != seeds[1]
    assert main([*argv, "--seed", str(seeds[0])]) == 0
    assert f"seed {seeds[0]}: --seed {seeds[0]} reproduces" in capsys.readouterr().out


def _replay_table(book: CaseBook) -> str:
    """A submission that answers from a table of the book's expected Jacobians."""
    table = {}
    for case in book.cases:
        (W1, b1), (W2, b2), (W3, b3) = case.params
        key = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes()
                                      for a in (W1, b1, W2, b2, W3, b3, case.x, case.y)))
        table[key.hexdigest()] = {k: v.tolist() for k, v in book.oracle(case)[0].items()}
    functions = "".join(f"def J_{block}(x, y):\n    return _answer({block!r}, x, y)\n\n"
                        for block in ("W3", "b3", "W2", "b2", "W1", "b1"))
    return (f"import hashlib\nimport numpy as np\nTABLE = {table!r}\n\n"
            "def _answer(block, x, y):\n"
            "    arrays = (W1, b1, W2, b2, W3, b3, x, y)\n"
            "    key = hashlib.sha256(b''.join(np.ascontiguousarray(a).tobytes() "
            "for a in arrays)).hexdigest()\n"
            "    return np.array(TABLE[key][block]) if key in TABLE "
            "else np.zeros_like(globals()[block])\n\n" + functions)


def test_a_table_of_answers_recorded_against_one_seed_fails_under_a_fresh_one(tmp_path):
    options = Options(examples=4, seed=20260101)
    path = tmp_path / "replay.py"
    with Session(options) as recorded:
        path.write_text(_replay_table(recorded.book))
        assert recorded.grade(path).passed
    with Session(Options(examples=4)) as fresh:
        report = fresh.grade(path)
    assert report.seed != options.seed and not report.passed
    assert {r.failure.kind for r in report.functions} == {"value"}


def test_the_grading_benchmark_takes_the_graders_exit_statuses_and_a_mix_of_the_zoo():
    """benchmarks/grading.py times commands that grade: 0 and 1 are gradings (a mix of the zoo
    has failures), anything else stops it; the mix's files exist and start with a correct
    one (the one-file rows grade the first)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_grading",
                                                  ROOT / "benchmarks" / "grading.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for status in (0, 1):
        wall, cpu = bench.timed([sys.executable, "-c", f"raise SystemExit({status})"], ROOT)
        assert wall > 0 and cpu >= 0
    with pytest.raises(SystemExit, match=r"failed \(3\)"):
        bench.timed([sys.executable, "-c", "raise SystemExit(3)"], ROOT)
    assert all((ZOO / name).is_file() for name in bench.MIX)
    assert bench.MIX[0] in bench.CORRECT and set(bench.MIX) - set(bench.CORRECT)
