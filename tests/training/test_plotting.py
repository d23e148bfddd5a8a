"""Pictures: the worksheet's colours land on the canvas, the GIF has one frame per curve."""

from __future__ import annotations

import matplotlib.colors
import matplotlib.image
import numpy as np
import pytest

from autodiff.training.plotting import (
    FINAL_ORANGE,
    TARGET_GREEN,
    TRAINING_PINK,
    animate_training,
    network_curve,
    plot_training,
)
from reference import init_params, training_data

_, TARGET = training_data(100)
CURVES = [network_curve(init_params([1, 6, 7, 2], seed)) for seed in range(3)]


def colour_share(pixels: np.ndarray, colour: str, tolerance: float = 0.08) -> float:
    """Fraction of pixels within ``tolerance`` (per RGB channel) of ``colour``."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    return float(np.mean(np.all(np.abs(pixels[..., :3] - rgb) < tolerance, axis=-1)))


def pink_share(pixels: np.ndarray) -> float:
    """Fraction of pixels with the pink's hue: translucent over white it is lighter than the
    colour itself, but keeps its hue."""
    hsv = matplotlib.colors.rgb_to_hsv(pixels[..., :3])
    hue = matplotlib.colors.rgb_to_hsv(matplotlib.colors.to_rgb(TRAINING_PINK))[0]
    return float(np.mean((np.abs(hsv[..., 0] - hue) < 0.03) & (hsv[..., 1] > 0.1)))


def test_network_curve_is_two_outputs_over_the_unit_interval():
    curve = network_curve(init_params([1, 4, 2], 0), points=50)
    assert curve.shape == (2, 50)
    assert np.all((curve > 0) & (curve < 1))


def test_png_shows_green_target_orange_final_and_pink_history(tmp_path):
    final = 0.6 * TARGET + 0.2  # a smaller heart inside the target
    history = [scale * TARGET + (1 - scale) / 2 for scale in (0.3, 0.4, 0.8)]
    path = plot_training(TARGET, history, final, str(tmp_path / "heart.png"), "t")
    pixels = matplotlib.image.imread(path)
    assert colour_share(pixels, TARGET_GREEN) > 1e-3
    orange = colour_share(pixels, FINAL_ORANGE)
    # translucent pink over white: lighter than the colour itself, so look for its hue
    pink = pink_share(pixels)
    assert pink > 1e-3
    # the check is able to fail: with the final curve off the square, only the legend's
    # orange sample remains
    bare = plot_training(TARGET, [], final + 5, str(tmp_path / "bare.png"))
    assert colour_share(matplotlib.image.imread(bare), FINAL_ORANGE) < orange / 3
    assert pink_share(matplotlib.image.imread(bare)) < pink / 10


def test_gif_has_one_frame_per_curve(tmp_path):
    from PIL import Image

    path = animate_training(TARGET, CURVES, str(tmp_path / "learn.gif"), labels=["a", "b", "c"])
    with Image.open(path) as image:
        assert image.n_frames == len(CURVES)


def test_gif_needs_curves(tmp_path):
    with pytest.raises(ValueError, match="curves"):
        animate_training(TARGET, [], str(tmp_path / "none.gif"))
