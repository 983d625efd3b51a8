"""Each known mistake in the lecture material, reproduced as the lecture wrote it, and shown to
disagree with the reference (which is checked independently elsewhere).

The lecture versions below are copied in spirit, not imported from anywhere: they are the
"wrong answers" a student who follows the slides too closely would write.
"""

import math

import numpy as np
import pytest

from nnkit.datasets import logic_gate
from reference_impl import perceptron as pc
from reference_impl.data import minibatch_indices, train_test_split
from reference_impl.gradcheck import numerical_gradient, relative_error
from reference_impl.mlp import MLP

# ------------------------------------------------------------------ lectures 000/001: the table


def test_table_row_for_x_equals_1_0():
    """The slides fill the row x = (1, 0) with p = 0.38 and ŷ = 0. h = 1·1 − 1·0 − 0.5 = 0.5,
    so p = σ(0.5) = 0.62 and ŷ = 1."""
    X, y = logic_gate("OR")
    row = pc.perceptron_table(X, y, [1, -1], -0.5).iloc[2]
    assert (row.x1, row.x2) == (1, 0)
    assert row.h == 0.5
    assert row.p == pytest.approx(0.6225, abs=5e-5) and round(row.p, 2) != 0.38
    assert row.y_hat == 1


def test_sigmoid_formula_for_h_equals_minus_half():
    """The slides write p = 1/(1 + exp(−0.5)) for h = −0.5 and print 0.38. The printed value is
    right; the formula is σ(+0.5) = 0.62. The right formula is 1/(1 + exp(0.5))."""
    slide_formula = 1 / (1 + math.exp(-0.5))
    right_formula = 1 / (1 + math.exp(0.5))
    p = pc.neuron_proba([[0, 0]], [1, -1], -0.5)[0]
    assert p == pytest.approx(right_formula, rel=1e-15)
    assert round(p, 2) == 0.38
    assert slide_formula == pytest.approx(0.6225, abs=5e-5)


# ------------------------------------------------------------------ lectures 000/001: derivatives


def lecture_output_derivative(p, y, h):
    """The slides: ∂l/∂w_oj = (p − y)·p(1 − p)·h_j (the factor 2 of ∂l/∂p is dropped)."""
    return (p - y) * p * (1 - p) * h


def lecture_hidden_derivative(p, y, h, x1):
    """The slides: ∂l/∂w_1j = (p − y)·p(1 − p)·h_j(1 − h_j)·X_1 (no factor 2, no w_oj)."""
    return (p - y) * p * (1 - p) * h * (1 - h) * x1


def test_one_hidden_layer_derivatives_for_squared_loss():
    """Sigmoid hidden units, sigmoid output, l = (y − p)², one observation (so the MLP's mean
    loss equals l). Right: ∂l/∂w_oj = 2(p − y)p(1 − p)h_j and
    ∂l/∂w_1j = 2(p − y)p(1 − p)·w_oj·h_j(1 − h_j)·X_1."""
    rng = np.random.default_rng(0)
    model = MLP((2, 3, 1), activations="sigmoid", output_activation="sigmoid", loss="mse", seed=0)
    for b in model.biases_:
        b[...] = rng.normal(size=b.shape)
    x, y = np.array([[0.7, -1.2]]), np.array([[1.0]])
    _, (dW_h, _, dW_o, _) = model.loss_and_gradients(x, y)

    h = 1 / (1 + np.exp(-(x @ model.weights_[0] + model.biases_[0])))[0]
    p = float(model.predict_proba(x)[0, 0])
    w_o = model.weights_[1][:, 0]
    right_output = 2 * (p - 1) * p * (1 - p) * h
    right_hidden = 2 * (p - 1) * p * (1 - p) * w_o * h * (1 - h) * x[0, 0]

    # the reference equals the right formulas, and both equal finite differences
    numeric = numerical_gradient(lambda: model.loss_and_gradients(x, y)[0], model.parameters())
    assert relative_error(dW_o[:, 0], right_output) < 1e-12
    assert relative_error(dW_h[0], right_hidden) < 1e-12
    assert relative_error(numeric[2][:, 0], right_output) < 1e-7
    assert relative_error(numeric[0][0], right_hidden) < 1e-7

    # the slides' formulas are off by a factor 2, and by w_oj
    np.testing.assert_allclose(lecture_output_derivative(p, 1, h), right_output / 2)
    assert relative_error(lecture_hidden_derivative(p, 1, h, x[0, 0]), right_hidden) > 0.3


# ------------------------------------------------------------------ lecture 004: L2 term


def lecture_l2_gradient(gradient, weights, lmbd):
    """Lecture 004's NeuralNetwork.backpropagation: ``gradient += lmbd * gradient``."""
    return gradient + lmbd * gradient


def test_l2_term_uses_the_weights_not_the_gradient():
    """With the penalty (λ/2)||W||², ∂/∂W = λW. The lecture adds λ·gradient instead, which is
    just a slightly larger learning rate and no regularisation at all."""
    rng = np.random.default_rng(1)
    lmbd = 0.1
    X, Y = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    plain = MLP((5, 4, 3), activations="sigmoid", seed=1)
    regular = MLP((5, 4, 3), activations="sigmoid", l2=lmbd, seed=1)
    _, g_plain = plain.loss_and_gradients(X, Y)
    _, g_reg = regular.loss_and_gradients(X, Y)
    numeric = numerical_gradient(lambda: regular.loss_and_gradients(X, Y)[0], regular.parameters())

    for W, g0, g, n in zip(regular.weights_, g_plain[::2], g_reg[::2], numeric[::2], strict=True):
        assert relative_error(g, g0 + lmbd * W) < 1e-12
        assert relative_error(g, n) < 1e-7
        assert relative_error(lecture_l2_gradient(g0, W, lmbd), n) > 0.1
    # biases are not penalised
    for b0, b in zip(g_plain[1::2], g_reg[1::2], strict=True):
        np.testing.assert_array_equal(b0, b)


# ------------------------------------------------------------------ lecture 004: the split


def lecture_train_test_split_numpy(inputs, labels, train_size, test_size):
    """Lecture 004's version: two independent shuffles."""
    inputs_shuffled, labels_shuffled = inputs.copy(), labels.copy()
    np.random.shuffle(inputs_shuffled)  # noqa: NPY002 (the lecture's code, as written)
    np.random.shuffle(labels_shuffled)  # noqa: NPY002
    end = int(len(inputs) * train_size)
    return (
        inputs_shuffled[:end],
        inputs_shuffled[end:],
        labels_shuffled[:end],
        labels_shuffled[end:],
    )


def test_split_keeps_each_input_with_its_label():
    # Make the pairing visible: the label of row i is i, and the row itself is [i, i].
    n = 200
    X = np.repeat(np.arange(n)[:, None], 2, axis=1)
    y = np.arange(n)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, train_size=0.8, seed=0)
    assert len(X_tr) == 160 and len(X_te) == 40
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)
    np.testing.assert_array_equal(X_te[:, 0], y_te)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(n))

    np.random.seed(0)  # noqa: NPY002 (the lecture's function uses the global generator)
    L_tr, _, Ly_tr, _ = lecture_train_test_split_numpy(X, y, 0.8, 0.2)
    assert np.mean(L_tr[:, 0] == Ly_tr) < 0.05  # almost every pair is broken


# ---------------------------------------------------------- lecture 004: the sampling comment


def lecture_minibatches(n, batch_size, iterations, seed):
    """Lecture 004's NeuralNetwork.train: each iteration draws a fresh batch with
    np.random.choice(replace=False), under the comment "pick datapoints with replacement"."""
    rng = np.random.RandomState(seed)
    return [rng.choice(np.arange(n), size=batch_size, replace=False) for _ in range(iterations)]


def test_minibatch_sampling_with_and_without_replacement():
    """The comment is wrong about the call: replace=False means no repeats *within* a batch.
    Across an epoch the lecture's draws are independent, so samples repeat and others are
    missed. The reference visits every sample exactly once per epoch."""
    n, batch = 1000, 100
    lecture = lecture_minibatches(n, batch, n // batch, seed=0)
    assert all(len(set(b.tolist())) == batch for b in lecture)  # replace=False really holds
    seen = np.concatenate(lecture)
    assert len(set(seen.tolist())) < n  # ...but the epoch misses samples (≈ 1 − 1/e of them seen)

    ours = list(minibatch_indices(n, batch, np.random.default_rng(0)))
    assert sorted(np.concatenate(ours).tolist()) == list(range(n))
