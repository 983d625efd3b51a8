"""Small datasets used in the course: logic gates, two circles, two spirals, 8x8 digits.

The circle and spiral generators follow the Julia functions in the course's lecture
notebooks, rewritten with numpy; the digits come with scikit-learn. None of them needs
the network. Every generator returns ``(X, y)`` with ``X`` a float64 array of shape
(n_samples, n_features) and ``y`` an int64 array of class labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GATES", "load_digits_8x8", "logic_gate", "make_circles", "make_spirals"]

#: Names accepted by :func:`logic_gate`.
GATES: tuple[str, ...] = ("AND", "OR", "XOR")

_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
_GATE_OUTPUTS = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "XOR": (0, 1, 1, 0),
}

SeedLike = int | np.random.Generator | None


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the truth table of a two-input logic gate as a tiny dataset.

    Parameters
    ----------
    name:
        ``"AND"``, ``"OR"`` or ``"XOR"`` (any letter case).

    Returns
    -------
    X:
        float64 array of shape (4, 2), the inputs (0,0), (0,1), (1,0), (1,1) in that order.
    y:
        int64 array of shape (4,) with the gate's output for each row.
    """
    key = name.upper() if isinstance(name, str) else name
    if key not in _GATE_OUTPUTS:
        raise ValueError(f"unknown logic gate {name!r}; valid names are {', '.join(GATES)}")
    return _GATE_INPUTS.copy(), np.array(_GATE_OUTPUTS[key], dtype=np.int64)


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def _check_noise(noise: float) -> None:
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def make_circles(
    r1: float = 2.0,
    r2: float = 0.5,
    n: int = 100,
    noise: float = 0.1,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric noisy circles, one class each.

    A numpy version of the lecture notebooks' ``generatedata_circle``: for each class the
    angles are ``n`` evenly spaced values from 0 to 2π (both ends included), and every point
    gets its own radius ``r + noise * N(0, 1)``. The point is ``(radius cos φ, radius sin φ)``.
    (Not to be confused with :func:`sklearn.datasets.make_circles`, which is parametrised
    differently.)

    Parameters
    ----------
    r1, r2:
        Radius of class 0 and of class 1.
    n:
        Points per class.
    noise:
        Standard deviation of the radial Gaussian noise.
    seed:
        Seed (or generator) for :func:`numpy.random.default_rng`.

    Returns
    -------
    X:
        float64 array of shape (2n, 2); the n class-0 points come first.
    y:
        int64 array of shape (2n,): n zeros followed by n ones.
    """
    _check_count(n)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    phi = np.linspace(0.0, 2.0 * np.pi, n)
    blocks = []
    for radius in (r1, r2):  # class 0 first, as in the original
        rho = radius + noise * rng.standard_normal(n)
        blocks.append(np.column_stack([rho * np.cos(phi), rho * np.sin(phi)]))
    X = np.concatenate(blocks).astype(np.float64, copy=False)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n)
    return X, y


def make_spirals(
    n: int = 100,
    a: float = 1.0,
    r: float = 1.0,
    noise: float = 0.0,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, one class each.

    A numpy version of the lecture notebooks' ``generatedata_spiral``: with ``θ`` running
    over ``n`` evenly spaced values from 0 to 4π, class 0 is
    ``(a θ^(1/r) sin θ, a θ^(1/r) cos θ)`` and class 1 is the same curve with ``-a``, i.e.
    the first arm reflected through the origin. Gaussian noise with standard deviation
    ``noise`` may be added to every coordinate.

    Parameters
    ----------
    n:
        Points per class.
    a:
        Scale of the spiral.
    r:
        Growth exponent: the distance from the origin grows like ``θ^(1/r)``. Must be > 0.
    noise:
        Standard deviation of the additive Gaussian noise (0 means none).
    seed:
        Seed (or generator) for :func:`numpy.random.default_rng`; only used when
        ``noise > 0``.

    Returns
    -------
    X:
        float64 array of shape (2n, 2); the n class-0 points come first.
    y:
        int64 array of shape (2n,): n zeros followed by n ones.
    """
    _check_count(n)
    _check_noise(noise)
    if not r > 0:
        raise ValueError(f"r must be > 0, got {r!r}")
    theta = np.linspace(0.0, 4.0 * np.pi, n)
    reach = theta ** (1.0 / r)
    arm = np.column_stack([reach * np.sin(theta), reach * np.cos(theta)])
    X = np.concatenate([a * arm, -a * arm]).astype(np.float64, copy=False)
    if noise > 0:
        rng = np.random.default_rng(seed)
        X = X + rng.normal(0.0, noise, size=X.shape)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n)
    return X, y


def load_digits_8x8(
    as_frame: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[pd.DataFrame, pd.Series]:
    """The 8x8 handwritten digits that ship with scikit-learn (no download needed).

    A thin wrapper around :func:`sklearn.datasets.load_digits`, the small digits set used in
    the lecture notebooks before MNIST.

    Parameters
    ----------
    as_frame:
        Return a pandas DataFrame and Series instead of numpy arrays.

    Returns
    -------
    X:
        1797 images as rows of 64 pixel intensities 0..16 (float64), shape (1797, 64).
    y:
        The digit shown in each image, 0..9 (int64), shape (1797,).
    """
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    X: Any
    y: Any
    X, y = load_digits(return_X_y=True, as_frame=as_frame)
    if as_frame:
        return X.astype(np.float64), y.astype(np.int64)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
