"""Compiled ``jax.vjp`` oracles, kept between checks of the same forward.

Building and compiling a ``jax.jit`` program costs 50–100 ms, a hundred times what running it
costs on a small layer, so a test loop that checks one layer many times compiles once. An entry
is keyed by the forward (weakly: it goes when the forward does), by how it is run (as given, or
rebound to ``jax.numpy``), the dtype, which arguments are differentiated, the shapes of those and
of the cotangents, and the value of every other argument — the program holds those as
constants, so Python code may branch on them as it does in NumPy. A forward's entries are
capped at ``PER_FUNCTION`` (least recently used go first), and a user who defines a new but
identical closure for every check gets a new entry each time, freed with the closure. The
program itself holds the forward only weakly, since a strong reference from the cache's value
to its key would keep both forever. An attempt that failed is remembered with its reason.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

PER_FUNCTION = 8
_entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _frozen(value):
    """A hashable stand-in for a non-differentiated argument's value, or ``None`` when it has
    none (a dict of arrays a forward may mutate: such a check is not cached)."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, (tuple, list)):
        items = tuple(_frozen(v) for v in value)
        return None if None in items else (type(value).__name__, items)
    if isinstance(value, dict):
        items = tuple((k, _frozen(v)) for k, v in sorted(value.items(), key=lambda kv: repr(
            kv[0])))
        return None if any(v is None for _, v in items) else ("dict", items)
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        return (type(value).__name__, value)
    return None


def key(mode: str, dtype, wrt, values, douts):
    """The cache key of one program, or ``None`` when it cannot be cached."""
    arguments = []
    for position, value in enumerate(values):
        if position in wrt:
            arguments.append(("wrt", np.shape(value)))
        else:
            frozen = _frozen(value)
            if frozen is None:
                return None
            arguments.append(frozen)
    cotangents = tuple(None if d is None else np.shape(d) for d in douts)
    return (mode, np.dtype(dtype).str, tuple(wrt), tuple(arguments), cotangents)


def _owner(forward):
    """Whom ``forward``'s entries belong to: itself, or the function it stands for
    (``__vjp_cache_key__``: ``from_cache_style`` makes a new forward for the same
    ``layer_forward`` at every call)."""
    return getattr(forward, "__vjp_cache_key__", forward)


def lookup(forward, entry_key):
    """The cached entry (a program or a failure's reason) for ``forward``, or ``None``."""
    if entry_key is None:
        return None
    try:
        entries = _entries.get(_owner(forward))
    except TypeError:  # not weakly referable (a ufunc, a bound method's target): not cached
        return None
    if entries is None or entry_key not in entries:
        return None
    entries.move_to_end(entry_key)
    return entries[entry_key]


def store(forward, entry_key, entry) -> None:
    """Keep ``entry`` (see ``lookup``); a no-op where ``forward`` cannot be referred weakly."""
    if entry_key is None:
        return
    try:
        entries = _entries.setdefault(_owner(forward), OrderedDict())
    except TypeError:
        return
    entries[entry_key] = entry
    while len(entries) > PER_FUNCTION:
        entries.popitem(last=False)


def size(forward) -> int:
    """How many programs and failures are kept for ``forward``."""
    try:
        return len(_entries.get(_owner(forward), ()))
    except TypeError:
        return 0
