"""The command line's persistent compilation cache: where it goes, how it is switched off, and
that only the command line, never a library import, sets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autodiff.core import compile_cache


def test_the_cache_is_per_user_and_can_be_switched_off_or_moved(tmp_path):
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    assert compile_cache.enable(environ) == tmp_path / "backprop-xval" / "jax"
    assert environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "backprop-xval" / "jax")
    assert float(environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) < 1  # JAX's 1 s: none
    environ = {"BACKPROP_COMPILE_CACHE": "off", "XDG_CACHE_HOME": str(tmp_path)}
    assert compile_cache.enable(environ) is None and "JAX_COMPILATION_CACHE_DIR" not in environ
    environ = {"BACKPROP_COMPILE_CACHE": str(tmp_path / "mine")}
    assert compile_cache.enable(environ) == tmp_path / "mine"
    environ = {"JAX_COMPILATION_CACHE_DIR": "/theirs"}  # the user's own JAX setting wins
    assert compile_cache.enable(environ) == Path("/theirs")


def run_python(program: str, tmp_path, **extra) -> subprocess.CompletedProcess:
    """``program`` in a fresh interpreter whose home is ``tmp_path`` and whose environment
    names no cache but ``extra``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JAX_COMPILATION", "BACKPROP_COMPILE", "XDG_CACHE"))}
    env.update(HOME=str(tmp_path), MPLBACKEND="Agg", **extra)
    return subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)


def test_a_command_fills_the_cache_and_the_next_one_reads_it(tmp_path):
    folder = tmp_path / "cache"
    program = ("import sys; from autodiff.cli import main; "
               "status = main(['check', '--no-oracle']); import jax; "
               "print(jax.config.jax_compilation_cache_dir); sys.exit(status)")
    first = run_python(program, tmp_path, BACKPROP_COMPILE_CACHE=str(folder))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == str(folder)
    written = sorted(path.name for path in folder.iterdir())
    assert written, "nothing was cached"
    second = run_python(program, tmp_path, BACKPROP_COMPILE_CACHE=str(folder))
    assert second.returncode == 0 and sorted(p.name for p in folder.iterdir()) == written
    assert not (tmp_path / ".cache").exists()  # the folder named, not the default


def test_importing_the_library_leaves_jax_configured_as_it_was(tmp_path):
    program = ("import autodiff.check.crosscheck, autodiff.training.engine, "
               "autodiff.commands.train, jax; print(jax.config.jax_compilation_cache_dir)")
    result = run_python(program, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
