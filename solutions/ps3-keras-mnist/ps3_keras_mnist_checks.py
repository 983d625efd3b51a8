"""Hidden-test checks for problem set 3 (Keras on MNIST).

A student's model is whatever the test received: under the nngrade engine a proxy of the model
that stays in the sandbox, under otter the model itself. Points never come from what the
model's own code reports about itself: the grader takes the model as data and judges it with
the trusted evaluator :mod:`autograder.engine.models`:

* ``model.get_config()`` and ``model.get_weights()``: plain dicts and numeric arrays, which
  the evaluator validates (a ``Sequential`` model of built-in layers and activations, every
  weight of the shape its layer needs);
* the layer sizes, the activations and the parameter count are read from that validated
  config and from the weights' shapes, not from ``count_params()``;
* accuracy is the evaluator's own forward pass over those weights on the 10,000 digits the
  course holds back (:func:`nnkit.mnist.load_mnist_heldout`: the last 10,000 of MNIST's
  training images, which the students train without and the sandbox never holds), scored
  here. The public test set's accuracy is shown next to it, for the student to compare with
  what their notebook printed. The student's ``predict`` is never called for a point.

``model.get_compile_config()`` (the optimizer, loss and metric chosen) is the one setting
read as the student reports it: it is a choice, with nothing to measure.

This module belongs to its problem set's folder. ``nngrade build`` ships it inside the
autograder zip, and the hidden tests import it as ``ps3_keras_mnist_checks``: the nngrade engine's
test loader registers the zip's copy in the grader, otter copies it next to the
submission in the kernel. Problem-set-independent helpers are in ``autograder.checks``.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np

from autograder.checks import keras_name
from autograder.engine.models import JudgedModel, judge

__all__ = [
    "judged",
    "check_dense_architecture",
    "check_parameter_count",
    "check_compiled_like_the_lecture",
    "heldout_digits",
    "public_test_digits",
    "test_accuracy",
    "check_accuracy",
    "check_output_and_loss",
]


def _call(model: Any, method: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """``getattr(model, method)(*args, **kwargs)`` with a student-facing failure."""
    if model is None or model is Ellipsis:
        raise AssertionError(f"{name} has no answer yet (it is {model!r})")
    try:
        function = getattr(model, method)
    except AttributeError:
        raise AssertionError(f"{name} has no method {method}(): is it a Keras model?") from None
    if not callable(function):
        raise AssertionError(f"{name}.{method} is not a method: is {name} a Keras model?")
    return function(*args, **kwargs)


def check_dense_architecture(model: Any, name: str, expected: list[tuple[int, str]]) -> None:
    """The model's Dense layers are exactly ``expected`` (units, activation), in order."""
    layers = judged(model, name).dense_layers()
    if len(layers) != len(expected):
        raise AssertionError(
            f"{name} should have {len(expected)} Dense layer(s) (plus its input); "
            f"yours has {len(layers)} layer(s) with weights"
        )
    for index, ((units, activation), (want_units, want_activation)) in enumerate(
        zip(layers, expected, strict=True), start=1
    ):
        if units != want_units:
            raise AssertionError(f"{name}: layer {index} should have {want_units} units")
        if activation != want_activation:
            raise AssertionError(
                f"{name}: layer {index} has the activation {activation!r}, which is not the "
                "one this layer needs"
            )


def check_parameter_count(model: Any, name: str, expected: int) -> None:
    """The number of weights the model handed over (their shapes validated by its layers)."""
    count = judged(model, name).parameters
    if count != expected:
        raise AssertionError(f"{name} has {count:,} parameters, which is not the right number")


def check_compiled_like_the_lecture(model: Any, name: str) -> None:
    """Compiled with rmsprop, categorical cross-entropy and the accuracy metric."""
    config = _call(model, "get_compile_config", name)
    if not isinstance(config, dict):
        raise AssertionError(f"{name} has not been compiled")
    if keras_name(config.get("optimizer")) != "rmsprop":
        raise AssertionError(f"{name} should be compiled with the rmsprop optimizer")
    if keras_name(config.get("loss")) not in ("categoricalcrossentropy",):
        raise AssertionError(f"{name} should be compiled with the categorical cross-entropy loss")
    metrics = config.get("metrics")
    metrics = metrics if isinstance(metrics, list) else [metrics]
    names = {keras_name(m) for m in metrics}
    if not names & {"accuracy", "categoricalaccuracy", "acc"}:
        raise AssertionError(f"{name} should report accuracy as its metric")


def _prepared(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from nnkit.preprocessing import flatten, scale

    x = scale(flatten(images), np.float32)
    x.setflags(write=False)
    return x, labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 held-back MNIST digits as the problem set prepares images ((n, 784) float32
    in [0, 1]) and their integer labels: what accuracy points are scored on. They never
    enter the sandbox."""
    from nnkit.mnist import load_mnist_heldout

    return _prepared(*load_mnist_heldout())


@functools.lru_cache(maxsize=1)
def public_test_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 public MNIST test images, prepared the same way: the accuracy the student's
    notebook printed, shown next to the held-back one."""
    from nnkit import load_mnist

    _, (images, labels) = load_mnist()
    return _prepared(images, labels)


#: Per submission (its Remote) and model name, under the nngrade engine: the model as judged,
#: and its accuracy. One fetch of the weights and one pass over the test set serve every test
#: of a model, since the notebook has finished running when the tests start. Under otter the
#: tests run while the notebook still trains the same model objects, so nothing is kept.
_JUDGED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(model: Any) -> dict:
    from autograder.engine.remote import RemoteRef

    if type(model) is not RemoteRef:
        return {}
    return _JUDGED.setdefault(model._remote, {})


def judged(model: Any, name: str) -> JudgedModel:
    """``model`` as the grader judges it: its validated config and weights."""
    cached = _cache(model)
    if ("model", name) not in cached:
        cached["model", name] = judge(model, name)
    return cached["model", name]


def _accuracy(model: Any, name: str, digits: tuple[np.ndarray, np.ndarray]) -> float:
    x, labels = digits
    got = judged(model, name).predict(x)
    if got.shape != (len(x), 10):
        raise AssertionError(f"{name} should output 10 class probabilities per image")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} gives NaN or infinite outputs on some images")
    return float(np.mean(np.argmax(got, axis=1) == labels))


def test_accuracy(model: Any, name: str, public: bool = False) -> float:
    """Accuracy of the grader's forward pass over the model's weights on the held-back digits
    (``public``: on the public test set), computed here from the labels; remembered for the
    rest of the submission's grading."""
    cached = _cache(model)
    key = ("public accuracy" if public else "accuracy", name)
    if key not in cached:
        cached[key] = _accuracy(model, name, public_test_digits() if public else heldout_digits())
    return cached[key]


test_accuracy.__test__ = False  # not a pytest test, despite its name


def check_accuracy(model: Any, name: str, threshold: float) -> None:
    """Accuracy on the held-back digits at least ``threshold``; the message gives the
    student's accuracy there and on the public test set."""
    accuracy = test_accuracy(model, name)
    if accuracy < threshold:
        public = test_accuracy(model, name, public=True)
        raise AssertionError(
            f"{name} reaches {100 * accuracy:.2f}% on the 10,000 digits the grader holds back "
            f"({100 * public:.2f}% on the public test set); this point needs "
            f"{100 * threshold:g}% on the held-back digits"
        )


def check_output_and_loss(answer: Any, task: str) -> None:
    """One row of the activation/loss table: ``answer[task]`` is an accepted pair."""
    from reference_impl.output_layers import OUTPUT_AND_LOSS

    if not isinstance(answer, dict):
        raise AssertionError("output_and_loss should be a dict")
    pair = answer.get(task)
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise AssertionError(f"output_and_loss[{task!r}] should be a pair (activation, loss)")
    activation, loss = (str(v).strip().lower() for v in pair)
    activations, losses = OUTPUT_AND_LOSS[task]
    if activation not in activations:
        raise AssertionError(f"{task}: this output activation does not fit the task")
    if loss not in losses:
        raise AssertionError(f"{task}: this loss does not fit the task and its output")
