"""What the jobs share: the network's JAX twin (``network``), the derived error bounds
(``tolerance``), the per-block report (``report``) and the diagnosis engine (``diagnose``,
with the backprop slips of ``slips``) that checker and grader both use. Nothing here imports
a job (``autodiff.check``, ``autodiff.training``, ``autodiff.grading``)."""
