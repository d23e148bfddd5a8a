"""2-D convolution and max-pooling on image batches in NCHW layout.

``x`` is ``(N, C, H, W)``: examples, channels, rows, columns. A convolution's kernel ``w`` is
``(F, C, KH, KW)`` (filters, input channels, kernel rows, columns) and its bias ``b`` is
``(F,)``; with ``stride`` s and zero ``padding`` p its output is ``(N, F, H', W')`` with
``H' = (H + 2p - KH) // s + 1``. As in every deep-learning library it is a cross-correlation:
``out[n, f, i, j] = Σ_c,u,v w[f, c, u, v] · xpad[n, c, i·s + u, j·s + v] + b[f]``.

The forwards visit each kernel offset ``(u, v)`` once and take a strided slice of the padded
input there (KH·KW slices, all in the array API; fewer, larger operations also compile faster
under JAX than one product per offset). The backwards are NumPy, written as the
maths reads: ``dx`` is the *full* convolution of the (stride-dilated) ``dout`` with the kernel
rotated by 180°, and ``dw`` is the correlation of the input with ``dout``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference.layers.arrays import gradient, namespace, positive_int, real, zero_pad


def _out_size(size: int, kernel: int, stride: int, padding: int, what: str) -> int:
    if size + 2 * padding < kernel:
        raise ValueError(f"x: {what} {size} plus padding 2·{padding} is smaller than the "
                         f"window {kernel}")
    return (size + 2 * padding - kernel) // stride + 1


def _conv_args(x, w, b, stride, padding):
    x = real(x, "x", 4, "(N, C, H, W)")
    w = real(w, "w", 4, "(F, C, KH, KW)")
    b = real(b, "b", 1, "(F,)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w: expected {x.shape[1]} input channels (x is {tuple(x.shape)}, NCHW),"
                         f" got shape {tuple(w.shape)}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b: expected shape ({w.shape[0]},), one per filter, got {tuple(b.shape)}")
    stride, padding = positive_int(stride, "stride"), positive_int(padding, "padding", 0)
    out_h = _out_size(x.shape[2], w.shape[2], stride, padding, "height")
    out_w = _out_size(x.shape[3], w.shape[3], stride, padding, "width")
    return x, w, b, stride, padding, (out_h, out_w)


def _window(x, u: int, v: int, stride: int, out_hw: tuple[int, int]):
    """The input entries that kernel offset ``(u, v)`` meets, one per output position."""
    out_h, out_w = out_hw
    return x[:, :, u:u + stride * (out_h - 1) + 1:stride, v:v + stride * (out_w - 1) + 1:stride]


def conv2d_forward(x, w, b, *, stride: int = 1, padding: int = 0):
    """The cross-correlation of ``x`` ``(N, C, H, W)`` with ``w`` ``(F, C, KH, KW)``, plus ``b``.

    Written as im2col: the KH·KW strided slices of the padded input become the rows of one
    matrix of patches, and a single product with the kernel's matrix does the sums."""
    x, w, b, stride, padding, out_hw = _conv_args(x, w, b, stride, padding)
    xp = namespace(x, w, b)
    xpad = zero_pad(xp, x, padding)
    (n, c), (f, _, kh, kw) = x.shape[:2], w.shape
    patches = xp.stack([_window(xpad, u, v, stride, out_hw)
                        for u in range(kh) for v in range(kw)], axis=2)  # (N, C, KH·KW, H', W')
    patches = xp.reshape(patches, (n, c * kh * kw, *out_hw))
    out = xp.tensordot(xp.reshape(w, (f, c * kh * kw)), patches, axes=([1], [1]))  # (F, N, ·, ·)
    return xp.permute_dims(out, (1, 0, 2, 3)) + b[None, :, None, None]


def correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid, stride-1 cross-correlation: ``(N, C, H, W)`` with ``(F, C, KH, KW)`` gives
    ``(N, F, H - KH + 1, W - KW + 1)``."""
    windows = sliding_window_view(image, kernel.shape[2:], axis=(2, 3))  # (N, C, H', W', KH, KW)
    return np.einsum("ncijuv,fcuv->nfij", windows, kernel)


def dilate(dout: np.ndarray, stride: int) -> np.ndarray:
    """``dout`` with ``stride - 1`` zeros between neighbours: a strided output as a stride-1 one."""
    n, f, h, w = dout.shape
    dilated = np.zeros((n, f, (h - 1) * stride + 1, (w - 1) * stride + 1), dtype=dout.dtype)
    dilated[:, :, ::stride, ::stride] = dout
    return dilated


def conv2d_backward(dout, x, w, b, *, stride: int = 1, padding: int = 0):
    """``(dx, dw, db)``: dx is the full convolution of dout with the flipped kernel."""
    x, w, b, stride, padding, out_hw = _conv_args(x, w, b, stride, padding)
    dout = gradient(dout, (x.shape[0], w.shape[0], *out_hw), x.dtype)
    kh, kw = w.shape[2:]
    xpad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dout_1 = dilate(dout, stride)                                 # as if the stride were 1
    dout_full = np.pad(dout_1, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    w_flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)         # rotated 180°: (C, F, ·, ·)
    dx_reached = correlate(dout_full, w_flipped)                  # the rows windows reach
    dxpad = np.zeros_like(xpad)
    dxpad[:, :, :dx_reached.shape[2], :dx_reached.shape[3]] = dx_reached  # the rest get 0
    dx = dxpad[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    dw = correlate(xpad.transpose(1, 0, 2, 3), dout_1.transpose(1, 0, 2, 3))[:, :, :kh, :kw]
    dw = dw.transpose(1, 0, 2, 3)                                 # (F, C, KH, KW)
    db = np.sum(dout, axis=(0, 2, 3))
    return dx, dw, db


def conv2d_jvp(primals, tangents, *, stride: int = 1, padding: int = 0):
    """``(out, dout)``: the convolution is bilinear in ``(x, w)`` and affine in ``b``, so
    dout = conv(dx, w) + conv(x, dw) + db."""
    x, w, b, stride, padding, _ = _conv_args(*primals, stride, padding)
    dx, dw, db = (gradient(t, p.shape, x.dtype, f"tangent of {n}")
                  for t, p, n in zip(tangents, (x, w, b), ("x", "w", "b"), strict=True))
    out = conv2d_forward(x, w, b, stride=stride, padding=padding)
    through_x = conv2d_forward(dx, w, np.zeros_like(b), stride=stride, padding=padding)
    through_w = conv2d_forward(x, dw, db, stride=stride, padding=padding)
    return out, through_x + through_w


def _pool_args(x, size, stride):
    x = real(x, "x", 4, "(N, C, H, W)")
    size = positive_int(size, "size")
    stride = size if stride is None else positive_int(stride, "stride")
    out_hw = (_out_size(x.shape[2], size, stride, 0, "height"),
              _out_size(x.shape[3], size, stride, 0, "width"))
    return x, size, stride, out_hw


def maxpool_forward(x, *, size: int = 2, stride: int | None = None):
    """The maximum of each ``size × size`` window, windows ``stride`` apart (default: ``size``)."""
    x, size, stride, out_hw = _pool_args(x, size, stride)
    xp = namespace(x)
    windows = [_window(x, u, v, stride, out_hw) for u in range(size) for v in range(size)]
    return xp.max(xp.stack(windows, axis=0), axis=0)


def maxpool_backward(dout, x, *, size: int = 2, stride: int | None = None):
    """``(dx,)``: each output's gradient goes to the one input that was its window's maximum
    (the first, in row-major order, if several tie)."""
    x, size, stride, out_hw = _pool_args(x, size, stride)
    dout = gradient(dout, (*x.shape[:2], *out_hw), x.dtype)
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    winner = np.argmax(windows.reshape(*windows.shape[:4], size * size), axis=-1)
    dx = np.zeros_like(x)
    for u in range(size):
        for v in range(size):
            # += on a strided view: overlapping windows (stride < size) add up, as they must
            _window(dx, u, v, stride, out_hw)[...] += dout * (winner == u * size + v)
    return (dx,)


def maxpool_jvp(primals, tangents, *, size: int = 2, stride: int | None = None):
    """``(out, dout)``: each window's output moves with the tangent of its maximum (the first,
    in row-major order, if several tie — the input the backward routes to)."""
    x, size, stride, _ = _pool_args(primals[0], size, stride)
    dx = gradient(tangents[0], x.shape, x.dtype, "tangent of x")
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    winner = np.argmax(windows.reshape(*windows.shape[:4], size * size), axis=-1)
    moved = sliding_window_view(dx, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    dout = np.take_along_axis(moved.reshape(*moved.shape[:4], size * size),
                              winner[..., None], axis=-1)[..., 0]
    return maxpool_forward(x, size=size, stride=stride), dout
