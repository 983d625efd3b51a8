"""Preprocessing helpers: flatten images, scale pixels, one-hot encode labels."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = ["flatten", "one_hot", "prepare_mnist", "scale"]


def flatten(x: ArrayLike) -> np.ndarray:
    """Flatten every sample to a vector: shape (n, d1, d2, ...) becomes (n, d1*d2*...).

    For MNIST this turns (n, 28, 28) into (n, 784). The sample axis must come first; the
    result is a view when possible, otherwise a copy.
    """
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError("flatten expects an array with a leading sample axis, got a scalar")
    return arr.reshape(arr.shape[0], int(np.prod(arr.shape[1:], dtype=np.int64)))


def scale(x: ArrayLike, dtype: DTypeLike = np.float32) -> np.ndarray:
    """Scale 8-bit pixel values to [0, 1] by dividing by 255.

    Any numeric array is accepted and simply divided by 255 (the convention of the course and
    of the Keras examples), so uint8 pixels 0..255 end up in [0, 1]. The result is a new
    array of the floating dtype ``dtype``; the input is never modified.
    """
    target = np.dtype(dtype)
    if target.kind != "f":
        raise ValueError(f"scale needs a floating dtype, got {target}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"scale expects a numeric array, got dtype {arr.dtype}")
    out = arr.astype(target, copy=True)
    out /= target.type(255)
    return out


def one_hot(
    y: ArrayLike, num_classes: int | None = None, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """Encode integer class labels as one-hot rows, like ``keras.utils.to_categorical``.

    Parameters
    ----------
    y:
        Labels 0..num_classes-1. Integer arrays are expected; floats are accepted only when
        every value is a whole number. A trailing axis of length 1, as in shape (n, 1), is
        dropped first.
    num_classes:
        Number of classes; by default ``max(y) + 1``.
    dtype:
        dtype of the result.

    Returns
    -------
    Array of shape ``y.shape + (num_classes,)`` with a single 1 in each row.

    Raises
    ------
    ValueError
        For non-integer labels, negative labels, labels >= ``num_classes``, or when
        ``num_classes`` cannot be inferred (empty ``y``).
    """
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or not np.array_equal(labels, np.rint(labels)):
            raise ValueError("one_hot expects integer labels; got non-integral float values")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot expects integer labels, got dtype {labels.dtype}")

    if num_classes is None:
        if labels.size == 0:
            raise ValueError("cannot infer num_classes from an empty label array")
        num_classes = int(labels.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise ValueError(f"num_classes must be an integer, got {num_classes!r}")
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}; "
            f"got values from {labels.min()} to {labels.max()}"
        )

    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., np.newaxis].astype(np.intp), 1, axis=-1)
    return out


def prepare_mnist(
    dtype: DTypeLike = np.float32,
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST from the local cache, ready for a dense network.

    Returns ``(x_train, y_train), (x_test, y_test)`` where the images are flattened to
    (n, 784) and scaled to [0, 1] with :func:`scale`, and the labels are one-hot encoded
    with 10 columns; all four arrays have dtype ``dtype``. ``path`` is passed to
    :func:`nnkit.load_mnist`.
    """
    from .mnist import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    return (
        (scale(flatten(x_train), dtype), one_hot(y_train, 10, dtype)),
        (scale(flatten(x_test), dtype), one_hot(y_test, 10, dtype)),
    )
