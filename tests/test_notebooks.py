"""The notebooks: stored exactly as ``notebooks/build.py`` writes them from their sources (so
without outputs), and each runs top to bottom, with nbclient, in a fresh kernel of the
interpreter running the tests."""

import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook, new_output

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_S = 300  # a hung cell fails the test instead of hanging the suite


def load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build()


def cells_with_outputs(notebook) -> list[int]:
    """Indices of code cells that carry outputs or an execution count."""
    return [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            and (cell.outputs or cell.execution_count is not None)]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """The name of a kernelspec running *this* interpreter, put first on JUPYTER_PATH (a
    user-wide "python3" spec could point anywhere); matplotlib draws inline, whatever
    MPLBACKEND the suite runs under (CI sets Agg)."""
    share = tmp_path_factory.mktemp("jupyter")
    spec_dir = share / "kernels" / "backprop-xval-tests"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "backprop-xval tests", "language": "python"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(share))
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield "backprop-xval-tests"


def execute(notebook, kernel: str, workdir: Path):
    """Run every cell in a fresh kernel, in ``workdir``; raises CellExecutionError on an error."""
    NotebookClient(notebook, kernel_name=kernel, timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def outputs_of(notebook) -> tuple[str, list[str]]:
    """All printed text, and the MIME types of every rich output, in cell order."""
    text, kinds = [], []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                text.append(output.text)
            kinds.extend(output.get("data", {}))
    return "".join(text), kinds


def test_every_stored_notebook_is_what_its_source_builds():
    assert build.stale() == [], "run: python notebooks/build.py"


def test_the_staleness_check_sees_an_edited_source(tmp_path, monkeypatch):
    for name in build.NAMES:
        source = (build.SOURCES / f"{name}.py").read_text(encoding="utf-8")
        (tmp_path / f"{name}.py").write_text(source.replace("# %%\n", "# %%\n1 + 1\n", 1),
                                             encoding="utf-8")
    monkeypatch.setattr(build, "SOURCES", tmp_path)
    assert build.stale() == list(build.NAMES)


@pytest.mark.parametrize("name", build.NAMES)
def test_stored_notebooks_carry_no_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert cells_with_outputs(notebook) == []


def test_the_output_check_sees_a_stored_output():
    notebook = build.build(build.NAMES[0])
    index = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells[index].outputs.append(new_output("stream", name="stdout", text="left over"))
    assert cells_with_outputs(notebook) == [index]


def test_markdown_cells_must_be_comments():
    with pytest.raises(ValueError, match="not a comment"):
        build.split_cells("# %% [markdown]\n# fine\nnot fine\n")


def test_a_failing_cell_fails_the_run_in_this_interpreter(kernel, tmp_path):
    notebook = new_notebook(cells=[new_code_cell("import sys; print(sys.executable)"),
                                   new_code_cell("raise ValueError('planted failure')"),
                                   new_code_cell("print('never reached')")])
    with pytest.raises(CellExecutionError, match="planted failure"):
        execute(notebook, kernel, tmp_path)
    text, _ = outputs_of(notebook)
    assert text.strip() == sys.executable


# What each notebook must show, beyond running cleanly: evidence that it did its job.
EVIDENCE = {
    # the cross-check table passes and both training pictures render inline
    "backpropagation": (["PASS: manual, jax.grad and the third opinion agree"], 2),
    # a planted mistake fails, with the minimal network hypothesis found
    "checking-your-gradients": (["FAIL: the manual gradient is wrong", "NetworkCase(sizes="],
                                0),
    # batch norm and the cross-entropy pass, a planted slip is named, the conv net is checked
    # layer by layer and its wrong layer found
    "hand-deriving-layers": (["PASS: the hand backward agrees with jax.vjp",
                              "dx: batchnorm-no-mean-variance-paths", "pass, at a kink",
                              "first wrong layer: layer 3 (maxpool)"], 0),
}


@pytest.mark.parametrize("name", build.NAMES)
def test_notebook_runs_top_to_bottom(name, kernel, tmp_path):
    notebook = execute(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4), kernel, tmp_path)
    text, kinds = outputs_of(notebook)
    phrases, pictures = EVIDENCE[name]
    for phrase in phrases:
        assert phrase in text
    assert kinds.count("image/png") >= pictures
