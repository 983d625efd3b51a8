"""Tests for reference_impl.activations: finite differences, TensorFlow as an independent
implementation, numerical stability, dtype preservation and the registry."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import tensorflow as tf

from reference_impl import activations as act

# Non-default slopes, so that a forgotten alpha argument shows up. 0.25 is exactly representable
# in float32, which matters for the TensorFlow comparison (see TF_CASES).
ALPHA_LEAKY = 0.25
ALPHA_ELU = 0.7


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise relative error, max |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def centred_diff(f, z: np.ndarray, h: float) -> np.ndarray:
    """(f(z + h) - f(z - h)) / (2h), elementwise (valid because f is elementwise)."""
    return (f(z + h) - f(z - h)) / (2 * h)


def smooth_points(seed: int, n: int = 400, bound: float = 4.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-bound, bound, size=n)


def points_away_from_zero(seed: int, n: int = 400, bound: float = 4.0) -> np.ndarray:
    # ReLU, leaky ReLU and ELU (alpha != 1) have a kink at z = 0 where the derivative is
    # undefined (or the second derivative jumps), so finite differences straddling 0 do not
    # approximate the derivative. Keeping |z| > 1e-3, with a step h far below 1e-3, makes sure
    # z - h and z + h lie on the same side of the kink.
    rng = np.random.default_rng(seed)
    return rng.uniform(1e-3, bound, size=n) * rng.choice([-1.0, 1.0], size=n)


def leaky(z):
    return act.leaky_relu(z, alpha=ALPHA_LEAKY)


def leaky_prime(z):
    return act.leaky_relu_prime(z, alpha=ALPHA_LEAKY)


def elu_a(z):
    return act.elu(z, alpha=ALPHA_ELU)


def elu_a_prime(z):
    return act.elu_prime(z, alpha=ALPHA_ELU)


# (name, function, derivative, step h, kinked at 0?)
# Steps chosen by measurement: the truncation error is O(h^2) and the rounding error
# O(1e-16 / h); with these steps the largest relative error observed on |z| <= 4 is about 3e-9,
# well under the 1e-7 tolerance. Kinked functions use h = 1e-6, far below the 1e-3 gap around 0.
DERIVATIVE_CASES = [
    ("identity", act.identity, act.identity_prime, 1e-5, False),
    ("sigmoid", act.sigmoid, act.sigmoid_prime, 1e-5, False),
    ("tanh", act.tanh, act.tanh_prime, 1e-5, False),
    ("relu", act.relu, act.relu_prime, 1e-6, True),
    ("leaky_relu", leaky, leaky_prime, 1e-6, True),
    ("leaky_relu_default", act.leaky_relu, act.leaky_relu_prime, 1e-6, True),
    ("elu", act.elu, act.elu_prime, 1e-6, True),
    ("elu_alpha", elu_a, elu_a_prime, 1e-6, True),
]


@pytest.mark.parametrize(
    ("name", "fn", "prime", "h", "kinked"), DERIVATIVE_CASES, ids=[c[0] for c in DERIVATIVE_CASES]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivative_matches_centred_finite_differences(name, fn, prime, h, kinked, seed):
    z = points_away_from_zero(seed) if kinked else smooth_points(seed)
    numeric = centred_diff(fn, z, h)
    analytic = prime(z)
    assert analytic.shape == z.shape
    assert rel_err(analytic, numeric) < 1e-7, name


def test_kinked_derivatives_conventions_at_zero():
    z = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.relu_prime(z), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.leaky_relu_prime(z, alpha=0.1), [0.1, 0.1, 1.0])
    np.testing.assert_allclose(act.elu_prime(z, alpha=0.5), [0.5 * np.exp(-1.0), 0.5, 1.0])


def test_known_values():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_array_equal(act.relu(z), [0.0, 0.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(act.leaky_relu(z), [-0.02, -0.005, 0.0, 0.5, 2.0], rtol=1e-15)
    np.testing.assert_allclose(
        act.elu(z, alpha=0.5), [0.5 * np.expm1(-2.0), 0.5 * np.expm1(-0.5), 0.0, 0.5, 2.0]
    )
    np.testing.assert_array_equal(act.identity(z), z)


# ----------------------------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------------------------


def test_softmax_lecture_example():
    s = act.softmax(np.array([2.33, -1.46, 0.56]))
    np.testing.assert_allclose(s, [0.83827314, 0.01894129, 0.14278557], rtol=0, atol=1e-8)


def test_softmax_rows_sum_to_one_and_axis_argument():
    z = np.random.default_rng(3).normal(size=(5, 4))
    np.testing.assert_allclose(act.softmax(z).sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(act.softmax(z, axis=0), act.softmax(z.T).T, rtol=1e-15)
    np.testing.assert_allclose(act.softmax(z, axis=0).sum(axis=0), 1.0, rtol=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_jacobian_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n, k, h = 6, 5, 1e-5
    z = rng.normal(size=(n, k))
    numeric = np.empty((n, k, k))
    for j in range(k):  # column j of each Jacobian: ds/dz_j
        step = np.zeros(k)
        step[j] = h
        numeric[:, :, j] = (act.softmax(z + step) - act.softmax(z - step)) / (2 * h)
    analytic = act.softmax_jacobian(z)
    assert analytic.shape == (n, k, k)
    assert rel_err(analytic, numeric) < 1e-7
    # A single sample of shape (K,) gives a (K, K) matrix, the same as the batched one.
    single = act.softmax_jacobian(z[0])
    assert single.shape == (k, k)
    np.testing.assert_allclose(single, analytic[0], rtol=1e-15)


@pytest.mark.parametrize("shape", [(7, 4), (4,)])
def test_softmax_jvp_equals_upstream_times_jacobian(shape):
    rng = np.random.default_rng(11)
    z = rng.normal(size=shape)
    g = rng.normal(size=shape)
    expected = np.einsum("...i,...ij->...j", g, act.softmax_jacobian(z))
    np.testing.assert_allclose(act.softmax_jvp(z, g), expected, rtol=1e-12, atol=1e-15)


def test_softmax_jvp_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        act.softmax_jvp(np.zeros((3, 4)), np.zeros((3, 5)))


# ----------------------------------------------------------------------------------------------
# Numerical stability
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def strict():
    """Any numpy floating-point event (overflow, invalid, division by zero, underflow) and any
    warning becomes an error inside this block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extreme_inputs_are_finite_without_warnings(dtype):
    z = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    with strict():
        s = act.sigmoid(z)
        ds = act.sigmoid_prime(z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ds))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert ds[0] == 0.0 and ds[-1] == 0.0 and ds[2] == 0.25
    # Very negative z keeps full relative precision (no 1 - (1 - tiny) cancellation).
    assert act.sigmoid(np.array(-30.0)) == pytest.approx(np.exp(-30.0) / (1 + np.exp(-30.0)))


def test_softmax_large_logits_are_finite_without_warnings():
    with strict():
        s = act.softmax(np.array([1000.0, 1001.0, 1002.0]))
        s_batch = act.softmax(np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]))
    e = np.exp([-2.0, -1.0, 0.0])
    np.testing.assert_allclose(s, e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(s_batch[0], e / e.sum(), rtol=1e-15)
    np.testing.assert_array_equal(s_batch[1], [0.0, 0.0, 1.0])


def test_other_activations_extreme_inputs_without_warnings():
    z = np.array([-1000.0, 1000.0])
    with strict():
        results = [
            act.tanh(z),
            act.tanh_prime(z),
            act.elu(z),
            act.elu_prime(z),
            act.leaky_relu(z),
            act.relu(z),
            act.softmax_jacobian(z),
            act.softmax_jvp(z, np.ones(2)),
        ]
    assert all(np.all(np.isfinite(r)) for r in results)
    np.testing.assert_array_equal(act.elu(z), [-1.0, 1000.0])
    np.testing.assert_array_equal(act.tanh_prime(z), [0.0, 0.0])


# ----------------------------------------------------------------------------------------------
# TensorFlow as an independent implementation (float64)
# ----------------------------------------------------------------------------------------------

TF_CASES = [
    ("sigmoid", act.sigmoid, act.sigmoid_prime, tf.nn.sigmoid),
    ("tanh", act.tanh, act.tanh_prime, tf.math.tanh),
    ("relu", act.relu, act.relu_prime, tf.nn.relu),
    ("leaky_relu", leaky, leaky_prime, lambda x: tf.nn.leaky_relu(x, alpha=ALPHA_LEAKY)),
    # TensorFlow stores the leaky ReLU slope as a 32-bit float attribute even for float64
    # tensors, so alpha = 0.01 becomes 0.0099999998; hence the looser tolerance below.
    (
        "leaky_relu_default",
        act.leaky_relu,
        act.leaky_relu_prime,
        lambda x: tf.nn.leaky_relu(x, alpha=0.01),
    ),
    ("elu", act.elu, act.elu_prime, tf.nn.elu),
    ("identity", act.identity, act.identity_prime, tf.identity),
]


@pytest.mark.parametrize(("name", "fn", "prime", "tf_fn"), TF_CASES, ids=[c[0] for c in TF_CASES])
def test_activation_and_derivative_match_tensorflow(name, fn, prime, tf_fn):
    # Random points plus the kink z = 0 itself: TensorFlow's gradients there are 0 for ReLU,
    # alpha for leaky ReLU and 1 for ELU, the same conventions as ours.
    z = np.concatenate([np.random.default_rng(5).uniform(-6, 6, size=200), [0.0, -1e-3, 1e-3]])
    x = tf.constant(z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf_fn(x)
    # The activation is elementwise, so the gradient of sum(y) is the elementwise derivative.
    tf_grad = tape.gradient(y, x).numpy()
    rtol = 1e-7 if name == "leaky_relu_default" else 1e-13
    np.testing.assert_allclose(fn(z), y.numpy(), rtol=rtol, atol=0)
    # TensorFlow evaluates tanh' as 1 - tanh(z)^2, which loses relative (not absolute) precision
    # where tanh(z) is close to +-1; hence the small absolute tolerance.
    np.testing.assert_allclose(prime(z), tf_grad, rtol=max(rtol, 1e-12), atol=1e-15)


def test_softmax_and_jacobian_match_tensorflow():
    z = np.random.default_rng(8).normal(scale=2.0, size=(6, 5))
    x = tf.constant(z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.nn.softmax(x, axis=-1)
    tf_jac = tape.batch_jacobian(s, x).numpy()  # [n, i, j] = ds_i / dz_j
    np.testing.assert_allclose(act.softmax(z), s.numpy(), rtol=1e-13)
    np.testing.assert_allclose(act.softmax_jacobian(z), tf_jac, rtol=1e-12, atol=1e-16)


# ----------------------------------------------------------------------------------------------
# dtypes and inputs
# ----------------------------------------------------------------------------------------------

ALL_FUNCTIONS = {
    "identity": act.identity,
    "sigmoid": act.sigmoid,
    "tanh": act.tanh,
    "relu": act.relu,
    "leaky_relu": act.leaky_relu,
    "leaky_relu_alpha": leaky,
    "elu": act.elu,
    "elu_alpha": elu_a,
    "softmax": act.softmax,
    "identity_prime": act.identity_prime,
    "sigmoid_prime": act.sigmoid_prime,
    "tanh_prime": act.tanh_prime,
    "relu_prime": act.relu_prime,
    "leaky_relu_prime": act.leaky_relu_prime,
    "leaky_relu_prime_alpha": leaky_prime,
    "elu_prime": act.elu_prime,
    "elu_prime_alpha": elu_a_prime,
    "softmax_jacobian": act.softmax_jacobian,
    "softmax_jvp": lambda z: act.softmax_jvp(z, z),
}


@pytest.mark.parametrize("name", list(ALL_FUNCTIONS))
def test_float32_in_float32_out(name):
    fn = ALL_FUNCTIONS[name]
    z = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    out = fn(z)
    assert out.dtype == np.float32, f"{name} returned {out.dtype} for float32 input"
    # The float32 result agrees with the float64 one to float32 precision.
    np.testing.assert_allclose(out, fn(z.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(ALL_FUNCTIONS))
def test_ints_and_lists_become_float64_and_inputs_are_not_modified(name):
    fn = ALL_FUNCTIONS[name]
    z_int = np.array([[-2, 0, 3], [1, -1, 2]])
    assert fn(z_int).dtype == np.float64
    assert fn(z_int.tolist()).dtype == np.float64
    z = np.random.default_rng(1).normal(size=(2, 3))
    before = z.copy()
    out = fn(z)
    np.testing.assert_array_equal(z, before)
    assert not np.shares_memory(out, z)


def test_derivatives_keep_shape():
    z = np.random.default_rng(2).normal(size=(3, 4, 2))
    for name in ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"):
        a = act.get_activation(name)
        assert a.fn(z).shape == z.shape
        assert a.derivative(z).shape == z.shape


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


def test_registry_contents():
    expected = {"identity", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax"}
    assert set(act.ACTIVATIONS) == expected
    assert act.ACTIVATIONS["linear"] is act.ACTIVATIONS["identity"]
    assert act.ACTIVATIONS["softmax"].derivative is None
    assert act.ACTIVATIONS["softmax"].fn is act.softmax
    assert act.ACTIVATIONS["sigmoid"].derivative is act.sigmoid_prime
    assert act.ACTIVATIONS["leaky_relu"].fn is act.leaky_relu
    for key, a in act.ACTIVATIONS.items():
        assert a.name == ("identity" if key == "linear" else key)


def test_get_activation():
    assert act.get_activation("ReLU") is act.ACTIVATIONS["relu"]
    assert act.get_activation("linear").fn is act.identity
    custom = act.Activation("square", np.square, lambda z: 2 * z)
    assert act.get_activation(custom) is custom
    with pytest.raises(ValueError, match="valid names: .*sigmoid"):
        act.get_activation("swish")
    with pytest.raises(TypeError):
        act.get_activation(42)
    with pytest.raises(AttributeError):  # frozen dataclass
        act.ACTIVATIONS["relu"].name = "other"  # type: ignore[misc]
