"""``backprop check``: hand-derived gradients against ``jax.grad`` and a third opinion.

``crosscheck`` checks one network, ``buckets`` and ``sweep`` check many random ones fast,
``oracles`` is the independent third opinion (``probes`` plans it at any size), ``cases``
and ``strategies`` draw networks, ``mistakes`` holds the planted backprop mistakes that prove
the checker can fail."""
