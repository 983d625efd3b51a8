"""reference_impl.backprop against independent checks: centred finite differences of the loss
written out here in plain NumPy (float64), the lecture's matrix formulas written by hand, and
the parameter count the lecture states for 64-50-10."""

import numpy as np
import pytest

from reference_impl.backprop import lecture_cost_and_gradients, n_parameters, squared_loss_network
from reference_impl.gradcheck import numerical_gradient, relative_error


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("seed", range(5))
def test_squared_loss_network_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    d, hidden = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    x, y = rng.normal(size=d), float(rng.integers(0, 2))
    W_h, b_h, w_o = rng.normal(size=(d, hidden)), rng.normal(size=hidden), rng.normal(size=hidden)
    b_o = np.array([rng.normal()])

    def loss():
        p = _sigmoid(_sigmoid(x @ W_h + b_h) @ w_o + b_o[0])
        return (y - p) ** 2

    got = squared_loss_network(x, y, W_h, b_h, w_o, b_o[0])
    numeric = numerical_gradient(loss, [w_o, b_o, W_h, b_h])
    assert got["loss"] == pytest.approx(loss(), rel=1e-14)
    for key, expected in zip(("dw_o", "db_o", "dW_h", "db_h"), numeric, strict=True):
        # finite differences carry ~1e-10 of absolute noise, so small entries get an atol
        np.testing.assert_allclose(np.reshape(got[key], expected.shape), expected, rtol=1e-6,
                                   atol=1e-8, err_msg=key)


def test_squared_loss_network_hidden_gradient_has_the_factors_the_slides_drop():
    rng = np.random.default_rng(7)
    x, W_h, b_h, w_o = rng.normal(size=2), rng.normal(size=(2, 3)), rng.normal(size=3), \
        rng.normal(size=3)
    got = squared_loss_network(x, 1.0, W_h, b_h, w_o, 0.3)
    h, p = got["h"], got["p"]
    slides = (p - 1) * p * (1 - p) * h * (1 - h) * x[0]  # no 2, no w_oj
    np.testing.assert_allclose(got["dW_h"][0], 2 * slides * w_o, rtol=1e-13)
    np.testing.assert_allclose(got["dw_o"], 2 * (p - 1) * p * (1 - p) * h, rtol=1e-13)


@pytest.mark.parametrize("lmbd", [0.0, 0.3])
@pytest.mark.parametrize("seed", range(3))
def test_lecture_cost_and_gradients(seed, lmbd):
    rng = np.random.default_rng(seed)
    n, d, hidden, k = 6, int(rng.integers(2, 7)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
    X = rng.normal(size=(n, d))
    Y = np.eye(k)[rng.integers(0, k, n)]
    W_h, b_h = rng.normal(size=(d, hidden)), rng.normal(size=hidden)
    W_o, b_o = rng.normal(size=(hidden, k)), rng.normal(size=k)

    def cost():  # the lecture's summed cost, written out
        A_h = _sigmoid(X @ W_h + b_h)
        Z = A_h @ W_o + b_o
        log_p = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
        return -np.sum(Y * log_p) + lmbd / 2 * (np.sum(W_h**2) + np.sum(W_o**2))

    got_cost, got = lecture_cost_and_gradients(X, Y, W_h, b_h, W_o, b_o, lmbd)
    assert got_cost == pytest.approx(cost(), rel=1e-12)
    numeric = numerical_gradient(cost, [W_o, b_o, W_h, b_h])
    for g, num in zip(got, numeric, strict=True):
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)

    # the lecture's matrix formulas, by hand
    A_h = _sigmoid(X @ W_h + b_h)
    P = np.exp(A_h @ W_o + b_o)
    P /= P.sum(axis=1, keepdims=True)
    delta_h = ((P - Y) @ W_o.T) * A_h * (1 - A_h)
    by_hand = [A_h.T @ (P - Y) + lmbd * W_o, (P - Y).sum(0), X.T @ delta_h + lmbd * W_h,
               delta_h.sum(0)]
    for g, h in zip(got, by_hand, strict=True):
        assert relative_error(g, h) < 1e-12


def test_parameter_count_of_the_lecture_network():
    assert n_parameters([64, 50, 10]) == 3760  # (64+1)·50 + (50+1)·10, as lecture 004 says
    assert n_parameters((784, 512, 10)) == 407_050
    assert n_parameters([3, 1]) == 4
