"""``backprop grade``: check worksheet submissions' six hand-written Jacobians, safely.

The pieces, in the order a grading runs through them:

* ``pool``      expands files, folders and globs and grades them in parallel workers, each a
  ``session`` (the trusted, long-lived side: zygote, isolation, case book);
* ``loader``    reads a ``.py`` file or a notebook's marked cells (bounded), and the worksheet's
  support code;
* ``casebook``  draws the run's cases once (``cases``: hypothesis, the worksheet's own case) and
  their expected Jacobians (``expected``: ``jax.grad`` and the tolerance of a comparison);
* ``zygote_client`` starts the ``zygote`` (a clean fork server with NumPy imported), which
  forks a fresh sandbox per submission: ``confine`` (namespaces, a private filesystem view,
  limits), ``landlock`` and ``seccomp``; the ``worker`` in it runs the submission;
* ``sandbox``   talks to that child in the frames of ``protocol``, within time limits, and
  probes which protections hold;
* ``judge``     turns one call's outcome into pass or a failure with its worst element;
* ``grader``    runs every function on every case in one batch, then shrinks each failure;
* ``diagnose``  names the mistake when the result matches a known wrong formula, with
  ``helpers`` (the submission's own sigma, d_sigma, network_function tested directly) and
  ``behaviours`` (how the function behaves on other inputs);
* ``report``    prints the verdicts as text or JSON, with a runnable reproduction;
* ``gradebook`` writes the CSV gradebook and Gradescope's ``results.json``; ``summary`` sums
  up a class.

Nothing here imports JAX at package import time; ``expected`` does, when it is first used.
The sandbox's side (``zygote``, ``confine``, ``landlock``, ``seccomp``, ``protocol``,
``worker``) imports only the standard library and NumPy, and is loaded by path.
"""
