"""Result objects of a gradient cross-check: one ``BlockReport`` per parameter block, and the
``CheckResult`` that gathers them, prints the table and serialises to JSON-ready dicts.

A block's status is one of ``STATUSES``: ``pass`` (the opinions agree within tolerance),
``fail`` (some element does not), ``below-noise-floor`` (they agree, but every element of the
gradient is itself within rounding of zero, so the agreement proves little) and ``saturated``
(the same, because every unit of some layer at or above the block is saturated, σ' ≈ 0).
Only ``fail`` makes a check fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

STATUSES = ("pass", "fail", "below-noise-floor", "saturated")


def block_names(n_layers: int) -> list[str]:
    """``["W1", "b1", …, "WL", "bL"]``, in params order."""
    return [f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in ("W", "b")]


def _finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class BlockReport:
    """How the opinions of one block compare.

    Errors are manual versus ``jax.grad``; the relative error of an element is its absolute
    error over ``max(|jax|, tolerance)`` (so exact zeros do not divide by zero). The worst
    element is the one furthest outside its tolerance across all three pairs, and the values
    and tolerance reported are that element's.
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
    note: str = ""
    # What the wrong gradient looks like (``autodiff.core.diagnose``), set on failing blocks.
    diagnosis: list = field(default_factory=list)

    @classmethod
    def compare(cls, name, manual, jax, oracle, bound, oracle_bound, saturated: bool,
                note: str = "") -> BlockReport:
        """Build the report from the three opinions (arrays of one shape, ``manual`` may be
        ``None`` if it had the wrong shape) and the per-element rounding bounds."""
        if manual is None:
            return cls(name, "fail", math.inf, math.inf, None, None, None, None, None,
                       None, note)
        tol = 2 * bound  # manual and jax.grad each within `bound` of the exact gradient
        error = np.abs(manual - jax)
        ratios = [error / tol]
        oracle_error = None
        if oracle is not None:
            tol_oracle = bound + oracle_bound
            oracle_error = np.abs(manual - oracle)
            ratios += [oracle_error / tol_oracle, np.abs(jax - oracle) / tol_oracle]
            if np.any(ratios[2] > 1):
                note = (note + "; " if note else "") + (
                    "jax.grad and the complex step disagree: the JAX network is suspect")
        worst_ratio = np.maximum.reduce(ratios)
        worst = np.unravel_index(int(np.argmax(worst_ratio)), worst_ratio.shape)
        if np.any(worst_ratio > 1) or not np.all(np.isfinite(manual)):
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
            note=note,
        )

    def to_dict(self) -> dict:
        return {
            "block": self.name,
            "status": self.status,
            "max_abs_error": _finite_or_none(self.max_abs_error),
            "max_rel_error": _finite_or_none(self.max_rel_error),
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "manual": _finite_or_none(self.manual_value),
            "jax": _finite_or_none(self.jax_value),
            "third_opinion": _finite_or_none(self.oracle_value),
            "tolerance": _finite_or_none(self.tolerance),
            "max_third_opinion_error": _finite_or_none(self.max_oracle_error),
            "note": self.note,
            "diagnosis": [{"key": key, "text": text} for key, text in self.diagnosis],
        }


def _number(value) -> str:
    return "-" if value is None else f"{value:.3e}"


@dataclass
class CheckResult:
    """The outcome of ``check_gradients``: ``passed``, ``blocks`` in params order, and
    ``first_wrong_layer`` (1-based, or ``None`` when nothing failed)."""

    blocks: list[BlockReport]
    sizes: list[int]
    batch: int
    activation: str
    dtype: str
    manual_name: str = "manual"
    first_wrong_layer: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(block.status != "fail" for block in self.blocks)

    @property
    def failing_blocks(self) -> list[str]:
        return [block.name for block in self.blocks if block.status == "fail"]

    def summary(self) -> str:
        network = "-".join(str(n) for n in self.sizes)
        verdict = ("PASS: manual, jax.grad and the third opinion agree" if self.passed
                   else f"FAIL: the manual gradient is wrong in {', '.join(self.failing_blocks)}")
        if self.first_wrong_layer is not None:
            verdict += f"; first wrong layer: {self.first_wrong_layer}"
        return (f"network {network}, {self.activation}, {self.dtype}, batch {self.batch}, "
                f"manual = {self.manual_name}\n{verdict}")

    def table(self) -> str:
        header = ("block", "max abs err", "max rel err", "worst", "manual", "jax.grad",
                  "3rd opinion", "tolerance", "status")
        rows = [header]
        for block in self.blocks:
            rows.append((
                block.name, _number(block.max_abs_error), _number(block.max_rel_error),
                "-" if block.worst_index is None else ",".join(map(str, block.worst_index)),
                _number(block.manual_value), _number(block.jax_value),
                _number(block.oracle_value), _number(block.tolerance), block.status,
            ))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        notes = [f"  {block.name}: {block.note}" for block in self.blocks if block.note]
        diagnoses = [f"  {block.name}: {'; '.join(text for _, text in block.diagnosis)}"
                     for block in self.blocks if block.diagnosis]
        return "\n".join([self.summary(), "", *lines, *(["", "notes:", *notes] if notes else []),
                          *(["", "diagnosis:", *diagnoses] if diagnoses else [])])

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "sizes": list(self.sizes),
            "batch": self.batch,
            "activation": self.activation,
            "dtype": self.dtype,
            "manual": self.manual_name,
            "first_wrong_layer": self.first_wrong_layer,
            "blocks": [block.to_dict() for block in self.blocks],
            **self.extra,
        }
