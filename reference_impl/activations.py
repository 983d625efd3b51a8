"""Activation functions and their derivatives (reference implementation).

Every function takes an array-like ``z`` of pre-activations and works elementwise, except the
softmax family, which works along the last axis (``softmax`` takes an ``axis`` argument).

Conventions shared by every function in this module:

* Floating-point inputs keep their dtype (float32 in, float32 out); anything else (Python
  lists, integer or boolean arrays) is converted to float64 first.
* Inputs are never modified in place, and there are no Python loops over samples.
* Derivatives are taken with respect to ``z`` and have the shape of ``z``.
* Where an activation has a kink (ReLU, leaky ReLU, ELU at ``z = 0``) the derivative is
  undefined there; the value chosen at ``z = 0`` is stated in each docstring and agrees with
  what TensorFlow's gradients return.
* Underflow to zero (for example ``exp(-1000)`` inside the sigmoid) is the intended result and
  is not reported, even under ``np.errstate(all="raise")``; overflow never happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "elu",
    "elu_prime",
    "get_activation",
    "identity",
    "identity_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "softmax",
    "softmax_jacobian",
    "softmax_jvp",
    "tanh",
    "tanh_prime",
]

FloatArray = NDArray[np.floating]


def _as_float_array(z: ArrayLike) -> FloatArray:
    """Return ``z`` as an ndarray, keeping a floating dtype and turning anything else into
    float64. The result may share memory with ``z``, so callers must not write into it."""
    arr = np.asarray(z)
    if np.issubdtype(arr.dtype, np.floating):
        return arr
    return arr.astype(np.float64)


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------


def identity(z: ArrayLike) -> FloatArray:
    """Identity (linear) activation: f(z) = z.

    Returns a new array; the input is not aliased.
    """
    return _as_float_array(z).copy()


def sigmoid(z: ArrayLike) -> FloatArray:
    """Logistic sigmoid: sigma(z) = 1 / (1 + exp(-z)).

    Computed without overflow for any z: with e = exp(-|z|) (which lies in (0, 1]),
    sigma(z) = 1 / (1 + e) for z >= 0 and sigma(z) = e / (1 + e) for z < 0.
    The second branch also keeps full relative precision for very negative z.
    """
    z = _as_float_array(z)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z: ArrayLike) -> FloatArray:
    """Hyperbolic tangent: tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))."""
    return np.tanh(_as_float_array(z))


def relu(z: ArrayLike) -> FloatArray:
    """Rectified linear unit: relu(z) = max(z, 0)."""
    return np.maximum(_as_float_array(z), 0)


def leaky_relu(z: ArrayLike, alpha: float = 0.01) -> FloatArray:
    """Leaky ReLU: f(z) = z for z > 0 and f(z) = alpha * z for z <= 0."""
    z = _as_float_array(z)
    a = z.dtype.type(alpha)
    return np.where(z > 0, z, a * z)


def elu(z: ArrayLike, alpha: float = 1.0) -> FloatArray:
    """Exponential linear unit: f(z) = z for z > 0 and f(z) = alpha * (exp(z) - 1) for z <= 0.

    ``expm1`` is evaluated on min(z, 0) only, so large positive z cannot overflow.
    """
    z = _as_float_array(z)
    a = z.dtype.type(alpha)
    with np.errstate(under="ignore"):
        negative_part = a * np.expm1(np.minimum(z, 0))
    return np.where(z > 0, z, negative_part)


def softmax(z: ArrayLike, axis: int = -1) -> FloatArray:
    """Softmax along ``axis``: s_i = exp(z_i) / sum_j exp(z_j).

    Numerically stable: the maximum along ``axis`` is subtracted before exponentiating
    (softmax is invariant to adding a constant to every z_j), so exp never overflows and the
    denominator is at least 1.
    """
    z = _as_float_array(z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


# ----------------------------------------------------------------------------------------------
# Derivatives with respect to z
# ----------------------------------------------------------------------------------------------


def identity_prime(z: ArrayLike) -> FloatArray:
    """Derivative of the identity: f'(z) = 1 (an array of ones shaped like z)."""
    return np.ones_like(_as_float_array(z))


def sigmoid_prime(z: ArrayLike) -> FloatArray:
    """Derivative of the sigmoid: sigma'(z) = sigma(z) * (1 - sigma(z)).

    Evaluated as e / (1 + e)^2 with e = exp(-|z|), which is the same quantity (sigma'(z) is
    even in z) but avoids the cancellation in 1 - sigma(z) for large positive z.
    """
    z = _as_float_array(z)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
        return e / ((1 + e) * (1 + e))


def tanh_prime(z: ArrayLike) -> FloatArray:
    """Derivative of tanh: tanh'(z) = 1 - tanh(z)^2 = sech(z)^2.

    Evaluated as 4 e / (1 + e)^2 with e = exp(-2|z|), which equals 1 - tanh(z)^2 but keeps
    full relative precision when tanh(z) is close to +-1. (e is formed as exp(-|z|)^2 so that
    2|z| cannot overflow.)
    """
    z = _as_float_array(z)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
        e = e * e
        return 4 * e / ((1 + e) * (1 + e))


def relu_prime(z: ArrayLike) -> FloatArray:
    """Derivative of ReLU: 1 for z > 0 and 0 for z <= 0.

    Convention: relu'(0) = 0 (the derivative does not exist at 0; 0 is the subgradient that
    TensorFlow and most frameworks use).
    """
    z = _as_float_array(z)
    return (z > 0).astype(z.dtype)


def leaky_relu_prime(z: ArrayLike, alpha: float = 0.01) -> FloatArray:
    """Derivative of leaky ReLU: 1 for z > 0 and alpha for z <= 0.

    Convention: the value at z = 0 is alpha (the point belongs to the left branch), as in
    TensorFlow's gradient of ``tf.nn.leaky_relu``.
    """
    z = _as_float_array(z)
    one, a = z.dtype.type(1), z.dtype.type(alpha)
    return np.where(z > 0, one, a)


def elu_prime(z: ArrayLike, alpha: float = 1.0) -> FloatArray:
    """Derivative of ELU: 1 for z > 0 and alpha * exp(z) (= elu(z) + alpha) for z <= 0.

    Convention: the value at z = 0 is alpha (left branch); with the default alpha = 1 the
    derivative is continuous there and equals TensorFlow's gradient of ``tf.nn.elu``.
    """
    z = _as_float_array(z)
    one, a = z.dtype.type(1), z.dtype.type(alpha)
    with np.errstate(under="ignore"):
        negative_part = a * np.exp(np.minimum(z, 0))
    return np.where(z > 0, one, negative_part)


def softmax_jacobian(z: ArrayLike) -> FloatArray:
    """Jacobian of the softmax over the last axis, J_ij = ds_i/dz_j = s_i (delta_ij - s_j).

    Shape (K,) gives a (K, K) matrix; shape (N, K) gives (N, K, K), one Jacobian per row
    (more generally (..., K) -> (..., K, K)). The matrix is symmetric:
    J = diag(s) - s s^T.
    """
    s = softmax(z, axis=-1)
    k = s.shape[-1]
    eye = np.eye(k, dtype=s.dtype)
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def softmax_jvp(z: ArrayLike, upstream: ArrayLike) -> FloatArray:
    """Product of an upstream gradient g with the softmax Jacobian, row by row, without
    forming the (N, K, K) Jacobian.

    For each row, (g J)_j = sum_i g_i s_i (delta_ij - s_j) = s_j (g_j - sum_i g_i s_i), i.e.
    s * (g - sum(g * s, axis=-1, keepdims=True)). Because J is symmetric, g J = J g, so this is
    both the vector-Jacobian product used in backpropagation (dL/dz from dL/ds) and the
    Jacobian-vector product. ``z`` and ``upstream`` must have the same shape, (K,) or (N, K).
    """
    s = softmax(z, axis=-1)
    g = _as_float_array(upstream)
    if g.shape != s.shape:
        raise ValueError(
            f"softmax_jvp: upstream has shape {g.shape} but z has shape {s.shape}; "
            "they must be equal"
        )
    return s * (g - np.sum(g * s, axis=-1, keepdims=True))


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An activation function together with its elementwise derivative.

    ``derivative`` is None for softmax, whose derivative is not elementwise: use
    ``softmax_jacobian`` or, in backpropagation, ``softmax_jvp``.
    """

    name: str
    fn: Callable[..., FloatArray]
    derivative: Callable[..., FloatArray] | None


_IDENTITY = Activation("identity", identity, identity_prime)

ACTIVATIONS: dict[str, Activation] = {
    "identity": _IDENTITY,
    "linear": _IDENTITY,
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "tanh": Activation("tanh", tanh, tanh_prime),
    "relu": Activation("relu", relu, relu_prime),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_prime),
    "elu": Activation("elu", elu, elu_prime),
    # The softmax derivative is a (K, K) Jacobian per sample, not an elementwise function.
    "softmax": Activation("softmax", softmax, None),
}


def get_activation(name_or_activation: str | Activation) -> Activation:
    """Look up an activation by name (case-insensitive; "linear" is an alias of "identity").

    An ``Activation`` instance is returned unchanged. Unknown names raise ValueError listing
    the valid names; other argument types raise TypeError.
    """
    if isinstance(name_or_activation, Activation):
        return name_or_activation
    if not isinstance(name_or_activation, str):
        raise TypeError(
            "get_activation expects a name or an Activation, "
            f"got {type(name_or_activation).__name__}"
        )
    key = name_or_activation.strip().lower()
    try:
        return ACTIVATIONS[key]
    except KeyError:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(
            f"unknown activation {name_or_activation!r}; valid names: {valid}"
        ) from None
