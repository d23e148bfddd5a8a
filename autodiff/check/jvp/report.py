"""The result of ``check_jvp``: ``vjp.report``'s table and JSON, one row per output's primal
value and one per its tangent (``ArgumentReport``s named ``out`` and ``tangent of out``)."""

from __future__ import annotations

from dataclasses import dataclass

from autodiff.check.vjp.report import VJPResult
from autodiff.core.render import short, worst_of


@dataclass
class JVPResult(VJPResult):
    """``passed``, ``arguments`` (the rows: ``result["tangent of out"]``), ``dtype``, the
    forward's and the rule's names (``backward_name`` holds the rule's), how the tangents were
    drawn (``dout``) and ``warnings``; ``plot`` draws every row."""

    def __repr__(self) -> str:
        worst, excess = worst_of((a.name, a.excess) for a in self.arguments)
        return short("JVPResult", "PASS" if self.passed else "FAIL", worst, excess)

    def summary(self) -> str:
        verdict = ("PASS: every output and tangent agrees with its oracle" if self.passed
                   else f"FAIL: the rule is wrong in {', '.join(self.failing)}")
        return (f"jvp rule {self.backward_name} of forward {self.forward_name}, {self.dtype}, "
                f"tangents {self.dout}\n{verdict}")

    def to_dict(self) -> dict:
        result = super().to_dict()
        result["rule"] = result.pop("backward")
        result["tangents"] = result.pop("dout")
        result["outputs"] = result.pop("arguments")
        return result
