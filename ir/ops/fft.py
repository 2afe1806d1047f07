"""``rg.fft``: NumPy's discrete Fourier transforms with gradients -- fft, ifft, rfft, irfft, fft2, ifft2,
fftn, ifftn and fftshift, with NumPy's names and signatures (``n``/``s``, ``axis``/``axes``, ``norm``).

Each is one registry entry. The attributes are normalised to NumPy's meaning made explicit: ``axes`` a
tuple of non-negative axes, ``s`` one size per axis (None: the input's size), ``norm`` one of
``"backward"``, ``"ortho"``, ``"forward"``. The VJPs follow from the transforms being linear with
symmetric matrices (``F[j, k] = exp(-2 pi i jk / n)``), under HIPS autograd's convention
(ir/ops/complex_ops.py), where the VJP of a linear map is its *transpose*, not its adjoint:

* fft / ifft (and the n-dimensional ones): the same transform of g with the same ``norm``, then cut or
  zero-padded back to the input's sizes where ``n``/``s`` padded or cut the input;
* rfft: g zero-padded from ``n//2 + 1`` to ``n`` entries, its fft, the real part (the input is real);
* irfft: ``ifft(g)`` over the first ``n//2 + 1`` entries, weighted 1 at the zero frequency (and at
  ``n/2`` for an even n) and 2 elsewhere -- the Hermitian half-spectrum counts the other half twice;
* fftshift: the opposite roll.

Sizes along transformed axes must be declared when ``n``/``s`` changes them, and for rfft/irfft (their
output size and VJP depend on them); other sizes may be None.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..apply import apply
from ..dtypes import complex_dtype, float_result, real_dtype
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import fmt, normalize_axis

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "fftn", "ifftn", "fftshift"]

NORMS = ("backward", "ortho", "forward")


# -- attributes -----------------------------------------------------------------------------------------
def _norm(norm: Any) -> str:
    if norm is None:
        return "backward"
    if not isinstance(norm, str) or norm not in NORMS:
        raise ShapeRuleError(f"norm {norm!r} is not one of None, 'backward', 'ortho', 'forward'",
                             "give one of NumPy's norm modes")
    return norm


def _size(n: Any, what: str) -> Optional[int]:
    """A transform length: None (the input's), a positive int, or -1 for the input's (NumPy 2's ``s``)."""
    if n is None or (what == "s" and isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n == -1):
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ShapeRuleError(f"{what} {n!r} is not a positive number of points", f"give {what} >= 1 (or None)")
    return int(n)


def _one_axis(ndim: int, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ShapeRuleError(f"axis {axis!r} is not one int", "give one int axis")
    if not -ndim <= axis < ndim:
        raise ShapeRuleError(f"axis {axis} is out of range for {ndim} dimensions", "use an axis between -ndim and ndim-1")
    return int(axis) % ndim


def _attrs_1d(avals: list, n: Any = None, axis: Any = -1, norm: Any = None) -> dict:
    return {"n": _size(n, "n"), "axis": _one_axis(avals[0].ndim, axis), "norm": _norm(norm)}


def _attrs_nd(default_axes: Any) -> Any:
    def normalize(avals: list, s: Any = None, axes: Any = default_axes, norm: Any = None) -> dict:
        ndim = avals[0].ndim
        if axes is None:  # NumPy: the last len(s) axes, or all of them
            axes = tuple(range(ndim - len(s), ndim)) if s is not None and _seq(s) else tuple(range(ndim))
        if not _seq(axes):
            raise ShapeRuleError(f"axes {axes!r} is not a sequence of ints", "give a tuple of axes")
        picked = tuple(_one_axis(ndim, a) for a in axes)
        if not picked:  # NumPy returns the input itself, not a complex transform
            raise ShapeRuleError("axes is empty: nothing to transform", "give at least one axis")
        if len(set(picked)) != len(picked):
            raise ShapeRuleError(f"axes {tuple(axes)!r} repeat an axis", "give each axis once")
        if s is None:
            sizes: tuple = (None,) * len(picked)
        elif not _seq(s) or len(s) != len(picked):
            raise ShapeRuleError(f"s {s!r} does not give one size for each of the {len(picked)} axes",
                                 "give one size per axis (or None)")
        else:
            sizes = tuple(_size(n, "s") for n in s)
        return {"s": sizes, "axes": picked, "norm": _norm(norm)}

    return normalize


def _seq(v: Any) -> bool:
    return isinstance(v, (tuple, list))


def _fftshift_attrs(avals: list, axes: Any = None) -> dict:
    try:
        picked = normalize_axis(axes, avals[0].ndim)
    except (ValueError, TypeError) as exc:
        raise ShapeRuleError(f"bad axes {axes!r}: {exc}", "give an int or a tuple of ints") from None
    return {"axes": tuple(range(avals[0].ndim)) if picked is None else picked}


# -- shape/dtype rules ----------------------------------------------------------------------------------
def _transformed(x: Aval, pairs: list, kind: str) -> tuple:
    """The output shape: each (axis, n) replaced by n (None: the input's size), checking what the kernel checks."""
    shape = list(x.shape)
    if not x.ndim:
        raise ShapeRuleError("the input is a scalar; a transform needs an axis", "give an array of at least 1-D")
    for axis, n in pairs:
        m = x.shape[axis]
        if n is None and m == 0:
            raise ShapeRuleError(f"axis {axis} has size 0: no points to transform", "give n >= 1, or a non-empty axis")
        if (n is not None or kind != "c2c") and m is None:
            why = ("n/s resizes it, and the gradient cuts or pads back to it" if kind == "c2c" else
                   f"{kind}'s output size and gradient depend on it")
            raise ShapeRuleError(f"the size of axis {axis} is not declared (shape {fmt(x.shape)}): {why}",
                                 "declare the input's size along the transformed axes")
        shape[axis] = m if n is None else n
    return shape


def _c2c_dtype(x: Aval) -> np.dtype:
    return complex_dtype(float_result(x.dtype))


def _rule_1d(x: Aval, n: Optional[int], axis: int, norm: str) -> tuple:
    return tuple(_transformed(x, [(axis, n)], "c2c")), _c2c_dtype(x)


def _rule_nd(x: Aval, s: tuple, axes: tuple, norm: str) -> tuple:
    return tuple(_transformed(x, list(zip(axes, s)), "c2c")), _c2c_dtype(x)


def _rfft_rule(x: Aval, n: Optional[int], axis: int, norm: str) -> tuple:
    if x.dtype.kind == "c":
        raise ShapeRuleError(f"rfft takes a real input, got {x.dtype}", "use rg.fft.fft for a complex input")
    shape = _transformed(x, [(axis, n)], "rfft")
    shape[axis] = shape[axis] // 2 + 1
    return tuple(shape), _c2c_dtype(x)


def _irfft_length(m: int, n: Optional[int]) -> int:
    return 2 * (m - 1) if n is None else n


def _irfft_rule(x: Aval, n: Optional[int], axis: int, norm: str) -> tuple:
    shape = _transformed(x, [(axis, n)], "irfft")
    out = _irfft_length(x.shape[axis], n)
    if out < 1:
        raise ShapeRuleError(f"axis {axis} of size {x.shape[axis]} gives an output of {out} points",
                             "give n >= 1, or at least 2 points")
    shape[axis] = out
    return tuple(shape), real_dtype(_c2c_dtype(x))


# -- VJPs -------------------------------------------------------------------------------------------------
def _resize(h: Any, axis: int, size: int) -> Any:
    """h cut or zero-padded along ``axis`` to ``size`` (the transpose of NumPy's n/s resizing)."""
    have = h.shape[axis]
    if have == size:
        return h
    if have > size:
        return apply("getitem", h, index=(slice(None),) * axis + (slice(0, size),))
    widths = tuple((0, size - have) if a == axis else (0, 0) for a in range(h.ndim))
    return apply("pad", h, pad_width=widths, constant_values=0)


def _back_to(h: Any, x: Any, pairs: list) -> Any:
    for axis, n in pairs:
        if n is not None:
            h = _resize(h, axis, x.shape[axis])
    return h


def _vjp_1d(op: str) -> Any:
    return lambda g, out, x, n, axis, norm: _back_to(apply(op, g, n=None, axis=axis, norm=norm), x, [(axis, n)])


def _vjp_nd(op: str) -> Any:
    def vjp(g: Any, out: Any, x: Any, s: tuple, axes: tuple, norm: str) -> Any:
        return _back_to(apply(op, g, s=None, axes=axes, norm=norm), x, list(zip(axes, s)))

    return vjp


def _rfft_vjp(g: Any, out: Any, x: Any, n: Optional[int], axis: int, norm: str) -> Any:
    length = x.shape[axis] if n is None else n
    full = apply("fft", _resize(g, axis, length), n=None, axis=axis, norm=norm)
    return _back_to(apply("real", full), x, [(axis, n)])


def _irfft_vjp(g: Any, out: Any, x: Any, n: Optional[int], axis: int, norm: str) -> Any:
    length = _irfft_length(x.shape[axis], n)
    half = length // 2 + 1
    weights = np.full(half, 2.0)
    weights[0] = 1.0
    if length % 2 == 0:
        weights[-1] = 1.0
    weights = weights.reshape((half,) + (1,) * (g.ndim - 1 - axis)).astype(real_dtype(g.dtype))
    spectrum = _resize(apply("ifft", g, n=None, axis=axis, norm=norm), axis, half) * weights
    return _resize(spectrum, axis, x.shape[axis])


def _fftshift_rule(x: Aval, axes: tuple) -> tuple:
    if any(x.shape[a] is None for a in axes):
        raise ShapeRuleError(f"the sizes of axes {axes} are not all declared (shape {fmt(x.shape)})",
                             "declare the sizes of the shifted axes")
    return x.shape, x.dtype


def _fftshift_vjp(g: Any, out: Any, x: Any, axes: tuple) -> Any:
    if not axes:
        return g
    return apply("roll", g, shift=tuple(-(x.shape[a] // 2) for a in axes), axis=axes)


# -- registry ---------------------------------------------------------------------------------------------
_NOTE = "linear: the VJP is its transpose, {what}"
_ATTRS_1D = {"n": None, "axis": -1, "norm": None}
FACTS = {"fresh": True, "complex_ok": True}
for _name, _inverse in (("fft", "fft"), ("ifft", "ifft")):
    register(OpDef(_name, 1, _rule_1d, attrs=_ATTRS_1D, normalize=_attrs_1d, vjp=(_vjp_1d(_inverse),), **FACTS,
                   grad_note=_NOTE.format(what=f"{_inverse}(g) with the same norm, cut/padded back to the input's n")))
for _name, _axes in (("fft2", (-2, -1)), ("ifft2", (-2, -1)), ("fftn", None), ("ifftn", None)):
    _same = "ifftn" if _name.startswith("i") else "fftn"
    register(OpDef(_name, 1, _rule_nd, attrs={"s": None, "axes": _axes, "norm": None}, normalize=_attrs_nd(_axes),
                   vjp=(_vjp_nd(_same),), **FACTS,
                   grad_note=_NOTE.format(what=f"{_same}(g) over the same axes and norm, cut/padded back to the input's s")))
register(OpDef("rfft", 1, _rfft_rule, attrs=_ATTRS_1D, normalize=_attrs_1d, vjp=(_rfft_vjp,), **FACTS,
               grad_note=_NOTE.format(what="Re(fft(g zero-padded to n points))")))
register(OpDef("irfft", 1, _irfft_rule, attrs=_ATTRS_1D, normalize=_attrs_1d, vjp=(_irfft_vjp,), **FACTS,
               grad_note=_NOTE.format(what="ifft(g) on the half spectrum, weighted 2 except at frequency 0 (and n/2); "
                                           "the imaginary parts there get none, as the transform ignores them")))
register(OpDef("fftshift", 1, _fftshift_rule, attrs={"axes": None}, normalize=_fftshift_attrs, vjp=(_fftshift_vjp,),
               **FACTS, grad_note="the opposite roll (ifftshift of g)"))


# -- public functions ---------------------------------------------------------------------------------------
def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """The discrete Fourier transform along one axis (np.fft.fft). ``rg.fft.fft(x, n=8)``"""
    return apply("fft", a, n=n, axis=axis, norm=norm)


def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """The inverse transform along one axis (np.fft.ifft). ``rg.fft.ifft(rg.fft.fft(x))``"""
    return apply("ifft", a, n=n, axis=axis, norm=norm)


def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """The transform of a real input, its n//2 + 1 non-negative frequencies (np.fft.rfft). ``rg.fft.rfft(x)``"""
    return apply("rfft", a, n=n, axis=axis, norm=norm)


def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Any:
    """The real inverse of rfft, n points (default 2(m - 1)) (np.fft.irfft). ``rg.fft.irfft(X, n=8)``"""
    return apply("irfft", a, n=n, axis=axis, norm=norm)


def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None) -> Any:
    """The 2-D transform over ``axes`` (np.fft.fft2). ``rg.fft.fft2(image)``"""
    return apply("fft2", a, s=s, axes=axes, norm=norm)


def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None) -> Any:
    """The 2-D inverse transform (np.fft.ifft2). ``rg.fft.ifft2(spectrum)``"""
    return apply("ifft2", a, s=s, axes=axes, norm=norm)


def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """The n-D transform over ``axes`` (all by default) (np.fft.fftn). ``rg.fft.fftn(x, axes=(0, 2))``"""
    return apply("fftn", a, s=s, axes=axes, norm=norm)


def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """The n-D inverse transform (np.fft.ifftn). ``rg.fft.ifftn(spectrum)``"""
    return apply("ifftn", a, s=s, axes=axes, norm=norm)


def fftshift(x: Any, axes: Any = None) -> Any:
    """The zero frequency moved to the centre: a roll by n//2 along ``axes`` (np.fft.fftshift).
    ``rg.fft.fftshift(rg.fft.fft(x))``"""
    return apply("fftshift", x, axes=axes)


from ..naming import with_name as _with_name  # noqa: E402

for _public in __all__:
    globals()[_public] = _with_name(globals()[_public])
