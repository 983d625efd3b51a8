"""Which output activation and which loss fit which task (the lectures' table).

| task | output activation | loss |
|---|---|---|
| binary | sigmoid | binary cross-entropy |
| multiclass, one label | softmax | categorical cross-entropy |
| multilabel | sigmoid (one per label) | binary cross-entropy |
| regression | none (linear) | MSE |
| regression in [0, 1] | sigmoid | MSE or binary cross-entropy |

The reasoning: the activation's range must be the target's range (a probability in (0, 1),
a distribution over K classes, any real number), and the loss must be defined on that range
(cross-entropies take probabilities; the binary one also accepts any target in [0, 1]).
"""

from __future__ import annotations

__all__ = ["ACTIVATIONS", "LOSSES", "OUTPUT_AND_LOSS", "OUTPUT_RANGE", "dense_parameters"]

ACTIVATIONS = ("sigmoid", "softmax", "none")
LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse")

#: task -> (accepted output activations, accepted losses)
OUTPUT_AND_LOSS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "binary": (frozenset({"sigmoid"}), frozenset({"binary_crossentropy"})),
    "multiclass": (frozenset({"softmax"}), frozenset({"categorical_crossentropy"})),
    "multilabel": (frozenset({"sigmoid"}), frozenset({"binary_crossentropy"})),
    "regression": (frozenset({"none"}), frozenset({"mse"})),
    "regression_01": (frozenset({"sigmoid"}), frozenset({"mse", "binary_crossentropy"})),
}

#: What each output activation can produce, per output: used by the tests of this table.
OUTPUT_RANGE = {
    "sigmoid": "each output in (0, 1), independently",
    "softmax": "outputs in (0, 1) that sum to 1",
    "none": "any real number",
}


def dense_parameters(sizes: list[int] | tuple[int, ...]) -> int:
    """Trainable parameters of a chain of Dense layers with biases, sizes (n_0, ..., n_L):

        sum over l of (n_{l-1} + 1) * n_l

    (a weight per input and a bias, for every unit). For 784 → 512 → 10: 407,050.
    """
    return sum((int(a) + 1) * int(b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
