"""The README's Python examples run as written, in order, in one namespace (the hand-written
gradient the README leaves as ``...`` is filled in with the reference backprop)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples_run():
    blocks = python_blocks()
    assert len(blocks) >= 4, "the README lost its usage examples"
    namespace: dict = {}
    for index, block in enumerate(blocks):
        code = block.replace("    ...\n", "    import reference\n"
                             "    return reference.gradients(params, x, y, 'tanh')\n")
        exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    assert namespace["result"].passed
    namespace["test_my_gradients"]()  # the hypothesis property the README shows
