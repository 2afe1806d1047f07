"""The optimizers. Each keeps its state (velocities, squared-gradient sums) per parameter name and
updates the arrays it is given in place, so a model's live parameters change where they are."""

from __future__ import annotations

from typing import Any, Mapping, Optional

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

    # -- the fused step (optim/fused.py writes these lines into the generated program) --------------
    slots: tuple = ()  # the per-parameter state arrays, by key of ``state[name]``
    hyper: tuple = ("lr",)  # the attributes the update lines read (at every call: a schedule may change them)

    def compile(self, loss: Any, params: Any, *, grads: bool = False, optimize: bool = True) -> Any:
        """A fused training step: one generated program computing ``loss``, its gradients and this
        optimizer's in-place update of ``params`` (an rg.nn model, or a dict name -> (graph input, live
        array)). ``step(**feeds)`` returns the loss (``(loss, grads)`` with ``grads=True``); the update lines
        are in ``step.source``. Weight decay and clipping are written in when set here; ``lr`` and the
        other hyperparameters are read at every call. The state is this optimizer's (``opt.state``,
        ``opt.iter``), so fused steps and ``update`` calls agree.

        >>> opt = rg.optim.Momentum(lr=0.01)
        >>> step = opt.compile(rg.softmax_cross_entropy(model(x), t), model)
        >>> loss = step(x=xb, t=tb)                 # model.params updated in place
        """
        from .fused import compile_step

        return compile_step(self, loss, params, grads=grads, optimize=optimize)

    def _begin_lines(self) -> list[str]:
        """Source lines run once per fused step, before the parameters (as ``_begin``)."""
        return []

    def _update_lines(self, p: str, g: str, s: dict) -> list[str]:  # pragma: no cover - abstract
        """Source lines of :meth:`step` for parameter ``p`` with gradient ``g`` and state arrays ``s``
        (by slot key), the same NumPy expressions in the same order (so both round alike)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """W ← W − lr · ∂L/∂W."""

    def __init__(self, lr: float = 0.01, **kwargs) -> None:
        super().__init__(lr, **kwargs)

    def step(self, name, param, grad):
        param -= self.lr * grad

    def _update_lines(self, p, g, s):
        return [f"{p} -= lr * {g}"]


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

    slots, hyper = ("v",), ("lr", "momentum")

    def step(self, name, param, grad):
        param += self._velocity(name, param, grad)

    def _update_lines(self, p, g, s):
        v = s["v"]
        return [f"{v} *= momentum".ljust(40) + f"# v = momentum * v - lr * {g}", f"{v} -= lr * {g}", f"{p} += {v}"]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the book's form (looks ahead along the velocity)."""

    def step(self, name, param, grad):
        v = self._velocity(name, param, grad)
        param += self.momentum * self.momentum * v
        param -= (1 + self.momentum) * self.lr * grad

    def _update_lines(self, p, g, s):
        v = s["v"]
        return [f"{v} *= momentum".ljust(40) + f"# v = momentum * v - lr * {g}", f"{v} -= lr * {g}",
                f"{p} += momentum * momentum * {v}", f"{p} -= (1 + momentum) * lr * {g}"]


class AdaGrad(Optimizer):
    """h ← h + (∂L/∂W)²;  W ← W − lr · ∂L/∂W / (√h + 1e-7)."""

    def __init__(self, lr: float = 0.01, **kwargs) -> None:
        super().__init__(lr, **kwargs)

    slots = ("h",)

    def step(self, name, param, grad):
        h = self._slot(name, "h", param)
        h += grad * grad
        self._scaled(param, grad, h)

    def _update_lines(self, p, g, s):
        h = s["h"]
        return [f"{h} += {g} * {g}", f"{p} -= lr * {g} / (xp.sqrt({h}) + {EPS!r})"]


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

    slots, hyper = ("h",), ("lr", "decay_rate")

    def _update_lines(self, p, g, s):
        h = s["h"]
        return [f"{h} *= decay_rate", f"{h} += (1 - decay_rate) * {g} * {g}",
                f"{p} -= lr * {g} / (xp.sqrt({h}) + {EPS!r})"]


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

    slots, hyper = ("m", "v"), ("lr", "beta1", "beta2")

    def _begin_lines(self):
        return ["opt.iter += 1", "lr_t = lr * xp.sqrt(1.0 - beta2 ** opt.iter) / (1.0 - beta1 ** opt.iter)"]

    def _update_lines(self, p, g, s):
        m, v = s["m"], s["v"]
        return [f"{m} += (1 - beta1) * ({g} - {m})", f"{v} += (1 - beta2) * ({g} * {g} - {v})",
                f"{p} -= lr_t * {m} / (xp.sqrt({v}) + {EPS!r})"]
