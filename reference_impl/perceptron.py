"""The single neuron of the first lectures, and Rosenblatt's perceptron rule.

Two models share the name "perceptron" in the course material, and both live here:

* **The sigmoid neuron** (lectures 000/001). For an input row x = (x1, x2, ...)::

      h = w · x + b            (weighted sum)
      p = σ(h) = 1 / (1 + e^-h)  (probability of class 1)
      ŷ = round(p)             (prediction, 0 or 1)

  Rounding rule: ŷ = 1 exactly when p ≥ 0.5, which is the same as h ≥ 0. That matches the
  step function of lecture 003 (φ(z) = 1 if z ≥ 0). It is *not* what Python's ``round`` or
  NumPy's ``np.round`` do: both round half to even, so ``round(0.5) == 0``. We never call them.

  It is trained on the squared loss l = (y − p)² by gradient descent, with the chain rule::

      ∂l/∂w_i = ∂l/∂p · ∂p/∂h · ∂h/∂w_i = 2(p − y) · p(1 − p) · x_i
      ∂l/∂b   = 2(p − y) · p(1 − p) · 1

* **Rosenblatt's rule** (lecture 003). Labels are ±1, the threshold θ is folded into the weights
  by the bias trick (w0 = −θ, x0 = 1), and the prediction is the step φ(z) = 1 if z ≥ 0 else −1.
  For each training row, in order::

      w ← w + η (y − ŷ) x

  which changes nothing when the prediction is right (y − ŷ = 0) and moves w by ±2ηx when it is
  wrong. On linearly separable data it converges; on XOR it cannot, and the per-epoch error count
  says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from reference_impl.activations import sigmoid

__all__ = [
    "weighted_sum",
    "neuron_proba",
    "neuron_predict",
    "perceptron_table",
    "squared_loss",
    "chain_rule_factors",
    "squared_loss_gradient",
    "gradient_descent",
    "GradientDescentResult",
    "step",
    "add_bias_column",
    "to_pm1",
    "rosenblatt_fit",
    "rosenblatt_predict",
    "RosenblattResult",
]


def _rows(X: ArrayLike) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of rows, got shape {X.shape}")
    return X


# --------------------------------------------------------------------------- the sigmoid neuron


def weighted_sum(X: ArrayLike, w: ArrayLike, b: float) -> np.ndarray:
    """h = X w + b: the weighted sum for every row of X (shape (n, d) → (n,))."""
    X = _rows(X)
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w has {w.shape[0]} weights but X has {X.shape[1]} columns")
    return X @ w + float(b)


def neuron_proba(X: ArrayLike, w: ArrayLike, b: float) -> np.ndarray:
    """p = σ(X w + b) for every row of X."""
    return sigmoid(weighted_sum(X, w, b))


def neuron_predict(X: ArrayLike, w: ArrayLike, b: float) -> np.ndarray:
    """ŷ = round(p) with ties going up: 1 where p ≥ 0.5 (equivalently h ≥ 0), else 0.

    Computed from h rather than p so that no floating-point rounding of σ can move a row that
    sits exactly on the boundary.
    """
    return (weighted_sum(X, w, b) >= 0).astype(np.int64)


def perceptron_table(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float) -> pd.DataFrame:
    """The lectures' "complete the table" exercise for a two-input neuron.

    Returns a DataFrame with one row per observation and columns x1, x2, y, h, p, y_hat.
    With the OR data, w = (1, −1) and b = −0.5 the correct rows are::

        x1 x2 y    h     p      y_hat
        0  0  0  -0.5  0.3775   0
        0  1  1  -1.5  0.1824   0
        1  0  1   0.5  0.6225   1     (the slides print 0.38 and 0 here, which is wrong)
        1  1  1  -0.5  0.3775   0
    """
    X = _rows(X)
    if X.shape[1] != 2:
        raise ValueError(f"the table has two inputs x1, x2; X has {X.shape[1]} columns")
    y = np.asarray(y).reshape(-1)
    h = weighted_sum(X, w, b)
    return pd.DataFrame(
        {
            "x1": X[:, 0],
            "x2": X[:, 1],
            "y": y,
            "h": h,
            "p": sigmoid(h),
            "y_hat": (h >= 0).astype(np.int64),
        }
    )


def squared_loss(y: ArrayLike, p: ArrayLike) -> np.ndarray:
    """l = (y − p)², per observation."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return (y - p) ** 2


def chain_rule_factors(x: ArrayLike, y: float, w: ArrayLike, b: float) -> dict[str, np.ndarray]:
    """The factors of ∂l/∂w_i = ∂l/∂p · ∂p/∂h · ∂h/∂w_i for one observation x.

    Returns a dict with
      ``dl_dp`` = 2(p − y), ``dp_dh`` = p(1 − p), ``dh_dw`` = x (one entry per weight),
      ``dh_db`` = 1, and the products ``dl_dw`` = dl_dp · dp_dh · dh_dw and
      ``dl_db`` = dl_dp · dp_dh.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    p = float(neuron_proba(x, w, b)[0])
    dl_dp = 2.0 * (p - float(y))
    dp_dh = p * (1.0 - p)
    return {
        "p": np.float64(p),
        "dl_dp": np.float64(dl_dp),
        "dp_dh": np.float64(dp_dh),
        "dh_dw": x.copy(),
        "dh_db": np.float64(1.0),
        "dl_dw": dl_dp * dp_dh * x,
        "dl_db": np.float64(dl_dp * dp_dh),
    }


def squared_loss_gradient(
    X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float, reduction: str = "mean"
) -> tuple[np.ndarray, float]:
    """Gradient of the squared loss over a data set, with respect to (w, b).

    With δ_i = 2(p_i − y_i) p_i (1 − p_i)::

        reduction="mean":  L = (1/n) Σ_i (y_i − p_i)²
                           ∂L/∂w = (1/n) Σ_i δ_i x_i,   ∂L/∂b = (1/n) Σ_i δ_i
        reduction="sum":   the same without the 1/n.
    """
    X = _rows(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    p = neuron_proba(X, w, b)
    delta = 2.0 * (p - y) * p * (1.0 - p)
    scale = _reduction_scale(reduction, len(y))
    return scale * (X.T @ delta), float(scale * delta.sum())


def _reduction_scale(reduction: str, n: int) -> float:
    if reduction == "mean":
        return 1.0 / n
    if reduction == "sum":
        return 1.0
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


@dataclass
class GradientDescentResult:
    """Weights after training and the loss before each step and after the last one."""

    w: np.ndarray
    b: float
    loss_history: list[float] = field(default_factory=list)


def gradient_descent(
    X: ArrayLike,
    y: ArrayLike,
    w0: ArrayLike,
    b0: float,
    eta: float,
    steps: int,
    reduction: str = "mean",
    gradient_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, float], tuple] | None = None,
) -> GradientDescentResult:
    """Batch gradient descent on the sigmoid neuron with the squared loss.

    Each step uses the whole data set::

        w ← w − η ∂L/∂w,   b ← b − η ∂L/∂b

    ``loss_history`` has ``steps + 1`` entries: L before the first step, then after each step.

    ``gradient_fn(X, y, w, b) -> (∂L/∂w, ∂L/∂b)`` replaces :func:`squared_loss_gradient`. A
    grader passes a student's own gradient here to check their training loop on its own
    terms ("follow-through" marking), so that one mistake in the gradient is not charged
    twice. The loss history is always the true squared loss.
    """
    X = _rows(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    w = np.asarray(w0, dtype=np.float64).reshape(-1).copy()
    b = float(b0)
    scale = _reduction_scale(reduction, len(y))

    def loss(w: np.ndarray, b: float) -> float:
        return float(scale * squared_loss(y, neuron_proba(X, w, b)).sum())

    history = [loss(w, b)]
    for _ in range(int(steps)):
        if gradient_fn is None:
            grad_w, grad_b = squared_loss_gradient(X, y, w, b, reduction)
        else:
            grad_w, grad_b = gradient_fn(X, y, w.copy(), b)
            grad_w = np.asarray(grad_w, dtype=np.float64).reshape(w.shape)
            grad_b = float(np.asarray(grad_b, dtype=np.float64).reshape(()))
        w = w - eta * grad_w
        b = b - eta * grad_b
        history.append(loss(w, b))
    return GradientDescentResult(w=w, b=b, loss_history=history)


# ---------------------------------------------------------------------------- Rosenblatt's rule


def step(z: ArrayLike) -> np.ndarray:
    """φ(z) = 1 if z ≥ 0 else −1 (the perceptron's decision function)."""
    return np.where(np.asarray(z, dtype=np.float64) >= 0, 1, -1).astype(np.int64)


def add_bias_column(X: ArrayLike) -> np.ndarray:
    """The bias trick: prepend x0 = 1 to every row, so that w0 = −θ plays the threshold."""
    X = _rows(X)
    return np.hstack([np.ones((X.shape[0], 1)), X])


def to_pm1(y: ArrayLike) -> np.ndarray:
    """Map 0/1 labels to −1/+1 (labels already in {−1, 1} pass through unchanged)."""
    y = np.asarray(y).reshape(-1)
    values = set(np.unique(y).tolist())
    if values <= {-1, 1}:
        return y.astype(np.int64)
    if values <= {0, 1}:
        return np.where(y == 1, 1, -1).astype(np.int64)
    raise ValueError(f"labels must be 0/1 or −1/+1, got values {sorted(values)}")


@dataclass
class RosenblattResult:
    """Outcome of Rosenblatt training.

    ``weights`` includes the bias weight w0 = −θ first. ``errors_per_epoch[k]`` counts the rows
    misclassified (and therefore updated) during epoch k. ``converged`` is True when an epoch
    finished with no error; training stops there.
    """

    weights: np.ndarray
    errors_per_epoch: list[int]
    converged: bool

    @property
    def epochs_run(self) -> int:
        return len(self.errors_per_epoch)


def rosenblatt_fit(
    X: ArrayLike,
    y: ArrayLike,
    eta: float = 0.1,
    epochs: int = 20,
    w0: ArrayLike | None = None,
) -> RosenblattResult:
    """Train a perceptron with Rosenblatt's rule, visiting the rows in their given order.

    ``y`` holds ±1 labels (0/1 are converted). ``w0`` is the starting weight vector including
    the bias weight (length d + 1); zeros by default, which keeps runs reproducible. For each
    row x (with x0 = 1 prepended)::

        ŷ = φ(w · x),   w ← w + η (y − ŷ) x
    """
    Xb = add_bias_column(X)
    y = to_pm1(y)
    w = np.zeros(Xb.shape[1]) if w0 is None else np.asarray(w0, dtype=np.float64).copy()
    if w.shape != (Xb.shape[1],):
        raise ValueError(f"w0 must have {Xb.shape[1]} entries (bias first), got {w.shape}")
    errors: list[int] = []
    for _ in range(int(epochs)):
        mistakes = 0
        for xi, yi in zip(Xb, y, strict=True):
            y_hat = 1 if float(w @ xi) >= 0 else -1
            update = eta * (yi - y_hat)
            if update != 0.0:
                w = w + update * xi
                mistakes += 1
        errors.append(mistakes)
        if mistakes == 0:
            return RosenblattResult(weights=w, errors_per_epoch=errors, converged=True)
    return RosenblattResult(weights=w, errors_per_epoch=errors, converged=False)


def rosenblatt_predict(X: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """φ(w · x) for every row, with the bias weight first in ``weights``."""
    return step(add_bias_column(X) @ np.asarray(weights, dtype=np.float64))
