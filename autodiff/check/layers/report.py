"""Results of layer and stack checks: one ``BlockReport`` row per gradient, and the tables.

``LayerResult`` is one layer's backward against ``jax.vjp`` (rows ``dx``, ``dW``, …);
``StackResult`` is a stack's hand gradients against ``jax.grad`` (rows ``1:conv2d.w`` — the
layer's place in the stack, its name, the parameter — and ``input``), plus each layer's own
check with the true upstream gradient, which names the first wrong layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autodiff.core.render import Rendered, aligned, document, index, number, worst_of
from autodiff.core.report import BlockReport, pictured

KINK = "a kink"  # the note of a gradient that differs from jax.vjp only at a kink


COLUMNS = ("max abs err", "max rel err", "worst", "hand", "jax", "tolerance", "status")


def block_rows(blocks: list[BlockReport]) -> list[tuple]:
    """One row per block (under ``COLUMNS`` after its name): errors, the worst element's
    values, the status."""
    return [(block.name, number(block.max_abs_error), number(block.max_rel_error),
             index(block.worst_index), number(block.manual_value), number(block.jax_value),
             number(block.tolerance), block.status) for block in blocks]


def _notes(blocks: list[BlockReport]) -> list[str]:
    notes = [f"  {block.name}: {block.note}" for block in blocks if block.note]
    return ["", "notes:", *notes] if notes else []


@dataclass(repr=False)
class LayerResult(Rendered):
    """One layer's hand backward against ``jax.vjp``: ``passed``, ``blocks`` (one per gradient
    the backward returns), ``index`` (1-based place in a stack, ``None`` alone)."""

    layer: str
    blocks: list[BlockReport]
    dtype: str
    backward_name: str = "hand"
    index: int | None = None
    diagnosis: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(block.status != "fail" for block in self.blocks)

    @property
    def failing(self) -> list[str]:
        return [block.name for block in self.blocks if block.status == "fail"]

    columns = ("gradient", *COLUMNS)

    def headline(self) -> str:
        return f"{self.layer}: {'PASS' if self.passed else 'FAIL'}"

    def worst(self) -> tuple[str | None, float | None]:
        return worst_of((b.name, b.excess) for b in self.blocks)

    def pictured(self) -> list:
        return pictured(self.blocks)

    def rows(self) -> list[tuple]:
        return block_rows(self.blocks)

    def details(self) -> list[str]:
        return _notes(self.blocks)

    @property
    def label(self) -> str:
        return self.layer if self.index is None else f"layer {self.index} ({self.layer})"

    def summary(self) -> str:
        verdict = ("PASS: the hand backward agrees with jax.vjp" if self.passed else
                   f"FAIL: {self.label}'s backward is wrong in {', '.join(self.failing)}")
        lines = [f"{self.label}, {self.dtype}, backward = {self.backward_name}", verdict]
        return "\n".join(lines + self.diagnosis_lines())

    def diagnosis_lines(self) -> list[str]:
        """``  dx, dW: <diagnosis>``: gradients with the same diagnosis on one line."""
        by_text: dict[str, list[str]] = {}
        for name, text in self.diagnosis.items():
            by_text.setdefault(text, []).append(name)
        return [f"  {', '.join(names)}: {text}" for text, names in by_text.items()]

    def to_dict(self) -> dict:
        return document(self, ("layer", "index", "passed", "dtype", ("backward", "backward_name"),
                               "diagnosis", ("gradients", "blocks")))


@dataclass(repr=False)
class StackResult(Rendered):
    """A stack's hand gradients against ``jax.grad`` (``blocks``), each layer's own check
    (``layers``, from the loss down) and the first wrong layer, walking down from the loss."""

    description: str
    blocks: list[BlockReport]
    layers: list[LayerResult]
    dtype: str
    loss: float
    backward_name: str = "hand"

    columns = ("block", *COLUMNS)

    def headline(self) -> str:
        wrong = self.first_wrong
        return "PASS" if self.passed else "FAIL" + (
            f", first wrong layer {wrong.label}" if wrong is not None else "")

    def worst(self) -> tuple[str | None, float | None]:
        return worst_of((b.name, b.excess) for b in self.blocks)

    def pictured(self) -> list:
        return pictured(self.blocks)

    def rows(self) -> list[tuple]:
        return block_rows(self.blocks)

    @property
    def first_wrong(self) -> LayerResult | None:
        return next((layer for layer in self.layers if not layer.passed), None)

    @property
    def first_wrong_layer(self) -> int | None:
        """1-based place in the stack (the loss is the last), or ``None``."""
        wrong = self.first_wrong
        return None if wrong is None else wrong.index

    @property
    def passed(self) -> bool:
        return (all(block.status != "fail" for block in self.blocks)
                and all(layer.passed for layer in self.layers))

    def summary(self) -> str:
        failing = [block.name for block in self.blocks if block.status == "fail"]
        if self.passed:
            verdict = "PASS: the hand gradients agree with jax.grad, layer by layer"
        else:
            verdict = "FAIL: " + (f"the hand gradients are wrong in {', '.join(failing)}"
                                  if failing else "the gradients agree, but a layer does not")
            wrong = self.first_wrong
            if wrong is not None:
                verdict += (f"; first wrong layer: {wrong.label}, in "
                            f"{', '.join(wrong.failing)}")
                verdict += "".join(f"\n{line}" for line in wrong.diagnosis_lines())
        return (f"stack {self.description}\n{self.dtype}, loss {self.loss:.6g}, "
                f"backward = {self.backward_name}\n{verdict}")

    def layer_table(self) -> list[str]:
        """One line per layer, from the loss down: its gradients' worst error and status."""
        rows = [("layer", "gradients", "worst err/tol", "status")]
        for layer in self.layers:
            kinks = [b.name for b in layer.blocks if KINK in b.note]
            ratios = [abs(b.manual_value - b.jax_value) / b.tolerance for b in layer.blocks
                      if b.tolerance and b.manual_value is not None and b.name not in kinks]
            status = "FAIL" if not layer.passed else "pass, at a kink" if kinks else "pass"
            worst = max(ratios, default=0.0)
            rows.append((layer.label, ",".join(b.name for b in layer.blocks) or "-",
                         f"{worst:.2g}" if worst < 1e6 else ">1e6", status))
        return aligned(rows)

    def details(self) -> list[str]:
        parts = _notes(self.blocks)
        if self.layers:
            parts += ["", "each layer's backward, fed the true upstream gradient (jax.vjp):",
                      *self.layer_table()]
        return parts

    def to_dict(self) -> dict:
        return document(self, (
            ("stack", "description"), "passed", "dtype", "loss", ("backward", "backward_name"),
            "first_wrong_layer", ("first_wrong_layer_name", _wrong_name), "blocks", "layers"))


def _wrong_name(stack: StackResult) -> str | None:
    return None if stack.first_wrong is None else stack.first_wrong.layer
