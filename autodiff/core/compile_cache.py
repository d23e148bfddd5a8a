"""JAX's persistent compilation cache for the command line, set up in one place.

The commands compile the same fixed shapes in every process (the checker's padded buckets,
the grader's worksheet network, the heart's training chunks), so a compiled program is kept
on disk in a per-user folder and the next process loads it instead of compiling it again.

It is switched on through JAX's own environment variables, before anything imports JAX (so
``backprop --help`` and the NumPy engines do not pay for JAX), and child processes such as the
grader's workers inherit it. Only ``autodiff.cli.main`` calls ``enable``: a library import
never changes JAX's configuration. ``BACKPROP_COMPILE_CACHE=off`` turns it off; another
value names the folder. A variable the user set already (``JAX_COMPILATION_CACHE_DIR``,
``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS``) wins.
"""

from __future__ import annotations

import os
from pathlib import Path

SWITCH = "BACKPROP_COMPILE_CACHE"
# Compiles shorter than this are not written: below it, reading the entry back costs about
# what compiling does (JAX's default, 1 s, skips every program these commands compile).
MIN_COMPILE_SECONDS = 0.1


def default_folder(environ=os.environ) -> Path:
    """``$XDG_CACHE_HOME/backprop-xval/jax``, or ``~/.cache/backprop-xval/jax``."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "backprop-xval" / "jax"


def enable(environ=os.environ) -> Path | None:
    """Point JAX's persistent cache at the per-user folder (or ``$BACKPROP_COMPILE_CACHE``)
    by setting its environment variables in ``environ``; the folder, or None when switched
    off."""
    choice = environ.get(SWITCH, "").strip()
    if choice.lower() in ("off", "0", "no", "false"):
        return None
    folder = Path(choice).expanduser() if choice else default_folder(environ)
    environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(folder))
    environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(MIN_COMPILE_SECONDS))
    return Path(environ["JAX_COMPILATION_CACHE_DIR"])
