"""The sandbox's rules, judged by the damage they prevent on this machine, in both modes (full
isolation, and the weak sandbox without namespaces): System V shared memory does not grow
the machine's ``Shmem`` nor outlive the grading; no descriptor can be armed to signal a
process of the teacher's; a teacher's file keeps its mode, times and extended attributes;
the largest allowed answers on every call are read, not refused; no process of the sandbox
carries the grader's pid on its command line. And the other side: correct code that also
uses threads, temporary files, sleeping and the standard library still passes in both modes
(a rule too strict is a false verdict)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from grade_arena import Arena

from autodiff.grading.confinement.isolation import probe
from autodiff.grading.confinement.sandbox import Sandbox
from autodiff.grading.confinement.zygote_client import Zygote
from autodiff.grading.loader import JACOBIAN_NAMES, LoadError
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
HOSTILE = ZOO / "hostile"
OPTIONS = Options(examples=3, seed=11, call_timeout=5.0, total_timeout=60.0)
MODES = ("full", "weak")


def _session(mode: str) -> Session:
    if mode == "full":
        return Session(OPTIONS)
    with Zygote() as zygote:
        weak = probe(zygote, strong=False)
    return Session(OPTIONS, isolation=weak)


def _graded(mode: str, path: Path):
    with _session(mode) as session:
        report = session.grade(path)
    return {r.name: r for r in report.functions}


def _shmem_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Shmem line in /proc/meminfo")


def _segments(keys) -> list[int]:
    """The ids of the System V segments with one of ``keys`` (listed as a signed int)."""
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [int(fields[1]) for fields in map(str.split, lines)
            if int(fields[0]) % (1 << 32) in keys]


@pytest.mark.parametrize("mode", MODES)
def test_sysv_shared_memory_grows_nothing_and_outlives_nothing(mode, tmp_path):
    """sysv_shm.py fills six 128 MiB segments per call (768 MiB, outside the address-space
    cap); the machine's Shmem, sampled during the grading, stays within 256 MiB of where it
    started (other processes share the machine), and no segment is left."""
    with Arena(tmp_path, HOSTILE, only=("sysv_shm.py",)) as arena:
        key = int(arena.marker[6:14], 16)
        keys = {key + index for index in range(6)}
        start, peak, done = _shmem_bytes(), [0], threading.Event()

        def sample():
            while not done.wait(0.01):
                peak[0] = max(peak[0], _shmem_bytes())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            result = _graded(mode, arena.klass / "sysv_shm.py")["J_W3"]
        finally:
            done.set()
            sampler.join()
            left = _segments(keys)
            libc = ctypes.CDLL(None, use_errno=True)
            for ident in left:
                libc.shmctl(ident, 0, None)  # IPC_RMID: the test cleans up what leaked
        assert peak[0] - start < 256 << 20, f"Shmem grew by {(peak[0] - start) >> 20} MiB"
        assert left == [], "a System V segment outlived the grading"
        assert result.failure.kind == "raised" and "shmget refused" in result.failure.reason


@pytest.mark.parametrize("mode", MODES)
def test_no_descriptor_can_be_armed_to_signal_the_teacher(mode, tmp_path):
    """async_signal.py makes a process of the teacher's the owner of every descriptor it
    has (the grader's pipes included), with SIGKILL as the signal, by fcntl and by ioctl;
    every attempt is refused, and the process lives."""
    with Arena(tmp_path, HOSTILE, only=("async_signal.py",)) as arena:
        results = _graded(mode, arena.klass / "async_signal.py")
        time.sleep(0.2)  # a signal on the grader's last write has had time to arrive
        assert arena.teacher_process_state() in "RS", "the teacher's process was signalled"
    for name in ("J_W3", "J_b3"):
        reason = results[name].failure.reason
        assert "armed 0 descriptors" in reason, (name, reason)


SIGNAL_BY_OWNERSHIP = """
import fcntl, importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location("seccomp", sys.argv[1])
seccomp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seccomp)
read, write = os.pipe()
if sys.argv[3] == "filtered":
    seccomp.install(strong=False)
for step in (lambda: fcntl.fcntl(read, fcntl.F_SETOWN, int(sys.argv[2])),
             lambda: fcntl.fcntl(read, 10, signal.SIGKILL),
             lambda: fcntl.fcntl(read, fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK)):
    try:
        step()
    except OSError as error:
        print(error.errno)
os.write(write, b"x")
"""


@pytest.mark.parametrize("filtered", [False, True])
def test_the_filter_alone_stops_a_signal_by_ownership(filtered):
    """Landlock's signal scoping (ABI 6) also stops this attack where the kernel has it; the
    filter must stop it alone: with it, F_SETOWN, F_SETSIG and O_ASYNC are refused and the
    sacrificial process lives; without it, the same code kills that process."""
    from autodiff.grading.confinement import seccomp

    victim = subprocess.Popen(["sleep", "60"])
    try:
        result = subprocess.run(
            [sys.executable, "-c", SIGNAL_BY_OWNERSHIP, seccomp.__file__, str(victim.pid),
             "filtered" if filtered else "bare"], capture_output=True, text=True, timeout=30)
        time.sleep(0.2)
        alive = victim.poll() is None
    finally:
        victim.kill()
        victim.wait()
    assert result.returncode == 0, result.stderr
    if filtered:
        assert result.stdout.split() == ["1", "1", "1"] and alive  # EPERM thrice
    else:
        assert result.stdout == "" and not alive


def _metadata(path: Path) -> tuple:
    status = os.stat(path)
    attributes = {name: os.getxattr(path, name) for name in os.listxattr(path)}
    return status.st_mode, status.st_mtime_ns, status.st_atime_ns, attributes


@pytest.mark.parametrize("mode", MODES)
def test_a_teachers_file_keeps_its_mode_times_and_attributes(mode, tmp_path):
    """file_metadata.py tries chmod, utimensat and setxattr on a copy of a teacher's file;
    Landlock covers none of them, so in the weak sandbox the filter must."""
    with Arena(tmp_path, HOSTILE, only=("file_metadata.py",)) as arena:
        canary = arena.home / "canary.txt"
        try:
            os.setxattr(canary, "user.backprop", b"teacher")
        except OSError as error:
            pytest.skip(f"no user extended attributes on {tmp_path}: {error}")
        os.utime(canary, ns=(1_000_000_000, 2_000_000_000))
        before = _metadata(canary)
        results = _graded(mode, arena.klass / "file_metadata.py")
        assert _metadata(canary) == before
    for name in ("J_W3", "J_b3", "J_W2"):
        reason = results[name].failure.reason
        assert reason.startswith(("PermissionError", "FileNotFoundError")), (name, reason)


def test_the_largest_answers_on_every_call_are_read_not_refused(tmp_path):
    """Answers of 2**16 elements on every call stream back several frames at once; each is
    within the bound, so the verdict is about the answer (its shape), never ``protocol``."""
    shutil.copy(HOSTILE / "largest_answers.py", tmp_path / "largest.py")
    results = _graded("full", tmp_path / "largest.py")
    kinds = {name: result.failure.kind for name, result in results.items()}
    assert kinds == dict.fromkeys(JACOBIAN_NAMES, "shape"), kinds


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                children = (task / "children").read_text().split()
                found += map(int, children)
                todo += map(int, children)
    return found


@pytest.mark.parametrize("mode", MODES)
def test_no_sandbox_process_carries_the_graders_pid(mode):
    """The zygote and every process of a sandbox inherit the zygote's command line: it
    names nothing of the grader's (a pid there is a target)."""
    source = "def J_W3(x, y):\n    return x\n"
    with _session(mode) as session, Sandbox(session.zygote, session.isolation,
                                            [("argv.py", source)], ["J_W3"]) as box:
        box.load()
        zygote = session.zygote.process.pid
        processes = [zygote, *_descendants(zygote)]
        lines = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in processes]
    assert len(processes) >= 4  # the zygote, a keeper, its init and the child
    assert not any(str(os.getpid()).encode() in line for line in lines), lines


EXERCISE = textwrap.dedent("""
    import os, platform, shutil, tempfile, threading, time

    _worksheet_J_W3 = J_W3


    def _exercise():
        results = []
        worker = threading.Thread(target=lambda: results.append(np.linalg.solve(
            np.eye(3) * 2, np.ones(3))))
        worker.start()
        worker.join()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "a.npy")
            np.save(path, np.arange(4.0))
            shutil.copyfile(path, path + ".copy")
            os.rename(path + ".copy", path + ".moved")
            assert np.load(path + ".moved").sum() == 6.0
        time.sleep(0.001)
        np.random.default_rng(0).normal(size=3)
        print(os.cpu_count(), platform.machine(), time.perf_counter() > 0, results)


    def J_W3(x, y):
        _exercise()
        return _worksheet_J_W3(x, y)
    """)


@pytest.mark.parametrize("mode", MODES)
def test_correct_code_using_the_standard_library_passes(mode, tmp_path):
    """The allow-list is wide enough: the worksheet's solution with a thread, a temporary
    folder, NumPy's files, sleeping, random numbers and printing passes in both modes."""
    path = tmp_path / "busy.py"
    path.write_text((ZOO / "correct_worksheet.py").read_text() + EXERCISE)
    results = _graded(mode, path)
    assert all(result.passed for result in results.values()), {
        name: result.failure.reason for name, result in results.items() if not result.passed}


def test_a_sandbox_weaker_than_the_probe_runs_nothing():
    """The report's protections come from one probe; every later sandbox must hold them
    all again. One that does not (here: a probe result claiming a cgroup this machine's
    sandboxes never get) fails to load before any cell runs, naming what did not hold."""
    import dataclasses

    from autodiff.grading.confinement import confine

    source = "raise RuntimeError('a cell ran')\n"
    with Session(OPTIONS) as session:
        isolation = session.isolation
        if "memory_cgroup" in isolation.held:
            pytest.skip("this machine's sandboxes do get a cgroup")
        claimed = dataclasses.replace(isolation,
                                      bits=isolation.bits | confine.BITS["memory_cgroup"])
        with Sandbox(session.zygote, claimed, [("claimed.py", source)], ["J_W3"]) as box, \
                pytest.raises(LoadError, match="memory_cgroup did not hold"):
            box.load()
