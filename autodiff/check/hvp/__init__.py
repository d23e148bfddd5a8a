"""Check a hand-derived Hessian-vector product: ``check.check_hvp``.

``check_hvp`` is ``check_vjp`` applied again (as ``gradgradcheck`` is ``gradcheck`` applied
to the gradient): the forward is ``∇f`` (``gradient``), whose exact oracle there is
forward-over-reverse ``jax.jvp`` of ``jax.grad``, and whose finite-difference scan is the third
opinion; ``symmetry`` checks ``⟨u, H v⟩ = ⟨v, H u⟩`` with a derived bound, and ``report`` holds
the result. ``slips`` plants and names the classic mistakes of a network's R-operator,
``network`` checks ``reference.hvp`` (``backprop check --hvp``), ``strategies`` property-tests
an HVP in a user's own suite.
"""
