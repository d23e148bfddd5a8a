"""``backprop grade``: check worksheet submissions' six hand-written Jacobians, safely.

The pieces, in the order a grading runs through them:

* ``pool``      expands files, folders and globs and grades them in parallel workers, each a
  ``session`` (the trusted, long-lived side: zygote, isolation, case book);
* ``loader``    reads a ``.py`` file or a notebook's marked cells (bounded), and the worksheet's
  support code;
* ``casebook``  draws the run's cases once (``cases``: hypothesis, the worksheet's own case) and
  their expected Jacobians (``autodiff.core.worksheet_oracle``: ``jax.grad`` and the
  tolerance of a comparison);
* ``confinement/`` the sandbox: a fresh confined child per submission, forked by a zygote,
  under namespaces, a private filesystem view, Landlock, seccomp and limits, and the bounded
  frames that are the only road between it and the grader (read its docstring);
* ``judge``     turns one call's outcome into pass or a failure with its worst element;
* ``grader``    runs every function on every case in one batch, then shrinks each failure;
* ``diagnose``  names the mistake when the result matches a known wrong formula, with
  ``helpers`` (the submission's own sigma, d_sigma, network_function tested directly) and
  ``behaviours`` (how the function behaves on other inputs);
* ``report``    prints the verdicts as text or JSON, with a runnable reproduction;
* ``gradebook`` writes the CSV gradebook and Gradescope's ``results.json``, ``prairielearn``
  PrairieLearn's; ``summary`` sums up a class, ``similarity`` finds its identical wrong
  answers; ``escape`` is the one escaping of what a submission wrote, for every output;
* ``interrupts`` records Ctrl-C, so that a run stops cleanly with what it graded.

Nothing here imports JAX at package import time; the oracle does, when it is first used.
The sandbox's side of ``confinement`` imports only the standard library and NumPy, and is
loaded by path.
"""
