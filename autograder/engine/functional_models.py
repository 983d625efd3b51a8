"""A functional Keras model read as the chain of layers the trusted evaluator computes.

``keras.Model(inputs, outputs)`` built layer after layer (``x = Dense(4)(x)`` and so on) is the
same network as a ``keras.Sequential`` model; only its config differs: each layer also names
the layer whose output it takes (``inbound_nodes``), and the model names its input and output
layers. :func:`as_chain` checks, from that data alone, that the graph is one chain: one input
layer first, then every layer taking exactly one tensor, the output of the layer listed just
before it, and the last layer the model's one output. It then returns the layers as a
Sequential config lists them, which :func:`autograder.engine.models.read_model` validates and
computes as it does any Sequential model. Weights come in the same order either way, the order
of ``model.layers``.

Anything else (two inputs, a branch, a layer used twice, a layer called with ``training=True``)
is refused with a message that says what the grader can read.
"""

from __future__ import annotations

from typing import Any

#: A live model's config holds tuples where its JSON form holds lists; both are read alike.
SEQUENCE = (list, tuple)

__all__ = ["as_chain", "is_functional"]

#: Call arguments a layer of a chain may carry: none that changes what it computes when the
#: grader predicts (Keras records ``training=False`` for a Dropout layer, for example).
HARMLESS_CALL_ARGUMENTS = {"training": (None, False), "mask": (None,)}


def is_functional(config: dict) -> bool:
    """Whether a model config is a functional model's (it names input and output layers)."""
    return "input_layers" in config or "output_layers" in config


def _one_endpoint(value: Any) -> str | None:
    """The layer name of a model's single input or output: ``["x", 0, 0]`` or
    ``[["x", 0, 0]]``; ``None`` for anything else (several of them, or unreadable)."""
    if isinstance(value, SEQUENCE) and len(value) == 1 and isinstance(value[0], SEQUENCE):
        value = value[0]
    if isinstance(value, SEQUENCE) and len(value) == 3 and isinstance(value[0], str):
        return value[0]
    return None


def _source(entry: dict, where: str) -> str:
    """The name of the one layer whose output this layer takes."""
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, SEQUENCE) or len(nodes) != 1 or not isinstance(nodes[0], dict):
        raise _refused(f"{where} is used more than once, or not at all")
    args, kwargs = nodes[0].get("args"), nodes[0].get("kwargs", {})
    if not isinstance(args, SEQUENCE) or len(args) != 1 or not isinstance(args[0], dict):
        raise _refused(f"{where} takes more than one input")
    history = args[0].get("config", {}).get("keras_history") if isinstance(
        args[0].get("config"), dict) else None
    if args[0].get("class_name") != "__keras_tensor__" or not (
            isinstance(history, SEQUENCE) and history and isinstance(history[0], str)):
        raise _refused(f"{where} takes an input the grader cannot read")
    if not isinstance(kwargs, dict) or any(
            key not in HARMLESS_CALL_ARGUMENTS or value not in HARMLESS_CALL_ARGUMENTS[key]
            for key, value in kwargs.items()):
        raise _refused(f"{where} is called with arguments the grader does not compute "
                       f"({', '.join(map(str, kwargs))[:80]})")
    return history[0]


def _refused(reason: str) -> AssertionError:
    from autograder.engine.models import ModelRejected

    return ModelRejected(
        f"{reason}: the grader reads a functional model only as one chain of layers "
        "(x = keras.Input(...), then x = layer(x) for each layer, then keras.Model(inputs, x)); "
        "or build it with keras.Sequential([...])"
    )


def as_chain(config: dict, name: str) -> list:
    """The layer entries of the functional model ``config``, in chain order, as a Sequential
    config lists them; raises :class:`~autograder.engine.models.ModelRejected` otherwise."""
    layers = config.get("layers")
    if not isinstance(layers, SEQUENCE) or len(layers) < 2 or not all(
            isinstance(entry, dict) for entry in layers):
        raise _refused(f"{name} cannot be read")
    first, last = _one_endpoint(config.get("input_layers")), _one_endpoint(
        config.get("output_layers"))
    if first is None or last is None:
        raise _refused(f"{name} should have one input and one output")
    names = [entry.get("name") for entry in layers]
    if len(set(map(str, names))) != len(names):
        raise _refused(f"{name}: two of its layers have the same name")
    if layers[0].get("class_name") != "InputLayer" or names[0] != first:
        raise _refused(f"{name}: its input layer should come first")
    if layers[0].get("inbound_nodes") not in ([], (), None):
        raise _refused(f"{name}: its input layer cannot read from another layer")
    for index in range(1, len(layers)):
        where = f"{name}, layer {index + 1} ({str(names[index])[:40]})"
        if _source(layers[index], where) != names[index - 1]:
            raise _refused(f"{where} does not take the output of the layer before it")
    if names[-1] != last:
        raise _refused(f"{name}: its output should be its last layer")
    return [{key: value for key, value in entry.items() if key != "inbound_nodes"}
            for entry in layers]
