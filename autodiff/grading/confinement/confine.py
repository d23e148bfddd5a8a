"""The kernel's isolation for one submission: namespaces, a private filesystem view, limits.

A sandbox is three processes forked from the zygote (``zygote.py``): the *keeper* enters new
user, PID, mount, network, IPC, UTS and cgroup namespaces (``enter_namespaces``) and builds
the filesystem view (``build_view``); its child is the PID namespace's init, which only
reaps; the init's child runs the submission after ``confine_process`` (limits, no new
privileges, no capabilities, Landlock, seccomp). When the init ends, the kernel kills every
process left in the namespace, so nothing a submission starts outlives it.

The view is a fresh tmpfs root holding, read-only, only what NumPy code needs (the standard
library, NumPy, the shared libraries they load) at their usual paths, with every
site-packages folder beneath them covered by an empty tmpfs; the submission's scratch folder
``/scratch`` is a size-capped tmpfs, its HOME and TMPDIR. No ``/proc``, ``/dev``, home or
project folder exists in it.

Standard library only (``ctypes``): the zygote loads this file by its path.
"""

import ctypes
import os
import platform

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x08000000, 0x10000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 16384, 1 << 18
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
MNT_DETACH = 2
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
CAPABILITY_VERSION_3 = 0x20080522
SCRATCH = "/scratch"

# Every protection a sandbox reports, as a bit of the child's greeting, in report order.
PROTECTIONS = (
    ("user_namespace", "its own user namespace: no privilege over the teacher's processes"),
    ("pid_namespace", "its own PID namespace: sees and signals no other process, and every "
                      "process it starts ends with it"),
    ("mount_namespace", "a private filesystem view: only the standard library and NumPy, "
                        "read-only"),
    ("network_namespace", "its own network namespace: no network, loopback included"),
    ("ipc_namespace", "its own IPC and UTS namespaces"),
    ("scratch_tmpfs", "writes only to a size-capped tmpfs scratch folder"),
    ("landlock_filesystem", "Landlock: reads only the standard library and NumPy, writes only "
                            "its scratch"),
    ("landlock_network", "Landlock: no TCP connection or listening port"),
    ("landlock_signals", "Landlock: no signal to, nor abstract socket of, any outside process"),
    ("seccomp", "seccomp: no new process or program, socket, ptrace, mount or namespace"),
    ("no_new_privileges", "no new privileges and no capabilities"),
    ("memory_limit", "a cap on memory (address space) and CPU time"),
    ("memory_cgroup", "a cgroup v2 capping the memory (shared memory, tmpfs and page cache "
                      "included) and the tasks of the whole sandbox, killed whole at its end"),
    ("file_limits", "caps on file size and open files"),
    ("task_limit", "a cap on its threads and processes"),
    ("clean_environment", "none of the teacher's environment variables; HOME is its scratch"),
)
BITS = {name: 1 << index for index, (name, _) in enumerate(PROTECTIONS)}
# Landlock's three parts are required only where this kernel's ABI offers them.
LANDLOCK_SINCE = {"landlock_filesystem": 1, "landlock_network": 4, "landlock_signals": 6}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> int:
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
    return result


def held(bits: int) -> list[str]:
    return [name for name, _ in PROTECTIONS if bits & BITS[name]]


def missing(bits: int, landlock_abi: int, cgroup: bool = False) -> list[str]:
    """The protections this kernel offers that did not hold; ``cgroup``: a cgroup v2 was
    delegated to this user (``cgroup.delegated``)."""
    return [name for name, _ in PROTECTIONS
            if not bits & BITS[name] and LANDLOCK_SINCE.get(name, 0) <= landlock_abi
            and (cgroup or name != "memory_cgroup")]


def set_parent_death_signal(signal_number: int = 9) -> None:
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0), "prctl(PDEATHSIG)")


def become_subreaper() -> None:
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")


def enter_namespaces() -> int:
    """Unshare every namespace, mapping only the teacher's own uid and gid; return the bits."""
    uid, gid = os.getuid(), os.getgid()
    flags = (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
             | CLONE_NEWUTS | CLONE_NEWCGROUP)
    _check(_libc.unshare(flags), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    return (BITS["user_namespace"] | BITS["pid_namespace"] | BITS["network_namespace"]
            | BITS["ipc_namespace"])


def _mount(source, target, fstype, flags, data=None):
    def encode(text):
        return None if text is None else text.encode()

    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags),
                       encode(data)), f"mount {target}")


def _locked_flags(path: str) -> int:
    """The flags a bind mount of ``path`` must keep when remounted in a user namespace."""
    flag = os.statvfs(path).f_flag
    flags = MS_NOSUID | MS_NODEV | (MS_NOEXEC if flag & os.ST_NOEXEC else 0)
    if flag & os.ST_NOATIME:
        flags |= MS_NOATIME
    elif not flag & os.ST_RELATIME:
        flags |= MS_STRICTATIME
    return flags | (MS_NODIRATIME if flag & os.ST_NODIRATIME else 0)


def _plan(read_only, hidden):
    """Mounts in order, parents first; a path beneath another bound one needs no bind."""
    def beneath(path, parent):
        return path != parent and path.startswith(parent.rstrip("/") + "/")

    binds = [path for path in read_only
             if not any(beneath(path, other) and not any(beneath(path, cover)
                                                         and beneath(cover, other)
                                                         for cover in hidden)
                        for other in read_only)]
    covers = [path for path in hidden if any(beneath(path, other) for other in binds)]
    steps = [(path, "bind") for path in binds] + [(path, "cover") for path in covers]
    return sorted(steps, key=lambda step: (step[0].count("/"), step[0]))


def build_view(mountpoint: str, read_only, hidden, scratch_bytes: int,
               scratch_entries: int) -> int:
    """Make a tmpfs at ``mountpoint`` the root, as described above; return the bits."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", mountpoint, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    covers = [mountpoint]
    for path, kind in _plan(read_only, hidden):
        target = mountpoint + path
        if kind == "cover":
            os.makedirs(target, exist_ok=True)
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=64")
            covers.append(target)
            continue
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        _mount(path, target, None, MS_BIND)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(path))
    scratch = mountpoint + SCRATCH
    os.makedirs(scratch)
    _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={scratch_bytes},nr_inodes={scratch_entries},mode=700")
    for target in reversed(covers):
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(mountpoint)
    _check(_libc.syscall(PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir(SCRATCH)
    return BITS["mount_namespace"] | BITS["scratch_tmpfs"]


def drop_privileges() -> int:
    """No new privileges and an empty capability set (also of a teacher who is root)."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")
    return BITS["no_new_privileges"]


def clean_environment(scratch: str) -> int:
    import tempfile

    os.environ.clear()
    os.environ.update(HOME=scratch, TMPDIR=scratch, LANG="C.UTF-8", PATH="/nonexistent")
    tempfile.tempdir = scratch  # the zygote's choice (the host's /tmp) is cached there
    return BITS["clean_environment"]


def set_limits(limits: dict, count_tasks: bool) -> int:
    """rlimits; the task cap only inside a user namespace, where it counts only the sandbox's
    own processes and threads (outside, it would count all of the teacher's)."""
    import resource

    caps = [(resource.RLIMIT_AS, limits["memory"]), (resource.RLIMIT_CPU, limits["cpu_seconds"]),
            (resource.RLIMIT_FSIZE, limits["file_size"]),
            (resource.RLIMIT_NOFILE, limits["open_files"]), (resource.RLIMIT_CORE, 0)]
    bits = BITS["memory_limit"] | BITS["file_limits"]
    if count_tasks:
        caps.append((resource.RLIMIT_NPROC, limits["tasks"]))
        bits |= BITS["task_limit"]
    for which, value in caps:
        resource.setrlimit(which, (value, value))
    return bits
