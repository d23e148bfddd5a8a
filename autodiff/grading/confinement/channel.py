"""Framed, bounded I/O with one sandboxed child, never blocking past a deadline.

``Channel`` holds the grader's ends of a fresh sandbox's two pipes (from the zygote). It
writes requests without blocking while it keeps reading, so a child that floods the pipe
instead of reading cannot stall the grader; it reads only frames of the kinds it expects,
each within its kind's bound (``protocol.MAX_PAYLOAD``), and never reads past the end of the
frame at the head of its buffer: the next frame's bytes wait in the pipe, so each bound holds
per frame. Every wait is a ``poll`` against a deadline. Whatever goes wrong becomes ``Lost``
with the status the call gets (``timeout``, ``crash``, ``output_limit``, ``protocol``).
"""

from __future__ import annotations

import os
import select
import signal
import time

from autodiff.grading.confinement import protocol, scratch_guard
from autodiff.grading.confinement.zygote_client import Zygote

_LARGEST_PAYLOAD = max(protocol.MAX_PAYLOAD.values())


class Lost(Exception):
    """The child was lost during an exchange; ``status`` is one of ``FATAL``."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Channel:
    """Our ends of one child's pipes: framed, bounded, and never blocking past a deadline."""

    def __init__(self, zygote: Zygote, strong: bool):
        self.zygote = zygote
        self.pid, self.request_fd, self.reply_fd = zygote.spawn(strong)
        os.set_blocking(self.request_fd, False)
        self.buffer = bytearray()

    def send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            for fd, events in self._poll(deadline, write=True, read=self._wanted() > 0):
                if fd == self.reply_fd:
                    self._fill()
                elif events & (select.POLLERR | select.POLLHUP):
                    raise Lost("crash", self.death_notice())
                else:
                    try:
                        view = view[os.write(self.request_fd, view[: 1 << 20]):]
                    except BlockingIOError:
                        pass
                    except OSError:
                        raise Lost("crash", self.death_notice()) from None

    def receive(self, allowed: set[int], deadline: float) -> tuple[int, bytes]:
        """The next frame, whose kind must be one of ``allowed`` (or ``OUTPUT_LIMIT``)."""
        while True:
            if len(self.buffer) >= protocol.HEADER.size:
                kind, length = protocol.HEADER.unpack_from(self.buffer)
                if kind == protocol.OUTPUT_LIMIT and length <= protocol.MAX_PAYLOAD[kind]:
                    if len(self.buffer) >= protocol.HEADER.size + length:
                        message = bytes(self.buffer[protocol.HEADER.size:][:length])
                        raise Lost("output_limit", protocol.read_text(message))
                elif kind not in allowed or length > protocol.MAX_PAYLOAD[kind]:
                    raise Lost("protocol", "wrote something other than an answer on the "
                                           "grader's pipe")
                elif len(self.buffer) >= protocol.HEADER.size + length:
                    end = protocol.HEADER.size + length
                    payload = bytes(self.buffer[protocol.HEADER.size:end])
                    del self.buffer[:end]
                    return kind, payload
            for _ in self._poll(deadline, write=False, read=True):
                self._fill()

    def close(self, grace: float = 0.0) -> int | None:
        """End the child (after ``grace`` s to end by itself); its exit status."""
        for fd in (self.request_fd, self.reply_fd):
            os.close(fd)
        return self.zygote.end(self.pid, grace)

    def death_notice(self) -> str:
        """Why the reply pipe closed, from the sandbox's exit status (``128 + n``: the
        submission's process died of signal ``n``; ``-scratch_guard.SIGNAL``: its keeper ended
        it for outgrowing the scratch; other negatives: it lived on and was killed)."""
        code = self.zygote.end(self.pid, grace=1.0)
        self.pid = -1
        if code == -scratch_guard.SIGNAL:
            limits = self.zygote.limits
            return (f"was ended: the scratch folder grew past {limits.scratch_bytes >> 20} MiB "
                    f"or {limits.scratch_entries} entries")
        if code is None or code < 0:
            return "closed the grader's pipe without ending (the grader ended it)"
        if code >= 128:
            try:
                return f"crashed the process (signal {signal.Signals(code - 128).name})"
            except ValueError:
                return f"crashed the process (signal {code - 128})"
        return f"ended the process (exit status {code}, e.g. os._exit)"

    def _poll(self, deadline: float, write: bool, read: bool):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Lost("timeout", "")
        poller = select.poll()
        if read:
            poller.register(self.reply_fd, select.POLLIN)
        if write:
            poller.register(self.request_fd, select.POLLOUT)
        return poller.poll(remaining * 1000)

    def _wanted(self) -> int:
        """The bytes missing from the frame at the head of the buffer (its header first)."""
        if len(self.buffer) < protocol.HEADER.size:
            return protocol.HEADER.size - len(self.buffer)
        _, length = protocol.HEADER.unpack_from(self.buffer)
        if length > _LARGEST_PAYLOAD:
            raise Lost("protocol", "announced a reply larger than any answer to the grader")
        return protocol.HEADER.size + length - len(self.buffer)

    def _fill(self) -> None:
        """Read no further than the end of the frame at the head of the buffer."""
        chunk = os.read(self.reply_fd, min(self._wanted(), 1 << 20))
        if not chunk:
            raise Lost("crash", self.death_notice())
        self.buffer += chunk
