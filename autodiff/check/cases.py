"""Reproducible test networks: a ``NetworkCase`` is a handful of numbers (sizes, batch, seed,
weight scale, activation, dtype) that rebuild the same params, inputs and targets anywhere,
so a failing random network prints as one line of Python that reproduces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import reference
from reference.activations import ACTIVATIONS

_IMPORT = "from autodiff.check.cases import NetworkCase"  # the reproduction snippets' first line

# Widths and depths of the random sweep and of the property suite (issue 3, item 3).
MAX_DEPTH, MAX_WIDTH, MAX_IO, MAX_BATCH = 5, 16, 4, 256
# Weight scales from "tiny" (the network is nearly linear, gradients near 1e-3 of their usual
# size) to "saturating" (|z| in the tens: σ' underflows toward 0 on most units).
MIN_SCALE, MAX_SCALE = 1e-3, 30.0


@dataclass(frozen=True)
class NetworkCase:
    """A network and a batch: ``sizes = (n_in, n_1, …, n_out)``, ``batch`` examples.

    ``build()`` draws params with ``reference.init_params(sizes, rng, scale)`` and then
    ``x ~ N(0, 1)`` and ``y`` uniform in the activation's range, all from ``seed``, cast to
    ``dtype``.
    """

    sizes: tuple[int, ...]
    batch: int
    seed: int = 0
    scale: float = 0.5
    activation: str = "logistic"
    dtype: str = "float64"

    def build(self):
        """``(params, x, y)`` in the project's layout."""
        rng = np.random.default_rng(self.seed)
        params = reference.init_params(list(self.sizes), rng=rng, scale=self.scale)
        x = rng.standard_normal((self.sizes[0], self.batch))
        low = 0.0 if self.activation == "logistic" else -1.0
        y = rng.uniform(low, 1.0, size=(self.sizes[-1], self.batch))
        cast = np.dtype(self.dtype)
        return [(W.astype(cast), b.astype(cast)) for W, b in params], x.astype(cast), y.astype(cast)

    def check(self, manual=None, **options):
        """``autodiff.check.crosscheck.check_gradients`` on this case."""
        from autodiff.check.crosscheck import check_gradients

        params, x, y = self.build()
        return check_gradients(params, x, y, self.activation, manual=manual, dtype=self.dtype,
                               **options)

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def reproduction(self, manual_expr: str | None = None) -> str:
        """Python that rebuilds and re-checks this case; ``manual_expr`` is Python for the
        manual gradient (in which ``act`` names the case's activation), default the reference."""
        if manual_expr is None:
            return f"{_IMPORT}; print({self!r}.check().table())"
        return (f"{_IMPORT}; case = {self!r}; act = case.activation;"
                f" print(case.check(manual={manual_expr}).table())")


def random_case(rng: np.random.Generator, activation: str | None = None,
                dtype: str = "float64") -> NetworkCase:
    """A case drawn uniformly over depth 1–5, widths 1–16, in/out 1–4, batch 1–256, and
    log-uniformly over weight scales; ``activation=None`` picks one at random."""
    depth = int(rng.integers(1, MAX_DEPTH + 1))
    hidden = [int(n) for n in rng.integers(1, MAX_WIDTH + 1, size=depth - 1)]
    n_in, n_out = (int(n) for n in rng.integers(1, MAX_IO + 1, size=2))
    scale = math.exp(rng.uniform(math.log(MIN_SCALE), math.log(MAX_SCALE)))
    return NetworkCase(
        sizes=(n_in, *hidden, n_out),
        batch=int(rng.integers(1, MAX_BATCH + 1)),
        seed=int(rng.integers(2**31)),
        scale=float(f"{scale:.4g}"),  # short enough to read in a reproduction
        activation=activation or str(rng.choice(list(ACTIVATIONS))),
        dtype=dtype,
    )
