"""The memory-traffic model behind the GPU bandwidth estimate."""

import pytest

from autodiff.training import roofline


def test_parameter_count_of_the_worksheet_network():
    # W1 6x1 + b1 6, W2 7x6 + b2 7, W3 2x7 + b3 2, counted by hand.
    assert roofline.parameter_count([1, 6, 7, 2]) == 6 + 6 + 42 + 7 + 14 + 2


def test_traffic_counts_bytes_for_each_model():
    traffic = roofline.traffic_per_net_iteration([1, 6, 7, 2], batch=100, dtype="float32")
    assert traffic["parameters"] == 2 * 77 * 4
    assert traffic["activations"] == 4 * 100 * (6 + 7 + 2) * 4
    doubled = roofline.traffic_per_net_iteration([1, 6, 7, 2], batch=100, dtype="float64")
    assert doubled == {key: 2 * value for key, value in traffic.items()}


@pytest.mark.parametrize(("kind", "expected"), [
    ("NVIDIA H100 80GB HBM3", 3.35e12), ("NVIDIA H100 PCIe", 2.0e12),
    ("NVIDIA H200", 4.8e12), ("cpu", None)])
def test_peak_bandwidth_picks_the_specific_name_first(kind, expected):
    assert roofline.peak_bandwidth(kind) == expected


def test_report_states_the_fraction_of_the_bound():
    # At exactly the bound the fraction is 100%; at a tenth of it, 10%.
    total = sum(roofline.traffic_per_net_iteration([1, 6, 7, 2], 100, "float32").values())
    bound = 3.35e12 / total
    assert "100.0% of the bandwidth bound" in roofline.bandwidth_report(
        bound, [1, 6, 7, 2], 100, "float32", "NVIDIA H100 80GB HBM3")
    assert "10.0% of the bandwidth bound" in roofline.bandwidth_report(
        bound / 10, [1, 6, 7, 2], 100, "float32", "NVIDIA H100 80GB HBM3")
    assert roofline.bandwidth_report(bound, [1, 6, 7, 2], 100, "float32", "TPU v9") is None


def test_bench_table_reports_the_bound_for_gpu_ensembles_only():
    from autodiff.training.bench import record
    from autodiff.training.bench_report import bandwidth_lines

    cpu = record("jax-ensemble", "cpu", "float32", 1000, 1024, [2.0], 0.01)
    gpu = record("jax-ensemble", "gpu", "float32", 1000, 16384, [0.5], 0.01)
    assert bandwidth_lines([cpu]) == []
    lines = bandwidth_lines([cpu, gpu], device_kind="NVIDIA H100 80GB HBM3")
    assert len(lines) == 1 and lines[0].startswith("ensemble K=16384 on NVIDIA H100")
    assert "% of the bandwidth bound" in lines[0]
    unknown = bandwidth_lines([gpu], device_kind="Mystery GPU")
    assert unknown == ["ensemble K=16384 on Mystery GPU: peak bandwidth unknown, no bound "
                       "estimated"]
