"""What the jobs share: the network's JAX twin (``network``), the derived error bounds
(``tolerance``) and the per-block report (``report``). Nothing here imports a job
(``autodiff.check``, ``autodiff.training``, ``autodiff.grading``)."""
