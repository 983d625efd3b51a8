"""A feed-forward network of any depth, trained by backpropagation on minibatches.

Notation (rows are samples, as in lecture 004). For a batch X of shape (N, d0) and layers
l = 1..L with weights W_l of shape (d_{l-1}, d_l) and biases b_l of shape (d_l,)::

    A_0 = X
    Z_l = A_{l-1} W_l + b_l            forward
    A_l = f_l(Z_l)

The objective is the mean data loss plus an L2 penalty on the weights (never the biases)::

    J = loss(Y, A_L) + (λ/2) Σ_l ||W_l||²

Backward pass, with δ_l = ∂J/∂Z_l::

    δ_L = f_L'(Z_L) ⊙ ∂loss/∂A_L        (softmax: the vector–Jacobian product)
    δ_L = (A_L − Y) / N                 (softmax + categorical cross-entropy, fused)
    δ_L = (A_L − Y) / (N K)             (sigmoid + binary cross-entropy, fused)
    ∂J/∂W_l = A_{l-1}ᵀ δ_l + λ W_l      (L2 done right: λ times the *weights*)
    ∂J/∂b_l = Σ_rows δ_l
    δ_{l-1} = (δ_l W_lᵀ) ⊙ f_{l-1}'(Z_{l-1})

The API follows scikit-learn: hyperparameters in ``__init__``, learned state in attributes with
a trailing underscore (``weights_``, ``biases_``, ``classes_``, ``history_``) set by ``fit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from reference_impl import activations as act
from reference_impl import losses
from reference_impl.data import minibatch_indices
from reference_impl.optimizers import Optimizer, get_optimizer

__all__ = ["MLP", "mnist_mlp"]

EpochCallback = Callable[["MLP", dict], None]


class MLP:
    """Multilayer perceptron with one activation per layer.

    Parameters
    ----------
    layer_sizes : sizes (d0, d1, ..., dL), input size first, e.g. (784, 512, 10).
    activations : one name per weight layer (length L), or a single name for all hidden layers
        with ``output_activation`` for the last.
    output_activation : used when ``activations`` is a single name. Default "softmax".
    loss : "categorical_crossentropy", "binary_crossentropy" or "mse".
    optimizer : a name ("sgd", "momentum", "rmsprop", "adam") or an ``Optimizer`` instance.
    learning_rate : passed to the optimizer when it is given by name (else its own default).
    l2 : λ of the penalty (λ/2) Σ ||W||².
    batch_size, epochs : minibatch size and number of passes over the data. Each epoch visits
        every sample once, in an order drawn from a generator seeded with ``seed``.
    seed : seeds the weight initialisation and the shuffling.
    dtype : np.float64 (default, for checking) or np.float32 (for speed).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activations: str | Sequence[str] = "relu",
        output_activation: str = "softmax",
        loss: str = "categorical_crossentropy",
        optimizer: str | Optimizer = "sgd",
        learning_rate: float | None = None,
        l2: float = 0.0,
        batch_size: int = 32,
        epochs: int = 10,
        seed: int | None = 0,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activations = activations
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.l2 = l2
        self.batch_size = batch_size
        self.epochs = epochs
        self.seed = seed
        self.dtype = dtype
        if len(self.layer_sizes) < 2:
            raise ValueError("layer_sizes needs at least an input and an output size")
        self._activations = self._resolve_activations()
        self._loss = losses.get_loss(loss)
        self.initialize()

    # ------------------------------------------------------------------ set-up

    def _resolve_activations(self) -> list[act.Activation]:
        n_layers = len(self.layer_sizes) - 1
        if isinstance(self.activations, str):
            names = [self.activations] * (n_layers - 1) + [self.output_activation]
        else:
            names = list(self.activations)
        if len(names) != n_layers:
            raise ValueError(f"{n_layers} weight layers need {n_layers} activations, got {names}")
        resolved = [act.get_activation(name) for name in names]
        if any(a.name == "softmax" for a in resolved[:-1]):
            raise ValueError("softmax is only supported as the output activation")
        return resolved

    def initialize(self) -> MLP:
        """Glorot-uniform weights (Keras's default) and zero biases, from ``seed``.

        W_l ~ U(−r, r) with r = √(6 / (d_{l-1} + d_l)).
        """
        rng = np.random.default_rng(self.seed)
        self.weights_: list[np.ndarray] = []
        self.biases_: list[np.ndarray] = []
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(self.dtype)
            self.weights_.append(w)
            self.biases_.append(np.zeros(fan_out, dtype=self.dtype))
        self.history_: list[dict] = []
        self._optimizer = get_optimizer(
            self.optimizer,
            **({} if self.learning_rate is None else {"learning_rate": self.learning_rate}),
        )
        self._rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        return self

    def parameters(self) -> list[np.ndarray]:
        """The live parameter arrays, in the order W_1, b_1, W_2, b_2, ..."""
        return [p for pair in zip(self.weights_, self.biases_, strict=True) for p in pair]

    def set_parameters(self, params: Sequence[ArrayLike]) -> MLP:
        """Copy values into the parameters (same order and shapes as ``parameters()``)."""
        live = self.parameters()
        if len(params) != len(live):
            raise ValueError(f"expected {len(live)} arrays, got {len(params)}")
        for dst, src in zip(live, params, strict=True):
            src = np.asarray(src)
            if src.shape != dst.shape:
                raise ValueError(f"shape mismatch: {src.shape} vs {dst.shape}")
            dst[...] = src
        return self

    @property
    def n_parameters(self) -> int:
        """Σ_l (d_{l-1} + 1) d_l, e.g. 407,050 for 784-512-10."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------------ forward / backward

    def _forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return the pre-activations Z_1..Z_L and activations A_0..A_L."""
        A = [X]
        Z = []
        for W, b, f in zip(self.weights_, self.biases_, self._activations, strict=True):
            z = A[-1] @ W
            z += b
            Z.append(z)
            A.append(f.fn(z))
        return Z, A

    def _fused_output(self) -> bool:
        out = self._activations[-1].name
        return (out, self._loss.name) in {
            ("softmax", "categorical_crossentropy"),
            ("sigmoid", "binary_crossentropy"),
        }

    def _data_loss(self, Y: np.ndarray, Z_L: np.ndarray, A_L: np.ndarray) -> float:
        # From logits where that is possible: exact and stable even for saturated outputs.
        if self._fused_output():
            if self._loss.name == "categorical_crossentropy":
                return float(losses.categorical_cross_entropy_from_logits(Y, Z_L))
            return float(losses.binary_cross_entropy_from_logits(Y, Z_L))
        return float(self._loss.fn(Y, A_L))

    def _output_delta(self, Y: np.ndarray, Z_L: np.ndarray, A_L: np.ndarray) -> np.ndarray:
        if self._fused_output():
            scale = Y.shape[0] if self._loss.name == "categorical_crossentropy" else Y.size
            return (A_L - Y) / np.asarray(scale, dtype=A_L.dtype)
        dA = self._loss.gradient(Y, A_L)
        out = self._activations[-1]
        if out.name == "softmax":
            return act.softmax_jvp(Z_L, dA)
        return out.derivative(Z_L) * dA

    def loss_and_gradients(
        self, X: ArrayLike, Y: ArrayLike, out: list[np.ndarray] | None = None
    ) -> tuple[float, list[np.ndarray]]:
        """J and ∂J/∂θ for every parameter, in the order of ``parameters()``.

        ``Y`` is the target array in the output layer's shape (one-hot rows for softmax).
        With ``out`` (arrays shaped like ``parameters()``), the gradients are written there
        and returned: ``fit`` reuses one set of buffers instead of allocating a fresh
        1.6 MB weight gradient at every step, which costs page faults on the hot path.
        """
        X = np.asarray(X, dtype=self.dtype)
        Y = np.asarray(Y, dtype=self.dtype)
        if Y.ndim == 1:
            Y = Y[:, None]
        Z, A = self._forward(X)
        loss = self._data_loss(Y, Z[-1], A[-1])
        if self.l2:
            loss += 0.5 * self.l2 * sum(float(np.sum(W * W)) for W in self.weights_)
        delta = self._output_delta(Y, Z[-1], A[-1])
        grads = out if out is not None else [np.empty_like(p) for p in self.parameters()]
        for layer in range(len(self.weights_) - 1, -1, -1):
            W = self.weights_[layer]
            dW = np.matmul(A[layer].T, delta, out=grads[2 * layer])
            if self.l2:
                dW += self.l2 * W
            np.sum(delta, axis=0, out=grads[2 * layer + 1])
            if layer > 0:
                delta = delta @ W.T
                f = self._activations[layer - 1]
                if f.name == "relu":  # the hot path on MNIST: mask in place
                    delta *= Z[layer - 1] > 0
                else:
                    delta *= f.derivative(Z[layer - 1])
        return loss, grads

    # ------------------------------------------------------------------ targets

    def _fit_targets(self, y: ArrayLike) -> np.ndarray:
        """Targets in the output layer's shape, and ``classes_`` for ``predict``.

        Rows already shaped (N, K) are used as they are. Labels for a softmax output are one-hot
        encoded (labels 0..K-1 when fewer than K distinct ones appear); otherwise y is one column.
        """
        y = np.asarray(y)
        n_out = self.layer_sizes[-1]
        if y.ndim == 2 and y.shape[1] == n_out:
            self.classes_ = np.arange(n_out)
            return y.astype(self.dtype)
        y = y.reshape(-1)
        if self._activations[-1].name != "softmax":
            self.classes_ = np.array([0, 1])
            return y.astype(self.dtype)[:, None]
        self.classes_ = np.unique(y)
        if len(self.classes_) > n_out:
            raise ValueError(f"{len(self.classes_)} classes but {n_out} output units")
        if len(self.classes_) < n_out:
            self.classes_ = np.arange(n_out)
            if np.any(~np.isin(y, self.classes_)):
                raise ValueError(f"with fewer than {n_out} classes, labels must be 0..{n_out - 1}")
        onehot = np.zeros((len(y), n_out), dtype=self.dtype)
        onehot[np.arange(len(y)), np.searchsorted(self.classes_, y)] = 1
        return onehot

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        epochs: int | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> MLP:
        """Train with minibatches for ``epochs`` passes (default ``self.epochs``).

        Calling ``fit`` again continues from the current weights and optimizer state; call
        ``initialize()`` first to start over. ``history_`` gets one dict per epoch with the
        mean training loss and the epoch's wall time; ``on_epoch_end(model, entry)`` may add to
        it (the demo adds test accuracy).
        """
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = self._fit_targets(y)
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}")
        n = X.shape[0]
        params = self.parameters()
        grads = [np.empty_like(p) for p in params]
        for _ in range(self.epochs if epochs is None else epochs):
            start = time.perf_counter()
            total = 0.0
            for idx in minibatch_indices(n, self.batch_size, self._rng):  # X and Y stay paired
                loss, _ = self.loss_and_gradients(X[idx], Y[idx], out=grads)
                self._optimizer.update(params, grads)
                total += loss * len(idx)
            entry = {
                "epoch": len(self.history_) + 1,
                "loss": total / n,
                "seconds": time.perf_counter() - start,
            }
            self.history_.append(entry)
            if on_epoch_end is not None:
                on_epoch_end(self, entry)
        return self

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: ArrayLike, batch_size: int = 4096) -> np.ndarray:
        """The output layer A_L for every row of X (probabilities for softmax/sigmoid)."""
        X = np.asarray(X, dtype=self.dtype)
        return np.concatenate(
            [self._forward(X[lo : lo + batch_size])[1][-1] for lo in range(0, len(X), batch_size)]
        )

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels: argmax for softmax, p ≥ 0.5 for a sigmoid unit; raw outputs otherwise."""
        out = self.predict_proba(X)
        name = self._activations[-1].name
        classes = getattr(self, "classes_", np.arange(max(2, out.shape[1])))
        if name == "softmax":
            return classes[np.argmax(out, axis=1)]
        if name == "sigmoid":
            labels = (out >= 0.5).astype(np.int64)
            return classes[labels[:, 0]] if out.shape[1] == 1 else labels
        return out[:, 0] if out.shape[1] == 1 else out

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy for classifiers (softmax/sigmoid output); R² for regression."""
        y = np.asarray(y)
        pred = self.predict(X)
        if self._activations[-1].name in ("softmax", "sigmoid"):
            if y.ndim == 2 and y.shape[1] > 1:
                y = self.classes_[np.argmax(y, axis=1)]
            return float(np.mean(pred == y.reshape(pred.shape)))
        pred = pred.reshape(y.shape)
        ss_res = float(np.sum((y - pred) ** 2))
        ss_tot = float(np.sum((y - y.mean(axis=0)) ** 2))
        return 1.0 - ss_res / ss_tot


def mnist_mlp(
    hidden: int = 512,
    batch_size: int = 128,
    epochs: int = 5,
    seed: int | None = 0,
    dtype: type | np.dtype = np.float32,
) -> MLP:
    """The lectures' MNIST network in NumPy: 784 → ``hidden`` relu → 10 softmax, trained with
    RMSprop (Keras defaults) on categorical cross-entropy, in float32 for speed."""
    return MLP(
        (784, hidden, 10),
        activations="relu",
        output_activation="softmax",
        loss="categorical_crossentropy",
        optimizer="rmsprop",
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
        dtype=dtype,
    )
