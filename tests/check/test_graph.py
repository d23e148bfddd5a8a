"""The worksheet network drawn as a graph (``plot_graph``, ``backprop check --graph``): each
weight an edge coloured by its manual and automatic gradients' agreement, the wrong ones
numbered and listed with both values; and ``--plot``/``--graph`` at the command line."""

import json

import numpy as np
import pytest
from pictures import is_png, one_off, worksheet

import reference
from autodiff import check_gradients, plot_graph
from autodiff.check.mistakes import get_mistake
from autodiff.cli import main


def reddish(colour) -> bool:
    return colour[0] > 2 * max(colour[1], colour[2])


def test_the_one_wrong_weight_is_the_one_red_numbered_edge(tmp_path):
    params, x, y = worksheet()

    edges = plot_graph(check_gradients(params, x, y, manual=one_off), tmp_path / "g.png")
    assert is_png(tmp_path / "g.png")
    assert len(edges) == 6 + 6 + 42 + 7 + 14 + 2  # every weight and bias of 1-6-7-2
    wrong = [edge for edge in edges if edge.ratio > 1]
    assert [edge.name for edge in wrong] == ["W2[3,4]"] and wrong[0].labelled
    assert wrong[0].manual == pytest.approx(wrong[0].automatic * (1 + 1e-6), rel=1e-12)
    assert reddish(wrong[0].colour)
    assert not any(reddish(edge.colour) or edge.labelled for edge in edges if edge.ratio <= 1)


def test_a_right_gradient_draws_no_red_and_numbers_nothing(tmp_path):
    params, x, y = worksheet()
    edges = plot_graph(check_gradients(params, x, y), tmp_path / "g.png")
    assert not any(reddish(edge.colour) or edge.labelled for edge in edges)
    automatic = reference.gradients(params, x, y)
    assert edges[6 + 6 + 5].automatic == pytest.approx(float(automatic[1][0][0, 5]), rel=1e-12)


def test_an_unusable_block_is_numbered_once_with_why(tmp_path):
    params, x, y = worksheet()
    result = check_gradients(params, x, y, manual=get_mistake("bias-not-summed"))
    edges = plot_graph(result, tmp_path / "g.png")
    biases = [edge for edge in edges if edge.block.startswith("b")]
    assert all(np.isnan(edge.manual) and "shape" in edge.note for edge in biases)
    assert sorted(edge.block for edge in edges if edge.labelled) == ["b1", "b2", "b3"]


def test_a_wide_network_is_refused_with_what_to_use_instead(tmp_path):
    rng = np.random.default_rng(1)
    params = reference.init_params([20, 3, 2], rng=0)
    result = check_gradients(params, rng.standard_normal((20, 4)), rng.random((2, 4)))
    with pytest.raises(ValueError, match=r"up to 16 units wide, got sizes 20-3-2.*plot"):
        plot_graph(result, tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_the_cli_draws_both_pictures_and_keeps_json_on_stdout(tmp_path, capsys):
    plot, graph = tmp_path / "plot.png", tmp_path / "graph.png"
    assert main(["check", "--plant", "sign", "--json", "--plot", str(plot),
                 "--graph", str(graph)]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["passed"] is False
    assert is_png(plot) and is_png(graph)
    assert f"drew {plot}" in err and f"drew {graph}" in err


def test_a_folder_gets_a_default_name(tmp_path, capsys):
    assert main(["check", "--graph", str(tmp_path)]) == 0
    assert is_png(tmp_path / "graph.png")


@pytest.mark.parametrize("command, words", [
    (["--random", "2", "--plot", "x.png"], "--random prints a summary of many"),
    (["--hvp", "--graph", "x.png"], "drop --hvp"),
    (["--layer", "relu", "--graph", "x.png"], "drop --layer/--stack"),
    (["--sizes", "3,20,2", "--graph", "x.png"], "up to 16 units wide, got --sizes 3,20,2"),
    (["--plot", "picture.jpg"], "cannot write a 'jpg' picture"),
    (["--plot", "no/such/folder/x.png"], "the folder of 'no/such/folder/x.png' does not exist"),
    (["--list-layers", "--plot", "x.png"], "not --list-layers"),
])
def test_pictures_it_cannot_draw_are_refused_before_any_work(command, words, capsys,
                                                             monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    import autodiff.check.crosscheck as crosscheck

    monkeypatch.setattr(crosscheck, "check_gradients", None)  # any work would crash
    assert main(["check", *command]) == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["--hvp", "dropped-sigma-second"],
    ["--layer", "maxpool"],
    ["--layer", "dense", "--mode", "both"],
    ["--stack", "dense(units=3),tanh,softmax_cross_entropy"],
])
def test_every_check_with_rows_draws_them(command, tmp_path, capsys):
    path = tmp_path / "p.png"
    assert main(["check", *command, "--plot", str(path)]) in (0, 1)
    assert is_png(path)
    assert f"drew {path}" in capsys.readouterr().err
