"""The hostile zoo (``tests/submissions/hostile``), graded in one batch beside honest
classmates, and what actually happened on the machine: the canaries (copies in a temporary
folder, never real files) untouched, no file written outside the scratch, no process left,
no secret from a file or the environment in any output, no connection made, the grader
within its limits, the classmates' verdicts and the installed package unchanged.

``test_the_attacks_do_damage_outside_the_sandbox`` runs the harmless part of the same
attacks unconfined and shows every one of these detectors fire, so none of them passes
vacuously. The same attacks are then graded under the weaker isolation (Landlock, seccomp
and limits without namespaces) that ``--allow-weak-sandbox`` accepts.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sysconfig
import time
from pathlib import Path

import numpy as np
from grade_arena import Arena, package_digest, processes_with

from autodiff.cli import main
from autodiff.grading.confinement.isolation import probe
from autodiff.grading.confinement.zygote_client import Zygote
from autodiff.grading.loader import JACOBIAN_NAMES, support_source
from autodiff.grading.pool import grade_many
from autodiff.grading.report import to_json, to_text
from autodiff.grading.session import Options, Session

HOSTILE = Path(__file__).resolve().parents[1] / "submissions" / "hostile"
EXPECT = re.compile(r"^# expect (J_\w+): (\S+)$", re.MULTILINE)
OPTIONS = Options(examples=5, seed=7, call_timeout=0.5, total_timeout=30.0)


def expected_verdicts(template: Path) -> dict[str, str]:
    found = dict(EXPECT.findall(template.read_text()))
    return {name: found.get(name, "missing") for name in JACOBIAN_NAMES}


def verdicts(report) -> dict[str, str]:
    return {r.name: "pass" if r.passed else r.failure.kind for r in report.functions}


def test_the_hostile_zoo_does_no_harm(tmp_path):
    """Every hostile submission and two classmates, graded in one batch; then each of the
    checks below on what happened (one run: the batch is the expensive part)."""
    with Arena(tmp_path, HOSTILE) as arena:
        digest, before = package_digest(), arena.snapshot()
        start = time.monotonic()
        batch = grade_many([str(path) for path in arena.submissions], OPTIONS, jobs=1)
        seconds = time.monotonic() - start
        time.sleep(0.2)  # anything a submission left behind has had time to act
        assert batch.sandbox["full"], batch.sandbox
        reports = {Path(report.path).name: report for report in batch.reports}
        check_verdicts(reports, arena)
        assert arena.snapshot() == before, "a file changed, appeared or vanished"
        assert arena.stray_files() == [], "a file was written outside the scratch"
        check_no_secret(batch.reports, arena)
        assert processes_with(arena.marker) == [], "a process was left behind"
        assert arena.teacher_process_state() in "RS", "the teacher's process was signalled"
        assert arena.listener.contacts == [], "a connection reached the teacher's loopback"
        assert package_digest() == digest, "the installed package changed"
        check_limits(batch.reports, seconds)
        check_text(reports["text_injection.py"])
        check_integrity_and_nondeterminism(reports)
        relayed = reports["relay_2_read.py"].functions[0].failure.reason
        assert "found" in relayed and f"{arena.marker}-relayed" not in relayed, relayed


def check_verdicts(reports, arena) -> None:
    for template in sorted(HOSTILE.glob("*.py")):
        assert verdicts(reports[template.name]) == expected_verdicts(template), template.name
    for name in arena.classmates:
        assert reports[name].passed, (name, verdicts(reports[name]))
    rigged = {r.name: r.failure.reason for r in reports["rig_grader.py"].functions}
    assert not any("opened" in reason or "dropped" in reason for reason in rigged.values())


def check_no_secret(reports, arena) -> None:
    output = "\n".join([to_text(r) for r in reports] + [json.dumps(to_json(r)) for r in reports])
    for secret in arena.secrets:
        assert secret not in output, "a secret reached the report"
    # A "Jacobian" may carry a secret as the bytes of its values.
    for report in reports:
        for result in report.functions:
            for array in (getattr(result.failure, "got", None), result.expected):
                if array is not None and array.size:
                    data = bytes(int(v) for v in np.nan_to_num(array.ravel()) % 256)
                    assert not any(secret.encode() in data for secret in arena.secrets)


def check_limits(reports, seconds) -> None:
    for report in reports:
        assert report.seconds <= OPTIONS.total_timeout + 5, report.path
        for result in report.functions:
            if not result.passed and result.failure.kind == "timeout":
                assert "0.5 s" in result.failure.reason, result.failure.reason
    # Each lost call costs about the call limit (0.5 s), never the 30 s a grading may take.
    assert seconds < 120


def check_text(report) -> None:
    text = to_text(report)
    assert not any(c in text for c in "\x1b\r\x07\x00\x08\x7f\u202e\u202c")
    forged = [line for line in text.split("\n") if re.match(r"\s*J_\w+\s+PASS", line)]
    assert forged == [f"  J_b1  PASS  ({OPTIONS.examples + 2} cases)"]
    assert max(len(line) for line in text.split("\n")) < 700  # a megabyte, cut short


def check_integrity_and_nondeterminism(reports) -> None:
    integrity = {r.name: r.failure.reason for r in reports["integrity.py"].functions
                 if not r.passed}
    assert "imports jax (an automatic-differentiation library)" in integrity["J_b3"]
    assert "this project's own reference gradients" in integrity["J_W2"]
    flaky = next(r for r in reports["nondeterministic.py"].functions if r.name == "J_W3")
    assert flaky.failure.first is not None and flaky.failure.got is not None
    assert not np.array_equal(flaky.failure.first, flaky.failure.got)
    assert "first" in flaky.failure.reason and "then" in flaky.failure.reason
    tampered = {r.name: r.failure.reason for r in reports["tamper_guard.py"].functions}
    assert "imports jax" in tampered["J_W3"]
    assert "takes the grader's import guard out" in tampered["J_b3"]
    assert "<unreadable" in tampered["J_b2"] and "<unreadable" in tampered["J_b1"]


def test_the_attacks_do_damage_outside_the_sandbox(tmp_path):
    """The detectors above fire when the same attacks run unconfined (the harmless ones:
    they target only the copies, a listener and a process of this test's)."""
    with Arena(tmp_path, HOSTILE) as arena:
        digest, before = package_digest(), arena.snapshot()
        calls = [("leak_files.py", "J_W3"), ("leak_env.py", "J_W3"), ("write_files.py", "J_W3"),
                 ("write_files.py", "J_b3"), ("write_files.py", "J_W2"),
                 ("network.py", "J_W3"), ("processes.py", "J_W3"), ("processes.py", "J_b1")]
        output = arena.run_unconfined(calls)
        try:
            assert arena.secrets[0] in output and arena.secrets[1] in output
            assert arena.snapshot() != before
            assert arena.listener.contacts
            assert processes_with(arena.marker)
            assert arena.teacher_process_state() == "T"
        finally:
            arena.kill_leftovers()
        assert package_digest() == digest  # (not attacked here: see the zoo's rig_grader.py)


def test_weaker_isolation_still_stops_the_attacks(tmp_path):
    """Without namespaces (what --allow-weak-sandbox accepts where they are missing),
    Landlock, seccomp and the limits still refuse the attacks on files, network,
    environment and processes."""
    with Zygote() as zygote:
        weak = probe(zygote, strong=False)
    assert not weak.strong and "user_namespace" in weak.missing
    assert {"landlock_filesystem", "seccomp", "clean_environment"} <= set(weak.held)
    with Arena(tmp_path, HOSTILE, only=("leak_files.py", "leak_env.py", "write_files.py",
                                         "network.py", "processes.py")) as arena:
        before = arena.snapshot()
        with Session(OPTIONS, isolation=weak) as session:
            reports = [session.grade(path) for path in arena.submissions]
        output = "\n".join(to_text(report) for report in reports)
        for report in reports:
            if Path(report.path).name in arena.classmates:
                assert report.passed
            else:
                assert verdicts(report) == expected_verdicts(HOSTILE / Path(report.path).name)
        assert arena.snapshot() == before and arena.stray_files() == []
        assert not any(secret in output for secret in arena.secrets)
        assert arena.listener.contacts == [] and processes_with(arena.marker) == []
        assert arena.teacher_process_state() in "RS"


def test_weaker_isolation_reads_no_package_beside_the_standard_library(tmp_path):
    """Landlock allows whole folders; the folder of libpython holds the standard library,
    which holds the interpreter's own site-packages (where sympy or jax may live). Under the
    weaker isolation a submission imports from the standard library but reads no file of the
    package folders; unconfined, the same reads succeed (so the check can fail)."""
    stdlib = os.path.dirname(os.__file__)
    files = [_some_file(path) for path in (os.path.join(stdlib, "site-packages"),
                                           sysconfig.get_paths()["purelib"])]
    files = [path for path in files if path is not None]
    assert files, "no package file to try"
    source = ("import os\ndef J_W3(x, y):\n    import colorsys, fractions\n"
              "    found = {}\n"
              f"    for path in {files!r}:\n"
              "        try:\n            found[path] = len(open(path, 'rb').read(10))\n"
              "        except OSError as error:\n            found[path] = error.errno\n"
              "    raise RuntimeError(repr(found))\n")
    (tmp_path / "reader.py").write_text(source)
    with Zygote() as zygote:
        weak = probe(zygote, strong=False)
    with Session(OPTIONS, isolation=weak) as session:
        reason = session.grade(tmp_path / "reader.py").functions[0].failure.reason
    assert reason.startswith("RuntimeError: {"), reason  # the imports worked
    found = eval(reason.split(": ", 1)[1].rsplit(" (reader.py", 1)[0])
    assert found == {path: errno.EACCES for path in files}, found
    assert all(Path(path).read_bytes()[:10] for path in files)


def _some_file(folder):
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            if os.path.isfile(path) and os.path.getsize(path) > 10:
                return path
    return None


def test_hostile_files_are_rows_of_the_report_never_a_crash(tmp_path, capsys):
    """Deeply nested JSON, a deeply nested marked cell, a notebook over the size cap and a
    marked cell of two megabytes each give a reason, exit status 2."""
    nested = "# GRADED FUNCTION\nx = " + "(" * 100_000 + ")" * 100_000
    cell = {"cell_type": "code", "source": nested}
    files = {"deep.ipynb": "[" * 200_000 + "]" * 200_000,
             "nested_cell.ipynb": json.dumps({"cells": [cell]}),
             "huge.ipynb": json.dumps({"cells": [], "x": "0" * (26 << 20)}),
             "big_cell.ipynb": json.dumps({"cells": [{"cell_type": "code",
                                                      "source": "# PACKAGE\n" + "#" * (2 << 20)}]})}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    status = main(["grade", str(tmp_path), "--json", "-j", "1", "--seed", "0", "--examples", "2"])
    assert status == 2
    errors = {Path(r["file"]).name: r["load_error"]
              for r in json.loads(capsys.readouterr().out)["submissions"]}
    assert "nested too deeply" in errors["deep.ipynb"]
    assert re.search("SyntaxError|RecursionError|MemoryError", errors["nested_cell.ipynb"])
    assert "more than the 25 MiB" in errors["huge.ipynb"]
    assert "more than 1 MiB of code" in errors["big_cell.ipynb"]


def test_links_and_pipes_in_a_class_folder_are_rows_never_followed(tmp_path, capsys):
    """A class archive may carry a symbolic link named like a submission, pointing at a file
    of the teacher's, and a pipe that would block a reader for ever: each is a row saying
    why it was not graded, and no byte of the linked file reaches the report."""
    secret = f"sk_linked_{os.getpid()}"  # a name: a NameError would quote it
    (tmp_path / "id_rsa").write_text(f"J_W3 = {secret}\n")
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "alice.py").symlink_to(tmp_path / "id_rsa")
    (klass / "nested").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(klass / "bob.py")
    shutil.copy(HOSTILE.parent / "correct_worksheet.py", klass / "carol.py")
    status = main(["grade", str(klass), "--json", "-j", "1", "--seed", "0", "--examples", "2"])
    output = capsys.readouterr().out
    assert status == 2 and secret not in output
    rows = {Path(r["file"]).name: r for r in json.loads(output)["submissions"]}
    assert sorted(rows) == ["alice.py", "bob.py", "carol.py"]  # the linked folder not entered
    assert "symbolic link" in rows["alice.py"]["load_error"]
    assert "not a regular file" in rows["bob.py"]["load_error"]
    assert rows["carol.py"]["load_error"] is None


def test_the_support_code_alone_defines_no_jacobian():
    """The attacks' calls above use only the worksheet's support code and their own."""
    namespace: dict = {}
    exec(support_source(), namespace)
    assert not [name for name in JACOBIAN_NAMES if name in namespace]


def test_the_environment_seen_by_a_submission_is_its_own(tmp_path):
    with Session(OPTIONS) as session:
        source = "import os\ndef J_W3(x, y):\n    raise RuntimeError(repr(sorted(os.environ)))\n"
        (tmp_path / "env.py").write_text(source)
        os.environ["BACKPROP_SHOULD_NOT_LEAK"] = "1"
        try:
            report = session.grade(tmp_path / "env.py")
        finally:
            del os.environ["BACKPROP_SHOULD_NOT_LEAK"]
    reason = report.functions[0].failure.reason
    assert "['HOME', 'LANG', 'PATH', 'TMPDIR']" in reason
