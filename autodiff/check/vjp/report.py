"""The result of ``check_vjp``: one ``ArgumentReport`` per differentiable argument, gathered in
a ``VJPResult`` that prints a table and serialises to JSON-ready dicts (like ``CheckResult``).

An argument passes when every checked element of the backward's gradient agrees with the
oracle's within its tolerance, or — where the input sits on a kink — lies in the interval of
valid derivatives there. The worst element is the one furthest outside its tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autodiff.core.diagnose import Diagnosis
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


@dataclass
class ArgumentReport:
    """How the backward's gradient of one argument compares with its oracle.

    ``got``/``expected``/``tolerance`` are the values at ``worst_index``; ``interval`` is the
    range of valid derivatives there when that element is on a kink. ``oracle`` names the
    opinion used and ``trust`` says how far it can be trusted; ``fallbacks`` says why more
    exact oracles were not used; ``oracle_error`` is its largest error bound beyond rounding.
    ``kinks`` counts the elements found on a kink, ``checked`` the elements compared (all of
    them unless the argument was too large to scan whole), ``scale`` the largest expected
    element (the gradient's size, to read tolerances against). When the only failure is a tie
    counted twice, ``worst_index`` is ``None`` and ``got``/``expected``/``tolerance`` are the
    sum over the kink elements, the slope it must equal, and the allowance.
    """

    name: str
    position: int
    shape: tuple[int, ...]
    status: str
    oracle: str
    trust: str
    oracle_error: float
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    got: float | None
    expected: float | None
    tolerance: float | None
    fallbacks: list[str] = field(default_factory=list)
    scale: float = 0.0
    worst_at_kink: bool = False
    interval: tuple[float, float] | None = None
    kinks: int = 0
    checked: int = 0
    diagnosis: list[Diagnosis] = field(default_factory=list)
    note: str = ""
    # Per element, the comparison's error over tolerance and the kinks (for ``plot``).
    elements: Elements | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def excess(self) -> float:
        """How far the worst element is outside (above 1) or inside its tolerance."""
        if self.got is None or self.expected is None:
            return math.inf
        if self.interval is not None:
            low, high = self.interval
            return ratio(max(low - self.got, self.got - high, 0.0), self.tolerance)
        if self.worst_index is None:  # a tie's sum: max_abs_error is its gap
            return ratio(self.max_abs_error, self.tolerance)
        return ratio(abs(self.got - self.expected), self.tolerance)

    def __repr__(self) -> str:
        return short("ArgumentReport", self.status, self.name, self.excess)

    def verdict(self) -> str:
        words = self.status
        if self.kinks:
            words += f", at a kink ({self.kinks})" if self.passed else f" ({self.kinks} kinks)"
        return words

    def to_dict(self) -> dict:
        return document(self, (
            ("argument", "name"), "position", "shape", "status", "passed", "oracle", "trust",
            "fallbacks", "oracle_error", "max_abs_error", "max_rel_error", "worst_index", "got",
            "expected", "tolerance", "worst_at_kink", "interval", "kinks", "checked", "scale",
            "diagnosis", "note"))


@dataclass(repr=False)
class VJPResult(Rendered):
    """The outcome of ``check_vjp``: ``passed``, ``arguments`` (one report per differentiable
    argument, in order), the ``dtype`` checked, and ``warnings`` (degenerate inputs or dout)."""

    arguments: list[ArgumentReport]
    dtype: str
    forward_name: str
    backward_name: str
    dout: str
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(argument.passed for argument in self.arguments)

    @property
    def failing(self) -> list[str]:
        return [argument.name for argument in self.arguments if not argument.passed]

    def __getitem__(self, name: str) -> ArgumentReport:
        for argument in self.arguments:
            if argument.name == name:
                return argument
        raise KeyError(f"no differentiable argument named {name!r}: "
                       f"{[a.name for a in self.arguments]}")

    columns = ("arg", "shape", "oracle", "max abs err", "max rel err", "worst", "got",
               "expected", "tolerance", "status")

    def worst(self) -> tuple[str | None, float | None]:
        return worst_of((a.name, a.excess) for a in self.arguments)

    def pictured(self) -> list[Elements]:
        return [a.elements for a in self.arguments if a.elements is not None]

    def summary(self) -> str:
        verdict = ("PASS: every gradient agrees with its oracle" if self.passed
                   else f"FAIL: the backward is wrong in {', '.join(self.failing)}")
        return (f"backward {self.backward_name} of forward {self.forward_name}, {self.dtype}, "
                f"dout {self.dout}\n{verdict}")

    def rows(self) -> list[tuple]:
        return [(a.name, "x".join(map(str, a.shape)) or "scalar", a.oracle,
                 number(a.max_abs_error), number(a.max_rel_error), index(a.worst_index),
                 number(a.got), number(a.expected), number(a.tolerance), a.verdict())
                for a in self.arguments]

    def details(self) -> list[str]:
        details = [f"  {a.name}: {a.oracle}: {a.trust}" for a in self.arguments]
        fallbacks = dict.fromkeys(f for a in self.arguments for f in a.fallbacks)
        details += [f"  not used: {reason}" for reason in fallbacks]
        for a in self.arguments:
            if a.interval is not None and not a.passed:
                details.append(f"  {a.name}[{','.join(map(str, a.worst_index))}] is on a kink: "
                               f"valid values lie in [{a.interval[0]:.6g}, {a.interval[1]:.6g}]")
            details += [f"  {a.name}: diagnosis: {text}" for _, text in a.diagnosis]
            if a.note:
                details.append(f"  {a.name}: {a.note}")
        return ["", *details, *(f"  warning: {w}" for w in self.warnings)]

    def to_dict(self) -> dict:
        return document(self, (
            "passed", "dtype", ("forward", "forward_name"), ("backward", "backward_name"), "dout",
            "arguments", "warnings"))
