"""The cases a submission is graded on: a network ``1-n1-n2-2`` and a batch ``x, y``.

``cases()`` is the hypothesis strategy: hidden widths 1…8, equal half the time (square ``W2``
hides a transpose), batches of 1…12 examples (never only the worksheet's 100), weights scaled
from gentle to saturating, inputs in [-3, 3] and targets in [0, 1]. Hypothesis draws the
shapes, the scale and a seed; the values come from a NumPy generator with that seed. Generic
values reveal mistakes that zeros hide, and a case costs a handful of hypothesis choices
rather than one per number, so shrinking to the smallest widths and batch is quick. Values
are rounded to one decimal first (kept when the case still fails), for a readable
reproduction.

``worksheet_case`` is the worksheet's own network and heart, ``saturated_case`` the same
shapes with saturating weights; ``random_case`` draws a generic one of a given shape.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

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

    @functools.cached_property
    def key(self) -> bytes:
        """Identifies the case's values, for caching the expected Jacobians and answers."""
        parts = [a.tobytes() + str(a.shape).encode() for W, b in self.params for a in (W, b)]
        return b"|".join([*parts, self.x.tobytes(), str(self.x.shape).encode(), self.y.tobytes()])

    def describe(self) -> str:
        n1, n2 = self.widths
        return f"network 1-{n1}-{n2}-2, batch N={self.batch}, weight scale {self.scale:g}"


@st.composite
def cases(draw) -> Case:
    n1 = draw(st.integers(1, MAX_WIDTH))
    n2 = draw(st.one_of(st.just(n1), st.integers(1, MAX_WIDTH)))
    batch = draw(st.integers(1, MAX_BATCH))
    scale = draw(st.sampled_from(WEIGHT_SCALES))
    seed = draw(st.integers(0, 2**32 - 1))
    decimals = draw(st.sampled_from((1, None)))  # None: full precision
    rng = np.random.default_rng(seed)
    case = random_case(n1, n2, batch, rng, scale=scale, x_range=3.0)
    if decimals is None:
        return case
    params = tuple((W.round(decimals), b.round(decimals)) for W, b in case.params)
    return Case(params, case.x.round(decimals), case.y.round(decimals), scale)


def worksheet_case(seed: int = 0) -> Case:
    """The worksheet's 1-6-7-2 network (``reset_network`` with ``RandomState(seed)``), its heart."""
    random = np.random.RandomState(seed)
    n1, n2 = WORKSHEET_WIDTHS
    # The order of reset_network's draws: W1, W2, W3, then b1, b2, b3.
    W1, W2, W3 = (random.randn(*shape) / 2 for shape in ((n1, 1), (n2, n1), (2, n2)))
    b1, b2, b3 = (random.randn(n, 1) / 2 for n in (n1, n2, 2))
    x, y = training_data(WORKSHEET_BATCH)
    return Case(((W1, b1), (W2, b2), (W3, b3)), x, y, 0.5, source="worksheet")


def saturated_case(seed: int = 0) -> Case:
    """The worksheet's widths and heart with weights ``randn * 8``: most units saturate."""
    rng = np.random.default_rng(seed)
    case = random_case(*WORKSHEET_WIDTHS, WORKSHEET_BATCH, rng, scale=8.0)
    return Case(case.params, *training_data(WORKSHEET_BATCH), 8.0, source="saturated")


def random_case(n1: int, n2: int, batch: int, rng: np.random.Generator,
                scale: float = 0.5, x_range: float = 1.5) -> Case:
    """A generic case of the given shape: normal weights times ``scale``, no special values."""
    params = tuple((rng.normal(size=(n_out, n_in)) * scale, rng.normal(size=(n_out, 1)) * scale)
                   for n_out, n_in in ((n1, 1), (n2, n1), (2, n2)))
    x = rng.uniform(-x_range, x_range, size=(1, batch))
    y = rng.uniform(0, 1, size=(2, batch))
    return Case(params, x, y, scale, source="random")
