"""The grader's handle on its zygote (``zygote.py``): start it, ask it for sandboxes.

``Zygote`` starts the fork server with an empty environment, the limits (``Limits``), a
description of the filesystem view (``default_view``) and the cgroup v2 folder to put each
sandbox in (``cgroup.delegated``, found at run time), then asks it for sandboxes and ends
them; ``SandboxUnavailable`` when it cannot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from autodiff.grading.confinement import cgroup

ZYGOTE = Path(__file__).with_name("zygote.py")
PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Limits:
    """What one submission's processes may use (the time limits are the grader's own)."""

    memory: int = 1 << 30            # bytes of address space
    cpu_seconds: int = 900
    file_size: int = 16 << 20
    open_files: int = 64
    tasks: int = 32                  # threads and processes, the sandbox's three included
    output_cap: int = 100_000        # characters printed
    scratch_bytes: int = 16 << 20
    scratch_entries: int = 256       # files and folders in the scratch


DETECT = "detect"


class SandboxUnavailable(Exception):
    """This machine cannot confine a submission as required; the message says what lacks."""


def default_view() -> tuple[list[str], list[str]]:
    """``(read_only, hidden)``: the standard library and NumPy; every package folder of this
    interpreter (site-packages, this project) hidden where it lies beneath them."""
    stdlib = os.path.dirname(os.__file__)
    dynload = sysconfig.get_config_var("DESTSHARED") or ""
    numpy_dir = os.path.dirname(importlib.util.find_spec("numpy").origin)
    read_only = [path for path in (stdlib, dynload, numpy_dir, numpy_dir + ".libs",
                                   "/etc/ld.so.cache") if path and os.path.exists(path)]
    candidates = {*sys.path, str(PROJECT_ROOT), os.path.join(stdlib, "site-packages"),
                  os.path.join(stdlib, "dist-packages"), sysconfig.get_paths()["purelib"],
                  sysconfig.get_paths()["platlib"]}
    hidden = sorted(path for path in candidates
                    if os.path.isabs(path) and os.path.isdir(path) and path not in read_only)
    return read_only, hidden


def environment() -> dict:
    """The zygote's whole environment: single-threaded BLAS, nothing of the teacher's."""
    return {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


class Zygote:
    """A running zygote; ``spawn`` and ``end`` are safe to call from several threads."""

    def __init__(self, limits: Limits = Limits(), timeout: float = 30.0,
                 cgroup_parent: str | None = DETECT):
        """``cgroup_parent``: the cgroup v2 folder for the sandboxes' cgroups, None for none;
        by default the delegated one, if any."""
        read_only, hidden = default_view()
        self.cgroup_parent = cgroup.delegated() if cgroup_parent is DETECT else cgroup_parent
        numpy_parent = os.path.dirname(os.path.dirname(importlib.util.find_spec("numpy").origin))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while it runs)
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(ZYGOTE), str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=environment(), cwd="/", stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True)
        theirs.close()
        self.control, self.timeout, self.limits = ours, timeout, limits
        self.control.settimeout(timeout)
        self._lock = threading.Lock()
        config = {"parent_pid": os.getpid(), "cgroup_parent": self.cgroup_parent,
                  "numpy_parent": numpy_parent,
                  "read_only": read_only, "hidden": hidden,
                  "scratch_bytes": limits.scratch_bytes,
                  "scratch_entries": limits.scratch_entries, "output_cap": limits.output_cap,
                  "limits": {"memory": limits.memory, "cpu_seconds": limits.cpu_seconds,
                             "file_size": limits.file_size, "open_files": limits.open_files,
                             "tasks": limits.tasks}}
        self._hello: dict | None = None
        try:
            self.control.send(json.dumps(config).encode())
        except OSError as error:  # it died at once
            raise SandboxUnavailable(f"the zygote did not start ({error}; "
                                     f"{self._zygote_error()})") from None

    def hello(self) -> dict:
        """The zygote's greeting (its pid and its read-only folders), awaited once."""
        if self._hello is None:
            self._hello = self._receive()
            if self._hello.get("threads") != 1:
                raise SandboxUnavailable("the zygote started threads: it cannot unshare")
        return self._hello

    def spawn(self, strong: bool) -> tuple[int, int, int]:
        """A fresh sandbox: ``(keeper pid, request fd, reply fd)``; the fds are ours to close."""
        self.hello()
        with self._lock:
            try:  # a zygote that died breaks the socket (EPIPE): that is no answer either
                self.control.send(json.dumps({"op": "spawn", "strong": strong}).encode())
                message, fds, _, _ = socket.recv_fds(self.control, 1 << 10, 2)
            except OSError as error:
                raise SandboxUnavailable(f"the zygote did not answer ({error}; "
                                         f"{self._zygote_error()})") from None
        if len(fds) != 2 or not message:
            raise SandboxUnavailable(f"the zygote ended ({self._zygote_error()})")
        return json.loads(message)["pid"], fds[0], fds[1]

    def end(self, pid: int, grace: float = 0.0) -> int | None:
        """Wait up to ``grace`` s for the sandbox to end, then kill it; its exit status."""
        with self._lock:
            try:
                self.control.send(json.dumps({"op": "end", "pid": pid, "grace": grace}).encode())
                return self._receive()["status"]
            except (OSError, SandboxUnavailable):
                return None

    def close(self) -> None:
        self.control.close()  # the zygote ends every sandbox it holds, then itself
        try:
            self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _receive(self) -> dict:
        try:
            message = self.control.recv(1 << 20)
        except OSError as error:
            raise SandboxUnavailable(f"the zygote did not answer ({error})") from None
        if not message:
            raise SandboxUnavailable(f"the zygote ended ({self._zygote_error()})")
        return json.loads(message)

    def _zygote_error(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self.process.poll()}"
