# Source of notebooks/backpropagation.ipynb: edit here, then run `python notebooks/build.py`.

# %% [markdown]
# # Backpropagation, by hand and by JAX
#
# This notebook retells the course worksheet *Backpropagation*: a small neural network learns
# to draw a heart. The worksheet derives the six Jacobians of the cost by hand; here each one
# sits beside the answer of `jax.grad`, which derives them automatically, and we watch the two
# agree. Then we check them properly, train the network with a NumPy and a JAX engine, and
# compare forward- and reverse-mode automatic differentiation on the same network.
#
# Everything here calls the project's two packages: `reference` (the hand-derived mathematics,
# pure NumPy) and `autodiff` (the same network in JAX, and the tools that compare the two).
# Run the cells from the top; the whole notebook takes well under a minute on a laptop.

# %%
import inspect
import tempfile
import time
import timeit
from pathlib import Path

import jax
import numpy as np
from IPython.display import Image, display

import reference
from autodiff import check_gradients, train
from autodiff.core import network
from autodiff.training.plotting import network_curve, plot_training
from reference import worksheet

np.set_printoptions(precision=6, linewidth=110)

# %% [markdown]
# ## 1. The network and its equations
#
# The network has one input unit, two hidden layers of 6 and 7 units, and two output units:
# a **1-6-7-2** network. Its input is the distance $t \in [0, 1)$ travelled along the curve; its
# two outputs are the point's coordinates. Every layer feeds forward the same way,
#
# $$\mathbf{z}^{(n)} = \mathbf{W}^{(n)} \mathbf{a}^{(n-1)} + \mathbf{b}^{(n)}, \qquad
#   \mathbf{a}^{(n)} = \sigma\big(\mathbf{z}^{(n)}\big), \qquad n = 1, 2, 3,$$
#
# starting from $\mathbf{a}^{(0)} = t$, with the logistic function as activation:
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
#   \sigma'(z) = \sigma(z)\,\big(1 - \sigma(z)\big) = \frac{1}{4\cosh^2(z/2)}.$$
#
# The training set holds $N = 100$ points of the heart, one example per **column**: `x` has
# shape $(1, N)$ and `y` has shape $(2, N)$. A weight matrix $\mathbf{W}^{(n)}$ has shape
# (units out, units in) and a bias $\mathbf{b}^{(n)}$ is a column. The cost is the squared
# distance between the network's points and the heart's, averaged over the examples:
#
# $$C = \frac{1}{N} \sum_{k=1}^{N} \big\| \mathbf{a}^{(3)}_k - \mathbf{y}_k \big\|^2 .$$
#
# The worksheet keeps the weights in module globals `W1 … b3`, drawn by `reset_network`;
# `reference.worksheet` keeps that API exactly.

# %%
x, y = reference.training_data()
worksheet.reset_network(random=np.random.RandomState(0))
params = worksheet.get_params()  # the globals as [(W1, b1), (W2, b2), (W3, b3)]

print("x:", x.shape, " y:", y.shape)
for n, (W, b) in enumerate(params, start=1):
    print(f"W{n}: {W.shape}   b{n}: {b.shape}")
print(f"cost of the untrained network: {worksheet.cost(x, y):.4f}")

# %% [markdown]
# ## 2. The Jacobians, by hand and by `jax.grad`
#
# Backpropagation is the chain rule applied from the output backwards. Write
# $\boldsymbol{\delta}^{(n)} = \partial C / \partial \mathbf{z}^{(n)}$ for the error at layer
# $n$ (one column per example). At the output,
#
# $$\boldsymbol{\delta}^{(3)} = \frac{2}{N}\,\big(\mathbf{a}^{(3)} - \mathbf{y}\big)
#   \odot \sigma'\big(\mathbf{z}^{(3)}\big),$$
#
# and each step down the network multiplies by the transposed weights and the slope of the
# layer below:
#
# $$\boldsymbol{\delta}^{(n-1)} = \Big(\mathbf{W}^{(n)\top} \boldsymbol{\delta}^{(n)}\Big)
#   \odot \sigma'\big(\mathbf{z}^{(n-1)}\big).$$
#
# The Jacobians then need one more factor, $\partial \mathbf{z}^{(n)} / \partial
# \mathbf{W}^{(n)} = \mathbf{a}^{(n-1)}$ or $\partial \mathbf{z}^{(n)} / \partial
# \mathbf{b}^{(n)} = 1$, summed over the examples:
#
# $$J_{\mathbf{W}^{(n)}} = \boldsymbol{\delta}^{(n)}\, \mathbf{a}^{(n-1)\top}, \qquad
#   J_{\mathbf{b}^{(n)}} = \sum_{k} \boldsymbol{\delta}^{(n)}_k .$$
#
# The worksheet's `J_W3 … J_b1` compute exactly this, one factor per line. `jax.grad` is given
# nothing but the cost itself, written in JAX; here is all of it:

# %%
print(inspect.getsource(network.forward))
print(inspect.getsource(network.cost))

# %% [markdown]
# From those lines JAX builds the derivative program itself: it records the operations of the
# forward pass and applies each one's chain-rule step in reverse order, which is
# backpropagation done mechanically. We ask for it in float64, inside a scoped
# `jax.enable_x64(True)`, so that both sides round alike.

# %%
with jax.enable_x64(True):
    automatic = network.grad(params, x, y)  # [(dC/dW1, dC/db1), …], the same layout as params
names = ["W1", "b1", "W2", "b2", "W3", "b3"]
blocks = dict(zip(names, (np.asarray(block) for layer in automatic for block in layer),
                  strict=True))


def side_by_side(name):
    """Print the worksheet's hand Jacobian J_<name> next to jax.grad's block <name>."""
    hand = getattr(worksheet, f"J_{name}")(x, y)
    print(f"J_{name} by hand:\n{hand}\n{name} by jax.grad:\n{blocks[name]}")
    print(f"largest difference: {np.abs(hand - blocks[name]).max():.1e}\n")


# %% [markdown]
# **Layer 3.** $J_{\mathbf{W}^{(3)}} = \frac{2}{N} (\mathbf{a}^{(3)} - \mathbf{y}) \odot
# \sigma'(\mathbf{z}^{(3)})\; \mathbf{a}^{(2)\top}$: three factors, shape $(2, 7)$; the bias
# keeps the first two and sums over the examples.

# %%
side_by_side("W3")
side_by_side("b3")

# %% [markdown]
# **Layer 2.** One new factor, $\partial \mathbf{a}^{(3)} / \partial \mathbf{a}^{(2)} =
# \sigma'(\mathbf{z}^{(3)})\, \mathbf{W}^{(3)}$: the worksheet's line `J = (J.T @ W3).T`
# carries the error back through $\mathbf{W}^{(3)\top}$.

# %%
side_by_side("W2")
side_by_side("b2")

# %% [markdown]
# **Layer 1.** The same step once more, through $\mathbf{W}^{(2)\top}$ and
# $\sigma'(\mathbf{z}^{(1)})$.

# %%
side_by_side("W1")
side_by_side("b1")

# %% [markdown]
# The two answers agree to about $10^{-17}$, the size of float64 rounding: the same
# mathematics, evaluated in a different order (JAX also computes $\sigma'$ as
# $\sigma(1-\sigma)$, the worksheet as $\cosh^{-2}(z/2)/4$), so the last bits differ.
#
# ## 3. Checking them properly
#
# "They look the same" is not a check. `autodiff.check_gradients` compares, block by block,
# three independent opinions: the hand gradient, `jax.grad`, and a complex-step derivative
# that shares no code with either. Each pair must agree within a tolerance **derived** from
# float64 rounding for this very network (not a guessed `1e-6`), and a block whose gradient
# is itself lost in rounding is reported as such rather than passed. Here the hand opinion is
# the worksheet's six `J_*`, run on whatever network the check hands them:


# %%
def worksheet_jacobians(params, x, y):
    """The worksheet's J_* as a manual gradient: [(J_W1, J_b1), (J_W2, J_b2), (J_W3, J_b3)]."""
    worksheet.set_params(params)
    return [(worksheet.J_W1(x, y), worksheet.J_b1(x, y)),
            (worksheet.J_W2(x, y), worksheet.J_b2(x, y)),
            (worksheet.J_W3(x, y), worksheet.J_b3(x, y))]


print(check_gradients(params, x, y, manual=worksheet_jacobians).table())
worksheet.set_params(params)  # put the worksheet's own network back

# %% [markdown]
# Each row is a parameter block: the largest absolute and relative disagreement between the
# hand gradient and `jax.grad`, the element where the opinions come closest to their
# tolerance (its three values and the tolerance itself), and the verdict. The same check runs
# on any network with `backprop check`, and the notebook *checking-your-gradients* shows how
# to point it at your own gradient and what it says when that gradient is wrong.
#
# ## 4. Training the heart
#
# The worksheet trains by noisy steepest descent: every iteration computes all six Jacobians,
# multiplies each by its own random factor $1 + \text{noise} \cdot r$ with $r \sim
# \mathcal{N}(0, 1)$, and steps each parameter by $-\text{aggression}$ times its noisy
# Jacobian (aggression 7, noise 1). `autodiff.training.train` runs this loop with three engines that
# share one random stream, so one seed gives the same run on each, up to rounding:
#
# * `seed` — the worksheet's loop as written: six `J_*`, each re-running the forward pass;
# * `numpy` — the same hand-derived backprop fused into one forward and one backward pass;
# * `jax` — that pass compiled by JAX (`jit` + `lax.scan`), in float32 by default.
#
# The worksheet needs about 50,000 iterations; 20,000 already draw a recognisable heart.

# %%
ITERATIONS = 20_000
CHUNK = 500  # the engines hand back the network every CHUNK iterations: one pink curve each


def run(engine, iterations=ITERATIONS):
    """Train the 1-6-7-2 network from seed 0; return the result, its curves, the seconds
    taken and the number of iterations run."""
    curves = []
    start = time.perf_counter()
    result = train(engine, iterations=iterations, seed=0, chunk=CHUNK,
                   callback=lambda done, params, cost: curves.append(network_curve(params)))
    return result, curves, time.perf_counter() - start, iterations


seed_run = run("seed", iterations=1000)  # the worksheet's loop is slow: time 1,000 only
numpy_run = run("numpy")
jax_first = run("jax")  # includes compiling the loop
jax_run = run("jax")

runs = [("seed (worksheet loop)", seed_run), ("numpy", numpy_run),
        ("jax, first call", jax_first), ("jax", jax_run)]
# Per iteration: seconds over the iterations run. (Not over result.costs: the jax engine
# records the cost once per chunk of 500 iterations, the NumPy engines at every iteration.)
per_iteration = {label: 1e6 * seconds / iterations
                 for label, (_, _, seconds, iterations) in runs}
print(f"{'engine':<22}{'iterations':>11}{'seconds':>9}{'µs / iteration':>16}{'cost':>10}")
for label, (result, _, seconds, iterations) in runs:
    print(f"{label:<22}{iterations:>11}{seconds:>9.2f}{per_iteration[label]:>16.1f}"
          f"{result.final_cost:>10.5f}")
# Timings are not asserted (a busy machine reorders them); what each run did is: every run
# handed back a network every CHUNK iterations, and float32 jax ends where float64 NumPy does.
assert all(len(curves) == iterations // CHUNK for _, (_, curves, _, iterations) in runs)
assert abs(jax_run[0].final_cost - numpy_run[0].final_cost) < 0.01 * numpy_run[0].final_cost

# %% [markdown]
# The first JAX call pays for compilation; after that the compiled loop is usually the
# fastest. The final costs agree to two or three digits although `numpy` runs in float64 and
# `jax` in float32: the same random stream drives both. (Timings vary from machine to machine
# and run to run; `backprop bench` measures the engines side by side more carefully.)
#
# Now the worksheet's picture: the heart in green, the network's curve every 500 iterations in
# translucent pink, the final curve in orange.

# %%
pictures = Path(tempfile.mkdtemp())
for engine, (result, curves, seconds, _) in [("numpy", numpy_run), ("jax", jax_run)]:
    title = f"{engine}: {ITERATIONS} iterations, {seconds:.1f} s, cost {result.final_cost:.4f}"
    path = plot_training(y, curves, network_curve(result.params), str(pictures / f"{engine}.png"),
                         title)
    display(Image(filename=path))

# %% [markdown]
# ## 5. Forward mode and reverse mode
#
# `jax.grad` is reverse mode: one forward pass, then one backward pass that pushes the error
# from the single output $C$ back to all 77 parameters at once. Forward mode goes the other
# way: it pushes one *direction in parameter space* through the network per pass, so it
# needs one pass per parameter. For a full Jacobian $\partial \text{out} / \partial
# \text{in}$, reverse mode (`jax.jacrev`) costs a pass per output, forward mode
# (`jax.jacfwd`) a pass per input. Which is cheaper depends on the shape:
#
# * the **cost's gradient**: 1 output, 77 inputs, so reverse mode should win;
# * the **network's output Jacobian**: $2 \times 100 = 200$ outputs (two coordinates for each
#   of the 100 points), still 77 inputs, so forward mode should win.
#
# Both modes must give the same matrices; we check that, then time each (compiled, best of
# three).

# %%
def best_seconds(function, *args, **options):
    """Best of three timings of a compiled JAX call, in seconds per call."""
    jax.block_until_ready(function(*args, **options))  # compile outside the timing
    timings = timeit.repeat(lambda: jax.block_until_ready(function(*args, **options)),
                            number=20, repeat=3)
    return min(timings) / 20


with jax.enable_x64(True):
    output_jacobian = jax.jit(network.output_jacobian, static_argnames=("activation", "mode"))
    cost_jacobian = jax.jit(network.cost_jacobian, static_argnames=("activation", "mode"))
    for label, function, args in [("gradient of the cost", cost_jacobian, (params, x, y)),
                                  ("output Jacobian", output_jacobian, (params, x))]:
        forward_mode, reverse_mode = (function(*args, mode=mode) for mode in ("fwd", "rev"))
        difference = max(np.abs(f - r).max() for f, r in zip(
            jax.tree.leaves(forward_mode), jax.tree.leaves(reverse_mode), strict=True))
        fwd, rev = (best_seconds(function, *args, mode=mode) for mode in ("fwd", "rev"))
        print(f"{label}: jacfwd and jacrev differ by at most {difference:.1e}; "
              f"jacfwd {1e6 * fwd:.0f} µs, jacrev {1e6 * rev:.0f} µs "
              f"(jacfwd / jacrev = {fwd / rev:.2f})")

# %% [markdown]
# The shape of each result shows what was computed: the output Jacobian of $\mathbf{W}^{(2)}$
# has shape (2 outputs, 100 examples, 7, 6): the derivative of every output coordinate of
# every point with respect to every weight.
#
# Backpropagation is reverse mode written by hand, and it is the right mode for training:
# a network has one cost and many parameters. Forward mode wins when there are few inputs
# and many outputs.

# %%
with jax.enable_x64(True):
    full = network.output_jacobian(params, x, mode="fwd")
print([tuple(block.shape) for layer in full for block in layer])
