"""NumPy kernels of ir/ops/conv.py (convolution, pooling, im2col/col2im, batch norm), merged into kernels.py's table.

Memory traffic, not arithmetic, is what these cost (benchmarks W5), so: the convolution and its filter gradient
work on the NCHW layout image by image, from column blocks a few images at a time that stay in cache (one GEMM
per image, no transposed copy of the output or of its gradient); pooling walks the window's KH*KW offsets as
strided slices of the output's shape (a running max/sum, and the gradient written back through the same
slices: no window copies, no index arrays); im2col is a strided view (``sliding_window_view``) copied once.
Helpers read the array namespace from kernels.py at call time, like the other kernel modules.
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
    cols = w.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    # The reshape copies, except where the windows already lie as the rows do (one window position, say): then
    # it is a read-only view of x, and im2col is declared fresh (the memory plan may write into its result).
    return cols if cols.flags.writeable else cols.copy()


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


# The convolution works image by image on the NCHW layout itself: one image's columns are a (C*KH*KW, OH*OW)
# matrix, built a few images at a time (a block that stays in cache), so the filters (OC, C*KH*KW) times the
# columns is already NCHW (no transposed copy of the output), and the filter gradient sums, image by image,
# the output gradient (OC, OH*OW) times the columns' transpose (one small GEMM each, nothing transposed).
_BLOCK = 1 << 17  # elements of the column block (1 MiB in float64)


def _out_hw(shape, kernel_size, stride, pad):
    return tuple((shape[2 + a] + 2 * pad[a] - kernel_size[a]) // stride[a] + 1 for a in (0, 1))


def _column_blocks(xpad, kernel_size, stride, out_hw):
    """``(start, cols)`` for blocks of images: cols (n, C*KH*KW, OH*OW), filled one kernel offset at a time."""
    xp = _xp()
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (oh, ow) = kernel_size, stride, out_hw
    step = max(1, _BLOCK // max(1, c * kh * kw * oh * ow))  # (zero-size filters: one block)
    buf = xp.empty((min(step, n), c, kh, kw, oh, ow), dtype=xpad.dtype)
    for start in range(0, n, step):
        block = xpad[start:start + step]
        cols = buf[:block.shape[0]]
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = block[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
        yield start, cols.reshape(block.shape[0], c * kh * kw, oh * ow)


def conv2d(x, W, b=None, stride=(1, 1), pad=(0, 0)):
    xp = _xp()
    oc = W.shape[0]
    n = x.shape[0]
    oh, ow = _out_hw(x.shape, W.shape[2:], stride, pad)
    y = xp.empty((n, oc, oh * ow), dtype=xp.result_type(x, W, *(() if b is None else (b,))))
    Wm = W.reshape(oc, W.shape[1] * W.shape[2] * W.shape[3])
    for start, cols in _column_blocks(_padded(x, pad), W.shape[2:], stride, (oh, ow)):
        xp.matmul(Wm, cols, out=y[start:start + cols.shape[0]])
    if b is not None:
        y += b[:, None]
    return y.reshape(n, oc, oh, ow)


def conv2d_grad_w(x, gy, kernel_size, stride, pad):
    xp = _xp()
    n, oc = gy.shape[:2]
    c = x.shape[1]
    g = gy.reshape(n, oc, gy.shape[2] * gy.shape[3])
    dW = xp.zeros((oc, c * kernel_size[0] * kernel_size[1]), dtype=xp.result_type(x, gy))
    for start, cols in _column_blocks(_padded(x, pad), kernel_size, stride, gy.shape[2:]):
        for k in range(cols.shape[0]):
            dW += g[start + k] @ cols[k].T
    return dW.reshape((oc, c) + tuple(kernel_size))


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


# Pooling reads each window's places as kernel_size strided slices of the padded images (one per offset
# (i, j), each of the output's shape): max and mean are a running maximum/sum over them, and the gradient is
# written back through the same slices -- no window copies, no index arrays.
def _offset_slices(kernel_size, stride, out_hw):
    """Row-major (i, j) offsets of a window as index tuples into the padded image: [:, :, i::sh, j::sw] cut to out."""
    (kh, kw), (sh, sw), (oh, ow) = kernel_size, stride, out_hw
    return [(slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))
            for i in range(kh) for j in range(kw)]


def _pool_max(xpad, places):
    xp = _xp()
    m = xp.array(xpad[places[0]])
    for place in places[1:]:
        xp.maximum(m, xpad[place], out=m)
    return m


def _first_max_hits(x, kernel_size, stride, pad):
    """(padded shape, [(place, hit)]): for each window offset, where it holds its window's first maximum
    (row-major; a later equal value does not count again). Boolean masks, one per offset, of the output's shape."""
    xpad = _padded(x, pad, value=-np.inf)
    places = _offset_slices(kernel_size, stride, _out_hw(x.shape, kernel_size, stride, pad))
    m = _pool_max(xpad, places)
    hits, found = [], None
    for k, place in enumerate(places):
        at_max = xpad[place] == m
        if found is None:
            hits.append((place, at_max))
            found = at_max.copy() if len(places) > 1 else None
            continue
        hits.append((place, at_max > found))  # at the maximum and not found before
        if k + 1 < len(places):
            found |= at_max
    return xpad.shape, hits


def max_pool2d(x, kernel_size, stride, pad):
    return _pool_max(_padded(x, pad, value=-np.inf), _offset_slices(kernel_size, stride, _out_hw(x.shape, kernel_size,
                                                                                                  stride, pad)))


def _cropped(gpad, shape, pad):
    xp = _xp()
    if pad == (0, 0):
        return gpad
    return xp.ascontiguousarray(gpad[:, :, pad[0]:pad[0] + shape[2], pad[1]:pad[1] + shape[3]])


def _non_overlapping(kernel_size, stride, pad) -> bool:
    """Whether ``max_pool2d_grad`` can write its result over its input images as it reads them (the registry's
    ``overwrites`` fact says when): windows that never overlap (each place is read by one window at most) and
    no padding (result and input are the same places)."""
    return tuple(pad) == (0, 0) and stride[0] >= kernel_size[0] and stride[1] >= kernel_size[1]


def _pool_grad_over(a, gy, kernel_size, stride):
    """max_pool2d_grad written over ``a`` (holding the input images; windows not overlapping, no padding), a few
    images at a time: each window offset's place is compared with the block's maxima, then overwritten by the
    gradient there (or 0), so every place is read before it is written and the temporaries are a block's."""
    xp = _xp()
    (kh, kw), (sh, sw) = kernel_size, stride
    oh, ow = gy.shape[2:]
    a[:, :, sh * oh:] = 0  # places in no window (the rows and columns past the last one, the gaps between)
    a[:, :, :, sw * ow:] = 0
    for i in range(kh, sh):
        a[:, :, i:sh * oh:sh] = 0
    for j in range(kw, sw):
        a[:, :, :, j:sw * ow:sw] = 0
    places = _offset_slices(kernel_size, stride, (oh, ow))
    step = max(1, _BLOCK // max(1, a[0].size))
    for start in range(0, a.shape[0], step):
        block, g = a[start:start + step], gy[start:start + step]
        m = _pool_max(block, places)
        found = None
        for k, place in enumerate(places):
            v = block[place]
            hit = v == m
            if found is not None:
                hit &= ~found  # the first maximum in row-major order takes the gradient
            if k + 1 < len(places):
                found = hit.copy() if found is None else xp.logical_or(found, hit, out=found)
            xp.multiply(g, hit, out=v)
    return a


def max_pool2d_grad(gy, x, kernel_size, stride, pad, out=None):
    xp = _xp()
    if out is not None:  # into a given buffer: x's own (dying there), or a dead one of the result's shape
        if not _non_overlapping(kernel_size, stride, pad):
            out[...] = max_pool2d_grad(gy, x, kernel_size, stride, pad)
            return out
        if out is not x:
            out[...] = x
        return _pool_grad_over(out, gy, kernel_size, stride)
    padded, hits = _first_max_hits(x, kernel_size, stride, pad)
    g = xp.zeros(padded, dtype=xp.result_type(gy, x))
    overlapping = stride[0] < kernel_size[0] or stride[1] < kernel_size[1]
    for place, hit in hits:
        if overlapping:  # a place can be the maximum of several windows: add
            g[place] += gy * hit
        else:  # each place belongs to one window at most: write
            xp.multiply(gy, hit, out=g[place])
    return _cropped(g, x.shape, pad)


def max_pool2d_gather(gg, x, kernel_size, stride, pad):
    xp = _xp()
    _, hits = _first_max_hits(x, kernel_size, stride, pad)
    g = _padded(gg, pad)
    out = None
    for place, hit in hits:
        if out is None:
            out = xp.multiply(g[place], hit, dtype=xp.result_type(gg, x))
        else:
            out += g[place] * hit
    return out


def avg_pool2d(x, kernel_size, stride, pad):
    xp = _xp()
    xpad = _padded(x, pad)
    places = _offset_slices(kernel_size, stride, _out_hw(x.shape, kernel_size, stride, pad))
    s = xp.array(xpad[places[0]], dtype=xp.result_type(x, 1.0))
    for place in places[1:]:
        s += xpad[place]
    s /= len(places)
    return s


def avg_pool2d_grad(gy, x, kernel_size, stride, pad):
    xp = _xp()
    n, c, h, w = x.shape
    g = xp.zeros((n, c, h + 2 * pad[0], w + 2 * pad[1]), dtype=xp.result_type(gy, x))
    share = gy / (kernel_size[0] * kernel_size[1])
    for place in _offset_slices(kernel_size, stride, gy.shape[2:]):
        g[place] += share
    return _cropped(g, x.shape, pad)


def batch_norm(x, gamma, beta, eps):
    xp = _xp()
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    xc = (x - mu).astype(np.result_type(x.dtype, gamma.dtype, beta.dtype), copy=False)  # in place below
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


# In-place forms (kernels.INPLACE): max pooling's gradient computed over the images, or into a dead buffer.
INPLACE = {"max_pool2d_grad": lambda a, k, out: f"{_call('max_pool2d_grad', *_WINDOW)(a, k)[:-1]}, out={out})"}
