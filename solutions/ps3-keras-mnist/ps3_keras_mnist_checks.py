"""Hidden-test checks for problem set 3 (Keras on MNIST).

A student's model is whatever the test received: under the nngrade engine a proxy of the model
that stays in the sandbox (attribute reads and calls cross the boundary as plain data), under
otter the model itself. Everything here goes through the same few public Keras methods, which
both provide:

* ``model.get_config()`` and ``model.get_compile_config()``: plain dicts, read for the layer
  sizes and activations, the optimizer, the loss and the metrics;
* ``model.count_params()``: an int;
* ``model.predict(x, verbose=0)``: the class probabilities of the grader's images.

Nothing from the submission is deserialised here: configs are dicts of plain data that the
codec has already checked, and predictions are coerced to a float64 array of the expected
shape before anything is computed from them. Accuracy is computed on this side, against the
true labels of the MNIST test set, which never enter the sandbox.

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

from autograder.checks import as_float_array

__all__ = [
    "PREDICT_CHUNK",
    "dense_layers",
    "check_dense_architecture",
    "check_parameter_count",
    "check_compiled_like_the_lecture",
    "mnist_test_set",
    "test_accuracy",
    "check_accuracy",
    "check_output_and_loss",
]

#: Images per ``predict`` call: a reply of 5,000 × 10 probabilities stays far below the
#: sandbox's per-call output cap even in float64.
PREDICT_CHUNK = 5000


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


def _activation_name(value: Any) -> str:
    """A Keras activation as saved in a layer config: a name, or a serialised function."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):  # {"module": ..., "class_name": "function", "config": "relu"}
        config = value.get("config")
        if isinstance(config, str):
            return config.lower()
        return str(value.get("class_name", "?")).lower()
    return "linear" if value is None else "?"


def dense_layers(config: Any, name: str) -> list[tuple[int, str]]:
    """``(units, activation)`` of every Dense layer, in order, from ``model.get_config()``.

    A separate ``Activation`` layer (or ``Softmax``/``ReLU`` layer) right after a Dense layer
    with no activation of its own counts as that layer's activation, so
    ``Dense(10), Activation("softmax")`` reads as ``(10, "softmax")``. Input, Dropout and
    Flatten layers carry no weights and are skipped.
    """
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise AssertionError(f"{name}.get_config() does not describe a Keras model with layers")
    layers: list[tuple[int, str]] = []
    for layer in config["layers"]:
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            raise AssertionError(f"{name}.get_config() holds a layer that cannot be read")
        kind, settings = str(layer.get("class_name", "")), layer["config"]
        if kind == "Dense":
            units = settings.get("units")
            if not isinstance(units, int) or isinstance(units, bool):
                raise AssertionError(f"{name}: a Dense layer without a number of units")
            layers.append((units, _activation_name(settings.get("activation"))))
        elif kind in ("Activation", "Softmax", "ReLU") and layers and layers[-1][1] == "linear":
            activation = (
                _activation_name(settings.get("activation")) if kind == "Activation" else kind
            )
            layers[-1] = (layers[-1][0], activation.lower())
        elif kind in ("InputLayer", "Dropout", "Flatten", "Reshape"):
            continue
        else:
            layers.append((-1, kind))  # a layer of another kind: never matches a Dense spec
    return layers


def check_dense_architecture(model: Any, name: str, expected: list[tuple[int, str]]) -> None:
    """The model's Dense layers are exactly ``expected`` (units, activation), in order."""
    layers = dense_layers(_call(model, "get_config", name), name)
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
    count = _call(model, "count_params", name)
    if not isinstance(count, int) or isinstance(count, bool):
        raise AssertionError(f"{name}.count_params() did not return an integer")
    if count != expected:
        raise AssertionError(f"{name} has {count:,} parameters, which is not the right number")


def _name_of(value: Any) -> str:
    """``"rmsprop"`` from ``"rmsprop"`` or from a serialised ``{"class_name": "RMSprop"}``."""
    if isinstance(value, str):
        return value.lower().replace("_", "")
    if isinstance(value, dict):
        return str(value.get("class_name", "")).lower().replace("_", "")
    return ""


def check_compiled_like_the_lecture(model: Any, name: str) -> None:
    """Compiled with rmsprop, categorical cross-entropy and the accuracy metric."""
    config = _call(model, "get_compile_config", name)
    if not isinstance(config, dict):
        raise AssertionError(f"{name} has not been compiled")
    if _name_of(config.get("optimizer")) != "rmsprop":
        raise AssertionError(f"{name} should be compiled with the rmsprop optimizer")
    if _name_of(config.get("loss")) not in ("categoricalcrossentropy",):
        raise AssertionError(f"{name} should be compiled with the categorical cross-entropy loss")
    metrics = config.get("metrics")
    metrics = metrics if isinstance(metrics, list) else [metrics]
    names = {_name_of(m) for m in metrics}
    if not names & {"accuracy", "categoricalaccuracy", "acc"}:
        raise AssertionError(f"{name} should report accuracy as its metric")


@functools.lru_cache(maxsize=1)
def mnist_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images as the problem set prepares them ((n, 784) float32 in
    [0, 1]) and their integer labels. The labels never leave the grader."""
    from nnkit import load_mnist
    from nnkit.preprocessing import flatten, scale

    _, (images, labels) = load_mnist()
    x = scale(flatten(images), np.float32)
    x.setflags(write=False)
    return x, labels.astype(np.int64)


#: Accuracy per submission (its Remote, or the model itself under otter) and model name: the
#: three accuracy bands of one model cost one pass over the test set, not three.
_ACCURACIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def test_accuracy(model: Any, name: str) -> float:
    """Accuracy of ``model.predict`` on the MNIST test set, computed here from the labels.

    Remembered for the rest of the submission's grading (keyed weakly on the submission's
    connection, so the next submission never sees it)."""
    from autograder.engine.remote import RemoteRef

    owner = model._remote if type(model) is RemoteRef else model
    try:
        cached = _ACCURACIES.setdefault(owner, {})
    except TypeError:  # not weak-referenceable or not hashable: no cache
        cached = {}
    if name not in cached:
        cached[name] = _measure_accuracy(model, name)
    return cached[name]


def _measure_accuracy(model: Any, name: str) -> float:
    x, labels = mnist_test_set()
    predictions = []
    for start in range(0, len(x), PREDICT_CHUNK):
        chunk = np.array(x[start : start + PREDICT_CHUNK])
        got = as_float_array(
            _call(model, "predict", name, chunk, verbose=0),
            f"{name}.predict on {len(chunk):,} test images",
            shape=(len(chunk), 10),
        )
        if not np.all(np.isfinite(got)):
            raise AssertionError(f"{name}.predict returned NaN or infinite values")
        predictions.append(np.argmax(got, axis=1))
    return float(np.mean(np.concatenate(predictions) == labels))


test_accuracy.__test__ = False  # not a pytest test, despite its name


def check_accuracy(model: Any, name: str, threshold: float) -> None:
    """Test accuracy at least ``threshold``; the message gives the student's own accuracy."""
    accuracy = test_accuracy(model, name)
    if accuracy < threshold:
        raise AssertionError(
            f"{name} reaches {100 * accuracy:.2f}% test accuracy; this point needs "
            f"{100 * threshold:g}%"
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
