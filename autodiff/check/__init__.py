"""``backprop check``: hand-derived gradients against ``jax.grad`` and a third opinion.

``crosscheck`` checks one network, ``buckets`` and ``sweep`` check many random ones fast,
``oracles`` is the independent third opinion (``probes`` plans it at any size), ``cases``
and ``strategies`` draw networks, ``mistakes`` holds the planted backprop mistakes that prove
the checker can fail.

Any hand-written backward pass: ``vjp`` (``check_vjp``, ``from_cache_style``) over
``vjp_args`` (the pair's contract), ``vjp_probe`` and ``kinks`` (the finite-difference scan),
``vjp_oracles`` and ``vjp_opinions`` (jax.vjp, complex step, Ridders, validated),
``vjp_tolerance``, ``vjp_compare``, ``vjp_diagnose`` and ``vjp_report``; ``layer_strategies``
(``check_layer``) and ``modules`` (``backprop check LAYERS.py``).

The layer library (``reference.layers``): ``layer_check`` (one library layer against
``jax.vjp``, with ``check_vjp`` as second opinion), ``stack`` (a stack against ``jax.grad`` and
layer by layer), ``layer_report``, and the planted ``layer_mistakes`` (over ``layer_slips``)."""
