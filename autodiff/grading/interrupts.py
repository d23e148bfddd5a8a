"""Ctrl-C during a grading run: recorded as well as raised, so that no interrupt is lost.

``recording_interrupts()`` installs an ``Interrupts`` as SIGINT's handler for a block (in the
main thread); the run checks it between its phases and stops cleanly, keeping what was graded.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator


class Interrupts:
    """Ctrl-C, recorded as well as raised. CPython ignores an exception raised inside a
    ``gc.callbacks`` hook (hypothesis registers one), so a KeyboardInterrupt raised there is
    lost; the flag is not, and ``check`` between the phases of a run raises it again. Once the
    run is stopping, a further Ctrl-C is only recorded, so that the clean-up completes."""

    def __init__(self) -> None:
        self.seen = False
        self.stopping = False

    def handler(self, signum, frame) -> None:
        self.seen = True
        if not self.stopping:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen and not self.stopping:
            raise KeyboardInterrupt


@contextlib.contextmanager
def recording_interrupts() -> Iterator[Interrupts]:
    """An ``Interrupts`` whose handler is SIGINT's for the block (the main thread only: a
    handler cannot be set elsewhere, and there the default one stays)."""
    interrupts = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield interrupts
        return
    previous, hook = signal.signal(signal.SIGINT, interrupts.handler), sys.unraisablehook

    def unraisable(info) -> None:
        # Ours, lost in a gc callback: recorded (the flag), not printed as a traceback.
        if not (interrupts.seen and isinstance(info.exc_value, KeyboardInterrupt)):
            hook(info)

    sys.unraisablehook = unraisable
    try:
        yield interrupts
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = hook
