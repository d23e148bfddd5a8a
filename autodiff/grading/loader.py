"""Read a submission into the code cells the grader runs, and the worksheet's support code.

A submission is a list of ``(label, source)`` cells, executed in order in one namespace. A
``.py`` file is one cell. A notebook contributes only the code cells whose first line is
``# PACKAGE`` or ``# GRADED FUNCTION`` (the worksheet's markers); test cells, ``%run`` and
training runs are skipped, and IPython magics left inside a marked cell are neutralised.
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
from pathlib import Path

from reference import heart, worksheet

Cell = tuple[str, str]

MARKERS = ("# PACKAGE", "# GRADED FUNCTION")
JACOBIAN_NAMES = ("J_W3", "J_b3", "J_W2", "J_b2", "J_W1", "J_b1")
# The support module's definitions a submission may use without defining them itself.
SUPPORT_NAMES = ("sigma", "d_sigma", "reset_network", "network_function", "cost")

# A line that IPython, not Python, would read: %magic, %%cell magic, !shell, or `name?` help.
_MAGIC_LINE = re.compile(r"^(\s*)(%|!|\?)|^(\s*)[\w.]+\?{1,2}\s*$")


class LoadError(Exception):
    """The file cannot be read as a submission; the message says why."""


def load_submission(path: str | Path) -> list[Cell]:
    """The cells of the ``.py`` file or ``.ipynb`` notebook at ``path``, in execution order."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    if path.suffix == ".py":
        return [(str(path), text)]
    if path.suffix == ".ipynb":
        return notebook_cells(text, str(path))
    raise LoadError(f"{path}: expected a .py file or an .ipynb notebook, got {path.suffix!r}")


def notebook_cells(text: str, name: str) -> list[Cell]:
    """The marked code cells of the notebook JSON ``text``, magics neutralised."""
    try:
        notebook = json.loads(text)
        raw_cells = notebook["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise LoadError(f"{name}: not a Jupyter notebook ({error})") from None
    cells = []
    for index, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        first_line = source.lstrip("\n").split("\n", 1)[0].strip()
        if first_line in MARKERS:
            cells.append((f"{name} [cell {index}]", strip_magics(source)))
    if not cells:
        raise LoadError(
            f"{name}: no code cell starts with {' or '.join(map(repr, MARKERS))}; "
            "the grader runs only the worksheet's marked cells"
        )
    return cells


def strip_magics(source: str) -> str:
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


def support_source() -> str:
    """The worksheet support module's definitions, as source to run in the child's namespace.

    Running the source (rather than importing ``reference.worksheet``) makes
    ``network_function`` read the globals ``W1 … b3`` of the namespace the submission shares.
    """
    parts = ["import numpy as np", textwrap.dedent(inspect.getsource(heart.training_data))]
    for name in SUPPORT_NAMES:
        parts.append(textwrap.dedent(inspect.getsource(getattr(worksheet, name))))
    return "\n\n".join(parts)
