"""End-to-end training with fixed seeds: the reference reaches the accuracies the course
promises students, on the real data sets."""

import os

import numpy as np
import pytest

from nnkit import load_mnist
from nnkit.datasets import load_digits_8x8, logic_gate
from nnkit.mnist import load_mnist_heldout
from nnkit.preprocessing import flatten, one_hot, scale
from reference_impl.data import train_test_split
from reference_impl.mlp import MLP, mnist_mlp

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def mnist():
    """All 60,000 training images, as the lectures' figures were measured: the reference is
    checked against the lectures, not against the course's 50,000-image split."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_heldout, y_heldout = load_mnist_heldout()
    x_train, y_train = np.concatenate([x_train, x_heldout]), np.concatenate([y_train, y_heldout])
    assert len(x_train) == 60000
    return scale(flatten(x_train)), y_train, scale(flatten(x_test)), y_test


def test_mlp_reaches_97_percent_on_8x8_digits():
    X, y = load_digits_8x8()
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, train_size=0.8, seed=0)
    model = MLP(
        (64, 100, 10),
        activations="sigmoid",
        optimizer="sgd",
        learning_rate=0.5,
        batch_size=32,
        epochs=100,
        seed=0,
    )
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.97
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


@pytest.mark.parametrize("loss, eta", [("binary_crossentropy", 2.0), ("mse", 5.0)])
def test_two_two_one_sigmoid_mlp_learns_xor(loss, eta):
    X, y = logic_gate("XOR")
    model = MLP(
        (2, 2, 1),
        activations="sigmoid",
        output_activation="sigmoid",
        loss=loss,
        optimizer="sgd",
        learning_rate=eta,
        batch_size=4,
        epochs=3000,
        seed=0,
    )
    model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), [0, 1, 1, 0])


def test_training_is_deterministic_for_a_seed():
    X, y = load_digits_8x8()
    runs = [
        MLP((64, 20, 10), optimizer="adam", batch_size=64, epochs=3, seed=7).fit(X / 16, y)
        for _ in range(2)
    ]
    for a, b in zip(runs[0].parameters(), runs[1].parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_reference_mlp_reaches_97_8_percent_on_mnist_in_5_epochs(mnist):
    X_train, y_train, X_test, y_test = mnist
    model = mnist_mlp(hidden=512, batch_size=128, epochs=5, seed=0)
    accuracies = []
    model.fit(
        X_train, y_train, on_epoch_end=lambda m, _: accuracies.append(m.score(X_test, y_test))
    )
    assert max(accuracies) >= 0.978, accuracies


@pytest.mark.slow
def test_lecture_keras_model_reaches_97_8_percent_on_mnist_in_5_epochs(mnist):
    """The lecture's model and settings: 512 relu → 10 softmax, rmsprop, batch 128."""
    from reference_impl.keras_models import LECTURE_MLP_PARAMETERS, lecture_mlp, set_seed

    X_train, y_train, X_test, y_test = mnist
    set_seed(0)
    model = lecture_mlp()
    assert model.count_params() == LECTURE_MLP_PARAMETERS == 407_050
    accuracies = []
    for _ in range(5):
        model.fit(X_train, one_hot(y_train, 10), epochs=1, batch_size=128, verbose=0)
        predicted = np.argmax(model.predict(X_test, batch_size=2048, verbose=0), axis=1)
        accuracies.append(float(np.mean(predicted == y_test)))
    assert max(accuracies) >= 0.978, accuracies


@pytest.mark.slow
def test_single_softmax_layer_reaches_90_percent_on_mnist(mnist):
    from reference_impl.keras_models import softmax_regression

    X_train, y_train, X_test, y_test = mnist
    model = softmax_regression()
    assert model.count_params() == 7850
    model.fit(X_train, one_hot(y_train, 10), epochs=2, batch_size=128, verbose=0)
    predicted = np.argmax(model.predict(X_test, batch_size=2048, verbose=0), axis=1)
    assert np.mean(predicted == y_test) >= 0.90
