"""What protects the teacher, as the kernel reports it: full isolation here, also for a user
without privileges; a refusal (exit 2) where user namespaces are missing, unless weaker
isolation is accepted with one line of warning; and the seccomp filter's system call numbers
checked against libseccomp's own tables where that library is installed."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.cli import main
from autodiff.grading.confinement import confine, isolation, landlock, seccomp
from autodiff.grading.confinement.zygote_client import SandboxUnavailable, Zygote
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
ROOT = Path(__file__).resolve().parents[2]
GRADE = [sys.executable, "-m", "autodiff", "grade", "--json", "--seed", "3", "--examples", "3",
         "--only", "J_b3"]
NOBODY = 65534


def _run(prefix, argv, cwd, home, timeout=180):
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A folder anyone may read, holding a correct submission and a hostile one."""
    folder = tmp_path_factory.mktemp("world")
    for parent in (folder, *folder.parents):
        if parent == Path("/tmp") or parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)
    shutil.copy(ZOO / "correct_worksheet.py", folder / "correct.py")
    shutil.copy(ZOO / "hostile" / "kernel.py", folder / "kernel.py")
    home = folder / "home"
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, NOBODY, NOBODY)
    return folder


def test_this_machine_gives_full_isolation():
    with Session(Options(examples=1, seed=0)) as session:
        isolation = session.isolation
    if isolation.missing:
        pytest.skip(f"this kernel lacks {isolation.missing}: the refusal tests cover it")
    offered = {name for name, _ in confine.PROTECTIONS} - (
        set() if isolation.cgroup else {"memory_cgroup"})
    assert isolation.strong and set(isolation.held) == offered


def _prefixes():
    prefixes = {}
    if os.geteuid() == 0 and shutil.which("setpriv"):
        prefixes["setpriv nobody"] = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                                      "--clear-groups"]
    if shutil.which("unshare"):
        prefixes["outer user namespace"] = ["unshare", "--user", "--map-user=1000",
                                            "--map-group=1000"]
    return prefixes


PREFLIGHT = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
             "'import numpy, jax, autodiff'], check=True)")


@pytest.mark.parametrize("how", sorted(_prefixes()))
def test_an_unprivileged_teacher_gets_full_isolation(how, world):
    preflight = _run(_prefixes()[how], [sys.executable, "-c", PREFLIGHT], world, world / "home")
    if preflight.returncode != 0:
        pytest.skip(f"{how}: this Python and its packages are not usable so "
                    f"({preflight.stderr.strip().splitlines()[-1:]})")
    result = _run(_prefixes()[how], [*GRADE, "correct.py", "kernel.py", "-j", "1"], world,
                  world / "home")
    if result.returncode == 2 and "refusing" in result.stderr:
        pytest.skip(f"{how}: no nested user namespaces here ({result.stderr.strip()})")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["sandbox"]["full"] and document["sandbox"]["namespaces"]
    passed = {Path(s["file"]).name: s["passed"] for s in document["submissions"]}
    assert passed == {"correct.py": True, "kernel.py": False}
    kernel = next(s for s in document["submissions"] if s["file"] == "kernel.py")
    assert {f["kind"] for f in kernel["functions"]} == {"raised"}


NO_USER_NAMESPACES = ["unshare", "--user", "--map-root-user", "sh", "-c",
                      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "sh"]


def test_grading_is_refused_without_user_namespaces_unless_accepted(world):
    if not shutil.which("unshare"):
        pytest.skip("util-linux unshare is not installed")
    refused = _run(NO_USER_NAMESPACES, [*GRADE, "correct.py"], world, world)
    if "max_user_namespaces" in refused.stderr:
        pytest.skip(f"cannot take user namespaces away here: {refused.stderr.strip()}")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "refusing to run untrusted code" in refused.stderr
    assert "--allow-weak-sandbox" in refused.stderr

    accepted = _run(NO_USER_NAMESPACES, [*GRADE, "correct.py", "--allow-weak-sandbox"], world,
                    world)
    assert accepted.returncode == 0, accepted.stderr
    warnings = [line for line in accepted.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "WEAKER isolation" in warnings[0]
    sandbox = json.loads(accepted.stdout)["sandbox"]
    assert not sandbox["full"] and "user_namespace" in sandbox["missing"]
    assert {"seccomp", "landlock_filesystem", "clean_environment"} <= set(sandbox["held"])


def _without_namespaces(monkeypatch):
    probe = isolation.probe

    def weak_probe(zygote, strong, timeout=30.0):
        if strong:
            raise SandboxUnavailable("no user namespaces (faked by the test)")
        return probe(zygote, strong, timeout)

    monkeypatch.setattr(isolation, "probe", weak_probe)


def _without_namespaces_on_old_landlock(monkeypatch):
    """This kernel's Landlock may be newer than ABI 6: the probe reads ABI 5 (no signal
    scoping), and namespaces cannot be had."""
    read_ready = isolation.protocol.read_ready

    def old_read_ready(payload):
        bits, _ = read_ready(payload)
        return bits & ~confine.BITS["landlock_signals"], 5

    monkeypatch.setattr(isolation.protocol, "read_ready", old_read_ready)
    _without_namespaces(monkeypatch)


def test_the_weak_sandbox_without_signal_scoping_needs_its_own_consent(monkeypatch):
    _without_namespaces_on_old_landlock(monkeypatch)
    with Zygote() as zygote:
        with pytest.raises(SandboxUnavailable, match="--allow-unscoped-signals"):
            isolation.strongest(zygote, allow_weak=True)
        accepted = isolation.strongest(zygote, allow_weak=True, allow_unscoped_signals=True)
    assert not accepted.strong and accepted.landlock_abi == 5
    assert "landlock_signals" in accepted.missing


def test_the_weak_sandbox_with_signal_scoping_needs_no_more_consent(monkeypatch):
    if landlock.abi_version() < 6:
        pytest.skip("this kernel's Landlock does not scope signals")
    _without_namespaces(monkeypatch)
    with Zygote() as zygote:
        weak = isolation.strongest(zygote, allow_weak=True)
    assert not weak.strong and "landlock_signals" in weak.held


def test_the_cli_refuses_unscoped_signals_until_accepted(monkeypatch, capsys):
    _without_namespaces_on_old_landlock(monkeypatch)
    argv = ["grade", str(ZOO / "correct_worksheet.py"), "--json", "--seed", "3",
            "--examples", "2", "--only", "J_b3", "-j", "1", "--allow-weak-sandbox"]
    assert main(argv) == 2
    refused = capsys.readouterr()
    assert refused.out == "" and "--allow-unscoped-signals" in refused.err
    assert main([*argv, "--allow-unscoped-signals"]) == 0
    accepted = capsys.readouterr()
    warnings = [line for line in accepted.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "landlock_signals" in warnings[0], accepted.err
    assert "landlock_signals" in json.loads(accepted.out)["sandbox"]["missing"]


def test_missing_lists_only_what_this_kernel_offers():
    everything = sum(confine.BITS.values())
    landlock = {"landlock_filesystem", "landlock_network", "landlock_signals"}
    assert confine.missing(everything, 7) == []
    assert set(confine.missing(0, 0)).isdisjoint(landlock)
    assert set(confine.missing(0, 3)) & landlock == {"landlock_filesystem"}
    without = everything & ~confine.BITS["seccomp"]
    assert confine.missing(without, 7) == ["seccomp"]


def _libseccomp():
    name = ctypes.util.find_library("seccomp")
    if name is None:
        pytest.skip("libseccomp is not installed")
    library = ctypes.CDLL(name)
    library.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
    return library


# Calls newer than some libseccomp releases' tables (Linux 6.6 and 6.13).
NEWER_THAN_LIBSECCOMP = {"fchmodat2", "map_shadow_stack", "setxattrat", "getxattrat",
                         "listxattrat", "removexattrat"}


def test_the_filter_numbers_are_the_kernels():
    library = _libseccomp()
    tables = [seccomp.ALLOWED_X86_64, seccomp.METADATA_X86_64, seccomp.SELF_ONLY_X86_64,
              seccomp.FILTERED_X86_64, {"clone3": seccomp.CLONE3}]
    for name, number in {key: value for table in tables for key, value in table.items()}.items():
        resolved = library.seccomp_syscall_resolve_name_arch(seccomp.AUDIT_ARCH_X86_64,
                                                             name.encode())
        if not (resolved < 0 and name in NEWER_THAN_LIBSECCOMP):
            assert resolved == number, name


def _decide(program, number, args=(), arch=seccomp.AUDIT_ARCH_X86_64) -> int:
    """Run a filter on one call, as the kernel does: the accumulator, forward jumps."""
    data = struct.pack("<iIQ6Q", number, arch, 0, *(list(args) + [0] * (6 - len(args))))
    accumulator, index = 0, 0
    while True:
        code, true, false, k = program[index]
        if code == seccomp.RET:
            return k
        if code == seccomp.LD_ABS_W:
            accumulator = struct.unpack_from("<I", data, k)[0]
            index += 1
            continue
        taken = {seccomp.JEQ: accumulator == k, seccomp.JGE: accumulator >= k,
                 seccomp.JSET: bool(accumulator & k)}[code]
        index += 1 + (true if taken else false)


ALLOW, EPERM = seccomp.RET_ALLOW, seccomp.RET_ERRNO | 1
NR = {**seccomp.ALLOWED_X86_64, **seccomp.METADATA_X86_64, **seccomp.SELF_ONLY_X86_64,
      **seccomp.FILTERED_X86_64, "shmget": 29, "shmat": 30, "shmctl": 31, "semget": 64,
      "msgget": 68, "pipe2": 293, "socket": 41, "execve": 59, "fork": 57, "ptrace": 101}
CALLS = [  # (name, arguments, full sandbox's answer, weak sandbox's answer)
    ("read", (), ALLOW, ALLOW), ("mmap", (), ALLOW, ALLOW), ("openat", (), ALLOW, ALLOW),
    ("setitimer", (), ALLOW, ALLOW), ("clock_nanosleep", (), ALLOW, ALLOW),
    ("map_shadow_stack", (), ALLOW, ALLOW),
    ("shmget", (), EPERM, EPERM), ("shmat", (), EPERM, EPERM), ("shmctl", (), EPERM, EPERM),
    ("semget", (), EPERM, EPERM), ("msgget", (), EPERM, EPERM), ("socket", (), EPERM, EPERM),
    ("execve", (), EPERM, EPERM), ("fork", (), EPERM, EPERM), ("ptrace", (), EPERM, EPERM),
    ("pipe2", (), EPERM, EPERM),
    ("clone", (0x3D0F00,), ALLOW, ALLOW), ("clone", (0x01200011,), EPERM, EPERM),
    ("kill", (42, 9), ALLOW, ALLOW), ("kill", (43, 9), EPERM, EPERM),
    ("kill", (0, 9), EPERM, EPERM), ("kill", (0xFFFFFFFF, 9), EPERM, EPERM),
    ("tgkill", (42, 42, 6), ALLOW, ALLOW), ("tgkill", (7, 7, 9), EPERM, EPERM),
    ("prlimit64", (0,), ALLOW, ALLOW), ("prlimit64", (7,), EPERM, EPERM),
    ("fcntl", (3, 1), ALLOW, ALLOW), ("fcntl", (3, 4, 0o4000), ALLOW, ALLOW),
    ("fcntl", (3, 4, 0o4000 | 0o20000), EPERM, EPERM), ("fcntl", (3, 8, 7), EPERM, EPERM),
    ("fcntl", (3, 10, 9), EPERM, EPERM), ("fcntl", (3, 15, 0), EPERM, EPERM),
    ("fcntl", (3, 1024, 1), EPERM, EPERM), ("fcntl", (3, 1 << 32 | 8, 7), EPERM, EPERM),
    ("ioctl", (0, 0x5401), ALLOW, ALLOW), ("ioctl", (3, 0x8901), EPERM, EPERM),
    ("ioctl", (3, 0x8902), EPERM, EPERM), ("ioctl", (3, 0x5452), EPERM, EPERM),
    ("prctl", (15,), ALLOW, ALLOW), ("prctl", (1, 9), EPERM, EPERM),
    ("prctl", (22, 2), EPERM, EPERM),
    ("fchmodat", (), ALLOW, EPERM), ("chmod", (), ALLOW, EPERM), ("fchown", (), ALLOW, EPERM),
    ("utimensat", (), ALLOW, EPERM), ("utimes", (), ALLOW, EPERM),
    ("setxattr", (), ALLOW, EPERM), ("fremovexattr", (), ALLOW, EPERM),
]


@pytest.mark.parametrize("strong", [True, False])
def test_the_filter_answers_each_call_as_documented(strong):
    program = seccomp.program(own_pid=42, strong=strong)
    for name, args, full, weak in CALLS:
        assert _decide(program, NR[name], args) == (full if strong else weak), (name, args)
    assert _decide(program, seccomp.CLONE3) == seccomp.RET_ERRNO | 38  # ENOSYS: use clone
    assert _decide(program, 1000) == EPERM  # a call numbered after this list was written
    assert _decide(program, 0 | seccomp.X32_BIT) == seccomp.RET_KILL_PROCESS
    assert _decide(program, 0, arch=0x40000003) == seccomp.RET_KILL_PROCESS  # i386


def test_the_filter_jumps_stay_inside_the_program():
    for strong in (True, False):
        program = seccomp.program(own_pid=2, strong=strong)
        for index, (code, true, false, _) in enumerate(program):
            if code in (seccomp.JEQ, seccomp.JSET, seccomp.JGE):
                assert index + 1 + max(true, false) < len(program)
        assert program[-1][0] == seccomp.RET


def test_a_zygote_that_died_is_unavailable_not_a_broken_pipe():
    """The grader's request to a dead zygote breaks its socket (EPIPE); that must read as the
    sandbox being unavailable, which the grader reports, not as a broken output pipe."""
    from autodiff.grading.confinement.zygote_client import Limits, SandboxUnavailable, Zygote

    with Zygote(Limits()) as zygote:
        zygote.hello()
        zygote.process.kill()
        zygote.process.wait()
        with pytest.raises(SandboxUnavailable, match="zygote did not answer"):
            zygote.spawn(True)


REAP_AFTER_EVERY_KEEPER_ENDED = """
import os, sys, time, types, importlib.util
spec = importlib.util.spec_from_file_location("zygote", sys.argv[1])
zygote = importlib.util.module_from_spec(spec)
spec.loader.exec_module(zygote)
keeper = os.fork()
if keeper == 0:
    os._exit(70)
time.sleep(0.2)
state = types.SimpleNamespace(children={keeper: None}, finished={})
zygote.Zygote.reap(state)
print(os.waitstatus_to_exitcode(state.finished[keeper]))
"""


def test_the_zygote_survives_every_keeper_ending_before_it_is_asked():
    """A keeper that fails at once (no user namespaces: its setup fails and it exits) ends
    before the grader asks for it; the zygote keeps its status and must not die looking for
    another (waitpid with no child left raises ChildProcessError)."""
    from autodiff.grading.confinement import zygote

    result = subprocess.run([sys.executable, "-c", REAP_AFTER_EVERY_KEEPER_ENDED,
                             zygote.__file__], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == "70", result.stderr


def test_another_machine_gets_no_filter_and_says_so(monkeypatch):
    """The allow-list was measured on x86_64 only: elsewhere no filter is installed (a wrong
    one would kill correct code or let calls through), and seccomp is reported missing, so
    grading is refused unless weaker isolation is accepted."""
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "aarch64")
    assert not seccomp.supported()
    with pytest.raises(OSError, match="no seccomp filter measured for aarch64"):
        seccomp.install(strong=True)
    everything_else = sum(confine.BITS.values()) & ~confine.BITS["seccomp"]
    assert confine.missing(everything_else, 7) == ["seccomp"]
