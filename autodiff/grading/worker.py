"""The child process that runs a submission: NumPy only, no project imports, no JAX.

Started by ``sandbox.Sandbox`` as ``python -I worker.py REQUEST_FD REPLY_FD OUTPUT_CAP``. It
reads one JSON request per line on REQUEST_FD and answers one JSON line on REPLY_FD, so
nothing the submission prints (or reads) can touch the protocol:

* ``{"op": "load", "cells": [[label, source], …], "names": [...]}`` runs the cells in one
  namespace and answers which of ``names`` are missing or not callable;
* ``{"op": "call", "name", "globals": {W1: array, …}, "x", "y"}`` sets the globals, calls
  the function and answers ``{"status": "value", "value": array}`` or why there is none;
* ``{"op": "apply", …}`` calls a helper (``sigma``, ``network_function`` …), see ``apply``.

Arrays travel as ``{"dtype", "shape", "data": base64}``. Printing more than OUTPUT_CAP
characters ends the process after an ``output_limit`` answer.
"""

import base64
import io
import json
import os
import resource
import sys
import traceback
import warnings

import numpy as np

# Generous limits that only a runaway submission reaches; the parent enforces the time limits.
MEMORY_LIMIT = 4 << 30
FILE_SIZE_LIMIT = 16 << 20
# A returned array is sent back whole only up to this size (the real Jacobians are tiny).
MAX_RETURNED_ELEMENTS = 1 << 16


def encode(array):
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode(message):
    data = base64.b64decode(message["data"])
    return np.frombuffer(data, dtype=np.float64).reshape(message["shape"]).copy()


class Replies:
    def __init__(self, fd):
        self.stream = os.fdopen(fd, "w", encoding="utf-8")

    def send(self, message):
        self.stream.write(json.dumps(message) + "\n")
        self.stream.flush()


class CappedOutput(io.TextIOBase):
    """Stands in for stdout and stderr: keeps a count, and ends the process past the cap."""

    def __init__(self, replies, cap):
        self.replies, self.cap, self.count = replies, cap, 0

    def writable(self):
        return True

    def write(self, text):
        self.count += len(text)
        if self.count > self.cap:
            self.replies.send({"status": "output_limit",
                               "message": f"printed more than {self.cap} characters"})
            os._exit(0)
        return len(text)


def describe_exception(error, labels):
    """``Type: message (label, line n)`` at the deepest frame that belongs to the submission."""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename in labels:
            where = f" ({frame.filename}, line {frame.lineno})"
    if isinstance(error, SyntaxError) and error.filename in labels:
        where = f" ({error.filename}, line {error.lineno})"
    text = f"{type(error).__name__}: {error}"
    return (text if len(text) <= 300 else text[:300] + " …") + where


def run_cells(namespace, cells, labels):
    """Execute the cells; return None, or a reply explaining why loading stopped."""
    for label, source in cells:
        try:
            exec(compile(source, label, "exec"), namespace)
        except SystemExit as error:
            return {"ok": False,
                    "error": f"called sys.exit({error.code!r}) while loading ({label})"}
        except BaseException as error:
            return {"ok": False, "error": describe_exception(error, labels)}
    return None


def call(namespace, request, labels):
    """Set the network globals, call the function, check that nothing it was given changed."""
    name = request["name"]
    given = {key: decode(value) for key, value in request["globals"].items()}
    x, y = decode(request["x"]), decode(request["y"])
    namespace.update(given)
    snapshot = {key: value.copy() for key, value in given.items()}
    x_before, y_before = x.copy(), y.copy()
    try:
        result = namespace[name](x, y)
    except SystemExit as error:
        return {"status": "exit", "message": f"called sys.exit({error.code!r})"}
    except BaseException as error:
        return {"status": "raised", "message": describe_exception(error, labels)}
    for key, before in snapshot.items():
        if namespace.get(key) is not given[key]:
            return {"status": "mutated", "message": f"rebinds the global {key}"}
        if not np.array_equal(given[key], before, equal_nan=True):
            return {"status": "mutated", "message": f"changes the global {key} in place"}
    for label, value, before in (("x", x, x_before), ("y", y, y_before)):
        if not np.array_equal(value, before, equal_nan=True):
            return {"status": "mutated", "message": f"changes its input {label} in place"}
    if not isinstance(result, np.ndarray):
        return {"status": "not_array",
                "message": f"returned {type(result).__name__}, not a numpy array"}
    if result.dtype.kind not in "fiub":
        return {"status": "not_array", "message": f"returned an array of dtype {result.dtype}"}
    if result.size > MAX_RETURNED_ELEMENTS:
        return {"status": "not_array",
                "message": f"returned an array of shape {result.shape}, far too large"}
    return {"status": "value", "value": encode(np.asarray(result, dtype=np.float64)),
            "dtype": str(result.dtype)}


# --- op "apply" (diagnoses): call a helper of the submission on arrays -------------------
def apply(namespace, request, labels):
    """``{"op": "apply", "name", "args": [array, …], "globals": {W1: array, …} | null,
    "item": k | null}``: call ``name(*args)`` (``network_function`` reads the globals) and
    answer like ``call``; ``item`` picks the k-th value of a returned tuple."""
    function = namespace.get(request["name"])
    if not callable(function):
        return {"status": "missing", "message": f"{request['name']} is not defined"}
    namespace.update({key: decode(value) for key, value in (request.get("globals") or {}).items()})
    try:
        result = function(*(decode(arg) for arg in request["args"]))
    except SystemExit as error:
        return {"status": "exit", "message": f"called sys.exit({error.code!r})"}
    except BaseException as error:
        return {"status": "raised", "message": describe_exception(error, labels)}
    item = request.get("item")
    if item is not None:
        if not isinstance(result, (tuple, list)) or len(result) <= item:
            count = len(result) if isinstance(result, (tuple, list)) else "no tuple of"
            return {"status": "not_array", "message": f"returned {count} values"}
        result = result[item]
    if isinstance(result, (int, float, np.number)):
        result = np.asarray(result)
    if not isinstance(result, np.ndarray) or result.dtype.kind not in "fiub":
        return {"status": "not_array", "message": f"returned {type(result).__name__}"}
    if result.size > MAX_RETURNED_ELEMENTS:
        return {"status": "not_array", "message": f"returned shape {result.shape}, too large"}
    return {"status": "value", "value": encode(np.asarray(result, dtype=np.float64)),
            "dtype": str(result.dtype)}
# --- end of op "apply" --------------------------------------------------------------------


def main(request_fd, reply_fd, output_cap):
    replies = Replies(reply_fd)
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    # Prints go to a counter; the real stdout and stderr go nowhere, stdin is empty.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin = io.StringIO()
    sys.stdout = sys.stderr = CappedOutput(replies, output_cap)
    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    namespace = {"__name__": "submission", "__builtins__": __builtins__}
    labels = set()
    for line in requests:
        request = json.loads(line)
        if request["op"] == "load":
            cells = [tuple(cell) for cell in request["cells"]]
            labels = {label for label, _ in cells}
            reply = run_cells(namespace, cells, labels)
            if reply is None:
                missing = [name for name in request["names"]
                           if not callable(namespace.get(name))]
                reply = {"ok": True, "missing": missing}
        elif request["op"] == "apply":
            reply = apply(namespace, request, labels)
        else:
            reply = call(namespace, request, labels)
        replies.send(reply)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
