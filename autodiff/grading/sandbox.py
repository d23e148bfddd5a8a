"""Run a submission in a child process, one call at a time, with time and output limits.

The child (``worker.py``) executes the worksheet's support code and then the submission's
cells in one namespace, and answers calls of its functions over a private pair of pipes. An
infinite loop, ``sys.exit``, ``os._exit``, a segfault or a flood of output becomes an
``Outcome`` here; the parent never hangs on the child and never dies with it. After a call
that killed or lost the child, the next call starts a fresh one.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autodiff.grading.loader import Cell, LoadError, support_source

WORKER = Path(__file__).with_name("worker.py")
SUPPORT_LABEL = "<worksheet support code>"
# A reply larger than this is not a Jacobian of the worksheet's network (the protocol's cap).
MAX_REPLY_BYTES = 8 << 20
# Outcomes after which the child had to be killed: no point trying more cases.
FATAL = frozenset({"timeout", "crash", "output_limit", "protocol"})


@dataclass
class Outcome:
    """What one call gave: ``status`` is ``value`` (then ``value`` holds the float64 array,
    ``dtype`` the returned dtype) or one of ``raised``, ``exit``, ``mutated``, ``not_array``,
    ``timeout``, ``crash``, ``output_limit``, ``protocol``, with a ``message``."""

    status: str
    message: str = ""
    value: np.ndarray | None = None
    dtype: str | None = None

    @property
    def fatal(self) -> bool:
        """True when the child was lost: the call cannot be retried on other inputs cheaply."""
        return self.status in FATAL


class _Lost(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def encode(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, dtype=np.float64)
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode(message: dict) -> np.ndarray:
    """A float64 array from the child's reply; a malformed reply raises ``_Lost``."""
    try:
        data = base64.b64decode(message["data"], validate=True)
        return np.frombuffer(data, dtype=np.float64).reshape(message["shape"]).copy()
    except (KeyError, TypeError, ValueError) as error:
        raise _Lost("protocol", f"unreadable array in the reply ({error})") from None


class Sandbox:
    """A submission's cells, run in a child process. Use as a context manager.

    ``cells`` are the submission's ``(label, source)`` cells, run after the worksheet's
    support code; ``names`` are the functions the grader will call.
    """

    def __init__(self, cells: list[Cell], names, *, call_timeout: float = 5.0,
                 load_timeout: float = 30.0, output_cap: int = 100_000):
        self.cells = [(SUPPORT_LABEL, support_source()), *cells]
        self.names = list(names)
        self.call_timeout, self.load_timeout, self.output_cap = (
            call_timeout, load_timeout, output_cap)
        self._process: subprocess.Popen | None = None
        self._workdir = tempfile.TemporaryDirectory(prefix="backprop-grade-")
        self.missing: list[str] = []

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self) -> list[str]:
        """Start the child and run the cells; return the missing names or raise ``LoadError``."""
        self._start()
        try:
            reply = self._exchange({"op": "load", "cells": self.cells, "names": self.names},
                                   self.load_timeout)
        except _Lost as lost:
            self._kill()
            raise LoadError(f"loading the submission {_while_loading(lost)}") from None
        if not reply.get("ok"):
            self._kill()
            # An ``output_limit`` reply carries a message rather than an error.
            raise LoadError(str(reply.get("error") or reply.get("message") or "loading failed"))
        self.missing = [str(name) for name in reply.get("missing", [])]
        return self.missing

    def call(self, name: str, params, x: np.ndarray, y: np.ndarray,
             timeout: float | None = None) -> Outcome:
        """Call ``name(x, y)`` with ``W1 … b3`` set from ``params = [(W1, b1), …]``."""
        if self._process is None:
            try:
                self.load()
            except LoadError as error:
                return Outcome("crash", f"could not restart the submission: {error}")
        (W1, b1), (W2, b2), (W3, b3) = params
        arrays = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
        request = {"op": "call", "name": name, "x": encode(x), "y": encode(y),
                   "globals": {key: encode(value) for key, value in arrays.items()}}
        limit = self.call_timeout if timeout is None else min(timeout, self.call_timeout)
        try:
            reply = self._exchange(request, limit)
            if reply.get("status") == "value":
                return Outcome("value", value=decode(reply["value"]),
                               dtype=str(reply.get("dtype")))
            outcome = Outcome(str(reply.get("status")), str(reply.get("message", "")))
        except _Lost as lost:
            outcome = Outcome(lost.status, lost.message)
        if outcome.fatal:
            self._kill()
        return outcome

    # --- op "apply" (diagnoses): a helper of the submission, such as d_sigma ---------------
    def apply(self, name: str, *args: np.ndarray, params=None, item: int | None = None,
              timeout: float | None = None) -> Outcome:
        """Call ``name(*args)`` in the child, with ``W1 … b3`` set from ``params`` if given;
        ``item`` picks one value of a returned tuple (``network_function``'s stages)."""
        if self._process is None:
            try:
                self.load()
            except LoadError as error:
                return Outcome("crash", f"could not restart the submission: {error}")
        request = {"op": "apply", "name": name, "args": [encode(arg) for arg in args],
                   "item": item, "globals": None if params is None else {
                       f"{kind}{layer}": encode(array)
                       for layer, pair in enumerate(params, start=1)
                       for kind, array in zip("Wb", pair, strict=True)}}
        limit = self.call_timeout if timeout is None else min(timeout, self.call_timeout)
        try:
            reply = self._exchange(request, limit)
            if reply.get("status") == "value":
                return Outcome("value", value=decode(reply["value"]),
                               dtype=str(reply.get("dtype")))
            outcome = Outcome(str(reply.get("status")), str(reply.get("message", "")))
        except _Lost as lost:
            outcome = Outcome(lost.status, lost.message)
        if outcome.fatal:
            self._kill()
        return outcome
    # --- end of op "apply" ----------------------------------------------------------------

    def close(self) -> None:
        self._kill()
        self._workdir.cleanup()

    # The child's life cycle and the line protocol.

    def _start(self) -> None:
        self._kill()
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", MPLBACKEND="Agg")
        with open(Path(self._workdir.name) / "worker-stderr.txt", "wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(WORKER), str(request_read), str(reply_write),
                 str(self.output_cap)],
                pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr, cwd=self._workdir.name, env=env,
                start_new_session=True,  # so that killing the group also ends its children
            )
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "wb")
        self._reply_fd = reply_read
        self._buffer = b""

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self._requests.close()
        os.close(self._reply_fd)

    def _exchange(self, request: dict, timeout: float) -> dict:
        try:
            self._requests.write(json.dumps(request).encode() + b"\n")
            self._requests.flush()
        except (BrokenPipeError, OSError):
            raise _Lost("crash", self._death_notice()) from None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Lost("timeout", f"did not return within {timeout:g} s")
            ready, _, _ = select.select([self._reply_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._reply_fd, 1 << 16)
            if not chunk:
                raise _Lost("crash", self._death_notice())
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise _Lost("protocol", "sent a reply larger than any Jacobian of the network")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            reply = None
        if not isinstance(reply, dict):
            raise _Lost("protocol", "wrote something other than a reply on the grader's pipe")
        return reply

    def _death_notice(self) -> str:
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "closed the grader's pipe"
        if code < 0:
            try:
                return f"crashed the process (signal {signal.Signals(-code).name})"
            except ValueError:
                return f"crashed the process (signal {-code})"
        return f"ended the process (exit status {code}, e.g. os._exit)"


def _while_loading(lost: _Lost) -> str:
    if lost.status == "timeout":
        return lost.message.replace("did not return", "did not finish")
    return lost.message
