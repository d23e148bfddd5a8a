"""``backprop check layers.py``: every ``NAME_forward``/``NAME_backward`` pair of a user's module.

The convention a module follows (all optional but the pair itself):

* **pairs**: ``NAME_forward`` and ``NAME_backward``, or CS231n's ``NAME_forward_naive`` and
  ``NAME_backward_naive`` (any suffix after ``_forward``; its options below may be named with
  or without it: ``conv_naive_example`` or ``conv_example``). The pair is CS231n's cache style
  (``out, cache = NAME_forward(*args)``, ``NAME_backward(dout, cache)``) when the backward's
  last parameter is named ``cache``, else ``NAME_backward(dout, *args)``; ``NAME_style =
  "cache"`` or ``"pair"`` says it outright.
* **arguments**, the first of: ``NAME_example()`` returning the argument tuple;
  ``NAME_shapes``, a spec as for ``autodiff.check.strategies.check_layer`` (``{"x": ("N", 4),
  "w": (4, "M"), "b": ("M",), "conv_param": {...}}``), its named dimensions 4 for ``N`` and 3
  otherwise unless ``NAME_dims`` says; or the module's ``EXAMPLES[NAME]`` / ``SHAPES[NAME]``.
  A pair with none of them is skipped, and the report says so — as it does for a forward
  without its backward.

Each pair is checked by ``check_vjp`` in the dtype asked for, with kinks off for shapes. An
exception in the user's code fails that pair (exit 1) with its message; a module that cannot
be imported, or has no pair to check, is a usage error (exit 2).
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from autodiff.check.vjp.check import check_vjp, from_cache_style
from autodiff.check.vjp.report import VJPResult
from autodiff.check.vjp.strategies import LayerCase, dimension_names

DEFAULT_DIMS = {"N": 4}
DEFAULT_DIM = 3


class ModuleError(ValueError):
    """The module cannot be used at all (not found, not importable, no pair to check); the
    CLI reports it in one line, exit 2."""


@dataclass
class PairReport:
    """One pair: ``status`` is pass, fail, error (the user's code raised) or skipped."""

    name: str
    style: str
    status: str
    reason: str = ""
    result: VJPResult | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "style": self.style, "status": self.status,
                "reason": self.reason,
                "result": None if self.result is None else self.result.to_dict()}


def load(path: str):
    """Import the user's module from ``path`` (its folder first on ``sys.path`` meanwhile)."""
    file = Path(path)
    if not file.is_file():
        raise ModuleError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"backprop_layers_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise ModuleError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's module failed to import: say how, in one line
        raise ModuleError(f"{path}: cannot import it: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(str(file.resolve().parent))
    return module


FORWARD = re.compile(r"^(?P<stem>\w+?)_forward(?P<suffix>_\w+)?$")


@dataclass(frozen=True)
class Pair:
    """One ``NAME_forward``/``NAME_backward`` pair: ``name`` is ``NAME`` (with the suffix,
    ``conv_naive``), ``stem`` the name without it; ``backward`` is ``None`` when missing."""

    name: str
    stem: str
    forward: str
    backward: str | None

    def option(self, module, kind: str, default=None):
        """``NAME_kind`` (with the suffix, else without it), or ``default``."""
        for name in dict.fromkeys((self.name, self.stem)):
            value = getattr(module, f"{name}_{kind}", None)
            if value is not None:
                return value
        return default

    def keyed(self, table: dict):
        """This pair's entry of a module's ``EXAMPLES``/``SHAPES`` table, or ``None``."""
        return next((table[name] for name in (self.name, self.stem) if name in table), None)


def pairs(module) -> list[Pair]:
    """Every callable ``NAME_forward[_SUFFIX]`` with its ``NAME_backward[_SUFFIX]`` (``None``
    when there is none), in definition order."""
    found = []
    for name, value in vars(module).items():
        match = FORWARD.match(name)
        if match is None or not callable(value):
            continue
        stem, suffix = match["stem"], match["suffix"] or ""
        backward = f"{stem}_backward{suffix}"
        found.append(Pair(stem + suffix, stem, name,
                          backward if callable(getattr(module, backward, None)) else None))
    return found


def style(module, pair: Pair) -> str:
    """``"cache"`` or ``"pair"`` (see the module docstring)."""
    declared = pair.option(module, "style")
    if declared in ("cache", "pair"):
        return declared
    try:
        parameters = list(inspect.signature(getattr(module, pair.backward)).parameters)
    except (TypeError, ValueError):
        return "pair"
    return "cache" if parameters and parameters[-1] == "cache" else "pair"


def arguments(module, pair: Pair, dtype: str, seed: int) -> tuple | None:
    """The arguments to check ``pair`` on, or ``None`` when the module gives none."""
    example = pair.option(module, "example")
    if callable(example):
        args = example()
        return tuple(args) if isinstance(args, (tuple, list)) else (args,)
    given = pair.keyed(getattr(module, "EXAMPLES", {}))
    if given is not None:
        return tuple(given)
    spec = pair.option(module, "shapes") or pair.keyed(getattr(module, "SHAPES", {}))
    if spec is None:
        return None
    dims = {**DEFAULT_DIMS, **pair.option(module, "dims", {})}
    sizes = tuple((d, dims.get(d, DEFAULT_DIM)) for d in dimension_names(spec))
    return LayerCase(spec, sizes, seed, dtype, 1.0, False).build()


def check_pair(module, pair: Pair, dtype: str, seed: int) -> PairReport:
    if pair.backward is None:
        return PairReport(pair.name, "-", "skipped", f"{pair.forward} has no backward "
                          f"(looked for {pair.stem}_backward"
                          f"{pair.name[len(pair.stem):]})")
    kind = style(module, pair)
    forward, backward = getattr(module, pair.forward), getattr(module, pair.backward)
    if kind == "cache":
        forward, backward = from_cache_style(forward, backward)
    try:
        args = arguments(module, pair, dtype, seed)
        if args is None:
            return PairReport(pair.name, kind, "skipped",
                              f"no {pair.name}_example() or {pair.name}_shapes to build its "
                              "arguments from")
        result = check_vjp(forward, backward, *args, dtype=dtype, seed=seed)
    except Exception as error:  # the user's code (or their example) raised: this pair fails
        return PairReport(pair.name, kind, "error", f"{type(error).__name__}: {error}")
    return PairReport(pair.name, kind, "pass" if result.passed else "fail", result=result)


@dataclass
class ModuleResult:
    """Every pair of one module: ``passed`` (no pair failed or raised), ``summary()`` (the
    tables, then one line per pair) and ``to_dict()``."""

    path: str
    pairs: list[PairReport]

    @property
    def passed(self) -> bool:
        return all(report.status in ("pass", "skipped") for report in self.pairs)

    def __repr__(self) -> str:
        counts = {}
        for report in self.pairs:
            counts[report.status] = counts.get(report.status, 0) + 1
        tally = ", ".join(f"{n} {status}" for status, n in counts.items())
        return f"ModuleResult({'PASS' if self.passed else 'FAIL'}, {self.path}: {tally})"

    def summary(self) -> str:
        blocks = [f"== {r.name} ({r.style} style) ==\n{r.result.table()}"
                  for r in self.pairs if r.result is not None]
        lines = [f"{self.path}: " + ("PASS" if self.passed else "FAIL")]
        for report in self.pairs:
            detail = f": {report.reason}" if report.reason else ""
            if report.status == "fail":
                detail = f": wrong in {', '.join(report.result.failing)}"
            lines.append(f"  {report.name:<24} {report.status}{detail}")
        return "\n\n".join([*blocks, "\n".join(lines)])

    def to_dict(self) -> dict:
        return {"module": self.path, "passed": self.passed,
                "pairs": [report.to_dict() for report in self.pairs]}


def check_module(path: str, dtype: str = "float64", seed: int = 0) -> ModuleResult:
    """Check every pair of the module at ``path``; raises ModuleError when none can be."""
    module = load(path)
    found = pairs(module)
    complete = [pair.name for pair in found if pair.backward is not None]
    if not complete:
        raise ModuleError(f"{path}: no NAME_forward / NAME_backward pair found" + (
            f" ({', '.join(p.forward for p in found)} without a backward)" if found else ""))
    reports = [check_pair(module, pair, dtype, seed) for pair in found]
    if all(report.status == "skipped" for report in reports):
        raise ModuleError(f"{path}: no pair has arguments to check it on: give NAME_example() "
                          f"or NAME_shapes for {', '.join(complete)}")
    return ModuleResult(path, reports)


def check_module_from_cli(args) -> ModuleResult:
    """``backprop check LAYERS.py [--dtype D] [--seed S]``: the options of the worksheet's
    network make no sense here and are refused (ValueError, exit 2)."""
    clashing = [flag for flag, value in (("--sizes", args.sizes), ("--batch", args.batch),
                                         ("--activation", args.activation),
                                         ("--random", args.random), ("--plant", args.plant))
                if value is not None]
    if clashing:
        raise ModuleError(f"{', '.join(clashing)} apply to the worksheet network, not to a "
                          "module of layers")
    return check_module(args.path, args.dtype, args.seed)
