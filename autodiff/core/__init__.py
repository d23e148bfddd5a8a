"""What the jobs share: the JAX twins of the network (``network``) and of the layer library
(``layers``, with the running-error bound of any JAX computation, ``running_error``), the
derived error bounds (``tolerance``), the grader's oracle
(``worksheet_oracle``: ``jax.grad`` of the worksheet's cost, padded to a few jitted shapes, and
its rounding bound), the per-block report (``report``) and the renderer every check's result
prints through (``render``), what every check does to its inputs (``inputs``: dtype, random
upstream gradient, copies), the diagnosis engine (``diagnose``, with the network's one
table of backprop slips, ``slips``, that plants and diagnoses) that checker and grader both use,
and the command lines' argument readers (``arguments``). Nothing here imports a job
(``autodiff.check``, ``autodiff.training``, ``autodiff.grading``)."""
