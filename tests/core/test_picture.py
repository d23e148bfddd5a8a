"""The one picture of a check (``Rendered.plot``): every result draws each compared row's
element-wise error over its tolerance, marks its worst element where the mistake is, keeps
kinks, and draws an unusable row as a panel that says why."""

import numpy as np
import pytest
from pictures import is_png, one_off, worksheet

from autodiff import check_gradients, check_vjp
from autodiff.check.hvp.network import check_network_hvp
from autodiff.check.hvp.slips import get_slip
from autodiff.check.layers.check import check_library_layer
from autodiff.check.layers.stack import check_stack
from autodiff.core.picture import FLOOR, Elements, palette, plot_elements, shade
from reference.layers import Stack, dense_backward, dense_forward

RNG = np.random.default_rng(0)
X, W, B = RNG.standard_normal((3, 5)), RNG.standard_normal((4, 3)), RNG.standard_normal((4, 1))




def test_the_palette_is_red_outside_the_tolerance_blue_inside_and_white_when_exact():
    cmap, norm = palette(3.0)
    red, blue, white = (cmap(norm(shade(r))) for r in (1e3, 1e-3, 0.0))
    assert red[0] > 2 * max(red[1], red[2])  # outside: a red
    assert blue[2] > blue[0]              # inside: a blue
    assert min(white[:3]) > 0.99          # exact: white, drawing no eye
    assert shade(np.array([0.0, np.inf, 1e-30])).tolist() == [FLOOR, 16.0, FLOOR]


def test_check_vjp_marks_the_one_wrong_element_where_it_is(tmp_path):
    def dw_one_off(dout, x, w, b):
        dx, dw, db = dense_backward(dout, x, w, b)
        dw = dw.copy()
        dw[2, 1] *= 1 + 1e-6
        return dx, dw, db

    result = check_vjp(dense_forward, dw_one_off, X, W, B)
    assert not result.passed
    marked = result.plot(tmp_path / "vjp.png")
    assert is_png(tmp_path / "vjp.png")
    assert marked[1] == (2, 1)
    assert [row.failing for row in result.pictured()] == [0, 1, 0]
    assert [row.name for row in result.pictured()] == [a.name for a in result.arguments]


def test_a_wrong_row_is_a_red_row(tmp_path):
    def row_wrong(dout, x, w, b):
        dx, dw, db = dense_backward(dout, x, w, b)
        dw = dw.copy()
        dw[3] *= 2
        return dx, dw, db

    result = check_vjp(dense_forward, row_wrong, X, W, B)
    ratio = result["W"].elements.ratio
    assert sorted(set(np.argwhere(ratio > 1)[:, 0].tolist())) == [3]
    assert np.all(ratio[3] > 1) and np.all(ratio[:3] <= 1)


def test_an_unusable_gradient_is_a_panel_that_says_why(tmp_path):
    def misshapen(dout, x, w, b):
        dx, dw, db = dense_backward(dout, x, w, b)
        return dx, dw.T, db

    result = check_vjp(dense_forward, misshapen, X, W, B)
    row = result["W"].elements
    assert row.ratio is None and "shape (3, 4)" in row.note
    assert result.plot(tmp_path / "misshapen.png")[1] is None
    assert is_png(tmp_path / "misshapen.png")


def test_the_network_check_draws_every_block_and_marks_the_planted_element(tmp_path):
    params, x, y = worksheet()

    result = check_gradients(params, x, y, manual=one_off)
    marked = result.plot(tmp_path / "network.png")
    assert is_png(tmp_path / "network.png")
    assert [row.name for row in result.pictured()] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert marked[2] == (3, 4)
    assert [row.failing for row in result.pictured()] == [0, 0, 1, 0, 0, 0]
    right = check_gradients(params, x, y)
    assert all(row.failing == 0 for row in right.pictured())


def test_the_hvp_check_draws_a_planted_slip_in_every_block(tmp_path):
    params, x, y = worksheet((1, 3, 2))
    result = check_network_hvp(params, x, y, hvp=get_slip("dropped-sigma-second").hvp)
    result.plot(tmp_path / "hvp.png")
    assert is_png(tmp_path / "hvp.png")
    assert any(row.failing for row in result.pictured())
    right = check_network_hvp(params, x, y)
    assert right.passed and all(row.failing == 0 for row in right.pictured())


def test_a_layer_excused_at_a_kink_keeps_its_kinks_for_the_picture(tmp_path):
    x = np.where(RNG.random((3, 6)) < 0.5, 0.0, RNG.standard_normal((3, 6)))

    def half_at_zero(dout, x):  # a generalized gradient: slope 1/2 at the kink
        return (dout * np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0)),)

    result = check_library_layer("relu", args=(x,), backward=half_at_zero)
    assert result.passed, result.table()
    row = result.pictured()[0]
    assert np.array_equal(row.kinks, x == 0)
    assert row.failing == 0
    result.plot(tmp_path / "relu.png")
    assert is_png(tmp_path / "relu.png")


def test_a_stack_draws_its_blocks(tmp_path):
    result = check_stack(Stack.parse("dense(units=3),tanh,softmax_cross_entropy", (4, 5)))
    assert [row.name for row in result.pictured()] == [b.name for b in result.blocks]
    result.plot(tmp_path / "stack.png")
    assert is_png(tmp_path / "stack.png")


def test_rows_wrap_and_nothing_to_draw_is_an_error(tmp_path):
    rows = [Elements(f"r{i}", np.full((2, 3), 10.0 ** -i)) for i in range(6)]
    assert plot_elements(rows, tmp_path / "six.png") == [(0, 0)] * 6
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_elements([], tmp_path / "none.png")
