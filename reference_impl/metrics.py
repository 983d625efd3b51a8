"""Evaluation metrics for classification and regression (reference implementation).

Classification metrics take 1-D arrays of class labels (ints, strings, booleans; a column of
shape (N, 1) is flattened). They are built on the confusion matrix: for a positive class,

* TP (true positives): predicted positive, truly positive;
* FP (false positives): predicted positive, truly negative;
* FN (false negatives): predicted negative, truly positive;
* TN (true negatives): predicted negative, truly negative;

and precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = harmonic mean of precision and
recall = 2 TP / (2 TP + FP + FN). When a denominator is 0 the metric is defined as 0.0 (the
behaviour of scikit-learn's ``zero_division=0``), so e.g. a classifier that never predicts the
positive class gets precision 0.0 rather than an error.

Regression metrics (``sse``, ``mse``, ``rmse``) take arrays of shape (N,) or (N, K); a 1-D array
and an (N, 1) column are treated as the same single output, as in scikit-learn.

All metrics return Python numbers, computed in float64 (metrics are reported, not
backpropagated, so there is no reason to stay in float32). Mismatched lengths or shapes raise
ValueError; inputs are never modified.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "accuracy",
    "confusion_matrix",
    "f1_score",
    "mse",
    "precision",
    "recall",
    "rmse",
    "sse",
]

Average = Literal["binary", "macro"]
_AVERAGES = ("binary", "macro")


# ----------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------


def _labels_1d(y: ArrayLike, what: str, func: str) -> NDArray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{func}: {what} must be a 1-D array of class labels (or an (N, 1) column), "
            f"got shape {arr.shape}"
        )
    return arr


def _check_labels(y_true: ArrayLike, y_pred: ArrayLike, func: str) -> tuple[NDArray, NDArray]:
    t = _labels_1d(y_true, "y_true", func)
    p = _labels_1d(y_pred, "y_pred", func)
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"{func}: y_true has {t.shape[0]} samples but y_pred has {p.shape[0]}; "
            "they must have the same length"
        )
    if t.shape[0] == 0:
        raise ValueError(f"{func}: y_true and y_pred are empty")
    return t, p


def _check_regression(
    y_true: ArrayLike, y_pred: ArrayLike, func: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.ndim not in (1, 2):
            raise ValueError(f"{func}: {name} must have shape (N,) or (N, K), got {arr.shape}")
    t2 = t.reshape(-1, 1) if t.ndim == 1 else t
    p2 = p.reshape(-1, 1) if p.ndim == 1 else p
    if t2.shape[0] != p2.shape[0]:
        raise ValueError(
            f"{func}: y_true has {t2.shape[0]} samples but y_pred has {p2.shape[0]}; "
            "they must have the same length"
        )
    if t2.shape != p2.shape:
        raise ValueError(
            f"{func}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
            "the number of outputs must match"
        )
    if t2.size == 0:
        raise ValueError(f"{func}: y_true and y_pred are empty")
    return t2, p2


# ----------------------------------------------------------------------------------------------
# Classification
# ----------------------------------------------------------------------------------------------


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of correct predictions: accuracy = (1/N) * sum_i [y_true_i == y_pred_i].

    In the binary case this is (TP + TN) / (TP + TN + FP + FN).
    """
    t, p = _check_labels(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Confusion matrix C with C[i, j] = number of samples whose true class is labels[i] and
    whose predicted class is labels[j] (rows = true class, columns = predicted class).

    ``labels`` defaults to the sorted union of the values in y_true and y_pred. If it is given,
    its order is used and samples whose true or predicted label is not in it are ignored
    (the same convention as ``sklearn.metrics.confusion_matrix``). For binary labels {0, 1}
    the layout is [[TN, FP], [FN, TP]].
    """
    t, p = _check_labels(y_true, y_pred, "confusion_matrix")
    if labels is None:
        lab = np.unique(np.concatenate([t, p]))
    else:
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.size == 0:
            raise ValueError("confusion_matrix: labels must be a non-empty 1-D sequence")
        if np.unique(lab).size != lab.size:
            raise ValueError("confusion_matrix: labels contains duplicates")
    n_labels = lab.size
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]

    def to_index(values: NDArray) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        pos = np.searchsorted(sorted_lab, values)
        pos = np.minimum(pos, n_labels - 1)
        found = sorted_lab[pos] == values
        return order[pos], found

    ti, t_found = to_index(t)
    pi, p_found = to_index(p)
    keep = t_found & p_found
    flat = ti[keep] * n_labels + pi[keep]
    counts = np.bincount(flat, minlength=n_labels * n_labels)
    return counts.reshape(n_labels, n_labels).astype(np.int64)


def _safe_ratio(num: NDArray, den: NDArray) -> NDArray[np.float64]:
    """num / den elementwise, with 0.0 wherever den == 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _counts(
    y_true: ArrayLike, y_pred: ArrayLike, average: str, pos_label: object, func: str
) -> tuple[NDArray, NDArray, NDArray]:
    """Per-class (TP, FP, FN) arrays: one entry for average="binary" (the positive class), one
    per label (sorted union of y_true and y_pred) for average="macro"."""
    if average not in _AVERAGES:
        raise ValueError(f"{func}: average must be one of {_AVERAGES}, got {average!r}")
    t, p = _check_labels(y_true, y_pred, func)
    present = np.unique(np.concatenate([t, p]))
    if average == "binary":
        if present.size > 2:
            raise ValueError(
                f"{func}: average='binary' needs at most two classes, but the labels are "
                f"{present.tolist()}; use average='macro' for multiclass problems"
            )
        if present.size == 2 and not np.any(present == pos_label):
            raise ValueError(
                f"{func}: pos_label={pos_label!r} is not one of the labels {present.tolist()}"
            )
        t_pos = t == pos_label
        p_pos = p == pos_label
        tp = np.array([np.sum(t_pos & p_pos)])
        fp = np.array([np.sum(~t_pos & p_pos)])
        fn = np.array([np.sum(t_pos & ~p_pos)])
        return tp, fp, fn
    cm = confusion_matrix(t, p, labels=present)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp  # predicted as the class, truly another class
    fn = cm.sum(axis=1) - tp  # truly the class, predicted as another class
    return tp, fp, fn


def precision(
    y_true: ArrayLike, y_pred: ArrayLike, average: Average = "binary", pos_label: object = 1
) -> float:
    """Precision = TP / (TP + FP): the fraction of predicted positives that are truly positive.

    average="binary": precision of the class ``pos_label`` (at most two classes allowed).
    average="macro": unweighted mean over classes (sorted union of y_true and y_pred) of the
    one-vs-rest precision of each class. A zero denominator gives 0.0.
    """
    tp, fp, _ = _counts(y_true, y_pred, average, pos_label, "precision")
    return float(np.mean(_safe_ratio(tp, tp + fp)))


def recall(
    y_true: ArrayLike, y_pred: ArrayLike, average: Average = "binary", pos_label: object = 1
) -> float:
    """Recall = TP / (TP + FN): the fraction of true positives that are predicted positive.

    average="binary": recall of the class ``pos_label`` (at most two classes allowed).
    average="macro": unweighted mean over classes (sorted union of y_true and y_pred) of the
    one-vs-rest recall of each class. A zero denominator gives 0.0.
    """
    tp, _, fn = _counts(y_true, y_pred, average, pos_label, "recall")
    return float(np.mean(_safe_ratio(tp, tp + fn)))


def f1_score(
    y_true: ArrayLike, y_pred: ArrayLike, average: Average = "binary", pos_label: object = 1
) -> float:
    """F1 = 2 * precision * recall / (precision + recall) = 2 TP / (2 TP + FP + FN).

    The second form is used; it equals the harmonic mean whenever that is defined and gives
    0.0 when TP = 0 (including when precision or recall has a zero denominator).
    average="binary": F1 of the class ``pos_label``; average="macro": unweighted mean of the
    per-class F1 scores (not the F1 of the macro precision and recall), as in scikit-learn.
    """
    tp, fp, fn = _counts(y_true, y_pred, average, pos_label, "f1_score")
    return float(np.mean(_safe_ratio(2 * tp, 2 * tp + fp + fn)))


# ----------------------------------------------------------------------------------------------
# Regression
# ----------------------------------------------------------------------------------------------


def sse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Sum of squared errors: SSE = sum_{i,k} (y_ik - p_ik)^2."""
    t, p = _check_regression(y_true, y_pred, "sse")
    return float(np.sum((t - p) ** 2))


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error: MSE = SSE / (number of elements) = 1/(N*K) sum_{i,k} (y_ik - p_ik)^2.

    For K outputs this is the mean of the K per-output MSEs (scikit-learn's
    ``multioutput="uniform_average"``).
    """
    t, p = _check_regression(y_true, y_pred, "mse")
    return float(np.mean((t - p) ** 2))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error: RMSE = sqrt(MSE), in the units of y.

    For K outputs this is sqrt of the overall MSE (not the mean of per-output RMSEs).
    """
    return float(np.sqrt(mse(y_true, y_pred)))
