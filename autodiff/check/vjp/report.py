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


def _finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)


def _number(value) -> str:
    return "-" if value is None else f"{value:.3e}"


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

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def verdict(self) -> str:
        words = self.status
        if self.kinks:
            words += f", at a kink ({self.kinks})" if self.passed else f" ({self.kinks} kinks)"
        return words

    def to_dict(self) -> dict:
        return {
            "argument": self.name, "position": self.position, "shape": list(self.shape),
            "status": self.status, "passed": self.passed, "oracle": self.oracle,
            "trust": self.trust, "fallbacks": list(self.fallbacks),
            "oracle_error": _finite_or_none(self.oracle_error),
            "max_abs_error": _finite_or_none(self.max_abs_error),
            "max_rel_error": _finite_or_none(self.max_rel_error),
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "got": _finite_or_none(self.got), "expected": _finite_or_none(self.expected),
            "tolerance": _finite_or_none(self.tolerance), "worst_at_kink": self.worst_at_kink,
            "interval": None if self.interval is None else [float(v) for v in self.interval],
            "kinks": self.kinks, "checked": self.checked,
            "scale": _finite_or_none(self.scale),
            "diagnosis": [{"key": key, "text": text} for key, text in self.diagnosis],
            "note": self.note,
        }


@dataclass
class VJPResult:
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

    def summary(self) -> str:
        verdict = ("PASS: every gradient agrees with its oracle" if self.passed
                   else f"FAIL: the backward is wrong in {', '.join(self.failing)}")
        return (f"backward {self.backward_name} of forward {self.forward_name}, {self.dtype}, "
                f"dout {self.dout}\n{verdict}")

    def table(self) -> str:
        header = ("arg", "shape", "oracle", "max abs err", "max rel err", "worst", "got",
                  "expected", "tolerance", "status")
        rows = [header]
        for a in self.arguments:
            rows.append((
                a.name, "x".join(map(str, a.shape)) or "scalar", a.oracle,
                _number(a.max_abs_error), _number(a.max_rel_error),
                "-" if a.worst_index is None else ",".join(map(str, a.worst_index)) or "()",
                _number(a.got), _number(a.expected), _number(a.tolerance), a.verdict()))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
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
        warnings = [f"  warning: {w}" for w in self.warnings]
        return "\n".join([self.summary(), "", *lines, "", *details, *warnings])

    def to_dict(self) -> dict:
        return {
            "passed": self.passed, "dtype": self.dtype, "forward": self.forward_name,
            "backward": self.backward_name, "dout": self.dout,
            "arguments": [a.to_dict() for a in self.arguments], "warnings": list(self.warnings),
        }
