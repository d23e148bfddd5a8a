"""JVPResult.plot (``Rendered.plot``) and ``backprop check --mode jvp --plot``: a PNG of each
row's error over its tolerance, with the worst element marked where the planted mistake is,
and kinks marked."""

import numpy as np
from pictures import is_png

from autodiff import check_jvp
from autodiff.cli import main
from reference.layers import dense_forward, relu_forward
from reference.layers.dense import dense_jvp
from reference.layers.elementwise import relu_jvp

RNG = np.random.default_rng(0)
X, W, B = RNG.standard_normal((3, 5)), RNG.standard_normal((4, 3)), RNG.standard_normal((4, 1))




def test_the_worst_element_is_marked_where_the_mistake_is(tmp_path):
    def one_off(primals, tangents):
        a, da = dense_jvp(primals, tangents)
        da = da.copy()
        da[2, 3] *= 1 + 1e-6
        return a, da

    result = check_jvp(dense_forward, one_off, X, W, B)
    path = tmp_path / "one_off.png"
    marked = result.plot(path)
    assert is_png(path)
    assert marked == [None, (2, 3)]  # the primal is exact: nothing to mark there
    assert int(np.count_nonzero(result.arguments[1].elements.ratio > 1)) == 1


def test_kinks_are_kept_for_the_picture(tmp_path):
    x = np.random.default_rng(5).standard_normal((6, 8))
    x[2, 5] = 0.0
    result = check_jvp(relu_forward, relu_jvp, x)
    assert result.plot(tmp_path / "relu.png") and is_png(tmp_path / "relu.png")
    assert np.argwhere(result.arguments[1].elements.kinks).tolist() == [[2, 5]]


def test_the_cli_draws_the_forward_mode_check(tmp_path, capsys):
    path = tmp_path / "conv.png"
    assert main(["check", "--layer", "conv2d", "--mode", "jvp", "--plot", str(path)]) == 0
    assert is_png(path)
    assert "drew" in capsys.readouterr().err
