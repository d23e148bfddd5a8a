"""A ``torch.autograd.Function`` subclass as a NumPy ``forward``/``backward`` pair for
``check_vjp`` (``custom.check_custom_rule``); imported only where PyTorch is, never needed."""

from __future__ import annotations

import numpy as np


def _is_float(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def torch_pair(fn):
    """``(forward, backward)`` in NumPy for a ``torch.autograd.Function`` subclass."""
    import torch

    def tensors(values):
        return [torch.tensor(v, dtype=torch.float64 if np.asarray(v).dtype == np.float64 else
                             torch.float32, requires_grad=True) if _is_float(v) else v
                for v in values]

    def forward(*values):
        with torch.no_grad():
            out = fn.apply(*tensors(values))
        return out.detach().numpy()

    def backward(dout, *values):
        inputs = tensors(values)
        out = fn.apply(*inputs)
        leaves = [t for t in inputs if isinstance(t, torch.Tensor)]
        grads = torch.autograd.grad(out, leaves, torch.as_tensor(dout, dtype=out.dtype),
                                    allow_unused=True)
        return tuple(None if g is None else g.detach().numpy() for g in grads)

    forward.__name__, backward.__name__ = f"{fn.__name__}.forward", f"{fn.__name__}.backward"
    return forward, backward
