"""The network of ``reference`` in JAX, and the tools that check hand-derived gradients
against automatic ones. Params, shapes and the cost follow ``reference`` exactly."""

from autodiff._version import __version__

__all__ = ["__version__"]
