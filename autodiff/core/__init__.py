"""What the jobs share, and the one checking core every checker is a front-end of.

The core: ``compare`` (the one element-by-element judgement: bounds per element, kink intervals,
ties; the network check, ``check_vjp``, the layer and stack checks and the grader's judge all
end in it), ``render`` (the one renderer of every result: its table, its one-line ``repr``, its
JSON document and, through ``picture``, its heatmaps), ``inputs`` (dtype, random upstream
gradient, per-call copies), ``tolerance`` (the network's derived rounding bounds;
``running_error`` derives them for any JAX computation, and ``extended`` runs one in
``longdouble`` to tell an oracle's own rounding from a mistake) and ``slips`` (the network's one
table of backprop slips, which plants them and, through the ``diagnose`` engine, names them).
``report`` is the network's per-block result.

Beside it: the JAX twins of the network (``network``) and of the layer library (``layers``), the
grader's oracle (``worksheet_oracle``: ``jax.grad`` of the worksheet's cost, padded to a few
jitted shapes, and its rounding bound) and what the command lines share: argument readers
(``arguments``), progress bars (``progress``), the memory a run needs, asked before it allocates
(``memory``), and JAX's persistent compilation cache (``compile_cache``). Nothing here imports a
job (``autodiff.check``, ``autodiff.training``, ``autodiff.grading``)."""
