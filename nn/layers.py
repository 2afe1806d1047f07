"""Layers built on rg ops only, so each runs on graph Tensors, dy.Variables and NumPy arrays alike."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..ir.errors import GraphError
from ..ir.ops import relu, reshape, sigmoid, tanh
from .init import INITS
from .module import Module


class Linear(Module):
    """The book's Affine layer: ``x @ W + b`` with W of shape (in_features, out_features).

    ``init``: ``"he"`` (default, for ReLU nets) or ``"xavier"``; ``rng`` for reproducible weights.

    >>> fc = rg.nn.Linear(4, 3, rng=np.random.default_rng(0)); fc.params["W"].shape
    (4, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, init: str = "he",
                 rng: Optional[np.random.Generator] = None, dtype: str = "float64") -> None:
        super().__init__()
        if init not in INITS:
            raise GraphError(f"Linear: init={init!r} is not one of {sorted(INITS)}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.add_param("W", INITS[init]((self.in_features, self.out_features), self.in_features, rng, dtype))
        if bias:
            self.add_param("b", np.zeros(self.out_features, dtype))

    def forward(self, x: Any) -> Any:
        y = x @ self.p("W", x)
        return y + self.p("b", x) if "b" in self._params else y

    def _extra(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={'b' in self._params}"


class ReLU(Module):
    """max(0, x); its backward is the mask x > 0."""

    def forward(self, x: Any) -> Any:
        return relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)); its backward is y(1 - y)."""

    def forward(self, x: Any) -> Any:
        return sigmoid(x)


class Tanh(Module):
    """tanh(x); its backward is 1 - y²."""

    def forward(self, x: Any) -> Any:
        return tanh(x)


class Flatten(Module):
    """(N, ...) -> (N, everything else): what sits between a convolution and an Affine layer."""

    def forward(self, x: Any) -> Any:
        shape = x.shape
        if len(shape) < 2:
            raise GraphError(f"Flatten needs a batch axis and at least one more; got shape {shape}")
        rest = shape[1:]
        if any(s is None for s in rest):
            raise GraphError(f"Flatten: the non-batch sizes of {shape} must be known (declare them in g.input)")
        return reshape(x, (-1, int(np.prod(rest))))
