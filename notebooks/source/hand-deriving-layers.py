# Source of notebooks/hand-deriving-layers.ipynb: edit here, then run `python notebooks/build.py`.

# %% [markdown]
# # Hand-deriving layers
#
# The worksheet's network has one kind of layer. The layers where deriving a gradient by hand
# is hard — batch norm, softmax cross-entropy, convolutions, max-pooling, LSTMs, attention —
# are where mistakes hide. The project's layer library, `reference.layers`, holds twenty of
# them, each in two parts:
#
# * a **forward written once** against the Python array API (`xp = x.__array_namespace__()`):
#   NumPy runs it, and JAX differentiates the very same code, so `jax.vjp` of it is the truth;
# * a **backward derived by hand** in NumPy, one chain-rule step per line, named as in the maths.
#
# This notebook derives two of them by hand beside `jax.vjp`, plants a classic mistake and
# watches the check catch and name it, shows what a kink does to a finite-difference check, and
# checks a small convolutional network's gradients layer by layer.

# %%
import inspect

import jax
import numpy as np

import reference.layers as L
from autodiff.check.layers.check import check_library_layer, check_vjp_of
from autodiff.check.layers.stack import check_stack
from autodiff.check.mistakes import LAYER_MISTAKES
from autodiff.core.layers import vjp

np.set_printoptions(precision=5, suppress=True, linewidth=110)
print(len(L.LAYER_NAMES), "layers and losses:", ", ".join(L.LAYER_NAMES))

# %% [markdown]
# ## 1. Batch norm, by hand
#
# Batch norm takes columns $x \in \mathbb{R}^{D \times N}$ (one example per column, as
# everywhere in this project) and normalises each feature (row) over the batch:
#
# $$\mu = \tfrac{1}{N}\textstyle\sum_k x_k, \quad x_c = x - \mu, \quad
#   \sigma^2 = \tfrac{1}{N}\textstyle\sum_k x_{c,k}^2, \quad
#   \hat x = x_c\,(\sigma^2 + \varepsilon)^{-1/2}, \quad y = \gamma \hat x + \beta .$$
#
# Every example's output depends on the whole batch through $\mu$ and $\sigma^2$. Walking the
# graph backward from $\partial L/\partial \hat x = \gamma \odot \partial L / \partial y$, each
# node gets its share:
#
# $$\frac{\partial L}{\partial x_c} \mathrel{+}= \frac{\partial L}{\partial \hat x}
#   (\sigma^2+\varepsilon)^{-1/2}, \qquad
#   \frac{\partial L}{\partial \sigma^2} = -\tfrac12 (\sigma^2+\varepsilon)^{-3/2}
#   \textstyle\sum_k \frac{\partial L}{\partial \hat x_k} x_{c,k}, \qquad
#   \frac{\partial L}{\partial x_c} \mathrel{+}= \frac{\partial L}{\partial \sigma^2}
#   \frac{2 x_c}{N},$$
#
# $$\frac{\partial L}{\partial \mu} = -\textstyle\sum_k \frac{\partial L}{\partial x_{c,k}},
#   \qquad \frac{\partial L}{\partial x} = \frac{\partial L}{\partial x_c}
#   + \frac{1}{N}\frac{\partial L}{\partial \mu}.$$
#
# The library's backward is exactly these lines (layer norm shares them, along the other axis):

# %%
print(inspect.getsource(L.normalization.normalize_backward))

# %% [markdown]
# Beside it, `jax.vjp` of the forward — the same function NumPy just ran, traced by JAX:

# %%
rng = np.random.default_rng(0)
x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
gamma, beta = rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
hand = L.batchnorm_backward(dout, x, gamma, beta)
truth = vjp(L.batchnorm_forward, (x, gamma, beta), dout)
for name, h, t in zip(("dx", "dgamma", "dbeta"), hand, truth, strict=True):
    print(f"{name}, by hand:\n{h}\n{name}, by jax.vjp:\n{t}\n")

# %% [markdown]
# "Looks equal" is not a check. `check_library_layer` compares every element against a tolerance
# derived from the rounding of the computation itself (a running-error bound read off JAX's
# own computation), names the worst element, and says pass or fail:

# %%
print(check_library_layer("batchnorm").table())

# %% [markdown]
# ## 2. Softmax cross-entropy, by hand
#
# From logits $z \in \mathbb{R}^{C \times N}$ and integer labels $y_k$, the loss averages over
# the examples, and is computed through the log-sum-exp so that no exponential overflows:
#
# $$L = \frac1N \sum_k \Big[\log \textstyle\sum_c e^{z_{c,k}} - z_{y_k,k}\Big],
#   \qquad \log \textstyle\sum_c e^{z_c} = m + \log \textstyle\sum_c e^{z_c - m},
#   \quad m = \max_c z_c .$$
#
# The derivative of the log-sum-exp is the softmax $p$, and of $z_{y_k,k}$ the one-hot column:
#
# $$\frac{\partial L}{\partial z_{c,k}} = \frac{1}{N}\big(p_{c,k} - [c = y_k]\big).$$

# %%
print(inspect.getsource(L.softmax_cross_entropy_backward))
z = np.array([[2.0, -1.0, 1000.0], [0.5, 3.0, -1000.0]])  # a logit of 1000 does not overflow
labels = np.array([0, 1, 1])
print("loss:", L.softmax_cross_entropy_forward(z, labels))
print("dz by hand:\n", L.softmax_cross_entropy_backward(1.0, z, labels)[0])
print("dz by jax.vjp:\n", vjp(L.softmax_cross_entropy_forward, (z, labels), 1.0)[0])
print(check_library_layer("softmax_cross_entropy").table())

# %% [markdown]
# ## 3. A planted mistake, caught and named
#
# The classic batch-norm slip treats $\mu$ and $\sigma^2$ as constants: $\partial L/\partial x =
# \gamma\,\partial L/\partial y\,(\sigma^2+\varepsilon)^{-1/2}$, the first line of the
# derivation alone. `autodiff.check.mistakes` plants forty such slips, two or more per layer;
# here it is swapped in for the hand backward:

# %%
slip = LAYER_MISTAKES["batchnorm-no-mean-variance-paths"]
print(check_library_layer("batchnorm", backward=slip).table())

# %% [markdown]
# The check fails in `dx` only (`dgamma` and `dbeta` are right), shows the worst element, and
# the diagnosis names the slip: each failing gradient is compared with the known slips of its
# layer, and with a sign, a factor 2, $N$ or $1/N$ and a transpose. `check_vjp`, the project's
# checker for any backward pass, agrees on the same inputs — with an oracle of its own that it
# cross-checks against finite differences:

# %%
print(check_vjp_of("batchnorm", slip).summary())

# %% [markdown]
# Forgetting the $1/N$ of the cross-entropy is named as such:

# %%
print(check_library_layer("softmax_cross_entropy",
                  backward=LAYER_MISTAKES["softmax-cross-entropy-missing-1/N"]).summary())

# %% [markdown]
# ## 4. What a kink does to a finite-difference check
#
# A finite-difference check estimates a derivative from $f(x \pm h)$. Where $f$ has a kink
# within $h$ of $x$ — a ReLU near 0, a max-pool whose two largest inputs are within $h$ — the
# estimate mixes the two slopes and matches neither:

# %%
h = 1e-4
for x0 in (0.0, 0.3 * h, -0.3 * h, 2 * h):
    x_ = np.array([[x0]])
    central = (L.relu_forward(x_ + h) - L.relu_forward(x_ - h)) / (2 * h)
    by_hand = L.relu_backward(np.ones((1, 1)), x_)[0]
    print(f"x = {x0:+.1e}: central difference {central[0, 0]:.2f}, hand derivative "
          f"{by_hand[0, 0]:.0f}")

# %% [markdown]
# At $x = 0.3h$ the ReLU is differentiable with slope 1, yet the central difference says 0.65:
# a correct backward *fails* such a check, and a loose tolerance that let it pass would let
# real mistakes through too. Exactly at 0 any slope in $[0, 1]$ is a valid subgradient; the
# hand takes 0 and JAX's `where(x > 0, x, 0)` does too, so `jax.vjp` — which differentiates the
# code, not a stencil — has no such trouble. Kinks still meet a check in a network: after a
# ReLU, many max-pool windows hold only zeros, a tie at which the hand routes the gradient to
# the first input and JAX splits it. The stack check asks JAX for the one-sided derivatives
# there (just right and just left of each input), accepts a hand value between them, and says
# so: "at a kink".
#
# ## 5. A small convolutional network, layer by layer
#
# A stack is any sequence of library layers ending in a loss; its shapes are inferred from the
# input (a `flatten` goes where images meet a dense layer). `check_stack` compares the hand
# gradients of every parameter, and of the input, with `jax.grad` of the same stack, then feeds
# each layer's hand backward the *true* gradient arriving at its output and compares what it
# returns with `jax.vjp` of that layer alone:

# %%
net = L.Stack.parse("conv2d(filters=3),relu,maxpool,dense(units=3),softmax_cross_entropy",
                    input_shape=(4, 2, 6, 6))
print(check_stack(net, seed=1).table())

# %% [markdown]
# Now with max-pool's classic slip — the gradient of each window sent to all its inputs,
# instead of to the one that was the maximum. The parameter gradients below it go wrong, and
# feeding every layer the true upstream gradient finds where the hand backprop first goes
# wrong, walking down from the loss:

# %%
wrong = check_stack(net, seed=1, backwards={"maxpool": LAYER_MISTAKES["maxpool-whole-window"]})
print(wrong.summary())
print()
print("\n".join(wrong.layer_table()))

# %% [markdown]
# The same checks run from the command line:
#
# ```bash
# backprop check --list-layers
# backprop check --layer batchnorm
# backprop check --plant batchnorm-no-mean-variance-paths
# backprop check --stack "conv2d(filters=3),relu,maxpool,dense(units=3),softmax_cross_entropy"
# ```

# %%
print("JAX", jax.__version__, "on", jax.devices()[0].platform)
