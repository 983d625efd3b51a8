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
# name: ps3-keras-mnist
# export_cell: false
# check_all_cell: false
# strip_solutions_from_all_cells: true
# run_tests: true
# generate: true
# tests:
#   files: false
#   ok_format: false

# %% [markdown]
# # Problem set 3: Keras on MNIST
#
# In this problem set you train real networks on the MNIST handwritten digits with Keras:
# you prepare the data, choose the output layer and the loss that fit a task, compute a
# softmax and a cross-entropy by hand, and train three models: a single softmax layer, the
# lectures' network with one hidden layer, and a network of your own design.
#
# **How to work.** Fill in every `...`. After each question, run the cell with
# `grader.check("qN")`: it runs a few *public* checks. Passing them does not mean full marks:
# after the deadline, *hidden* tests check your functions on new inputs and measure your
# models' accuracy on 10,000 digits you never see (see "The held-back digits" below). Keep
# the names we ask for.
#
# | question | topic | points |
# |---|---|---|
# | 1 | preparing the data | 4 |
# | 2 | output activation and loss, by task | 5 |
# | 3a | softmax by hand | 2 |
# | 3b | cross-entropy by hand | 2 |
# | 4 | a single softmax layer, ≥ 90 % | 3 |
# | 5a | the lectures' network: architecture and compilation | 3 |
# | 5b | the lectures' network: accuracy | 3 |
# | 6 | design challenge, ≥ 98 % (**bonus**) | 2 |
# | 7 | a learning rate of 1 (multiple choice) | 2 |
# | 8a | epochs (multiple choice) | 2 |
# | 8b | batch size (multiple choice) | 2 |
# | **total** | | **28 + 2 bonus** |
#
# **Multiple-choice questions** are "select all that apply". Give your answer as a set of
# letters, e.g. `{"a", "c"}`. You earn one point for every correct option you select and lose
# one for every incorrect option you select; a question never goes below zero.
#
# **Time budget.** The grader runs your notebook from top to bottom on 2 CPU cores and allows
# **3 minutes** for all the training in it (and 3 minutes for any single cell). The solution
# trains in well under a minute: a few epochs per model are enough.
#
# **Saved models.** Each training cell below uses `fit_or_load`: the first time it trains the
# model and saves it to a `.keras` file next to the notebook; when that file exists it loads
# it instead of training, which saves you time while you work. The grader retrains: it runs
# your cells from the top with no `.keras` file present, so what is graded is the code in your
# notebook (seeded, so the same notebook gets the same scores every time). Only if your
# instructor says saved models are accepted does the grader load the `.keras` files of a
# submitted folder instead. Either way, **delete a `.keras` file whenever you change that
# model**, or the old one is what you keep looking at.
#
# **The held-back digits.** MNIST has 60,000 training images. `load_mnist` gives you the
# first 50,000 to train on and the 10,000 public test images to measure yourself on; the last
# 10,000 training images are held back. Accuracy points are scored on those held-back digits,
# which neither your notebook nor the grader's sandbox ever holds, so a model earns them only
# by having learnt digits. They are as hard as the test images: expect an accuracy within
# about half a percent of the test accuracy your notebook prints, and aim a little above each
# threshold. The feedback gives both numbers.
#
# **Your data feeds your models.** Questions 4 to 6 train on the `x_train` and `y_train` you
# prepare in question 1, so a mistake there also costs the accuracy points of every model
# that cannot learn from it. The grader itself always scores on images prepared correctly.
#
# **How the grader judges your models.** The grader takes each model's architecture
# (`model.get_config()`) and its trained weights (`model.get_weights()`) and computes the
# predictions itself, on the held-back images prepared as in question 1: shape `(n, 784)`,
# dtype `float32`, values in $[0, 1]$. It never calls your model's `predict`. So each model must be a
# `keras.Sequential` model that takes exactly that input and outputs 10 class probabilities,
# built from Keras's own layers: `Dense`, `Dropout`, `Activation`, `Softmax`, `ReLU`,
# `LeakyReLU`, `BatchNormalization`, `Rescaling`, `Flatten`, `Reshape`, `GaussianNoise`,
# `GaussianDropout`, `AlphaDropout`, with Keras's built-in activations (`"relu"`, `"softmax"`,
# `"tanh"`, …). A `Lambda` layer, a layer or activation of your own, or a model written as a
# subclass cannot be graded. Layer sizes, activations and parameter counts are read from the
# same architecture and weights.

# %%
import os

import keras
import numpy as np

from nnkit import load_mnist

keras.utils.set_random_seed(3)  # fixes Python's, NumPy's and TensorFlow's random numbers

(train_images, train_digits), (test_images, test_digits) = load_mnist()
train_images.shape, train_digits.shape, test_images.shape, test_digits.shape


def fit_or_load(model, path, *fit_args, **fit_kwargs):
    """Train ``model`` with ``model.fit(*fit_args, **fit_kwargs)`` and save it to ``path``;
    if ``path`` already exists, return the model saved there instead (no training). While the
    model, or anything it is trained with, is still ``...``, it trains nothing and returns
    ``model`` as it is."""
    if model is ... or any(arg is ... for arg in (*fit_args, *fit_kwargs.values())):
        print(f"{path}: nothing trained yet, fill in the `...` this model needs first")
        return model
    if os.path.exists(path):
        print(f"loading the saved model {path} (delete the file to train again)")
        return keras.saving.load_model(path, safe_mode=True)
    model.fit(*fit_args, **fit_kwargs)
    model.save(path)
    return model

# %% [markdown]
# ## 1. Preparing the data
#
# `load_mnist` gives the images as `uint8` arrays of shape `(n, 28, 28)` with pixel values
# 0 to 255, and the labels as integers 0 to 9. A dense network wants each image as one row of
# 784 numbers on a small scale, and a softmax output trained with categorical cross-entropy
# wants each label as a *one-hot* row: ten numbers, all 0 except a 1 at the digit.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4

# %% [markdown]
# **1.** Write
#
# - `prepare_images(images)`: shape `(n, 28, 28)` → `(n, 784)`, dtype `float32`, pixel values
#   scaled from 0..255 to $[0, 1]$ (divide by 255);
# - `prepare_labels(digits)`: integer labels of shape `(n,)` → one-hot rows of shape
#   `(n, 10)`, dtype `float32`.
#
# Then prepare the training and the test set: `x_train`, `y_train`, `x_test`, `y_test`.

# %%
def prepare_images(images):
    # BEGIN SOLUTION
    images = np.asarray(images)
    return images.reshape(len(images), 28 * 28).astype(np.float32) / 255
    # END SOLUTION


def prepare_labels(digits):
    # BEGIN SOLUTION
    return np.eye(10, dtype=np.float32)[np.asarray(digits)]
    # END SOLUTION


x_train, y_train = prepare_images(train_images), prepare_labels(train_digits)  # SOLUTION
x_test, y_test = prepare_images(test_images), prepare_labels(test_digits)  # SOLUTION
np.shape(x_train), np.shape(y_train)

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q1_public(prepare_images, prepare_labels):
    import numpy as np

    x = prepare_images(np.full((2, 28, 28), 255, dtype=np.uint8))
    assert np.shape(x) == (2, 784), "prepare_images should turn (n, 28, 28) into (n, 784)"
    assert x.dtype == np.float32, "prepare_images should return float32"
    assert float(x.max()) == 1.0, "pixel 255 should become 1.0"
    y = prepare_labels(np.array([0, 9]))
    assert np.shape(y) == (2, 10), "prepare_labels should give one-hot rows of 10"
    assert list(np.argmax(y, axis=1)) == [0, 9], "the 1 of each row sits at the digit"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_image_layout(prepare_images):
    import numpy as np

    from autograder.checks import as_float_array

    images = np.random.default_rng(301).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    got = prepare_images(images)
    as_float_array(got, "prepare_images on 7 new images", shape=(7, 784))
    assert getattr(got, "dtype", None) == np.float32, "prepare_images should return float32"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_image_values(prepare_images):
    import numpy as np

    from autograder.checks import assert_close
    from nnkit.preprocessing import flatten, scale

    images = np.random.default_rng(302).integers(0, 256, size=(9, 28, 28), dtype=np.uint8)
    images[0] = 255  # a white image must become all ones
    assert_close(prepare_images(images), scale(flatten(images), np.float64),
                 "prepare_images on 9 new images (scaled pixel values)", rtol=1e-6)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_label_layout(prepare_labels):
    import numpy as np

    from autograder.checks import as_float_array

    got = prepare_labels(np.array([3, 0, 9, 9, 1], dtype=np.uint8))
    as_float_array(got, "prepare_labels on 5 new labels", shape=(5, 10))
    assert getattr(got, "dtype", None) == np.float32, "prepare_labels should return float32"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q1_label_values(prepare_labels):
    import numpy as np

    from autograder.checks import assert_close
    from nnkit.preprocessing import one_hot

    digits = np.random.default_rng(303).integers(0, 10, size=12).astype(np.uint8)
    assert_close(prepare_labels(digits), one_hot(digits, 10, np.float64),
                 "prepare_labels on 12 new labels (one-hot rows)")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. Output activation and loss, by task
#
# The last layer's activation decides what the network's outputs can mean, and the loss must
# fit that meaning.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 5

# %% [markdown]
# **2.** Fill in `output_and_loss`: for each task, a pair `(activation, loss)`. Choose the
# activation from `"sigmoid"`, `"softmax"`, `"none"` (a linear output) and the loss from
# `"binary_crossentropy"`, `"categorical_crossentropy"`, `"mse"`.
#
# - `"binary"`: two classes, one output, $P(y = 1)$;
# - `"multiclass"`: one label out of $K$ classes (like MNIST);
# - `"multilabel"`: any number of $K$ labels may be true at once (a photo with a cat *and*
#   a dog);
# - `"regression"`: any real number (a price);
# - `"regression_01"`: a real number known to lie in $[0, 1]$ (a proportion).

# %%
output_and_loss = {}
output_and_loss["binary"] = ("sigmoid", "binary_crossentropy")  # SOLUTION
output_and_loss["multiclass"] = ("softmax", "categorical_crossentropy")  # SOLUTION
output_and_loss["multilabel"] = ("sigmoid", "binary_crossentropy")  # SOLUTION
output_and_loss["regression"] = ("none", "mse")  # SOLUTION
output_and_loss["regression_01"] = ("sigmoid", "mse")  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q2_public(output_and_loss):
    tasks = {"binary", "multiclass", "multilabel", "regression", "regression_01"}
    assert isinstance(output_and_loss, dict), "output_and_loss should be a dict"
    assert set(output_and_loss) == tasks, f"output_and_loss needs exactly the keys {sorted(tasks)}"
    for task, pair in output_and_loss.items():
        assert len(pair) == 2, f"{task}: give a pair (activation, loss)"
        assert pair[0] in ("sigmoid", "softmax", "none"), f"{task}: unknown activation"
        assert pair[1] in ("binary_crossentropy", "categorical_crossentropy", "mse"), (
            f"{task}: unknown loss"
        )

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2_binary(output_and_loss):
    from ps3_keras_mnist_checks import check_output_and_loss

    check_output_and_loss(output_and_loss, "binary")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2_multiclass(output_and_loss):
    from ps3_keras_mnist_checks import check_output_and_loss

    check_output_and_loss(output_and_loss, "multiclass")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2_multilabel(output_and_loss):
    from ps3_keras_mnist_checks import check_output_and_loss

    check_output_and_loss(output_and_loss, "multilabel")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2_regression(output_and_loss):
    from ps3_keras_mnist_checks import check_output_and_loss

    check_output_and_loss(output_and_loss, "regression")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q2_regression_01(output_and_loss):
    from ps3_keras_mnist_checks import check_output_and_loss

    check_output_and_loss(output_and_loss, "regression_01")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. Softmax and cross-entropy by hand
#
# For scores $z_1, \dots, z_K$ the softmax gives the probabilities
#
# $$p_k = \frac{e^{z_k}}{\sum_{j=1}^K e^{z_j}},$$
#
# and for a one-hot label $y$ the cross-entropy of the prediction $p$ is
# $L = -\sum_k y_k \log p_k$, that is $-\log$ of the probability given to the true class.
# Over $n$ rows, the loss is the mean of the rows' cross-entropies.

# %% [raw]
# # BEGIN QUESTION
# name: q3a
# points: 2

# %% [markdown]
# **3a.** Write `softmax(z)` for a vector of scores, or for a 2-d array with one row of scores
# per sample (apply it to each row). It must not overflow for large scores such as 1000 (hint:
# subtracting the same number from every score does not change the softmax). Then compute
# `lecture_softmax`, the softmax of the lecture's scores $(2.33, -1.46, 0.56)$.

# %%
def softmax(z):
    # BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


lecture_softmax = softmax(np.array([2.33, -1.46, 0.56]))  # SOLUTION
lecture_softmax

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3a_public(softmax, lecture_softmax):
    import numpy as np

    assert np.shape(lecture_softmax) == (3,), "lecture_softmax should hold 3 probabilities"
    assert abs(float(np.sum(lecture_softmax)) - 1) < 1e-6, "probabilities should sum to 1"
    assert np.shape(softmax(np.zeros((2, 4)))) == (2, 4), "softmax works row by row"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_lecture_example(lecture_softmax):
    from autograder.checks import assert_close
    from reference_impl.activations import softmax as ref

    assert_close(lecture_softmax, ref([2.33, -1.46, 0.56]), "lecture_softmax", rtol=1e-5)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3a_rows_and_large_scores(softmax):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax as ref

    z = np.random.default_rng(311).normal(scale=3.0, size=(6, 5))
    z[2] += 1000.0  # would overflow exp without the shift
    assert_close(softmax(z), ref(z), "softmax on 6 rows of 5 scores, some of them large",
                 rtol=1e-6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3b
# points: 2

# %% [markdown]
# **3b.** Write `cross_entropy(y, p)`: `y` one-hot rows, `p` predicted probabilities, both of
# shape `(n, K)`; return the mean over the rows of $-\sum_k y_k \log p_k$ as one number. Then
# compute `lecture_cross_entropy`, the cross-entropy of `lecture_softmax` when the true class
# is the first one.

# %%
def cross_entropy(y, p):
    # BEGIN SOLUTION
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    return float(-np.sum(y * np.log(p)) / len(p))
    # END SOLUTION


first_class = np.array([[1.0, 0.0, 0.0]])
lecture_cross_entropy = cross_entropy(first_class, lecture_softmax[None, :])  # SOLUTION
lecture_cross_entropy

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q3b_public(cross_entropy, lecture_cross_entropy):
    import numpy as np

    assert np.ndim(lecture_cross_entropy) == 0, "lecture_cross_entropy is a single number"
    assert float(lecture_cross_entropy) > 0, "a cross-entropy below 1 confidence is positive"
    perfect = cross_entropy(np.eye(3), np.eye(3) * 0.999999 + 1e-7)
    assert np.ndim(perfect) == 0 and float(perfect) < 1e-3, "certain and right: loss near 0"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_lecture_example(lecture_cross_entropy):
    from autograder.checks import assert_close
    from reference_impl.activations import softmax
    from reference_impl.losses import categorical_cross_entropy

    expected = categorical_cross_entropy([[1.0, 0.0, 0.0]], softmax([[2.33, -1.46, 0.56]]))
    assert_close(lecture_cross_entropy, expected, "lecture_cross_entropy", rtol=1e-4)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q3b_new_predictions(cross_entropy):
    import numpy as np

    from autograder.checks import assert_close
    from reference_impl.activations import softmax
    from reference_impl.losses import categorical_cross_entropy

    rng = np.random.default_rng(312)
    y = np.eye(4)[rng.integers(0, 4, size=8)]
    p = softmax(rng.normal(size=(8, 4)))
    assert_close(cross_entropy(y, p), categorical_cross_entropy(y, p),
                 "cross_entropy on 8 new predictions (the mean over rows)", rtol=1e-6)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. A single softmax layer
#
# The simplest network for MNIST has no hidden layer: one `Dense(10, activation="softmax")`
# layer on the 784 pixels. This is multinomial logistic regression, with
# $(784 + 1) \cdot 10 = 7{,}850$ parameters.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 3

# %% [markdown]
# **4.** Build `softmax_model` (`keras.Input(shape=(784,))` then one Dense layer with 10
# softmax units), compile it with categorical cross-entropy and the accuracy metric (any
# optimizer), and train it so that it reaches **at least 90 %** test accuracy. One or two
# epochs are enough. Keep the `fit_or_load` line: it saves the model to `softmax_model.keras`.

# %%
# BEGIN SOLUTION NO PROMPT
softmax_model = keras.Sequential(
    [keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")]
)
softmax_model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
# END SOLUTION
""" # BEGIN PROMPT
softmax_model = ...
"""  # END PROMPT
softmax_model = fit_or_load(
    softmax_model, "softmax_model.keras", x_train, y_train, epochs=2, batch_size=128, verbose=2
)
if softmax_model is not ...:
    print("test loss and accuracy:", softmax_model.evaluate(x_test, y_test, verbose=0))

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q4_public(softmax_model):
    assert softmax_model.count_params() == 7850, "one Dense(10) on 784 inputs: 7,850 parameters"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q4_architecture(softmax_model):
    from ps3_keras_mnist_checks import check_dense_architecture, check_parameter_count

    from reference_impl.output_layers import dense_parameters

    check_dense_architecture(softmax_model, "softmax_model", [(10, "softmax")])
    check_parameter_count(softmax_model, "softmax_model", dense_parameters((784, 10)))

# %%
""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q4_accuracy_90(softmax_model):
    from ps3_keras_mnist_checks import check_accuracy

    check_accuracy(softmax_model, "softmax_model", 0.90)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5. The lectures' network
#
# The lectures' network adds one hidden layer: 784 inputs → `Dense(512, relu)` →
# `Dense(10, softmax)`, compiled with the `rmsprop` optimizer, the categorical cross-entropy
# loss and accuracy as the metric.

# %% [raw]
# # BEGIN QUESTION
# name: q5a
# points: 3

# %% [markdown]
# **5a.** Build and compile `mlp`, the lectures' network. Then compute `mlp_parameters`, its
# number of trainable parameters, **by hand** (as a formula of the layer sizes, not with
# `count_params`) and check it against Keras.

# %%
# BEGIN SOLUTION NO PROMPT
mlp = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
mlp.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
# END SOLUTION
""" # BEGIN PROMPT
mlp = ...
"""  # END PROMPT
mlp_parameters = (784 + 1) * 512 + (512 + 1) * 10  # SOLUTION
if mlp is not ...:
    print(f"parameters by hand: {mlp_parameters}, by Keras: {mlp.count_params()}")

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5a_public(mlp, mlp_parameters):
    assert len(mlp.layers) >= 2, "mlp needs a hidden layer and an output layer"
    assert isinstance(mlp_parameters, int), "mlp_parameters should be an integer"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_architecture(mlp):
    from ps3_keras_mnist_checks import check_dense_architecture

    check_dense_architecture(mlp, "mlp", [(512, "relu"), (10, "softmax")])

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_parameters(mlp, mlp_parameters):
    from ps3_keras_mnist_checks import check_parameter_count

    from autograder.checks import as_float
    from reference_impl.output_layers import dense_parameters

    expected = dense_parameters((784, 512, 10))
    check_parameter_count(mlp, "mlp", expected)
    if as_float(mlp_parameters, "mlp_parameters") != expected:
        raise AssertionError("mlp_parameters is not the right count")

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5a_compiled(mlp):
    from ps3_keras_mnist_checks import check_compiled_like_the_lecture

    check_compiled_like_the_lecture(mlp, "mlp")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5b
# points: 3

# %% [markdown]
# **5b.** Choose `mlp_epochs`, the number of epochs to train `mlp` for, with batches of 128.
# Points by accuracy on the held-back digits: one at 92 %, one more at 95 % and the last at
# **97.5 %**. Six epochs are enough (about 1.5 s each); fewer can land just below 97.5 %.

# %%
mlp_epochs = 6  # SOLUTION
mlp = fit_or_load(mlp, "mlp.keras", x_train, y_train, epochs=mlp_epochs, batch_size=128, verbose=2)
if mlp is not ...:
    print("test loss and accuracy:", mlp.evaluate(x_test, y_test, verbose=0))

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q5b_public(mlp):
    import numpy as np

    p = mlp.predict(np.zeros((5, 784), dtype=np.float32), verbose=0)
    assert np.shape(p) == (5, 10), "mlp.predict should give 10 probabilities per image"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_accuracy_92(mlp):
    from ps3_keras_mnist_checks import check_accuracy

    check_accuracy(mlp, "mlp", 0.92)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_accuracy_95(mlp):
    from ps3_keras_mnist_checks import check_accuracy

    check_accuracy(mlp, "mlp", 0.95)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q5b_accuracy_975(mlp):
    from ps3_keras_mnist_checks import check_accuracy

    check_accuracy(mlp, "mlp", 0.975)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. Design challenge (bonus)

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 2

# %% [markdown]
# **6.** Build, compile and train `challenge_model` (set `challenge_epochs` too, and change
# the `fit_or_load` line if you need other training settings): any Keras model that takes
# the prepared images and outputs 10 class probabilities, reaching **at least 98 %** on the
# held-back digits. Everything is
# allowed (more units, more layers, dropout, batch normalisation, another optimizer, a smaller
# learning rate for the last epochs, starting from `mlp`'s weights) within the time budget,
# as long as the model is a `keras.Sequential` of the layers listed at the top of this
# notebook (convolutional layers cannot be graded). Do not train on the
# test images: that is not a design, and it is checked by hand.

# %%
# BEGIN SOLUTION NO PROMPT
# The lectures' network, continued from mlp's weights with dropout after the hidden layer and
# smaller steps: dropout keeps it from fitting the training images ever more closely, and a
# learning rate three, then ten times smaller lets it settle into the minimum.
challenge_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
challenge_model.set_weights(mlp.get_weights())
steps_per_epoch = -(-len(x_train) // 128)
challenge_model.compile(
    optimizer=keras.optimizers.RMSprop(
        learning_rate=keras.optimizers.schedules.PiecewiseConstantDecay(
            [2 * steps_per_epoch], [3e-4, 1e-4]
        )
    ),
    loss="categorical_crossentropy",
    metrics=["accuracy"],
)
challenge_epochs = 3
# END SOLUTION
""" # BEGIN PROMPT
challenge_model = ...
challenge_epochs = ...
"""  # END PROMPT
challenge_model = fit_or_load(
    challenge_model, "challenge_model.keras", x_train, y_train, epochs=challenge_epochs,
    batch_size=128, verbose=2,
)
if challenge_model is not ...:
    print("test loss and accuracy:", challenge_model.evaluate(x_test, y_test, verbose=0))

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q6_public(challenge_model):
    import numpy as np

    p = challenge_model.predict(np.zeros((5, 784), dtype=np.float32), verbose=0)
    assert np.shape(p) == (5, 10), "challenge_model.predict should give 10 probabilities"

# %%
""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q6_accuracy_98(challenge_model):
    from ps3_keras_mnist_checks import check_accuracy

    check_accuracy(challenge_model, "challenge_model", 0.98)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 7. The learning rate

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 2

# %% [markdown]
# **7.** The lectures' network is trained exactly as in question 5, except that the optimizer
# is `keras.optimizers.RMSprop(learning_rate=1.0)` instead of the default 0.001. What happens?
# Select all that apply.
#
# - **a.** Training converges faster, to about the same accuracy.
# - **b.** The steps are so large that the loss does not go down: it jumps around or grows
#   to huge values (even `nan`), and training diverges.
# - **c.** Test accuracy ends up far below the 97 % of question 5, near what guessing gives.
# - **d.** Nothing changes: RMSprop ignores the learning rate.

# %%
q7_answer = {"b", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q7_public(q7_answer):
    assert isinstance(q7_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q7_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_credit_1(q7_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q7_answer, "q7", options="abcd", correct="bc", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q7_credit_2(q7_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q7_answer, "q7", options="abcd", correct="bc", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 8. Epochs and batch size
#
# `model.fit(x_train, y_train, epochs=5, batch_size=128)` has two settings you chose above.

# %% [raw]
# # BEGIN QUESTION
# name: q8a
# points: 2

# %% [markdown]
# **8a.** What is one epoch? Select all that apply.
#
# - **a.** One complete pass of the whole training set through the training algorithm.
# - **b.** One update of the weights.
# - **c.** With 50,000 training images and batches of 128, one epoch makes
#   $\lceil 50000 / 128 \rceil = 391$ weight updates.
# - **d.** One pass over the test set.

# %%
q8a_answer = {"a", "c"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q8a_public(q8a_answer):
    assert isinstance(q8a_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q8a_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q8a_credit_1(q8a_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q8a_answer, "q8a", options="abcd", correct="ac", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q8a_credit_2(q8a_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q8a_answer, "q8a", options="abcd", correct="ac", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q8b
# points: 2

# %% [markdown]
# **8b.** The batch size is the number of training images used for one update of the
# weights. What does it trade off? Select all that apply.
#
# - **a.** With `batch_size=1` each update is cheap, but its gradient comes from one image, so
#   the path towards the minimum is noisy, with ups and downs.
# - **b.** Larger batches give a less noisy gradient per update but fewer updates per epoch.
# - **c.** The batch size changes the number of parameters of the network.
# - **d.** Larger batches always give a higher final test accuracy.

# %%
q8b_answer = {"a", "b"}  # SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
""" # BEGIN TEST CONFIG
points: 0
""" # END TEST CONFIG
def test_q8b_public(q8b_answer):
    assert isinstance(q8b_answer, (set, list, tuple, str)), "answer with a set such as {'a'}"
    assert set(q8b_answer) <= set("abcd"), "choose among the letters a, b, c, d"

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q8b_credit_1(q8b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q8b_answer, "q8b", options="abcd", correct="ab", at_least=1)

# %%
""" # BEGIN TEST CONFIG
points: 1
hidden: true
""" # END TEST CONFIG
def test_q8b_credit_2(q8b_answer):
    from autograder.checks import assert_choice_credit

    assert_choice_credit(q8b_answer, "q8b", options="abcd", correct="ab", at_least=2)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# You are done. Save the notebook and submit it, on its own or in your repository folder: the
# grader retrains your models from your cells (it loads your `.keras` files only where your
# instructor accepts saved models).
