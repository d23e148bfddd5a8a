"""Write the notebooks from their Python sources, so that what reviewers diff is plain Python.

Each ``source/<name>.py`` is in the "percent" format: a line ``# %%`` opens a code cell and
``# %% [markdown]`` a markdown cell whose lines are comments (``# `` is stripped). Anything
before the first marker (the source's own header) is not part of the notebook. The notebooks
are written without outputs and with stable cell ids, so rebuilding an unchanged source gives
the same bytes.

    python notebooks/build.py           # rewrite notebooks/*.ipynb (or name some)
    python notebooks/build.py --check   # exit 1 if a stored notebook differs from its source
    python notebooks/build.py --execute # run them; notebooks/executed/*.ipynb keep the outputs

``--execute`` (needs ``pip install '.[notebooks]'``) builds each notebook from its source, runs
it top to bottom in a fresh kernel of *this* interpreter (a temporary kernelspec, so no
``python3`` kernel need be installed, and figures drawn inline) and writes it, outputs
included, under ``--output-dir``; the stored notebooks stay output-free. A failing cell is
reported and still written, with its traceback, for inspection (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "source"
NAMES = ("backpropagation", "checking-your-gradients", "hand-deriving-layers",
         "forward-and-reverse")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
EXECUTED = HERE / "executed"  # --execute's default output folder (git-ignored)
CELL_TIMEOUT_S = 600  # a hung cell fails the run instead of hanging it
KERNEL = "backprop-xval-build"  # the temporary kernelspec's name


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


@contextlib.contextmanager
def this_interpreter_kernel():
    """A kernelspec running ``sys.executable`` (drawing figures inline), first on
    JUPYTER_PATH for the duration: a user-wide "python3" spec could point anywhere."""
    with tempfile.TemporaryDirectory() as share:
        spec = Path(share) / "kernels" / KERNEL
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "backprop-xval (this interpreter)", "language": "python",
            "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}}))
        saved = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [share, saved]))
        try:
            yield KERNEL
        finally:
            if saved is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved


def execute(notebook: nbformat.NotebookNode, workdir: Path,
            timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in place, in ``workdir``, in a fresh kernel of this
    interpreter; raises nbclient's CellExecutionError at the first failing cell."""
    from nbclient import NotebookClient  # the notebooks extra: only --execute needs it

    with this_interpreter_kernel() as kernel:
        NotebookClient(notebook, kernel_name=kernel, timeout=timeout,
                       resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def execute_to(name: str, folder: Path) -> Path:
    """Build ``name``, run it (in ``folder``) and write it there with its outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    notebook = build(name)
    target = folder / f"{name}.ipynb"
    try:
        execute(notebook, folder)
    finally:  # a failed run is written too: its last output is the traceback
        target.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"notebooks to build, among {', '.join(NAMES)} (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a notebook is out of date")
    parser.add_argument("--execute", action="store_true",
                        help="run the notebooks and write them with their outputs to "
                             "--output-dir (needs: pip install '.[notebooks]')")
    parser.add_argument("--output-dir", type=Path, default=EXECUTED, metavar="DIR",
                        help="where --execute writes (default notebooks/executed)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown notebook {unknown[0]!r}; expected one of {', '.join(NAMES)}")
    args.names = args.names or list(NAMES)
    if args.execute:
        return _execute_all(args.names, args.output_dir)
    if args.check:
        outdated = stale(args.names)
        for name in outdated:
            print(f"notebooks/{name}.ipynb is out of date: run python notebooks/build.py")
        return 1 if outdated else 0
    for name in args.names:
        (HERE / f"{name}.ipynb").write_text(render(name), encoding="utf-8")
        print(f"wrote notebooks/{name}.ipynb")
    return 0


def _execute_all(names, folder: Path) -> int:
    try:
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        print("--execute needs nbclient and ipykernel: pip install '.[notebooks]'",
              file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            target = execute_to(name, folder)
        except CellExecutionError as error:
            failed += 1
            print(f"notebooks/{name}.ipynb failed; see {folder / (name + '.ipynb')}:\n"
                  f"{str(error).strip().splitlines()[-1]}", file=sys.stderr)
        else:
            print(f"ran notebooks/{name}.ipynb: {target} keeps its outputs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
