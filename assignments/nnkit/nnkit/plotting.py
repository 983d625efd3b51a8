"""Small matplotlib helpers for the course notebooks.

Every function draws and returns the matplotlib object it drew on; none of them calls
``plt.show()``, so they work in notebooks, scripts and on headless machines alike. pyplot
is imported only when a function runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_decision_boundary", "plot_history", "show_digits"]


def _class_labels(scores: np.ndarray) -> np.ndarray:
    """Turn a model's output on a grid into one class label per grid point."""
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.argmax(scores, axis=1)
    scores = scores.reshape(-1)
    if scores.dtype.kind == "f":
        return (scores >= 0.5).astype(np.int64)
    return scores.astype(np.int64)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], ArrayLike],
    X: ArrayLike,
    y: ArrayLike | None = None,
    ax: Axes | None = None,
    resolution: int = 200,
    margin: float = 0.5,
) -> Axes:
    """Shade the regions a classifier assigns to each class, over 2-D data.

    Parameters
    ----------
    predict:
        Called once with a (m, 2) float array of grid points. It may return class labels
        (integers), one probability per point (floats, thresholded at 0.5), or a (m, k)
        array of scores/probabilities (the largest wins). A Keras model's ``predict``
        method and a scikit-learn estimator's ``predict`` both fit.
    X:
        The data, shape (n, 2); sets the plotted range and is drawn as points.
    y:
        Optional labels used to colour the points.
    ax:
        Axes to draw on; a new figure is created if omitted.
    resolution:
        Grid points along each axis.
    margin:
        Extra space around the data, in data units.

    Returns
    -------
    The Axes drawn on.
    """
    import matplotlib.pyplot as plt

    points = np.asarray(X, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {points.shape}")
    if ax is None:
        _, ax = plt.subplots()

    lo = points.min(axis=0) - margin
    hi = points.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    zz = _class_labels(np.asarray(predict(grid))).reshape(xx.shape)

    n_classes = int(max(zz.max(), 0 if y is None else np.max(y))) + 1
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xx, yy, zz, levels=levels, cmap="coolwarm", alpha=0.3)
    if y is None:
        ax.scatter(points[:, 0], points[:, 1], s=12, color="k")
    else:
        ax.scatter(
            points[:, 0],
            points[:, 1],
            c=np.asarray(y),
            cmap="coolwarm",
            vmin=0,
            vmax=max(n_classes - 1, 1),
            s=12,
            edgecolors="k",
            linewidths=0.3,
        )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    return ax


def show_digits(
    images: ArrayLike,
    labels: ArrayLike | None = None,
    predictions: ArrayLike | None = None,
    ncols: int = 10,
    max_images: int = 50,
) -> Figure:
    """Show digit images in a grid, optionally titled with true and predicted labels.

    Parameters
    ----------
    images:
        Shape (n, h, w), or (n, h*w) for square images (784 = 28x28, 64 = 8x8).
    labels:
        Optional true labels, shown above each image.
    predictions:
        Optional predicted labels; wrong ones are titled in red.
    ncols:
        Images per row.
    max_images:
        Show at most this many (the first ones).

    Returns
    -------
    The Figure.
    """
    import matplotlib.pyplot as plt

    imgs = np.asarray(images)
    if imgs.ndim == 2:
        side = int(round(np.sqrt(imgs.shape[1])))
        if side * side != imgs.shape[1]:
            raise ValueError(f"cannot reshape rows of length {imgs.shape[1]} to square images")
        imgs = imgs.reshape(-1, side, side)
    if imgs.ndim != 3:
        raise ValueError(f"images must have shape (n, h, w) or (n, h*w), got {imgs.shape}")
    count = min(len(imgs), max_images)
    if count == 0:
        raise ValueError("no images to show")
    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)

    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.4 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= count:
            continue
        ax.imshow(imgs[i], cmap="gray_r", interpolation="nearest")
        title = []
        if labels is not None:
            title.append(f"{np.asarray(labels)[i]}")
        if predictions is not None:
            pred = np.asarray(predictions)[i]
            title.append(f"→{pred}")
            wrong = labels is not None and pred != np.asarray(labels)[i]
            ax.set_title(" ".join(title), fontsize=8, color="red" if wrong else "black")
        elif title:
            ax.set_title(title[0], fontsize=8)
    fig.tight_layout()
    return fig


def _history_dict(history: Any) -> dict[str, Sequence[float]]:
    """Accept a Keras ``History``, its ``.history`` dict, or a pandas DataFrame."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history
    if hasattr(history, "to_dict") and hasattr(history, "columns"):
        return {str(col): list(history[col]) for col in history.columns}
    if isinstance(history, Mapping):
        return {str(key): list(values) for key, values in history.items()}
    raise TypeError(
        "history must be a Keras History, a dict of per-epoch lists, or a pandas DataFrame"
    )


def plot_history(history: Any, metrics: Sequence[str] | None = None) -> Figure:
    """Plot training curves, one panel per metric, validation next to training.

    Parameters
    ----------
    history:
        A Keras ``History`` object (what ``model.fit`` returns), its ``.history`` dict, any
        dict mapping metric names to per-epoch values, or a pandas DataFrame of those.
    metrics:
        Names to plot (without the ``val_`` prefix); by default every metric found.

    Returns
    -------
    The Figure.
    """
    import matplotlib.pyplot as plt

    curves = _history_dict(history)
    if metrics is None:
        metrics = [k for k in curves if not k.startswith("val_")]
        metrics += [k[4:] for k in curves if k.startswith("val_") and k[4:] not in curves]
    if not metrics:
        raise ValueError("history contains no metrics to plot")
    unknown = [m for m in metrics if m not in curves and f"val_{m}" not in curves]
    if unknown:
        raise ValueError(f"metrics not in history: {unknown}; available: {sorted(curves)}")

    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, name in zip(axes.flat, metrics, strict=True):
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in curves:
                values = np.asarray(curves[key], dtype=np.float64)
                ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    return fig
