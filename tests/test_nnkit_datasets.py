"""Tests for nnkit.datasets (and smoke tests for nnkit.plotting, which draws those datasets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnkit import (  # noqa: E402
    GATES,
    load_digits_8x8,
    logic_gate,
    make_circles,
    make_spirals,
    plot_decision_boundary,
    plot_history,
    show_digits,
)

# ---------------------------------------------------------------------------------------
# Logic gates
# ---------------------------------------------------------------------------------------

TRUTH_TABLES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
}


@pytest.mark.parametrize("name", ["AND", "OR", "XOR"])
@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.title])
def test_logic_gate_truth_table(name: str, spelling) -> None:
    X, y = logic_gate(spelling(name))
    assert X.shape == (4, 2) and X.dtype == np.float64
    assert y.shape == (4,) and y.dtype == np.int64
    assert X.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == TRUTH_TABLES[name]


def test_logic_gate_outputs_follow_the_operators() -> None:
    ops = {"AND": np.logical_and, "OR": np.logical_or, "XOR": np.logical_xor}
    for name, op in ops.items():
        X, y = logic_gate(name)
        np.testing.assert_array_equal(y, op(X[:, 0] > 0, X[:, 1] > 0).astype(np.int64))


def test_gates_constant_and_unknown_name() -> None:
    assert GATES == ("AND", "OR", "XOR")
    with pytest.raises(ValueError, match="AND, OR, XOR"):
        logic_gate("NAND")


def test_logic_gate_returns_fresh_arrays() -> None:
    X, y = logic_gate("AND")
    X[0, 0] = 42
    y[0] = 7
    X2, y2 = logic_gate("AND")
    assert X2[0, 0] == 0 and y2[0] == 0


# ---------------------------------------------------------------------------------------
# Circles
# ---------------------------------------------------------------------------------------


def test_circles_shapes_and_labels() -> None:
    X, y = make_circles(n=50)
    assert X.shape == (100, 2) and X.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.int64
    assert y[:50].tolist() == [0] * 50 and y[50:].tolist() == [1] * 50


def test_circles_deterministic_per_seed() -> None:
    X1, y1 = make_circles(seed=3)
    X2, y2 = make_circles(seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make_circles(seed=4)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize(("r1", "r2", "noise"), [(2.0, 0.5, 0.1), (1.0, 3.0, 0.2)])
def test_circles_radii_and_angles(r1: float, r2: float, noise: float) -> None:
    n = 400
    X, y = make_circles(r1=r1, r2=r2, n=n, noise=noise, seed=1)
    radius = np.hypot(X[:, 0], X[:, 1])
    for cls, r in ((0, r1), (1, r2)):
        rho = radius[y == cls]
        # The mean of n draws of r + noise*N(0,1) is within a few standard errors of r.
        assert abs(rho.mean() - r) < 4 * noise / np.sqrt(n)
        assert 0.8 * noise < rho.std() < 1.2 * noise
    # Angles are evenly spaced from 0 to 2π for each class.
    phi = np.linspace(0, 2 * np.pi, n)
    for cls in (0, 1):
        pts = X[y == cls]
        angles = np.arctan2(pts[:, 1], pts[:, 0])
        np.testing.assert_allclose(np.cos(angles), np.cos(phi), atol=1e-12)
        np.testing.assert_allclose(np.sin(angles), np.sin(phi), atol=1e-12)


def test_circles_without_noise_are_exact() -> None:
    X, y = make_circles(r1=2.0, r2=0.5, n=10, noise=0.0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 2.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.5)
    np.testing.assert_allclose(X[0], [2.0, 0.0])


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 2.5}, {"noise": -0.1}])
def test_circles_reject_bad_arguments(kwargs) -> None:
    with pytest.raises(ValueError):
        make_circles(**kwargs)


# ---------------------------------------------------------------------------------------
# Spirals
# ---------------------------------------------------------------------------------------


def test_spirals_shapes_and_labels() -> None:
    X, y = make_spirals(n=60)
    assert X.shape == (120, 2) and X.dtype == np.float64
    assert y.shape == (120,) and y.dtype == np.int64
    assert (y == 0).sum() == 60 and (y == 1).sum() == 60
    assert y[:60].tolist() == [0] * 60


@pytest.mark.parametrize(("a", "r"), [(1.0, 1.0), (0.5, 2.0), (2.0, 0.5)])
def test_spiral_arms_are_point_reflections(a: float, r: float) -> None:
    n = 80
    X, y = make_spirals(n=n, a=a, r=r)
    np.testing.assert_array_equal(X[y == 1], -X[y == 0])
    theta = np.linspace(0, 4 * np.pi, n)
    expected = a * theta ** (1 / r)
    np.testing.assert_allclose(np.hypot(*X[:n].T), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X[:n, 0], expected * np.sin(theta), atol=1e-12)
    np.testing.assert_allclose(X[:n, 1], expected * np.cos(theta), atol=1e-12)


def test_spirals_noise_is_seeded() -> None:
    clean, _ = make_spirals(noise=0.0)
    X1, _ = make_spirals(noise=0.2, seed=5)
    X2, _ = make_spirals(noise=0.2, seed=5)
    X3, _ = make_spirals(noise=0.2, seed=6)
    np.testing.assert_array_equal(X1, X2)
    assert not np.allclose(X1, X3)
    residual = X1 - clean
    assert 0.15 < residual.std() < 0.25
    assert abs(residual.mean()) < 0.05


def test_spirals_reject_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_spirals(r=0)
    with pytest.raises(ValueError):
        make_spirals(noise=-1)
    with pytest.raises(ValueError):
        make_spirals(n=0)


# ---------------------------------------------------------------------------------------
# 8x8 digits
# ---------------------------------------------------------------------------------------


def test_digits_8x8() -> None:
    X, y = load_digits_8x8()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(10))
    assert X.min() == 0 and X.max() == 16


def test_digits_8x8_as_frame() -> None:
    X, y = load_digits_8x8(as_frame=True)
    assert X.shape == (1797, 64)
    assert y.shape == (1797,)
    assert str(y.dtype) == "int64"


# ---------------------------------------------------------------------------------------
# Plotting smoke tests (Agg backend, nothing is shown)
# ---------------------------------------------------------------------------------------


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


@pytest.mark.usefixtures("close_figures")
@pytest.mark.parametrize("output", ["labels", "probability", "scores"])
def test_plot_decision_boundary(output: str) -> None:
    X, y = make_circles(n=30)
    seen = []

    def predict(points: np.ndarray) -> np.ndarray:
        seen.append(points.shape)
        inside = (np.hypot(points[:, 0], points[:, 1]) < 1.25).astype(np.int64)
        if output == "labels":
            return inside
        if output == "probability":
            return inside.astype(np.float32)[:, None]
        return np.column_stack([1 - inside, inside]).astype(np.float32)

    ax = plot_decision_boundary(predict, X, y, resolution=50)
    assert seen == [(2500, 2)]
    assert len(ax.collections) >= 2  # filled contours and the scatter
    x0, x1 = ax.get_xlim()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max()


@pytest.mark.usefixtures("close_figures")
def test_show_digits_and_history() -> None:
    X, y = load_digits_8x8()
    fig = show_digits(X[:12], labels=y[:12], predictions=np.roll(y[:12], 1), ncols=6)
    assert len(fig.axes) == 12
    assert fig.axes[0].get_title() != ""

    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    fig = plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 1
    with pytest.raises(ValueError, match="not in history"):
        plot_history(history, metrics=["mae"])
