"""Random-graph generators of the image ops (conv2d, conv_transpose2d, max/avg_pool2d, im2col, col2im,
batch_norm), embedding and dropout, merged into tests/randgraph.py's tables.

An image op needs its channels and sizes declared, and ``spec.build(unknown_sizes=True)`` declares every
input size None: so each generator first reshapes a value it picks into ``(-1, C, H, W)`` (or ``(-1, D)``),
sizes that reshape declares in every mode, leaving only the batch size to the run. Filters, biases and
gamma/beta are constants or values reshaped to their exact shape (so their gradients are checked too).

dropout draws a fresh mask every run, which central differences and the static/eager comparisons cannot
follow; here it is drawn with ``p=0.0`` (its mask op runs, draws and is all ones: the passes and the memory
plan meet a ``random`` node with deterministic values). tests/test_properties.py checks ``p > 0`` under
``rg.seed`` with ``dropout_specs`` (one dropout per graph, so every program draws the same one mask).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st

from randgraph import MAX_SIZE, Ref, _Builder


def _image(b: _Builder, max_hw: int = 4) -> Optional[tuple]:
    """A picked value reshaped to (-1, C, H, W) with H, W in 2..max_hw: ``(ref, (N, C, H, W))``."""
    x = b.pick()
    if x is None:
        return None
    size = int(np.prod(b.shape(x)))
    forms = [(c, h, w) for c in (1, 2, 3) for h in range(2, max_hw + 1) for w in range(2, max_hw + 1)
             if size % (c * h * w) == 0]
    if forms and b.choice([True, True, False]):
        c, h, w = b.choice(forms)
        img = b.add("reshape", x, (-1, c, h, w))
        return img and (img, (size // (c * h * w), c, h, w))
    # Too few elements (or the other way): one image per element, outer(x, pattern) -> (size, C*H*W).
    forms = [(c, h, w) for c in (1, 2) for h in (2, 3) for w in (2, 3) if size * c * h * w <= MAX_SIZE]
    if not forms:
        return None
    c, h, w = b.choice(forms)
    flat = b.add("reshape", x, (-1,))
    wide = flat and b.add("outer", flat, b.rng.normal(size=c * h * w))
    img = wide and b.add("reshape", wide, (-1, c, h, w))
    return img and (img, (size, c, h, w))


def _exact(b: _Builder, shape: tuple, scale: float) -> Any:
    """An operand of exactly ``shape``: a picked value of that many elements reshaped (its gradient is then
    checked), or a constant."""
    n = int(np.prod(shape))
    v = b.pick(lambda a: a.size == n) if b.choice([True, False]) else None
    if v is not None:
        r = b.add("reshape", b.bounded(v, 3.0) or v, shape)
        if r is not None:
            return r
    return b.rng.normal(size=shape) * scale


def _window(b: _Builder, h: int, w: int) -> Optional[tuple]:
    """(kernel, stride, pad) fitting an h x w image (pad at most half the kernel)."""
    k = b.draw(st.integers(1, min(h, w, 3)))
    pad = b.draw(st.integers(0, k // 2))
    stride = b.draw(st.integers(1, 2))
    return k, stride, pad


def _conv2d(b: _Builder) -> Any:
    made = _image(b)
    if made is None:
        return None
    x, (n, c, h, w) = made
    k, stride, pad = _window(b, h, w)
    oc = b.draw(st.integers(1, 2))
    W = _exact(b, (oc, c, k, k), 1.0 / np.sqrt(c * k * k))
    bias = _exact(b, (oc,), 0.5) if b.choice([True, False]) else None
    return b.add("conv2d", x, W, bias, stride=stride, pad=pad)


def _conv_transpose2d(b: _Builder) -> Any:
    made = _image(b, max_hw=3)
    if made is None:
        return None
    x, (n, c, h, w) = made
    k = b.draw(st.integers(1, 2))
    stride = b.draw(st.integers(1, 2))
    oc = b.draw(st.integers(1, 2))
    W = _exact(b, (c, oc, k, k), 1.0 / np.sqrt(c * k * k))
    bias = _exact(b, (oc,), 0.5) if b.choice([True, False]) else None
    return b.add("conv_transpose2d", x, W, bias, stride=stride, pad=0)


def _pool(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        made = _image(b)
        if made is None:
            return None
        x, (n, c, h, w) = made
        k = b.draw(st.integers(1, min(h, w, 3)))
        stride = b.choice([None, 1, 2])
        pad = b.draw(st.integers(0, k // 2))
        if fn == "max_pool2d":  # a kink where two entries of a window tie: keep the window entries apart
            vals = b.vals[x.i]
            if np.min(np.diff(np.sort(vals.ravel()))) < 1e-3 if vals.size > 1 else False:
                return None
        return b.add(fn, x, k, stride, pad)
    return gen


def _im2col(b: _Builder) -> Any:
    made = _image(b)
    if made is None:
        return None
    x, (n, c, h, w) = made
    k, stride, pad = _window(b, h, w)
    return b.add("im2col", x, k, stride=stride, pad=pad)


def _col2im(b: _Builder) -> Any:
    """Rows of windows added back into (N, C, H, W): a value's elements as the rows' scales,
    ``outer(x, pattern)`` -> (N*OH*OW, C*KH*KW), N from the window count that divides the value's size."""
    x = b.pick()
    if x is None:
        return None
    size = int(np.prod(b.shape(x)))
    forms = []
    for c in (1, 2):
        for h in (2, 3):
            for w in (2, 3):
                for k in range(1, min(h, w) + 1):
                    for stride in (1, 2):
                        for pad in range(k // 2 + 1):
                            oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
                            n = size // (oh * ow)
                            if size % (oh * ow) == 0 and n * c * h * w <= MAX_SIZE and size * c * k * k <= MAX_SIZE:
                                forms.append((n, c, h, w, k, stride, pad))
    if not forms:
        return None
    n, c, h, w, k, stride, pad = b.choice(forms)
    flat = b.add("reshape", x, (-1,))
    cols = flat and b.add("outer", flat, b.rng.normal(size=c * k * k))
    return cols and b.add("col2im", cols, (n, c, h, w), k, stride=stride, pad=pad)


def _batch_norm(b: _Builder) -> Any:
    """Over (N, D) or (N, C, H, W), N >= 2 and the entries spread (a constant feature would divide by
    sqrt(eps), a cliff no difference quotient follows)."""
    if b.choice([True, False]):
        made = _image(b)
        if made is None:
            return None
        x, (n, c, _, _) = made
    else:
        v = b.pick(lambda a: a.size >= 4)
        if v is None:
            return None
        size = int(np.prod(b.shape(v)))
        features = [d for d in (1, 2, 3, 4) if size % d == 0 and size // d >= 2]
        if not features:
            return None
        c = b.choice(features)
        n = size // c
        x = b.add("reshape", v, (-1, c))
        if x is None:
            return None
    vals = b.vals[x.i]
    axes = (0,) if vals.ndim == 2 else (0, 2, 3)
    if n < 2 or np.min(vals.var(axis=axes)) < 0.05:
        return None
    gamma, beta = _exact(b, (c,), 1.0), _exact(b, (c,), 1.0)
    return b.add("batch_norm", x, gamma, beta, eps=b.choice([1e-5, 1e-3]))


def _embedding(b: _Builder) -> Any:
    """Rows of a (vocabulary, features) value at constant integer ids (repeats add up in the gradient)."""
    W = b.pick(lambda v: v.ndim == 2)
    if W is None:
        return None
    rows = b.shape(W)[0]
    ids = b.rng.integers(0, rows, size=b.choice([(3,), (2, 2)]))
    return b.add("embedding", W, ids)


def _dropout(b: _Builder) -> Any:
    x = b.pick()
    return x and b.add("dropout", x, 0.0)


IMAGE_SMOOTH = {"conv2d": _conv2d, "conv_transpose2d": _conv_transpose2d, "avg_pool2d": _pool("avg_pool2d"),
                "im2col": _im2col, "col2im": _col2im, "batch_norm": _batch_norm, "embedding": _embedding,
                "dropout": _dropout}
IMAGE_KINKED = {"max_pool2d": _pool("max_pool2d")}


def _seeded_dropout(b: _Builder) -> Any:
    """dropout with p > 0, at most once per graph (see the module docstring)."""
    if any(s.fn == "dropout" for s in b.steps):
        return None
    x = b.pick(lambda v: v.size >= 2)
    if x is None:
        return None
    import revgraph as rg

    rg.seed(0)  # the value the builder keeps (and decides on) is the same on every draw of this example
    return b.add("dropout", x, b.choice([0.2, 0.5]))


def dropout_ops() -> dict:
    """The generators of ``dropout_specs``: a few smooth ops around one seeded dropout with p > 0."""
    from randgraph import SMOOTH

    return {**{k: SMOOTH[k] for k in ("add", "mul", "tanh", "sum", "matmul", "reshape", "sin")},
            "dropout": _seeded_dropout, "conv2d": _conv2d}
