"""``backprop check``: hand-derived gradients against ``jax.grad`` and a third opinion.

Every checker here is a front-end of the one core in ``autodiff.core``: it judges through
``core.compare``, prints and serialises through ``core.render`` and resolves its dtype through
``core.inputs`` (as the backward-pass checks draw their upstream gradient and copy their
arguments there); what differs is how each derives its bounds and which oracle answers.

The network (this folder): ``crosscheck`` checks one network (bounds from
``core.tolerance``), ``buckets`` and ``sweep`` check many random ones fast, ``oracles`` is the
independent third opinion (``probes`` plans it at any size), ``cases`` and ``strategies`` draw
networks, ``mistakes`` holds the planted backprop mistakes that prove the checker can fail
(from ``core.slips``, and the layers' own beside them).

``vjp/``: any hand-written backward pass (``check_vjp``, ``from_cache_style``; bounds from a
finite-difference scan, ``vjp/kinks`` over ``vjp/sampling``). ``jvp/``: hand-written
forward-mode rules (``check_jvp``, and ``check_pair``, a rule against a backward). ``custom``
(with ``custom_torch``): a ``jax.custom_jvp``/``custom_vjp`` function's or a PyTorch
``autograd.Function``'s own rule, through ``check_jvp``/``check_vjp``.

``layers/``: the layer library of ``reference.layers``, one layer or a stack at a time (bounds
from ``core.running_error``)."""
