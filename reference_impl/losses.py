"""Loss functions and their gradients (reference implementation).

Conventions used by every loss in this module:

* ``y_true`` and ``y_pred`` (probabilities) or ``z`` (logits) have the same shape, either (N,)
  for N samples with one output each or (N, K) for N samples with K outputs/classes. A shape
  mismatch raises ValueError; nothing is broadcast, because broadcasting (N,) against (N, 1)
  would silently produce an (N, N) array. The categorical losses require (N, K).
* Mean reduction: every loss returns a Python float that is an average over the N samples.
  - Mean squared error and binary cross-entropy also average over the K outputs (as Keras
    does: mean over the last axis, then over the batch), so they are means over all N*K
    elements.
  - Categorical cross-entropy sums over the K classes of a sample and averages over the N
    samples.
* Each ``*_grad`` function is the gradient of the corresponding loss with respect to its
  second argument (predictions or logits), has the same shape as that argument and includes
  the 1/N (or 1/(N*K)) factor of the mean reduction. For example mse_grad = 2 (p - y) / (N*K).
* Computations are done in the floating dtype of the second argument (float32 stays float32;
  integer or list predictions become float64); ``y_true`` is converted to that dtype.
  Inputs are never modified.
* Losses computed from probabilities clip the probabilities to [eps, 1 - eps] (default
  eps = 1e-12) before taking logarithms, so that p = 0 or p = 1 give a large finite loss
  instead of inf or nan. For 1 - p the clipping is applied to the difference itself, which
  matters in float32: there 1 - 1e-12 rounds to 1, so clipping p alone would not prevent
  log(0). Keras clips at 1e-7 instead; away from 0 and 1 the two agree.
* The "from_logits" variants take raw scores z and are stable for any finite z; prefer them
  to composing sigmoid/softmax with the probability versions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .activations import sigmoid, softmax

__all__ = [
    "LOSSES",
    "Loss",
    "binary_cross_entropy",
    "binary_cross_entropy_from_logits",
    "binary_cross_entropy_from_logits_grad",
    "binary_cross_entropy_grad",
    "categorical_cross_entropy",
    "categorical_cross_entropy_from_logits",
    "categorical_cross_entropy_from_logits_grad",
    "categorical_cross_entropy_grad",
    "get_loss",
    "mse",
    "mse_grad",
    "squared_error",
]

FloatArray = NDArray[np.floating]

DEFAULT_EPS = 1e-12


def _prepare(
    y_true: ArrayLike, y_pred: ArrayLike, func: str, *, categorical: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Convert both arguments to the floating dtype of ``y_pred`` and validate their shapes."""
    p = np.asarray(y_pred)
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    y = np.asarray(y_true)
    if y.dtype != p.dtype:
        y = y.astype(p.dtype)
    if y.shape != p.shape:
        raise ValueError(
            f"{func}: y_true has shape {y.shape} but the predictions have shape {p.shape}; "
            "the shapes must be equal (reshape one of them, e.g. to (N,) or (N, K))"
        )
    if categorical:
        if p.ndim != 2:
            raise ValueError(
                f"{func}: expected arrays of shape (N, K) (one row per sample, one column per "
                f"class), got shape {p.shape}"
            )
    elif p.ndim not in (1, 2):
        raise ValueError(f"{func}: expected arrays of shape (N,) or (N, K), got shape {p.shape}")
    if p.size == 0:
        raise ValueError(f"{func}: got empty arrays (shape {p.shape})")
    return y, p


def _clip_log_terms(p: FloatArray, eps: float) -> tuple[FloatArray, FloatArray]:
    """Return (p_hat, 1 - p_hat) with p_hat = clip(p, eps, 1 - eps), computed so that the second
    one never rounds to 0 (see the module docstring)."""
    eps_t = p.dtype.type(eps)
    one = p.dtype.type(1)
    p_hat = np.clip(p, eps_t, one - eps_t)
    q_hat = np.clip(one - p, eps_t, one - eps_t)
    return p_hat, q_hat


# ----------------------------------------------------------------------------------------------
# Squared error
# ----------------------------------------------------------------------------------------------


def squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> FloatArray:
    """Per-observation squared error, elementwise: (y - p)^2. Returns an array shaped like p."""
    y, p = _prepare(y_true, y_pred, "squared_error")
    return (y - p) ** 2


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error: L = 1/(N*K) * sum_{i,k} (y_ik - p_ik)^2 (K = 1 for 1-D input).

    Equal to Keras's MeanSquaredError: mean over the last axis, then over the batch.
    """
    y, p = _prepare(y_true, y_pred, "mse")
    return float(np.mean((y - p) ** 2))


def mse_grad(y_true: ArrayLike, y_pred: ArrayLike) -> FloatArray:
    """Gradient of ``mse`` with respect to p: dL/dp_ik = 2 (p_ik - y_ik) / (N*K)."""
    y, p = _prepare(y_true, y_pred, "mse_grad")
    return 2 * (p - y) / p.size


# ----------------------------------------------------------------------------------------------
# Binary cross-entropy
# ----------------------------------------------------------------------------------------------


def binary_cross_entropy(y_true: ArrayLike, y_pred: ArrayLike, eps: float = DEFAULT_EPS) -> float:
    """Binary cross-entropy from probabilities, averaged over all N*K outputs:

        L = -1/(N*K) * sum_{i,k} [ y_ik log(p_ik) + (1 - y_ik) log(1 - p_ik) ]

    with p clipped to [eps, 1 - eps] first (default eps = 1e-12).
    """
    y, p = _prepare(y_true, y_pred, "binary_cross_entropy")
    p_hat, q_hat = _clip_log_terms(p, eps)
    return float(-np.mean(y * np.log(p_hat) + (1 - y) * np.log(q_hat)))


def binary_cross_entropy_grad(
    y_true: ArrayLike, y_pred: ArrayLike, eps: float = DEFAULT_EPS
) -> FloatArray:
    """Gradient of ``binary_cross_entropy`` with respect to p:

        dL/dp_ik = (p_ik - y_ik) / (p_ik (1 - p_ik)) / (N*K)

    evaluated at the clipped probabilities (same eps as the loss). Where clipping is active this
    is the formula's value at the clip boundary rather than the zero slope of the clipped
    function, so saturated predictions still receive a gradient.
    """
    y, p = _prepare(y_true, y_pred, "binary_cross_entropy_grad")
    p_hat, q_hat = _clip_log_terms(p, eps)
    return (p_hat - y) / (p_hat * q_hat) / p.size


def binary_cross_entropy_from_logits(y_true: ArrayLike, z: ArrayLike) -> float:
    """Binary cross-entropy of sigmoid(z), averaged over all N*K outputs, in the stable form

        L = 1/(N*K) * sum_{i,k} [ max(z_ik, 0) - z_ik y_ik + log(1 + exp(-|z_ik|)) ],

    which equals -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] and is finite for all finite
    z (the same formula as ``tf.nn.sigmoid_cross_entropy_with_logits``).
    """
    y, z = _prepare(y_true, z, "binary_cross_entropy_from_logits")
    with np.errstate(under="ignore"):
        softplus_neg_abs = np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(np.maximum(z, 0) - z * y + softplus_neg_abs))


def binary_cross_entropy_from_logits_grad(y_true: ArrayLike, z: ArrayLike) -> FloatArray:
    """Gradient of ``binary_cross_entropy_from_logits`` with respect to the logits:

    dL/dz_ik = (sigmoid(z_ik) - y_ik) / (N*K).
    """
    y, z = _prepare(y_true, z, "binary_cross_entropy_from_logits_grad")
    return (sigmoid(z) - y) / z.size


# ----------------------------------------------------------------------------------------------
# Categorical cross-entropy
# ----------------------------------------------------------------------------------------------


def categorical_cross_entropy(
    y_true: ArrayLike, y_pred: ArrayLike, eps: float = DEFAULT_EPS
) -> float:
    """Categorical cross-entropy from probabilities, summed over classes, averaged over samples:

        L = -1/N * sum_i sum_k y_ik log(p_ik)

    with p clipped to [eps, 1 - eps] first (default eps = 1e-12). Inputs have shape (N, K);
    y is one-hot (or any soft labels). Unlike Keras, the rows of p are not renormalised to sum
    to 1.
    """
    y, p = _prepare(y_true, y_pred, "categorical_cross_entropy", categorical=True)
    p_hat, _ = _clip_log_terms(p, eps)
    return float(-np.sum(y * np.log(p_hat)) / p.shape[0])


def categorical_cross_entropy_grad(
    y_true: ArrayLike, y_pred: ArrayLike, eps: float = DEFAULT_EPS
) -> FloatArray:
    """Gradient of ``categorical_cross_entropy`` with respect to p:

        dL/dp_ik = -y_ik / p_ik / N

    evaluated at the clipped probabilities (same eps as the loss).
    """
    y, p = _prepare(y_true, y_pred, "categorical_cross_entropy_grad", categorical=True)
    p_hat, _ = _clip_log_terms(p, eps)
    return -y / p_hat / p.shape[0]


def _log_softmax(z: FloatArray) -> FloatArray:
    """log softmax over the last axis: z - logsumexp(z), computed after subtracting the max."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        lse = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return shifted - lse


def categorical_cross_entropy_from_logits(y_true: ArrayLike, z: ArrayLike) -> float:
    """Categorical cross-entropy of softmax(z), summed over classes, averaged over samples:

        L = -1/N * sum_i sum_k y_ik log softmax(z_i)_k
          = 1/N * sum_i [ (sum_k y_ik) logsumexp(z_i) - sum_k y_ik z_ik ],

    which for labels whose rows sum to 1 (one-hot or soft labels) is the familiar
    1/N * sum_i [ logsumexp(z_i) - sum_k y_ik z_ik ]. logsumexp is computed after subtracting
    the row maximum, so the value is finite for all finite logits. Inputs have shape (N, K).
    """
    y, z = _prepare(y_true, z, "categorical_cross_entropy_from_logits", categorical=True)
    return float(-np.sum(y * _log_softmax(z)) / z.shape[0])


def categorical_cross_entropy_from_logits_grad(y_true: ArrayLike, z: ArrayLike) -> FloatArray:
    """Gradient of ``categorical_cross_entropy_from_logits`` with respect to the logits:

        dL/dz_ik = ((sum_j y_ij) softmax(z_i)_k - y_ik) / N,

    which is the familiar (softmax(z) - y) / N because label rows sum to 1 (one-hot or soft
    labels). The general form is used so that the gradient stays exact for any y.
    """
    y, z = _prepare(y_true, z, "categorical_cross_entropy_from_logits_grad", categorical=True)
    row_sums = np.sum(y, axis=-1, keepdims=True)
    return (row_sums * softmax(z, axis=-1) - y) / z.shape[0]


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A loss function ``fn(y_true, y_pred) -> float`` and its gradient
    ``gradient(y_true, y_pred) -> array`` with respect to the second argument."""

    name: str
    fn: Callable[..., float]
    gradient: Callable[..., FloatArray]


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", mse, mse_grad),
    "binary_crossentropy": Loss(
        "binary_crossentropy", binary_cross_entropy, binary_cross_entropy_grad
    ),
    "categorical_crossentropy": Loss(
        "categorical_crossentropy", categorical_cross_entropy, categorical_cross_entropy_grad
    ),
    "binary_crossentropy_from_logits": Loss(
        "binary_crossentropy_from_logits",
        binary_cross_entropy_from_logits,
        binary_cross_entropy_from_logits_grad,
    ),
    "categorical_crossentropy_from_logits": Loss(
        "categorical_crossentropy_from_logits",
        categorical_cross_entropy_from_logits,
        categorical_cross_entropy_from_logits_grad,
    ),
}


def get_loss(name_or_loss: str | Loss) -> Loss:
    """Look up a loss by name (case-insensitive). A ``Loss`` instance is returned unchanged.

    Unknown names raise ValueError listing the valid names; other argument types raise
    TypeError.
    """
    if isinstance(name_or_loss, Loss):
        return name_or_loss
    if not isinstance(name_or_loss, str):
        raise TypeError(f"get_loss expects a name or a Loss, got {type(name_or_loss).__name__}")
    key = name_or_loss.strip().lower()
    try:
        return LOSSES[key]
    except KeyError:
        valid = ", ".join(sorted(LOSSES))
        raise ValueError(f"unknown loss {name_or_loss!r}; valid names: {valid}") from None
