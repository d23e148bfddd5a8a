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
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.grading.confinement import confine, seccomp
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).parent / "submissions"
ROOT = Path(__file__).resolve().parents[1]
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
    assert isolation.strong and set(isolation.held) == {name for name, _ in confine.PROTECTIONS}


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


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHITECTURES))
def test_the_filter_numbers_are_the_kernels(machine):
    library = _libseccomp()
    audit_arch, denied, clone, signalling = seccomp.ARCHITECTURES[machine]
    names = {**denied, "clone": clone, "clone3": seccomp.CLONE3, **signalling}
    for name, number in names.items():
        resolved = library.seccomp_syscall_resolve_name_arch(audit_arch, name.encode())
        assert resolved == number, (machine, name)


def test_the_filter_jumps_stay_inside_the_program():
    for machine in seccomp.ARCHITECTURES:
        program = seccomp.program(machine, own_pid=2)
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
