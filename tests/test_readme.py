"""The README's examples run as written: its Python blocks in order, in one namespace (the
hand-written gradient the README leaves as ``...`` is filled in with the reference backprop);
its hypothesis example in a user's own project, outside this repository's test profile; and
its notebook command is the one the suite runs."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FILLED = ("    import reference\n"
          "    return reference.gradients(params, x, y, 'tanh')\n")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the examples write their pictures
    blocks = python_blocks()
    assert len(blocks) >= 4, "the README lost its usage examples"
    namespace: dict = {}
    for index, block in enumerate(blocks):
        code = block.replace("    ...\n", FILLED)
        exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    assert namespace["result"].passed
    namespace["test_my_gradients"]()  # the hypothesis property the README shows
    namespace["test_affine_backward"]()  # and its check_layer test of the affine pair
    namespace["test_quadratic_hvp"]()  # and the hvp property of its second-order section
    assert {"blocks.png", "graph.png"} <= {path.name for path in tmp_path.iterdir()}


def users_test_file(gradient: str) -> str:
    """The README's ``my_gradients`` (with ``gradient`` as its body) and its hypothesis
    example, as a user would put them in a test file of their own."""
    blocks = python_blocks()
    example = next(block for block in blocks if "@given(network_cases" in block)
    definition = re.search(r"def my_gradients\(params, x, y\):.*?\n    \.\.\.\n",
                           next(block for block in blocks if "def my_gradients" in block),
                           flags=re.S).group(0)
    return definition.replace("    ...\n", gradient) + "\n\n" + example


def run_pytest_in(folder: Path, source: str) -> subprocess.CompletedProcess:
    """pytest on ``source`` alone, from ``folder``: no conftest, no repository settings, no
    hypothesis profile but hypothesis' own defaults (the 200 ms deadline included)."""
    (folder / "test_users_gradients.py").write_text(source, encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HYPOTHESIS", "PYTEST"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--rootdir", str(folder), "test_users_gradients.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def test_the_hypothesis_example_passes_in_a_users_own_project(tmp_path):
    # Issue 13, item 1: outside this repository (whose conftest lifts the deadline) the
    # README's example once failed a correct gradient on hypothesis' 200 ms deadline.
    assert not list(tmp_path.glob("conftest.py"))
    run = run_pytest_in(tmp_path, users_test_file(FILLED))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_the_users_project_run_fails_a_wrong_gradient(tmp_path):
    # The same run can fail: a sign slip in the gradient (hypothesis' shrinking is switched
    # off, in the file itself, to keep this short).
    wrong = textwrap.indent(textwrap.dedent("""\
        import reference
        return [(-dW, -db) for dW, db in reference.gradients(params, x, y, 'tanh')]
        """), "    ")
    no_shrink = ("from hypothesis import Phase, settings as _settings\n"
                 "_settings.register_profile('no-shrink', phases=[Phase.generate])\n"
                 "_settings.load_profile('no-shrink')\n\n")
    run = run_pytest_in(tmp_path, no_shrink + users_test_file(wrong))
    assert run.returncode == 1, run.stdout[-3000:]
    assert "NetworkCase(sizes=" in run.stdout and "1 failed" in run.stdout


def test_the_hypothesis_examples_failure_shows_the_report_not_a_bare_assert(tmp_path):
    # Issue 20: `assert case.check(...).passed` failed as a bare `assert False` beside a cut-off
    # repr; the README's example asserts with the table as its message.
    wrong = "    import reference\n    return [(-dW, -db) for dW, db in reference.gradients(" \
            "params, x, y, 'tanh')]\n"
    no_shrink = ("from hypothesis import Phase, settings as _settings\n"
                 "_settings.register_profile('no-shrink', phases=[Phase.generate])\n"
                 "_settings.load_profile('no-shrink')\n\n")
    run = run_pytest_in(tmp_path, no_shrink + users_test_file(wrong))
    assert run.returncode == 1, run.stdout[-3000:]
    assert "FAIL: the manual gradient is wrong in" in run.stdout     # the table, as message
    assert "max abs err" in run.stdout and "diagnosis:" in run.stdout
    assert "CheckResult(FAIL, worst " in run.stdout                  # and the repr, whole


def test_the_notebook_command_is_the_one_the_suite_runs():
    # Issue 13, item 11: `jupyter execute` threw the outputs away and needed a kernel.
    section = README.read_text().split("## Notebooks", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert commands and commands[0].split("#")[0].split(" && ") == [
        "pip install '.[notebooks]'", "python notebooks/build.py --execute   "]
    assert "jupyter execute" not in section
    assert re.search(r"^notebooks = \[", (ROOT / "pyproject.toml").read_text(), flags=re.M)
