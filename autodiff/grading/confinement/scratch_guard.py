"""The weak sandbox's scratch budget: the keeper looks at the folder and ends what outgrew it.

Without a mount namespace the scratch is a folder of the host's ``/tmp``, not a tmpfs with
``size`` and ``nr_inodes``; ``RLIMIT_FSIZE`` caps each file but not their number. The
keeper (``zygote.py``), which is outside every rule of the sandbox, looks every ``PERIOD``
seconds at what the sandbox holds there: the blocks of the files and folders under the
scratch, and those of scratch files it deleted but keeps open or mapped (they hold disk
space without a name). Past the budget it kills the sandbox's processes and ends itself by
``SIGNAL``, which nothing else sends it (the filter lets a submission signal only itself),
so the grader can say why. What can be written between two looks is not bounded by the
kernel, only by how fast one process writes during ``PERIOD`` (see the README).

Standard library only: the zygote loads this file by its path.
"""

import contextlib
import os
import signal
import stat
import time

PERIOD = 0.01
# Reading a process's mappings costs the kernel about a millisecond (numpy's 180 of them),
# ten times a look at the folder: they are read on every MAPS_EVERY-th look only.
MAPS_EVERY = 5
# A tmpfs counts the pages of files; a disk also counts its folders' blocks (4 KiB each on
# ext4, up to 1 MiB for 256 of them). The slack keeps the weak sandbox from ending what the
# full one allows: one file at the 16 MiB cap beside a few small ones (the tmpfs then
# refuses the write, which a submission sees as an error).
SLACK = 1 << 20
SIGNAL = signal.SIGUSR1


def usage(scratch, pids, entry_limit, maps=True):
    """``(bytes, entries)`` the sandbox holds in ``scratch``: allocated blocks (each inode
    once) of everything beneath it, and of its deleted files that ``pids`` keep open (and,
    with ``maps``, mapped). Counting stops past ``entry_limit`` entries, so a look never
    costs more."""
    seen, held, entries, todo = set(), 0, 0, [scratch]
    while todo and entries <= entry_limit:
        try:
            with os.scandir(todo.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > entry_limit:
                        break
                    try:
                        status = entry.stat(follow_symlinks=False)
                    except OSError:  # removed between the listing and the look
                        continue
                    if (status.st_dev, status.st_ino) not in seen:
                        seen.add((status.st_dev, status.st_ino))
                        held += status.st_blocks * 512
                    if stat.S_ISDIR(status.st_mode):
                        todo.append(entry.path)
        except OSError:
            continue
    for pid in pids:
        held += _unlinked(pid, scratch, seen, maps)
    return held, entries


def _unlinked(pid, scratch, seen, maps):
    """The blocks of deleted files under ``scratch`` that process ``pid`` keeps open, and
    with ``maps`` the mapped length of those it keeps mapped (a bound on what they hold)."""
    held = 0
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in descriptors:
        try:
            status = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (stat.S_ISREG(status.st_mode) and status.st_nlink == 0
                and (status.st_dev, status.st_ino) not in seen):
            seen.add((status.st_dev, status.st_ino))
            held += status.st_blocks * 512
    if not maps:
        return held
    try:
        with open(f"/proc/{pid}/maps") as listing:
            lines = listing.read().splitlines()
    except OSError:
        return held
    prefix = scratch.rstrip("/") + "/"
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith(prefix) and fields[5].endswith(
                " (deleted)"):
            start, end = (int(bound, 16) for bound in fields[0].split("-"))
            held += end - start
    return held


def watch(init, scratch, budget, entry_limit):
    """Wait for process ``init`` (the sandbox's), looking at ``scratch`` every ``PERIOD``;
    its wait status, or None once the sandbox held more than ``budget`` bytes (and
    ``SLACK``) or ``entry_limit`` entries there (its processes are then killed and reaped)."""
    looks = 0
    while True:
        done, status = os.waitpid(init, os.WNOHANG)
        if done:
            return status
        pids = [init, *_children(init)]
        looks += 1
        held, entries = usage(scratch, pids, entry_limit, maps=looks % MAPS_EVERY == 0)
        if held > budget + SLACK or entries > entry_limit:
            # The submission cannot start processes (seccomp): init's children are all.
            for pid in reversed(pids):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(init, 0)
            return None
        time.sleep(PERIOD)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []
