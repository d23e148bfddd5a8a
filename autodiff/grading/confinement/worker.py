"""The confined child's side: run a submission's cells, then call its functions on cases.

``serve`` answers the grader's frames (``protocol.py``) on two pipes, so nothing the
submission prints or reads can touch the protocol. Cells run in one namespace, magics
neutralised here (never in the grader, which does not compile untrusted source). Each call
gets fresh copies of the case's arrays as ``W1 … b3``, ``x`` and ``y``; afterwards the child
checks that nothing it was given was changed or rebound. An import of an automatic
differentiation library or of this project is refused and fails the call with the verdict
``integrity``, whatever the function does with the refusal.

Standard library and NumPy only: the zygote loads this file by its path.
"""

import io
import os
import re
import sys
import traceback
import warnings

import numpy as np

BLOCK_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
# Top-level packages a graded function may not import: the worksheet asks for Jacobians
# derived by hand.
AUTODIFF_LIBRARIES = ("jax", "jaxlib", "torch", "tensorflow", "keras", "autograd", "theano",
                      "pytensor", "mxnet", "chainer", "tinygrad", "micrograd", "flax", "equinox",
                      "optax", "haiku", "paddle", "mlx", "sympy", "casadi")
PROJECT_PACKAGES = ("reference", "autodiff")
MAX_RETURNED_ELEMENTS = 1 << 16
# A line that IPython, not Python, would read: %magic, %%cell magic, !shell, or `name?` help.
_MAGIC_LINE = re.compile(r"^(\s*)(%|!|\?)|^(\s*)[\w.]+\?{1,2}\s*$")


def strip_magics(source):
    """``source`` with IPython-only lines replaced by ``pass``, keeping line numbers.

    Only when the cell does not already compile: a line such as ``% b`` can be the
    continuation of a valid expression, and valid Python is never rewritten.
    """
    try:
        compile(source, "<cell>", "exec")
        return source
    except SyntaxError:
        pass
    lines = []
    for line in source.split("\n"):
        match = _MAGIC_LINE.match(line)
        if match:
            indent = match.group(1) or match.group(3) or ""
            line = f"{indent}pass  # IPython line skipped by the grader: {line.strip()}"
        lines.append(line)
    return "\n".join(lines)


class ImportGuard:
    """A meta-path finder that refuses the forbidden packages and remembers each attempt.

    It lives in the submission's own interpreter, so the submission can take it out of
    ``sys.meta_path``: ``install`` puts it back first before every load and call. What keeps
    those packages out is the sandbox's filesystem view (they are not there to import); the
    guard names the attempt in the verdict."""

    def __init__(self):
        self.attempts = []

    def install(self):
        """Put the guard first in a plain ``sys.meta_path`` (the others keep their order)."""
        meta_path = sys.meta_path
        if type(meta_path) is list and meta_path and meta_path[0] is self:
            return
        try:
            finders = list(meta_path)
        except BaseException:
            finders = []
        sys.meta_path = [self, *(finder for finder in finders if finder is not self)]

    def in_place(self):
        meta_path = sys.meta_path
        return type(meta_path) is list and any(finder is self for finder in meta_path)

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in AUTODIFF_LIBRARIES or top in PROJECT_PACKAGES:
            self.attempts.append(top)
            raise ModuleNotFoundError(f"{top} is not available to graded code", name=name)
        return None

    def verdict(self, since):
        """The ``integrity`` message for the attempts after index ``since`` (or for taking
        the guard out of ``sys.meta_path``), or None."""
        if not self.in_place():
            return ("takes the grader's import guard out of sys.meta_path: a graded function "
                    "may not tamper with the grader")
        tried = sorted(set(self.attempts[since:]))
        if not tried:
            return None
        what = ", ".join(tried)
        if all(name in PROJECT_PACKAGES for name in tried):
            kind = "this project's own reference gradients"
        else:
            kind = "an automatic-differentiation library"
        return (f"imports {what} ({kind}): the worksheet asks for Jacobians derived by hand, "
                "so a function that uses one fails")


class CappedOutput(io.TextIOBase):
    """Stands in for stdout and stderr: keeps a count, and ends the process past the cap."""

    def __init__(self, channel, cap):
        self.channel, self.cap, self.count = channel, cap, 0

    def writable(self):
        return True

    def write(self, text):
        self.count += len(text)
        if self.count > self.cap:
            self.channel.send(self.channel.protocol.OUTPUT_LIMIT, self.channel.protocol.text(
                f"printed more than {self.cap} characters"))
            os._exit(0)
        return len(text)


class Channel:
    """Blocking frame I/O on the two pipes."""

    def __init__(self, protocol, request_fd, reply_fd):
        self.protocol, self.request_fd, self.reply_fd = protocol, request_fd, reply_fd

    def send(self, kind, payload):
        data = memoryview(self.protocol.frame(kind, payload))
        while data:
            data = data[os.write(self.reply_fd, data):]

    def receive(self):
        header = self._exactly(self.protocol.HEADER.size)
        kind, length = self.protocol.HEADER.unpack(header)
        return kind, self._exactly(length)

    def _exactly(self, size):
        parts, left = [], size
        while left:
            chunk = os.read(self.request_fd, min(left, 1 << 20))
            if not chunk:
                os._exit(0)  # the grader is done with this child
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)


def safe_text(function, value):
    """``function(value)`` as text, or a placeholder when the submission's ``__str__``,
    ``__repr__`` or class name raises (or recurses) in the grader's hands."""
    try:
        text = function(value)
        return text if isinstance(text, str) else "<not text>"
    except BaseException:
        return "<unreadable: it raised when read>"


def exit_message(error):
    return f"called sys.exit({safe_text(repr, error.code)})"


def describe_exception(error, labels):
    """``Type: message (label, line n)`` at the deepest frame that belongs to the submission;
    a placeholder when the exception resists being read (its attributes raise)."""
    try:
        return _describe(error, labels)
    except BaseException:
        return "an exception that raised again when the grader read it"


def _describe(error, labels):
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename in labels:
            where = f" ({frame.filename}, line {frame.lineno})"
    message = safe_text(str, error)
    if isinstance(error, SyntaxError) and error.filename in labels:
        # str() of a SyntaxError already ends with its location: keep it once.
        where, message = f" ({error.filename}, line {error.lineno})", safe_text(str, error.msg)
    text = f"{safe_text(lambda e: type(e).__name__, error)}: {message}"
    return (text if len(text) <= 300 else text[:300] + " …") + where


class Submission:
    """The namespace of a submission's cells and the case table the grader sent."""

    def __init__(self, guard):
        self.namespace = {"__name__": "submission", "__builtins__": __builtins__}
        self.labels, self.names, self.cases, self.guard = set(), [], [], guard

    def load(self, cells, names):
        """None when every cell ran, else the reason loading stopped."""
        self.labels, self.names = {label for label, _ in cells}, list(names)
        for label, source in cells:
            self.guard.install()
            start = len(self.guard.attempts)
            try:
                exec(compile(strip_magics(source), label, "exec"), self.namespace)
            except SystemExit as error:
                return f"{exit_message(error)} while loading ({label})"
            except BaseException as error:
                reason = describe_exception(error, self.labels)
                verdict = self.guard.verdict(start)
                return reason if verdict is None else f"{verdict} ({reason})"
        return None

    def call(self, name, case):
        """``(status, message, value)`` of ``name(x, y)`` with ``W1 … b3`` set from ``case``."""
        given = {key: array.copy() for key, array in zip(BLOCK_NAMES, case, strict=False)}
        x, y = case[6].copy(), case[7].copy()
        self.namespace.update(given)
        self.guard.install()
        start = len(self.guard.attempts)
        try:
            result = self.namespace[name](x, y)
        except SystemExit as error:
            return "exit", exit_message(error), None
        except BaseException as error:
            verdict = self.guard.verdict(start)
            if verdict is not None:
                return "integrity", verdict, None
            return "raised", describe_exception(error, self.labels), None
        verdict = self.guard.verdict(start)
        if verdict is not None:
            return "integrity", verdict, None
        # Bit for bit: an array changed in place, even to NaN or -0.0, is a change.
        for key, original in zip(BLOCK_NAMES, case, strict=False):
            if self.namespace.get(key) is not given[key]:
                return "mutated", f"rebinds the global {key}", None
            if not _identical(given[key], original):
                return "mutated", f"changes the global {key} in place", None
        for label, value, original in (("x", x, case[6]), ("y", y, case[7])):
            if not _identical(value, original):
                return "mutated", f"changes its input {label} in place", None
        if not isinstance(result, np.ndarray):
            return "not_array", f"returned {type(result).__name__}, not a numpy array", None
        if result.dtype.kind not in "fiub":
            return "not_array", f"returned an array of dtype {result.dtype}", None
        if result.size > MAX_RETURNED_ELEMENTS or result.ndim > 4:
            return "not_array", f"returned an array of shape {result.shape}, far too large", None
        return "value", str(result.dtype), np.asarray(result, dtype=np.float64)


    def apply(self, header, arrays):
        """``(status, message, value)`` of a helper called on arrays (``protocol.APPLY``)."""
        function = self.namespace.get(header["name"])
        if not callable(function):
            return "missing", f"{header['name']} is not defined", None
        args = arrays[: header["args"]]
        self.guard.install()
        if header["globals"]:
            self.namespace.update(zip(BLOCK_NAMES, arrays[header["args"]:], strict=True))
        try:
            result = function(*args)
        except SystemExit as error:
            return "exit", exit_message(error), None
        except BaseException as error:
            return "raised", describe_exception(error, self.labels), None
        item = header["item"]
        if item is not None:
            if not isinstance(result, (tuple, list)) or len(result) <= item:
                count = len(result) if isinstance(result, (tuple, list)) else "no tuple of"
                return "not_array", f"returned {count} values", None
            result = result[item]
        if isinstance(result, (int, float, np.number)):
            result = np.asarray(result)
        if not isinstance(result, np.ndarray) or result.dtype.kind not in "fiub":
            return "not_array", f"returned {type(result).__name__}", None
        if result.size > MAX_RETURNED_ELEMENTS or result.ndim > 4:
            return "not_array", f"returned shape {result.shape}, too large", None
        return "value", str(result.dtype), np.asarray(result, dtype=np.float64)


def _identical(array, original):
    return array.shape == original.shape and array.tobytes() == original.tobytes()


def serve(protocol, request_fd, reply_fd, output_cap, bits, landlock_abi):
    """Answer the grader until it closes the request pipe (then exit)."""
    channel = Channel(protocol, request_fd, reply_fd)
    sys.stdin = io.StringIO()
    sys.stdout = sys.stderr = CappedOutput(channel, output_cap)
    warnings.simplefilter("ignore")
    guard = ImportGuard()
    submission = Submission(guard)
    channel.send(protocol.READY, protocol.struct.pack("<II", bits, landlock_abi))
    while True:
        kind, payload = channel.receive()
        if kind == protocol.LOAD:
            request = protocol.json.loads(payload)
            cells = [tuple(cell) for cell in request["cells"]]
            reason = submission.load(cells, request["names"])
            if reason is None:
                missing = bytes(index for index, name in enumerate(submission.names)
                                if not callable(submission.namespace.get(name)))
                channel.send(protocol.LOADED, missing)
            else:
                channel.send(protocol.LOAD_FAILED, protocol.text(reason))
        elif kind == protocol.CASES:
            submission.cases += protocol.read_cases(payload)
        elif kind == protocol.APPLY:
            status, message, value = submission.apply(*protocol.read_apply(payload))
            channel.send(protocol.RESULT, protocol.result_payload(0, status, message, value))
        elif kind == protocol.RUN:
            for index, (name, case) in enumerate(protocol.read_run(payload)):
                status, message, value = submission.call(submission.names[name],
                                                         submission.cases[case])
                channel.send(protocol.RESULT,
                             protocol.result_payload(index, status, message, value))
