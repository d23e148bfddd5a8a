"""Check hand-written forward-mode rules: ``check.check_jvp`` (a rule against an oracle) and
``pair.check_pair`` (a rule against a backward, by the dot-product identity).

``rule`` is the rule's contract, ``direction`` the forward along the tangents and its
finite-difference scan, ``oracles`` the opinions of ``J·t`` (``jax.jvp``, the complex step,
Ridders), ``sensitivity`` how far rounding may move a correct tangent (a failure is judged
again with it), ``diagnose`` the patterns of a wrong tangent, ``report`` the result; the
comparison, tolerances and table are ``check.vjp``'s and ``core.compare``'s, its picture
``core.picture``'s. ``layers`` checks the layer library's rules, ``slips`` plants and names
their mistakes, ``strategies`` property-tests a rule in a user's own suite."""
