"""The two small networks of the backpropagation lectures, with their gradients written out.

1. Lecture 001's one-hidden-layer network for one observation x (shape (d,)) and a label
   y ∈ {0, 1}: sigmoid hidden units, one sigmoid output, the squared loss::

       h = σ(x W_h + b_h)            W_h: (d, H), b_h: (H,)
       p = σ(h · w_o + b_o)          w_o: (H,),   b_o: a number
       l = (y − p)²

   and, by the chain rule (σ' = σ(1 − σ))::

       ∂l/∂w_oj  = 2(p − y) · p(1 − p) · h_j
       ∂l/∂b_o   = 2(p − y) · p(1 − p)
       ∂l/∂W_hij = 2(p − y) · p(1 − p) · w_oj · h_j(1 − h_j) · x_i
       ∂l/∂b_hj  = 2(p − y) · p(1 − p) · w_oj · h_j(1 − h_j)

   The slides drop the factor 2 and, in the hidden layer, the factor w_oj; these are right.

2. Lecture 004's network in the lecture's own convention: a sigmoid hidden layer, a softmax
   output, and a cost *summed* over the rows of the batch (the lecture's code never divides by
   N), with the L2 penalty (λ/2)(‖W_h‖² + ‖W_o‖²) on the weights only::

       C = −Σ_i Σ_k Y_ik log P_ik + (λ/2)(‖W_h‖² + ‖W_o‖²)
       ∂C/∂W_o = A_hᵀ (P − Y) + λ W_o      ∂C/∂b_o = Σ_i (P − Y)_i
       ∂C/∂W_h = Xᵀ Δ_h + λ W_h            ∂C/∂b_h = Σ_i Δ_h,i
       Δ_h = ((P − Y) W_oᵀ) ⊙ A_h ⊙ (1 − A_h)

   It is computed with :class:`reference_impl.mlp.MLP`, whose cost is the *mean* over rows
   plus (λ'/2)‖W‖²: with λ' = λ/N, N times that cost is C, so N times its gradients are the
   ones above.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.activations import sigmoid
from reference_impl.mlp import MLP

__all__ = ["squared_loss_network", "lecture_cost_and_gradients", "n_parameters"]


def squared_loss_network(
    x: ArrayLike, y: float, W_h: ArrayLike, b_h: ArrayLike, w_o: ArrayLike, b_o: float
) -> dict[str, np.ndarray | float]:
    """Forward pass and exact gradients of lecture 001's network for one observation.

    Returns a dict with ``h``, ``p``, ``loss`` and the gradients ``dw_o`` (H,), ``db_o``,
    ``dW_h`` (d, H) and ``db_h`` (H,), by the formulas in the module docstring.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    W_h = np.asarray(W_h, dtype=np.float64)
    b_h = np.asarray(b_h, dtype=np.float64).reshape(-1)
    w_o = np.asarray(w_o, dtype=np.float64).reshape(-1)
    h = sigmoid(x @ W_h + b_h)
    p = float(sigmoid(h @ w_o + float(b_o)))
    output_factor = 2.0 * (p - float(y)) * p * (1.0 - p)  # ∂l/∂p · ∂p/∂(output sum)
    hidden_factor = output_factor * w_o * h * (1.0 - h)  # one per hidden unit
    return {
        "h": h,
        "p": p,
        "loss": (float(y) - p) ** 2,
        "dw_o": output_factor * h,
        "db_o": output_factor,
        "dW_h": np.outer(x, hidden_factor),
        "db_h": hidden_factor,
    }


def lecture_cost_and_gradients(
    X: ArrayLike,
    Y: ArrayLike,
    W_h: ArrayLike,
    b_h: ArrayLike,
    W_o: ArrayLike,
    b_o: ArrayLike,
    lmbd: float = 0.0,
) -> tuple[float, list[np.ndarray]]:
    """Lecture 004's summed cost C and its gradients ``[dW_o, db_o, dW_h, db_h]``.

    X: (N, d); Y: (N, K) one-hot rows; W_h: (d, H); b_h: (H,); W_o: (H, K); b_o: (K,).
    The gradients come in the order the lecture's ``backpropagation`` returns them.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    W_h, W_o = np.asarray(W_h, dtype=np.float64), np.asarray(W_o, dtype=np.float64)
    n, (d, hidden), k = len(X), W_h.shape, W_o.shape[1]
    model = MLP(
        (d, hidden, k),
        activations="sigmoid",
        output_activation="softmax",
        loss="categorical_crossentropy",
        l2=lmbd / n,
        seed=0,
    )
    model.set_parameters([W_h, np.reshape(b_h, hidden), W_o, np.reshape(b_o, k)])
    mean_cost, (dW_h, db_h, dW_o, db_o) = model.loss_and_gradients(X, Y)
    return n * mean_cost, [n * dW_o, n * db_o, n * dW_h, n * db_h]


def n_parameters(layer_sizes: ArrayLike) -> int:
    """Weights and biases of a fully connected network: Σ_l (d_{l−1} + 1) · d_l.

    For 64-50-10 that is 65·50 + 51·10 = 3760.
    """
    sizes = [int(s) for s in np.asarray(layer_sizes).reshape(-1)]
    pairs = zip(sizes[:-1], sizes[1:], strict=True)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairs)
