"""Layers built on rg ops only, so each runs on graph Tensors, dy.Variables and NumPy arrays alike."""

from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from ..dynamic import Variable
from ..ir.errors import GraphError
from ..ir.tensor import Tensor
from ..ir.ops import avg_pool2d, batch_norm, conv2d, dropout, embedding, max_pool2d, relu, reshape, sigmoid, tanh
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


class Conv2d(Module):
    """The book's Convolution layer: filters W (out, in, KH, KW) and bias b (out,), NCHW.

    >>> conv = rg.nn.Conv2d(1, 30, 5, rng=np.random.default_rng(0))     # SimpleConvNet's first layer
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, pad: Any = 0, *,
                 bias: bool = True, init: str = "he", rng: Optional[np.random.Generator] = None,
                 dtype: str = "float64") -> None:
        super().__init__()
        if init not in INITS:
            raise GraphError(f"Conv2d: init={init!r} is not one of {sorted(INITS)}")
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.stride, self.pad = stride, pad
        shape = (int(out_channels), int(in_channels), int(kh), int(kw))
        self.add_param("W", INITS[init](shape, in_channels * kh * kw, rng, dtype))
        if bias:
            self.add_param("b", np.zeros(out_channels, dtype))

    def forward(self, x: Any) -> Any:
        b = self.p("b", x) if "b" in self._params else None
        return conv2d(x, self.p("W", x), b, stride=self.stride, pad=self.pad)

    def _extra(self) -> str:
        oc, c, kh, kw = self._params["W"].shape
        return f"{c}, {oc}, kernel_size=({kh}, {kw}), stride={self.stride}, pad={self.pad}"


class MaxPool2d(Module):
    """The book's Pooling layer (max); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None, pad: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, x: Any) -> Any:
        return max_pool2d(x, self.kernel_size, self.stride, self.pad)


class AvgPool2d(MaxPool2d):
    """Average pooling; padding counts in the divisor."""

    def forward(self, x: Any) -> Any:
        return avg_pool2d(x, self.kernel_size, self.stride, self.pad)


class Dropout(Module):
    """Inverted dropout in training mode, the identity in evaluation mode (``model.eval()``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p_drop = float(p)

    def forward(self, x: Any) -> Any:
        return dropout(x, self.p_drop, train=self.training)

    def _extra(self) -> str:
        return f"p={self.p_drop}"


class BatchNorm(Module):
    """Batch normalisation (book ch. 6) over the features of (N, D) or the channels of (N, C, H, W).

    Training mode normalises with the batch's statistics; evaluation mode with running averages
    (``running = momentum * running + (1 - momentum) * batch``, the book's momentum 0.9), which are
    updated when the layer runs dynamically or on arrays, and by a fused training step
    (``opt.compile(loss, model)``), whose program updates them in place as it updates the parameters.
    A step compiled with ``rg.compile`` leaves them alone (a static graph is a pure description): after
    such training, call ``model.calibrate(batches)`` (runs the batches through the model on arrays, in
    training mode, updating every BatchNorm's averages).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9, dtype: str = "float64") -> None:
        super().__init__()
        self.eps, self.momentum = float(eps), float(momentum)
        self.add_param("gamma", np.ones(num_features, dtype))
        self.add_param("beta", np.zeros(num_features, dtype))
        object.__setattr__(self, "running_mean", np.zeros(num_features, dtype))
        object.__setattr__(self, "running_var", np.ones(num_features, dtype))
        object.__setattr__(self, "_batches", weakref.WeakKeyDictionary())  # graph -> the inputs normalised in training

    def batch_statistics(self, graph: Any) -> list[tuple]:
        """For each call of this layer in training mode on ``graph``: ``(x, axes)``, the node id of the input
        normalised and the axes of its statistics (what a fused training step updates the running averages
        from). Ids, not Tensors: a Tensor would keep its graph, the weak key, alive."""
        return [(x, (0,) if ndim == 2 else (0, 2, 3)) for x, ndim in self._batches.get(graph, [])]

    def forward(self, x: Any) -> Any:
        gamma, beta = self.p("gamma", x), self.p("beta", x)
        if self.training:
            if isinstance(x, Tensor):
                self._batches.setdefault(x.graph, []).append((x.id, len(x.shape)))
            self._update_running(x)
            return batch_norm(x, gamma, beta, self.eps)
        # The running averages enter as constants: a static graph built in eval mode bakes in their values then.
        shape = (1, -1) + (1,) * (len(x.shape) - 2)
        scale = reshape(gamma / np.sqrt(self.running_var + self.eps), shape)
        return (x - self.running_mean.reshape(shape)) * scale + reshape(beta, shape)

    def _update_running(self, x: Any) -> None:
        data = x.data if isinstance(x, Variable) else x
        if not isinstance(data, np.ndarray):  # a graph Tensor: nothing has run yet
            return
        axes = (0,) if data.ndim == 2 else (0, 2, 3)
        m = self.momentum
        self.running_mean[...] = m * self.running_mean + (1 - m) * data.mean(axis=axes)
        self.running_var[...] = m * self.running_var + (1 - m) * data.var(axis=axes)


class RNN(Module):
    """DeZero's RNN cell: ``h = tanh(x @ Wx + bx + h_prev @ Wh)`` (no hidden-to-hidden term at the first step).

    Called as ``h = rnn(x, h_prev)`` with ``h_prev=None`` at the start. Unrolled over time steps in a static
    graph, every step reads the same weights (their gradients accumulate); in the dynamic engine, call
    ``h.unchain_backward()`` after each backward for truncated BPTT.
    """

    def __init__(self, in_size: int, hidden_size: int, *, rng: Optional[np.random.Generator] = None,
                 dtype: str = "float64") -> None:
        super().__init__()
        self.x2h = Linear(in_size, hidden_size, init="xavier", rng=rng, dtype=dtype)
        self.h2h = Linear(hidden_size, hidden_size, bias=False, init="xavier", rng=rng, dtype=dtype)

    def forward(self, x: Any, h: Any = None) -> Any:
        pre = self.x2h(x)
        return tanh(pre if h is None else pre + self.h2h(h))


class LSTM(Module):
    """DeZero's LSTM cell: gates f, i, o (sigmoid) and candidate u (tanh) from x and h_prev;
    ``c = f * c_prev + i * u``, ``h = o * tanh(c)``. Called as ``h, c = lstm(x, h_prev, c_prev)``."""

    GATES = ("f", "i", "o", "u")

    def __init__(self, in_size: int, hidden_size: int, *, rng: Optional[np.random.Generator] = None,
                 dtype: str = "float64") -> None:
        super().__init__()
        self.hidden_size = hidden_size
        for gate in self.GATES:
            setattr(self, f"x2{gate}", Linear(in_size, hidden_size, init="xavier", rng=rng, dtype=dtype))
            setattr(self, f"h2{gate}", Linear(hidden_size, hidden_size, bias=False, init="xavier", rng=rng,
                                              dtype=dtype))

    def forward(self, x: Any, h: Any = None, c: Any = None) -> tuple:
        def gate(name: str) -> Any:
            pre = getattr(self, f"x2{name}")(x)
            return pre if h is None else pre + getattr(self, f"h2{name}")(h)

        f, i, o, u = sigmoid(gate("f")), sigmoid(gate("i")), sigmoid(gate("o")), tanh(gate("u"))
        c_new = i * u if c is None else f * c + i * u
        return o * tanh(c_new), c_new


class Embedding(Module):
    """A table of ``num`` vectors of ``features`` each; called on integer ids (DeZero's EmbedID)."""

    def __init__(self, num: int, features: int, *, rng: Optional[np.random.Generator] = None,
                 dtype: str = "float64") -> None:
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng()
        self.add_param("W", (rng.standard_normal((num, features)) * 0.01).astype(dtype))

    def forward(self, ids: Any, like: Any = None) -> Any:
        """``ids``: integer array or tensor; the engine is that of ``ids`` (or of ``like`` when ids are plain)."""
        return embedding(self.p("W", ids if like is None else like), ids)
