"""First-order optimizers, updating parameter arrays in place.

The update rules follow Keras 3 exactly (same defaults, same placement of ε), so a reference
model and a Keras model started from the same weights take the same steps. For a parameter θ with
gradient g at step t = 1, 2, ...:

* SGD:       θ ← θ − η g
* Momentum:  v ← μ v − η g;  θ ← θ + v                       (v starts at 0)
* RMSprop:   s ← ρ s + (1 − ρ) g²;  θ ← θ − η g / √(s + ε)     (s starts at 0; ε inside √)
* Adam:      m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;
             η_t = η √(1 − β2^t) / (1 − β1^t);  θ ← θ − η_t m / (√v + ε)

The state arrays are allocated on the first call and matched to each parameter's dtype, so a
float32 model stays float32. The in-place formulation avoids temporaries on the hot path.

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Optimizer", "SGD", "Momentum", "RMSprop", "Adam", "get_optimizer"]

class Optimizer:
    """Base class: ``update(params, grads)`` changes every ``params[i]`` in place."""

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self._state: list[list[np.ndarray]] | None = None

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        if len(params) != len(grads):
            raise ValueError(f"{len(params)} parameters but {len(grads)} gradients")
        if self._state is None:
            self._state = [self._init_state(p) for p in params]
        self.iterations += 1
        for p, g, state in zip(params, grads, self._state, strict=True):
            if g.shape != p.shape:
                raise ValueError(f"gradient shape {g.shape} does not match parameter {p.shape}")
            self._apply(p, np.asarray(g, dtype=p.dtype), state)

    def reset(self) -> None:
        """Forget all state (moments, step count)."""
        self.iterations = 0
        self._state = None

    def _init_state(self, p: np.ndarray) -> list[np.ndarray]:
        return [np.empty_like(p)]  # a scratch buffer

    def _apply(self, p: np.ndarray, g: np.ndarray, state: list[np.ndarray]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain (minibatch) gradient descent: θ ← θ − η g."""

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01) -> None:
        super().__init__(learning_rate)

    def _apply(self, p, g, state):
        (buf,) = state
        np.multiply(g, self.learning_rate, out=buf)
        p -= buf


class Momentum(Optimizer):
    """SGD with momentum: v ← μ v − η g; θ ← θ + v."""

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def _init_state(self, p):
        return [np.zeros_like(p), np.empty_like(p)]

    def _apply(self, p, g, state):
        v, buf = state
        v *= self.momentum
        np.multiply(g, self.learning_rate, out=buf)
        v -= buf
        p += v


class RMSprop(Optimizer):
    """RMSprop: s ← ρ s + (1 − ρ) g²; θ ← θ − η g / √(s + ε). Keras 3 defaults and placement."""

    name = "rmsprop"

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.rho = float(rho)
        self.epsilon = float(epsilon)

    def _init_state(self, p):
        return [np.zeros_like(p), np.empty_like(p)]

    def _apply(self, p, g, state):
        s, buf = state
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.rho
        s *= self.rho
        s += buf
        np.add(s, self.epsilon, out=buf)
        np.sqrt(buf, out=buf)
        np.divide(g, buf, out=buf)
        buf *= self.learning_rate
        p -= buf


class Adam(Optimizer):
    """Adam with Keras's bias correction folded into the step size (see module docstring)."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def _init_state(self, p):
        return [np.zeros_like(p), np.zeros_like(p), np.empty_like(p)]

    def _apply(self, p, g, state):
        m, v, buf = state
        t = self.iterations
        step = self.learning_rate * np.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        m *= self.beta_1
        np.multiply(g, 1.0 - self.beta_1, out=buf)
        m += buf
        v *= self.beta_2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.beta_2
        v += buf
        np.sqrt(v, out=buf)
        buf += self.epsilon
        np.divide(m, buf, out=buf)
        buf *= step
        p -= buf


_OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam)}


def get_optimizer(spec: str | Optimizer, **kwargs: float) -> Optimizer:
    """An optimizer from its name ("sgd", "momentum", "rmsprop", "adam") or an instance."""
    if isinstance(spec, Optimizer):
        return spec
    try:
        return _OPTIMIZERS[spec.lower()](**kwargs)
    except KeyError:
        raise ValueError(f"unknown optimizer {spec!r}; choose from {sorted(_OPTIMIZERS)}") from None
