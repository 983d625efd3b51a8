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
# # The rule: a mistake is charged at the question where it is made, and only there. Every
# # model is judged by the grader from its architecture and weights, on circles and spirals
# # the grader draws itself (ps4_network_design_checks.py), never with the student's predict.
# name: ps4-network-design
# export_cell: false
# check_all_cell: false
# strip_solutions_from_all_cells: true
# run_tests: true
# generate: true
# tests:
#   files: false
#   ok_format: false

# %% [markdown]
# # Problem set 4: designing a network
#
# A network's design is a handful of choices: how many inputs and outputs, how many hidden
# layers and units, which activation in each layer, how the classes are encoded, which loss,
# which optimizer and learning rate. In this lab you make each choice on small problems where
# you can see what it does: two circles, one inside the other; two interleaved spirals; and,
# briefly, MNIST.
#
# **How to work.** Fill in every `...`. After each question, run the cell with
# `grader.check("qN")`: it runs a few *public* checks. Passing them does not mean full marks:
# after the deadline, *hidden* tests judge your models on circles and spirals that the grader
# draws itself, with its own random seed, so a model earns its points only by having learnt
# the shape, not the 200 points you trained on. Keep the names we ask for.
#
# | question | topic | points |
# |---|---|---|
# | 1 | inputs and outputs (multiple choice) | 2 |
# | 2a | a single linear unit on the circles: loss and accuracy | 3 |
# | 2b | why it fails (multiple choice) | 2 |
# | 3a | a sigmoid hidden layer: how few units? | 4 |
# | 3b | width and depth (multiple choice) | 3 |
# | 4a | the encoding trap: why (multiple choice) | 2 |
# | 4b | the loss floor of a non-negative output | 2 |
# | 4c | a model that learns after the fix | 3 |
# | 5a | two spirals with fewer than 16 units per layer | 4 |
# | 5b | the same design with sigmoid units | 3 |
# | 6 | MSE instead of cross-entropy on MNIST | 4 |
# | 7 | optimizer and learning rate | 4 |
# | 8 | what you learnt (graded by hand) | 2 |
# | **total** | | **38** (36 autograded, 2 by hand) |
#
# **Multiple-choice questions** are "select all that apply". Give your answer as a set of
# letters, e.g. `{"a", "c"}`. You earn one point for every correct option you select and lose
# one for every incorrect option you select; a question never goes below zero.
#
# **Time budget.** The grader runs your notebook from top to bottom and allows **2 minutes**
# in all. The solution runs in about 20 seconds, most of it TensorFlow
# starting: keep every model small and train with `train(...)` below, which makes each
# training one quick call.
#
# **How the grader judges your models.** It takes each model's architecture
# (`model.get_config()`) and trained weights (`model.get_weights()`) and computes the outputs
# itself, in NumPy; it never calls your model's `predict`. Layer sizes are read from the
# shapes of the weights. So each model must be a `keras.Sequential` model (or a functional
# `keras.Model` whose layers follow one another in one chain, `x = layer(x)`) built from
# Keras's own layers (`Dense`, `Activation`, `Rescaling`, `Dropout`, `BatchNormalization`, …)
# with Keras's built-in activations (`"relu"`, `"sigmoid"`, `"tanh"`, …); the circle and
# spiral models take points of shape `(2,)`, the MNIST models images of shape `(784,)`.

# %%
import keras
import numpy as np
import tensorflow as tf

from nnkit import load_mnist
from nnkit.datasets import make_circles, make_spirals

keras.utils.set_random_seed(4)  # fixes Python's, NumPy's and TensorFlow's random numbers

# Two circles, 100 points each: class 0 has radius 2, class 1 radius 0.5 (noise 0.1).
X_circles, circle_class = make_circles(seed=0)
# The lecture's encoding: the outer circle is +1, the inner circle -1.
y_circles = np.where(circle_class == 0, 1.0, -1.0)


def train(model, x, y, steps):
    """Take ``steps`` gradient steps, each on the whole of ``(x, y)``, in one call to
    ``model.fit``; return the loss after the last step. While the model (or anything it is
    trained with) is still ``...``, or a function still to write returned nothing, it trains
    nothing and returns ``None``."""
    if any(v is ... or v is None for v in (model, x, y, steps)):
        print("nothing trained yet: fill in the `...` this model needs first")
        return None
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    model.steps_per_execution = steps  # all the steps in one TensorFlow call: much faster
    model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(steps), epochs=1, verbose=0)
    return mean_squared_error(model, x, y)


def encode(classes, targets):
    """The label of each point: ``targets[0]`` for class 0, ``targets[1]`` for class 1
    (``...`` while ``targets`` is)."""
    if targets is ...:
        return ...
    return np.where(np.asarray(classes) == 0, targets[0], targets[1])


def mean_squared_error(model, x, y):
    """The mean of (output - y)² over the points, for a model with one output."""
    outputs = np.asarray(model(np.asarray(x, dtype=np.float32)), dtype=np.float64)
    return float(np.mean((outputs.reshape(len(outputs), -1) - np.reshape(y, (len(x), -1))) ** 2))

# %% [markdown]
# ## 1. Inputs and outputs
#
# `X_circles` holds one point per row, `y_circles` one label per point. We want a network
# that takes a point and gives a number close to its label.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **1.** Which statements are true? Select all that apply.
#
# - **a.** The network's input has as many numbers as there are points, `X_circles.shape[0]`
#   (200).
# - **b.** The network's input has as many numbers as one point has coordinates,
#   `X_circles.shape[1]` (2).
# - **c.** The network's output has as many numbers as there are labels, `len(y_circles)`
#   (200).
# - **d.** The network's output is one number per point: the label of one point is a single
#   number.

# %%
q1_answer = {"b", "d"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1_public(q1_answer):
    assert isinstance(q1_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q1_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_credit_1(q1_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q1_answer, "q1", options="abcd", correct="bd", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_credit_2(q1_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q1_answer, "q1", options="abcd", correct="bd", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. A single linear unit
#
# The smallest network there is: one `Dense(1)` unit with no activation, $\hat y = w_1 x_1 +
# w_2 x_2 + b$, trained with the mean squared error (MSE).

# %% [raw]
# # BEGIN QUESTION
# name: q2a
# points: 3

# %% [markdown]
# **2a.** Build `linear_model` (`keras.Input(shape=(2,))` then one `Dense(1)` without
# activation), compile it with the `"mse"` loss and `keras.optimizers.Adam(learning_rate=0.05)`,
# and train it for 300 steps with the `train` line below. Then measure it on the circles:
#
# - `linear_loss`: its MSE on `X_circles`, `y_circles`;
# - `linear_accuracy`: the fraction of points it classifies right, reading an output
#   $\ge 0$ as $+1$ and an output $< 0$ as $-1$.

# %%
# BEGIN SOLUTION NO PROMPT
linear_model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
linear_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
# END SOLUTION
""" # BEGIN PROMPT
linear_model = ...
"""  # END PROMPT
train(linear_model, X_circles, y_circles, steps=300)
# BEGIN SOLUTION NO PROMPT
linear_outputs = np.asarray(linear_model(X_circles.astype(np.float32)))[:, 0]
linear_loss = float(np.mean((linear_outputs - y_circles) ** 2))
linear_accuracy = float(np.mean(np.where(linear_outputs >= 0, 1.0, -1.0) == y_circles))
# END SOLUTION
""" # BEGIN PROMPT
linear_loss = ...
linear_accuracy = ...
"""  # END PROMPT
linear_loss, linear_accuracy

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2a_public(linear_model, linear_loss, linear_accuracy):
    assert linear_model.count_params() == 3, "one Dense(1) on 2 inputs has 3 parameters"
    assert 0 <= linear_accuracy <= 1, "linear_accuracy is a fraction between 0 and 1"
    assert linear_loss >= 0, "a mean squared error is never negative"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_architecture(linear_model):
    from ps4_network_design_checks import check_dense_layers

    check_dense_layers(linear_model, "linear_model", [(1, "linear")])

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_loss(linear_model, linear_loss):
    from ps4_network_design_checks import check_measured_loss

    check_measured_loss(linear_model, "linear_model", linear_loss, "linear_loss")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2a_accuracy(linear_model, linear_accuracy):
    from ps4_network_design_checks import check_measured_accuracy

    check_measured_accuracy(linear_model, "linear_model", linear_accuracy, "linear_accuracy")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2b
# points: 2

# %% [markdown]
# **2b.** Your linear model's loss stays near 1 and its accuracy near one half, however long
# you train it. Why? Select all that apply.
#
# - **a.** Where $w_1 x_1 + w_2 x_2 + b \ge 0$ is a half-plane: the model's decision
#   boundary is a straight line, and no straight line has the inner circle on one side and
#   the whole ring around it on the other.
# - **b.** It has not been trained for long enough; a few thousand more steps would separate
#   the classes.
# - **c.** The circles are symmetric about the origin and the labels have mean 0, so the best
#   linear fit in the MSE sense is close to the constant 0, whose loss is 1.
# - **d.** A `relu` activation on this single unit would let it separate the circles.

# %%
q2b_answer = {"a", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2b_public(q2b_answer):
    assert isinstance(q2b_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q2b_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2b_credit_1(q2b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q2b_answer, "q2b", options="abcd", correct="ac", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2b_credit_2(q2b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q2b_answer, "q2b", options="abcd", correct="ac", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. A hidden layer: width and depth
#
# Put a hidden layer of `hidden_units` sigmoid units between the input and the linear
# output: `Dense(hidden_units, activation="sigmoid")` then `Dense(1)`. The nonlinearity is
# what lets the network bend its decision boundary.

# %% [raw]
# # BEGIN QUESTION
# name: q3a
# points: 4

# %% [markdown]
# **3a.** Build, compile (MSE, `Adam(learning_rate=0.1)`) and train `circle_model` with 500
# steps. Start with 2 hidden units and increase `hidden_units` until the loss printed is
# below 0.1. The grader measures the loss on new circles it draws itself: one point for the
# architecture, two for a loss below **0.1** there, and the last for reaching it with **at
# most 4** hidden units.

# %%
hidden_units = 4  # SOLUTION
# BEGIN SOLUTION NO PROMPT
circle_model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(hidden_units, activation="sigmoid"),
        keras.layers.Dense(1),
    ]
)
circle_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mse")
# END SOLUTION
""" # BEGIN PROMPT
circle_model = ...
"""  # END PROMPT
circle_loss = train(circle_model, X_circles, y_circles, steps=500)
circle_loss

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3a_public(circle_model, hidden_units):
    assert len(circle_model.layers) == 2, "one hidden Dense layer, then the output layer"
    assert circle_model.layers[0].units == hidden_units, "the hidden layer has hidden_units"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_architecture(circle_model):
    from ps4_network_design_checks import check_dense_layers

    check_dense_layers(circle_model, "circle_model", [(None, "sigmoid"), (1, "linear")])

# %%
""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q3a_loss_on_new_circles(circle_model):
    from ps4_network_design_checks import check_circle_loss

    check_circle_loss(circle_model, "circle_model", (1.0, -1.0), 0.1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_at_most_4_units(circle_model):
    from ps4_network_design_checks import check_circle_loss, check_unit_budget

    check_unit_budget(circle_model, "circle_model", 4)
    check_circle_loss(circle_model, "circle_model", (1.0, -1.0), 0.1)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b
# points: 3

# %% [markdown]
# **3b.** Which statements are true? Select all that apply.
#
# - **a.** One sigmoid unit's output is constant along every line perpendicular to its
#   weight vector: where it is above any level is a half-plane.
# - **b.** With two sigmoid units, the region a network calls "inner" is unbounded (a strip,
#   a wedge or a half-plane): it cannot enclose the inner circle without also reaching the
#   ring. At least three units are needed.
# - **c.** Adding a linear layer, `Dense(hidden_units)` without activation, between the
#   sigmoid layer and the output lets the network separate the circles with fewer sigmoid
#   units.
# - **d.** A linear layer followed by the linear output computes one linear map of the
#   sigmoid outputs: it adds parameters but no function the network could not already
#   compute.
# - **e.** More hidden units always give a lower training loss after the same number of
#   steps.

# %%
q3b_answer = {"a", "b", "d"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3b_public(q3b_answer):
    assert isinstance(q3b_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q3b_answer) <= set("abcde"), "choose among the letters a, b, c, d, e"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_credit_1(q3b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q3b_answer, "q3b", options="abcde", correct="abd", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_credit_2(q3b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q3b_answer, "q3b", options="abcde", correct="abd", at_least=2)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_credit_3(q3b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q3b_answer, "q3b", options="abcde", correct="abd", at_least=3)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. The encoding trap
#
# Take a network with `relu` hidden units and put a `relu` on its output too,
# `Dense(1, activation="relu")`, and train it on the $\pm 1$ labels. Try it: its loss never
# goes below 0.5, however many units or steps you give it.

# %% [raw]
# # BEGIN QUESTION
# name: q4a
# points: 2

# %% [markdown]
# **4a.** Why? Select all that apply.
#
# - **a.** $\mathrm{relu}(z) = \max(0, z) \ge 0$, so the output can never be $-1$: each of
#   the 100 points labelled $-1$ costs at least $(0 - (-1))^2 = 1$, and the mean over all 200
#   points is at least $0.5$, whatever the weights.
# - **b.** Networks with a `relu` anywhere cannot be trained with the MSE loss.
# - **c.** The floor disappears when the classes are encoded as 0 and 1 instead, or when the
#   output activation can produce negative numbers (no activation, or `tanh`).
# - **d.** More hidden units or more steps would bring the loss below 0.5.

# %%
q4a_answer = {"a", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4a_public(q4a_answer):
    assert isinstance(q4a_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q4a_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4a_credit_1(q4a_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q4a_answer, "q4a", options="abcd", correct="ac", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4a_credit_2(q4a_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q4a_answer, "q4a", options="abcd", correct="ac", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4b
# points: 2

# %% [markdown]
# **4b.** Write `nonnegative_mse_floor(labels)`: the smallest MSE that *any* model whose
# outputs are never negative can reach on `labels` (any real numbers, not only $\pm 1$).
# Hint: choose the best non-negative output for each label on its own. Then compute
# `relu_floor`, the floor for `y_circles`.

# %%
def nonnegative_mse_floor(labels):
    # BEGIN SOLUTION
    labels = np.asarray(labels, dtype=float)
    return float(np.mean(np.minimum(labels, 0.0) ** 2))
    # END SOLUTION


relu_floor = nonnegative_mse_floor(y_circles)  # SOLUTION
relu_floor

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4b_public(nonnegative_mse_floor, relu_floor):
    assert nonnegative_mse_floor([0.0, 1.0, 2.0]) == 0, "non-negative labels can be met exactly"
    assert 0 <= relu_floor <= 1, "relu_floor is a mean squared error for labels ±1"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4b_relu_floor(relu_floor):
    from ps4_network_design_checks import course_circles

    from autograder.checks import assert_close
    from reference_impl.design import nonnegative_mse_floor

    _, labels = course_circles()
    assert_close(relu_floor, nonnegative_mse_floor(labels), "relu_floor", rtol=1e-6)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4b_new_labels(nonnegative_mse_floor):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.design import nonnegative_mse_floor as expected

    rng = np.random.default_rng(401)
    for labels in (rng.normal(size=13), np.where(rng.random(20) < 0.3, -1.0, 1.0)):
        assert_close(nonnegative_mse_floor(labels.tolist()), expected(labels),
                     "nonnegative_mse_floor on new labels", rtol=1e-6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4c
# points: 3

# %% [markdown]
# **4c.** Fix the trap, either way: change the encoding or change the output activation.
# Set `fixed_targets`, the pair (target for the outer circle, target for the inner circle)
# your model is trained on, and build, compile (MSE) and train `fixed_model`, a network with
# one or more hidden layers and one output. The grader scores it on new circles against your
# own targets: one point for a model with a hidden layer and one output, two for an MSE
# below $0.025\,(t_\text{outer} - t_\text{inner})^2$ (0.1 for targets $\pm 1$, 0.025 for 0
# and 1).

# %%
fixed_targets = (0.0, 1.0)  # SOLUTION
fixed_labels = encode(circle_class, fixed_targets)
# BEGIN SOLUTION NO PROMPT
fixed_model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
fixed_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
# END SOLUTION
""" # BEGIN PROMPT
fixed_model = ...
"""  # END PROMPT
fixed_loss = train(fixed_model, X_circles, fixed_labels, steps=500)
fixed_loss

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4c_public(fixed_model, fixed_targets):
    assert len(fixed_targets) == 2, "fixed_targets is a pair (outer, inner)"
    assert fixed_targets[0] != fixed_targets[1], "the two circles need different targets"
    assert len(fixed_model.layers) >= 2, "fixed_model needs a hidden layer and an output"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4c_architecture(fixed_model, fixed_targets):
    from ps4_network_design_checks import check_hidden_network, read_targets

    read_targets(fixed_targets, "fixed_targets")
    check_hidden_network(fixed_model, "fixed_model")

# %%
""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q4c_loss_on_new_circles(fixed_model, fixed_targets):
    from ps4_network_design_checks import check_circle_loss, read_targets

    targets = read_targets(fixed_targets, "fixed_targets")
    check_circle_loss(fixed_model, "fixed_model", targets, 0.025 * (targets[0] - targets[1]) ** 2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5. Two spirals
#
# Each class is one arm of a spiral: with $\theta$ running over 100 evenly spaced angles from
# 0 to $4\pi$, arm 0 is the points $(\theta \sin\theta, \theta\cos\theta)$ and arm 1 the same
# points reflected through the origin. The arms wind around each other twice.

# %%
X_spirals, spiral_class = make_spirals()  # arm 0 first, then arm 1

# %% [raw]
# # BEGIN QUESTION
# name: q5a
# points: 4

# %% [markdown]
# **5a.** Choose the encoding and the decision threshold, then design the network.
#
# - `spiral_targets`: the pair (target for arm 0, target for arm 1) you train on;
# - `spiral_threshold`: the output at which your model changes its mind: an output on the
#   side of the threshold where arm 1's target lies means arm 1;
# - `build_spiral_model(activation)`: a compiled Keras network (see the top) for points of
#   shape `(2,)` with one output, **fewer than 16 units in every hidden layer**, using
#   `activation` in its hidden layers (a `keras.layers.Rescaling` layer first, to bring the
#   coordinates, up to about 12.6, near $[-1, 1]$, helps).
#
# `spiral_model = build_spiral_model("relu")` is trained for 1000 steps. The grader draws
# its own spirals (more points along the arms, and a little noise) and classifies them with
# your model and your threshold: one point for a threshold that lies between your two
# targets, and one each for an accuracy of **75 %**, **90 %** and **95 %**, given only when
# every hidden layer has fewer than 16 units.

# %%
spiral_targets = (0.0, 1.0)  # SOLUTION
spiral_threshold = 0.5  # SOLUTION


def build_spiral_model(activation):
    # BEGIN SOLUTION
    # relu units do well on coordinates brought near [-1, 1]. Sigmoid units are almost
    # linear there, so they get the coordinates 2.5 times wider, and larger steps.
    scale, rate = (0.1, 0.02) if activation == "relu" else (0.25, 0.1)
    spiral_net = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Rescaling(scale),
            keras.layers.Dense(15, activation=activation),
            keras.layers.Dense(15, activation=activation),
            keras.layers.Dense(1),
        ]
    )
    spiral_net.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss="mse")
    return spiral_net
    # END SOLUTION


spiral_labels = encode(spiral_class, spiral_targets)
spiral_model = build_spiral_model("relu")
spiral_loss = train(spiral_model, X_spirals, spiral_labels, steps=1000)
spiral_loss

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5a_public(spiral_model, spiral_targets, spiral_threshold):
    assert len(spiral_targets) == 2, "spiral_targets is a pair (arm 0, arm 1)"
    assert isinstance(spiral_threshold, (int, float)), "spiral_threshold is a number"
    dense = [layer["config"] for layer in spiral_model.get_config()["layers"]
             if layer["class_name"] == "Dense"]
    assert len(dense) >= 2, "spiral_model needs hidden layers"
    assert all(layer["units"] < 16 for layer in dense[:-1]), "fewer than 16 units per hidden layer"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_threshold_matches_encoding(spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_threshold

    check_threshold(spiral_targets, spiral_threshold)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_accuracy_75(spiral_model, spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_spiral_accuracy

    check_spiral_accuracy(spiral_model, "spiral_model", spiral_targets, spiral_threshold, 0.75)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_accuracy_90(spiral_model, spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_spiral_accuracy

    check_spiral_accuracy(spiral_model, "spiral_model", spiral_targets, spiral_threshold, 0.90)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_accuracy_95(spiral_model, spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_spiral_accuracy

    check_spiral_accuracy(spiral_model, "spiral_model", spiral_targets, spiral_threshold, 0.95)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5b
# points: 3

# %% [markdown]
# **5b.** Now the same design with sigmoid hidden units: `spiral_sigmoid_model =
# build_spiral_model("sigmoid")`, trained like `spiral_model`. Change `build_spiral_model`
# until both versions work (go back and rerun 5a). One point for the same layers as
# `spiral_model` with sigmoid hidden units, one each for an accuracy of **75 %** and **90 %**
# on the grader's spirals (with the unit budget and the threshold of 5a).

# %%
spiral_sigmoid_model = build_spiral_model("sigmoid")
spiral_sigmoid_loss = train(spiral_sigmoid_model, X_spirals, spiral_labels, steps=1000)
spiral_sigmoid_loss

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5b_public(spiral_sigmoid_model):
    dense = [layer["config"] for layer in spiral_sigmoid_model.get_config()["layers"]
             if layer["class_name"] == "Dense"]
    activations = {layer["activation"] for layer in dense[:-1]}
    assert activations == {"sigmoid"}, "sigmoid in every hidden layer"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_same_design(spiral_model, spiral_sigmoid_model):
    from ps4_network_design_checks import check_same_design

    check_same_design(spiral_model, spiral_sigmoid_model, "sigmoid")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_accuracy_75(spiral_sigmoid_model, spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_spiral_accuracy

    check_spiral_accuracy(spiral_sigmoid_model, "spiral_sigmoid_model", spiral_targets,
                          spiral_threshold, 0.75)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_accuracy_90(spiral_sigmoid_model, spiral_targets, spiral_threshold):
    from ps4_network_design_checks import check_spiral_accuracy

    check_spiral_accuracy(spiral_sigmoid_model, "spiral_sigmoid_model", spiral_targets,
                          spiral_threshold, 0.90)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. MSE instead of cross-entropy on MNIST
#
# A softmax output gives ten probabilities, and a one-hot label is a probability vector too,
# so both the cross-entropy and the MSE can measure how far the one is from the other. Here
# you train the same single softmax layer with each, on 5,000 training images for one epoch.

# %%
(train_images, train_digits), (test_images, test_digits) = load_mnist()
x_mnist = train_images[:5000].reshape(5000, 784).astype(np.float32) / 255
y_mnist = np.eye(10, dtype=np.float32)[train_digits[:5000]]
x_mnist_test = test_images.reshape(len(test_images), 784).astype(np.float32) / 255
y_mnist_test = np.eye(10, dtype=np.float32)[test_digits]


def softmax_layer(loss):
    """784 pixels -> Dense(10, softmax), compiled with ``loss`` and Adam(0.005)."""
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss=loss,
                  metrics=["accuracy"])
    return model

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 4

# %% [markdown]
# **6.** Build `mnist_ce = softmax_layer(...)` with the categorical cross-entropy and
# `mnist_mse = softmax_layer(...)` with the mean squared error, train each for one epoch in
# batches of 100 with the lines below, and compare the test losses and accuracies they
# print. One point for the two models, one for `mnist_ce` reaching 80 % on digits the grader
# holds back, and two for your choice of statements (select all that apply):
#
# - **a.** The MSE model's loss is many times smaller, so it is the better classifier.
# - **b.** The two losses are on different scales (the MSE of probability vectors is at most
#   0.2 per image here, a cross-entropy can be any positive number), so comparing their
#   values says nothing about which model classifies better: compare accuracies.
# - **c.** After this short training the two models classify about equally well, within a
#   few percent.
# - **d.** The MSE loss cannot be used with a softmax output.

# %%
mnist_ce = softmax_layer("categorical_crossentropy")  # SOLUTION
mnist_mse = softmax_layer("mse")  # SOLUTION
for mnist_model in (mnist_ce, mnist_mse):
    if mnist_model is not ...:
        mnist_model.fit(x_mnist, y_mnist, batch_size=100, epochs=1, verbose=0)
        print(mnist_model.loss, "test loss and accuracy:",
              mnist_model.evaluate(x_mnist_test, y_mnist_test, batch_size=1000, verbose=0))
q6_answer = {"b", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6_public(mnist_ce, mnist_mse, q6_answer):
    assert mnist_ce.count_params() == 7850 and mnist_mse.count_params() == 7850, (
        "both models are one Dense(10) layer on 784 pixels"
    )
    assert set(q6_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6_models(mnist_ce, mnist_mse):
    from ps4_network_design_checks import check_mnist_model

    check_mnist_model(mnist_ce, "mnist_ce", "categorical_crossentropy")
    check_mnist_model(mnist_mse, "mnist_mse", "mse")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6_accuracy_80(mnist_ce):
    from ps4_network_design_checks import check_mnist_accuracy

    check_mnist_accuracy(mnist_ce, "mnist_ce", 0.80)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6_credit_1(q6_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q6_answer, "q6", options="abcd", correct="bc", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q6_credit_2(q6_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q6_answer, "q6", options="abcd", correct="bc", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 7. Optimizer and learning rate
#
# The same small circle network (2 sigmoid hidden units would do too little, so 4), from the
# same starting weights, trained for 150 steps with plain gradient descent (`SGD`) and with
# `Adam`, at three learning rates. `restart` puts a model back to its starting weights and
# its optimizer back to step 0 with a new learning rate, so every run starts from the same
# place.

# %%
def lr_study_model(optimizer):
    model = keras.Sequential(
        [keras.Input(shape=(2,)), keras.layers.Dense(4, activation="sigmoid"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def restart(model, weights, learning_rate):
    """Back to ``weights``, the optimizer's step count and running averages to zero, and
    the optimizer's learning rate to ``learning_rate``."""
    model.set_weights(weights)
    for variable in model.optimizer.variables:
        if variable is not model.optimizer.learning_rate:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    model.optimizer.learning_rate.assign(learning_rate)


learning_rates = (0.01, 0.1, 1.0)

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 4

# %% [markdown]
# **7.** Fill in `lr_table`, a dict `{"sgd": {rate: final loss, ...}, "adam": {rate: final
# loss, ...}}` with the loss `train` returns after 150 steps for each of `learning_rates`
# (a run that blew up may give `nan` or `inf`: keep it as it is). One point for the table,
# three for your choice of statements (select all that apply):
#
# - **a.** With SGD at the largest rate the loss ends far above where it started (or at
#   `nan`): each step overshoots the minimum by more than the last, and training diverges.
# - **b.** Once the loss has blown up, training longer at the same rate brings it back down.
# - **c.** Adam divides each step by a running estimate of the gradient's size, so its steps
#   are about as long as the learning rate: the rate that makes SGD diverge here does not
#   make Adam diverge.
# - **d.** The larger the learning rate, the lower the final loss, for both optimizers.
# - **e.** The same learning rate means a different step for SGD and for Adam, so a good rate
#   for one says little about the other.

# %%
lr_models = {"sgd": lr_study_model(keras.optimizers.SGD()),
             "adam": lr_study_model(keras.optimizers.Adam())}
start_weights = lr_models["sgd"].get_weights()
# BEGIN SOLUTION NO PROMPT
lr_table = {}
for name, model in lr_models.items():
    lr_table[name] = {}
    for rate in learning_rates:
        restart(model, start_weights, rate)
        lr_table[name][rate] = train(model, X_circles, y_circles, steps=150)
# END SOLUTION
""" # BEGIN PROMPT
lr_table = ...
"""  # END PROMPT
q7_answer = {"a", "c", "e"}  # SOLUTION
lr_table

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q7_public(lr_table, q7_answer):
    assert set(lr_table) == {"sgd", "adam"}, "lr_table has the keys 'sgd' and 'adam'"
    assert all(len(row) == 3 for row in lr_table.values()), "one loss per learning rate"
    assert set(q7_answer) <= set("abcde"), "choose among the letters a, b, c, d, e"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_table(lr_table):
    from ps4_network_design_checks import check_lr_table

    check_lr_table(lr_table, (0.01, 0.1, 1.0))

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_credit_1(q7_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q7_answer, "q7", options="abcde", correct="ace", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_credit_2(q7_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q7_answer, "q7", options="abcde", correct="ace", at_least=2)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_credit_3(q7_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q7_answer, "q7", options="abcde", correct="ace", at_least=3)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q8
# manual: true
# points: 2

# %% [markdown]
# **8.** In three or four sentences: how did you arrive at your spiral network (what did you
# try first, what failed, what changed it), and what does that say about how networks are
# designed in practice? (Graded by hand.)

# %% [raw]
# # BEGIN SOLUTION

# %% [markdown]
# A good answer describes real trials: for instance, two relu layers of 15 units on the raw
# coordinates learnt some turns but not others, and rescaling the inputs to about $[-1, 1]$
# made the same network learn both arms within the step budget; the sigmoid version then
# failed on the same inputs, because sigmoid units are almost linear near 0, and learnt once
# its inputs were spread wider and its steps were larger. It concludes that there is no formula for the
# architecture: designs are found by informed trial and error (nonlinearity, enough units,
# an encoding that fits the output, a learning rate that fits the optimizer), and many
# different designs work.

# %% [raw]
# # END SOLUTION

# %% [raw]
# # END QUESTION

# %% [markdown]
# You are done. Save the notebook and submit it (push to your repository, or upload the
# `.ipynb`).
