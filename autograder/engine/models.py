"""The trusted evaluator: a student's Keras model judged from its data, never by its code.

A model's points come from what the grader measures. The submission hands its model over as
data, through the same data-only codec as every answer:

* its architecture, ``model.get_config()``: a dict of plain data;
* its weights, ``model.get_weights()``: a list of numeric arrays.

:func:`read_model` validates that data against an allow-list (a ``Sequential`` model of
built-in layers, or a functional one whose layers form one chain, see
:mod:`autograder.engine.functional_models`; built-in activation names; every weight of the
shape its layer implies) and
:class:`JudgedModel` computes the model's outputs here, in NumPy, from those weights. Nothing
the submission defines runs: not its ``predict`` (which could look its inputs up in a table of
the test set), not a Lambda layer, not a custom object, not a subclassed model.

Why NumPy, and not Keras rebuilding the model from the config: ``keras.Sequential.from_config``
in the grader would resolve class names and build objects from the submission's data, so its
safety would rest on Keras's deserialisation and on our allow-list together; a separate clean
process (a second sandbox, or a subprocess importing Keras) removes most of that risk but costs
a TensorFlow start per submission (several seconds on 2 cores). Here the config is only ever
*read*: each allow-listed layer is a few lines of array arithmetic, the unknown is refused, and
there is nothing to deserialise. The price is the allow-list itself: layers outside it (Conv2D,
say) are refused with a message that names them. ``tests/test_models_judged.py`` checks the
forward pass against Keras's own ``predict`` for every layer and activation it accepts.

The same functions serve both engines: under nngrade ``model`` is a proxy whose two calls
cross the sandbox boundary as data; under otter it is the model itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.engine.functional_models import as_chain, is_functional

__all__ = [
    "ACTIVATIONS",
    "LAYERS",
    "MAX_PARAMETERS",
    "JudgedModel",
    "Layer",
    "ModelRejected",
    "read_model",
    "judge",
]

#: A model with more weights than this is refused (the challenge needs far fewer).
MAX_PARAMETERS = 20_000_000
#: Rows per step of the forward pass: bounds the grader's memory for wide layers.
ROWS_PER_STEP = 2000


class ModelRejected(AssertionError):
    """The model handed over is not one the grader can judge; the message says why."""


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gelu(x: np.ndarray) -> np.ndarray:  # Keras 3's default: the exact form, with erf
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

#: Keras's built-in activation names, with the same definitions (Keras 3 defaults).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "softplus": lambda x: np.logaddexp(x, 0),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "gelu": _gelu,
    "exponential": np.exp,
}


def activation_name(value: Any, where: str) -> str:
    """A built-in activation's name from a layer config: ``"relu"``, or the serialised form
    ``{"module": "keras.activations", "class_name": "function", "config": "relu"}``."""
    if value is None:
        return "linear"
    if isinstance(value, dict):
        if value.get("module") not in ("keras.activations", None):
            raise ModelRejected(f"{where}: only Keras's built-in activations can be graded")
        value = value.get("config")
    if not isinstance(value, str) or value.lower() not in ACTIVATIONS:
        raise ModelRejected(
            f"{where}: the activation {str(value)[:40]!r} is not one of Keras's built-in "
            f"activations the grader knows ({', '.join(sorted(ACTIVATIONS))})"
        )
    return value.lower()


@dataclass
class Layer:
    """One validated layer: its class name, its settings and its weights, in Keras's order."""

    kind: str
    settings: dict
    weights: list[np.ndarray] = field(default_factory=list)
    activation: str = "linear"  # Dense and Activation layers; "linear" otherwise


def _number(settings: dict, key: str, where: str, default: float | None = None) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelRejected(f"{where}: {key} should be a number")
    return float(value)


def _flag(settings: dict, key: str, default: bool) -> bool:
    value = settings.get(key, default)
    return value if isinstance(value, bool) else default


def _weight_shapes(kind: str, settings: dict, width: tuple[int, ...], where: str) -> list:
    """The shapes of a layer's weights for an input of ``width`` (features, no batch axis)."""
    if kind == "Dense":
        if len(width) != 1:
            raise ModelRejected(f"{where}: a Dense layer needs a flat input (add a Flatten)")
        units = settings.get("units")
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ModelRejected(f"{where}: a Dense layer needs a positive number of units")
        shapes = [(width[0], units)]
        if _flag(settings, "use_bias", True):
            shapes.append((units,))
        return shapes
    if kind == "BatchNormalization":
        axis = settings.get("axis", -1)
        if axis not in (-1, len(width), [-1], [len(width)]):
            raise ModelRejected(f"{where}: only BatchNormalization over the last axis is graded")
        n = (width[-1],)
        shapes = [n] if _flag(settings, "scale", True) else []
        shapes += [n] if _flag(settings, "center", True) else []
        return shapes + [n, n]  # moving mean, moving variance
    return []


def _output_width(kind: str, settings: dict, width: tuple[int, ...], where: str) -> tuple:
    if kind == "Dense":
        return (int(settings["units"]),)
    if kind == "Flatten":
        return (math.prod(width),)
    if kind == "Reshape":
        target = settings.get("target_shape")
        if not isinstance(target, (list, tuple)) or not all(
            isinstance(n, int) and not isinstance(n, bool) and (n > 0 or n == -1) for n in target
        ):
            raise ModelRejected(f"{where}: a Reshape layer needs a target shape of integers")
        target = list(target)
        if target.count(-1) > 1:
            raise ModelRejected(f"{where}: a Reshape target may hold at most one -1")
        if -1 in target:
            known = math.prod(n for n in target if n != -1)
            target[target.index(-1)] = math.prod(width) // known if known else 0
        if math.prod(target) != math.prod(width):
            raise ModelRejected(f"{where}: Reshape to {tuple(target)} does not fit its input")
        return tuple(target)
    return width


#: The layer classes the grader computes, all of them built into Keras. Input, Dropout and the
#: noise layers do nothing at prediction time.
LAYERS = (
    "InputLayer",
    "Dense",
    "Activation",
    "Softmax",
    "ReLU",
    "LeakyReLU",
    "Flatten",
    "Reshape",
    "Dropout",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "Rescaling",
    "BatchNormalization",
)


def _input_width(layer: dict, where: str) -> tuple[int, ...]:
    settings = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    shape = settings.get("batch_shape") or settings.get("batch_input_shape")
    if not isinstance(shape, (list, tuple)) or len(shape) < 2:
        raise ModelRejected(f"{where}: the input layer should give the input's shape")
    width = tuple(shape[1:])
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in width):
        raise ModelRejected(f"{where}: the input's shape should be fixed, e.g. (784,)")
    return width


def read_model(
    config: Any, weights: Any, name: str, input_width: tuple[int, ...] = (784,)
) -> JudgedModel:
    """Validate a ``Sequential`` (or chain-shaped functional) model's config and weights;
    return it ready to be judged.

    Raises :class:`ModelRejected` (an ``AssertionError``, so the point is lost with a message
    for the student) for anything outside the allow-list or inconsistent with it.
    """
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelRejected(
            f"{name} is not a Keras model the grader can read "
            "(build it with keras.Sequential([...]))"
        )
    if is_functional(config):
        config = {"layers": as_chain(config, name)}
    if not isinstance(weights, list) or not all(type(w) is np.ndarray for w in weights):
        raise ModelRejected(f"{name}.get_weights() should give a list of arrays")
    entries = config["layers"]
    if not entries:
        raise ModelRejected(f"{name} has no layers")
    width = input_width
    layers: list[Layer] = []
    remaining = list(weights)
    for index, entry in enumerate(entries, start=1):
        where = f"{name}, layer {index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
            raise ModelRejected(f"{where} cannot be read")
        kind = entry.get("class_name")
        if entry.get("module", "keras.layers") != "keras.layers" or kind not in LAYERS:
            raise ModelRejected(
                f"{where} is a {str(kind)[:40]}, which the grader does not compute; use "
                f"Keras's built-in layers {', '.join(LAYERS[1:])}"
            )
        if entry.get("registered_name") not in (None, kind):
            raise ModelRejected(f"{where}: custom layers cannot be graded")
        settings = entry["config"]
        if kind == "InputLayer":
            if index != 1:
                raise ModelRejected(f"{where}: an input layer can only come first")
            width = _input_width(entry, where)
            if width != input_width:
                raise ModelRejected(
                    f"{name} takes inputs of shape {width}; the grader's images are "
                    f"{input_width}"
                )
            continue
        layer = Layer(kind, settings)
        if kind in ("Dense", "Activation"):
            layer.activation = activation_name(settings.get("activation"), where)
        shapes = _weight_shapes(kind, settings, width, where)
        taken, remaining = remaining[: len(shapes)], remaining[len(shapes) :]
        if [tuple(w.shape) for w in taken] != shapes:
            raise ModelRejected(f"{name}: the weights do not have the shapes its layers need")
        layer.weights = [np.asarray(w, dtype=np.float32) for w in taken]
        if not all(np.all(np.isfinite(w)) for w in layer.weights):
            raise ModelRejected(f"{name}: some weights are NaN or infinite")
        width = _output_width(kind, settings, width, where)
        layers.append(layer)
    if remaining:
        raise ModelRejected(f"{name}: the weights do not have the shapes its layers need")
    model = JudgedModel(name, input_width, tuple(width), layers)
    if model.parameters > MAX_PARAMETERS:
        raise ModelRejected(f"{name} has more than {MAX_PARAMETERS:,} weights")
    return model


@dataclass
class JudgedModel:
    """A validated model: its layers and weights, and the grader's own forward pass."""

    name: str
    input_width: tuple[int, ...]
    output_width: tuple[int, ...]
    layers: list[Layer]

    @property
    def parameters(self) -> int:
        """Every weight, trainable or not: what ``model.count_params()`` counts."""
        return sum(int(w.size) for layer in self.layers for w in layer.weights)

    def dense_layers(self) -> list[tuple[int, str]]:
        """``(units, activation)`` of every Dense layer in order; an activation layer right
        after a Dense layer without activation counts as that layer's activation; any other
        layer with weights reads ``(-1, kind)``, which no Dense spec matches."""
        found: list[tuple[int, str]] = []
        for layer in self.layers:
            if layer.kind == "Dense":
                found.append((int(layer.weights[0].shape[1]), layer.activation))
            elif layer.kind in ("Activation", "Softmax", "ReLU") and found:
                if found[-1][1] == "linear":
                    name = layer.activation if layer.kind == "Activation" else layer.kind.lower()
                    found[-1] = (found[-1][0], name)
            elif layer.weights:
                found.append((-1, layer.kind))
        return found

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for ``x`` (float32, computed here from the weights)."""
        x = np.asarray(x, dtype=np.float32)
        if tuple(x.shape[1:]) != self.input_width:
            raise ValueError(f"inputs of shape {x.shape[1:]}; the model takes {self.input_width}")
        outputs = [self._forward(x[i : i + ROWS_PER_STEP]) for i in range(0, len(x), ROWS_PER_STEP)]
        return np.concatenate(outputs) if outputs else np.zeros((0, *self.output_width))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            for layer in self.layers:
                x = _apply(layer, x).astype(np.float32, copy=False)
        return x


def _apply(layer: Layer, x: np.ndarray) -> np.ndarray:
    kind, settings, weights = layer.kind, layer.settings, layer.weights
    if kind == "Dense":
        out = x @ weights[0]
        if len(weights) == 2:
            out = out + weights[1]
        return ACTIVATIONS[layer.activation](out)
    if kind == "Activation":
        return ACTIVATIONS[layer.activation](x)
    if kind == "Softmax":
        return _softmax(x)
    if kind == "ReLU":
        slope = _number(settings, "negative_slope", "ReLU", 0.0)
        threshold = _number(settings, "threshold", "ReLU", 0.0)
        out = np.where(x >= threshold, x, slope * (x - threshold))
        limit = settings.get("max_value")
        return np.minimum(out, _number(settings, "max_value", "ReLU")) if limit is not None else out
    if kind == "LeakyReLU":
        slope = _number(settings, "negative_slope", "LeakyReLU", 0.3)
        return np.where(x >= 0, x, slope * x)
    if kind in ("Flatten", "Reshape"):
        return x.reshape(len(x), *_shape_after(layer, x))
    if kind == "Rescaling":
        scale = _number(settings, "scale", "Rescaling")
        return x * np.float32(scale) + np.float32(_number(settings, "offset", "Rescaling", 0.0))
    if kind == "BatchNormalization":
        epsilon = _number(settings, "epsilon", "BatchNormalization", 1e-3)
        values = list(weights)
        gamma = values.pop(0) if _flag(settings, "scale", True) else 1.0
        beta = values.pop(0) if _flag(settings, "center", True) else 0.0
        mean, variance = values
        return (x - mean) / np.sqrt(variance + np.float32(epsilon)) * gamma + beta
    return x  # InputLayer, Dropout and the noise layers: identity when predicting


def _shape_after(layer: Layer, x: np.ndarray) -> tuple[int, ...]:
    width = tuple(x.shape[1:])
    return _output_width(layer.kind, layer.settings, width, layer.kind)


def judge(model: Any, name: str, input_width: Sequence[int] = (784,)) -> JudgedModel:
    """Fetch ``model``'s config and weights as data and validate them (:func:`read_model`).

    Only ``get_config()`` and ``get_weights()`` are called on the student's object; what they
    return is data, checked before anything is computed from it.
    """
    if model is None or model is Ellipsis:
        raise ModelRejected(f"{name} has no answer yet (it is {model!r})")
    config = _fetch(model, "get_config", name)
    weights = _fetch(model, "get_weights", name)
    if isinstance(weights, tuple):
        weights = list(weights)
    return read_model(config, weights, name, tuple(input_width))


def _fetch(model: Any, method: str, name: str) -> Any:
    try:
        function = getattr(model, method)
    except AttributeError:
        raise ModelRejected(f"{name} has no method {method}(): is it a Keras model?") from None
    if not callable(function):
        raise ModelRejected(f"{name}.{method} is not a method: is {name} a Keras model?")
    return function()
