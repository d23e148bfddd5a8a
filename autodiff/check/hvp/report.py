"""The result of ``check_hvp``: ``check_vjp``'s per-argument reports of ``H v`` (one
``ArgumentReport`` per differentiable argument) and the symmetry check, printed and serialised
as ``VJPResult`` is; it passes when both do."""

from __future__ import annotations

from dataclasses import dataclass, field

from autodiff.check.hvp.symmetry import SymmetryReport
from autodiff.check.vjp.report import VJPResult
from autodiff.core.diagnose import Diagnosis
from autodiff.core.render import short, worst_of


@dataclass
class HVPResult(VJPResult):
    """``arguments`` are the blocks of ``H v`` (``forward_name`` is ``f``, ``backward_name``
    the hvp, ``dout`` says how ``v`` was drawn); ``symmetry`` the check of ``⟨u, H w⟩ =
    ⟨w, H u⟩``; ``diagnosis`` what the whole product's failure is recognised as (a network
    slip of ``slips``, named in every block)."""

    symmetry: SymmetryReport = field(default_factory=lambda: SymmetryReport("skipped"))
    diagnosis: list[Diagnosis] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.symmetry.passed and all(a.passed or a.status == "saturated"
                                            for a in self.arguments)

    @property
    def failing(self) -> list[str]:
        return [a.name for a in self.arguments if not (a.passed or a.status == "saturated")]

    @property
    def inconclusive(self) -> bool:
        """Every block saturated (``network``): the opinions agree on rounding alone."""
        return bool(self.arguments) and all(a.status == "saturated" for a in self.arguments)

    def __repr__(self) -> str:
        rows = [(a.name, a.excess) for a in self.arguments]
        if self.symmetry.status != "skipped":
            rows.append(("symmetry", self.symmetry.excess))
        worst, excess = worst_of(rows)
        return short("HVPResult", "PASS" if self.passed else "FAIL", worst, excess)

    def summary(self) -> str:
        wrong = [*self.failing, *(["symmetry"] if not self.symmetry.passed else [])]
        saturated = [a.name for a in self.arguments if a.status == "saturated"]
        verdict = ("PASS: H v agrees with its oracle in every argument, and H is symmetric"
                   if self.passed else f"FAIL: the hvp is wrong in {', '.join(wrong)}")
        if self.inconclusive:
            verdict = ("INCONCLUSIVE: every block is below a saturated layer, where H v is "
                       "rounding alone: nothing was tested (try smaller weights)")
        elif saturated and self.passed:
            verdict += f" (saturated, not tested: {', '.join(saturated)})"
        return (f"hvp {self.backward_name} of f {self.forward_name}, {self.dtype}, "
                f"v {self.dout}\n{verdict}")

    def table(self) -> str:
        lines = [super().table(), f"  {self.symmetry.text()}"]
        lines += [f"  diagnosis: {text}" for _, text in self.diagnosis]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        result = super().to_dict()
        result["hvp"] = result.pop("backward")
        result["v"] = result.pop("dout")
        result["passed"] = self.passed
        result["inconclusive"] = self.inconclusive
        result["symmetry"] = self.symmetry.to_dict()
        result["diagnosis"] = [{"key": key, "text": text} for key, text in self.diagnosis]
        return result
