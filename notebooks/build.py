"""Write the notebooks from their Python sources, so that what reviewers diff is plain Python.

Each ``source/<name>.py`` is in the "percent" format: a line ``# %%`` opens a code cell and
``# %% [markdown]`` a markdown cell whose lines are comments (``# `` is stripped). Anything
before the first marker (the source's own header) is not part of the notebook. The notebooks
are written without outputs and with stable cell ids, so rebuilding an unchanged source gives
the same bytes.

    python notebooks/build.py           # rewrite notebooks/*.ipynb (or name some)
    python notebooks/build.py --check   # exit 1 if a stored notebook differs from its source
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "source"
NAMES = ("backpropagation", "checking-your-gradients", "hand-deriving-layers")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def split_cells(text: str) -> list[tuple[str, str]]:
    """``[(kind, source), …]`` with ``kind`` "code" or "markdown", blank edges trimmed."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if line.strip() == "# %% [markdown]" else "code"
            cells.append((kind, []))
        elif cells:
            kind, lines = cells[-1]
            if kind == "markdown":
                if line and not line.startswith("#"):
                    raise ValueError(f"markdown cell line is not a comment: {line!r}")
                line = line[2:] if line.startswith("# ") else line[1:]
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def build(name: str) -> nbformat.NotebookNode:
    """The notebook for ``source/<name>.py``: cells in order, no outputs, ids ``<name>-NN``."""
    text = (SOURCES / f"{name}.py").read_text(encoding="utf-8")
    cells = []
    for index, (kind, source) in enumerate(split_cells(text)):
        make = new_markdown_cell if kind == "markdown" else new_code_cell
        cell = make(source)
        cell.id = f"{name}-{index:02d}"
        cells.append(cell)
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return notebook


def render(name: str) -> str:
    """The exact text ``notebooks/<name>.ipynb`` should hold."""
    return nbformat.writes(build(name)) + "\n"


def stale(names=NAMES) -> list[str]:
    """The notebooks whose stored text differs from what their sources build."""
    return [name for name in names
            if not (HERE / f"{name}.ipynb").exists()
            or (HERE / f"{name}.ipynb").read_text(encoding="utf-8") != render(name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"notebooks to build, among {', '.join(NAMES)} (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown notebook {unknown[0]!r}; expected one of {', '.join(NAMES)}")
    args.names = args.names or list(NAMES)
    if args.check:
        outdated = stale(args.names)
        for name in outdated:
            print(f"notebooks/{name}.ipynb is out of date: run python notebooks/build.py")
        return 1 if outdated else 0
    for name in args.names:
        (HERE / f"{name}.ipynb").write_text(render(name), encoding="utf-8")
        print(f"wrote notebooks/{name}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
