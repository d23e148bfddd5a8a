# Source of notebooks/checking-your-gradients.ipynb: edit here, then run
# `python notebooks/build.py`.

# %% [markdown]
# # Checking your own gradients
#
# You have derived and written a gradient by hand, and you want to know it is right. This
# notebook shows how, with the project's `autodiff` package:
#
# 1. check it against `jax.grad` in three lines;
# 2. plant a classic mistake and watch a property-based check (hypothesis) find a network
#    that exposes it, shrink that network to the smallest one, and say where it goes wrong;
# 3. understand the tolerances, and why a correctness check belongs in float64.
#
# The notebook *backpropagation* explains the mathematics; here we only use it.
#
# **The contract.** A network is a list of layers `[(W1, b1), …, (WL, bL)]`, `W` of shape
# (units out, units in), `b` a column (units out, 1). Inputs `x` have shape (inputs, N) and
# targets `y` shape (outputs, N): one example per column. Every layer applies the same
# activation (here the logistic $\sigma$), and the cost is
# $C = \frac{1}{N} \sum_k \|\mathbf{a}^{(L)}_k - \mathbf{y}_k\|^2$. Your gradient is a function
# `manual(params, x, y)` returning `[(dC/dW1, dC/db1), …]`, each block shaped like its
# parameter.

# %%
import numpy as np
from hypothesis import Phase, given, settings

from autodiff import check_gradients
from autodiff.check.mistakes import MISTAKES, get_mistake
from autodiff.check.strategies import NetworkCase, network_cases
from autodiff.core.tolerance import error_bounds

# %% [markdown]
# Here is a hand-written gradient of the kind you may have: one forward pass that keeps the
# activations, one backward pass that carries the error
# $\boldsymbol{\delta} = \partial C / \partial \mathbf{z}$ down the layers, using
# $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.


# %%
def my_gradients(params, x, y):
    """Hand backprop for a logistic network: [(dC/dW1, dC/db1), …]."""
    a = [x]
    for W, b in params:
        a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
    delta = 2 * (a[-1] - y) / x.shape[1] * a[-1] * (1 - a[-1])  # dC/dz at the output
    grads = []
    for layer in reversed(range(len(params))):
        grads.insert(0, (delta @ a[layer].T, delta.sum(axis=1, keepdims=True)))
        delta = (params[layer][0].T @ delta) * a[layer] * (1 - a[layer])  # one layer down
    return grads


# %% [markdown]
# ## 1. Check it in three lines
#
# `NetworkCase` describes a test network by a few numbers (layer sizes, batch size, seed) and
# `build()` draws its parameters, inputs and targets. `check_gradients` compares your gradient,
# block by block, with `jax.grad` and with a third opinion that shares no code with either
# (the complex-step derivative).

# %%
params, x, y = NetworkCase(sizes=(3, 5, 4, 2), batch=16, seed=1).build()
result = check_gradients(params, x, y, manual=my_gradients)
print(result.table())

# %% [markdown]
# How to read the table: one row per parameter block. *max abs err* and *max rel err* are
# the largest disagreements between your gradient and `jax.grad` over the block's elements
# (absolute, and relative to `jax.grad`); *worst elem* is the element closest to (or furthest
# beyond) its tolerance, and the `@worst` columns are that element's three opinions and its
# *absolute* tolerance: how far two correct float64 computations of it may differ by
# rounding alone (section 3). *3rd opinion* says what the complex step covered: `all`
# elements here. The status is `pass` or `fail`, or `below-noise-floor` / `saturated` when
# the gradient itself is smaller than rounding, so that agreement would prove nothing; if
# every block is so, the verdict is INCONCLUSIVE (`result.verdict`, exit status 4 from
# `backprop check`). `result.passed` (nothing failed) is what to assert in your own tests.
#
# The third opinion costs one complex forward pass per element. On a large network it
# covers the big blocks along random directions instead, and says how large an error those
# probes are sure to catch: an MNIST-sized network is checked in a couple of seconds.

# %%
mnist_sized = NetworkCase(sizes=(784, 128, 10), batch=32, seed=0, scale=0.05).build()
print(check_gradients(*mnist_sized, manual=my_gradients).table())

# %% [markdown]
#
# ## 2. A planted mistake, found and shrunk
#
# One network passing is evidence, not proof: some mistakes hide on some shapes. The package
# carries ten classic backprop mistakes as drop-in `manual` functions:

# %%
for name, mistake in MISTAKES.items():
    print(f"{name:<26}{mistake.description}")

# %% [markdown]
# Take `missing-transpose`: the error is carried down through $\mathbf{W}$ where
# $\mathbf{W}^\top$ belongs. (A hand-written `W @ delta` only runs where $\mathbf{W}$ is
# square; the package's version reshapes $\mathbf{W}$ to the shape of $\mathbf{W}^\top$ so that
# it runs on every network, wrong.) First, a property-based test of the kind you would put
# in your test suite: `network_cases` is a hypothesis strategy that draws whole test networks
# (here up to 3 layers of up to 4 units, batches up to 8), and the property is "the gradient
# agrees with `jax.grad`". Your correct gradient passes it:

# %%
small_networks = network_cases(max_depth=3, max_width=4, max_batch=8,
                               activation="logistic", dtype="float64")
# Compiling jax.grad for each new shape takes a moment: no per-example deadline. Fixed seed
# and no example database, so that the notebook finds the same things on every run.
quiet_search = settings(deadline=None, database=None, derandomize=True,
                        phases=[Phase.generate, Phase.shrink])


@settings(quiet_search, max_examples=10)
@given(small_networks)
def test_my_gradients(case):
    assert case.check(manual=my_gradients, oracle=False).passed


test_my_gradients()  # raises if any drawn network fails
print("my_gradients agrees with jax.grad on 10 drawn networks")

# %% [markdown]
# Now the same property for the mistaken gradient. Hypothesis draws networks until one
# fails, then **shrinks** it: it tries smaller layers, fewer layers, a smaller batch and
# simpler numbers, keeping each change that still fails, until nothing smaller fails. We
# catch the failure so that the notebook goes on, and print what hypothesis found.

# %%
slip = get_mistake("missing-transpose")
failing = []  # every failing case; hypothesis re-runs the smallest one last


@settings(quiet_search, max_examples=50)
@given(small_networks)
def test_slip(case):
    result = case.check(manual=slip, oracle=False, locate=False)
    if not result.passed:
        failing.append(case)
    assert result.passed, result.summary()


try:
    test_slip()
except AssertionError as failure:
    print(*getattr(failure, "__notes__", []), sep="\n")  # hypothesis: the falsifying example
    print(failure)

# %% [markdown]
# The smallest failing network hypothesis reports is tiny: one input, and a **square** 2 × 2
# last layer. That is no accident: while a layer has one unit in or out, $\mathbf{W}$ and
# $\mathbf{W}^\top$ hold the same numbers in the same order, so the mistake is invisible, and
# checking by hand on one-unit-per-layer networks (the easiest to work out on paper) would
# never show it. The full check of that case says which blocks are wrong and, by comparing
# the hand deltas with `jax.vjp`, the first layer where the backward pass goes wrong:

# %%
minimal = failing[-1]
report = minimal.check(manual=slip)
print(report.table())
print(f"\nwrong blocks: {report.failing_blocks}; first wrong layer: {report.first_wrong_layer}")

# %% [markdown]
# The output layer's blocks are right (its delta needs no transpose); layer 1 is the first
# one whose error was carried down through the wrong matrix. A case is a handful of numbers,
# so `NetworkCase(...)` as printed above reproduces the failure anywhere.
#
# ## 3. Tolerances: float64 versus float32
#
# Two correct computations of one gradient still differ, because floating point rounds: the
# order of the sums, `exp` computed one way or another. How much they may differ depends on
# the number format's **unit roundoff** $u$ (half the gap between 1 and the next number:
# $1.1 \times 10^{-16}$ in float64, $6.0 \times 10^{-8}$ in float32) and on the network:
# sums over more terms, larger weights and longer chains accumulate more. `check_gradients`
# does not guess a tolerance such as `1e-6`; `autodiff.core.tolerance.error_bounds` **derives**
# one bound per element by following the rounding of every step of the forward and backward
# passes. Here are the bounds for our network, in both formats:

# %%
for dtype in (np.float64, np.float32):
    bounds = error_bounds(params, x, y, "logistic", dtype)
    dW = bounds.grads[0][0]
    print(f"{dtype.__name__}: u = {bounds.unit_roundoff:.1e}, tolerances on dC/dW1 from "
          f"{2 * dW.min():.1e} to {2 * dW.max():.1e}")

# %% [markdown]
# The float32 tolerances are about $u_{32} / u_{64} \approx 5 \times 10^{8}$ times wider.
# Your gradient passes in float32 too (the check casts everything to the format asked for,
# and your NumPy code computes in it):

# %%
print(check_gradients(params, x, y, manual=my_gradients, dtype="float32").table())

# %% [markdown]
# Two consequences. First, the format of the check must be the format of the computation:
# the very same, correct, gradient computed in float32 **fails** a float64 check, because
# float32 rounding is far above float64 tolerances; the check says so in a hint.


# %%
def my_gradients_in_float32(params, x, y):
    single = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    return my_gradients(single, x.astype(np.float32), y.astype(np.float32))


print(check_gradients(params, x, y, manual=my_gradients_in_float32, dtype="float64").summary())

# %% [markdown]
# Second, float32 cannot see small mistakes. A gradient that is wrong by one part in a
# million (say, a constant copied with too few digits) is caught in float64 and passes in
# float32, where it is lost among rounding errors of the same size (which is why the float64
# check's hint cannot tell it from float32 code):


# %%
def slightly_wrong(params, x, y):
    return [(1.000001 * dW, 1.000001 * db) for dW, db in my_gradients(params, x, y)]


for dtype in ("float64", "float32"):
    print(check_gradients(params, x, y, manual=slightly_wrong, dtype=dtype).summary())

# %% [markdown]
# So: **check correctness in float64**, where the tolerances are tight enough to catch
# everything but rounding, and train in float32 for speed once the gradient is known to be
# right. The same check runs from the shell on any network with `backprop check`, and
# `backprop grade` grades a worksheet submission's six `J_*` this way.
