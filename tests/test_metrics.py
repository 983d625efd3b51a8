"""Tests for reference_impl.metrics against scikit-learn, the lecture's fraud example and a
hand-computed case."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from reference_impl import metrics as M

SEEDS = [0, 1, 2, 3, 4]


def binary_case(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, size=n)
    # A noisy classifier: right about 70% of the time.
    flip = rng.uniform(size=n) < 0.3
    return y_true, np.where(flip, 1 - y_true, y_true)


def multiclass_case(seed: int, n: int = 80, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, size=n)
    noise = rng.integers(0, k, size=n)
    y_pred = np.where(rng.uniform(size=n) < 0.4, noise, y_true)
    if seed % 2 == 0:
        # The classifier never predicts class 0, so its precision has a zero denominator.
        y_pred = np.where(y_pred == 0, 1, y_pred)
    return y_true, y_pred


# ----------------------------------------------------------------------------------------------
# Against scikit-learn
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_match_sklearn(seed):
    t, p = binary_case(seed)
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=1e-15)
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    for pos_label in (1, 0):
        kw = {"average": "binary", "pos_label": pos_label}
        sk_kw = {**kw, "zero_division": 0}
        assert M.precision(t, p, **kw) == pytest.approx(skm.precision_score(t, p, **sk_kw))
        assert M.recall(t, p, **kw) == pytest.approx(skm.recall_score(t, p, **sk_kw))
        assert M.f1_score(t, p, **kw) == pytest.approx(skm.f1_score(t, p, **sk_kw))


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_metrics_match_sklearn(seed):
    t, p = multiclass_case(seed)
    assert M.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=1e-15)
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    sk_kw = {"average": "macro", "zero_division": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # zero denominators are handled silently
        ours = (
            M.precision(t, p, average="macro"),
            M.recall(t, p, average="macro"),
            M.f1_score(t, p, average="macro"),
        )
    theirs = (
        skm.precision_score(t, p, **sk_kw),
        skm.recall_score(t, p, **sk_kw),
        skm.f1_score(t, p, **sk_kw),
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_string_labels_and_explicit_label_order_match_sklearn():
    rng = np.random.default_rng(7)
    classes = np.array(["cat", "dog", "fish"])
    t = classes[rng.integers(0, 3, size=40)]
    p = classes[rng.integers(0, 3, size=40)]
    np.testing.assert_array_equal(M.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    # A custom order, and a subset of labels (samples with other labels are ignored).
    for labels in (["fish", "cat", "dog"], ["dog", "cat"]):
        np.testing.assert_array_equal(
            M.confusion_matrix(t, p, labels=labels), skm.confusion_matrix(t, p, labels=labels)
        )
    assert M.precision(t, p, average="macro") == pytest.approx(
        skm.precision_score(t, p, average="macro", zero_division=0)
    )
    binary_t, binary_p = t[t != "fish"], p[t != "fish"]
    binary_p = np.where(binary_p == "fish", "cat", binary_p)
    assert M.f1_score(binary_t, binary_p, pos_label="dog") == pytest.approx(
        skm.f1_score(binary_t, binary_p, pos_label="dog")
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(50,), (50, 3)])
def test_regression_metrics_match_sklearn(seed, shape):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=shape)
    p = t + rng.normal(scale=0.5, size=shape)
    sk_mse = skm.mean_squared_error(t, p)
    assert M.mse(t, p) == pytest.approx(sk_mse, rel=1e-14)
    assert M.rmse(t, p) == pytest.approx(np.sqrt(sk_mse), rel=1e-14)
    assert M.sse(t, p) == pytest.approx(sk_mse * t.size, rel=1e-13)


def test_regression_accepts_column_vectors_and_float32():
    t = np.array([1.0, 2.0, 4.0])
    p = np.array([[1.5], [2.0], [3.0]], dtype=np.float32)
    assert M.sse(t, p) == pytest.approx(1.25)
    assert M.mse(t, p) == pytest.approx(1.25 / 3)
    assert M.rmse(t, p) == pytest.approx(np.sqrt(1.25 / 3))
    assert type(M.mse(t, p)) is float


# ----------------------------------------------------------------------------------------------
# The lecture's examples
# ----------------------------------------------------------------------------------------------


def test_fraud_example_always_predicting_not_fraud():
    # 1000 transactions, 10 of them fraud (the positive class); the classifier always says
    # "not fraud". TP = 0, FP = 0, FN = 10, TN = 990.
    y_true = np.zeros(1000, dtype=int)
    y_true[:10] = 1
    y_pred = np.zeros(1000, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.accuracy(y_true, y_pred) == pytest.approx(0.99)
        assert M.recall(y_true, y_pred) == 0.0  # 0 / (0 + 10)
        assert M.precision(y_true, y_pred) == 0.0  # 0 / (0 + 0): zero division -> 0
        assert M.f1_score(y_true, y_pred) == 0.0
    np.testing.assert_array_equal(M.confusion_matrix(y_true, y_pred), [[990, 0], [10, 0]])
    assert skm.precision_score(y_true, y_pred, zero_division=0) == 0.0


def test_hand_computed_binary_case():
    # index:  0  1  2  3  4  5  6  7  8  9
    y_true = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    # TP = 3 (indices 0-2), FN = 1 (index 3), FP = 2 (indices 4, 5), TN = 4 (indices 6-9).
    # accuracy = (3 + 4) / 10 = 0.7; precision = 3 / (3 + 2) = 0.6; recall = 3 / (3 + 1) = 0.75;
    # F1 = 2 * 0.6 * 0.75 / (0.6 + 0.75) = 0.9 / 1.35 = 2/3 (= 2*3 / (2*3 + 2 + 1)).
    np.testing.assert_array_equal(M.confusion_matrix(y_true, y_pred), [[4, 2], [1, 3]])
    assert M.accuracy(y_true, y_pred) == pytest.approx(0.7)
    assert M.precision(y_true, y_pred) == pytest.approx(0.6)
    assert M.recall(y_true, y_pred) == pytest.approx(0.75)
    assert M.f1_score(y_true, y_pred) == pytest.approx(2 / 3)
    # Taking class 0 as positive swaps the roles: TP = 4, FP = 1, FN = 2.
    assert M.precision(y_true, y_pred, pos_label=0) == pytest.approx(4 / 5)
    assert M.recall(y_true, y_pred, pos_label=0) == pytest.approx(4 / 6)
    # Macro averages the two one-vs-rest scores.
    assert M.precision(y_true, y_pred, average="macro") == pytest.approx((0.6 + 0.8) / 2)


def test_hand_computed_regression_case():
    y_true = [3.0, -0.5, 2.0, 7.0]
    y_pred = [2.5, 0.0, 2.0, 8.0]
    # errors: 0.5, -0.5, 0, -1 -> squared: 0.25, 0.25, 0, 1 -> SSE 1.5, MSE 0.375
    assert M.sse(y_true, y_pred) == pytest.approx(1.5)
    assert M.mse(y_true, y_pred) == pytest.approx(0.375)
    assert M.rmse(y_true, y_pred) == pytest.approx(np.sqrt(0.375))


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def test_mismatched_lengths_raise():
    for fn in (M.accuracy, M.confusion_matrix, M.precision, M.recall, M.f1_score):
        with pytest.raises(ValueError, match="same length"):
            fn([0, 1, 1], [0, 1])
    for fn in (M.sse, M.mse, M.rmse):
        with pytest.raises(ValueError, match="same length"):
            fn([0.0, 1.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="outputs"):
        M.mse(np.zeros((4, 2)), np.zeros((4, 3)))


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="macro"):
        M.precision([0, 1, 2], [0, 1, 1])  # binary average on three classes
    with pytest.raises(ValueError, match="pos_label"):
        M.recall(["a", "b"], ["a", "a"])  # pos_label=1 is not a label
    with pytest.raises(ValueError, match="average"):
        M.f1_score([0, 1], [0, 1], average="micro")
    with pytest.raises(ValueError, match="1-D"):
        M.accuracy(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="empty"):
        M.accuracy([], [])
    with pytest.raises(ValueError, match="duplicates"):
        M.confusion_matrix([0, 1], [1, 0], labels=[0, 1, 1])


def test_inputs_are_not_modified():
    t, p = multiclass_case(1)
    t0, p0 = t.copy(), p.copy()
    M.confusion_matrix(t, p)
    M.f1_score(t, p, average="macro")
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(p, p0)
