"""The cases a submission is graded on: a network ``1-n1-n2-2`` and a batch ``x, y``.

``cases()`` is the hypothesis strategy: hidden widths 1…8, equal half the time (square ``W2``
hides a transpose), batches of 1…12 examples (never only the worksheet's 100), inputs in
[-3, 3], targets in [0, 1] and weights scaled from gentle to saturating. It shrinks towards
width 1, one example, scale 0.5 (the worksheet's) and zeros, so the minimal failing case reads
easily. ``worksheet_case`` is the worksheet's own network and heart; ``random_case`` draws a
generic one of given shape for confirming a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference.heart import training_data

MAX_WIDTH = 8
MAX_BATCH = 12
# 0.5 is the worksheet's randn / 2; 8 drives most units into saturation.
WEIGHT_SCALES = (0.5, 0.1, 2.0, 8.0)
WORKSHEET_WIDTHS = (6, 7)
WORKSHEET_BATCH = 100


@dataclass(frozen=True)
class Case:
    """``params = [(W1, b1), (W2, b2), (W3, b3)]``, ``x`` of shape ``(1, N)``, ``y`` ``(2, N)``."""

    params: tuple
    x: np.ndarray
    y: np.ndarray
    scale: float
    source: str = "hypothesis"

    @property
    def widths(self) -> tuple[int, int]:
        return self.params[0][0].shape[0], self.params[1][0].shape[0]

    @property
    def batch(self) -> int:
        return self.x.shape[1]

    def key(self) -> bytes:
        """Identifies the case's values, for caching the expected Jacobians."""
        parts = [a.tobytes() + str(a.shape).encode() for W, b in self.params for a in (W, b)]
        return b"|".join([*parts, self.x.tobytes(), str(self.x.shape).encode(), self.y.tobytes()])

    def describe(self) -> str:
        n1, n2 = self.widths
        return f"network 1-{n1}-{n2}-2, batch N={self.batch}, weight scale {self.scale:g}"


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def cases(draw) -> Case:
    n1 = draw(st.integers(1, MAX_WIDTH))
    n2 = draw(st.one_of(st.just(n1), st.integers(1, MAX_WIDTH)))
    batch = draw(st.integers(1, MAX_BATCH))
    scale = draw(st.sampled_from(WEIGHT_SCALES))
    params = []
    for n_out, n_in in ((n1, 1), (n2, n1), (2, n2)):
        W = draw(arrays(np.float64, (n_out, n_in), elements=_floats(-2, 2))) * scale
        b = draw(arrays(np.float64, (n_out, 1), elements=_floats(-2, 2))) * scale
        params.append((W, b))
    x = draw(arrays(np.float64, (1, batch), elements=_floats(-3, 3)))
    y = draw(arrays(np.float64, (2, batch), elements=_floats(0, 1)))
    return Case(tuple(params), x, y, scale)


def worksheet_case(seed: int = 0) -> Case:
    """The worksheet's 1-6-7-2 network (``reset_network`` with ``RandomState(seed)``), its heart."""
    random = np.random.RandomState(seed)
    n1, n2 = WORKSHEET_WIDTHS
    # The order of reset_network's draws: W1, W2, W3, then b1, b2, b3.
    W1, W2, W3 = (random.randn(*shape) / 2 for shape in ((n1, 1), (n2, n1), (2, n2)))
    b1, b2, b3 = (random.randn(n, 1) / 2 for n in (n1, n2, 2))
    x, y = training_data(WORKSHEET_BATCH)
    return Case(((W1, b1), (W2, b2), (W3, b3)), x, y, 0.5, source="worksheet")


def random_case(n1: int, n2: int, batch: int, rng: np.random.Generator,
                scale: float = 0.5) -> Case:
    """A generic case of the given shape: normal weights times ``scale``, no special values."""
    params = tuple((rng.normal(size=(n_out, n_in)) * scale, rng.normal(size=(n_out, 1)) * scale)
                   for n_out, n_in in ((n1, 1), (n2, n1), (2, n2)))
    x = rng.uniform(-1.5, 1.5, size=(1, batch))
    y = rng.uniform(0, 1, size=(2, batch))
    return Case(params, x, y, scale, source="random")
