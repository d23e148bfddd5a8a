"""What the jobs share: the network's JAX twin (``network``), the derived error bounds
(``tolerance``), the per-block report (``report``) and the command lines' argument readers
(``arguments``). Nothing here imports a job
(``autodiff.check``, ``autodiff.training``, ``autodiff.grading``)."""
