"""Hidden-test checks for problem set 2 (backpropagation and an MLP from scratch).

Each one calls the student's code on inputs of its own (random architectures, weights and data,
or the 8×8 digits split with the grader's own seed), computes the expected answer with
``reference_impl``, and fails with a message that never reveals that answer.

Gradients are compared with the relative error of :mod:`reference_impl.gradcheck`,
max |a − b| / max(1e-8, |a| + |b|), which must stay below ``GRADIENT_TOLERANCE``.

No point comes from a number the student's code reports about itself when the grader can
compute it: the gradient check compares the student's numerical gradients with the true ones;
a trained ``NeuralNetwork`` is judged by reading its four weight arrays back and predicting
with the reference forward pass (:func:`reference_predictions`), never by its own
``predict``; and a grid-search cell is recomputed by training the student's class again.

This module belongs to its problem set's folder. ``nngrade build`` ships it inside the
autograder zip, and the hidden tests import it as ``ps2_backprop_checks``: the nngrade engine's
test loader registers the zip's copy in the grader, otter copies it next to the
submission in the kernel. Problem-set-independent helpers are in ``autograder.checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks import as_float, as_float_array, assert_close
from reference_impl.backprop import lecture_cost_and_gradients, squared_loss_network
from reference_impl.data import train_test_split
from reference_impl.gradcheck import relative_error

__all__ = [
    "GRADIENT_TOLERANCE",
    "check_own_gradient_check",
    "TRAINING",
    "random_network",
    "check_gradient",
    "check_squared_loss_gradient",
    "check_backpropagation",
    "check_numerical_gradients",
    "digits_split",
    "WEIGHT_NAMES",
    "trained_weights",
    "reference_predictions",
    "training_accuracy",
    "check_split",
    "check_grid",
]

GRADIENT_TOLERANCE = 1e-6
BACKPROP_NAMES = ("dW_o", "db_o", "dW_h", "db_h")

# The fixed run the hidden test trains the student's NeuralNetwork with: the reference takes
# well under a second and reaches 96–99 % on the test split for any seed.
TRAINING = {
    "n_hidden_neurons": 50,
    "n_categories": 10,
    "epochs": 20,
    "batch_size": 16,
    "eta": 0.1,
    "lmbd": 0.001,
}


def check_gradient(got: Any, expected: np.ndarray, name: str) -> None:
    """``got`` must have ``expected``'s shape and a relative error below the tolerance."""
    got = as_float_array(got, name)
    if got.shape != expected.shape:
        if got.size == expected.size and got.squeeze().shape == expected.squeeze().shape:
            got = got.reshape(expected.shape)  # (H,) for (H, 1) and the like
        else:
            raise AssertionError(f"{name} should have shape {expected.shape}; yours has "
                                 f"{got.shape}")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} contains NaN or infinity")
    if relative_error(got, expected) >= GRADIENT_TOLERANCE:
        raise AssertionError(f"{name} is not the right gradient")


def random_network(rng: np.random.Generator, n: int | None = None) -> dict[str, Any]:
    """A random lecture-004 network and batch: X (N, d), one-hot Y (N, K), and its weights."""
    n = int(rng.integers(3, 9)) if n is None else n
    d, hidden, k = int(rng.integers(2, 9)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
    return {
        "X": rng.normal(size=(n, d)),
        "Y": np.eye(k)[rng.integers(0, k, size=n)],
        "W_h": rng.normal(size=(d, hidden)),
        "b_h": rng.normal(size=hidden),
        "W_o": rng.normal(size=(hidden, k)),
        "b_o": rng.normal(size=k),
    }


def check_squared_loss_gradient(fn: Callable, which: str, seed: int, cases: int = 4) -> None:
    """``fn(x, y, W_h, b_h, w_o, b_o)`` against lecture 001's network, on random sizes.

    ``which`` is "dw_o" (gradient for the output weights, shape (H,)) or "dW_h" (for the
    hidden weights, shape (d, H)).
    """
    rng = np.random.default_rng(seed)
    for _ in range(cases):
        d, hidden = int(rng.integers(1, 6)), int(rng.integers(2, 6))
        x, y = rng.normal(size=d), int(rng.integers(0, 2))
        W_h, b_h, w_o = rng.normal(size=(d, hidden)), rng.normal(size=hidden), rng.normal(
            size=hidden)
        b_o = float(rng.normal())
        expected = squared_loss_network(x, y, W_h, b_h, w_o, b_o)[which]
        name = {"dw_o": "the output-weight gradient", "dW_h": "the hidden-weight gradient"}[which]
        check_gradient(fn(x, y, W_h, b_h, w_o, b_o), np.asarray(expected),
                       f"{name} for {d} inputs and {hidden} hidden units")


def _four_arrays(result: Any, what: str) -> list[Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        raise AssertionError(f"{what} should return four arrays: dW_o, db_o, dW_h, db_h")
    return list(result)


def check_backpropagation(
    backpropagation: Callable, seed: int, parts: tuple[str, ...], lmbd: float = 0.0,
    cases: int = 3,
) -> None:
    """The student's ``backpropagation(X, Y, W_h, b_h, W_o, b_o, lmbd)`` on random networks;
    only the gradients named in ``parts`` (from dW_o, db_o, dW_h, db_h) are compared."""
    rng = np.random.default_rng(seed)
    for _ in range(cases):
        net = random_network(rng)
        _, expected = lecture_cost_and_gradients(**net, lmbd=lmbd)
        got = _four_arrays(backpropagation(**net, lmbd=lmbd), "backpropagation")
        shape = f"{net['X'].shape[1]}-{net['W_h'].shape[1]}-{net['W_o'].shape[1]}"
        for name, g, e in zip(BACKPROP_NAMES, got, expected, strict=True):
            if name in parts:
                label = f"backpropagation on a {shape} network" + (
                    f" with lmbd = {lmbd:g}" if lmbd else "")
                check_gradient(g, e, f"{label}: {name}")


def check_numerical_gradients(numerical_gradients: Callable, seed: int) -> None:
    """Centred differences with eps = 1e-4 agree with the exact gradient to about 1e-8; a
    one-sided difference is off by about eps, which this catches."""
    rng = np.random.default_rng(seed)
    net = random_network(rng, n=4)
    _, expected = lecture_cost_and_gradients(**net, lmbd=0.05)
    got = _four_arrays(numerical_gradients(**net, lmbd=0.05, eps=1e-4), "numerical_gradients")
    for name, g, e in zip(BACKPROP_NAMES, got, expected, strict=True):
        assert_close(g, e, f"numerical_gradients: {name}", rtol=1e-5, atol=1e-6)


def check_own_gradient_check(
    backpropagation: Callable, numerical_gradients: Callable, gradcheck_error: Any, seed: int
) -> None:
    """The student's gradient check, redone here on a network of ours with L2 (lmbd = 0.1):
    their ``backpropagation`` against their ``numerical_gradients`` (default eps), compared
    with the reference's relative error. The number they reported must also be below the
    tolerance, but on its own it proves nothing: the student's process computed it.

    For the seeds used, centred differences agree with the exact gradient to about 1e-9
    (three orders of magnitude inside the tolerance) and a one-sided difference is off by
    about 3e-5.
    """
    reported = as_float(gradcheck_error, "gradcheck_error")
    if not 0 <= reported < GRADIENT_TOLERANCE:
        raise AssertionError("gradcheck_error is not below 1e-6: one of your gradients (or "
                             "your numerical check) is off")
    net = random_network(np.random.default_rng(seed), n=5)
    _, truth = lecture_cost_and_gradients(**net, lmbd=0.1)
    analytic = _four_arrays(backpropagation(**net, lmbd=0.1), "backpropagation")
    numeric = _four_arrays(numerical_gradients(**net, lmbd=0.1), "numerical_gradients")
    for name, a, n, t in zip(BACKPROP_NAMES, analytic, numeric, truth, strict=True):
        a, n = as_float_array(a, f"backpropagation's {name}"), as_float_array(
            n, f"numerical_gradients' {name}")
        if n.shape != np.shape(t) or relative_error(n, t) >= GRADIENT_TOLERANCE:
            raise AssertionError(
                f"on a new network with lmbd = 0.1, your numerical gradients are not the "
                f"gradients of the cost ({name}): a gradient check needs a true reference"
            )
        if a.shape != n.shape or relative_error(a, n) >= GRADIENT_TOLERANCE:
            raise AssertionError(
                f"on a new network with lmbd = 0.1, your backpropagation and your numerical "
                f"gradients disagree on {name}"
            )


def digits_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8×8 digits scaled to [0, 1], split 80/20 with the grader's seed; one-hot Y_train."""
    from nnkit.datasets import load_digits_8x8

    X, y = load_digits_8x8()
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, train_size=0.8, seed=seed)
    return X_train, np.eye(10)[y_train], X_test, y_test


#: The attributes the problem set asks ``NeuralNetwork`` to keep its parameters in.
WEIGHT_NAMES = ("hidden_weights", "hidden_bias", "output_weights", "output_bias")


def trained_weights(net: Any, n_features: int, n_hidden: int, n_categories: int) -> list:
    """The network's four parameters, read back as data and checked against the shapes the
    grader asked its constructor for."""
    shapes = ((n_features, n_hidden), (n_hidden,), (n_hidden, n_categories), (n_categories,))
    weights = []
    for name, shape in zip(WEIGHT_NAMES, shapes, strict=True):
        try:
            value = getattr(net, name)
        except AttributeError:
            raise AssertionError(f"NeuralNetwork keeps no self.{name}: the grader reads the "
                                 "trained weights from the four attributes the question names"
                                 ) from None
        array = as_float_array(value, f"self.{name}")
        if array.shape != shape:
            raise AssertionError(f"self.{name} should have shape {shape} for this network; "
                                 f"yours has {array.shape}")
        if not np.all(np.isfinite(array)):
            raise AssertionError(f"self.{name} holds NaN or infinite values after training")
        weights.append(array)
    return weights


def reference_probabilities(weights: list, X: np.ndarray) -> np.ndarray:
    """The reference forward pass (sigmoid hidden layer, softmax output) with these weights."""
    from reference_impl.activations import sigmoid, softmax

    W_h, b_h, W_o, b_o = weights
    return softmax(sigmoid(np.asarray(X, dtype=float) @ W_h + b_h) @ W_o + b_o)


def reference_predictions(weights: list, X: np.ndarray) -> np.ndarray:
    """The class the reference forward pass gives each row of ``X``."""
    return np.argmax(reference_probabilities(weights, X), axis=1)


def _trained(NeuralNetwork: Any, X: np.ndarray, Y: np.ndarray, settings: dict, seed: int) -> list:
    if NeuralNetwork is None or NeuralNetwork is Ellipsis:
        raise AssertionError("NeuralNetwork has no answer yet")
    net = NeuralNetwork(X, Y, **settings, seed=seed)
    net.train()
    return trained_weights(net, X.shape[1], settings["n_hidden_neurons"],
                           settings["n_categories"])


def training_accuracy(NeuralNetwork: Any, seed: int) -> float:
    """Train the student's class with the fixed ``TRAINING`` settings on the grader's split;
    the test accuracy of the weights it learnt, predicted with the reference forward pass."""
    X_train, Y_train, X_test, y_test = digits_split(seed)
    weights = _trained(NeuralNetwork, X_train, Y_train, TRAINING, seed)
    return float(np.mean(reference_predictions(weights, X_test) == y_test))


def check_split(split: Callable, seed: int, part: str) -> None:
    """``split(inputs, labels, train_size, seed)`` on rows whose label can be read off the row.

    ``part`` "sizes": the right numbers of rows, and every row exactly once; "pairs": every
    input still next to its own label.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 80))
    labels = rng.permutation(n) + 1000
    inputs = np.column_stack([labels, -labels, labels * 0.5]).astype(float)
    result = split(inputs, labels, 0.75, int(rng.integers(0, 1000)))
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        raise AssertionError("train_test_split_numpy should return X_train, X_test, Y_train, "
                             "Y_test")
    X_train, X_test, Y_train, Y_test = (as_float_array(r, name) for r, name in zip(
        result, ("X_train", "X_test", "Y_train", "Y_test"), strict=True))
    cut = int(n * 0.75)
    if part == "sizes":
        for name, got, rows in (("X_train", X_train, cut), ("X_test", X_test, n - cut),
                                ("Y_train", Y_train, cut), ("Y_test", Y_test, n - cut)):
            if got.shape[:1] != (rows,):
                raise AssertionError(f"with train_size = 0.75 and {n} rows, {name} should have "
                                     f"{rows} rows; yours has {got.shape[:1]}")
        if sorted(np.concatenate([Y_train.reshape(-1), Y_test.reshape(-1)])) != sorted(labels):
            raise AssertionError("every row should appear exactly once, in train or in test")
        return
    for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
        if X.ndim != 2 or X.shape[1] != 3 or len(X) != len(Y):
            raise AssertionError(f"the {name} inputs and labels do not have matching rows")
        if not np.array_equal(X[:, 0], Y.reshape(-1)):
            raise AssertionError(f"in the {name} set, inputs are no longer next to their own "
                                 "labels")
    if np.array_equal(np.concatenate([Y_train, Y_test]).reshape(-1), labels):
        raise AssertionError("the rows are not shuffled")


def check_grid(
    accuracy: Any, eta_vals: Any, lmbd_vals: Any, part: str, best_eta: Any = None,
    best_lmbd: Any = None, NeuralNetwork: Any = None, split: Any = None,
) -> None:
    """The grid-search table: ``part`` "shape" (one row per eta, one column per lambda, at
    least 3 of each, accuracies in [0, 1]), "best" (the table's best cell and one other cell,
    recomputed: :func:`_recompute_cells`), or "argmax" (best_eta and best_lmbd are the values
    at the table's best cell). Given ``NeuralNetwork`` and ``split``, every part first
    recomputes those cells: no point rests on a table the grader cannot reproduce."""
    etas = as_float_array(eta_vals, "eta_vals").reshape(-1)
    lmbds = as_float_array(lmbd_vals, "lmbd_vals").reshape(-1)
    table = as_float_array(accuracy, "test_accuracy")
    if NeuralNetwork is not None or split is not None:  # every point rests on real cells
        if table.shape != (len(etas), len(lmbds)) or table.size == 0:
            raise AssertionError("test_accuracy does not have the shape of the grid")
        _recompute_cells(table, etas, lmbds, NeuralNetwork, split)
    if part == "shape":
        if len(etas) < 3 or len(lmbds) < 3:
            raise AssertionError("the grid needs at least 3 values of eta and 3 of lambda")
        if table.shape != (len(etas), len(lmbds)):
            raise AssertionError(f"test_accuracy should have one row per eta and one column per "
                                 f"lambda, shape {(len(etas), len(lmbds))}; yours has "
                                 f"{table.shape}")
        if not np.all((table >= 0) & (table <= 1)):
            raise AssertionError("accuracies are fractions between 0 and 1")
        return
    if table.shape != (len(etas), len(lmbds)) or table.size == 0:
        raise AssertionError("test_accuracy does not have the shape of the grid")
    if part == "best":
        if NeuralNetwork is None or split is None:
            raise AssertionError("the grid's cells cannot be recomputed")
        return
    # Ties are common (accuracies are multiples of 1/360): any cell holding the maximum counts.
    rows = np.flatnonzero(np.isclose(etas, as_float(best_eta, "best_eta")))
    columns = np.flatnonzero(np.isclose(lmbds, as_float(best_lmbd, "best_lmbd")))
    best = np.nanmax(table)
    if not any(table[i, j] == best for i in rows for j in columns):
        raise AssertionError("best_eta and best_lmbd are not the values of the best cell")



#: The settings question 7 asks every cell of the grid to be trained with.
GRID_TRAINING = {"n_hidden_neurons": 50, "n_categories": 10, "epochs": 10, "batch_size": 16}
#: How far a reported cell may be from the grader's recomputation: two test images of 360
#: (a tie in the softmax broken the other way, float32 arithmetic).
GRID_TOLERANCE = 2.5 / 360


def _recompute_cells(table: np.ndarray, etas: np.ndarray, lmbds: np.ndarray,
                     NeuralNetwork: Any, split: Any) -> None:
    """Train the student's class again for the table's best cell and one cell of the grader's
    choosing, on the student's own split (``split``: X_train, Y_train_onehot, X_test, y_test
    fetched as data), predict with the reference forward pass, and compare with the table."""
    X_train, Y_train, X_test, y_test = (as_float_array(a, name) for a, name in zip(
        split, ("X_train", "Y_train_onehot", "X_test", "y_test"), strict=True))
    if X_train.ndim != 2 or Y_train.shape != (len(X_train), 10) or X_test.ndim != 2 or \
            y_test.shape != (len(X_test),) or X_test.shape[1] != X_train.shape[1]:
        raise AssertionError("the grid cannot be recomputed: X_train, Y_train_onehot, X_test "
                             "and y_test do not describe a split of the digits")
    best = np.unravel_index(np.nanargmax(table), table.shape)
    rng = np.random.default_rng(int(table.size) * 7919 + 701)
    other = (int(rng.integers(table.shape[0])), int(rng.integers(table.shape[1])))
    for i, j in dict.fromkeys([tuple(int(k) for k in best), other]):
        settings = {**GRID_TRAINING, "eta": float(etas[i]), "lmbd": float(lmbds[j])}
        weights = _trained(NeuralNetwork, X_train, Y_train, settings, seed=0)
        accuracy = float(np.mean(reference_predictions(weights, X_test) == y_test))
        if not abs(accuracy - float(table[i, j])) <= GRID_TOLERANCE:
            raise AssertionError(
                f"retrained with eta = {etas[i]:g} and lambda = {lmbds[j]:g} on your split, "
                f"your NeuralNetwork reaches {accuracy:.1%} on your test split; your table says "
                f"{float(table[i, j]):.1%}"
            )
