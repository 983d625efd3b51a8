"""Splitting and batching that keep each input with its label.

Lecture 004's ``train_test_split_numpy`` shuffles the inputs and the labels with two separate
calls to ``np.random.shuffle``, which pairs images with the wrong labels. Here one permutation
indexes both arrays.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["train_test_split", "minibatch_indices"]


def train_test_split(
    X: ArrayLike, y: ArrayLike, train_size: float = 0.8, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle rows with one seeded permutation and cut at ⌊n · train_size⌋.

    Returns ``X_train, X_test, y_train, y_test`` (the order scikit-learn uses).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if not 0.0 < train_size < 1.0:
        raise ValueError(f"train_size must be in (0, 1), got {train_size}")
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(len(X) * train_size)
    train, test = order[:cut], order[cut:]
    return X[train], X[test], y[train], y[test]


def minibatch_indices(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """One epoch of minibatches: a fresh permutation of 0..n−1 cut into consecutive batches.

    Sampling is *without* replacement over the whole epoch, so every sample is used exactly
    once per epoch (the last batch may be smaller).
    """
    order = rng.permutation(n)
    for lo in range(0, n, batch_size):
        yield order[lo : lo + batch_size]
