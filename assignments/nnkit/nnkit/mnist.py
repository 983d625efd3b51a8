"""Reading the offline MNIST cache, in the layout of ``keras.datasets.mnist.load_data()``.

The course never downloads MNIST while a notebook or a grader runs. Instead, a cache file
``mnist.npz`` is filled once (``nnkit-fetch-mnist``, or ``make setup`` in the course
repository) and :func:`load_mnist` only ever reads that file. This module locates, loads and
verifies the cache; :mod:`nnkit.mnist_fetch` makes it, and its documentation says where the
data comes from and how the downloaded pickle is checked.

The course's split
------------------
The course trains on the first 50 000 of Keras's 60 000 training images (the original
release's training part) and tests on the public 10 000 test images; the last 10 000
training images (the original validation part) are held back: the grader scores models on
them, and the grading sandbox never holds them. :func:`load_mnist` therefore returns 50 000
training images. ``nnkit-fetch-mnist`` writes two files: the full cache
``$NNGRADE_DATA/mnist.npz`` (what the grader reads, with :func:`load_mnist_heldout` for the
held-back digits) and the course's file ``$NNGRADE_DATA/course/mnist.npz``
(:func:`course_data_dir`), which holds only the 50 000 training and 10 000 test images and is
the only MNIST the sandbox is given.

The cache is a plain ``.npz`` read with ``allow_pickle=False``: reading it never unpickles
anything. :func:`verify_cache` checks its layout and its content against
:data:`ARRAYS_SHA256` (the full cache) or :data:`COURSE_ARRAYS_SHA256` (the course's file).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "ARRAYS_SHA256",
    "CACHE_FILENAME",
    "COURSE_ARRAYS_SHA256",
    "DATA_ENV_VAR",
    "HELDOUT_SIZE",
    "KEYS",
    "TRAIN_SIZE",
    "MnistIntegrityError",
    "arrays_sha256",
    "cache_path",
    "course_data_dir",
    "data_dir",
    "load_mnist",
    "load_mnist_heldout",
    "verify_cache",
]

#: Environment variable naming the directory that holds the cache.
DATA_ENV_VAR = "NNGRADE_DATA"
#: Directory used when ``NNGRADE_DATA`` is unset or empty.
DEFAULT_DATA_DIR = Path("~/.cache/nngrade")
#: File name of the cache inside the data directory (the name Keras uses as well).
CACHE_FILENAME = "mnist.npz"
#: Keys of the cache file, in the order they are hashed; the same keys as Keras's mnist.npz.
KEYS = ("x_train", "y_train", "x_test", "y_test")

#: SHA-256 over the raw C-order bytes of x_train, y_train, x_test and y_test, in that order,
#: of the finished uint8 arrays (see :func:`arrays_sha256`).
ARRAYS_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"

#: The course's training set: the first 50 000 of the 60 000 training images.
TRAIN_SIZE = 50_000
#: The last 10 000 training images, held back for the grader.
HELDOUT_SIZE = 10_000
#: Folder (inside the data directory) of the course's file, the only MNIST the sandbox gets.
COURSE_DIRNAME = "course"
#: :func:`arrays_sha256` of the course's file: the first 50 000 training and the 10 000 test
#: images with their labels.
COURSE_ARRAYS_SHA256 = "46a403419be4517777e0650d52fe3cd5f5873f86fedd976d721cbb47117fe2b9"

_SHAPES = {
    "x_train": (TRAIN_SIZE + HELDOUT_SIZE, 28, 28),
    "y_train": (TRAIN_SIZE + HELDOUT_SIZE,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
#: The course's file holds only the course's training images.
_COURSE_SHAPES = {**_SHAPES, "x_train": (TRAIN_SIZE, 28, 28), "y_train": (TRAIN_SIZE,)}

_FILL_HINT = (
    "Fill it with `nnkit-fetch-mnist` (or `make setup` in the course repository); "
    f"set {DATA_ENV_VAR} to use another directory."
)


class MnistIntegrityError(ValueError):
    """Raised when downloaded or cached MNIST data does not match the expected checksums."""


# ---------------------------------------------------------------------------------------
# Locating and loading the cache
# ---------------------------------------------------------------------------------------


def data_dir() -> Path:
    """Return the data directory: ``$NNGRADE_DATA``, or ``~/.cache/nngrade`` if unset."""
    configured = os.environ.get(DATA_ENV_VAR, "")
    return Path(configured or DEFAULT_DATA_DIR).expanduser()


def cache_path() -> Path:
    """Return the path of the MNIST cache file, ``$NNGRADE_DATA/mnist.npz``."""
    return data_dir() / CACHE_FILENAME


def course_data_dir() -> Path:
    """Return the folder of the course's file, ``$NNGRADE_DATA/course``: MNIST without the
    held-back digits, the only MNIST a grading sandbox is given."""
    return data_dir() / COURSE_DIRNAME


def _resolve(path: str | os.PathLike[str] | None) -> Path:
    """Turn an optional file-or-directory argument into the path of a cache file.

    A directory (an existing one, or any path written with a trailing separator) stands for
    ``<dir>/mnist.npz``.
    """
    if path is None:
        return cache_path()
    raw = os.fspath(path)
    resolved = Path(raw).expanduser()
    if resolved.is_dir() or raw.endswith(("/", os.sep)):
        resolved = resolved / CACHE_FILENAME
    return resolved


def _check_layout(
    arrays: Mapping[str, np.ndarray], source: object, shapes: Mapping[str, tuple] = _SHAPES
) -> None:
    """Raise :class:`MnistIntegrityError` unless the arrays have the Keras shapes (or the
    course file's, with ``shapes``) and dtypes."""
    for key, shape in shapes.items():
        if key not in arrays:
            raise MnistIntegrityError(f"{source}: missing array {key!r}")
        arr = arrays[key]
        if arr.shape != shape or arr.dtype != np.uint8:
            raise MnistIntegrityError(
                f"{source}: {key} has shape {arr.shape} and dtype {arr.dtype}; "
                f"expected {shape} and uint8"
            )


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    """The four arrays of a full cache or of a course file, checked for their layout."""
    if not file.is_file():
        raise FileNotFoundError(f"MNIST cache not found at {file}. {_FILL_HINT}")
    with np.load(file, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in KEYS if key in npz.files}
    course = arrays.get("x_train", np.empty(0)).shape[:1] == (TRAIN_SIZE,)
    try:
        _check_layout(arrays, file, _COURSE_SHAPES if course else _SHAPES)
    except MnistIntegrityError as exc:
        raise MnistIntegrityError(
            f"{exc}. Rebuild the cache with `nnkit-fetch-mnist --force`."
        ) from None
    return arrays


def load_mnist(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the course's MNIST from the local cache, in the layout of
    ``keras.datasets.mnist.load_data()``.

    Parameters
    ----------
    path:
        The cache file to read (a directory is taken to contain ``mnist.npz``): the full
        cache or the course's file. By default :func:`cache_path`, i.e.
        ``$NNGRADE_DATA/mnist.npz``.

    Returns
    -------
    ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (50000, 28, 28),
    (50000,), (10000, 28, 28) and (10000,). Pixels are 0..255, labels 0..9. The training
    images are the first 50 000 of Keras's 60 000; the other 10 000 are held back for the
    grader (see the module's documentation).

    Raises
    ------
    FileNotFoundError
        If the cache does not exist; the message says how to create it.
    MnistIntegrityError
        If the file does not contain the four arrays with the expected shapes and dtypes.

    This function only reads a local file; it never uses the network.
    """
    arrays = _read_arrays(_resolve(path))
    return (
        (arrays["x_train"][:TRAIN_SIZE], arrays["y_train"][:TRAIN_SIZE]),
        (arrays["x_test"], arrays["y_test"]),
    )


def load_mnist_heldout(
    path: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the 10 000 training images the course holds back, with their labels: what the
    grader scores models on. Only the full cache has them (never the course's file, so never
    a grading sandbox). Raises :class:`MnistIntegrityError` for a course file."""
    file = _resolve(path)
    arrays = _read_arrays(file)
    if len(arrays["x_train"]) == TRAIN_SIZE:
        raise MnistIntegrityError(f"{file} is the course's file: it holds no held-back digits")
    return arrays["x_train"][TRAIN_SIZE:], arrays["y_train"][TRAIN_SIZE:]


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """Return the SHA-256 (hex) of x_train, y_train, x_test, y_test, in that order.

    Each array contributes its raw bytes in C order; shapes and dtypes are not hashed, so
    check them separately.
    """
    digest = hashlib.sha256()
    for key in KEYS:
        digest.update(np.ascontiguousarray(arrays[key]).data)
    return digest.hexdigest()


def verify_cache(path: str | os.PathLike[str] | None = None) -> Path:
    """Check that the cache has the expected layout and checksum; return its path.

    Raises :class:`FileNotFoundError` if it is missing and :class:`MnistIntegrityError` if
    its content differs from the reference data.
    """
    file = _resolve(path)
    arrays = _read_arrays(file)
    expected = COURSE_ARRAYS_SHA256 if len(arrays["x_train"]) == TRAIN_SIZE else ARRAYS_SHA256
    digest = arrays_sha256(arrays)
    if digest != expected:
        raise MnistIntegrityError(
            f"{file}: content checksum {digest} differs from the expected {expected}. "
            "Rebuild the cache with `nnkit-fetch-mnist --force`."
        )
    return file
