"""NumPy kernels of ir/ops/conv.py (convolution, pooling, im2col/col2im, batch norm), merged into kernels.py's table.

Windows are strided views (``sliding_window_view``), so im2col copies each image element once per window it
falls in and pooling copies nothing; the products are one matrix multiplication (BLAS). Helpers read the
array namespace from kernels.py at call time, like the other kernel modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _xp() -> Any:
    from . import kernels

    return kernels.xp


def _padded(x, pad, value=0.0):
    xp = _xp()
    if pad == (0, 0):
        return x
    return xp.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])), constant_values=value)


def _windows(x, kernel_size, stride, pad, value=0.0):
    """(N, C, OH, OW, KH, KW): a view of every window of the padded images."""
    v = np.lib.stride_tricks.sliding_window_view(_padded(x, pad, value), kernel_size, axis=(2, 3))
    return v[:, :, ::stride[0], ::stride[1]]


def im2col(x, kernel_size, stride, pad):
    """The book's matrix: one row per (n, oh, ow), columns ordered (c, kh, kw)."""
    w = _windows(x, kernel_size, stride, pad)
    n, c, oh, ow, kh, kw = w.shape
    return w.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


def col2im(cols, x_shape, kernel_size, stride, pad):
    """im2col's adjoint: each row's entries added back where they came from."""
    xp = _xp()
    n, c, h, w = x_shape
    kh, kw = kernel_size
    (sh, sw), (ph, pw) = stride, pad
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    col = cols.reshape(n, oh, ow, c, kh, kw)
    img = xp.zeros((n, c, h + 2 * ph + sh - 1, w + 2 * pw + sw - 1), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            img[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += col[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(img[:, :, ph:h + ph, pw:w + pw])


def col2im_like(cols, x, kernel_size, stride, pad):
    return col2im(cols, x.shape, kernel_size, stride, pad)


def conv2d(x, W, b=None, stride=(1, 1), pad=(0, 0)):
    xp = _xp()
    oc = W.shape[0]
    n = x.shape[0]
    w = _windows(x, W.shape[2:], stride, pad)
    oh, ow = w.shape[2:4]
    y = xp.tensordot(w, W, axes=((1, 4, 5), (1, 2, 3)))          # (N, OH, OW, OC)
    if b is not None:
        y += b
    return xp.ascontiguousarray(y.transpose(0, 3, 1, 2)).reshape(n, oc, oh, ow)


def conv2d_grad_w(x, gy, kernel_size, stride, pad):
    xp = _xp()
    w = _windows(x, kernel_size, stride, pad)                   # (N, C, OH, OW, KH, KW)
    return xp.tensordot(gy, w, axes=((0, 2, 3), (0, 2, 3)))      # (OC, C, KH, KW)


def conv_transpose2d(x, W, b=None, stride=(1, 1), pad=(0, 0), outsize=None):
    xp = _xp()
    n, c_in, h, w = x.shape
    c_out, kh, kw = W.shape[1:]
    if outsize is None:
        outsize = (stride[0] * (h - 1) + kh - 2 * pad[0], stride[1] * (w - 1) + kw - 2 * pad[1])
    cols = xp.tensordot(x, W, axes=((1,), (0,)))                 # (N, H, W, C_out, KH, KW)
    y = col2im(cols.reshape(n * h * w, c_out * kh * kw), (n, c_out) + tuple(outsize), (kh, kw), stride, pad)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _argmax_places(x, kernel_size, stride, pad):
    """For each window, the (row, column) of its first maximum in the padded image."""
    w = _windows(x, kernel_size, stride, pad, value=-np.inf)
    n, c, oh, ow, kh, kw = w.shape
    flat = w.reshape(n, c, oh, ow, kh * kw).argmax(axis=-1)
    rows = flat // kw + (np.arange(oh) * stride[0])[:, None]
    cols = flat % kw + (np.arange(ow) * stride[1])[None, :]
    return rows, cols


def max_pool2d(x, kernel_size, stride, pad):
    return _windows(x, kernel_size, stride, pad, value=-np.inf).max(axis=(4, 5))


def max_pool2d_grad(gy, x, kernel_size, stride, pad):
    xp = _xp()
    n, c, h, w = x.shape
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    rows, cols = _argmax_places(x, kernel_size, stride, pad)
    planes = (np.arange(n * c).reshape(n, c, 1, 1) * hp + rows) * wp + cols
    g = xp.bincount(planes.ravel(), weights=gy.ravel(), minlength=n * c * hp * wp).astype(gy.dtype, copy=False)
    return xp.ascontiguousarray(g.reshape(n, c, hp, wp)[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w])


def max_pool2d_gather(gg, x, kernel_size, stride, pad):
    rows, cols = _argmax_places(x, kernel_size, stride, pad)
    g = _padded(gg, pad)
    n, c = x.shape[:2]
    return g[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


def avg_pool2d(x, kernel_size, stride, pad):
    return _windows(x, kernel_size, stride, pad).mean(axis=(4, 5))


def avg_pool2d_grad(gy, x, kernel_size, stride, pad):
    xp = _xp()
    kh, kw = kernel_size
    n, c, oh, ow = gy.shape
    spread = xp.broadcast_to((gy / (kh * kw)).transpose(0, 2, 3, 1)[..., None, None], (n, oh, ow, c, kh, kw))
    return col2im(spread.reshape(n * oh * ow, c * kh * kw), x.shape, kernel_size, stride, pad)


def batch_norm(x, gamma, beta, eps):
    xp = _xp()
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=axes, keepdims=True)
    xc *= (gamma.reshape(shape) / xp.sqrt(var + eps))
    xc += beta.reshape(shape)
    return xc


RNG = np.random.default_rng()  # dropout's generator; rg.seed(n) replaces it


def seed(n: int) -> None:
    """Make dropout's masks reproducible: the same seed, the same sequence of masks."""
    global RNG
    RNG = np.random.default_rng(n)


def dropout_mask(x, p):
    xp = _xp()
    keep = RNG.random(xp.shape(x)) >= p
    return xp.asarray(keep, dtype=x.dtype) / xp.asarray(1.0 - p, dtype=x.dtype)


HELPERS = {f"conv_{f.__name__}": f for f in (im2col, col2im, col2im_like, conv2d, conv2d_grad_w, conv_transpose2d, max_pool2d,
                                             max_pool2d_grad, max_pool2d_gather, avg_pool2d, avg_pool2d_grad,
                                             batch_norm, dropout_mask)}


def _call(helper: str, *names: str):
    """A template calling ``conv_<helper>`` with the operands and the named attributes."""
    def template(args: list, attrs: dict) -> str:
        from .kernels import literal

        return f"conv_{helper}({', '.join(args)}, {', '.join(f'{k}={literal(attrs[k])}' for k in names)})"
    return template


_WINDOW = ("kernel_size", "stride", "pad")
TEMPLATES = {
    "conv2d": _call("conv2d", "stride", "pad"),
    "conv_transpose2d": _call("conv_transpose2d", "stride", "pad", "outsize"),
    "conv2d_grad_w": _call("conv2d_grad_w", *_WINDOW),
    "im2col": _call("im2col", *_WINDOW),
    "col2im": _call("col2im", "x_shape", *_WINDOW),
    "col2im_like": _call("col2im_like", *_WINDOW),
    **{op: _call(op, *_WINDOW) for op in ("max_pool2d", "max_pool2d_grad", "max_pool2d_gather", "avg_pool2d",
                                          "avg_pool2d_grad")},
    "batch_norm": _call("batch_norm", "eps"),
    "dropout_mask": _call("dropout_mask", "p"),
    "embedding": "{0}[{1}]",
}
