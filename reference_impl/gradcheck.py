"""Gradient checking by centred finite differences.

For a scalar function J(θ) and each parameter element θ_i::

    ∂J/∂θ_i ≈ (J(θ + h e_i) − J(θ − h e_i)) / (2h)        error O(h²)

and analytic and numerical gradients a, b are compared with the relative error::

    rel(a, b) = max_i |a_i − b_i| / max(1e-8, |a_i| + |b_i|)

The 1e-8 floor keeps elements where both gradients are (near) zero from dividing by zero. In
float64, a correct backward pass typically gives rel < 1e-7; an error in a formula gives
something of order 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["relative_error", "numerical_gradient", "check_gradients"]


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """max(|a − b| / max(1e-8, |a| + |b|)) over all elements."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(
    f: Callable[[], float], params: Sequence[np.ndarray], h: float = 1e-6
) -> list[np.ndarray]:
    """Centred differences of ``f()`` with respect to every element of every array in ``params``.

    ``f`` takes no argument and reads the arrays, which are perturbed in place and restored
    exactly afterwards.
    """
    grads = []
    for p in params:
        g = np.zeros(p.shape, dtype=np.float64)
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)  # views: writes reach p
        for i in range(flat_p.size):
            original = flat_p[i]
            flat_p[i] = original + h
            plus = f()
            flat_p[i] = original - h
            minus = f()
            flat_p[i] = original
            flat_g[i] = (plus - minus) / (2.0 * h)
        grads.append(g)
    return grads


def check_gradients(model, X: ArrayLike, Y: ArrayLike, h: float = 1e-6) -> float:
    """Relative error between ``model.loss_and_gradients`` and centred differences of its loss.

    ``model`` needs ``parameters()`` (live arrays) and ``loss_and_gradients(X, Y)``, as
    :class:`reference_impl.mlp.MLP` has. Use a float64 model and a small batch.
    """
    _, analytic = model.loss_and_gradients(X, Y)
    numeric = numerical_gradient(lambda: model.loss_and_gradients(X, Y)[0], model.parameters(), h)
    return max(relative_error(a, n) for a, n in zip(analytic, numeric, strict=True))
