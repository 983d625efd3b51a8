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
# # question judges with the student's own earlier functions (question 4 compares with a
# # reference loop driven by the student's `gradient`; 2a's variables are checked against the
# # student's own `or_table`), or its text says plainly that it does not. Every realistic
# # mistake in mistakes.yaml declares the one question it loses points in.
# name: ps1-perceptron
# export_cell: false
# check_all_cell: false
# strip_solutions_from_all_cells: true
# run_tests: true
# generate: true
# tests:
#   files: false
#   ok_format: false

# %% [markdown]
# # Problem set 1: one neuron, from prediction to learning
#
# In this problem set you build a single artificial neuron by hand and teach it to learn. You
# will compute its predictions, measure how wrong they are with a loss function, differentiate
# that loss with the chain rule, train the neuron by gradient descent, meet Rosenblatt's older
# perceptron rule and its famous failure on XOR, and finish with the metrics used to judge a
# classifier.
#
# **How to work.** Fill in every `...`. After each question, run the cell with
# `grader.check("qN")`: it runs a few *public* checks (shapes, types, simple values). Passing
# them does not mean full marks: after the deadline, *hidden* tests call your functions on
# inputs you have not seen. Write general code, not code that only works on the examples here.
# Keep the names of the functions and variables we ask for.
#
# | question | topic | points |
# |---|---|---|
# | 1a | the neuron's forward pass | 3 |
# | 1b | completing the table | 5 |
# | 2a | squared loss per row and in total | 2 |
# | 2b | misclassified rows | 1 |
# | 2c | why a loss and not accuracy (multiple choice) | 2 |
# | 3a | chain-rule factors | 2 |
# | 3b | the three partial derivatives | 3 |
# | 3c | the gradient at the first observation | 1 |
# | 3d | the gradient over a data set | 1 |
# | 4 | gradient descent | 4 |
# | 5a | the step function | 1 |
# | 5b | Rosenblatt's rule | 4 |
# | 5c | XOR, epoch by epoch | 1 |
# | 5d | why XOR fails (multiple choice) | 2 |
# | 6a | confusion matrix, precision, recall, F1 | 4 |
# | 6b | the fraud example | 2 |
# | 7 | a short written answer (graded by hand) | 2 |
# | **total** | | **40** |
#
# **Multiple-choice questions** are "select all that apply". Give your answer as a set of
# letters, e.g. `{"a", "c"}`; a list `["a", "c"]`, a tuple `("a", "c")` or a string `"ac"` of
# the same letters is accepted too. You earn one point for every correct option you select and
# lose one for every incorrect option you select; a question never goes below zero.

# %%
import numpy as np
import pandas as pd

from nnkit.datasets import logic_gate

X_or, y_or = logic_gate("OR")  # rows (0,0), (0,1), (1,0), (1,1); labels 0, 1, 1, 1
X_or, y_or

# %% [markdown]
# ## 1. The single neuron
#
# A neuron with two inputs has two weights $w_1, w_2$ and a bias $b$. For an observation
# $x = (x_1, x_2)$ it computes
#
# $$h = w_1 x_1 + w_2 x_2 + b, \qquad p = \sigma(h) = \frac{1}{1 + e^{-h}}, \qquad
# \hat y = \operatorname{round}(p).$$
#
# $p$ is read as the probability that the label is 1. **Rounding rule:** $\hat y = 1$ when
# $p \ge 0.5$ and $0$ otherwise, so a tie at exactly $0.5$ goes to class 1. Careful: Python's
# `round(0.5)` and NumPy's `np.round(0.5)` both give 0 (they round half to even), so do not use
# them here.

# %% [raw]
# # BEGIN QUESTION
# name: q1a
# points: 3

# %% [markdown]
# **1a.** Write three functions that work on whole arrays (NumPy's array operations make
# each one a single line; a loop over the rows is accepted too):
#
# - `weighted_sum(X, w, b)`: `X` has one observation per row, `w` one weight per column;
#   return the array of $h$, one value per row.
# - `sigmoid(h)`: $\sigma$ applied element by element.
# - `predict(p)`: 1 where $p \ge 0.5$, else 0, as integers.

# %%
def weighted_sum(X, w, b):
    # BEGIN SOLUTION
    return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b
    # END SOLUTION


def sigmoid(h):
    # BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-np.asarray(h, dtype=float)))
    # END SOLUTION


def predict(p):
    # BEGIN SOLUTION
    return (np.asarray(p) >= 0.5).astype(int)
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1a_public(weighted_sum, sigmoid, predict):
    import numpy as np

    h = weighted_sum(np.zeros((3, 2)), np.array([1.0, 2.0]), 0.5)
    assert np.shape(h) == (3,), "weighted_sum should return one value per row of X"
    assert abs(float(sigmoid(0.0)) - 0.5) < 1e-12, "sigmoid(0) should be 0.5"
    assert np.shape(sigmoid(np.zeros(4))) == (4,), "sigmoid should work element by element"
    assert list(predict(np.array([0.1, 0.9]))) == [0, 1], "predict(0.1) is 0, predict(0.9) is 1"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_weighted_sum(weighted_sum):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.perceptron import weighted_sum as ref

    rng = np.random.default_rng(101)
    X, w, b = rng.normal(size=(7, 3)), rng.normal(size=3), float(rng.normal())
    assert_close(weighted_sum(X, w, b), ref(X, w, b), "weighted_sum on 7 rows and 3 inputs")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_sigmoid(sigmoid):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import sigmoid as ref

    h = np.linspace(-12, 12, 17)
    assert_close(sigmoid(h), ref(h), "sigmoid on values between -12 and 12")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1a_predict(predict):
    import numpy as np

    from autograder.checks import as_float_array

    p = np.array([0.0, 0.2, 0.4999, 0.5, 0.5001, 0.8, 1.0])
    got = as_float_array(predict(p), "predict(p)", shape=(7,))
    assert np.all(np.isin(got, [0, 1])), "predict should return only 0 and 1"
    assert got[3] == 1, "predict(0.5) should be 1: a tie goes to class 1"
    assert np.array_equal(got, [0, 0, 0, 1, 1, 1, 1]), "predict is wrong for some values of p"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q1b
# points: 5

# %% [markdown]
# **1b.** The lecture's "complete the table" exercise. Write `complete_table(X, y, w, b)` that
# returns a pandas DataFrame with one row per observation and (at least) the columns `h`, `p`
# and `y_hat`. Then fill the table for the OR data with $w_1 = 1$, $w_2 = -1$, $b = -0.5$.
#
# Check the third row, $x = (1, 0)$, carefully: compute it, do not copy it from anywhere.

# %%
def complete_table(X, y, w, b):
    # BEGIN SOLUTION
    h = weighted_sum(X, w, b)
    p = sigmoid(h)
    return pd.DataFrame(
        {"x1": X[:, 0], "x2": X[:, 1], "y": y, "h": h, "p": p, "y_hat": predict(p)}
    )
    # END SOLUTION


or_table = complete_table(X_or, y_or, np.array([1.0, -1.0]), -0.5)  # SOLUTION
or_table

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1b_public(or_table):
    import pandas as pd

    assert isinstance(or_table, pd.DataFrame), "or_table should be a pandas DataFrame"
    for column in ("h", "p", "y_hat"):
        assert column in or_table.columns, f"or_table needs a column named {column!r}"
    assert len(or_table) == 4, "or_table should have one row per observation (4)"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_row_1(or_table):
    from ps1_perceptron_checks import check_table_row

    check_table_row(or_table, row=0, x=(0, 0), w=(1, -1), b=-0.5)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_row_2(or_table):
    from ps1_perceptron_checks import check_table_row

    check_table_row(or_table, row=1, x=(0, 1), w=(1, -1), b=-0.5)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_row_3(or_table):
    from ps1_perceptron_checks import check_table_row

    check_table_row(or_table, row=2, x=(1, 0), w=(1, -1), b=-0.5)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_row_4(or_table):
    from ps1_perceptron_checks import check_table_row

    check_table_row(or_table, row=3, x=(1, 1), w=(1, -1), b=-0.5)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1b_fresh_data(complete_table):
    import numpy as np
    from ps1_perceptron_checks import check_table_row

    rng = np.random.default_rng(102)
    X = rng.normal(size=(6, 2)).round(2)
    y = rng.integers(0, 2, size=6)
    w, b = rng.normal(size=2).round(2), round(float(rng.normal()), 2)
    table = complete_table(X, y, w, b)
    for row in range(6):
        check_table_row(table, row=row, x=X[row], w=w, b=b, what="complete_table on new data")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. Measuring error: the squared loss
#
# For one observation the squared loss is $l = (y - p)^2$. Over a data set we add the
# per-row losses.

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# points: 2

# %% [markdown]
# **2a.** Write `squared_loss(y, p)`, returning the loss of every row, and `total_loss(y, p)`,
# returning their sum. Then compute `or_losses` and `or_total` for your OR table: the loss
# of the probabilities `p` in `or_table` (not of the rounded `y_hat`). They are checked
# against your own `or_table`, so a mistake in 1b is not charged again here.

# %%
def squared_loss(y, p):
    # BEGIN SOLUTION
    return (np.asarray(y, dtype=float) - np.asarray(p, dtype=float)) ** 2
    # END SOLUTION


def total_loss(y, p):
    # BEGIN SOLUTION
    return float(np.sum(squared_loss(y, p)))
    # END SOLUTION


or_losses = squared_loss(y_or, or_table["p"])  # SOLUTION
or_total = total_loss(y_or, or_table["p"])  # SOLUTION
or_losses, or_total

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2a_public(squared_loss, total_loss, or_losses, or_total):
    import numpy as np

    assert np.shape(squared_loss(np.zeros(3), np.zeros(3))) == (3,), "one loss per row"
    assert float(squared_loss(np.array([1.0]), np.array([1.0]))[0]) == 0.0, "l(1, 1) is 0"
    assert np.ndim(total_loss(np.zeros(3), np.zeros(3))) == 0, "total_loss is one number"
    assert np.shape(or_losses) == (4,), "or_losses should hold the 4 per-row losses"
    assert np.ndim(or_total) == 0, "or_total should be a single number"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_functions(squared_loss, total_loss):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.perceptron import squared_loss as ref

    rng = np.random.default_rng(201)
    y, p = rng.integers(0, 2, size=9), rng.uniform(size=9)
    assert_close(squared_loss(y, p), ref(y, p), "squared_loss on 9 new rows")
    y, p = rng.integers(0, 2, size=11), rng.uniform(size=11)
    assert_close(total_loss(y, p), ref(y, p).sum(), "total_loss on 11 new rows")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_or_variables(or_losses, or_total, or_table):
    from ps1_perceptron_checks import check_or_losses

    check_or_losses(or_losses, or_total, or_table)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 1

# %% [markdown]
# **2b.** Write `misclassified(y, y_hat)` returning the (0-based) row indices where the
# prediction differs from the label, as a sorted list of integers. Use it on the OR table.

# %%
def misclassified(y, y_hat):
    # BEGIN SOLUTION
    return [int(i) for i in np.flatnonzero(np.asarray(y) != np.asarray(y_hat))]
    # END SOLUTION


or_misclassified = misclassified(y_or, or_table["y_hat"])  # SOLUTION
or_misclassified

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2b_public(misclassified):
    got = misclassified([0, 1], [0, 1])
    assert list(got) == [], "nothing is misclassified when predictions equal labels"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2b_misclassified(misclassified):
    import numpy as np

    from autograder.checks import as_float_array

    rng = np.random.default_rng(203)
    y, y_hat = rng.integers(0, 2, size=15), rng.integers(0, 2, size=15)
    got = as_float_array(list(misclassified(y, y_hat)), "misclassified(y, y_hat)")
    expected = np.flatnonzero(y != y_hat)
    assert got.shape == expected.shape, "misclassified returns the wrong number of rows"
    assert np.array_equal(got, expected), "misclassified returns the wrong rows"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2c
# points: 2

# %% [markdown]
# **2c.** Why do we train with a loss such as $(y-p)^2$ rather than with accuracy directly?
# Select all that apply.
#
# - **a.** Accuracy only changes when a prediction flips class, so as a function of the
#   weights it is flat almost everywhere: its gradient is zero and gives descent no direction.
# - **b.** The loss also says *how* wrong each prediction is, so it can improve even while no
#   predicted class changes.
# - **c.** Accuracy cannot be computed on the training data.
# - **d.** Minimising the squared loss always gives the highest accuracy that any choice of
#   weights could reach.

# %%
q2c_answer = {"a", "b"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2c_public(q2c_answer):
    assert isinstance(q2c_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q2c_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2c_credit_1(q2c_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q2c_answer, "q2c", options="abcd", correct="ab", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2c_credit_2(q2c_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q2c_answer, "q2c", options="abcd", correct="ab", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. The chain rule
#
# To improve the weights we need $\partial l / \partial w_1$. The loss depends on $w_1$ only
# through $p$, and $p$ only through $h$, so
#
# $$\frac{\partial l}{\partial w_1} = \frac{\partial l}{\partial p}\cdot
# \frac{\partial p}{\partial h}\cdot\frac{\partial h}{\partial w_1}.$$
#
# Work each factor out on paper first, for $l = (y - p)^2$ and $p = \sigma(h)$. (Hint:
# $\sigma'(h) = \sigma(h)(1 - \sigma(h))$.) Do not drop constant factors.

# %% [raw]
# # BEGIN QUESTION
# name: q3a
# points: 2

# %% [markdown]
# **3a.** Write `dl_dp(y, p)` and `dp_dh(p)`. Both work element by element.

# %%
def dl_dp(y, p):
    # BEGIN SOLUTION
    return 2.0 * (np.asarray(p, dtype=float) - np.asarray(y, dtype=float))
    # END SOLUTION


def dp_dh(p):
    # BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    return p * (1.0 - p)
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3a_public(dl_dp, dp_dh):
    import numpy as np

    assert float(np.asarray(dl_dp(1.0, 1.0))) == 0.0, "no error, no gradient: dl_dp(1, 1) = 0"
    assert float(np.asarray(dp_dh(1.0))) == 0.0, "dp_dh(1) = 0: sigma is flat there"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_dl_dp(dl_dp):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.perceptron import chain_rule_factors

    rng = np.random.default_rng(301)
    for _ in range(5):
        x, w, b, y = rng.normal(size=2), rng.normal(size=2), float(rng.normal()), rng.integers(2)
        f = chain_rule_factors(x, y, w, b)
        assert_close(dl_dp(y, f["p"]), f["dl_dp"], "dl_dp at a new observation")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_dp_dh(dp_dh):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import sigmoid, sigmoid_prime

    h = np.linspace(-4, 4, 9)
    assert_close(dp_dh(sigmoid(h)), sigmoid_prime(h), "dp_dh for 9 values of p")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b
# points: 3

# %% [markdown]
# **3b.** For one observation `x = (x1, x2)` with label `y`, and weights `w = (w1, w2)`,
# bias `b`, write `dl_dw1(x, y, w, b)`, `dl_dw2(x, y, w, b)` and `dl_db(x, y, w, b)`. Build
# them from your factors: $\partial h/\partial w_1 = x_1$, $\partial h/\partial w_2 = x_2$,
# $\partial h/\partial b = 1$.

# %%
def dl_dw1(x, y, w, b):
    # BEGIN SOLUTION
    p = sigmoid(weighted_sum(np.asarray(x, dtype=float)[None, :], w, b))[0]
    return float(dl_dp(y, p) * dp_dh(p) * x[0])
    # END SOLUTION


def dl_dw2(x, y, w, b):
    # BEGIN SOLUTION
    p = sigmoid(weighted_sum(np.asarray(x, dtype=float)[None, :], w, b))[0]
    return float(dl_dp(y, p) * dp_dh(p) * x[1])
    # END SOLUTION


def dl_db(x, y, w, b):
    # BEGIN SOLUTION
    p = sigmoid(weighted_sum(np.asarray(x, dtype=float)[None, :], w, b))[0]
    return float(dl_dp(y, p) * dp_dh(p))
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3b_public(dl_dw1, dl_dw2, dl_db):
    import numpy as np

    x, w = np.array([0.0, 0.0]), np.array([1.0, -1.0])
    assert float(dl_dw1(x, 0, w, -0.5)) == 0.0, "with x1 = 0, dl/dw1 must be 0"
    assert float(dl_dw2(x, 0, w, -0.5)) == 0.0, "with x2 = 0, dl/dw2 must be 0"
    assert np.ndim(dl_db(x, 0, w, -0.5)) == 0, "dl_db returns one number"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_dl_dw1(dl_dw1):
    from ps1_perceptron_checks import check_partial_derivative

    check_partial_derivative(dl_dw1, "dl_dw1", seed=311)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_dl_dw2(dl_dw2):
    from ps1_perceptron_checks import check_partial_derivative

    check_partial_derivative(dl_dw2, "dl_dw2", seed=312)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_dl_db(dl_db):
    from ps1_perceptron_checks import check_partial_derivative

    check_partial_derivative(dl_db, "dl_db", seed=313)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3c
# points: 1

# %% [markdown]
# **3c.** With the lecture's weights ($w_1 = 1$, $w_2 = -1$, $b = -0.5$), evaluate the three
# derivatives at the first OR observation, $x = (0, 0)$, $y = 0$. Store them as the tuple
# `first_gradient = (dl/dw1, dl/dw2, dl/db)`. Before you run it: two of the three must be 0.
# Which two, and why?

# %%
w_lecture, b_lecture = np.array([1.0, -1.0]), -0.5
first_gradient = tuple(f(X_or[0], y_or[0], w_lecture, b_lecture) for f in (dl_dw1, dl_dw2, dl_db))  # SOLUTION
first_gradient

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3c_public(first_gradient):
    import numpy as np

    assert np.shape(first_gradient) == (3,), "first_gradient holds three numbers"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3c_value(first_gradient):
    from autograder.checks import assert_close
    from reference_impl.perceptron import chain_rule_factors

    f = chain_rule_factors((0.0, 0.0), 0, (1.0, -1.0), -0.5)
    expected = (*f["dl_dw"], f["dl_db"])
    assert_close(first_gradient, expected, "first_gradient", rtol=1e-4, atol=1e-6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3d
# points: 1

# %% [markdown]
# **3d.** Training uses the *mean* loss over a data set, $L = \frac1n\sum_i (y_i - p_i)^2$.
# Write `gradient(X, y, w, b)` returning the pair `(dL_dw, dL_db)`: an array with one entry per
# weight, and a number. (It is the average over rows of your per-observation derivatives;
# a vectorised version is welcome.)

# %%
def gradient(X, y, w, b):
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    p = sigmoid(weighted_sum(X, w, b))
    delta = dl_dp(y, p) * dp_dh(p)
    return X.T @ delta / len(X), float(delta.mean())
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3d_public(gradient):
    import numpy as np

    dw, db = gradient(np.zeros((4, 2)), np.zeros(4), np.zeros(2), 0.0)
    assert np.shape(dw) == (2,), "dL_dw has one entry per weight"
    assert np.ndim(db) == 0, "dL_db is a single number"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3d_gradient(gradient):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.perceptron import squared_loss_gradient

    rng = np.random.default_rng(321)
    X, y = rng.normal(size=(12, 2)), rng.integers(0, 2, size=12)
    w, b = rng.normal(size=2), float(rng.normal())
    ref_w, ref_b = squared_loss_gradient(X, y, w, b, reduction="mean")
    got = gradient(X, y, w, b)
    assert len(got) == 2, "gradient should return the pair (dL_dw, dL_db)"
    assert_close(got[0], ref_w, "dL_dw on 12 new rows")
    assert_close(got[1], ref_b, "dL_db on 12 new rows")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. Gradient descent
#
# Repeat: compute the gradient of the mean loss on the whole data set, then step against it,
# $w \leftarrow w - \eta\,\partial L/\partial w$ and $b \leftarrow b - \eta\,\partial L/\partial b$.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **4.** Write `gradient_descent(X, y, w, b, eta, steps)` using your `gradient`. It returns
# `(w, b, losses)`, where `losses` is the list of the **mean** squared loss before the first
# step and after every step (`steps + 1` numbers). Do not change the `w` you are given in
# place.
#
# Then train on the OR data from the lecture's starting point, `w_lecture` and `b_lecture`
# from 3c, with $\eta = 1$ for 1000 steps: `gradient_descent(X_or, y_or, w_lecture,
# b_lecture, 1.0, 1000)`. Store the result in `or_w, or_b, or_losses_history`, and build
# `or_final_table` with `complete_table`. `w_lecture` must still be $(1, -1)$ afterwards.
#
# The hidden tests rerun your function on other data and compare it step by step with a
# reference loop that uses *your* `gradient`, and check your OR results against *your*
# `gradient_descent`, so a mistake in question 3 is not charged again here.

# %%
def gradient_descent(X, y, w, b, eta, steps):
    # BEGIN SOLUTION
    w = np.array(w, dtype=float)
    b = float(b)

    def mean_loss(w, b):
        return float(np.mean(squared_loss(y, sigmoid(weighted_sum(X, w, b)))))

    losses = [mean_loss(w, b)]
    for _ in range(steps):
        dw, db = gradient(X, y, w, b)
        w = w - eta * dw
        b = b - eta * db
        losses.append(mean_loss(w, b))
    return w, b, losses
    # END SOLUTION


or_w, or_b, or_losses_history = gradient_descent(X_or, y_or, w_lecture, b_lecture, 1.0, 1000)  # SOLUTION
or_final_table = complete_table(X_or, y_or, or_w, or_b)  # SOLUTION
or_final_table

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4_public(gradient_descent, or_losses_history):
    import numpy as np

    w, b, losses = gradient_descent(np.zeros((2, 2)), np.array([0, 1]), np.zeros(2), 0.0, 0.1, 3)
    assert np.shape(w) == (2,), "gradient_descent returns w with one entry per weight"
    assert len(losses) == 4, "losses has steps + 1 entries"
    assert len(or_losses_history) == 1001, "or_losses_history should have 1001 entries"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_and_gate(gradient_descent, gradient):
    from ps1_perceptron_checks import check_gradient_descent_run

    from nnkit.datasets import logic_gate

    X, y = logic_gate("AND")
    check_gradient_descent_run(gradient_descent, gradient, X, y, w0=(0.5, 0.5), b0=0.0,
                               eta=2.0, steps=25, what="AND data")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_random_separable(gradient_descent, gradient):
    import numpy as np
    from ps1_perceptron_checks import check_gradient_descent_run

    rng = np.random.default_rng(401)
    X = rng.normal(size=(20, 2))
    y = (X @ np.array([1.5, -2.0]) + 0.3 > 0).astype(int)
    check_gradient_descent_run(gradient_descent, gradient, X, y, w0=(0.0, 0.0), b0=0.0,
                               eta=0.5, steps=25, what="a new linearly separable set")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_leaves_w_unchanged(gradient_descent, w_lecture):
    import numpy as np

    from autograder.checks import as_float_array

    w = np.array([0.5, -0.5])
    result = gradient_descent(np.eye(2), np.array([0, 1]), w, 0.0, 0.5, 3)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise AssertionError("gradient_descent should return (w, b, losses)")
    message = "gradient_descent must not change the w it is given in place"
    assert np.array_equal(w, [0.5, -0.5]), message
    lecture = as_float_array(w_lecture, "w_lecture", shape=(2,))
    assert np.array_equal(lecture, [1.0, -1.0]), f"w_lecture changed: {message}"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_or_run(gradient_descent, or_w, or_b, or_losses_history, or_final_table):
    from ps1_perceptron_checks import check_or_training

    check_or_training(gradient_descent, or_w, or_b, or_losses_history, or_final_table)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5. Rosenblatt's perceptron rule
#
# Before gradient descent there was Rosenblatt's rule. It uses labels $y \in \{-1, +1\}$ and
# the step function $\varphi(z) = 1$ if $z \ge 0$, else $-1$. The threshold is folded into
# the weights with the *bias trick*: prepend $x_0 = 1$ to every observation, so that
# $w_0 = -\theta$ plays the role of the bias and $z = w \cdot x$.
#
# Training visits the observations in order and, for each one, updates
# $$w \leftarrow w + \eta\,(y - \hat y)\,x.$$

# %% [raw]
# # BEGIN QUESTION
# name: q5a
# points: 1

# %% [markdown]
# **5a.** Write `step(z)`, element by element, returning integers $\pm 1$.

# %%
def step(z):
    # BEGIN SOLUTION
    return np.where(np.asarray(z) >= 0, 1, -1)
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5a_public(step):
    import numpy as np

    assert list(step(np.array([-2.0, 3.0]))) == [-1, 1], "step(-2) = -1 and step(3) = 1"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_step(step):
    import numpy as np

    from autograder.checks import as_float_array
    from reference_impl.perceptron import step as ref

    z = np.array([-3.0, -1e-9, 0.0, 1e-9, 2.5])
    got = as_float_array(step(z), "step(z)", shape=(5,))
    assert got[2] == 1, "step(0) should be 1 (z >= 0)"
    assert np.array_equal(got, ref(z)), "step is wrong for some values of z"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5b
# points: 4

# %% [markdown]
# **5b.** Write `perceptron_train(X, y, eta=0.1, epochs=20)`:
#
# - `y` holds labels $\pm 1$; add the bias column yourself; start from all-zero weights;
# - one epoch visits every row once, in order, applying the rule above after each row;
# - count the rows that were misclassified (and therefore updated) in each epoch;
# - stop early after an epoch with no mistake;
# - return `(w, errors)`: the weights **with $w_0$ first** (length $d + 1$) and the list of
#   per-epoch mistake counts. (The bias weight in another place costs 1 of the 4 points.)
#
# Then train it on AND. `logic_gate` gives AND's labels as 0 and 1: map them to $\pm 1$
# first, e.g. `np.where(y_and == 1, 1, -1)`.

# %%
def perceptron_train(X, y, eta=0.1, epochs=20):
    # BEGIN SOLUTION
    Xb = np.hstack([np.ones((len(X), 1)), np.asarray(X, dtype=float)])
    w = np.zeros(Xb.shape[1])
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(Xb, y):
            y_hat = 1 if xi @ w >= 0 else -1
            if y_hat != yi:
                w = w + eta * (yi - y_hat) * xi
                mistakes += 1
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, errors
    # END SOLUTION


X_and, y_and = logic_gate("AND")
and_w, and_errors = perceptron_train(X_and, np.where(y_and == 1, 1, -1))  # SOLUTION
and_w, and_errors

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5b_public(perceptron_train):
    import numpy as np

    w, errors = perceptron_train(np.array([[1.0], [-1.0]]), np.array([1, -1]), 0.1, 5)
    assert np.shape(w) == (2,), "w has the bias weight first, then one weight per input"
    assert isinstance(errors, list) and len(errors) >= 1, "errors is a list, one per epoch"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_and(perceptron_train):
    from ps1_perceptron_checks import check_perceptron_run

    from nnkit.datasets import logic_gate

    X, y = logic_gate("AND")
    check_perceptron_run(perceptron_train, X, 2 * y - 1, eta=0.1, epochs=20, what="AND",
                         bias_first=False)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_bias_first(perceptron_train):
    from ps1_perceptron_checks import check_perceptron_run

    from nnkit.datasets import logic_gate

    X, y = logic_gate("OR")
    check_perceptron_run(perceptron_train, X, 2 * y - 1, eta=0.25, epochs=20, what="OR",
                         bias_first=True)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_random_separable(perceptron_train):
    import numpy as np
    from ps1_perceptron_checks import check_perceptron_run

    rng = np.random.default_rng(501)
    X = rng.normal(size=(40, 3))
    score = X @ np.array([1.0, -2.0, 0.5]) + 0.2
    X, score = X[np.abs(score) > 0.3], score[np.abs(score) > 0.3]  # keep a margin
    check_perceptron_run(perceptron_train, X, np.where(score > 0, 1, -1), eta=0.5, epochs=100,
                         what="a new linearly separable set", bias_first=False)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_xor(perceptron_train):
    from ps1_perceptron_checks import check_perceptron_run

    from nnkit.datasets import logic_gate

    X, y = logic_gate("XOR")
    check_perceptron_run(perceptron_train, X, 2 * y - 1, eta=0.1, epochs=12, what="XOR",
                         bias_first=False)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5c
# points: 1

# %% [markdown]
# **5c.** Train on XOR (labels mapped to $\pm 1$) with $\eta = 0.1$ for 20 epochs and store the
# per-epoch mistake counts in `xor_errors`. Look at them: does training ever settle?

# %%
X_xor, y_xor = logic_gate("XOR")
xor_w, xor_errors = perceptron_train(X_xor, np.where(y_xor == 1, 1, -1), 0.1, 20)  # SOLUTION
xor_errors

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5c_public(xor_errors):
    assert len(xor_errors) == 20, "xor_errors should have one entry for each of the 20 epochs"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5c_never_settles(xor_errors):
    import numpy as np

    from autograder.checks import as_float_array

    errors = as_float_array(xor_errors, "xor_errors", shape=(20,))
    assert np.all(errors >= 1), "on XOR every epoch should contain at least one mistake"
    assert np.all(errors <= 4), "there are only 4 rows, so at most 4 mistakes per epoch"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5d
# points: 2

# %% [markdown]
# **5d.** Why does Rosenblatt's rule never converge on XOR? Select all that apply.
#
# - **a.** No straight line separates XOR's two classes, and a single perceptron can only draw
#   a straight line (a hyperplane) between classes.
# - **b.** The learning rate is too small; with $\eta = 1$ it would converge.
# - **c.** The perceptron convergence theorem promises convergence only for linearly
#   separable data.
# - **d.** It needs more epochs; after a thousand it would converge.

# %%
q5d_answer = {"a", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5d_public(q5d_answer):
    assert isinstance(q5d_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q5d_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5d_credit_1(q5d_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q5d_answer, "q5d", options="abcd", correct="ac", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5d_credit_2(q5d_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q5d_answer, "q5d", options="abcd", correct="ac", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. Judging a classifier
#
# With labels 1 = positive and 0 = negative, count true positives (TP), false positives (FP),
# false negatives (FN) and true negatives (TN). Then
#
# $$\text{precision} = \frac{TP}{TP + FP}, \qquad \text{recall} = \frac{TP}{TP + FN}, \qquad
# F_1 = \frac{2}{1/\text{precision} + 1/\text{recall}}.$$
#
# When a denominator is 0 (for example, a classifier that never predicts 1 has no precision),
# return `0.0`. Likewise $F_1 = 0$ when precision or recall is 0.

# %% [raw]
# # BEGIN QUESTION
# name: q6a
# points: 4

# %% [markdown]
# **6a.** Write `confusion_matrix(y_true, y_pred)` returning the 2×2 array
# `[[TN, FP], [FN, TP]]` (rows: true class 0, 1; columns: predicted class 0, 1), and
# `precision(y_true, y_pred)`, `recall(y_true, y_pred)`, `f1(y_true, y_pred)`.

# %%
def confusion_matrix(y_true, y_pred):
    # BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.array(
        [
            [np.sum((y_true == 0) & (y_pred == 0)), np.sum((y_true == 0) & (y_pred == 1))],
            [np.sum((y_true == 1) & (y_pred == 0)), np.sum((y_true == 1) & (y_pred == 1))],
        ]
    )
    # END SOLUTION


def precision(y_true, y_pred):
    # BEGIN SOLUTION
    (tn, fp), (fn, tp) = confusion_matrix(y_true, y_pred)
    return float(tp / (tp + fp)) if tp + fp else 0.0
    # END SOLUTION


def recall(y_true, y_pred):
    # BEGIN SOLUTION
    (tn, fp), (fn, tp) = confusion_matrix(y_true, y_pred)
    return float(tp / (tp + fn)) if tp + fn else 0.0
    # END SOLUTION


def f1(y_true, y_pred):
    # BEGIN SOLUTION
    p, r = precision(y_true, y_pred), recall(y_true, y_pred)
    return 2 * p * r / (p + r) if p > 0 and r > 0 else 0.0
    # END SOLUTION


# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6a_public(confusion_matrix, precision, recall, f1):
    import numpy as np

    y = np.array([0, 1, 1, 0])
    assert np.shape(confusion_matrix(y, y)) == (2, 2), "the confusion matrix is 2 x 2"
    assert float(precision(y, y)) == 1.0, "a perfect classifier has precision 1"
    assert float(recall(y, y)) == 1.0, "a perfect classifier has recall 1"
    assert float(f1(y, y)) == 1.0, "a perfect classifier has F1 = 1"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_confusion_matrix(confusion_matrix):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.metrics import confusion_matrix as ref

    rng = np.random.default_rng(601)
    y_true, y_pred = rng.integers(0, 2, size=50), rng.integers(0, 2, size=50)
    assert_close(confusion_matrix(y_true, y_pred), ref(y_true, y_pred, labels=[0, 1]),
                 "confusion_matrix on 50 new labels")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_precision(precision):
    from ps1_perceptron_checks import check_binary_metric

    check_binary_metric(precision, "precision", seed=602)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_recall(recall):
    from ps1_perceptron_checks import check_binary_metric

    check_binary_metric(recall, "recall", seed=603)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6a_f1(f1):
    from ps1_perceptron_checks import check_binary_metric

    check_binary_metric(f1, "f1", seed=604)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6b
# points: 2

# %% [markdown]
# **6b.** A bank sees 1,000 transactions, of which 10 are fraud (positive, label 1). A lazy
# classifier always answers "not fraud". Build `fraud_true` and `fraud_pred` as arrays, then
# compute `fraud_accuracy`, the fraction of transactions it labels correctly (there is no
# accuracy function to write: `np.mean(fraud_true == fraud_pred)` is enough), and
# `fraud_recall` with your `recall`. Is a 99 %-accurate fraud detector good?

# %%
fraud_true = np.array([1] * 10 + [0] * 990)  # SOLUTION
fraud_pred = np.zeros(1000, dtype=int)  # SOLUTION
fraud_accuracy = float(np.mean(fraud_true == fraud_pred))  # SOLUTION
fraud_recall = recall(fraud_true, fraud_pred)  # SOLUTION
fraud_accuracy, fraud_recall

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6b_public(fraud_accuracy, fraud_recall):
    for name, value in (("fraud_accuracy", fraud_accuracy), ("fraud_recall", fraud_recall)):
        assert 0 <= float(value) <= 1, f"{name} is a fraction between 0 and 1"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6b_accuracy(fraud_accuracy):
    from autograder.checks import assert_close
    from reference_impl.metrics import accuracy

    expected = accuracy([1] * 10 + [0] * 990, [0] * 1000)
    assert_close(fraud_accuracy, expected, "fraud_accuracy", rtol=1e-3)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6b_recall(fraud_recall):
    from autograder.checks import assert_close
    from reference_impl.metrics import recall

    expected = recall([1] * 10 + [0] * 990, [0] * 1000)
    assert_close(fraud_recall, expected, "fraud_recall", atol=1e-9)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q7
# manual: true
# points: 2

# %% [markdown]
# **7.** In two or three sentences: why can $\sigma(h)$ be read as a probability, and what
# information does rounding it to $\hat y$ throw away? (Graded by hand.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# $\sigma$ maps any real $h$ into $(0, 1)$ and increases with $h$, and training with a
# probabilistic loss makes $\sigma(h)$ estimate $P(y = 1 \mid x)$. Rounding keeps only which
# side of 0.5 it falls on: $p = 0.51$ and $p = 0.99$ both become 1, so the confidence of the
# prediction, which the loss and any later threshold choice rely on, is lost.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# You are done. Save the notebook and submit it (push to your repository, or upload the
# `.ipynb`).
