"""On a large block a fit is first tried on a strided sample (``core.diagnose._fits``), but a
diagnosis is still proved on every element: one element off the pattern, between the sample's
strides, rules it out."""

import numpy as np

from autodiff.core import diagnose


def test_a_pattern_broken_in_one_unsampled_element_is_not_named():
    rng = np.random.default_rng(5)
    expected = rng.standard_normal((300, 301))
    got = 2 * expected
    keys = {d.key for d in diagnose.match(expected, got, 1e-12)}
    assert "factor_2" in keys
    step = expected.size // diagnose._SAMPLE
    got.flat[step + 1] += 1.0  # not on the stride
    assert "factor_2" not in {d.key for d in diagnose.match(expected, got, 1e-12)}
    assert diagnose.diagnose(expected, got, 1e-12)[0].key == "unrecognised"
