"""Result objects of a gradient cross-check: one ``BlockReport`` per parameter block, and the
``CheckResult`` that gathers them, prints the table and serialises to JSON-ready dicts.

A block's status is one of ``STATUSES``: ``pass`` (the opinions agree within tolerance),
``fail`` (some element does not), ``below-noise-floor`` (they agree, but every element of the
gradient is itself within rounding of zero, so the agreement proves little) and ``saturated``
(the same, because every unit of some layer at or above the block is saturated, σ' ≈ 0).
Only ``fail`` makes a check fail. A check whose blocks are all ``saturated`` or
``below-noise-floor`` tested nothing: its ``verdict`` is ``inconclusive``.

The third opinion covers a block element by element, or along random directions
(``ProbeSummary``; see ``autodiff.check.probes``) where that would cost too much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from autodiff.core.compare import compare
from autodiff.core.picture import Elements
from autodiff.core.render import (
    Rendered,
    document,
    index,
    number,
    ratio,
    short,
    worst_of,
)

STATUSES = ("pass", "fail", "below-noise-floor", "saturated")


def block_names(n_layers: int) -> list[str]:
    """``["W1", "b1", …, "WL", "bL"]``, in params order."""
    return [f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in ("W", "b")]


@dataclass
class ProbeSummary:
    """One block's third opinion along ``directions`` random Gaussian directions ``V``: the
    largest ``|<opinion, V> - complex step|`` over its tolerance, for the manual and for
    ``jax.grad`` (above 1: they disagree), and ``detects``, the ``‖e‖₂`` of a manual error
    caught with probability at least ``1 - miss`` (``gradient_norm``: ``‖jax.grad‖₂``)."""

    directions: int
    manual_excess: float
    jax_excess: float
    detects: float
    gradient_norm: float
    miss: float

    @property
    def relative(self) -> float | None:
        """``detects`` over the block's gradient norm (``None`` for a zero gradient)."""
        return self.detects / self.gradient_norm if self.gradient_norm > 0 else None

    def to_dict(self) -> dict:
        return document(self, (
            "directions", ("detects_error_norm", "detects"), ("detects_relative", "relative"),
            ("miss_probability", "miss"), "manual_excess", "jax_excess"))


@dataclass
class BlockReport:
    """How the opinions of one block compare.

    Errors are manual versus ``jax.grad``; the relative error of an element is its absolute
    error over ``max(|jax|, tolerance)`` (so exact zeros do not divide by zero). The worst
    element is the one furthest outside its tolerance across all three pairs, and the values
    and tolerance reported are that element's; ``tolerance`` is an *absolute* bound on
    ``|manual - jax|`` at that element. ``probe`` is set where the third opinion probed the
    block along random directions instead of element by element.
    """

    name: str
    status: str
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    manual_value: float | None
    jax_value: float | None
    oracle_value: float | None
    tolerance: float | None
    max_oracle_error: float | None = None
    probe: ProbeSummary | None = None
    note: str = ""
    # What the wrong gradient looks like (``autodiff.core.diagnose``), set on failing blocks.
    diagnosis: list = field(default_factory=list)
    # Per element, the largest error over tolerance of the pairs compared (for ``plot``).
    elements: Elements | None = field(default=None, repr=False, compare=False)

    @classmethod
    def compare(cls, name, manual, jax, oracle, bound, oracle_bound, saturated: bool,
                note: str = "", probe: ProbeSummary | None = None) -> BlockReport:
        """Build the report from the three opinions (arrays of one shape, ``manual`` may be
        ``None`` if it had the wrong shape; ``oracle`` ``None`` if skipped or probed) and the
        per-element rounding bounds (``oracle_bound``: the complex step's own)."""
        if manual is None:
            return cls(name, "fail", math.inf, math.inf, None, None, None, None, None,
                       probe=probe, note=note,
                       elements=Elements.unusable(name, note or "no gradient returned", jax))
        tol = 2 * bound  # manual and jax.grad each within `bound` of the exact gradient
        error = np.abs(manual - jax)
        ratios = [compare(manual, jax, tol).ratio]
        oracle_error = None
        jax_suspect = probe is not None and probe.jax_excess > 1
        if oracle is not None:
            tol_oracle = bound + oracle_bound
            oracle_error = np.abs(manual - oracle)
            ratios += [compare(manual, oracle, tol_oracle).ratio,
                       compare(jax, oracle, tol_oracle).ratio]
            jax_suspect = bool(np.any(ratios[2] > 1))
        if probe is not None and probe.manual_excess > 1:
            note = (note + "; " if note else "") + (
                f"manual and the complex step disagree along a random direction "
                f"(by {probe.manual_excess:.3g}x the probe's tolerance)")
        if jax_suspect:
            note = (note + "; " if note else "") + (
                "jax.grad and the complex step disagree: the JAX network is suspect")
        worst_ratio = np.maximum.reduce(ratios)
        worst = np.unravel_index(int(np.argmax(worst_ratio)), worst_ratio.shape)
        probe_fails = probe is not None and max(probe.manual_excess, probe.jax_excess) > 1
        if np.any(worst_ratio > 1) or probe_fails or not np.all(np.isfinite(manual)):
            status = "fail"
        elif np.all(np.abs(jax) <= tol):
            status = "saturated" if saturated else "below-noise-floor"
        else:
            status = "pass"
        return cls(
            name=name,
            status=status,
            max_abs_error=float(error.max()),
            max_rel_error=float((error / np.maximum(np.abs(jax), tol)).max()),
            worst_index=tuple(int(i) for i in worst),
            manual_value=float(manual[worst]),
            jax_value=float(jax[worst]),
            oracle_value=None if oracle is None else float(oracle[worst]),
            tolerance=float(tol[worst]),
            max_oracle_error=None if oracle_error is None else float(oracle_error.max()),
            probe=probe,
            note=note,
            elements=Elements(name, worst_ratio, got=manual, expected=jax),
        )

    @property
    def excess(self) -> float:
        """``|manual - jax.grad|`` over the tolerance at the worst element (``inf``: no
        manual value)."""
        if self.manual_value is None or self.jax_value is None:
            return math.inf
        return ratio(abs(self.manual_value - self.jax_value), self.tolerance)

    def __repr__(self) -> str:
        return short("BlockReport", self.status, self.name, self.excess)

    @property
    def coverage(self) -> str:
        """What the third opinion covered: "all", "K dirs" or "-" (skipped)."""
        if self.probe is not None:
            return f"{self.probe.directions} dirs"
        return "all" if self.oracle_value is not None else "-"

    def to_dict(self) -> dict:
        return document(self, (
            ("block", "name"), "status", "max_abs_error", "max_rel_error", "worst_index",
            ("manual", "manual_value"), ("jax", "jax_value"), ("third_opinion", "oracle_value"),
            "tolerance", ("max_third_opinion_error", "max_oracle_error"),
            ("third_opinion_probe", "probe"), "note", "diagnosis"))


VERDICTS = ("pass", "fail", "inconclusive")
# The table's columns; the legend under it says what each measures.
COLUMNS = ("block", "max abs err", "max rel err", "worst elem", "manual@worst",
           "jax.grad@worst", "3rd@worst", "abs tol@worst", "3rd opinion", "status")
LEGEND = (
    "abs err = |manual - jax.grad|, rel err = abs err / max(|jax.grad|, abs tol), each the "
    "block's maximum;\nthe @worst columns are the element furthest outside its tolerance: the "
    "three opinions of it\nand its absolute tolerance on |manual - jax.grad| (derived from "
    "rounding, not relative);\n3rd opinion: the complex step covered all elements, or K "
    "random directions (below).")


def pictured(blocks: list[BlockReport]) -> list[Elements]:
    """The blocks' ``Elements``, in order, for ``Rendered.plot``."""
    return [block.elements for block in blocks if block.elements is not None]


@dataclass(repr=False)
class CheckResult(Rendered):
    """The outcome of ``check_gradients``: ``passed``, ``blocks`` in params order, and
    ``first_wrong_layer`` (1-based, or ``None`` when nothing failed). ``verdict`` is
    ``inconclusive`` when nothing failed but no block was tested above rounding; ``hints``
    are lines that help read a failure."""

    blocks: list[BlockReport]
    sizes: list[int]
    batch: int
    activation: str
    dtype: str
    manual_name: str = "manual"
    first_wrong_layer: int | None = None
    extra: dict = field(default_factory=dict)
    hints: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Nothing failed (true also when ``inconclusive``: no mistake was seen)."""
        return all(block.status != "fail" for block in self.blocks)

    @property
    def inconclusive(self) -> bool:
        """Nothing failed, and every block is saturated or below the noise floor."""
        return self.passed and all(block.status != "pass" for block in self.blocks)

    @property
    def verdict(self) -> str:
        """One of ``VERDICTS``."""
        if not self.passed:
            return "fail"
        return "inconclusive" if self.inconclusive else "pass"

    @property
    def failing_blocks(self) -> list[str]:
        return [block.name for block in self.blocks if block.status == "fail"]

    columns = COLUMNS

    def headline(self) -> str:
        return self.verdict.upper()

    def worst(self) -> tuple[str | None, float | None]:
        return worst_of((b.name, b.excess) for b in self.blocks)

    def pictured(self) -> list[Elements]:
        return pictured(self.blocks)

    def summary(self) -> str:
        network = "-".join(str(n) for n in self.sizes)
        checked = any(block.coverage != "-" for block in self.blocks)
        verdict = {
            "pass": "PASS: manual, jax.grad and the third opinion agree" if checked
            else "PASS: manual and jax.grad agree (third opinion skipped)",
            "fail": f"FAIL: the manual gradient is wrong in {', '.join(self.failing_blocks)}",
            "inconclusive": "INCONCLUSIVE: every block is saturated or below the rounding "
            "noise floor, so the opinions agree on rounding alone and nothing was tested "
            "(try smaller weights or other inputs)",
        }[self.verdict]
        if self.first_wrong_layer is not None:
            verdict += f"; first wrong layer: {self.first_wrong_layer}"
        return "\n".join([f"network {network}, {self.activation}, {self.dtype}, batch "
                          f"{self.batch}, manual = {self.manual_name}", verdict, *self.hints])

    def _probes(self) -> list[str]:
        probed = [block for block in self.blocks if block.probe is not None]
        if not probed:
            return []
        lines = ["", f"third opinion along random directions (complex step, float64): a probed "
                     f"block catches a manual\ngradient off by any e with ||e||_2 at least this, "
                     f"with probability >= 1 - {probed[0].probe.miss:.0e}:"]
        for block in probed:
            relative = block.probe.relative
            share = "" if relative is None else f" ({relative:.1e} of ||jax.grad||_2)"
            lines.append(f"  {block.name}: {block.probe.directions} directions, "
                         f"{block.probe.detects:.1e}{share}")
        return lines

    def rows(self) -> list[tuple]:
        return [(block.name, number(block.max_abs_error), number(block.max_rel_error),
                 index(block.worst_index), number(block.manual_value), number(block.jax_value),
                 number(block.oracle_value), number(block.tolerance), block.coverage,
                 block.status) for block in self.blocks]

    def details(self) -> list[str]:
        notes = [f"  {block.name}: {block.note}" for block in self.blocks if block.note]
        diagnoses = [f"  {block.name}: {'; '.join(text for _, text in block.diagnosis)}"
                     for block in self.blocks if block.diagnosis]
        return ["", LEGEND, *self._probes(), *(["", "notes:", *notes] if notes else []),
                *(["", "diagnosis:", *diagnoses] if diagnoses else [])]

    def to_dict(self) -> dict:
        return {**document(self, (
            "passed", "verdict", "inconclusive", "sizes", "batch", "activation", "dtype",
            ("manual", "manual_name"), "first_wrong_layer", "hints", "blocks")), **self.extra}
