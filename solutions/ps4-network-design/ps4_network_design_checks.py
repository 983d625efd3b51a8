"""Hidden-test checks for problem set 4 (a network design lab).

Every model is judged by the grader, never by its own code: the trusted evaluator
:mod:`autograder.engine.models` takes ``model.get_config()`` and ``model.get_weights()`` as
data, validates them (a ``Sequential`` model, or a functional one that is one chain, of
built-in layers and activations, every weight of the shape its layer needs) and computes the
outputs here, in NumPy. So:

* layer sizes, and the unit budgets of questions 3a and 5a, are read from the shapes of the
  weights, not from anything the student reports;
* losses and accuracies are measured on data the grader draws itself with the course's own
  generators (:mod:`nnkit.datasets`, the lecture's ``generatedata_circle`` and
  ``generatedata_spiral``) and its own seeds: new noise on the circles, and spirals with more
  points along the arms and a little noise, none of them a point the notebook trained on;
* the MNIST accuracy is scored on the 10,000 digits the course holds back
  (:func:`nnkit.mnist.load_mnist_heldout`), which no sandbox ever holds.

What the student chooses rather than measures (the targets of an encoding, a decision
threshold, the loss a model was compiled with) is read as the student gives it.

``nngrade build`` ships this module inside the autograder zip, and the hidden tests import
it as ``ps4_network_design_checks``. Problem-set-independent helpers are in
``autograder.checks``.
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any

import numpy as np

from autograder.checks import as_float, keras_name
from autograder.engine.models import JudgedModel, judge

__all__ = [
    "CIRCLES_SEED",
    "SPIRALS_SEED",
    "SPIRAL_UNIT_LIMIT",
    "course_circles",
    "grader_circles",
    "grader_spirals",
    "judged",
    "outputs",
    "check_dense_layers",
    "check_hidden_network",
    "check_unit_budget",
    "check_measured_loss",
    "check_measured_accuracy",
    "read_targets",
    "check_circle_loss",
    "check_threshold",
    "spiral_accuracy",
    "check_spiral_accuracy",
    "check_same_design",
    "check_mnist_model",
    "check_mnist_accuracy",
    "check_lr_table",
]

#: The grader's own seeds for the data it judges on (the notebook draws its circles with 0).
CIRCLES_SEED = 40417
SPIRALS_SEED = 40418
#: Question 5: every hidden layer has fewer than 16 units.
SPIRAL_UNIT_LIMIT = 15


# ------------------------------------------------------------------ the grader's data


@functools.lru_cache(maxsize=1)
def course_circles() -> tuple[np.ndarray, np.ndarray]:
    """The notebook's circles and their ±1 labels (outer circle +1), as the notebook makes
    them: what the student's own measurements of question 2a are taken on."""
    from nnkit.datasets import make_circles

    x, classes = make_circles(seed=0)
    return x.astype(np.float32), np.where(classes == 0, 1.0, -1.0)


@functools.lru_cache(maxsize=1)
def grader_circles() -> tuple[np.ndarray, np.ndarray]:
    """150 new points per circle (radii 2 and 0.5, noise 0.1) and their classes (0 the
    outer circle): the lecture's generator with the grader's seed."""
    from nnkit.datasets import make_circles

    x, classes = make_circles(n=150, seed=CIRCLES_SEED)
    return x.astype(np.float32), classes


@functools.lru_cache(maxsize=1)
def grader_spirals() -> tuple[np.ndarray, np.ndarray]:
    """157 points per arm (a = ±1, r = 1, θ over [0, 4π]) with noise 0.05, and their arms:
    angles between the notebook's 100, moved off the curve."""
    from nnkit.datasets import make_spirals

    x, arms = make_spirals(n=157, noise=0.05, seed=SPIRALS_SEED)
    return x.astype(np.float32), arms


# ------------------------------------------------------------------ the models, as data

#: Per submission (its Remote) and model name, under the nngrade engine: the judged model.
#: The notebook has finished when the tests start, so one fetch serves every test. Under
#: otter the tests run among the student's cells, so nothing is kept.
_JUDGED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(model: Any) -> dict:
    from autograder.engine.remote import RemoteRef

    if type(model) is not RemoteRef:
        return {}
    return _JUDGED.setdefault(model._remote, {})


def judged(model: Any, name: str, input_width: tuple[int, ...] = (2,)) -> JudgedModel:
    """``model`` as the grader judges it: its validated config and weights."""
    cached = _cache(model)
    key = ("model", name, input_width)
    if key not in cached:
        cached[key] = judge(model, name, input_width)
    return cached[key]


def outputs(model: Any, name: str, x: np.ndarray) -> np.ndarray:
    """The grader's forward pass of a one-output model on ``x``: shape ``(len(x),)``."""
    got = judged(model, name).predict(x)
    if got.shape != (len(x), 1):
        raise AssertionError(f"{name} should give one output per point")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} gives NaN or infinite outputs on some points")
    return got[:, 0].astype(np.float64)


def check_dense_layers(model: Any, name: str, expected: list[tuple[int | None, str]]) -> None:
    """The model's Dense layers are ``expected`` (units, or ``None`` for any; activation)."""
    layers = judged(model, name).dense_layers()
    if len(layers) != len(expected):
        raise AssertionError(
            f"{name} should have {len(expected)} Dense layer(s); yours has {len(layers)} "
            "layer(s) with weights"
        )
    for index, ((units, activation), (want_units, want_activation)) in enumerate(
        zip(layers, expected, strict=True), start=1
    ):
        if want_units is not None and units != want_units:
            raise AssertionError(f"{name}: layer {index} should have {want_units} unit(s)")
        if activation != want_activation:
            raise AssertionError(
                f"{name}: layer {index} has the activation {activation!r}, which is not the "
                "one this layer needs"
            )


def check_hidden_network(model: Any, name: str) -> None:
    """At least one hidden Dense layer, then one output."""
    layers = judged(model, name).dense_layers()
    if len(layers) < 2:
        raise AssertionError(f"{name} needs at least one hidden Dense layer before its output")
    if layers[-1][0] != 1:
        raise AssertionError(f"{name} should end in a Dense layer with one unit")


def hidden_widths(model: Any, name: str) -> list[int]:
    """The units of every Dense layer but the last, read from its kernel's shape."""
    layers = judged(model, name).dense_layers()
    if any(units < 0 for units, _ in layers):
        raise AssertionError(f"{name} should be made of Dense layers")
    return [units for units, _ in layers[:-1]]


def check_unit_budget(model: Any, name: str, limit: int) -> None:
    """Every hidden layer has at most ``limit`` units (from the weights' shapes)."""
    widths = hidden_widths(model, name)
    if not widths:
        raise AssertionError(f"{name} has no hidden layer")
    if max(widths) > limit:
        raise AssertionError(
            f"{name} has a hidden layer of {max(widths)} units; this point allows at most "
            f"{limit} per hidden layer"
        )


# ------------------------------------------------------------------ questions 2 to 4


def check_measured_loss(model: Any, name: str, value: Any, value_name: str) -> None:
    """``value`` is the MSE of the model on the notebook's circles, as the grader computes
    it from the model's weights."""
    x, labels = course_circles()
    expected = float(np.mean((outputs(model, name, x) - labels) ** 2))
    got = as_float(value, value_name)
    if not math.isclose(got, expected, rel_tol=1e-3, abs_tol=1e-4):
        raise AssertionError(
            f"{value_name} is not the MSE of {name} on X_circles and y_circles"
        )


def check_measured_accuracy(model: Any, name: str, value: Any, value_name: str) -> None:
    """``value`` is the model's accuracy on the notebook's circles (output ≥ 0 read as +1),
    to within 2 points of 100 (outputs near 0 may round either way)."""
    x, labels = course_circles()
    predicted = np.where(outputs(model, name, x) >= 0, 1.0, -1.0)
    expected = float(np.mean(predicted == labels))
    got = as_float(value, value_name)
    if not abs(got - expected) <= 0.02:
        raise AssertionError(
            f"{value_name} is not the accuracy of {name} on X_circles and y_circles "
            "(a fraction between 0 and 1)"
        )


def read_targets(value: Any, name: str) -> tuple[float, float]:
    """A pair of two different finite numbers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AssertionError(f"{name} should be a pair of two numbers")
    first, second = (as_float(v, name) for v in value)
    if not (math.isfinite(first) and math.isfinite(second)) or first == second:
        raise AssertionError(f"{name} should be two different finite numbers")
    return first, second


def check_circle_loss(
    model: Any, name: str, targets: tuple[float, float], threshold: float
) -> None:
    """MSE below ``threshold`` on the grader's circles, labelled with ``targets`` (outer,
    inner)."""
    x, classes = grader_circles()
    labels = np.where(classes == 0, targets[0], targets[1])
    loss = float(np.mean((outputs(model, name, x) - labels) ** 2))
    if not loss < threshold:
        raise AssertionError(
            f"{name} has an MSE of {loss:.4f} on 300 new points of the two circles; this "
            f"point needs less than {threshold:g}"
        )


# ------------------------------------------------------------------ question 5


def check_threshold(targets: Any, threshold: Any) -> None:
    """The decision threshold lies strictly between the two targets."""
    low, high = sorted(read_targets(targets, "spiral_targets"))
    value = as_float(threshold, "spiral_threshold")
    if not low < value < high:
        raise AssertionError(
            "spiral_threshold does not lie between your two targets, so it cannot tell the "
            "arms apart: choose it to match your encoding"
        )


def spiral_accuracy(model: Any, name: str, targets: tuple[float, float], threshold: float) -> float:
    """Accuracy on the grader's spirals: an output on arm 1's side of the threshold is arm 1."""
    x, arms = grader_spirals()
    side = 1.0 if targets[1] > targets[0] else -1.0
    predicted = np.where(side * (outputs(model, name, x) - threshold) >= 0, 1, 0)
    return float(np.mean(predicted == arms))


def check_spiral_accuracy(
    model: Any, name: str, targets: Any, threshold: Any, level: float
) -> None:
    """With a threshold that matches the encoding and fewer than 16 units per hidden layer,
    an accuracy of at least ``level`` on the grader's spirals."""
    check_threshold(targets, threshold)
    pair = read_targets(targets, "spiral_targets")
    check_unit_budget(model, name, SPIRAL_UNIT_LIMIT)
    accuracy = spiral_accuracy(model, name, pair, as_float(threshold, "spiral_threshold"))
    if accuracy < level:
        raise AssertionError(
            f"{name} classifies {100 * accuracy:.1f}% of the grader's spiral points right; "
            f"this point needs {100 * level:g}%"
        )


def check_same_design(model: Any, other: Any, activation: str) -> None:
    """``other`` has the layers of ``model``, with ``activation`` in every hidden layer."""
    first = judged(model, "spiral_model")
    second = judged(other, "spiral_sigmoid_model")
    if [layer.kind for layer in first.layers] != [layer.kind for layer in second.layers]:
        raise AssertionError("spiral_sigmoid_model does not have the layers of spiral_model")
    sizes = [units for units, _ in first.dense_layers()]
    if sizes != [units for units, _ in second.dense_layers()]:
        raise AssertionError("spiral_sigmoid_model's layers are not the sizes of spiral_model's")
    hidden = second.dense_layers()[:-1]
    if not hidden or any(act != activation for _, act in hidden):
        raise AssertionError(f"spiral_sigmoid_model should use {activation!r} in every hidden layer")


# ------------------------------------------------------------------ questions 6 and 7


_LOSS_NAMES = {
    "categorical_crossentropy": {"categoricalcrossentropy"},
    "mse": {"mse", "meansquarederror"},
}


def check_mnist_model(model: Any, name: str, loss: str) -> None:
    """One Dense(10, softmax) layer on 784 pixels, compiled with ``loss``."""
    layers = judged(model, name, (784,)).dense_layers()
    if layers != [(10, "softmax")]:
        raise AssertionError(f"{name} should be the single Dense(10, softmax) layer")
    try:
        config = model.get_compile_config()
    except AttributeError:
        raise AssertionError(f"{name} has no get_compile_config(): is it a Keras model?") from None
    if not isinstance(config, dict) or keras_name(config.get("loss")) not in _LOSS_NAMES[loss]:
        raise AssertionError(f"{name} is not compiled with the loss this question asks for")


@functools.lru_cache(maxsize=1)
def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 held-back MNIST digits as (n, 784) float32 in [0, 1], and their labels."""
    from nnkit.mnist import load_mnist_heldout
    from nnkit.preprocessing import flatten, scale

    images, labels = load_mnist_heldout()
    return scale(flatten(images), np.float32), labels.astype(np.int64)


def check_mnist_accuracy(model: Any, name: str, level: float) -> None:
    """Accuracy of the grader's forward pass on the held-back digits at least ``level``."""
    x, labels = heldout_digits()
    got = judged(model, name, (784,)).predict(x)
    if got.shape != (len(x), 10) or not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} should output 10 finite class probabilities per image")
    accuracy = float(np.mean(np.argmax(got, axis=1) == labels))
    if accuracy < level:
        raise AssertionError(
            f"{name} reaches {100 * accuracy:.2f}% on the 10,000 digits the grader holds back; "
            f"this point needs {100 * level:g}%"
        )


def check_lr_table(table: Any, rates: tuple[float, ...]) -> None:
    """``{"sgd": {rate: loss}, "adam": {rate: loss}}`` with a number (``nan`` and ``inf``
    allowed: a diverged run) for each of ``rates``."""
    if not isinstance(table, dict) or {str(k).lower() for k in table} != {"sgd", "adam"}:
        raise AssertionError("lr_table should be a dict with the keys 'sgd' and 'adam'")
    for optimizer, row in table.items():
        if not isinstance(row, dict) or len(row) != len(rates):
            raise AssertionError(f"lr_table[{optimizer!r}] should hold one loss per rate")
        keys = sorted(as_float(k, f"a learning rate of lr_table[{optimizer!r}]") for k in row)
        if not all(math.isclose(k, r) for k, r in zip(keys, sorted(rates), strict=True)):
            raise AssertionError(f"lr_table[{optimizer!r}] should use the rates {rates}")
        for value in row.values():
            number = as_float(value, f"a loss in lr_table[{optimizer!r}]")
            if number < 0:
                raise AssertionError(f"lr_table[{optimizer!r}] holds a negative loss")
