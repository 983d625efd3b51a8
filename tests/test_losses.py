"""Tests for reference_impl.losses: gradients against finite differences, values against
Keras, numerical stability, probability/logit consistency, dtypes and the registry."""

from __future__ import annotations

import contextlib
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from reference_impl import activations as act
from reference_impl import losses as L


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise relative error, max |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numeric_gradient(loss, y: np.ndarray, p: np.ndarray, h: float) -> np.ndarray:
    """Centred finite differences of the scalar loss(y, p) with respect to each entry of p."""
    grad = np.empty_like(p)
    for idx in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (loss(y, up) - loss(y, down)) / (2 * h)
    return grad


@contextlib.contextmanager
def strict():
    """Any numpy floating-point event and any warning becomes an error inside this block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


# ----------------------------------------------------------------------------------------------
# Test data (float64, seeded)
# ----------------------------------------------------------------------------------------------


def regression_data(seed, shape):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape)


def binary_prob_data(seed, shape, soft=False):
    rng = np.random.default_rng(seed)
    y = rng.uniform(size=shape) if soft else rng.integers(0, 2, size=shape).astype(float)
    return y, rng.uniform(0.05, 0.95, size=shape)


def binary_logit_data(seed, shape, soft=False):
    rng = np.random.default_rng(seed)
    y = rng.uniform(size=shape) if soft else rng.integers(0, 2, size=shape).astype(float)
    return y, rng.normal(scale=3.0, size=shape)


def categorical_labels(rng, n, k, soft):
    if soft:
        return act.softmax(rng.normal(size=(n, k)))
    return one_hot(rng.integers(0, k, size=n), k)


def categorical_prob_data(seed, n=6, k=4, soft=False):
    rng = np.random.default_rng(seed)
    return categorical_labels(rng, n, k, soft), act.softmax(rng.normal(size=(n, k)))


def categorical_logit_data(seed, n=6, k=4, soft=False):
    rng = np.random.default_rng(seed)
    return categorical_labels(rng, n, k, soft), rng.normal(scale=2.0, size=(n, k))


# ----------------------------------------------------------------------------------------------
# Gradients against centred finite differences
# ----------------------------------------------------------------------------------------------

# (id, loss, gradient, data, h). Steps chosen by measurement: MSE is quadratic, so centred
# differences are exact up to rounding and a larger step only reduces the rounding error; the
# losses of probabilities use h = 1e-6 and those of logits h = 1e-5 (their gradients are smaller
# relative to the loss value, so rounding error matters more). The largest relative error
# observed with these steps is about 6e-9.
GRADIENT_CASES = [
    ("mse_2d", L.mse, L.mse_grad, regression_data(0, (6, 3)), 1e-4),
    ("mse_1d", L.mse, L.mse_grad, regression_data(1, (10,)), 1e-4),
    ("bce_2d", L.binary_cross_entropy, L.binary_cross_entropy_grad, binary_prob_data(2, (5, 3)),
     1e-6),
    ("bce_1d_soft", L.binary_cross_entropy, L.binary_cross_entropy_grad,
     binary_prob_data(3, (12,), soft=True), 1e-6),
    ("bce_logits_2d", L.binary_cross_entropy_from_logits,
     L.binary_cross_entropy_from_logits_grad, binary_logit_data(4, (5, 3)), 1e-5),
    ("bce_logits_1d_soft", L.binary_cross_entropy_from_logits,
     L.binary_cross_entropy_from_logits_grad, binary_logit_data(5, (12,), soft=True), 1e-5),
    ("cce_onehot", L.categorical_cross_entropy, L.categorical_cross_entropy_grad,
     categorical_prob_data(6), 1e-6),
    ("cce_soft", L.categorical_cross_entropy, L.categorical_cross_entropy_grad,
     categorical_prob_data(7, soft=True), 1e-6),
    ("cce_logits_onehot", L.categorical_cross_entropy_from_logits,
     L.categorical_cross_entropy_from_logits_grad, categorical_logit_data(8), 1e-5),
    ("cce_logits_soft", L.categorical_cross_entropy_from_logits,
     L.categorical_cross_entropy_from_logits_grad, categorical_logit_data(9, soft=True), 1e-5),
    # Label rows that do not sum to 1 (e.g. a sample with no target): the gradient is still the
    # exact derivative of the loss as computed.
    ("cce_logits_unnormalised", L.categorical_cross_entropy_from_logits,
     L.categorical_cross_entropy_from_logits_grad,
     (np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.2, 0.3, 0.1]]),
      np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7], [-0.4, 0.9, 0.2]])), 1e-5),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "loss", "grad", "data", "h"), GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES]
)
def test_gradient_matches_centred_finite_differences(name, loss, grad, data, h):
    y, p = data
    analytic = grad(y, p)
    assert analytic.shape == p.shape
    assert analytic.dtype == np.float64
    assert rel_err(analytic, numeric_gradient(loss, y, p, h)) < 1e-7, name


def test_mse_gradient_formula():
    y, p = regression_data(10, (4, 5))
    np.testing.assert_allclose(L.mse_grad(y, p), 2 * (p - y) / 20, rtol=1e-15)
    np.testing.assert_allclose(L.squared_error(y, p), (y - p) ** 2, rtol=1e-15)
    assert L.mse(y, p) == pytest.approx(np.mean((y - p) ** 2), rel=1e-15)


def test_categorical_loss_sums_over_classes_and_averages_over_samples():
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    p = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    expected = -(np.log(0.5) + np.log(0.8)) / 2
    assert L.categorical_cross_entropy(y, p) == pytest.approx(expected, rel=1e-15)


# ----------------------------------------------------------------------------------------------
# Values against Keras (float64, so agreement is to rounding error)
# ----------------------------------------------------------------------------------------------


def keras_loss(cls, y, p, **kwargs) -> float:
    return float(cls(dtype="float64", **kwargs)(y, p))


@pytest.mark.parametrize("shape", [(8, 3), (10,)])
def test_mse_matches_keras(shape):
    y, p = regression_data(20, shape)
    assert L.mse(y, p) == pytest.approx(keras_loss(keras.losses.MeanSquaredError, y, p), rel=1e-13)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("shape", [(8, 3), (10,)])
def test_binary_cross_entropy_matches_keras(shape, soft):
    # Keras clips probabilities to [1e-7, 1 - 1e-7] and we clip to [1e-12, 1 - 1e-12]; inside
    # [0.01, 0.99] neither clip is active, so the two must agree.
    y, _ = binary_prob_data(21, shape, soft=soft)
    p = np.random.default_rng(22).uniform(0.01, 0.99, size=shape)
    expected = keras_loss(keras.losses.BinaryCrossentropy, y, p)
    assert L.binary_cross_entropy(y, p) == pytest.approx(expected, rel=1e-12)

    _, z = binary_logit_data(23, shape)
    expected = keras_loss(keras.losses.BinaryCrossentropy, y, z, from_logits=True)
    assert L.binary_cross_entropy_from_logits(y, z) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("soft", [False, True])
def test_categorical_cross_entropy_matches_keras(soft):
    # Keras renormalises each row of p to sum to 1 and clips at 1e-7; softmax rows of moderate
    # logits already sum to 1 and lie within [0.01, 0.99], so neither step changes anything.
    y, z = categorical_logit_data(24, n=8, k=4, soft=soft)
    z = z / 4
    p = act.softmax(z)
    assert p.min() >= 0.01 and p.max() <= 0.99
    expected = keras_loss(keras.losses.CategoricalCrossentropy, y, p)
    assert L.categorical_cross_entropy(y, p) == pytest.approx(expected, rel=1e-12)
    expected = keras_loss(keras.losses.CategoricalCrossentropy, y, z, from_logits=True)
    assert L.categorical_cross_entropy_from_logits(y, z) == pytest.approx(expected, rel=1e-12)


KERAS_GRADIENT_CASES = [
    ("mse", L.mse_grad, keras.losses.MeanSquaredError, {}, regression_data(30, (5, 3))),
    ("bce", L.binary_cross_entropy_grad, keras.losses.BinaryCrossentropy, {},
     binary_prob_data(31, (5, 3))),
    ("bce_logits", L.binary_cross_entropy_from_logits_grad, keras.losses.BinaryCrossentropy,
     {"from_logits": True}, binary_logit_data(32, (5, 3))),
    ("cce_logits", L.categorical_cross_entropy_from_logits_grad,
     keras.losses.CategoricalCrossentropy, {"from_logits": True}, categorical_logit_data(33)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "grad", "cls", "kwargs", "data"),
    KERAS_GRADIENT_CASES,
    ids=[c[0] for c in KERAS_GRADIENT_CASES],
)
def test_gradient_matches_tensorflow_autodiff(name, grad, cls, kwargs, data):
    y, p = data
    x = tf.constant(p, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = cls(dtype="float64", **kwargs)(tf.constant(y, dtype=tf.float64), x)
    np.testing.assert_allclose(grad(y, p), tape.gradient(value, x).numpy(), rtol=1e-11, atol=0)


# ----------------------------------------------------------------------------------------------
# Stability and consistency
# ----------------------------------------------------------------------------------------------


def test_binary_from_logits_is_stable_at_extreme_logits():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    z = np.array([1000.0, -1000.0, -1000.0, 1000.0])
    with strict():
        value = L.binary_cross_entropy_from_logits(y, z)
        grad = L.binary_cross_entropy_from_logits_grad(y, z)
    # Two confident correct predictions (loss 0) and two confident wrong ones (loss 1000 each).
    assert value == 500.0
    np.testing.assert_array_equal(grad, [0.0, 0.0, -0.25, 0.25])


def test_categorical_from_logits_is_stable_at_extreme_logits():
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    z = np.array([[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0]])
    with strict():
        value = L.categorical_cross_entropy_from_logits(y, z)
        grad = L.categorical_cross_entropy_from_logits_grad(y, z)
    # Sample 1 is right with certainty (loss 0); sample 2 puts the target 2000 below the top.
    assert value == pytest.approx(1000.0, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]], atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_probability_losses_are_finite_at_zero_and_one(dtype):
    # Confidently wrong predictions: the clip turns log(0) into log(1e-12). In float32,
    # 1 - 1e-12 rounds to 1, so this also checks that the 1 - p term is clipped itself.
    y = np.array([1.0, 0.0], dtype=dtype)
    p = np.array([0.0, 1.0], dtype=dtype)
    with strict():
        value = L.binary_cross_entropy(y, p)
        grad = L.binary_cross_entropy_grad(y, p)
        cce = L.categorical_cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]], dtype))
    expected = -np.log(1e-12)
    assert value == pytest.approx(expected, rel=1e-6)
    assert cce == pytest.approx(expected, rel=1e-6)
    assert np.all(np.isfinite(grad)) and grad[0] < 0 < grad[1]
    # Confidently right predictions cost (almost) nothing.
    assert L.binary_cross_entropy(p, p) == pytest.approx(0.0, abs=1e-11)


def test_probability_and_logit_versions_agree():
    y, z = binary_logit_data(40, (6, 2), soft=True)
    s = act.sigmoid(z)
    assert L.binary_cross_entropy(y, s) == pytest.approx(
        L.binary_cross_entropy_from_logits(y, z), rel=1e-12
    )
    # Chain rule through the sigmoid gives the logit gradient.
    np.testing.assert_allclose(
        L.binary_cross_entropy_grad(y, s) * act.sigmoid_prime(z),
        L.binary_cross_entropy_from_logits_grad(y, z),
        rtol=1e-10,
    )

    y, z = categorical_logit_data(41, soft=True)
    s = act.softmax(z)
    assert L.categorical_cross_entropy(y, s) == pytest.approx(
        L.categorical_cross_entropy_from_logits(y, z), rel=1e-12
    )
    # Backpropagating through the softmax with its Jacobian gives the logit gradient.
    np.testing.assert_allclose(
        act.softmax_jvp(z, L.categorical_cross_entropy_grad(y, s)),
        L.categorical_cross_entropy_from_logits_grad(y, z),
        rtol=1e-10,
        atol=1e-15,
    )
    # For one-hot labels the gradient is (softmax(z) - y) / N.
    y_hot, z = categorical_logit_data(42)
    np.testing.assert_allclose(
        L.categorical_cross_entropy_from_logits_grad(y_hot, z),
        (act.softmax(z) - y_hot) / y_hot.shape[0],
        rtol=1e-15,
    )


# ----------------------------------------------------------------------------------------------
# dtypes, shapes, inputs
# ----------------------------------------------------------------------------------------------

PAIRS = {
    "mse": (L.mse, L.mse_grad, regression_data(50, (4, 3))),
    "bce": (L.binary_cross_entropy, L.binary_cross_entropy_grad, binary_prob_data(51, (4, 3))),
    "bce_logits": (
        L.binary_cross_entropy_from_logits,
        L.binary_cross_entropy_from_logits_grad,
        binary_logit_data(52, (4, 3)),
    ),
    "cce": (L.categorical_cross_entropy, L.categorical_cross_entropy_grad,
            categorical_prob_data(53)),
    "cce_logits": (
        L.categorical_cross_entropy_from_logits,
        L.categorical_cross_entropy_from_logits_grad,
        categorical_logit_data(54),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PAIRS))
def test_float32_predictions_give_float32_gradients(name):
    loss, grad, (y, p) = PAIRS[name]
    p32 = p.astype(np.float32)
    g32 = grad(y, p32)  # float64 labels with float32 predictions: computed in float32
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, grad(y, p), rtol=1e-4, atol=1e-6)
    value = loss(y.astype(np.float32), p32)
    assert type(value) is float
    assert value == pytest.approx(loss(y, p), rel=1e-5)


@pytest.mark.parametrize("name", list(PAIRS))
def test_inputs_are_not_modified_and_lists_work(name):
    loss, grad, (y, p) = PAIRS[name]
    y_before, p_before = y.copy(), p.copy()
    loss(y, p)
    grad(y, p)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(p, p_before)
    assert loss(y.tolist(), p.tolist()) == pytest.approx(loss(y, p), rel=1e-15)
    assert grad(y.tolist(), p.tolist()).dtype == np.float64


def test_integer_inputs_become_float64():
    assert L.squared_error([1, 2], [0, 0]).dtype == np.float64
    assert L.mse_grad(np.array([1, 2]), np.array([0, 4])).dtype == np.float64
    np.testing.assert_array_equal(L.mse_grad([1, 2], [0, 4]), [-1.0, 2.0])


def test_shape_mismatch_raises():
    y = np.zeros(5)
    with pytest.raises(ValueError, match="shape"):
        L.mse(y, np.zeros((5, 1)))  # would silently broadcast to (5, 5)
    with pytest.raises(ValueError, match="shape"):
        L.binary_cross_entropy_grad(y, np.full(4, 0.5))
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        L.categorical_cross_entropy_from_logits(np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="empty"):
        L.mse(np.zeros((0, 2)), np.zeros((0, 2)))


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


def test_registry():
    assert set(L.LOSSES) == {
        "mse",
        "binary_crossentropy",
        "categorical_crossentropy",
        "binary_crossentropy_from_logits",
        "categorical_crossentropy_from_logits",
    }
    for key, loss in L.LOSSES.items():
        assert loss.name == key
    assert L.get_loss("MSE").gradient is L.mse_grad
    assert L.get_loss("categorical_crossentropy_from_logits").fn is (
        L.categorical_cross_entropy_from_logits
    )
    custom = L.Loss("mae", lambda y, p: 0.0, lambda y, p: p)
    assert L.get_loss(custom) is custom
    with pytest.raises(ValueError, match="valid names: .*binary_crossentropy"):
        L.get_loss("hinge")
    with pytest.raises(TypeError):
        L.get_loss(None)
