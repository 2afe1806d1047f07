"""The optimizers. Each keeps its state (velocities, squared-gradient sums) per parameter name and
updates the arrays it is given in place, so a model's live parameters change where they are."""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from ..ir.errors import GraphError

EPS = 1e-7  # the book's constant under the square root


class Optimizer:
    """Base: checks the dicts, applies weight decay and gradient clipping, then :meth:`step` per parameter.

    ``weight_decay``: L2 decay added to each gradient (``grad + weight_decay * param``, the book's
    ``weight_decay_lambda * W``). ``clip_norm``: when the gradients' global L2 norm exceeds it, all are
    scaled down by the same factor (the book's ``clip_grads``). The given gradient arrays are not modified.
    """

    def __init__(self, lr: float, *, weight_decay: float = 0.0, clip_norm: Optional[float] = None) -> None:
        for what, value in (("lr", lr), ("weight_decay", weight_decay)):
            if not np.isfinite(value) or value < 0:
                raise GraphError(f"{type(self).__name__}: {what}={value!r} must be a finite number >= 0")
        if clip_norm is not None and not clip_norm > 0:
            raise GraphError(f"{type(self).__name__}: clip_norm={clip_norm!r} must be > 0 (or None for no clipping)")
        self.lr, self.weight_decay, self.clip_norm = float(lr), float(weight_decay), clip_norm
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from the gradient of the same name."""
        self._check(params, grads)
        grads = {k: np.asarray(grads[k]) for k in params}
        if self.clip_norm is not None:
            total = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
            if total > self.clip_norm:
                scale = self.clip_norm / (total + 1e-6)
                grads = {k: g * scale for k, g in grads.items()}
        self._begin()
        for name, param in params.items():
            grad = grads[name]
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            self.step(name, param, grad)

    def _begin(self) -> None:
        """Called once per update, before the parameters (Adam counts its iterations here)."""

    def step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scaled(self, param: np.ndarray, grad: np.ndarray, h: np.ndarray) -> None:
        """AdaGrad's and RMSprop's step: each element's rate divided by the root of its squared-gradient sum."""
        param -= self.lr * grad / (np.sqrt(h) + EPS)

    def _slot(self, name: str, key: str, like: np.ndarray) -> np.ndarray:
        """Per-parameter state, zeros of the parameter's shape on first use."""
        return self.state.setdefault(name, {}).setdefault(key, np.zeros_like(like))

    def _check(self, params: Mapping, grads: Mapping) -> None:
        missing = [k for k in params if k not in grads]
        if missing:
            raise GraphError(f"{type(self).__name__}.update: no gradient for parameter(s) {missing}; grads has "
                             f"{sorted(grads)}")
        for k, p in params.items():
            if not isinstance(p, np.ndarray) or not p.flags.writeable:
                raise GraphError(f"{type(self).__name__}.update: parameter {k!r} must be a writable NumPy array "
                                 f"(updated in place), got {type(p).__name__}")
            if np.shape(grads[k]) != p.shape:
                raise GraphError(f"{type(self).__name__}.update: gradient of {k!r} has shape {np.shape(grads[k])}, "
                                 f"the parameter {p.shape}")
            if p.dtype.kind != "f":
                raise GraphError(f"{type(self).__name__}.update: parameter {k!r} has dtype {p.dtype}; only float "
                                 "parameters can be trained")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """W ← W − lr · ∂L/∂W."""

    def __init__(self, lr: float = 0.01, **kwargs) -> None:
        super().__init__(lr, **kwargs)

    def step(self, name, param, grad):
        param -= self.lr * grad


class Momentum(Optimizer):
    """v ← momentum · v − lr · ∂L/∂W;  W ← W + v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, **kwargs) -> None:
        super().__init__(lr, **kwargs)
        self.momentum = float(momentum)

    def _velocity(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        v = self._slot(name, "v", param)
        v *= self.momentum
        v -= self.lr * grad
        return v

    def step(self, name, param, grad):
        param += self._velocity(name, param, grad)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the book's form (looks ahead along the velocity)."""

    def step(self, name, param, grad):
        v = self._velocity(name, param, grad)
        param += self.momentum * self.momentum * v
        param -= (1 + self.momentum) * self.lr * grad


class AdaGrad(Optimizer):
    """h ← h + (∂L/∂W)²;  W ← W − lr · ∂L/∂W / (√h + 1e-7)."""

    def __init__(self, lr: float = 0.01, **kwargs) -> None:
        super().__init__(lr, **kwargs)

    def step(self, name, param, grad):
        h = self._slot(name, "h", param)
        h += grad * grad
        self._scaled(param, grad, h)


class RMSprop(Optimizer):
    """h ← decay · h + (1 − decay) · (∂L/∂W)²;  W ← W − lr · ∂L/∂W / (√h + 1e-7)."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, **kwargs) -> None:
        super().__init__(lr, **kwargs)
        self.decay_rate = float(decay_rate)

    def step(self, name, param, grad):
        h = self._slot(name, "h", param)
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        self._scaled(param, grad, h)


class Adam(Optimizer):
    """Adam as the book writes it: m, v moving averages; lr_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ);
    W ← W − lr_t · m / (√v + 1e-7)."""

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, **kwargs) -> None:
        super().__init__(lr, **kwargs)
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.iter = 0

    def _begin(self) -> None:
        self.iter += 1
        self._lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)

    def step(self, name, param, grad):
        m, v = self._slot(name, "m", param), self._slot(name, "v", param)
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        param -= self._lr_t * m / (np.sqrt(v) + EPS)
