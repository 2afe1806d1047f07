"""Op-table rows of ir/ops/conv.py (appended to OP_CASES by tests/optable.py). The value references are written
here from the book's definitions, window by window, independently of the kernels (which use strided views)."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from revgraph.ir.apply import apply
from opcase import ANY, POS, case


def _pad(x, p, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=value)


def ref_conv2d(x, W, b=None, stride=1, pad=0):
    n, c, h, w = x.shape
    oc, _, kh, kw = W.shape
    xp = _pad(x, pad)
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, W, axes=((1, 2, 3), (1, 2, 3)))
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def ref_conv_transpose2d(x, W, b=None, stride=1, pad=0):
    n, c, h, w = x.shape
    _, oc, kh, kw = W.shape
    y = np.zeros((n, oc, stride * (h - 1) + kh, stride * (w - 1) + kw))
    for i in range(h):
        for j in range(w):
            y[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.tensordot(x[:, :, i, j], W, axes=(1, 0))
    y = y[:, :, pad:y.shape[2] - pad, pad:y.shape[3] - pad]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def ref_pool(x, k, stride=None, pad=0, how="max"):
    stride = stride or k
    xp = _pad(x, pad, -np.inf if how == "max" else 0.0)
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = win.max(axis=(2, 3)) if how == "max" else win.mean(axis=(2, 3))
    return y


def ref_im2col(x, k, stride=1, pad=0):
    n, c, h, w = x.shape
    xp = _pad(x, pad)
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    rows = [xp[b, :, i * stride:i * stride + k, j * stride:j * stride + k].ravel()
            for b in range(n) for i in range(oh) for j in range(ow)]
    return np.array(rows)


def ref_col2im(cols, x_shape, k, stride=1, pad=0):
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    r = 0
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                img[b, :, i * stride:i * stride + k, j * stride:j * stride + k] += cols[r].reshape(c, k, k)
                r += 1
    return img[:, :, pad:pad + h, pad:pad + w]


def ref_batch_norm(x, gamma, beta, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


def ref_gather(gg, x, k):
    """gg at the first maximum of each k x k window of x (what max pooling's second derivative reads)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h // k, w // k))
    for i in range(h // k):
        for j in range(w // k):
            win = x[:, :, i * k:i * k + k, j * k:j * k + k].reshape(n, c, -1)
            at = win.argmax(axis=-1)
            out[:, :, i, j] = np.take_along_axis(gg[:, :, i * k:i * k + k, j * k:j * k + k].reshape(n, c, -1),
                                                 at[..., None], -1)[..., 0]
    return out


X = ((2, 2, 5, 5), ANY)
CONV_CASES = [
    case("conv2d", lambda x, W, b: rg.conv2d(x, W, b), [X, ((3, 2, 3, 3), ANY), ((3,), ANY)], numpy=ref_conv2d),
    case("conv2d_stride2_pad1", lambda x, W: rg.conv2d(x, W, stride=2, pad=1), [X, ((3, 2, 3, 3), ANY)],
         numpy=lambda x, W: ref_conv2d(x, W, stride=2, pad=1)),
    case("conv_transpose2d", lambda x, W, b: rg.conv_transpose2d(x, W, b, stride=2, pad=1),
         [((2, 3, 3, 3), ANY), ((3, 2, 3, 3), ANY), ((2,), ANY)],
         numpy=lambda x, W, b: ref_conv_transpose2d(x, W, b, stride=2, pad=1)),
    case("max_pool2d", lambda x: rg.max_pool2d(x, 2), [((2, 2, 4, 4), ANY)], numpy=lambda x: ref_pool(x, 2)),
    case("max_pool2d_overlap_pad", lambda x: rg.max_pool2d(x, 3, stride=2, pad=1), [X],
         numpy=lambda x: ref_pool(x, 3, 2, 1)),
    case("max_pool2d_gather", lambda gg, x: apply("max_pool2d_gather", gg, x, kernel_size=2),
         [((2, 2, 4, 4), ANY), ((2, 2, 4, 4), ANY)], numpy=lambda gg, x: ref_gather(gg, x, 2)),
    case("avg_pool2d", lambda x: rg.avg_pool2d(x, 2), [((2, 2, 4, 4), ANY)],
         numpy=lambda x: ref_pool(x, 2, how="avg")),
    case("avg_pool2d_pad", lambda x: rg.avg_pool2d(x, 3, stride=2, pad=1), [X],
         numpy=lambda x: ref_pool(x, 3, 2, 1, how="avg")),
    case("im2col", lambda x: rg.im2col(x, 3, stride=2, pad=1), [X], numpy=lambda x: ref_im2col(x, 3, 2, 1)),
    case("col2im_like", lambda c, x: apply("col2im_like", c, x, kernel_size=3, stride=2, pad=1),
         [((18, 18), ANY), X], numpy=lambda c, x: ref_col2im(c, x.shape, 3, 2, 1)),
    case("col2im", lambda c: rg.col2im(c, (2, 2, 5, 5), 3, stride=2, pad=1), [((18, 18), ANY)],
         numpy=lambda c: ref_col2im(c, (2, 2, 5, 5), 3, 2, 1)),
    case("embedding", lambda W: rg.embedding(W, np.array([[0, 2], [2, 3]])), [((4, 3), ANY)],
         numpy=lambda W: W[np.array([[0, 2], [2, 3]])]),
    case("batch_norm_2d", lambda x, g, b: rg.batch_norm(x, g, b), [((4, 3), ANY), ((3,), POS), ((3,), ANY)],
         numpy=ref_batch_norm, f32_tol=2e-3),
    case("batch_norm_nchw", lambda x, g, b: rg.batch_norm(x, g, b), [((3, 2, 2, 2), ANY), ((2,), POS), ((2,), ANY)],
         numpy=ref_batch_norm, f32_tol=2e-3),
    # eval mode is the identity (the p = 0 row above runs the mask op)
    case("dropout_p0", lambda x: rg.dropout(x, p=0.0), [((2, 3), ANY)], numpy=lambda x: x * 1.0),
    case("dropout_eval", lambda x: rg.dropout(x, p=0.5, train=False) * 2.0, [((2, 3), ANY)], numpy=lambda x: x * 2.0),
]
