"""The worksheet's training data: a heart traced once as t runs over [0, 1)."""

from __future__ import annotations

import numpy as np


def training_data(N: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x``, shape ``(1, N)`` (the distance along the curve), and ``y``, shape ``(2, N)``.

    With ``s = 2πt`` the curve is ``(16 sin³s, 13 cos s - 5 cos 2s - 2 cos 3s - cos 4s) / 20``,
    mapped into the logistic's range (0, 1) by ``(v + 1) / 2``.
    """
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N: expected a positive integer number of points, got {N!r}")
    # arange(0, 1, 1/N) rounds to N + 1 points for some N (49, 98, 103, …): keep exactly N.
    t = np.arange(0, 1, 1 / N)[:N].reshape(1, N)
    s = 2 * np.pi * t
    x_curve = 16 * np.sin(s) ** 3
    y_curve = 13 * np.cos(s) - 5 * np.cos(2 * s) - 2 * np.cos(3 * s) - np.cos(4 * s)
    target = np.concatenate([x_curve, y_curve], axis=0) / 20
    return t, (target + 1) / 2
