# Source of notebooks/forward-and-reverse.ipynb: edit here, then run `python notebooks/build.py`.

# %% [markdown]
# # Forward and reverse mode
#
# Automatic differentiation has two modes. **Forward mode** pushes a tangent from the inputs
# to the outputs, alongside the forward pass; **reverse mode** pulls a cotangent from the
# outputs back to the inputs, after it. Backpropagation is reverse mode written by hand.
#
# The notebook *backpropagation* ends with one timing of each mode on the worksheet's network.
# Here we go further:
#
# 1. measure what each mode costs as the network grows, for a gradient and for a Jacobian;
# 2. write a forward-mode rule (a JVP) for the network by hand and check it against `jax.jvp`;
# 3. tie it to a hand backward pass by the dot-product test, with no oracle at all;
# 4. write a Hessian-vector product (forward mode applied to the gradient) by hand and check it;
# 5. plant a classic mistake in that product, watch the check catch and name it, and picture
#    where it goes wrong.
#
# Everything runs in float64, inside a scoped `jax.enable_x64(True)`.

# %%
import statistics
import tempfile
import time
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import reference
from autodiff import check_jvp, check_pair
from autodiff.check.hvp.network import check_network_hvp
from autodiff.check.hvp.slips import HVP_SLIPS
from autodiff.core import network
from reference import worksheet

np.set_printoptions(precision=6, suppress=True, linewidth=110)

# %% [markdown]
# ## 1. What each mode costs
#
# Take a function $f: \mathbb{R}^n \to \mathbb{R}^m$ with Jacobian $J$ ($m \times n$).
#
# * A **JVP** (Jacobian-vector product) takes a tangent $\mathbf{t} \in \mathbb{R}^n$ and
#   returns $J\mathbf{t}$, one *column* of $J$ when $\mathbf{t}$ is a unit vector. It runs
#   beside the forward pass, at about the cost of one more, and keeps nothing.
# * A **VJP** (vector-Jacobian product) takes a cotangent $\mathbf{c} \in \mathbb{R}^m$ and
#   returns $\mathbf{c}^\top J$, one *row* of $J$. It needs the forward pass first, keeping
#   what the backward needs, then one backward pass: a few forward passes in all.
#
# The full Jacobian takes $n$ JVPs (`jax.jacfwd`) or $m$ VJPs (`jax.jacrev`). For the cost of
# a network, $m = 1$ and $n = P$, the number of parameters: the gradient is **one** VJP but
# **$P$** JVPs. The worksheet's 1-6-7-2 network has $P = 77$:

# %%
x, y = reference.training_data()
worksheet.reset_network(random=np.random.RandomState(0))
params = worksheet.get_params()
P = sum(W.size + b.size for W, b in params)
print(f"P = {P} parameters; {x.shape[1]} examples")

# %% [markdown]
# One JVP along a random direction $\mathbf{t}$ in parameter space gives one number, the
# directional derivative $\nabla C \cdot \mathbf{t}$. One VJP with $c = 1$ gives all 77
# numbers of $\nabla C$, and from them that same directional derivative:

# %%
rng = np.random.default_rng(1)
direction = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
with jax.enable_x64(True):
    def cost_of(p):
        return network.cost(p, x, y)

    _, directional = jax.jvp(cost_of, (params,), (direction,))  # forward mode: J t
    _, pullback = jax.vjp(cost_of, params)
    (gradient,) = pullback(1.0)  # reverse mode: 1 J, the whole row
    from_gradient = sum(float(np.sum(g * d)) for g, d in zip(
        jax.tree.leaves(gradient), jax.tree.leaves(direction), strict=True))
print(f"one JVP:            J t       = {float(directional):.15f}")
print(f"one VJP, then a dot: (1 J) . t = {from_gradient:.15f}")

# %% [markdown]
# ### The gradient as the network widens
#
# Now a 1-$w$-$w$-2 network on the same 100 points, for widths $w$ from 4 to 64, so that $P =
# w^2 + 5w + 2$ grows from 38 to 4,418. We time, per call, one forward pass (the cost), the
# gradient by `jax.grad` (one VJP) and the same gradient by `jax.jacfwd` ($P$ JVPs, which JAX
# runs together as one batched pass). Each function is compiled and run once before timing
# (so compilation is not counted), then timed several times with `block_until_ready`; we keep
# the median.


# %%
def median_seconds(function, *args, repeats=3):
    """Median wall time of one call of a compiled function, after a warm-up call."""
    jax.block_until_ready(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(function(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# %%
WIDTHS = (4, 16, 64)
gradient_times = {}
with jax.enable_x64(True):
    forward_cost = jax.jit(network.cost)
    by_reverse, by_forward = jax.jit(jax.grad(network.cost)), jax.jit(jax.jacfwd(network.cost))
    for w in WIDTHS:
        wide = reference.init_params([1, w, w, 2], rng=0)
        reverse, forward = by_reverse(wide, x, y), by_forward(wide, x, y)
        gap = max(float(np.max(np.abs(r - f))) for r, f in zip(
            jax.tree.leaves(reverse), jax.tree.leaves(forward), strict=True))
        assert gap < 1e-12, gap  # the same gradient, whichever mode computed it
        gradient_times[w] = (sum(W.size + b.size for W, b in wide),
                             *(median_seconds(f, wide, x, y)
                               for f in (forward_cost, by_reverse, by_forward)))

print(f"{'w':>4}{'P':>7}{'forward µs':>12}{'grad µs':>10}{'jacfwd µs':>12}"
      f"{'grad/forward':>14}{'jacfwd/grad':>13}")
for w, (count, once, rev, fwd) in gradient_times.items():
    print(f"{w:>4}{count:>7}{1e6 * once:>12.0f}{1e6 * rev:>10.0f}{1e6 * fwd:>12.0f}"
          f"{rev / once:>14.1f}{fwd / rev:>13.1f}")

# %% [markdown]
# The gradient by reverse mode stays within a small factor of one forward pass at every width.
# Forward mode costs $P$ times one pass, and both grow as $w^2$: about $w^4$ in all, once the
# fixed overhead of a call no longer dominates (at these sizes a single pass is mostly
# overhead, so the ratios are rough). Reverse mode is the mode for training: one cost, many
# parameters.
#
# ### A Jacobian with a wide input
#
# Forward mode wins when there are few inputs and many outputs. Take one example at a time
# through an $n$-64-64-16 network: its output has $m = 16$ elements and its input $n$. The
# Jacobian of the output with respect to the input is $16 \times n$: $n$ JVPs or 16 VJPs. We
# compute it for each of 100 examples (`jax.vmap`) by both modes, as $n$ grows past $m$.

# %%
M, INPUT_WIDTHS = 16, (2, 4, 16, 64, 256)
jacobian_times = {}
with jax.enable_x64(True):
    for n in INPUT_WIDTHS:
        net = reference.init_params([n, 64, 64, M], rng=0)
        inputs = np.random.default_rng(2).standard_normal((n, 100))

        def one_example(column, net=net):
            """The network's output for one input column: R^n -> R^16."""
            return network.forward(net, column[:, None])[:, 0]

        fwd, rev = (jax.jit(jax.vmap(mode(one_example), in_axes=1))
                    for mode in (jax.jacfwd, jax.jacrev))
        assert np.max(np.abs(fwd(inputs) - rev(inputs))) < 1e-12  # one Jacobian, two orders
        jacobian_times[n] = (median_seconds(fwd, inputs), median_seconds(rev, inputs))

print(f"{'n':>5}{'jacfwd µs':>11}{'jacrev µs':>11}{'jacfwd/jacrev':>15}")
for n, (fwd, rev) in jacobian_times.items():
    print(f"{n:>5}{1e6 * fwd:>11.0f}{1e6 * rev:>11.0f}{fwd / rev:>15.2f}")

# %% [markdown]
# Both measurements in one picture, on log axes:

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
widths = list(gradient_times)
for column, label in ((1, "forward pass"), (2, "jax.grad: 1 VJP"), (3, "jax.jacfwd: P JVPs")):
    left.plot(widths, [1e6 * gradient_times[w][column] for w in widths], "o-", label=label)
left.set(xlabel="hidden width w (network 1-w-w-2)", ylabel="µs per call",
         title="gradient of the cost")
for column, label in ((0, "jax.jacfwd: n JVPs"), (1, "jax.jacrev: m VJPs")):
    right.plot(INPUT_WIDTHS, [1e6 * jacobian_times[n][column] for n in INPUT_WIDTHS], "o-",
               label=label)
right.axvline(M, color="grey", linestyle="--", label=f"n = m = {M}")
right.set(xlabel="input width n (network n-64-64-16)", ylabel="µs per call (100 examples)",
          title="Jacobian of the output")
for axes, ticks in ((left, widths), (right, INPUT_WIDTHS)):
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(ticks, [str(tick) for tick in ticks])
    axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# On the right, forward mode is the cheaper one while $n$ is below $m = 16$ and reverse mode
# above it; near $n = m$ they cost about the same. (Timings depend on the machine and on what
# else runs on it; the orders of growth are what to read.)
#
# ## 2. A JVP by hand
#
# Forward mode by hand is the chain rule applied in the forward direction. Give every
# parameter and the input a tangent, written with a dot: $\dot{\mathbf{W}}, \dot{\mathbf{b}},
# \dot{\mathbf{x}}$. Each line of the forward pass gets its tangent line, by the product rule:
#
# $$\mathbf{z} = \mathbf{W}\mathbf{a} + \mathbf{b} \quad\Rightarrow\quad
#   \dot{\mathbf{z}} = \dot{\mathbf{W}}\mathbf{a} + \mathbf{W}\dot{\mathbf{a}}
#   + \dot{\mathbf{b}},$$
#
# $$\mathbf{a}' = \sigma(\mathbf{z}) \quad\Rightarrow\quad
#   \dot{\mathbf{a}}' = \sigma'(\mathbf{z}) \odot \dot{\mathbf{z}},$$
#
# starting from $\mathbf{a}^{(0)} = \mathbf{x}$, $\dot{\mathbf{a}}^{(0)} = \dot{\mathbf{x}}$.
# The tangent of the output, $\dot{\mathbf{a}}^{(3)}$, is $J\mathbf{t}$ for the tangent
# $\mathbf{t} = (\dot{\mathbf{W}}^{(1)}, \dot{\mathbf{b}}^{(1)}, …, \dot{\mathbf{x}})$. We write
# it as a `jax.custom_jvp` rule, `rule(primals, tangents) -> (out, tangent_out)`, in NumPy
# with the worksheet's own `sigma` and `d_sigma`. The forward it belongs to is JAX's network.


# %%
def network_output(W1, b1, W2, b2, W3, b3, x):
    """The 1-6-7-2 network's output a3, (2, N), by autodiff.core.network (JAX)."""
    return network.forward([(W1, b1), (W2, b2), (W3, b3)], x)


def network_jvp(primals, tangents):
    """(a3, its tangent): the forward pass and its tangent line, layer by layer."""
    *blocks, a = primals
    *moves, a_dot = tangents
    for W, b, W_dot, b_dot in zip(blocks[::2], blocks[1::2], moves[::2], moves[1::2],
                                  strict=True):
        z = W @ a + b
        z_dot = W_dot @ a + W @ a_dot + b_dot
        a, a_dot = reference.sigma(z), reference.d_sigma(z) * z_dot
    return a, a_dot


# %% [markdown]
# Its numbers beside `jax.jvp`'s, for a random tangent of every argument (the first four
# examples' two output coordinates):

# %%
arguments = (*(block for layer in params for block in layer), x)
tangents = tuple(rng.standard_normal(np.shape(a)) for a in arguments)
_, by_hand = network_jvp(arguments, tangents)
with jax.enable_x64(True):
    by_jax = np.asarray(jax.jvp(network_output, arguments, tangents)[1])
print("by hand:\n", by_hand[:, :4])
print("by jax.jvp:\n", by_jax[:, :4])
print(f"largest difference over all 200 elements: {np.max(np.abs(by_hand - by_jax)):.1e}")

# %% [markdown]
# `check_jvp` checks the rule properly: both its outputs, element by element, against the
# forward and against `jax.jvp` (itself cross-checked against finite differences along the
# tangent), each within a tolerance derived from the rounding of this very computation.

# %%
with jax.enable_x64(True):
    jvp_result = check_jvp(network_output, network_jvp, *arguments)
print(jvp_result.table())
assert jvp_result.passed

# %% [markdown]
# ## 3. The dot-product test
#
# A JVP gives $J\mathbf{t}$ and a VJP gives $J^\top\mathbf{c}$. Whatever $J$ is,
#
# $$\langle J\mathbf{t}, \mathbf{c} \rangle = \mathbf{c}^\top J \mathbf{t}
#   = \langle \mathbf{t}, J^\top \mathbf{c} \rangle,$$
#
# so a forward rule and a backward pass of the same function must give the same number for
# any $\mathbf{t}$ and $\mathbf{c}$. This needs no oracle: two hand-written rules check each
# other. Here is the backward pass of the same network, `backward(dout, *args) -> grads` (the
# contract of `check_vjp`), one chain-rule step per line:


# %%
def network_backward(dout, W1, b1, W2, b2, W3, b3, x):
    """(dW1, db1, dW2, db2, dW3, db3, dx) for the cotangent dout of a3, (2, N)."""
    layers = [(W1, b1), (W2, b2), (W3, b3)]
    zs, activations = reference.forward_trace(layers, x)
    delta = dout * reference.d_sigma(zs[-1])  # dout . da3/dz3
    grads = []
    for index in reversed(range(len(layers))):
        grads[:0] = [delta @ activations[index].T, delta.sum(axis=1, keepdims=True)]
        back = layers[index][0].T @ delta  # the cotangent of a(index)
        if index > 0:
            delta = back * reference.d_sigma(zs[index - 1])
    return (*grads, back)


# %% [markdown]
# The test itself, in two lines, for the tangent above and a random cotangent $\mathbf{c}$:

# %%
c = rng.standard_normal((2, x.shape[1]))
forward_side = np.sum(network_jvp(arguments, tangents)[1] * c)
backward_side = sum(np.sum(t * g) for t, g in zip(tangents, network_backward(c, *arguments),
                                                  strict=True))
print(f"<J t, c>   = {forward_side:.15f}\n<t, J^T c> = {backward_side:.15f}")

# %% [markdown]
# `check_pair` runs the same test with a tolerance derived from the rounding of both sides
# (and, were it to fail, would check each rule on its own to say which one is wrong):

# %%
with jax.enable_x64(True):
    pair_result = check_pair(network_output, network_jvp, network_backward, *arguments)
print(pair_result.table())
assert pair_result.passed

# %% [markdown]
# ## 4. A Hessian-vector product by hand
#
# The Hessian $H$ of the cost has $P^2$ entries; what optimisers and curvature estimates need
# is $H\mathbf{v}$ for a direction $\mathbf{v}$ in parameter space. That is a JVP of the
# gradient: $H\mathbf{v} = \frac{d}{d\varepsilon} \nabla C(\theta + \varepsilon\mathbf{v})$
# at $\varepsilon = 0$. JAX computes it forward-over-reverse, `jax.jvp(jax.grad(cost), …)`.
#
# By hand it is Pearlmutter's **R-operator**: $R\{\cdot\} = \frac{d}{d\varepsilon}(\cdot)$
# along $\mathbf{v} = (\mathbf{V}^{(1)}, \mathbf{c}^{(1)}, …)$, applied to every line of the
# forward *and* the backward pass. The forward lines give the tangents of section 2 (with
# $R\{\mathbf{a}^{(0)}\} = 0$); the backward lines, differentiated by the product rule, give
#
# $$R\{\boldsymbol{\delta}^{(n-1)}\} = \big(\mathbf{V}^{(n)\top}\boldsymbol{\delta}^{(n)}
#   + \mathbf{W}^{(n)\top} R\{\boldsymbol{\delta}^{(n)}\}\big) \odot \sigma'(\mathbf{z}^{(n-1)})
#   + \big(\mathbf{W}^{(n)\top}\boldsymbol{\delta}^{(n)}\big) \odot \sigma''(\mathbf{z}^{(n-1)})
#   \odot R\{\mathbf{z}^{(n-1)}\},$$
#
# $$R\{\partial C/\partial \mathbf{W}^{(n)}\} = R\{\boldsymbol{\delta}^{(n)}\}\,
#   \mathbf{a}^{(n-1)\top} + \boldsymbol{\delta}^{(n)}\, R\{\mathbf{a}^{(n-1)}\}^\top .$$
#
# The $\sigma''$ terms are the **curvature of the units**. The terms
# $\mathbf{V}^{(n)\top}\boldsymbol{\delta}^{(n)}$ and
# $\boldsymbol{\delta}^{(n)} R\{\mathbf{a}^{(n-1)}\}^\top$ are the **cross terms**: a weight's
# gradient moves with the weights and activations around it. All of them carry the residual
# $\mathbf{a}^{(3)} - \mathbf{y}$ (through $\boldsymbol{\delta}$); without them what is left is
# the Gauss-Newton product $\frac{2}{N} J^\top J\mathbf{v}$. `reference.hvp` is these
# equations in NumPy (its docstring has all of them); beside JAX:

# %%
v = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
hand_hv = reference.hvp(params, x, y, v)
with jax.enable_x64(True):
    jax_hv = [np.asarray(block) for block in jax.tree.leaves(
        jax.jvp(jax.grad(cost_of), (params,), (v,))[1])]
print("H v, block W3, by the R-operator:\n", hand_hv[2][0])
print("H v, block W3, by jax.jvp(jax.grad(cost)):\n", jax_hv[4])
for name, hand_block, jax_block in zip(["W1", "b1", "W2", "b2", "W3", "b3"],
                                       jax.tree.leaves(hand_hv), jax_hv, strict=True):
    print(f"{name}: largest difference {np.max(np.abs(hand_block - jax_block)):.1e}")

# %% [markdown]
# `check_network_hvp` checks it block by block against forward-over-reverse JAX (itself
# cross-checked against finite differences of the gradient), and checks the symmetry of $H$
# on its own: $\langle \mathbf{u}, H\mathbf{w} \rangle = \langle \mathbf{w}, H\mathbf{u}
# \rangle$ for random $\mathbf{u}, \mathbf{w}$.

# %%
hvp_result = check_network_hvp(params, x, y)
print(hvp_result.table())
assert hvp_result.passed

# %% [markdown]
# ## 5. A planted mistake, caught and pictured
#
# A term easily lost is $\sigma''$: a student who differentiates
# $\boldsymbol{\delta} = (\dots) \odot \sigma'(\mathbf{z})$ may treat $\sigma'(\mathbf{z})$ as
# a constant. `autodiff.check.hvp.slips` plants four such slips in an otherwise right
# R-operator; here is that one, checked in place of `reference.hvp`:

# %%
slip = HVP_SLIPS["dropped-sigma-second"]
slip_result = check_network_hvp(params, x, y, hvp=slip.hvp)
print(slip_result.table())
assert not slip_result.passed

# %% [markdown]
# Every block fails, by far more than its tolerance, and the diagnosis names the slip: the
# check recomputes each known slip on the same point and reports the one whose product
# matches. The product is still symmetric: the $\sigma''$ terms it drops make up a symmetric
# matrix of their own, so the symmetry check alone would miss this slip; the comparison with
# JAX does not.
#
# A picture of where it goes wrong: `plot` draws each block's error over its tolerance,
# element by element, on a log colour scale (blue inside the tolerance, red outside), and boxes
# the worst element of each block; it returns those elements, the table's *worst* column.

# %%
picture = Path(tempfile.mkdtemp()) / "dropped-sigma-second.png"
marked = slip_result.plot(picture)
print("worst element per block:", dict(zip(["W1", "b1", "W2", "b2", "W3", "b3"], marked,
                                           strict=True)))
display(Image(filename=picture))

# %% [markdown]
# Every element of every block is far outside its tolerance: $\sigma''$ enters
# $R\{\boldsymbol{\delta}^{(3)}\}$, and every block's product is built from it. A slip that
# touches only some blocks shows where it is. Without the cross term
# $\boldsymbol{\delta}^{(n)} R\{\mathbf{a}^{(n-1)}\}^\top$, only the weights of layers 2 and 3
# are wrong ($R\{\mathbf{a}^{(0)}\} = 0$ in layer 1), and $H$ is no longer symmetric:

# %%
cross_result = check_network_hvp(params, x, y, hvp=HVP_SLIPS["missing-cross-term"].hvp)
print(cross_result.summary())
for _, text in cross_result.diagnosis:  # what the whole product's failure is recognised as
    print("diagnosis:", text)
cross_picture = picture.with_name("missing-cross-term.png")
cross_result.plot(cross_picture)
display(Image(filename=cross_picture))
assert not cross_result.passed

# %% [markdown]
# ## 6. When to use which mode
#
# * **Reverse mode** (a VJP, `jax.grad`, `jax.jacrev`, backpropagation) costs a few forward
#   passes per *output*: use it when there are few outputs and many inputs, above all for the
#   gradient of a scalar cost.
# * **Forward mode** (a JVP, `jax.jvp`, `jax.jacfwd`) costs about one forward pass per
#   *input* direction, and keeps nothing for a backward pass: use it when there are few
#   inputs and many outputs, or when only a directional derivative is wanted.
# * **Both together**: a Hessian-vector product is forward mode applied to the gradient
#   (forward-over-reverse), at the cost of a few gradients and never the Hessian itself.
# * A hand-written rule is checked against JAX (`check_jvp`, `check_vjp`, `check_hvp`); a
#   forward rule and a backward rule of the same function also check each other by the
#   dot-product test (`check_pair`).
