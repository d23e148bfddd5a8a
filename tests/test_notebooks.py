"""The notebooks: stored exactly as ``notebooks/build.py`` writes them from their sources (so
without outputs), and each runs top to bottom through ``build.py --execute`` (nbclient, a
fresh kernel of the interpreter running the tests), which writes it with its outputs."""

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


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


def test_a_failing_cell_fails_the_run_in_this_interpreter(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("import sys; print(sys.executable)"),
                                   new_code_cell("raise ValueError('planted failure')"),
                                   new_code_cell("print('never reached')")])
    with pytest.raises(CellExecutionError, match="planted failure"):
        build.execute(notebook, tmp_path, timeout=120)
    text, _ = outputs_of(notebook)
    assert text.strip() == sys.executable


def test_execute_writes_a_failed_run_with_its_traceback_and_exits_one(tmp_path, monkeypatch,
                                                                      capsys):
    (tmp_path / "bad.py").write_text("# %%\nprint('ran')\n# %%\n1 / 0\n", encoding="utf-8")
    monkeypatch.setattr(build, "SOURCES", tmp_path)
    monkeypatch.setattr(build, "NAMES", ("bad",))
    assert build.main(["--execute", "--output-dir", str(tmp_path / "out")]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    written = nbformat.read(tmp_path / "out" / "bad.ipynb", as_version=4)
    assert written.cells[0].outputs[0].text == "ran\n"
    assert written.cells[1].outputs[0].ename == "ZeroDivisionError"


def test_the_notebooks_extra_installs_what_execute_needs():
    # (tomllib is Python 3.11+; the project supports 3.10.)
    extra = re.search(r"^notebooks = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(),
                      flags=re.S | re.M)
    names = set(re.findall(r'"([A-Za-z0-9_.-]+)', extra.group(1)))
    assert {"nbclient", "nbformat", "ipykernel"} <= names


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
    # the hand JVP passes check_jvp and, with the hand backward, the dot-product test; the
    # hand HVP passes; two planted R-operator slips fail and are named; the cost figure and
    # the two slips' error pictures render inline
    "forward-and-reverse": (["PASS: every output and tangent agrees with its oracle",
                             "PASS: the forward-mode rule and the backward agree",
                             "PASS: H v agrees with its oracle in every argument",
                             "FAIL: the hvp is wrong in", "diagnosis: σ'' dropped",
                             "diagnosis: the cross term"], 3),
}


@pytest.mark.parametrize("name", build.NAMES)
def test_notebook_runs_top_to_bottom_and_keeps_its_outputs(name, tmp_path):
    # The documented command: python notebooks/build.py --execute (issue 13, item 11: the
    # README's `jupyter execute` threw the outputs away).
    stored = (NOTEBOOKS / f"{name}.ipynb").read_bytes()
    assert build.main(["--execute", name, "--output-dir", str(tmp_path)]) == 0
    notebook = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    assert (NOTEBOOKS / f"{name}.ipynb").read_bytes() == stored
    text, kinds = outputs_of(notebook)
    phrases, pictures = EVIDENCE[name]
    for phrase in phrases:
        assert phrase in text
    assert kinds.count("image/png") >= pictures
