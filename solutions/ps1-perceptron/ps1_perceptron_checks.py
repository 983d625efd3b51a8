"""Hidden-test checks for problem set 1 (the neuron, the chain rule, Rosenblatt's rule,
metrics). Each one calls the student's function on data of its own, computes the expected
answer with ``reference_impl``, and fails with a message that never reveals that answer.

This module belongs to its problem set's folder. ``nngrade build`` ships it inside the
autograder zip, and the hidden tests import it as ``ps1_perceptron_checks``: the nngrade engine's
test loader registers the zip's copy in the grader, otter copies it next to the
submission in the kernel. Problem-set-independent helpers are in ``autograder.checks``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.checks import as_float, as_float_array, assert_close
from reference_impl import metrics
from reference_impl import perceptron as ref

__all__ = [
    "check_table_row",
    "check_or_losses",
    "check_or_training",
    "check_partial_derivative",
    "check_gradient_descent_run",
    "check_perceptron_run",
    "check_binary_metric",
]


def check_table_row(
    table: Any,
    row: int,
    x: Sequence[float],
    w: Sequence[float],
    b: float,
    what: str = "or_table",
) -> None:
    """Row ``row`` of a completed neuron table: h exact, p within rounding to 2 decimals
    (students may round as the slides do), y_hat equal to the reference's 0/1."""
    columns = getattr(table, "columns", None)
    if columns is None or not hasattr(table, "iloc"):
        raise AssertionError(f"{what} should be a pandas DataFrame")
    for column in ("h", "p", "y_hat"):
        if column not in columns:
            raise AssertionError(f"{what} has no column {column!r}")
    if not 0 <= row < len(table):
        raise AssertionError(f"{what} has {len(table)} rows; row {row + 1} is missing")
    expected = ref.perceptron_table(np.asarray([x], dtype=float), [0], w, b).iloc[0]
    label = f"{what}, row {row + 1}"
    h = as_float(table["h"].iloc[row], f"{label}: h")
    p = as_float(table["p"].iloc[row], f"{label}: p")
    y_hat = as_float(table["y_hat"].iloc[row], f"{label}: y_hat")
    if not np.isclose(h, expected.h, atol=1e-6):
        raise AssertionError(f"{label}: h is not right")
    if not 0.0 < p < 1.0:
        raise AssertionError(f"{label}: p should be in (0, 1); yours is {p:g}")
    if abs(p - expected.p) > 0.0051:
        raise AssertionError(f"{label}: p is not sigma(h)")
    if y_hat not in (0.0, 1.0):
        raise AssertionError(f"{label}: y_hat should be 0 or 1; yours is {y_hat:g}")
    if y_hat != expected.y_hat:
        raise AssertionError(f"{label}: y_hat does not follow the rounding rule")


def _or_labels() -> np.ndarray:
    from nnkit.datasets import logic_gate

    return np.asarray(logic_gate("OR")[1])


def check_or_losses(or_losses: Any, or_total: Any, or_table: Any) -> None:
    """2a's variables: the squared loss of the probabilities in the student's own
    ``or_table`` (so a mistake in 1b is not charged again), per row and in total."""
    columns = getattr(or_table, "columns", None)
    if columns is None or "p" not in columns:
        raise AssertionError("or_losses is the loss of or_table's column p; or_table has none")
    y = _or_labels()
    p = as_float_array(list(or_table["p"]), "or_table's column p", shape=y.shape)
    expected = ref.squared_loss(y, p)
    losses = as_float_array(or_losses, "or_losses", shape=y.shape)
    if not np.allclose(losses, expected, rtol=1e-6, atol=1e-9):
        raise AssertionError("or_losses is not the squared loss of or_table's p")
    if not np.isclose(as_float(or_total, "or_total"), expected.sum(), rtol=1e-6, atol=1e-9):
        raise AssertionError("or_total is not the sum of the squared losses of or_table's p")


def check_or_training(
    gradient_descent: Callable, or_w: Any, or_b: Any, or_losses_history: Any, or_final_table: Any
) -> None:
    """4's OR results judged with the student's own ``gradient_descent`` (follow-through):
    the lecture's start, eta = 1, 1000 steps; ``or_final_table`` is the table of ``or_w`` and
    ``or_b``."""
    from nnkit.datasets import logic_gate

    X, y = logic_gate("OR")
    result = gradient_descent(X, y, np.array([1.0, -1.0]), -0.5, 1.0, 1000)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise AssertionError("gradient_descent should return (w, b, losses)")
    w, b, losses = result
    history = as_float_array(or_losses_history, "or_losses_history", shape=(1001,))
    if not np.allclose(history, as_float_array(losses, "losses"), rtol=1e-6, atol=1e-9):
        raise AssertionError("or_losses_history is not what your gradient_descent gives on OR "
                             "from the lecture's start with eta = 1 for 1000 steps")
    assert_close(or_w, w, "or_w (your gradient_descent on OR)")
    assert_close(or_b, b, "or_b (your gradient_descent on OR)")
    trained_w, trained_b = as_float_array(or_w, "or_w", shape=(2,)), as_float(or_b, "or_b")
    for row in range(len(X)):
        check_table_row(or_final_table, row=row, x=X[row], w=trained_w, b=trained_b,
                        what="or_final_table")


_PARTIALS = {"dl_dw1": ("dl_dw", 0), "dl_dw2": ("dl_dw", 1), "dl_db": ("dl_db", None)}


def check_partial_derivative(fn: Callable, name: str, seed: int, cases: int = 6) -> None:
    """``fn(x, y, w, b)`` must equal the reference chain rule at ``cases`` new observations."""
    key, index = _PARTIALS[name]
    rng = np.random.default_rng(seed)
    for _ in range(cases):
        x, w = rng.normal(size=2), rng.normal(size=2)
        b, y = float(rng.normal()), int(rng.integers(0, 2))
        factors = ref.chain_rule_factors(x, y, w, b)
        expected = factors[key] if index is None else factors[key][index]
        assert_close(fn(x, y, w, b), expected, f"{name} at a new observation")


def check_gradient_descent_run(
    gradient_descent: Callable,
    gradient: Callable,
    X: np.ndarray,
    y: np.ndarray,
    w0: Sequence[float],
    b0: float,
    eta: float,
    steps: int,
    what: str,
) -> None:
    """The student's loop against the reference loop driven by the student's own gradient.

    Compares the final weights and the whole loss history, step by step.
    """
    w0 = np.asarray(w0, dtype=float)
    expected = ref.gradient_descent(X, y, w0, b0, eta, steps, gradient_fn=gradient)
    result = gradient_descent(X, y, w0.copy(), b0, eta, steps)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise AssertionError("gradient_descent should return (w, b, losses)")
    w, b, losses = result
    label = f"gradient_descent on {what}"
    losses = as_float_array(losses, f"{label}: losses")
    if losses.shape != (steps + 1,):
        raise AssertionError(f"{label}: losses should have {steps + 1} entries; yours has "
                             f"{losses.size}")
    bad = ~np.isclose(losses, expected.loss_history, rtol=1e-6, atol=1e-9)
    if np.any(bad):
        raise AssertionError(f"{label}: the loss first differs after step {int(np.argmax(bad))}")
    assert_close(w, expected.w, f"{label}: final w")
    assert_close(b, expected.b, f"{label}: final b")


def check_perceptron_run(
    perceptron_train: Callable,
    X: np.ndarray,
    y: np.ndarray,
    eta: float,
    epochs: int,
    what: str,
    bias_first: bool = True,
) -> None:
    """The student's Rosenblatt training must match the reference epoch for epoch and weight
    for weight. With ``bias_first=False`` the bias weight may also come last: the one test
    with ``bias_first=True`` is where the order the text asks for is charged."""
    expected = ref.rosenblatt_fit(X, y, eta=eta, epochs=epochs)
    result = perceptron_train(np.asarray(X, dtype=float), np.asarray(y), eta, epochs)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError("perceptron_train should return (w, errors)")
    w, errors = result
    label = f"perceptron_train on {what}"
    errors = as_float_array(list(errors), f"{label}: errors")
    if errors.shape != (len(expected.errors_per_epoch),) or not np.array_equal(
        errors, expected.errors_per_epoch
    ):
        raise AssertionError(f"{label}: the mistakes per epoch are not right")
    weights = as_float_array(w, f"{label}: w", shape=np.shape(expected.weights))
    if bias_first or not np.allclose(weights, np.roll(expected.weights, -1)):
        assert_close(weights, expected.weights, f"{label}: final weights (bias first)")


def check_binary_metric(fn: Callable, name: str, seed: int) -> None:
    """A 0/1 metric on random labels, and on the degenerate cases where it must be 0.0."""
    reference = {"precision": metrics.precision, "recall": metrics.recall,
                 "f1": metrics.f1_score}[name]
    rng = np.random.default_rng(seed)
    for _ in range(3):
        y_true, y_pred = rng.integers(0, 2, size=40), rng.integers(0, 2, size=40)
        assert_close(fn(y_true, y_pred), reference(y_true, y_pred), f"{name} on 40 new labels")
    never_positive = np.zeros(10, dtype=int)
    some_positive = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    for y_true, y_pred in ((some_positive, never_positive), (never_positive, some_positive)):
        assert_close(fn(y_true, y_pred), reference(y_true, y_pred),
                     f"{name} when a count in its formula is 0", atol=1e-12)
