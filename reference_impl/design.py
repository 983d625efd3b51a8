"""Bounds that follow from a network's output encoding, for problem set 4.

A network whose last activation can only produce non-negative numbers (``relu``, ``sigmoid``,
``softplus``) cannot fit a negative label: the best it can offer a label ``y < 0`` is the
output 0, at a squared error of ``y²``. Averaged over a data set, that is a floor under the
mean squared error that no weights and no amount of training can break.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["nonnegative_mse_floor"]


def nonnegative_mse_floor(labels: ArrayLike) -> float:
    """The smallest mean squared error an output restricted to ``[0, ∞)`` can reach on
    ``labels``: each label is met exactly when it is ≥ 0 and by the output 0 when it is < 0,
    so the floor is ``mean(min(y, 0)²)`` (0.5 for labels ±1 with half of them −1)."""
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if y.size == 0:
        raise ValueError("labels is empty")
    return float(np.mean(np.minimum(y, 0.0) ** 2))
