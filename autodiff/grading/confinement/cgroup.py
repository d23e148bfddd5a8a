"""A cgroup v2 per sandbox, where one is delegated to the teacher: memory and tasks of the
whole sandbox capped by the kernel, and nothing of it left when it ends.

Address-space limits are per process and miss memory no process maps (tmpfs pages, the page
cache a submission fills); a cgroup counts them all. ``delegated`` finds, at run time, a
cgroup v2 folder this user may create children in with the ``memory`` and ``pids``
controllers enabled: the grader's own cgroup if it is the hierarchy's root, else its parent
(a systemd ``Delegate=yes`` unit, ``systemd-run --user --scope``). None on a cgroup v1 or
hybrid machine, or where nothing is delegated: the sandbox then has its rlimits only, and
the report says which held. ``create`` makes one sandbox's cgroup, ``join`` moves the
calling process (the sandbox's keeper, before it forks the rest) into it, ``remove`` kills
whatever is left in it and removes it.

Standard library only: the zygote loads this file by its path.
"""

import contextlib
import os
import time

CONTROLLERS = ("memory", "pids")


def _own_cgroup(proc_cgroup: str) -> str | None:
    """This process's path in the v2 hierarchy (the ``0::`` line), or None."""
    with contextlib.suppress(OSError), open(proc_cgroup) as lines:
        for line in lines:
            if line.startswith("0::"):
                return line[3:].strip()
    return None


def _v2_mount(mountinfo: str) -> tuple[str, str] | None:
    """``(root within the hierarchy, mount point)`` of the cgroup2 mount, or None."""
    with contextlib.suppress(OSError), open(mountinfo) as lines:
        for line in lines:
            fields = line.split()
            separator = fields.index("-")
            if fields[separator + 1] == "cgroup2":
                return fields[3], fields[4]
    return None


def _usable(folder: str) -> bool:
    try:
        with open(os.path.join(folder, "cgroup.subtree_control")) as handle:
            enabled = handle.read().split()
    except OSError:
        return False
    return (all(name in enabled for name in CONTROLLERS)
            and os.access(folder, os.W_OK | os.X_OK)
            and os.access(os.path.join(folder, "cgroup.procs"), os.W_OK))


def delegated(proc_cgroup: str = "/proc/self/cgroup",
              mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """The folder to create sandboxes' cgroups in (see the module docstring), or None."""
    own, mount = _own_cgroup(proc_cgroup), _v2_mount(mountinfo)
    if own is None or mount is None:
        return None
    root, mountpoint = mount
    if own != root and not own.startswith(root.rstrip("/") + "/"):
        return None
    folder = os.path.normpath(mountpoint + "/" + own[len(root):])
    # A cgroup other than the root may not hold processes and enable controllers for its
    # children at once: the grader's own is usable only as the root, else its parent is.
    candidates = [folder] if own == root else [os.path.dirname(folder)]
    return next((candidate for candidate in candidates if _usable(candidate)), None)


def create(parent: str, name: str, memory: int, tasks: int) -> str:
    """A new cgroup ``parent/name`` capped at ``memory`` bytes (no swap) and ``tasks``
    processes and threads, whose processes the OOM killer ends together; its path."""
    path = os.path.join(parent, name)
    os.mkdir(path, 0o755)
    settings = {"memory.max": memory, "memory.swap.max": 0, "memory.oom.group": 1,
                "pids.max": tasks}
    for key, value in settings.items():
        target = os.path.join(path, key)
        if key == "memory.swap.max" and not os.path.exists(target):
            continue  # a kernel without swap accounting has no such file
        with open(target, "w") as handle:
            handle.write(str(value))
    return path


def join(path: str) -> None:
    """Move the calling process into the cgroup at ``path``; raises OSError."""
    with open(os.path.join(path, "cgroup.procs"), "w") as handle:
        handle.write("0")


def remove(path: str, patience: float = 1.0) -> bool:
    """Kill every process left in the cgroup and remove it; False if it is still busy after
    ``patience`` seconds (its last processes not yet reaped)."""
    with contextlib.suppress(OSError), open(os.path.join(path, "cgroup.kill"), "w") as handle:
        handle.write("1")
    stop = time.monotonic() + patience
    while True:
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() >= stop:
                return False
            time.sleep(0.005)
