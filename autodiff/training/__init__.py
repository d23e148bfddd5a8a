"""``backprop train`` and ``backprop bench``: the worksheet's noisy descent in JAX.

``engine`` is the single-network ``jit`` engine (and ``train``, which dispatches to the
NumPy engines of ``reference.training`` too), ``ensemble`` trains K networks at once with the
step of ``ensemble_step``, ``distributed`` shards them over devices, ``bench`` measures the
engines and ``bench_report`` says what the measurements mean (with ``roofline``'s bandwidth
bound), ``plotting`` draws what was trained."""
