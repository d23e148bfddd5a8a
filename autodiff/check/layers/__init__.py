"""Check the layer library of ``reference.layers`` against its JAX twin (``autodiff.core.layers``).

``check`` checks one library layer against ``jax.vjp`` (with ``check_vjp`` as a second
opinion), ``stack`` a stack against ``jax.grad`` and then layer by layer to name the first
wrong one, ``kinks`` excuses a difference only where the layer's kinks (a tie, ReLU's 0) allow it,
``report`` prints both, and ``mistakes`` plants two classic slips per layer
(built by ``slips``) to prove the checks can fail."""
