"""A cgroup v2 per sandbox where one is delegated (``confinement/cgroup.py``): found at run
time from ``/proc/self/cgroup`` and the mount table, used for the whole sandbox in both
modes, required once offered, and named in the report. This machine may have cgroup v1 or
a hybrid: the decisions are tested on fake trees, the real path only where it exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autodiff.grading.confinement import cgroup, confine
from autodiff.grading.confinement.isolation import probe, strongest
from autodiff.grading.confinement.zygote_client import Limits, SandboxUnavailable, Zygote
from autodiff.grading.report import sandbox_line
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
HYBRID_MOUNTS = (
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n")


def _machine(tmp_path, own: str, enabled: dict[str, str], mount_root: str = "/",
             v2: bool = True) -> tuple[str, str, Path]:
    """Fake ``/proc/self/cgroup``, mount table and hierarchy: ``enabled`` maps cgroups to
    their ``cgroup.subtree_control``; returns the two files and the mount point."""
    mountpoint = tmp_path / "cgroup2"
    for path, controllers in enabled.items():
        folder = mountpoint / path.strip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cgroup.subtree_control").write_text(controllers + "\n")
        (folder / "cgroup.procs").write_text("")
    (tmp_path / "cgroup").write_text(f"4:memory:/x\n0::{own}\n" if v2 else "4:memory:/x\n")
    fstype = "cgroup2 cgroup2" if v2 else "cgroup cgroup"
    (tmp_path / "mountinfo").write_text(
        f"31 25 0:27 {mount_root} {mountpoint} rw,relatime - {fstype} rw\n")
    return str(tmp_path / "cgroup"), str(tmp_path / "mountinfo"), mountpoint


SCOPE = "/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope"
APP = "/user.slice/user-1000.slice/user@1000.service/app.slice"


@pytest.mark.parametrize("own, enabled, expected", [
    (SCOPE, {APP: "cpu memory pids", SCOPE: ""}, APP),          # systemd delegation
    (SCOPE, {APP: "memory", SCOPE: ""}, None),                  # no pids controller
    (SCOPE, {APP: "", SCOPE: ""}, None),                        # nothing delegated
    ("/", {"/": "memory pids"}, "/"),                           # the root: processes allowed
    ("/", {"/": ""}, None),                                     # a hybrid's unified tree
    ("/a/b", {"/a": "memory pids", "/a/b": "memory pids"}, "/a"),  # never its own (not root)
])
def test_the_delegated_cgroup_is_found_or_not(tmp_path, own, enabled, expected):
    proc, mounts, mountpoint = _machine(tmp_path, own, enabled)
    found = cgroup.delegated(proc, mounts)
    assert found == (None if expected is None
                     else os.path.normpath(f"{mountpoint}/{expected.strip('/')}"))


def test_no_cgroup_on_a_v1_machine_or_outside_the_mounted_tree(tmp_path):
    proc, mounts, _ = _machine(tmp_path, SCOPE, {APP: "memory pids"}, v2=False)
    assert cgroup.delegated(proc, mounts) is None
    proc, mounts, _ = _machine(tmp_path, SCOPE, {APP: "memory pids"}, mount_root="/other")
    assert cgroup.delegated(proc, mounts) is None
    (tmp_path / "mountinfo").write_text(HYBRID_MOUNTS)
    (tmp_path / "cgroup").write_text("0::/\n")
    assert cgroup.delegated(str(tmp_path / "cgroup"), str(tmp_path / "mountinfo")) is None


def test_a_cgroup_the_user_may_not_write_is_not_used(tmp_path, monkeypatch):
    proc, mounts, _ = _machine(tmp_path, SCOPE, {APP: "memory pids", SCOPE: ""})
    monkeypatch.setattr(cgroup.os, "access", lambda path, mode: False)
    assert cgroup.delegated(proc, mounts) is None


def test_missing_counts_the_cgroup_only_where_one_is_delegated():
    without = sum(confine.BITS.values()) & ~confine.BITS["memory_cgroup"]
    assert confine.missing(without, 7) == []
    assert confine.missing(without, 7, cgroup=True) == ["memory_cgroup"]


@pytest.mark.parametrize("strong", [True, False])
def test_each_sandbox_goes_into_a_capped_cgroup_of_its_own(tmp_path, strong):
    """With a (fake) delegated folder, the zygote makes a cgroup per sandbox with the
    memory and task caps, the keeper moves itself in before anything else, and the probe
    reports the protection held."""
    parent = tmp_path / "delegated"
    parent.mkdir()
    limits = Limits()
    with Zygote(limits, cgroup_parent=str(parent)) as zygote:
        isolation = probe(zygote, strong=strong)
        groups = sorted(parent.iterdir())
    assert "memory_cgroup" in isolation.held and isolation.cgroup
    assert "memory_cgroup" not in isolation.missing
    assert len(groups) == 1 and groups[0].name.startswith("backprop-")
    settings = {name: (groups[0] / name).read_text() for name in
                ("memory.max", "memory.oom.group", "pids.max", "cgroup.procs")}
    assert settings == {"memory.max": str(limits.memory), "memory.oom.group": "1",
                        "pids.max": str(limits.tasks), "cgroup.procs": "0"}


def test_a_delegated_cgroup_that_fails_is_refused_not_dropped(tmp_path):
    """Once a cgroup is offered, a sandbox that cannot have one does not start: the
    protection is required, as every other the machine offers."""
    with Zygote(Limits(), cgroup_parent=str(tmp_path / "gone")) as zygote:
        with pytest.raises(SandboxUnavailable, match="could not make a cgroup"):
            probe(zygote, strong=True)
        with pytest.raises(SandboxUnavailable):
            strongest(zygote, allow_weak=False)


def test_the_sandbox_line_says_which_memory_cap_held():
    sandbox = {"full": True, "landlock_abi": 7, "held": ["seccomp"], "missing": []}
    assert "memory capped per process only: no delegated cgroup v2" in sandbox_line(sandbox)
    sandbox["held"].append("memory_cgroup")
    assert "memory of the whole sandbox capped by a cgroup v2" in sandbox_line(sandbox)


def test_the_real_delegated_cgroup_where_this_machine_has_one(tmp_path):
    parent = cgroup.delegated()
    if parent is None:
        pytest.skip("no delegated cgroup v2 with memory and pids here (cgroup v1 or hybrid)")
    (tmp_path / "correct.py").write_text((ZOO / "correct_worksheet.py").read_text())
    before = set(os.listdir(parent))
    with Session(Options(examples=2, seed=0)) as session:
        report = session.grade(tmp_path / "correct.py")
    assert report.passed and "memory_cgroup" in report.sandbox["held"]
    assert {name for name in set(os.listdir(parent)) - before
            if name.startswith("backprop-")} == set()
