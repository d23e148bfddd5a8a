"""Check any hand-written backward pass: ``check.check_vjp`` and ``check.from_cache_style``.

``args`` is the pair's contract (which arguments are differentiable, copies, ``dout``),
``probe`` and ``kinks`` the finite-difference scan that finds kinks and the magnitudes
(``sampling``: which elements it scans), ``ties`` the check of tied inputs, ``oracles`` and
``opinions`` the exact and numerical opinions (``jax.vjp``, complex step, Ridders), each
validated before use, ``tolerance`` the derived bound, ``compare`` the element-by-element
verdict, ``diagnose`` and ``report`` what the user reads. ``strategies`` (``check_layer``)
property-tests a pair in a user's own suite, ``modules`` checks every pair of a user's module
(``backprop check LAYERS.py``)."""
