"""Read a submission into the code cells the grader runs, and the worksheet's support code.

A submission is a list of ``(label, source)`` cells, executed in order in one namespace. A
``.py`` file is one cell. A notebook contributes only the code cells whose first line is
``# PACKAGE`` or ``# GRADED FUNCTION`` (the worksheet's markers); test cells, ``%run`` and
training runs are skipped (IPython magics left inside a marked cell are neutralised in the
sandbox, ``worker.strip_magics``). The file is hostile: its size, its JSON's depth and the
marked code's size are bounded, and nothing here compiles or runs it. A label is the file's
name, never its folder, so the submission does not learn where the teacher keeps files.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import stat
import textwrap
from pathlib import Path

from reference import heart, worksheet

Cell = tuple[str, str]

MARKERS = ("# PACKAGE", "# GRADED FUNCTION")
JACOBIAN_NAMES = ("J_W3", "J_b3", "J_W2", "J_b2", "J_W1", "J_b1")
# The support module's definitions a submission may use without defining them itself.
SUPPORT_NAMES = ("sigma", "d_sigma", "reset_network", "network_function", "cost")
# A notebook's outputs (plots) may be large; its graded code never is.
MAX_NOTEBOOK_BYTES = 25 << 20
MAX_CODE_BYTES = 1 << 20


class LoadError(Exception):
    """The file cannot be read as a submission; the message says why."""


class LoadTimeout(LoadError):
    """Loading the submission did not finish in time: it hung (the grader's own verdict,
    never read from what the submission wrote)."""


def load_submission(path: str | Path) -> list[Cell]:
    """The cells of the ``.py`` file or ``.ipynb`` notebook at ``path``, in execution order."""
    path = Path(path)
    not_regular = f"{path}: not a regular file (a folder, a pipe or a device)"
    if path.is_symlink():
        # A link in a class's archive may point at any file the teacher can read.
        raise LoadError(f"{path}: is a symbolic link, and a submission must be a regular "
                        "file (to grade what it points to, name that file itself)")
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if not path.is_file():  # never opened: opening a device or a pipe may act or block
        raise LoadError(not_regular)
    if path.suffix not in (".py", ".ipynb"):
        raise LoadError(f"{path}: expected a .py file or an .ipynb notebook, got {path.suffix!r}")
    limit = MAX_CODE_BYTES if path.suffix == ".py" else MAX_NOTEBOOK_BYTES
    try:
        # Not following a link, not waiting on a pipe swapped in since the checks above.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):  # swapped in since the check above
                raise LoadError(not_regular)
            if status.st_size > limit:
                raise LoadError(f"{path}: {status.st_size} bytes, more than the "
                                f"{limit >> 20} MiB a {path.suffix} submission may have")
            # utf-8-sig: a BOM at the start (some editors save one) is read as Python does.
            text = handle.read(limit + 1).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    if path.suffix == ".py":
        return [(path.name, text)]
    return notebook_cells(text, path.name)


def notebook_cells(text: str, name: str) -> list[Cell]:
    """The marked code cells of the notebook JSON ``text``."""
    try:
        notebook = json.loads(text, parse_int=_integer)
        raw_cells = notebook["cells"]
    except RecursionError:
        raise LoadError(f"{name}: not a Jupyter notebook (its JSON is nested too deeply)") from None
    except (ValueError, KeyError, TypeError) as error:
        raise LoadError(f"{name}: not a Jupyter notebook ({error})") from None
    if not isinstance(raw_cells, list):
        raise LoadError(f"{name}: not a Jupyter notebook (its cells are not a list)")
    cells, size = [], 0
    for index, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        elif not isinstance(source, str):
            raise LoadError(f"{name}: cell {index} has a source that is not text")
        first_line = source.lstrip("\n").split("\n", 1)[0].strip()
        if first_line in MARKERS:
            size += len(source)
            if size > MAX_CODE_BYTES:
                raise LoadError(f"{name}: its marked cells hold more than "
                                f"{MAX_CODE_BYTES >> 20} MiB of code")
            cells.append((f"{name} [cell {index}]", source))
    if not cells:
        raise LoadError(
            f"{name}: no code cell starts with {' or '.join(map(repr, MARKERS))}; "
            "the grader runs only the worksheet's marked cells"
        )
    return cells


def _integer(digits: str) -> int | str:
    """A notebook's integer; one Python refuses to convert (more digits than
    ``sys.get_int_max_str_digits()``, an ``execution_count`` of 5000) stays text, since the
    grader reads no number of a notebook."""
    try:
        return int(digits)
    except ValueError:
        return digits


@functools.cache
def support_source() -> str:
    """The worksheet support module's definitions, as source to run in the child's namespace.

    Running the source (rather than importing ``reference.worksheet``) makes
    ``network_function`` read the globals ``W1 … b3`` of the namespace the submission shares.
    """
    parts = ["import numpy as np", textwrap.dedent(inspect.getsource(heart.training_data))]
    for name in SUPPORT_NAMES:
        parts.append(textwrap.dedent(inspect.getsource(getattr(worksheet, name))))
    return "\n\n".join(parts)
