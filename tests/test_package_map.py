"""A newcomer finds the one checking core from the tree: ``autodiff/core``'s docstring names
every module in it, and the README's "What is where" names the core's modules in its row."""

import re
from pathlib import Path

import autodiff.check
import autodiff.core

ROOT = Path(__file__).resolve().parent.parent
CORE = ("compare", "render", "inputs", "tolerance", "slips")


def _modules(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


def test_the_core_docstring_names_every_module_and_the_checks_point_to_it():
    named = set(re.findall(r"``(\w+)``", autodiff.core.__doc__))
    assert [m for m in _modules(ROOT / "autodiff" / "core") if m not in named] == []
    assert all(f"core.{m}" in autodiff.check.__doc__ for m in ("compare", "render", "inputs"))


def test_the_readmes_core_row_names_the_one_core():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `autodiff/core/`"))
    assert [m for m in CORE if f"`{m}.py`" not in row] == []
