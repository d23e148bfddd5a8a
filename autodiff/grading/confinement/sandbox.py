"""A submission in a fresh confined child: load its cells, run batches of calls, time limits.

``Sandbox`` asks the zygote (``zygote_client.Zygote``) for a new sandbox, never one that ran
anything else, checks that it holds every protection the probe found (``isolation.py``),
sends the submission's cells and the cases, then batches of calls, and reads the answers as
they stream (``protocol.py``). Each answer must come within ``call_timeout``
of the previous one and the whole within the grading's deadline; a hang, a crash, a flood of
output or a malformed frame becomes that call's ``Outcome``, the sandbox is killed, and the
batch goes on in a fresh one without the function that lost it. The grader never blocks on
the child: every read and write waits in ``poll`` against a deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from autodiff.grading.confinement import confine, protocol
from autodiff.grading.confinement.channel import Channel, Lost
from autodiff.grading.confinement.isolation import Isolation
from autodiff.grading.confinement.zygote_client import SandboxUnavailable, Zygote
from autodiff.grading.loader import Cell, LoadError, LoadTimeout, support_source

SUPPORT_LABEL = "<worksheet support code>"
# Outcomes after which the child had to be killed: no point trying more cases.
FATAL = frozenset({"timeout", "crash", "output_limit", "protocol"})


@dataclass
class Outcome:
    """What one call gave: ``status`` is ``value`` (then ``value`` holds the float64 array,
    ``dtype`` the returned dtype) or one of ``raised``, ``exit``, ``mutated``, ``not_array``,
    ``integrity``, ``timeout``, ``crash``, ``output_limit``, ``protocol``, with a ``message``."""

    status: str
    message: str = ""
    value: np.ndarray | None = None
    dtype: str | None = None

    @property
    def fatal(self) -> bool:
        """True when the child was lost: the call cannot be retried on other inputs cheaply."""
        return self.status in FATAL


class Sandbox:
    """One submission's confined child. Use as a context manager.

    ``cells`` are the submission's ``(label, source)`` cells, run after the worksheet's
    support code; ``names`` are the functions the grader will call.
    """

    def __init__(self, zygote: Zygote, isolation: Isolation, cells: list[Cell], names, *,
                 call_timeout: float = 5.0, load_timeout: float = 30.0):
        self.zygote, self.isolation = zygote, isolation
        self.cells = [(SUPPORT_LABEL, support_source()), *cells]
        self.names = list(names)
        self.call_timeout, self.load_timeout = call_timeout, load_timeout
        self.cases: list[list[np.ndarray]] = []
        self.missing: list[str] = []
        self._channel: Channel | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def load(self) -> list[str]:
        """Start a fresh child and run the cells; return the missing names or raise
        ``LoadError``."""
        self.close()
        deadline = time.monotonic() + self.load_timeout
        try:
            self._channel = Channel(self.zygote, self.isolation.strong)
            kind, payload = self._channel.receive({protocol.READY, protocol.SETUP_FAILED},
                                                  deadline)
            if kind == protocol.SETUP_FAILED:
                raise LoadError(f"the sandbox could not be set up: "
                                f"{protocol.read_text(payload)}")
            # The report says which protections held, from the probe: each sandbox must
            # hold them all again, or it runs nothing.
            bits, _ = protocol.read_ready(payload)
            lost = confine.held(self.isolation.bits & ~bits)
            if lost:
                raise LoadError(f"the sandbox could not be set up: {', '.join(lost)} did "
                                "not hold, as they did when this machine was probed")
            self._channel.send(protocol.load_request(self.cells, self.names), deadline)
            kind, payload = self._channel.receive({protocol.LOADED, protocol.LOAD_FAILED},
                                                  deadline)
            if kind == protocol.LOAD_FAILED:
                raise LoadError(protocol.read_text(payload))
            self.missing = protocol.read_loaded(payload, self.names)
            if self.cases:
                self._channel.send(protocol.cases_request(self.cases), deadline)
        except Lost as lost:
            self.close()
            message = lost.message or f"did not finish within {self.load_timeout:g} s"
            error = LoadTimeout if lost.status == "timeout" else LoadError
            raise error(f"loading the submission {message}") from None
        except (LoadError, SandboxUnavailable, protocol.ProtocolError) as error:
            self.close()
            raise LoadError(str(error)) from None
        return self.missing

    def add_cases(self, cases) -> list[int]:
        """Send cases (each ``W1, b1, W2, b2, W3, b3, x, y``); their indices for ``run``."""
        start = len(self.cases)
        new = [[np.asarray(a, dtype=np.float64) for a in arrays] for arrays in cases]
        self.cases += new
        if self._channel is not None:
            try:
                self._channel.send(protocol.cases_request(new),
                                   time.monotonic() + self.load_timeout)
            except Lost:
                self.close()  # the next run restarts a fresh child, which gets every case
        return list(range(start, len(self.cases)))

    def run(self, pairs: list[tuple[str, int]], deadline: float) -> list[Outcome | None]:
        """Call each ``(name, case index)``; an ``Outcome`` per pair, None for the pairs of a
        function after it lost the child, and for those left when ``deadline`` passed."""
        outcomes: list[Outcome | None] = [None] * len(pairs)
        lost_functions: set[str] = set()
        position = 0
        while position < len(pairs) and time.monotonic() < deadline:
            todo = [i for i in range(position, len(pairs)) if pairs[i][0] not in lost_functions]
            if not todo:
                break
            if self._channel is None:
                try:
                    self.load()
                except LoadError as error:
                    for i in todo:
                        outcomes[i] = Outcome("crash", f"could not restart the submission: "
                                                       f"{error}")
                    break
            done = self._stream(pairs, todo, outcomes, deadline)
            if done == len(todo):
                break
            index = todo[done]
            lost_functions.add(pairs[index][0])
            position = index + 1
        return outcomes

    def call(self, name: str, params, x: np.ndarray, y: np.ndarray,
             timeout: float | None = None) -> Outcome:
        """Call ``name(x, y)`` with ``W1 … b3`` set from ``params = [(W1, b1), …]``."""
        (W1, b1), (W2, b2), (W3, b3) = params
        (index,) = self.add_cases([[W1, b1, W2, b2, W3, b3, x, y]])
        limit = self.call_timeout if timeout is None else min(timeout, self.call_timeout)
        (outcome,) = self.run([(name, index)], time.monotonic() + max(limit, 0.001))
        return outcome or Outcome("timeout", f"did not return within {limit:g} s")

    def apply(self, name: str, *args: np.ndarray, params=None, item: int | None = None,
              timeout: float | None = None) -> Outcome:
        """Call the submission's helper ``name(*args)`` (for the diagnoses: ``d_sigma``,
        ``network_function`` …), with ``W1 … b3`` set from ``params`` if given; ``item``
        picks one value of a returned tuple."""
        if self._channel is None:
            try:
                self.load()
            except LoadError as error:
                return Outcome("crash", f"could not restart the submission: {error}")
        limit = self.call_timeout if timeout is None else min(timeout, self.call_timeout)
        deadline = time.monotonic() + max(limit, 0.001)
        try:
            self._channel.send(protocol.apply_request(name, args, params, item), deadline)
            _, payload = self._channel.receive({protocol.RESULT}, deadline)
            status, message, value = protocol.read_result(payload, 0)
        except (Lost, protocol.ProtocolError) as error:
            self.close()
            if isinstance(error, protocol.ProtocolError):
                return Outcome("protocol", f"sent {error} on the grader's pipe")
            return Outcome(error.status, error.message or f"did not return within {limit:g} s")
        if status == "value":
            return Outcome(status, value=value, dtype=message)
        return Outcome(status, message)

    def _stream(self, pairs, todo, outcomes, deadline) -> int:
        """Run ``todo`` in the current child; the number answered before it was lost."""
        request = protocol.run_request([(self.names.index(pairs[i][0]), pairs[i][1])
                                        for i in todo])
        answered = 0
        try:
            self._channel.send(request, min(deadline, time.monotonic() + self.load_timeout))
            for answered, i in enumerate(todo):
                limit = min(deadline, time.monotonic() + self.call_timeout)
                _, payload = self._channel.receive({protocol.RESULT}, limit)
                status, message, value = protocol.read_result(payload, answered)
                outcomes[i] = (Outcome(status, value=value, dtype=message) if status == "value"
                               else Outcome(status, message))
            return len(todo)
        except (Lost, protocol.ProtocolError) as error:
            if isinstance(error, protocol.ProtocolError):
                status, message = "protocol", f"sent {error} on the grader's pipe"
            else:
                status, message = error.status, error.message
            if status == "timeout":
                message = (f"did not return within {self.call_timeout:g} s"
                           if time.monotonic() < deadline
                           else "the overall time limit ended this call")
            outcomes[todo[answered]] = Outcome(status, message)
            self.close()
            return answered
