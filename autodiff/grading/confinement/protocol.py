"""The bytes between the grader and a sandboxed submission: frames, arrays and results.

A frame is a 5-byte header (kind, payload length) and the payload. The grader sends:

* ``LOAD``  ``{"cells": [[label, source], …], "names": [...]}`` as JSON;
* ``CASES`` a count and, per case, eight 2-D float64 arrays ``W1, b1, W2, b2, W3, b3, x, y``;
* ``RUN``   a count and ``(function index, case index)`` pairs: call each, in order;
* ``APPLY`` a helper's name and arrays (``d_sigma(z)``, ``network_function(x)`` with ``W1 … b3``
  set): call it once, for the diagnoses.

The child answers ``READY`` (the protections that hold) once, or ``SETUP_FAILED`` (why it
could not confine itself); ``LOADED`` (the indices of the missing functions) or
``LOAD_FAILED`` (why) to ``LOAD``; one ``RESULT`` per pair of ``RUN`` and one to ``APPLY``;
and ``OUTPUT_LIMIT`` when the submission printed too much. The child is hostile: everything it
sends is read here with ``struct``, never ``json`` or ``pickle``, against fixed bounds, and
anything out of place raises ``ProtocolError``.

Standard library and NumPy only: the sandbox's child loads this file by its path.
"""

import json
import math
import struct

import numpy as np

HEADER = struct.Struct("<BI")
LOAD, CASES, RUN, APPLY = 1, 2, 3, 4
READY, LOADED, LOAD_FAILED, RESULT, OUTPUT_LIMIT, SETUP_FAILED = 10, 11, 12, 13, 14, 15
# What the child may answer with, and how long its payload may be at most.
MAX_MESSAGE = 1000
MAX_ELEMENTS = 1 << 16
MAX_DIMS = 4
_RESULT_HEAD = struct.Struct("<IBB")
MAX_PAYLOAD = {READY: 8, LOADED: 64, LOAD_FAILED: 4 * MAX_MESSAGE,
               RESULT: _RESULT_HEAD.size + 4 * MAX_DIMS + 2 + 4 * MAX_MESSAGE + 8 * MAX_ELEMENTS,
               OUTPUT_LIMIT: 4 * MAX_MESSAGE, SETUP_FAILED: 4 * MAX_MESSAGE}
# Statuses a result may carry; the grader adds timeout, crash, output_limit and protocol.
STATUSES = ("value", "raised", "exit", "mutated", "not_array", "integrity", "missing")
ARRAYS_PER_CASE = 8


class ProtocolError(Exception):
    """The child sent something other than a well-formed answer."""


def frame(kind: int, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def load_request(cells, names) -> bytes:
    return frame(LOAD, json.dumps({"cells": [list(cell) for cell in cells],
                                   "names": list(names)}).encode())


def cases_request(cases) -> bytes:
    """``cases``: sequences of eight 2-D arrays (``W1, b1, W2, b2, W3, b3, x, y``)."""
    parts = [struct.pack("<I", len(cases))]
    for arrays in cases:
        for array in arrays:
            array = np.ascontiguousarray(array, dtype=np.float64)
            parts += [struct.pack("<II", *array.shape), array.tobytes()]
    return frame(CASES, b"".join(parts))


def run_request(pairs) -> bytes:
    return frame(RUN, struct.pack("<I", len(pairs))
                 + b"".join(struct.pack("<BI", name, case) for name, case in pairs))


def _arrays(arrays) -> bytes:
    parts = []
    for array in arrays:
        array = np.ascontiguousarray(array, dtype=np.float64)
        parts += [struct.pack(f"<B{array.ndim}I", array.ndim, *array.shape), array.tobytes()]
    return b"".join(parts)


def apply_request(name: str, args, params=None, item=None) -> bytes:
    """``name(*args)`` with, if ``params`` is given, ``W1 … b3`` set from it; ``item`` picks
    one value of a returned tuple."""
    arrays = list(args) + ([a for pair in params for a in pair] if params is not None else [])
    header = json.dumps({"name": name, "item": item, "args": len(args),
                         "globals": params is not None}).encode()
    return frame(APPLY, struct.pack("<I", len(header)) + header + _arrays(arrays))


def text(message: str) -> bytes:
    """A message cut to ``MAX_MESSAGE`` characters, as UTF-8."""
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 2] + " …"
    return message.encode("utf-8", "replace")


def result_payload(index: int, status: str, message: str = "", value=None) -> bytes:
    """One call's answer; ``value`` (status ``value`` only) is sent as float64."""
    shape = () if value is None else value.shape
    head = _RESULT_HEAD.pack(index, STATUSES.index(status), len(shape))
    body = b"".join(struct.pack("<I", n) for n in shape)
    encoded = text(message)
    data = b"" if value is None else np.ascontiguousarray(value, dtype=np.float64).tobytes()
    return head + body + struct.pack("<H", len(encoded)) + encoded + data


# Reading, on the grader's side.

def read_text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")[:MAX_MESSAGE]


def read_result(payload: bytes, index: int):
    """``(status, message, value)`` of a ``RESULT`` that must answer pair ``index``."""
    if len(payload) < _RESULT_HEAD.size:
        raise ProtocolError("a truncated result")
    got_index, status, ndim = _RESULT_HEAD.unpack_from(payload)
    if got_index != index:
        raise ProtocolError(f"a result for call {got_index} where call {index} was due")
    if status >= len(STATUSES) or ndim > MAX_DIMS:
        raise ProtocolError("a result with an unknown status or too many dimensions")
    status = STATUSES[status]
    offset = _RESULT_HEAD.size
    if len(payload) < offset + 4 * ndim + 2:
        raise ProtocolError("a truncated result")
    shape = struct.unpack_from(f"<{ndim}I", payload, offset)
    offset += 4 * ndim
    (length,) = struct.unpack_from("<H", payload, offset)
    offset += 2
    message = read_text(payload[offset: offset + length])
    offset += length
    size = math.prod(shape)
    if status != "value":
        if ndim or offset != len(payload):
            raise ProtocolError(f"a '{status}' result with data attached")
        return status, message, None
    if size > MAX_ELEMENTS or len(payload) - offset != 8 * size:
        raise ProtocolError(f"an array whose data do not match its shape {list(shape)}")
    value = np.frombuffer(payload, dtype="<f8", count=size, offset=offset).reshape(shape).copy()
    return status, message, value


def read_ready(payload: bytes) -> tuple[int, int]:
    """``(protection bits, Landlock ABI)`` from a ``READY`` payload."""
    if len(payload) != 8:
        raise ProtocolError("a malformed greeting")
    return struct.unpack("<II", payload)


def read_loaded(payload: bytes, names) -> list[str]:
    """The missing function names listed in a ``LOADED`` payload."""
    if any(index >= len(names) for index in payload) or len(set(payload)) != len(payload):
        raise ProtocolError("a load answer naming unknown functions")
    return [names[index] for index in payload]


# Reading, on the child's side (the grader is trusted: no bounds needed).

def read_cases(payload: bytes) -> list[list[np.ndarray]]:
    (count,) = struct.unpack_from("<I", payload)
    offset, cases = 4, []
    for _ in range(count):
        arrays = []
        for _ in range(ARRAYS_PER_CASE):
            rows, cols = struct.unpack_from("<II", payload, offset)
            offset += 8
            array = np.frombuffer(payload, dtype="<f8", count=rows * cols, offset=offset)
            arrays.append(array.reshape(rows, cols).copy())
            offset += 8 * rows * cols
        cases.append(arrays)
    return cases


def read_apply(payload: bytes) -> tuple[dict, list[np.ndarray]]:
    (length,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4: 4 + length])
    offset, arrays = 4 + length, []
    for _ in range(header["args"] + (6 if header["globals"] else 0)):
        (ndim,) = struct.unpack_from("<B", payload, offset)
        shape = struct.unpack_from(f"<{ndim}I", payload, offset + 1)
        offset += 1 + 4 * ndim
        size = math.prod(shape)
        arrays.append(np.frombuffer(payload, "<f8", size, offset).reshape(shape).copy())
        offset += 8 * size
    return header, arrays


def read_run(payload: bytes) -> list[tuple[int, int]]:
    (count,) = struct.unpack_from("<I", payload)
    return [struct.unpack_from("<BI", payload, 4 + 5 * i) for i in range(count)]
