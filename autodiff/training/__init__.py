"""``backprop train`` and ``backprop bench``: the worksheet's noisy descent in JAX.

``engine`` is the single-network ``jit`` engine (and ``train``, which dispatches to the
NumPy engines of ``reference.training`` too), ``ensemble`` trains K networks under ``vmap``,
``distributed`` shards them over devices, ``bench`` and ``roofline`` measure the engines,
``plotting`` draws what was trained."""
