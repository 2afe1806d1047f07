"""Convolution, pooling and batch normalisation (book 1 ch. 6-7, DeZero steps 52-57), NCHW.

Every VJP is written in these ops, so the backward pass is a graph of them and differentiates again:
conv2d's input gradient is a conv_transpose2d and its weight gradient a ``conv2d_grad_w``; the
transposed convolution's are a conv2d and a ``conv2d_grad_w``; ``conv2d_grad_w``'s are the other two.
Max pooling sends each gradient to its window's maximum (``max_pool2d_grad``), whose own VJP reads
the gradient back at those places (``max_pool2d_gather``), and the other way round. Average pooling and
its gradient (``avg_pool2d_grad``) are each other's VJPs. im2col and col2im are each other's too.

Dropout is inverted dropout: ``x * mask`` with a mask of 0 and 1 / (1 - p) drawn afresh every time the
program (or the dynamic op) runs, from the NumPy backend's generator (``rg.seed(n)`` makes the draws
reproducible). The mask is its own node (op ``dropout_mask``, declared ``random``), so the backward pass
multiplies by the very mask the forward pass drew, and no pass merges, folds or recomputes it.

Conventions (documented in docs/ops.md): sizes ``kernel_size``, ``stride``, ``pad`` are an int or a
pair (rows, columns). conv2d pads with zeros; max_pool2d pads with -inf (a padded place never wins,
as in PyTorch) and a tie in a window sends the gradient to the first maximum in row-major order;
avg_pool2d pads with zeros and counts them in the divisor (the book's im2col pooling, PyTorch's
``count_include_pad=True``). batch_norm normalises with the batch's statistics over axis 0 of an
(N, D) input or axes (0, 2, 3) of an (N, C, H, W) input, with the biased variance.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..apply import apply
from ..dtypes import promote
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import fmt
from .elementwise import sqrt
from .reductions import mean, sum as _sum
from .shape_ops import reshape

__all__ = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "im2col", "col2im", "batch_norm", "dropout",
           "embedding"]


# -- sizes ------------------------------------------------------------------------------------------
def _pair(what: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum, as a pair."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise ShapeRuleError(f"{what}={value!r} is not an int or a pair of ints", f"pass e.g. {what}=2 or {what}=(2, 3)")
    pair = (int(items[0]), int(items[1]))
    if min(pair) < minimum:
        raise ShapeRuleError(f"{what}={value!r} must be >= {minimum}", f"pass {what} of at least {minimum}")
    return pair


def _out_size(size: int, k: int, s: int, p: int, what: str) -> int:
    out = (size + 2 * p - k) // s + 1
    if out < 1:
        raise ShapeRuleError(f"a {k}-wide window does not fit {what} size {size} padded by {p} on each side",
                             "use a smaller kernel_size or more padding")
    return out


def _image(x: Aval, what: str) -> tuple:
    if x.ndim != 4:
        raise ShapeRuleError(f"{what} takes an (N, C, H, W) image batch, got shape {fmt(x.shape)}",
                             "reshape to 4 axes: batch, channels, height, width")
    if any(s is None for s in x.shape[1:]):
        raise ShapeRuleError(f"{what} needs the channel, height and width of {fmt(x.shape)} declared",
                             "only the batch size may be None")
    return x.shape


def _float(*avals: Aval) -> np.dtype:
    dtype = promote(*avals)
    if dtype.kind != "f":
        raise ShapeRuleError(f"operands of dtype {', '.join(str(a.dtype) for a in avals)} are not float",
                             "cast the images and weights to float32 or float64")
    return dtype


def _window_attrs(avals: list, kernel_size: Any = 2, stride: Any = None, pad: Any = 0, **rest: Any) -> dict:
    k = _pair("kernel_size", kernel_size, 1)
    return {"kernel_size": k, "stride": k if stride is None else _pair("stride", stride, 1),
            "pad": _pair("pad", pad, 0), **rest}


def _conv_attrs(avals: list, stride: Any = 1, pad: Any = 0, **rest: Any) -> dict:
    return {"stride": _pair("stride", stride, 1), "pad": _pair("pad", pad, 0), **rest}


def _windows(shape: tuple, kernel_size: tuple, stride: tuple, pad: tuple) -> tuple[int, int]:
    return (_out_size(shape[2], kernel_size[0], stride[0], pad[0], "height"),
            _out_size(shape[3], kernel_size[1], stride[1], pad[1], "width"))


# -- conv2d ------------------------------------------------------------------------------------------
def _bias_rule(b: Optional[Aval], channels: int, what: str) -> None:
    if b is not None and (b.ndim != 1 or b.shape[0] not in (channels, None)):
        raise ShapeRuleError(f"{what}'s bias has shape {fmt(b.shape)}, not ({channels},)", "pass one bias per output channel")


def _operands(what: str, avals: tuple) -> tuple:
    if len(avals) not in (2, 3):
        raise ShapeRuleError(f"{what} takes the images, the filters and optionally a bias: got {len(avals)} operand(s)",
                             f"call rg.{what}(x, W) or rg.{what}(x, W, b)")
    return avals if len(avals) == 3 else avals + (None,)


def _conv2d_rule(*avals: Aval, stride: tuple = (1, 1), pad: tuple = (0, 0)) -> tuple:
    x, W, b = _operands("conv2d", avals)
    n, c, _, _ = _image(x, "conv2d")
    if W.ndim != 4 or None in W.shape or W.shape[1] != c:
        raise ShapeRuleError(f"conv2d's filters have shape {fmt(W.shape)}; for {c} input channels they must be "
                             f"(out_channels, {c}, KH, KW)", "declare W with shape (OC, C, KH, KW)")
    _bias_rule(b, W.shape[0], "conv2d")
    oh, ow = _windows(x.shape, W.shape[2:], stride, pad)
    return (n, W.shape[0], oh, ow), _float(x, W, *([b] if b is not None else []))


def _conv2d_vjp(g: Any, out: Any, x: Any, W: Any, *b: Any, index: int, stride: tuple, pad: tuple) -> Any:
    if index == 0:
        return apply("conv_transpose2d", g, W, stride=stride, pad=pad, outsize=tuple(x.shape[2:]))
    if index == 1:
        return apply("conv2d_grad_w", x, g, kernel_size=tuple(W.shape[2:]), stride=stride, pad=pad)
    return _sum(g, axis=(0, 2, 3))


register(OpDef("conv2d", None, _conv2d_rule, vjp=_conv2d_vjp, attrs={"stride": 1, "pad": 0}, normalize=_conv_attrs,
               fresh=True, doc="2-D convolution (cross-correlation, as the book's im2col), NCHW"))


def conv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Any:
    """The book's Convolution layer: x (N, C, H, W) with filters W (OC, C, KH, KW), bias b (OC,) -> (N, OC, OH, OW).

    >>> y = rg.conv2d(x, W, b, stride=1, pad=1)      # OH = (H + 2*pad - KH) // stride + 1
    """
    return apply("conv2d", x, W, stride=stride, pad=pad) if b is None else apply("conv2d", x, W, b, stride=stride, pad=pad)


# -- the transposed convolution -------------------------------------------------------------------
def _conv_t_rule(*avals: Aval, stride: tuple = (1, 1), pad: tuple = (0, 0), outsize: Any = None) -> tuple:
    x, W, b = _operands("conv_transpose2d", avals)
    n, c, h, w = _image(x, "conv_transpose2d")
    if W.ndim != 4 or None in W.shape or W.shape[0] != c:
        raise ShapeRuleError(f"conv_transpose2d's filters have shape {fmt(W.shape)}; for {c} input channels they "
                             f"must be ({c}, out_channels, KH, KW)", "declare W with shape (C_in, C_out, KH, KW)")
    _bias_rule(b, W.shape[1], "conv_transpose2d")
    kh, kw = W.shape[2:]
    if outsize is None:
        oh, ow = stride[0] * (h - 1) + kh - 2 * pad[0], stride[1] * (w - 1) + kw - 2 * pad[1]
    else:
        oh, ow = outsize
        if _windows((n, 0, oh, ow), (kh, kw), stride, pad) != (h, w):
            raise ShapeRuleError(f"outsize={outsize!r} is not an output a conv2d of stride {stride} and pad {pad} "
                                 f"maps back to ({h}, {w})", "leave outsize=None for the smallest such output")
    if min(oh, ow) < 1:
        raise ShapeRuleError(f"padding {pad} leaves no output for a {h}x{w} input", "use less padding")
    return (n, W.shape[1], oh, ow), _float(x, W, *([b] if b is not None else []))


def _conv_t_attrs(avals: list, stride: Any = 1, pad: Any = 0, outsize: Any = None) -> dict:
    attrs = _conv_attrs(avals, stride, pad)
    attrs["outsize"] = None if outsize is None else _pair("outsize", outsize, 1)
    return attrs


def _conv_t_vjp(g: Any, out: Any, x: Any, W: Any, *b: Any, index: int, stride: tuple, pad: tuple, outsize: Any) -> Any:
    if index == 0:
        return apply("conv2d", g, W, stride=stride, pad=pad)
    if index == 1:
        return apply("conv2d_grad_w", g, x, kernel_size=tuple(W.shape[2:]), stride=stride, pad=pad)
    return _sum(g, axis=(0, 2, 3))


register(OpDef("conv_transpose2d", None, _conv_t_rule, vjp=_conv_t_vjp, attrs={"stride": 1, "pad": 0, "outsize": None},
               normalize=_conv_t_attrs, fresh=True, doc="transposed 2-D convolution (conv2d's input gradient), NCHW"))


def conv_transpose2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0, outsize: Any = None) -> Any:
    """Transposed convolution: x (N, C_in, H, W), W (C_in, C_out, KH, KW) -> (N, C_out, OH, OW),
    OH = stride * (H - 1) + KH - 2 * pad unless ``outsize=(OH, OW)`` picks another size conv2d maps back.

    >>> up = rg.conv_transpose2d(h, W, stride=2)        # the array conv2d uses, in the other direction
    """
    operands = (x, W) if b is None else (x, W, b)
    return apply("conv_transpose2d", *operands, stride=stride, pad=pad, outsize=outsize)


def _grad_w_rule(x: Aval, gy: Aval, kernel_size: tuple = (1, 1), stride: tuple = (1, 1), pad: tuple = (0, 0)) -> tuple:
    n, c, _, _ = _image(x, "conv2d_grad_w")
    if gy.ndim != 4 or gy.shape[2:] != _windows(x.shape, kernel_size, stride, pad) or not _same(gy.shape[0], n):
        raise ShapeRuleError(f"output gradient of shape {fmt(gy.shape)} does not match the windows of {fmt(x.shape)}",
                             "pass conv2d's output gradient (one per image, one plane per window position)")
    return (gy.shape[1], c) + tuple(kernel_size), _float(x, gy)


def _grad_w_vjp(g: Any, out: Any, x: Any, gy: Any, *, index: int, kernel_size: tuple, stride: tuple, pad: tuple) -> Any:
    if index == 0:
        return apply("conv_transpose2d", gy, g, stride=stride, pad=pad, outsize=tuple(x.shape[2:]))
    return apply("conv2d", x, g, stride=stride, pad=pad)


register(OpDef("conv2d_grad_w", 2, _grad_w_rule, vjp=_grad_w_vjp, internal=True, fresh=True,
               attrs={"kernel_size": (1, 1), "stride": 1, "pad": 0}, normalize=_window_attrs,
               doc="the gradient of conv2d with respect to its filters"))


# -- pooling -------------------------------------------------------------------------------------------
def _pool_rule(x: Aval, kernel_size: tuple = (2, 2), stride: tuple = (2, 2), pad: tuple = (0, 0)) -> tuple:
    n, c, _, _ = _image(x, "pooling")
    if pad[0] * 2 > kernel_size[0] or pad[1] * 2 > kernel_size[1]:
        raise ShapeRuleError(f"pad={pad} is more than half the window {kernel_size}: a window could hold only padding",
                             "use pad <= kernel_size // 2")
    return (n, c) + _windows(x.shape, kernel_size, stride, pad), _float(x)


def _same(a: Optional[int], b: Optional[int]) -> bool:
    """Two sizes that may agree: equal, or one fixed only at run time."""
    return a is None or b is None or a == b


def _agree(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))


def _pool_grad_rule(g: Aval, x: Aval, **attrs: Any) -> tuple:
    if not _agree(g.shape, _pool_rule(x, **attrs)[0]):
        raise ShapeRuleError(f"gradient of shape {fmt(g.shape)} does not match the pooled {fmt(x.shape)}, "
                             f"which has shape {fmt(_pool_rule(x, **attrs)[0])}", "pass the pooling's output gradient")
    return x.shape, _float(g, x)


def _gather_rule(gg: Aval, x: Aval, **attrs: Any) -> tuple:
    if not _agree(gg.shape, x.shape):
        raise ShapeRuleError(f"the values gathered from have shape {fmt(gg.shape)}, not the images' {fmt(x.shape)}",
                             "pass a tensor of x's shape (the gradient of max_pool2d_grad's result)")
    return _pool_rule(x, **attrs)[0], _float(gg, x)


_POOL_ATTRS = {"kernel_size": 2, "stride": None, "pad": 0}


def _max_pool_vjp(g: Any, out: Any, x: Any, **attrs: Any) -> Any:
    return apply("max_pool2d_grad", g, x, **attrs)


register(OpDef("max_pool2d", 1, _pool_rule, vjp=(_max_pool_vjp,), attrs=dict(_POOL_ATTRS), normalize=_window_attrs,
               fresh=True, doc="max over each window, NCHW",
               grad_note="to the first maximum of each window (row-major); padding is -inf and never wins"))
def _over_images(attrs: dict) -> Optional[int]:
    """The images (operand 1) max_pool2d_grad may be computed over: windows that never overlap, no padding."""
    k, s, p = attrs["kernel_size"], attrs["stride"], attrs["pad"]
    return 1 if tuple(p) == (0, 0) and s[0] >= k[0] and s[1] >= k[1] else None


register(OpDef("max_pool2d_grad", 2, _pool_grad_rule, internal=True, fresh=True, attrs=dict(_POOL_ATTRS),
               normalize=_window_attrs, overwrites=_over_images, vjp=(lambda g, out, gy, x, **a: apply("max_pool2d_gather", g, x, **a), None),
               doc="max_pool2d's gradient: each window's gradient at its maximum"))
register(OpDef("max_pool2d_gather", 2, _gather_rule, internal=True, fresh=True, attrs=dict(_POOL_ATTRS),
               normalize=_window_attrs, vjp=(lambda g, out, gg, x, **a: apply("max_pool2d_grad", g, x, **a), None),
               doc="the values at each window's maximum of x (max_pool2d_grad's VJP)"))


def max_pool2d(x: Any, kernel_size: Any = 2, stride: Any = None, pad: Any = 0) -> Any:
    """The book's Pooling layer (max): (N, C, H, W) -> (N, C, OH, OW); ``stride`` defaults to ``kernel_size``.

    >>> p = rg.max_pool2d(rg.relu(rg.conv2d(x, W, b)), 2)
    """
    return apply("max_pool2d", x, kernel_size=kernel_size, stride=stride, pad=pad)


def _avg_pool_vjp(g: Any, out: Any, x: Any, **attrs: Any) -> Any:
    return apply("avg_pool2d_grad", g, x, **attrs)


register(OpDef("avg_pool2d", 1, _pool_rule, vjp=(_avg_pool_vjp,), attrs=dict(_POOL_ATTRS), normalize=_window_attrs,
               fresh=True, doc="mean over each window, padding counted in the divisor, NCHW",
               grad_note="spread evenly over the window, padded places included"))
register(OpDef("avg_pool2d_grad", 2, _pool_grad_rule, internal=True, fresh=True, attrs=dict(_POOL_ATTRS),
               normalize=_window_attrs, vjp=(lambda g, out, gy, x, **a: apply("avg_pool2d", g, **a), None),
               doc="avg_pool2d's gradient: each window's gradient spread over it"))


def avg_pool2d(x: Any, kernel_size: Any = 2, stride: Any = None, pad: Any = 0) -> Any:
    """Average pooling: (N, C, H, W) -> (N, C, OH, OW); zero padding counts in the divisor (the book's im2col way).

    >>> p = rg.avg_pool2d(x, 2)
    """
    return apply("avg_pool2d", x, kernel_size=kernel_size, stride=stride, pad=pad)


# -- im2col / col2im (public, for teaching: the book builds conv on them) ------------------------------
def _im2col_rule(x: Aval, kernel_size: tuple = (1, 1), stride: tuple = (1, 1), pad: tuple = (0, 0)) -> tuple:
    n, c, _, _ = _image(x, "im2col")
    oh, ow = _windows(x.shape, kernel_size, stride, pad)
    rows = None if n is None else n * oh * ow
    return (rows, c * kernel_size[0] * kernel_size[1]), x.dtype


def _im2col_attrs(avals: list, kernel_size: Any = 1, stride: Any = 1, pad: Any = 0) -> dict:
    return {"kernel_size": _pair("kernel_size", kernel_size, 1), "stride": _pair("stride", stride, 1),
            "pad": _pair("pad", pad, 0)}


def _col2im_attrs(avals: list, x_shape: Any = None, **rest: Any) -> dict:
    shape = tuple(x_shape) if isinstance(x_shape, (tuple, list)) else None
    if shape is None or len(shape) != 4 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape):
        raise ShapeRuleError(f"x_shape={x_shape!r} is not the (N, C, H, W) shape of an image batch",
                             "pass the shape of the images im2col was applied to")
    return {"x_shape": tuple(int(s) for s in shape), **_im2col_attrs(avals, **rest)}


def _col2im_rule(cols: Aval, x_shape: tuple = (1, 1, 1, 1), kernel_size: tuple = (1, 1), stride: tuple = (1, 1),
                 pad: tuple = (0, 0)) -> tuple:
    want, _ = _im2col_rule(Aval(x_shape, cols.dtype), kernel_size, stride, pad)
    if cols.ndim != 2 or any(a is not None and a != b for a, b in zip(cols.shape, want)):
        raise ShapeRuleError(f"columns of shape {fmt(cols.shape)} are not im2col's {fmt(want)} for images {x_shape}",
                             "pass im2col's result with the same x_shape, kernel_size, stride and pad")
    return x_shape, cols.dtype


def _col2im_like_rule(cols: Aval, x: Aval, **attrs: Any) -> tuple:
    want, _ = _im2col_rule(x, **attrs)
    if not _agree(cols.shape, want):
        raise ShapeRuleError(f"columns of shape {fmt(cols.shape)} are not im2col's {fmt(want)} for images "
                             f"{fmt(x.shape)}", "pass im2col's gradient, with the same kernel_size, stride and pad")
    return x.shape, cols.dtype


register(OpDef("im2col", 1, _im2col_rule, attrs={"kernel_size": 1, "stride": 1, "pad": 0}, normalize=_im2col_attrs,
               fresh=True, vjp=(lambda g, out, x, **a: apply("col2im_like", g, x, **a),),
               doc="image patches as rows: the book's (N*OH*OW, C*KH*KW) matrix"))
register(OpDef("col2im_like", 2, _col2im_like_rule, attrs={"kernel_size": 1, "stride": 1, "pad": 0},
               normalize=_im2col_attrs, fresh=True, internal=True,
               vjp=(lambda g, out, cols, x, **a: apply("im2col", g, **a), None),
               doc="col2im into images of x's shape (read when the program runs: the batch size may be None)"))
register(OpDef("col2im", 1, _col2im_rule, attrs={"x_shape": None, "kernel_size": 1, "stride": 1, "pad": 0},
               normalize=_col2im_attrs, fresh=True,
               vjp=(lambda g, out, cols, x_shape, **a: apply("im2col", g, **a),),
               doc="im2col's adjoint: rows added back into images (overlaps summed)"))


def im2col(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Any:
    """The book's im2col: (N, C, H, W) -> (N*OH*OW, C*KH*KW), one row per window position.

    >>> cols = rg.im2col(x, 3, pad=1); y = cols @ rg.reshape(W, (OC, -1)).T
    """
    return apply("im2col", x, kernel_size=kernel_size, stride=stride, pad=pad)


def col2im(cols: Any, x_shape: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Any:
    """The book's col2im: rows of im2col added back into (N, C, H, W) images (overlapping windows summed).

    >>> dx = rg.col2im(dcols, (N, C, H, W), 3, pad=1)
    """
    return apply("col2im", cols, x_shape=x_shape, kernel_size=kernel_size, stride=stride, pad=pad)


# -- batch normalisation ---------------------------------------------------------------------------------
def bn_axes(ndim: int) -> tuple:
    """The axes batch_norm averages over: the batch for (N, D), batch and positions for (N, C, H, W)."""
    return (0,) if ndim == 2 else (0, 2, 3)


def _bn_rule(x: Aval, gamma: Aval, beta: Aval, eps: float = 1e-5) -> tuple:
    if x.ndim not in (2, 4):
        raise ShapeRuleError(f"batch_norm takes (N, D) or (N, C, H, W), got {fmt(x.shape)}", "reshape the input")
    features = x.shape[1]
    for name, a in (("gamma", gamma), ("beta", beta)):
        if a.shape != (features,):
            raise ShapeRuleError(f"{name} has shape {fmt(a.shape)}, not ({features},)",
                                 f"pass one {name} per feature (axis 1)")
    return x.shape, _float(x, gamma, beta)


def _bn_attrs(avals: list, eps: Any = 1e-5) -> dict:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not eps > 0:
        raise ShapeRuleError(f"eps={eps!r} must be a number > 0", "pass e.g. eps=1e-5")
    return {"eps": float(eps)}


def _normalised(x: Any, eps: float) -> tuple:
    axes = bn_axes(len(x.shape))
    xc = x - mean(x, axis=axes, keepdims=True)
    rstd = 1.0 / sqrt(mean(xc * xc, axis=axes, keepdims=True) + eps)
    return axes, xc * rstd, rstd


def _bn_vjp_x(g: Any, out: Any, x: Any, gamma: Any, beta: Any, eps: float) -> Any:
    axes, xhat, rstd = _normalised(x, eps)
    gx = g * reshape(gamma, (1, -1) + (1,) * (len(x.shape) - 2))
    return rstd * (gx - mean(gx, axis=axes, keepdims=True) - xhat * mean(gx * xhat, axis=axes, keepdims=True))


def _bn_vjp_gamma(g: Any, out: Any, x: Any, gamma: Any, beta: Any, eps: float) -> Any:
    axes, xhat, _ = _normalised(x, eps)
    return _sum(g * xhat, axis=axes)


register(OpDef("batch_norm", 3, _bn_rule, attrs={"eps": 1e-5}, normalize=_bn_attrs, fresh=True,
               vjp=(_bn_vjp_x, _bn_vjp_gamma,
                    lambda g, out, x, gamma, beta, eps: _sum(g, axis=bn_axes(len(x.shape)))),
               doc="batch normalisation with the batch's statistics",
               grad_note="through the batch mean and (biased) variance, as training computes them"))


def batch_norm(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Any:
    """Normalise with the batch's mean and variance, then scale by gamma and shift by beta (book ch. 6):
    over axis 0 of (N, D), over (0, 2, 3) of (N, C, H, W).

    >>> h = rg.batch_norm(x @ W, gamma, beta)
    """
    return apply("batch_norm", x, gamma, beta, eps=eps)


# -- dropout ----------------------------------------------------------------------------------------------
def _mask_attrs(avals: list, p: Any = 0.5) -> dict:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
        raise ShapeRuleError(f"p={p!r} is not a drop probability in [0, 1)", "pass e.g. p=0.5")
    return {"p": float(p)}


def _mask_rule(x: Aval, p: float = 0.5) -> tuple:
    return x.shape, _float(x)


register(OpDef("dropout_mask", 1, _mask_rule, attrs={"p": 0.5}, normalize=_mask_attrs, internal=True, fresh=True,
               random=True, vjp=(None,), doc="a fresh inverted-dropout mask of x's shape: 0 with probability p, "
                                              "else 1 / (1 - p)"))


def dropout(x: Any, p: float = 0.5, train: bool = True) -> Any:
    """Inverted dropout (book ch. 6): in training each element is kept with probability 1 - p and scaled by
    1 / (1 - p), with a fresh mask every run; ``train=False`` is the identity.

    >>> h = rg.dropout(rg.relu(x @ W), p=0.5, train=True)
    """
    if not train:
        return x
    return x * apply("dropout_mask", x, p=p)


# -- embedding ---------------------------------------------------------------------------------------------
def _embedding_rule(W: Aval, ids: Aval) -> tuple:
    if W.ndim != 2:
        raise ShapeRuleError(f"embedding's table W has shape {fmt(W.shape)}; it must be (vocabulary, features)",
                             "declare W with two axes")
    if ids.dtype.kind not in "iu":
        raise ShapeRuleError(f"ids of dtype {ids.dtype} are not integer indices", "pass int64 ids")
    return tuple(ids.shape) + (W.shape[1],), W.dtype


register(OpDef("embedding", 2, _embedding_rule, fresh=True,
               vjp=(lambda g, out, W, ids: apply("index_grad", g, W, ids, key=("array",)), None),
               doc="rows of W at integer ids (DeZero's EmbedID)",
               grad_note="rows added back at their ids; repeated ids add up"))


def embedding(W: Any, ids: Any) -> Any:
    """Rows of the table W (vocabulary, features) at integer ``ids``: shape ``ids.shape + (features,)``.

    >>> vectors = rg.embedding(W, word_ids)
    """
    return apply("embedding", W, ids)
