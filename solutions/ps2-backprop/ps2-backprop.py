# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
#
# # Guide for instructors (this cell is not released).
# # The rule: a mistake is charged at the question where it is made, and only there. A later
# # question judges with the student's own earlier functions, or its text says plainly that it
# # does not. Every realistic mistake in mistakes.yaml declares each question it loses points
# # in; a loss in a later question is right only where that question's text says so.
# name: ps2-backprop
# export_cell: false
# check_all_cell: false
# strip_solutions_from_all_cells: true
# run_tests: true
# generate: true
# tests:
#   files: false
#   ok_format: false

# %% [markdown]
# # Problem set 2: backpropagation and a neural network from scratch
#
# In this problem set you build a small neural network with nothing but NumPy. You will keep
# track of the shapes of the matrices involved, differentiate a one-hidden-layer network by
# hand, meet the softmax output and the cross-entropy loss, write backpropagation for a whole
# batch at once, check it against finite differences, and wrap everything in a
# `NeuralNetwork` class that learns to read handwritten digits. A small grid search over the
# learning rate and the regularisation strength, and the XOR problem that defeated the single
# perceptron of problem set 1, close the set.
#
# **How to work.** Fill in every `...`. After each question, run the cell with
# `grader.check("qN")`: it runs a few *public* checks (shapes, types, simple values). Passing
# them does not mean full marks: after the deadline, *hidden* tests call your functions on
# inputs you have not seen (other sizes of network, other weights, other data). Write general
# code, not code that only works on the examples here. Keep the names of the functions,
# classes and variables we ask for. Work in float64 (NumPy's default) for the gradient
# questions 2–5: gradient checking needs that precision.
#
# | question | topic | points |
# |---|---|---|
# | 1a | shapes in $Z = XW + b$, counting parameters | 4 |
# | 1b | reading $Z = XW + b$ (multiple choice) | 2 |
# | 2a | one hidden layer, squared loss: output-weight gradient | 2 |
# | 2b | one hidden layer, squared loss: hidden-weight gradient | 2 |
# | 3a | softmax and its Jacobian | 3 |
# | 3b | categorical cross-entropy | 1 |
# | 3c | the gradient with respect to the logits | 1 |
# | 3d | why that gradient is $p - y$ (graded by hand) | 2 |
# | 4 | vectorised feed-forward and backpropagation with L2 | 4 |
# | 5 | gradient checking | 4 |
# | 6a | one-hot labels and a train/test split | 3 |
# | 6b | the `NeuralNetwork` class on the 8×8 digits | 3 |
# | 7 | grid search over $\eta$ and $\lambda$ | 3 |
# | 8a | XOR with two hidden units | 2 |
# | 8b | XOR and the single perceptron (graded by hand) | 2 |
# | **total** | | **38** |
#
# **Multiple-choice questions** are "select all that apply". Give your answer as a set of
# letters, e.g. `{"a", "c"}`. You earn one point for every correct option you select and lose
# one for every incorrect option you select; a question never goes below zero.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nnkit.datasets import load_digits_8x8, logic_gate


def sigmoid(z):
    """The logistic function, element by element (given)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


# %% [markdown]
# ## 1. Shapes and counting
#
# We store a batch of $N$ samples as the **rows** of a matrix $X$, with one column per
# feature. A fully connected layer with weights $W$ and biases $b$ computes, for the whole
# batch at once,
#
# $$Z = XW + b,$$
#
# where $b$ is added to every row (NumPy's broadcasting does exactly that).

# %% [raw]
# # BEGIN QUESTION
# name: q1a
# points: 4

# %% [markdown]
# **1a.** A batch of $N = 32$ images of $8 \times 8$ pixels enters a hidden layer of 50 units.
#
# - Give the shapes `shape_X`, `shape_W`, `shape_b` and `shape_Z` as tuples of integers
#   (e.g. `(3, 4)`; a vector of length 7 has shape `(7,)`).
# - Store in `n_params_64_50_10` the number of trainable parameters (weights **and** biases)
#   of the network 64 → 50 → 10.
# - Write `count_parameters(layer_sizes)` that returns that number for any list of layer
#   sizes, input first, e.g. `count_parameters([64, 50, 10])`.

# %%
shape_X = (32, 64)  # SOLUTION
shape_W = (64, 50)  # SOLUTION
shape_b = (50,)  # SOLUTION
shape_Z = (32, 50)  # SOLUTION
n_params_64_50_10 = (64 + 1) * 50 + (50 + 1) * 10  # SOLUTION


def count_parameters(layer_sizes):
    # BEGIN SOLUTION
    sizes = list(layer_sizes)
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    # END SOLUTION


n_params_64_50_10

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1a_public(shape_X, shape_W, shape_b, shape_Z, n_params_64_50_10, count_parameters):
    for name, value in (("shape_X", shape_X), ("shape_W", shape_W), ("shape_b", shape_b),
                        ("shape_Z", shape_Z)):
        assert isinstance(value, (tuple, list)), f"{name} should be a tuple such as (3, 4)"
    assert int(n_params_64_50_10) > 0, "n_params_64_50_10 should be a positive number"
    assert int(count_parameters([2, 1])) == 3, "a neuron with 2 inputs has 2 weights and a bias"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_input_and_weights(shape_X, shape_W):
    from autograder.checks import as_float_array

    X = as_float_array(list(shape_X), "shape_X", shape=(2,))
    W = as_float_array(list(shape_W), "shape_W", shape=(2,))
    assert list(X) == [32, 64], "shape_X is not right: one row per image, one column per pixel"
    assert list(W) == [64, 50], "shape_W is not right: what multiplies X, and what comes out?"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_bias_and_output(shape_b, shape_Z):
    from autograder.checks import as_float_array

    b = as_float_array(list(shape_b), "shape_b")
    Z = as_float_array(list(shape_Z), "shape_Z", shape=(2,))
    assert list(b) == [50], "shape_b is not right: one bias per hidden unit, as a vector"
    assert list(Z) == [32, 50], "shape_Z is not right"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_lecture_count(n_params_64_50_10):
    from autograder.checks import as_float
    from reference_impl.backprop import n_parameters

    got = as_float(n_params_64_50_10, "n_params_64_50_10")
    assert got == n_parameters([64, 50, 10]), "n_params_64_50_10 is not right (biases count)"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_count_parameters(count_parameters):
    import numpy as np

    from autograder.checks import as_float
    from reference_impl.backprop import n_parameters

    rng = np.random.default_rng(111)
    for depth in (2, 3, 4, 5):
        sizes = [int(s) for s in rng.integers(1, 300, size=depth)]
        got = as_float(count_parameters(sizes), f"count_parameters for {depth} layer sizes")
        assert got == n_parameters(sizes), f"count_parameters is wrong for {depth} layer sizes"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1b
# points: 2

# %% [markdown]
# **1b.** Which statements about $Z = XW + b$ (rows are samples) are true? Select all that
# apply.
#
# - **a.** The same bias vector $b$ is added to every row of $XW$.
# - **b.** $W$ has one column per unit of the layer it feeds.
# - **c.** Doubling the batch size $N$ doubles the number of parameters of the layer.
# - **d.** Row $i$ of $Z$ depends on every row of $X$.

# %%
q1b_answer = {"a", "b"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1b_public(q1b_answer):
    assert isinstance(q1b_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q1b_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_credit_1(q1b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q1b_answer, "q1b", options="abcd", correct="ab", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_credit_2(q1b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q1b_answer, "q1b", options="abcd", correct="ab", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. The lectures' one-hidden-layer network
#
# One observation $x = (x_1, \dots, x_d)$ with label $y \in \{0, 1\}$ goes through $H$
# sigmoid hidden units and one sigmoid output unit:
#
# $$h_j = \sigma\Big(\sum_i x_i W_{h,ij} + b_{h,j}\Big), \qquad
# p = \sigma\Big(\sum_j h_j\, w_{o,j} + b_o\Big).$$
#
# The loss is the **squared loss** $l = (y - p)^2$ (not the cross-entropy), so
# $\partial l / \partial p = 2(p - y)$. In code: `x` has shape `(d,)`, `W_h` `(d, H)`,
# `b_h` `(H,)`, `w_o` `(H,)`, and `b_o` is a number.
#
# Apply the chain rule one factor at a time and keep every factor: the lecture slides lose
# two of them on the way, so derive the formulas yourself rather than copying them.

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# points: 2

# %% [markdown]
# **2a.** Write `grad_output_weights(x, y, W_h, b_h, w_o, b_o)` returning
# $\partial l / \partial w_{o,j}$ for every hidden unit $j$ (shape `(H,)`).

# %%
def small_forward(x, W_h, b_h, w_o, b_o):
    """h (one value per hidden unit) and p for one observation (given)."""
    h = sigmoid(np.asarray(x, dtype=float) @ np.asarray(W_h, dtype=float) + b_h)
    p = sigmoid(h @ np.asarray(w_o, dtype=float) + b_o)
    return h, p


def grad_output_weights(x, y, W_h, b_h, w_o, b_o):
    # BEGIN SOLUTION
    h, p = small_forward(x, W_h, b_h, w_o, b_o)
    return 2 * (p - y) * p * (1 - p) * h
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2a_public(grad_output_weights):
    import numpy as np

    W_h, b_h, w_o = np.ones((2, 3)), np.zeros(3), np.ones(3)
    g = grad_output_weights(np.array([0.5, -1.0]), 1, W_h, b_h, w_o, 0.0)
    assert np.shape(g) == (3,), "one derivative per hidden unit: shape (H,)"
    assert np.all(np.asarray(g) < 0), "p < y = 1 here, so increasing w_o lowers the loss"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_lecture_size(grad_output_weights):
    from ps2_backprop_checks import check_squared_loss_gradient

    check_squared_loss_gradient(grad_output_weights, "dw_o", seed=211)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_random_sizes(grad_output_weights):
    from ps2_backprop_checks import check_squared_loss_gradient

    check_squared_loss_gradient(grad_output_weights, "dw_o", seed=212, cases=6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 2

# %% [markdown]
# **2b.** Write `grad_hidden_weights(x, y, W_h, b_h, w_o, b_o)` returning
# $\partial l / \partial W_{h,ij}$ for every input $i$ and hidden unit $j$ (shape `(d, H)`).
# Hint: how does $p$ change when $h_j$ changes?

# %%
def grad_hidden_weights(x, y, W_h, b_h, w_o, b_o):
    # BEGIN SOLUTION
    h, p = small_forward(x, W_h, b_h, w_o, b_o)
    return np.outer(x, 2 * (p - y) * p * (1 - p) * np.asarray(w_o) * h * (1 - h))
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2b_public(grad_hidden_weights):
    import numpy as np

    W_h, b_h, w_o = np.ones((2, 3)), np.zeros(3), np.ones(3)
    g = grad_hidden_weights(np.array([0.5, 0.0]), 1, W_h, b_h, w_o, 0.0)
    assert np.shape(g) == (2, 3), "one derivative per weight: shape (d, H)"
    assert np.all(np.asarray(g)[1] == 0), "an input of 0 gives its weights no gradient"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2b_lecture_size(grad_hidden_weights):
    from ps2_backprop_checks import check_squared_loss_gradient

    check_squared_loss_gradient(grad_hidden_weights, "dW_h", seed=221)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2b_random_sizes(grad_hidden_weights):
    from ps2_backprop_checks import check_squared_loss_gradient

    check_squared_loss_gradient(grad_hidden_weights, "dW_h", seed=222, cases=6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. Softmax and cross-entropy
#
# For $K$ classes the output layer produces $K$ scores $z_1, \dots, z_K$ (the *logits*) and
# turns them into probabilities with the softmax
#
# $$p_k = \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_{c=1}^{K} e^{z_c}}.$$
#
# With a one-hot label $y$ the categorical cross-entropy of one sample is
# $L = -\sum_k y_k \log p_k$; over a batch of $N$ samples we take the **mean**,
# $\frac1N \sum_i L_i$.

# %% [raw]
# # BEGIN QUESTION
# name: q3a
# points: 3

# %% [markdown]
# **3a.**
#
# - Write `softmax(Z)` for a vector of logits (shape `(K,)`) or a batch with one sample per
#   row (shape `(N, K)`, softmax of each row). It must work for large logits too, such as
#   `[1000, 1001]`: $e^{1000}$ overflows, but softmax does not change when the same number is
#   subtracted from every logit of a sample.
# - Write `softmax_jacobian(z)` for one vector of logits: the $K \times K$ matrix
#   $J_{kc} = \partial p_k / \partial z_c$.

# %%
def softmax(Z):
    # BEGIN SOLUTION
    Z = np.asarray(Z, dtype=float)
    e = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


def softmax_jacobian(z):
    # BEGIN SOLUTION
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3a_public(softmax, softmax_jacobian):
    import numpy as np

    p = np.asarray(softmax(np.array([[0.0, 0.0], [1.0, 1.0]])))
    assert p.shape == (2, 2), "softmax of an (N, K) batch has shape (N, K)"
    assert np.allclose(p, 0.5), "equal logits give equal probabilities"
    assert np.shape(softmax_jacobian(np.zeros(3))) == (3, 3), "the Jacobian is K x K"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_softmax(softmax):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax as ref

    rng = np.random.default_rng(311)
    Z = rng.normal(scale=3, size=(7, 5))
    assert_close(softmax(Z), ref(Z), "softmax of a batch of 7 rows and 5 classes")
    assert_close(softmax(Z[0]), ref(Z[0]), "softmax of one vector of 5 logits")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_softmax_large_logits(softmax):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax as ref

    Z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0], [710.0, 0.0, -710.0]])
    with np.errstate(all="ignore"):
        got = softmax(Z)
    assert_close(got, ref(Z), "softmax of large logits")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_softmax_jacobian(softmax_jacobian):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax_jacobian as ref

    rng = np.random.default_rng(313)
    for k in (2, 4, 6):
        z = rng.normal(size=k)
        assert_close(softmax_jacobian(z), ref(z), f"softmax_jacobian for {k} classes")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b
# points: 1

# %% [markdown]
# **3b.** Write `cross_entropy(Y, P)`: the mean over the rows of $-\sum_k Y_{ik} \log P_{ik}$,
# for one-hot labels `Y` and probabilities `P`, both of shape `(N, K)`.

# %%
def cross_entropy(Y, P):
    # BEGIN SOLUTION
    Y, P = np.asarray(Y, dtype=float), np.asarray(P, dtype=float)
    return float(-np.sum(Y * np.log(P)) / len(Y))
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3b_public(cross_entropy):
    import numpy as np

    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert abs(float(cross_entropy(Y, Y * 0.98 + 0.01))) < 0.05, "confident and right: small"
    assert np.ndim(cross_entropy(Y, np.full((2, 2), 0.5))) == 0, "the loss is one number"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_cross_entropy(cross_entropy):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax
    from reference_impl.losses import categorical_cross_entropy

    rng = np.random.default_rng(321)
    for n, k in ((6, 3), (9, 10)):
        Y, P = np.eye(k)[rng.integers(0, k, n)], softmax(rng.normal(size=(n, k)))
        assert_close(cross_entropy(Y, P), categorical_cross_entropy(Y, P),
                     f"cross_entropy on {n} samples and {k} classes")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3c
# points: 1

# %% [markdown]
# **3c.** Write `logits_gradient(Y, Z)`: the gradient of the mean cross-entropy of
# `softmax(Z)` with respect to the logits `Z` (shape `(N, K)`). You can get it by multiplying
# the softmax Jacobian with $\partial L / \partial p$ for every sample; the result is much
# simpler than that route suggests (see 3d).

# %%
def logits_gradient(Y, Z):
    # BEGIN SOLUTION
    Y = np.asarray(Y, dtype=float)
    return (softmax(Z) - Y) / len(Y)
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3c_public(logits_gradient):
    import numpy as np

    Y = np.array([[1.0, 0.0, 0.0]])
    assert np.shape(logits_gradient(Y, np.zeros((1, 3)))) == (1, 3), "one value per logit"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3c_logits_gradient(logits_gradient):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.losses import categorical_cross_entropy_from_logits_grad as ref

    rng = np.random.default_rng(331)
    for n, k in ((5, 3), (8, 6)):
        Y, Z = np.eye(k)[rng.integers(0, k, n)], rng.normal(scale=2, size=(n, k))
        assert_close(logits_gradient(Y, Z), ref(Y, Z), f"logits_gradient on {n} x {k} logits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3d
# manual: true
# points: 2

# %% [markdown]
# **3d.** For one sample with one-hot label $y$, show that
# $\partial L / \partial z_c = p_c - y_c$. Start from $L = -\sum_k y_k \log p_k$ and your
# Jacobian. (Graded by hand; a few lines of algebra in Markdown are enough.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# The Jacobian is $\partial p_k/\partial z_c = p_k(\delta_{kc} - p_c)$. By the chain rule
# $\partial L/\partial z_c = \sum_k (-y_k / p_k)\, p_k(\delta_{kc} - p_c)
# = -\sum_k y_k \delta_{kc} + p_c \sum_k y_k = -y_c + p_c$, because the one-hot label sums
# to 1. The division by $p_k$ cancels against the Jacobian, which is why the fused gradient
# is also numerically safer than multiplying the two pieces.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. Backpropagation for a whole batch
#
# Now the network of lecture 004: $d$ inputs, one hidden layer of $H$ sigmoid units and a
# softmax output over $K$ classes. For a batch `X` of shape `(N, d)`:
#
# $$A_h = \sigma(X W_h + b_h), \qquad P = \operatorname{softmax}(A_h W_o + b_o),$$
#
# with `W_h` `(d, H)`, `b_h` `(H,)`, `W_o` `(H, K)`, `b_o` `(K,)`. As in the lecture's code,
# the cost **adds up** the cross-entropy of the samples (it does not divide by $N$), plus an
# L2 penalty on the weights (not on the biases):
#
# $$C = -\sum_{i=1}^{N} \sum_k Y_{ik} \log P_{ik}
#       + \frac{\lambda}{2}\left(\lVert W_h \rVert^2 + \lVert W_o \rVert^2\right).$$
#
# From 3d, the error at the output is $\Delta_o = P - Y$; it flows back to the hidden layer
# through $W_o$ and the derivative of the sigmoid. Think carefully about what the
# derivative of the penalty with respect to a weight is.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **4.** Write
#
# - `feed_forward(X, W_h, b_h, W_o, b_o)` returning `(a_h, probabilities)`, of shapes
#   `(N, H)` and `(N, K)`;
# - `backpropagation(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0)` returning the four gradients of
#   $C$ **in this order**: `(dW_o, db_o, dW_h, db_h)`, each of the shape of its parameter.

# %%
def feed_forward(X, W_h, b_h, W_o, b_o):
    # BEGIN SOLUTION
    a_h = sigmoid(np.asarray(X) @ W_h + b_h)
    probabilities = softmax(a_h @ W_o + b_o)
    return a_h, probabilities
    # END SOLUTION


def backpropagation(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0):
    # BEGIN SOLUTION
    a_h, probabilities = feed_forward(X, W_h, b_h, W_o, b_o)
    error_output = probabilities - Y
    error_hidden = (error_output @ W_o.T) * a_h * (1 - a_h)
    dW_o = a_h.T @ error_output
    db_o = error_output.sum(axis=0)
    dW_h = np.asarray(X).T @ error_hidden
    db_h = error_hidden.sum(axis=0)
    dW_o = dW_o + lmbd * W_o
    dW_h = dW_h + lmbd * W_h
    return dW_o, db_o, dW_h, db_h
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4_public(feed_forward, backpropagation):
    import numpy as np

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 4)), np.eye(3)[[0, 1, 2, 0, 1]]
    W_h, b_h, W_o, b_o = np.ones((4, 2)), np.zeros(2), np.ones((2, 3)), np.zeros(3)
    a_h, probabilities = feed_forward(X, W_h, b_h, W_o, b_o)
    assert np.shape(a_h) == (5, 2) and np.shape(probabilities) == (5, 3), "shapes (N,H), (N,K)"
    assert np.allclose(np.sum(probabilities, axis=1), 1), "each row of probabilities sums to 1"
    grads = backpropagation(X, Y, W_h, b_h, W_o, b_o, 0.1)
    assert len(grads) == 4, "backpropagation returns dW_o, db_o, dW_h, db_h"
    shapes = [np.shape(g) for g in grads]
    assert shapes == [(2, 3), (3,), (4, 2), (2,)], "gradient shapes should match parameters"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_feed_forward(feed_forward):
    import numpy as np
    from ps2_backprop_checks import random_network

    from autograder.checks import assert_close
    from reference_impl.activations import sigmoid, softmax

    rng = np.random.default_rng(401)
    for _ in range(3):
        net = random_network(rng)
        X, W_h, b_h, W_o, b_o = (net[k] for k in ("X", "W_h", "b_h", "W_o", "b_o"))
        result = feed_forward(X, W_h, b_h, W_o, b_o)
        assert isinstance(result, (tuple, list)) and len(result) == 2, \
            "feed_forward should return (a_h, probabilities)"
        a_h = sigmoid(X @ W_h + b_h)
        assert_close(result[0], a_h, "feed_forward: a_h on a new network")
        assert_close(result[1], softmax(a_h @ W_o + b_o), "feed_forward: probabilities")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_output_layer_gradients(backpropagation):
    from ps2_backprop_checks import check_backpropagation

    check_backpropagation(backpropagation, seed=402, parts=("dW_o", "db_o"))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_hidden_layer_gradients(backpropagation):
    from ps2_backprop_checks import check_backpropagation

    check_backpropagation(backpropagation, seed=403, parts=("dW_h", "db_h"))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_l2_penalty(backpropagation):
    from ps2_backprop_checks import check_backpropagation

    check_backpropagation(backpropagation, seed=404, lmbd=0.3,
                          parts=("dW_o", "db_o", "dW_h", "db_h"))

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5. Gradient checking
#
# A wrong gradient often still trains a little, so bugs in backpropagation hide well. The
# cure is to compare it with **centred differences**: for every single parameter $\theta$,
#
# $$\frac{\partial C}{\partial \theta} \approx
#   \frac{C(\theta + \varepsilon) - C(\theta - \varepsilon)}{2\varepsilon},$$
#
# whose error shrinks like $\varepsilon^2$, and to measure the disagreement between two
# arrays $a$ and $b$ by their **relative error**
#
# $$\max_i \frac{|a_i - b_i|}{\max(10^{-8},\ |a_i| + |b_i|)}.$$
#
# In float64, a correct backpropagation gives a relative error around $10^{-8}$ or below; a
# mistake in a formula gives something near 1.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 4

# %% [markdown]
# **5.** Write
#
# - `cost(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0)`: the cost $C$ of section 4;
# - `relative_error(a, b)`: the formula above, as a float;
# - `numerical_gradients(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0, eps=1e-5)`: centred differences
#   of your `cost` with respect to every parameter, returned like `backpropagation` returns
#   its gradients, `(dW_o, db_o, dW_h, db_h)`. Do not change the caller's arrays.
#
# Then check your own backpropagation on the small network below, **with** the L2 term
# (`lmbd=0.1`), and store the largest relative error over the four gradients in
# `gradcheck_error`; it should be below $10^{-6}$. The hidden test repeats this check on a
# network of its own, with `lmbd=0.1` and your default `eps`: your numerical gradients must
# agree with the true gradients of the cost, and your backpropagation with your numerical
# gradients, to a relative error below $10^{-6}$.

# %%
def cost(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0):
    # BEGIN SOLUTION
    _, probabilities = feed_forward(X, W_h, b_h, W_o, b_o)
    penalty = lmbd / 2 * (np.sum(np.square(W_h)) + np.sum(np.square(W_o)))
    return float(-np.sum(Y * np.log(probabilities)) + penalty)
    # END SOLUTION


def relative_error(a, b):
    # BEGIN SOLUTION
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    # END SOLUTION


def numerical_gradients(X, Y, W_h, b_h, W_o, b_o, lmbd=0.0, eps=1e-5):
    # BEGIN SOLUTION
    params = [np.array(W_o, dtype=float), np.array(b_o, dtype=float),
              np.array(W_h, dtype=float), np.array(b_h, dtype=float)]

    def C():
        return cost(X, Y, params[2], params[3], params[0], params[1], lmbd)

    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            plus = C()
            p[i] = old - eps
            minus = C()
            p[i] = old
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return tuple(grads)
    # END SOLUTION


check_rng = np.random.default_rng(5)
check_net = {
    "X": check_rng.normal(size=(6, 4)),
    "Y": np.eye(3)[check_rng.integers(0, 3, size=6)],
    "W_h": check_rng.normal(size=(4, 5)),
    "b_h": check_rng.normal(size=5),
    "W_o": check_rng.normal(size=(5, 3)),
    "b_o": check_rng.normal(size=3),
}
# BEGIN SOLUTION NO PROMPT
analytic = backpropagation(**check_net, lmbd=0.1)
numeric = numerical_gradients(**check_net, lmbd=0.1)
# END SOLUTION
gradcheck_error = max(relative_error(a, n) for a, n in zip(analytic, numeric))  # SOLUTION
gradcheck_error

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5_public(cost, relative_error, numerical_gradients, gradcheck_error):
    import numpy as np

    X, Y = np.ones((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]])
    W, b = np.zeros((2, 2)), np.zeros(2)
    assert abs(float(cost(X, Y, W, b, W, b)) - 2 * np.log(2)) < 1e-9, \
        "with all weights 0, both samples have p = 1/2, so C = 2 log 2"
    assert float(relative_error(np.ones(3), np.ones(3))) == 0.0, "equal arrays: error 0"
    assert len(numerical_gradients(X, Y, W, b, W, b)) == 4, "four gradients, as backprop"
    assert 0 <= float(gradcheck_error) < 1e-6, \
        "your backpropagation and your numerical gradients disagree"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5_cost(cost):
    import numpy as np
    from ps2_backprop_checks import random_network

    from autograder.checks import assert_close
    from reference_impl.backprop import lecture_cost_and_gradients

    rng = np.random.default_rng(501)
    for lmbd in (0.0, 0.2):
        net = random_network(rng)
        expected, _ = lecture_cost_and_gradients(**net, lmbd=lmbd)
        assert_close(cost(**net, lmbd=lmbd), expected,
                     "cost on a new network" + (" with lmbd = 0.2" if lmbd else ""))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5_relative_error(relative_error):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.gradcheck import relative_error as ref

    rng = np.random.default_rng(502)
    a = rng.normal(size=(4, 3))
    for b in (a + 1e-3 * rng.normal(size=(4, 3)), -a, np.zeros((4, 3))):
        assert_close(relative_error(a, b), ref(a, b), "relative_error on new arrays")
    assert_close(relative_error(np.zeros(3), np.full(3, 1e-12)), ref(np.zeros(3),
                 np.full(3, 1e-12)), "relative_error where both arrays are (nearly) 0")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5_numerical_gradients(numerical_gradients):
    from ps2_backprop_checks import check_numerical_gradients

    check_numerical_gradients(numerical_gradients, seed=503)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5_gradcheck_error(backpropagation, numerical_gradients, gradcheck_error):
    from ps2_backprop_checks import check_own_gradient_check

    check_own_gradient_check(backpropagation, numerical_gradients, gradcheck_error, seed=510)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. A neural network class, and the digits
#
# We train on scikit-learn's 8×8 handwritten digits: 1,797 images of 64 pixels with values
# 0–16, which we divide by 16. We keep 80 % of the images for training and 20 % for testing,
# chosen at random, and encode the labels 0–9 as one-hot rows.

# %% [raw]
# # BEGIN QUESTION
# name: q6a
# points: 3

# %% [markdown]
# **6a.** Write
#
# - `to_categorical_numpy(labels, n_categories)`: one-hot rows, shape
#   `(len(labels), n_categories)`;
# - `train_test_split_numpy(inputs, labels, train_size=0.8, seed=0)`: shuffle the rows at
#   random (use `np.random.default_rng(seed)`), then put the first
#   `int(len(inputs) * train_size)` rows in the training set and the rest in the test set.
#   Return `X_train, X_test, Y_train, Y_test`. Every input must stay with **its own** label.

# %%
def to_categorical_numpy(labels, n_categories):
    # BEGIN SOLUTION
    labels = np.asarray(labels, dtype=int)
    onehot = np.zeros((len(labels), n_categories))
    onehot[np.arange(len(labels)), labels] = 1
    return onehot
    # END SOLUTION


def train_test_split_numpy(inputs, labels, train_size=0.8, seed=0):
    # BEGIN SOLUTION
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(inputs))
    inputs_shuffled, labels_shuffled = inputs[order], labels[order]
    train_end = int(len(inputs) * train_size)
    return (inputs_shuffled[:train_end], inputs_shuffled[train_end:],
            labels_shuffled[:train_end], labels_shuffled[train_end:])
    # END SOLUTION


X_digits, y_digits = load_digits_8x8()
X_digits = X_digits / 16.0
split = train_test_split_numpy(X_digits, y_digits, 0.8, seed=0)
if split is None:  # train_test_split_numpy is not written yet
    print("Write train_test_split_numpy and to_categorical_numpy above to split the digits.")
    split = (None, None, None, None)
X_train, X_test, y_train, y_test = split
Y_train_onehot = None if y_train is None else to_categorical_numpy(y_train, 10)
np.shape(X_train), np.shape(X_test), np.shape(Y_train_onehot)

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6a_public(to_categorical_numpy, train_test_split_numpy):
    import numpy as np

    assert np.array_equal(to_categorical_numpy([2, 0], 3), [[0, 0, 1], [1, 0, 0]]), \
        "to_categorical_numpy([2, 0], 3) should be [[0, 0, 1], [1, 0, 0]]"
    parts = train_test_split_numpy(np.arange(20).reshape(10, 2), np.arange(10), 0.8, 0)
    assert [len(p) for p in parts] == [8, 2, 8, 2], "8 training and 2 test rows out of 10"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_one_hot(to_categorical_numpy):
    import numpy as np

    from autograder.checks import assert_close

    rng = np.random.default_rng(601)
    labels = rng.integers(0, 7, size=25)
    assert_close(to_categorical_numpy(labels, 7), np.eye(7)[labels],
                 "to_categorical_numpy on 25 labels of 7 classes")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_split_sizes(train_test_split_numpy):
    from ps2_backprop_checks import check_split

    check_split(train_test_split_numpy, seed=602, part="sizes")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_split_keeps_pairs(train_test_split_numpy):
    from ps2_backprop_checks import check_split

    check_split(train_test_split_numpy, seed=603, part="pairs")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6b
# points: 3

# %% [markdown]
# **6b.** Complete the class `NeuralNetwork`, the lecture's design: the constructor takes the
# training data (`Y_data` one-hot) and the hyperparameters, and creates the weights;
# `train()` runs minibatch stochastic gradient descent; `predict_probabilities(X)` returns the
# softmax outputs and `predict(X)` the most probable class of every row.
#
# - Keep the parameters in `self.hidden_weights` (shape `(n_features, n_hidden_neurons)`),
#   `self.hidden_bias` (`(n_hidden_neurons,)`), `self.output_weights`
#   (`(n_hidden_neurons, n_categories)`) and `self.output_bias` (`(n_categories,)`).
# - Initialise the weights with small random numbers (for example normal with standard
#   deviation $1/\sqrt{\text{fan-in}}$) and the biases with 0.01.
# - Train by minibatch stochastic gradient descent: for each minibatch, one step
#   $\theta \leftarrow \theta - \eta\, \partial C / \partial \theta$ for all four
#   parameters, with your `backpropagation` and `lmbd`. The lecture's way, which we recommend:
#   one generator, `self.rng = np.random.default_rng(seed)`, for everything random; in each
#   epoch, shuffle the rows of the training data (inputs and labels **together**) and cut them
#   into consecutive minibatches of `batch_size` rows (the last may be smaller).
#
# What is graded: the hidden tests train your class on their own split of the digits with
# fixed hyperparameters and a fixed seed, read the four trained parameters back and compute
# the predictions from them with the lecture's forward pass (sigmoid hidden layer, softmax
# output): full marks from 95 % test accuracy, one point of the two from 85 %. One more point:
# your `predict_probabilities` and `predict` give that forward pass's probabilities and
# classes.

# %%
class NeuralNetwork:
    def __init__(self, X_data, Y_data, n_hidden_neurons=50, n_categories=10, epochs=10,
                 batch_size=100, eta=0.1, lmbd=0.0, seed=0):
        # BEGIN SOLUTION
        self.X_data_full = np.asarray(X_data, dtype=float)
        self.Y_data_full = np.asarray(Y_data, dtype=float)
        self.n_inputs, self.n_features = self.X_data_full.shape
        self.n_hidden_neurons = n_hidden_neurons
        self.n_categories = n_categories
        self.epochs = epochs
        self.batch_size = batch_size
        self.eta = eta
        self.lmbd = lmbd
        self.rng = np.random.default_rng(seed)
        self.hidden_weights = self.rng.normal(
            0, 1 / np.sqrt(self.n_features), size=(self.n_features, n_hidden_neurons))
        self.hidden_bias = np.zeros(n_hidden_neurons) + 0.01
        self.output_weights = self.rng.normal(
            0, 1 / np.sqrt(n_hidden_neurons), size=(n_hidden_neurons, n_categories))
        self.output_bias = np.zeros(n_categories) + 0.01
        # END SOLUTION

    def train(self):
        # BEGIN SOLUTION
        for _ in range(self.epochs):
            order = self.rng.permutation(self.n_inputs)
            X_shuffled, Y_shuffled = self.X_data_full[order], self.Y_data_full[order]
            for start in range(0, self.n_inputs, self.batch_size):
                X_batch = X_shuffled[start:start + self.batch_size]
                Y_batch = Y_shuffled[start:start + self.batch_size]
                dW_o, db_o, dW_h, db_h = backpropagation(
                    X_batch, Y_batch, self.hidden_weights, self.hidden_bias,
                    self.output_weights, self.output_bias, self.lmbd)
                self.output_weights -= self.eta * dW_o
                self.output_bias -= self.eta * db_o
                self.hidden_weights -= self.eta * dW_h
                self.hidden_bias -= self.eta * db_h
        return self
        # END SOLUTION

    def predict_probabilities(self, X):
        # BEGIN SOLUTION
        return feed_forward(np.asarray(X, dtype=self.hidden_weights.dtype), self.hidden_weights,
                            self.hidden_bias, self.output_weights, self.output_bias)[1]
        # END SOLUTION

    def predict(self, X):
        # BEGIN SOLUTION
        return np.argmax(self.predict_probabilities(X), axis=1)
        # END SOLUTION


digits_accuracy = None
if X_train is None:
    print("The network trains on the split of question 6a: answer 6a first.")
else:
    dnn = NeuralNetwork(X_train, Y_train_onehot, n_hidden_neurons=50, n_categories=10,
                        epochs=20, batch_size=16, eta=0.1, lmbd=0.001, seed=0)
    dnn.train()
    digits_accuracy = float(np.mean(dnn.predict(X_test) == y_test))
digits_accuracy

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6b_public(NeuralNetwork, digits_accuracy):
    import numpy as np

    X, Y = np.eye(4), np.eye(2)[[0, 1, 0, 1]]
    net = NeuralNetwork(X, Y, n_hidden_neurons=3, n_categories=2, epochs=2, batch_size=3,
                        eta=0.1, lmbd=0.0, seed=1)
    net.train()
    assert np.shape(net.predict_probabilities(X)) == (4, 2), "one probability per class"
    assert np.shape(net.predict(X)) == (4,), "predict gives one label per row"
    assert float(digits_accuracy) > 0.9, "your network should reach more than 90 % here"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6b_predictions(NeuralNetwork):
    import numpy as np
    from ps2_backprop_checks import digits_split

    from autograder.checks import as_float_array

    X_train, Y_train, X_test, _ = digits_split(seed=611)
    net = NeuralNetwork(X_train[:200], Y_train[:200], n_hidden_neurons=8, n_categories=10,
                        epochs=1, batch_size=50, eta=0.01, lmbd=0.0, seed=611)
    net.train()
    from ps2_backprop_checks import reference_probabilities, trained_weights

    expected = reference_probabilities(trained_weights(net, 64, 8, 10), X_test[:30])
    P = as_float_array(net.predict_probabilities(X_test[:30]), "predict_probabilities",
                       shape=(30, 10))
    assert np.allclose(P, expected, rtol=1e-4, atol=1e-6), \
        "predict_probabilities should give the softmax outputs of the network's forward pass"
    labels = as_float_array(net.predict(X_test[:30]), "predict", shape=(30,))
    assert np.array_equal(labels, expected.argmax(axis=1)), \
        "predict should pick the most probable class"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6b_accuracy_85(NeuralNetwork):
    from ps2_backprop_checks import training_accuracy

    accuracy = training_accuracy(NeuralNetwork, seed=612)
    assert accuracy >= 0.85, f"after training, the test accuracy is {accuracy:.1%}; this " \
        "point needs at least 85 %"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6b_accuracy_95(NeuralNetwork):
    from ps2_backprop_checks import training_accuracy

    accuracy = training_accuracy(NeuralNetwork, seed=612)
    assert accuracy >= 0.95, f"after training, the test accuracy is {accuracy:.1%}; this " \
        "point needs at least 95 %"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 7. Choosing $\eta$ and $\lambda$ by grid search
#
# The learning rate and the regularisation strength change the result a lot, and the best
# values are not known in advance. The lecture tries values spread over several orders of
# magnitude (`np.logspace`) and trains one network for every pair.

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 3

# %% [markdown]
# **7.** Choose `eta_vals` and `lmbd_vals` on logarithmic grids (at least 3 values each; keep
# the grid small, this is meant to run in seconds). For every pair train a `NeuralNetwork` on
# your training split (50 hidden units, 10 epochs, minibatches of 16, `seed=0`) and store its
# accuracy on your test split in `test_accuracy[i, j]` (row $i$: `eta_vals[i]`, column $j$:
# `lmbd_vals[j]`). Then store the best pair in `best_eta` and `best_lmbd`. The heatmap drawn at
# the end of the cell is for you to look at; it is not graded. The hidden tests retrain your
# `NeuralNetwork` on your split (`X_train`, `Y_train_onehot`, `X_test`, `y_test` from
# question 6) for your best cell and one other cell: each point of this question needs your
# table to hold the accuracies they reach.

# %%
# BEGIN SOLUTION NO PROMPT
eta_vals = np.logspace(-3, 0, 4)
lmbd_vals = np.logspace(-4, 0, 5)
test_accuracy = np.zeros((len(eta_vals), len(lmbd_vals)))
for i, eta in enumerate(eta_vals):
    for j, lmbd in enumerate(lmbd_vals):
        net = NeuralNetwork(X_train, Y_train_onehot, n_hidden_neurons=50, n_categories=10,
                            epochs=10, batch_size=16, eta=eta, lmbd=lmbd, seed=0)
        net.train()
        test_accuracy[i, j] = np.mean(net.predict(X_test) == y_test)
best_i, best_j = np.unravel_index(np.argmax(test_accuracy), test_accuracy.shape)
best_eta, best_lmbd = eta_vals[best_i], lmbd_vals[best_j]
# END SOLUTION
""" # BEGIN PROMPT
eta_vals = ...
lmbd_vals = ...
test_accuracy = ...
best_eta, best_lmbd = ..., ...
"""  # END PROMPT

if test_accuracy is not ...:  # the heatmap, once the grid search has run
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.imshow(np.asarray(test_accuracy, dtype=float), cmap="viridis", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(np.asarray(test_accuracy, dtype=float)):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="w")
    ax.set_xticks(range(len(lmbd_vals)), [f"{v:.0e}" for v in lmbd_vals])
    ax.set_yticks(range(len(eta_vals)), [f"{v:.0e}" for v in eta_vals])
    ax.set_xlabel("lambda")
    ax.set_ylabel("eta")
    ax.set_title("test accuracy")
    plt.show()
best_eta, best_lmbd

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q7_public(test_accuracy, eta_vals, lmbd_vals):
    import numpy as np

    assert np.shape(test_accuracy) == (len(eta_vals), len(lmbd_vals)), \
        "test_accuracy needs one row per eta and one column per lambda"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_table_shape(test_accuracy, eta_vals, lmbd_vals, NeuralNetwork, X_train,
                        Y_train_onehot, X_test, y_test):
    from ps2_backprop_checks import check_grid

    check_grid(test_accuracy, eta_vals, lmbd_vals, part="shape", NeuralNetwork=NeuralNetwork,
               split=(X_train, Y_train_onehot, X_test, y_test))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_cells_recomputed(test_accuracy, eta_vals, lmbd_vals, NeuralNetwork, X_train,
                             Y_train_onehot, X_test, y_test):
    from ps2_backprop_checks import check_grid

    check_grid(test_accuracy, eta_vals, lmbd_vals, part="best", NeuralNetwork=NeuralNetwork,
               split=(X_train, Y_train_onehot, X_test, y_test))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_best_pair(test_accuracy, eta_vals, lmbd_vals, best_eta, best_lmbd, NeuralNetwork,
                      X_train, Y_train_onehot, X_test, y_test):
    from ps2_backprop_checks import check_grid

    check_grid(test_accuracy, eta_vals, lmbd_vals, part="argmax", best_eta=best_eta,
               best_lmbd=best_lmbd, NeuralNetwork=NeuralNetwork,
               split=(X_train, Y_train_onehot, X_test, y_test))

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 8. XOR, again
#
# In problem set 1, Rosenblatt's perceptron never settled on XOR. One hidden layer changes
# that.

# %% [raw]
# # BEGIN QUESTION
# name: q8a
# points: 2

# %% [markdown]
# **8a.** Find weights for a network with **2** sigmoid hidden units and a softmax output over
# 2 classes (the network of section 4) that classifies all four XOR inputs correctly, and
# store them as `xor_params = (W_h, b_h, W_o, b_o)` with shapes `(2, 2)`, `(2,)`, `(2, 2)`,
# `(2,)`. You may set them by hand (hint: XOR is "OR but not AND") or train your
# `NeuralNetwork` and copy its weights, whichever you prefer.

# %%
X_xor, y_xor = logic_gate("XOR")
# BEGIN SOLUTION NO PROMPT
xor_params = (
    np.array([[20.0, 20.0], [20.0, 20.0]]),  # hidden unit 0 acts as OR, unit 1 as AND
    np.array([-10.0, -30.0]),
    np.array([[-10.0, 10.0], [10.0, -10.0]]),  # class 1 when OR is on and AND is off
    np.array([5.0, -5.0]),
)
# END SOLUTION
""" # BEGIN PROMPT
xor_params = ...
"""  # END PROMPT
xor_predictions = None
if xor_params is not ...:
    xor_predictions = np.argmax(feed_forward(X_xor, *xor_params)[1], axis=1)
xor_predictions, y_xor

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q8a_public(xor_params):
    import numpy as np

    assert len(xor_params) == 4, "xor_params = (W_h, b_h, W_o, b_o)"
    assert [np.shape(p) for p in xor_params] == [(2, 2), (2,), (2, 2), (2,)], \
        "the shapes should be (2, 2), (2,), (2, 2), (2,)"

# %%
""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q8a_solves_xor(xor_params):
    import numpy as np

    from autograder.checks import as_float_array
    from nnkit.datasets import logic_gate
    from reference_impl.activations import sigmoid, softmax

    if not isinstance(xor_params, (tuple, list)) or len(xor_params) != 4:
        raise AssertionError("xor_params should be (W_h, b_h, W_o, b_o)")
    shapes = [(2, 2), (2,), (2, 2), (2,)]
    W_h, b_h, W_o, b_o = (as_float_array(p, f"xor_params[{i}]", shape=s)
                          for i, (p, s) in enumerate(zip(xor_params, shapes, strict=True)))
    X, y = logic_gate("XOR")
    with np.errstate(all="ignore"):
        P = softmax(sigmoid(X @ W_h + b_h) @ W_o + b_o)
    wrong = int(np.sum(np.argmax(P, axis=1) != y))
    assert wrong == 0, f"with your xor_params, {wrong} of the 4 XOR inputs are misclassified"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q8b
# manual: true
# points: 2

# %% [markdown]
# **8b.** In two or three sentences: why can this network solve XOR when the single perceptron
# of problem set 1 could not, and what do its two hidden units compute? (Graded by hand.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# A single perceptron separates the plane with one straight line, and no line puts (0, 1) and
# (1, 0) on one side and (0, 0) and (1, 1) on the other. The hidden layer maps the inputs to a
# new representation, here "OR" and "AND", in which the classes *are* linearly separable
# (class 1 is OR without AND), and the output unit draws its line in that space.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# You are done. Save the notebook and submit it (push to your repository, or upload the
# `.ipynb`).
