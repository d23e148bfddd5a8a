"""How far an ensemble run is from the GPU's memory-bandwidth bound: a traffic model.

One noisy-descent step of one network (widths ``n_0 … n_L``, ``P`` parameters, ``N``
examples, ``b`` bytes per number) must move at least:

* **parameters**: read and write every parameter once, ``2·P·b`` bytes — the floor if a
  whole step were one fused kernel that keeps activations on chip;
* **activations**: in the compiled step the forward pass writes each layer's activations
  ``a_l`` (``n_l × N``) and the backward pass reads them back and writes and reads each
  ``δ_l`` (``n_l × N``), so about ``4·N·Σ_{l≥1} n_l·b`` bytes more. For the ensemble sizes that
  matter here (K = 16384: 16384 × 12 KB ≈ 200 MB a step for 1-6-7-2, N=100) this spills any
  on-chip cache, so it is real HBM traffic.

The inputs and targets are shared by every member, and the noise is drawn on the device, so
neither adds per-member traffic. A run's *bound* is ``bandwidth / bytes_per_net_iteration``
net-iterations per second; its fraction of that bound says how much faster it could get
before memory, not arithmetic or launch overhead, stops it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

# Peak memory bandwidth in bytes/s, from the vendors' data sheets, by a substring of
# ``jax.Device.device_kind``; the first match wins, so the specific names come first.
PEAK_BANDWIDTH: tuple[tuple[str, float], ...] = (
    ("H200", 4.8e12),
    ("H100 PCIe", 2.0e12),
    ("H100 NVL", 3.9e12),
    ("H100", 3.35e12),
    ("A100-SXM4-80GB", 2.039e12),
    ("A100-PCIE-80GB", 1.935e12),
    ("A100", 1.555e12),
    ("L4", 0.3e12),
    ("V100", 0.9e12),
)


def peak_bandwidth(device_kind: str) -> float | None:
    """Bytes per second for a device kind such as ``"NVIDIA H100 80GB HBM3"``, or None."""
    for name, bandwidth in PEAK_BANDWIDTH:
        if name.lower() in device_kind.lower():
            return bandwidth
    return None


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a ``sizes`` network: ``Σ n_l·(n_{l-1} + 1)``."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))


def traffic_per_net_iteration(sizes: Sequence[int], batch: int, dtype: str) -> dict[str, int]:
    """Bytes one network's step moves: ``parameters`` (the fused floor) and ``activations``."""
    width = np.dtype(dtype).itemsize
    return {
        "parameters": 2 * parameter_count(sizes) * width,
        "activations": 4 * batch * sum(sizes[1:]) * width,
    }


def bandwidth_report(net_iters_per_s: float, sizes: Sequence[int], batch: int, dtype: str,
                     device_kind: str) -> str | None:
    """One line: the run's rate against the bound of both traffic models, or None for a
    device whose bandwidth is not in ``PEAK_BANDWIDTH``."""
    bandwidth = peak_bandwidth(device_kind)
    if bandwidth is None:
        return None
    traffic = traffic_per_net_iteration(sizes, batch, dtype)
    floor = traffic["parameters"]
    total = floor + traffic["activations"]
    return (
        f"{device_kind}: {net_iters_per_s:.3g} net-it/s is "
        f"{net_iters_per_s * total / bandwidth:.1%} of the bandwidth bound with activations in "
        f"memory ({total} B/net-it, {bandwidth / total:.3g} net-it/s at "
        f"{bandwidth / 1e12:.2f} TB/s) and {net_iters_per_s * floor / bandwidth:.2%} of the "
        f"fused floor ({floor} B/net-it, {bandwidth / floor:.3g} net-it/s)"
    )
