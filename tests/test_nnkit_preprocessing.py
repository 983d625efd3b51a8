"""Tests for nnkit.preprocessing."""

from __future__ import annotations

import numpy as np
import pytest

from nnkit import flatten, load_mnist, one_hot, prepare_mnist, scale

# ---------------------------------------------------------------------------------------
# flatten
# ---------------------------------------------------------------------------------------


def test_flatten_mnist_shape() -> None:
    x = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    flat = flatten(x)
    assert flat.shape == (3, 784)
    assert flat.dtype == np.uint8
    np.testing.assert_array_equal(flat[1], x[1].ravel())


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((5, 2, 3, 4), (5, 24)), ((4,), (4, 1)), ((0, 28, 28), (0, 784)), ((2, 7), (2, 7))],
)
def test_flatten_general_shapes(shape, expected) -> None:
    assert flatten(np.zeros(shape)).shape == expected


def test_flatten_rejects_scalar() -> None:
    with pytest.raises(ValueError):
        flatten(np.float64(3.0))


# ---------------------------------------------------------------------------------------
# scale
# ---------------------------------------------------------------------------------------


def test_scale_uint8_to_unit_interval() -> None:
    x = np.array([[0, 1, 128, 255]], dtype=np.uint8)
    out = scale(x)
    assert out.dtype == np.float32
    assert out.shape == x.shape
    np.testing.assert_allclose(out, [[0.0, 1 / 255, 128 / 255, 1.0]], rtol=1e-6)
    assert out.min() == 0.0 and out.max() == 1.0
    assert x.tolist() == [[0, 1, 128, 255]]  # input untouched


def test_scale_dtype_and_fresh_copy() -> None:
    x = np.array([0.0, 255.0], dtype=np.float64)
    out = scale(x, dtype=np.float64)
    assert out.dtype == np.float64
    assert out.tolist() == [0.0, 1.0]
    assert x.tolist() == [0.0, 255.0]  # same dtype must still not scale in place
    with pytest.raises(ValueError, match="floating"):
        scale(x, dtype=np.int32)
    with pytest.raises(ValueError, match="numeric"):
        scale(np.array(["a"]))


# ---------------------------------------------------------------------------------------
# one_hot
# ---------------------------------------------------------------------------------------


def test_one_hot_basic() -> None:
    out = one_hot(np.array([0, 2, 1, 2]))
    assert out.dtype == np.float32
    assert out.shape == (4, 3)
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]


def test_one_hot_round_trip() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=500)
    encoded = one_hot(y, 10)
    assert encoded.shape == (500, 10)
    np.testing.assert_array_equal(encoded.sum(axis=1), np.ones(500))
    np.testing.assert_array_equal(np.argmax(encoded, axis=1), y)


def test_one_hot_options() -> None:
    assert one_hot([1], num_classes=4, dtype=np.int64).tolist() == [[0, 1, 0, 0]]
    assert one_hot(np.array([[1], [0]])).shape == (2, 2)  # column vector, as Keras allows
    assert one_hot(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert one_hot(np.array([3], dtype=np.uint8), 5).argmax() == 3
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("labels", "num_classes", "message"),
    [
        ([0, 3], 3, r"0\.\.2"),
        ([-1, 0], None, r"0\.\."),
        ([0.5, 1.0], None, "integer"),
        ([np.nan], None, "integer"),
        (["a", "b"], None, "integer"),
        ([0, 1], 0, "at least 1"),
        ([0, 1], 2.0, "integer"),
        (np.array([], dtype=np.int64), None, "empty"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, num_classes, message) -> None:
    with pytest.raises(ValueError, match=message):
        one_hot(labels, num_classes)


# ---------------------------------------------------------------------------------------
# prepare_mnist (reads the real cache; a missing cache is a set-up failure)
# ---------------------------------------------------------------------------------------


def test_prepare_mnist() -> None:
    try:
        (x_raw, y_raw), _ = load_mnist()
    except FileNotFoundError as exc:
        pytest.fail(f"{exc} (`make test` fills it during set-up)", pytrace=False)

    (x_train, y_train), (x_test, y_test) = prepare_mnist()
    assert x_train.shape == (50000, 784) and x_test.shape == (10000, 784)
    assert y_train.shape == (50000, 10) and y_test.shape == (10000, 10)
    for arr in (x_train, y_train, x_test, y_test):
        assert arr.dtype == np.float32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    np.testing.assert_array_equal(np.argmax(y_train, axis=1), y_raw)
    np.testing.assert_allclose(x_train[0] * 255, x_raw[0].ravel(), atol=1e-4)
    assert np.argmax(y_test[:5], axis=1).tolist() == [7, 2, 1, 0, 4]
