"""``backprop grade``: check a worksheet submission's six hand-written Jacobians.

The pieces, in the order a grading runs through them:

* ``loader``    reads a ``.py`` file or a notebook's marked cells, and the worksheet's support code;
* ``sandbox``   runs the submission in a child process (``worker``, NumPy only) with time and
  output limits, one call at a time;
* ``cases``     draws networks and batches (hypothesis) and builds the worksheet's own case;
* ``expected``  computes ``jax.grad`` of the worksheet's cost and the tolerance of a comparison;
* ``judge``     turns one call's outcome into pass or a failure with its worst element;
* ``diagnose``  names the mistake when the result matches a known wrong formula, with
  ``helpers`` (the submission's own sigma, d_sigma, network_function tested directly) and
  ``behaviours`` (how the function behaves on other inputs);
* ``grader``    searches for the minimal failing case of each function;
* ``report``    prints the verdicts as text or JSON, with a runnable reproduction;
* ``gradebook`` writes the CSV gradebook and Gradescope's ``results.json``; ``summary`` sums
  up a class.

Nothing here imports JAX at package import time; ``expected`` does, when it is first used.
"""
