"""The MLP's backward pass against two independent checks: TensorFlow's automatic
differentiation, and centred finite differences. All in float64."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from reference_impl.gradcheck import check_gradients, relative_error  # noqa: E402
from reference_impl.mlp import MLP  # noqa: E402

TF_ACTIVATIONS = {
    "identity": tf.identity,
    "sigmoid": tf.math.sigmoid,
    "tanh": tf.math.tanh,
    "relu": tf.nn.relu,
    # tf.nn.leaky_relu keeps alpha in float32 (0.01 → 0.0099999998); spell it out in float64.
    "leaky_relu": lambda z: tf.where(z > 0, z, tf.constant(0.01, tf.float64) * z),
    "elu": tf.nn.elu,
    "softmax": tf.nn.softmax,
}

# (layer sizes, activations per layer, loss, l2)
ARCHITECTURES = [
    ((5, 4, 3), ("tanh", "softmax"), "categorical_crossentropy", 0.0),
    ((6, 8, 7, 4), ("relu", "leaky_relu", "softmax"), "categorical_crossentropy", 0.05),
    ((3, 6, 5, 2), ("elu", "sigmoid", "sigmoid"), "binary_crossentropy", 0.0),
    ((4, 3, 1), ("sigmoid", "sigmoid"), "mse", 0.0),
    ((6, 8, 8, 4), ("elu", "tanh", "identity"), "mse", 0.01),
    ((5, 7, 3), ("sigmoid", "softmax"), "mse", 0.0),  # softmax without its usual loss
    ((2, 2, 1), ("sigmoid", "sigmoid"), "binary_crossentropy", 0.1),
    ((64, 50, 10), ("sigmoid", "softmax"), "categorical_crossentropy", 0.01),  # lecture 004
]


def random_problem(sizes, loss, seed, n=9):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss == "categorical_crossentropy":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif loss == "binary_crossentropy":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    return X, Y


def make_model(sizes, acts, loss, l2, seed):
    model = MLP(sizes, activations=acts, loss=loss, l2=l2, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for b in model.biases_:  # non-zero biases so that they are really tested
        b[...] = rng.normal(scale=0.5, size=b.shape)
    return model


def tensorflow_gradients(model, X, Y, acts, loss, l2):
    """The same objective written directly in TensorFlow ops, differentiated by GradientTape."""
    params = [tf.Variable(p) for p in model.parameters()]
    with tf.GradientTape() as tape:
        A = tf.constant(X)
        Z = A
        for layer, name in enumerate(acts):
            Z = A @ params[2 * layer] + params[2 * layer + 1]
            A = TF_ACTIVATIONS[name](Z)
        Y_ = tf.constant(Y)
        if loss == "categorical_crossentropy":
            value = tf.reduce_mean(-tf.reduce_sum(Y_ * tf.nn.log_softmax(Z), axis=1))
        elif loss == "binary_crossentropy":
            value = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=Y_, logits=Z))
        else:
            value = tf.reduce_mean(tf.square(A - Y_))
        value += 0.5 * l2 * tf.add_n([tf.reduce_sum(W * W) for W in params[::2]])
    return float(value), [g.numpy() for g in tape.gradient(value, params)]


@pytest.mark.parametrize("sizes, acts, loss, l2", ARCHITECTURES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_equal_tensorflow_autodiff(sizes, acts, loss, l2, seed):
    model = make_model(sizes, acts, loss, l2, seed)
    X, Y = random_problem(sizes, loss, seed)
    ours_loss, ours = model.loss_and_gradients(X, Y)
    tf_loss, theirs = tensorflow_gradients(model, X, Y, acts, loss, l2)
    assert ours_loss == pytest.approx(tf_loss, rel=1e-12)
    for name, a, b in zip(("W", "b") * len(acts), ours, theirs, strict=True):
        assert a.shape == b.shape
        assert relative_error(a, b) < 1e-9, name


@pytest.mark.parametrize("sizes, acts, loss, l2", ARCHITECTURES[:-1])
def test_gradients_equal_centred_differences(sizes, acts, loss, l2):
    model = make_model(sizes, acts, loss, l2, seed=3)
    X, Y = random_problem(sizes, loss, seed=3, n=5)
    # h = 1e-5 balances truncation error O(h²) against round-off ε·|J|/h: with h = 1e-6 a
    # gradient element of 2e-5 already carries a relative round-off error near 1e-6.
    assert check_gradients(model, X, Y, h=1e-5) < 1e-6


def test_gradient_check_catches_a_wrong_backward_pass():
    """The checker is only useful if it fails on a bug: break the L2 term and it must notice."""
    model = make_model((4, 5, 3), ("tanh", "softmax"), "categorical_crossentropy", 0.1, seed=0)
    X, Y = random_problem((4, 5, 3), "categorical_crossentropy", seed=0)
    original = model.loss_and_gradients

    def buggy(X, Y):
        loss, grads = original(X, Y)
        grads[0] = grads[0] - 0.1 * model.weights_[0] * 0.5  # half the L2 gradient is missing
        return loss, grads

    model.loss_and_gradients = buggy
    assert check_gradients(model, X, Y) > 1e-3


def test_float32_model_computes_the_same_gradients_to_single_precision():
    m64 = make_model((6, 8, 4), ("relu", "softmax"), "categorical_crossentropy", 0.01, seed=5)
    m32 = MLP((6, 8, 4), activations=("relu", "softmax"), l2=0.01, dtype=np.float32)
    m32.set_parameters(m64.parameters())
    X, Y = random_problem((6, 8, 4), "categorical_crossentropy", seed=5)
    _, g64 = m64.loss_and_gradients(X, Y)
    _, g32 = m32.loss_and_gradients(X, Y)
    for a, b in zip(g64, g32, strict=True):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_parameter_count_of_the_lecture_networks():
    assert MLP((784, 512, 10)).n_parameters == 407_050
    assert MLP((64, 50, 10)).n_parameters == (64 + 1) * 50 + (50 + 1) * 10 == 3760
