"""The single neuron and Rosenblatt's rule, checked against hand-computed lecture values,
finite differences and scikit-learn."""

import math

import numpy as np
import pytest

from nnkit.datasets import logic_gate
from reference_impl import perceptron as pc
from reference_impl.gradcheck import relative_error

X_OR, Y_OR = logic_gate("OR")
W_LECTURE, B_LECTURE = np.array([1.0, -1.0]), -0.5


def sig(h: float) -> float:
    return 1.0 / (1.0 + math.exp(-h))


# ------------------------------------------------------------------ the forward pass


def test_lecture_table_on_or_data():
    """The completed table of lectures 000/001, row by row, with the corrected third row."""
    table = pc.perceptron_table(X_OR, Y_OR, W_LECTURE, B_LECTURE)
    assert list(table.columns) == ["x1", "x2", "y", "h", "p", "y_hat"]
    np.testing.assert_array_equal(table["h"], [-0.5, -1.5, 0.5, -0.5])
    np.testing.assert_allclose(table["p"], [sig(-0.5), sig(-1.5), sig(0.5), sig(-0.5)], rtol=1e-15)
    np.testing.assert_allclose(table["p"].round(2), [0.38, 0.18, 0.62, 0.38])
    np.testing.assert_array_equal(table["y_hat"], [0, 0, 1, 0])


def test_tie_goes_to_class_one_unlike_python_round():
    # h = 0 exactly, so p = 0.5. Python and NumPy round half to even: both give 0.
    assert round(0.5) == 0 and np.round(0.5) == 0
    assert pc.neuron_predict([[0.0, 0.0]], [1.0, 1.0], 0.0).tolist() == [1]
    assert pc.neuron_predict([[1.0, 0.0]], [1.0, 1.0], -1.0 - 1e-12).tolist() == [0]


def test_weighted_sum_shape_errors_are_clear():
    with pytest.raises(ValueError, match="3 weights but X has 2 columns"):
        pc.weighted_sum(X_OR, [1, 2, 3], 0.0)


# ------------------------------------------------------------------ loss and chain rule


def test_chain_rule_factors_at_first_observation():
    """x = (0, 0), y = 0: p = σ(−0.5); ∂l/∂p = 2p; ∂p/∂h = p(1 − p); ∂h/∂w = x = 0."""
    f = pc.chain_rule_factors(X_OR[0], Y_OR[0], W_LECTURE, B_LECTURE)
    p = sig(-0.5)
    assert f["dl_dp"] == pytest.approx(2 * p, rel=1e-15)
    assert f["dp_dh"] == pytest.approx(p * (1 - p), rel=1e-15)
    np.testing.assert_array_equal(f["dl_dw"], [0.0, 0.0])
    assert f["dl_db"] == pytest.approx(2 * p * p * (1 - p), rel=1e-15)


def test_chain_rule_matches_finite_differences():
    rng = np.random.default_rng(1)
    for _ in range(20):
        x, w, b, y = rng.normal(size=3), rng.normal(size=3), rng.normal(), rng.integers(0, 2)

        def loss(w=w, b=b, x=x, y=y):
            return float(pc.squared_loss(y, pc.neuron_proba(x, w, b))[0])

        h = 1e-6
        num_w = [(loss(w + h * e) - loss(w - h * e)) / (2 * h) for e in np.eye(3)]
        num_b = (loss(b=b + h) - loss(b=b - h)) / (2 * h)
        f = pc.chain_rule_factors(x, y, w, b)
        assert relative_error(f["dl_dw"], num_w) < 1e-7
        assert relative_error(f["dl_db"], num_b) < 1e-7


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_dataset_gradient_matches_finite_differences(reduction):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, 30)
    w, b = rng.normal(size=4), 0.3
    scale = 1 / 30 if reduction == "mean" else 1.0

    def L(w, b):
        return scale * pc.squared_loss(y, pc.neuron_proba(X, w, b)).sum()

    h = 1e-6
    num_w = [(L(w + h * e, b) - L(w - h * e, b)) / (2 * h) for e in np.eye(4)]
    num_b = (L(w, b + h) - L(w, b - h)) / (2 * h)
    gw, gb = pc.squared_loss_gradient(X, y, w, b, reduction)
    assert relative_error(gw, num_w) < 1e-7
    assert relative_error(gb, num_b) < 1e-7


# ------------------------------------------------------------------ gradient descent


def test_gradient_descent_on_or_from_the_lecture_start():
    result = pc.gradient_descent(X_OR, Y_OR, W_LECTURE, B_LECTURE, eta=1.0, steps=500)
    history = np.array(result.loss_history)
    assert len(history) == 501
    assert np.all(np.diff(history) < 0), "full-batch descent with a small step must decrease"
    np.testing.assert_array_equal(pc.neuron_predict(X_OR, result.w, result.b), Y_OR)


def test_one_gradient_descent_step_by_hand():
    """One step on the OR data from the lecture's weights, computed term by term."""
    eta = 0.5
    ps = [sig(h) for h in (-0.5, -1.5, 0.5, -0.5)]
    deltas = [2 * (p - y) * p * (1 - p) for p, y in zip(ps, [0, 1, 1, 1], strict=True)]
    gw1 = sum(d * x1 for d, (x1, _) in zip(deltas, X_OR, strict=True)) / 4
    gw2 = sum(d * x2 for d, (_, x2) in zip(deltas, X_OR, strict=True)) / 4
    gb = sum(deltas) / 4
    result = pc.gradient_descent(X_OR, Y_OR, W_LECTURE, B_LECTURE, eta=eta, steps=1)
    np.testing.assert_allclose(result.w, [1 - eta * gw1, -1 - eta * gw2], rtol=1e-14)
    assert result.b == pytest.approx(-0.5 - eta * gb, rel=1e-14)


# ------------------------------------------------------------------ Rosenblatt's rule


@pytest.mark.parametrize("gate", ["AND", "OR"])
def test_rosenblatt_separates_linearly_separable_gates(gate):
    X, y = logic_gate(gate)
    result = pc.rosenblatt_fit(X, y, eta=0.1, epochs=50)
    assert result.converged
    assert result.errors_per_epoch[-1] == 0
    np.testing.assert_array_equal(pc.rosenblatt_predict(X, result.weights), pc.to_pm1(y))


def test_rosenblatt_never_converges_on_xor():
    X, y = logic_gate("XOR")
    result = pc.rosenblatt_fit(X, y, eta=0.1, epochs=100)
    assert not result.converged
    assert result.epochs_run == 100
    assert min(result.errors_per_epoch) >= 1  # every epoch misclassifies at least one row
    predictions = pc.rosenblatt_predict(X, result.weights)
    assert np.sum(predictions != pc.to_pm1(y)) >= 1


def test_rosenblatt_updates_only_on_mistakes():
    """Start from weights that already separate AND: nothing may change."""
    X, y = logic_gate("AND")
    w0 = np.array([-1.5, 1.0, 1.0])  # θ = 1.5: only (1, 1) reaches it
    result = pc.rosenblatt_fit(X, y, eta=0.1, epochs=5, w0=w0)
    assert result.converged and result.errors_per_epoch == [0]
    np.testing.assert_array_equal(result.weights, w0)


def test_rosenblatt_first_epoch_by_hand():
    """AND, η = 0.1, w = 0: row (0,0) has z = 0 → ŷ = +1, wrong (y = −1) → w = −0.2·(1,0,0)."""
    X, y = logic_gate("AND")
    result = pc.rosenblatt_fit(X, y, eta=0.1, epochs=1)
    # (0,0): z=0 → +1 ≠ −1: w = (−0.2, 0, 0). (0,1): z=−0.2 → −1 ok. (1,0): ok.
    # (1,1): z=−0.2 → −1 ≠ +1: w += 0.2·(1,1,1) → (0, 0.2, 0.2).
    np.testing.assert_allclose(result.weights, [0.0, 0.2, 0.2], atol=1e-15)
    assert result.errors_per_epoch == [2]


def test_rosenblatt_converges_on_a_random_separable_set():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    y = np.where(X @ [2.0, -1.0] + 0.3 > 0, 1, -1)
    result = pc.rosenblatt_fit(X, y, eta=1.0, epochs=500)
    assert result.converged
    np.testing.assert_array_equal(pc.rosenblatt_predict(X, result.weights), y)


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="labels must be 0/1"):
        pc.to_pm1([0, 1, 2])


def test_gradient_descent_with_a_supplied_gradient_follows_it():
    """With the reference gradient passed in explicitly the run is identical; with half of it
    (a student who dropped the factor 2) the steps are those of η/2."""
    X, y = logic_gate("AND")
    plain = pc.gradient_descent(X, y, W_LECTURE, B_LECTURE, eta=1.0, steps=20)
    explicit = pc.gradient_descent(
        X, y, W_LECTURE, B_LECTURE, eta=1.0, steps=20, gradient_fn=pc.squared_loss_gradient
    )
    np.testing.assert_array_equal(plain.loss_history, explicit.loss_history)

    def half(X, y, w, b):
        gw, gb = pc.squared_loss_gradient(X, y, w, b)
        return gw / 2, gb / 2

    halved = pc.gradient_descent(X, y, W_LECTURE, B_LECTURE, eta=1.0, steps=20, gradient_fn=half)
    slower = pc.gradient_descent(X, y, W_LECTURE, B_LECTURE, eta=0.5, steps=20)
    np.testing.assert_allclose(halved.loss_history, slower.loss_history, rtol=1e-14)
