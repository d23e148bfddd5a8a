"""Check hand-written forward-mode rules: ``check.check_jvp`` (a rule against an oracle) and
``pair.check_pair`` (a rule against a backward, by the dot-product identity).

``rule`` is the rule's contract, ``direction`` the forward along the tangents and its
finite-difference scan, ``oracles`` the opinions of ``J·t`` (``jax.jvp``, the complex step,
Ridders), ``diagnose`` the patterns of a wrong tangent, ``report`` the result; the comparison,
tolerances and table are ``check.vjp``'s. ``strategies`` property-tests a rule in a user's own
suite."""
