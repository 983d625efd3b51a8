"""The lectures' Keras models, built and compiled the way the slides do it.

* :func:`lecture_mlp`: 784 → Dense(512, relu) → Dense(10, softmax), rmsprop, categorical
  cross-entropy, accuracy. (784 + 1)·512 + (512 + 1)·10 = 407,050 parameters.
* :func:`softmax_regression`: 784 → Dense(10, softmax), i.e. multinomial logistic regression,
  (784 + 1)·10 = 7,850 parameters.

Importing this module imports Keras (and TensorFlow); the rest of ``reference_impl`` does not.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

__all__ = ["lecture_mlp", "softmax_regression", "set_seed", "LECTURE_MLP_PARAMETERS"]

LECTURE_MLP_PARAMETERS = (784 + 1) * 512 + (512 + 1) * 10  # 407,050


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend, so that weight initialisation and shuffling repeat."""
    keras.utils.set_random_seed(seed)


def lecture_mlp(
    hidden_units: int = 512,
    num_classes: int = 10,
    input_dim: int = 784,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
) -> keras.Sequential:
    """Dense(hidden_units, relu) → Dense(num_classes, softmax), compiled as in the lecture."""
    model = keras.Sequential(
        [
            keras.Input(shape=(input_dim,)),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def softmax_regression(
    num_classes: int = 10,
    input_dim: int = 784,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
) -> keras.Sequential:
    """A single Dense(num_classes, softmax) layer: multinomial logistic regression."""
    model = keras.Sequential(
        [keras.Input(shape=(input_dim,)), keras.layers.Dense(num_classes, activation="softmax")]
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model
