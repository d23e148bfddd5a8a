"""``backprop check``: hand-derived gradients against ``jax.grad`` and a third opinion.

The network (this folder): ``crosscheck`` checks one network, ``buckets`` and ``sweep`` check
many random ones fast, ``oracles`` is the independent third opinion (``probes`` plans it at any
size), ``cases`` and ``strategies`` draw networks, ``mistakes`` holds the planted backprop
mistakes that prove the checker can fail (and re-exports the layers' own).

``vjp/``: any hand-written backward pass (``check_vjp``, ``from_cache_style``).

``layers/``: the layer library of ``reference.layers``, one layer or a stack at a time."""
