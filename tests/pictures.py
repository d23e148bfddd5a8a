"""What the picture tests share: a PNG check, and the worksheet network with one weight's
gradient wrong by a relative 1e-6 (``W2[3, 4]``)."""

import reference

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    """``path`` holds a PNG of a plausible size for a drawn check."""
    data = path.read_bytes()
    return data.startswith(PNG) and 5_000 < len(data) < 3_000_000


def worksheet(sizes=(1, 6, 7, 2)):
    """``(params, x, y)``: the worksheet's network (seed 0) on 100 heart points."""
    return (reference.init_params(list(sizes), rng=0, scale=0.5),
            *reference.training_data(100))


def one_off(params, x, y):
    """The reference gradient with ``dW2[3, 4]`` off by a relative 1e-6."""
    grads = reference.gradients(params, x, y)
    grads[1][0][3, 4] *= 1 + 1e-6
    return grads
