"""The network of ``reference`` in JAX, and the tools that check hand-derived gradients
against automatic ones. Params, shapes and the cost follow ``reference`` exactly.

The public names below are imported lazily, on first use, so that ``import autodiff`` (and
``backprop --help``) does not pay for JAX until something needs it.
"""

from __future__ import annotations

import importlib

from autodiff._version import __version__

_LAZY = {
    "check_gradients": "autodiff.check.crosscheck",
    "check_vjp": "autodiff.check.vjp.check",
    "from_cache_style": "autodiff.check.vjp.check",
    "check_jvp": "autodiff.check.jvp.check",
    "check_pair": "autodiff.check.jvp.pair",
    "check_custom_rule": "autodiff.check.custom",
    "check_hvp": "autodiff.check.hvp.check",
    "plot_graph": "autodiff.check.graph",
    "HVPResult": "autodiff.check.hvp.report",
    "CheckResult": "autodiff.core.report",
    "BlockReport": "autodiff.core.report",
    "forward": "autodiff.core.network",
    "cost": "autodiff.core.network",
    "grad": "autodiff.core.network",
    "output_jacobian": "autodiff.core.network",
    "cost_jacobian": "autodiff.core.network",
    "train": "autodiff.training.engine",
    "train_ensemble": "autodiff.training.ensemble",
    "grade": "autodiff.grading.session",
    "mistakes": "autodiff.mistakes",
    "strategies": "autodiff.strategies",
    "plotting": "autodiff.training.plotting",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'autodiff' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith(f".{name}") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
