"""Shape/dtype rules shared by many ops. Each takes the operands' ``Aval``s
(and the op's attributes) and returns ``(shape, dtype)``, or raises
``ShapeRuleError`` with a detail and a fix."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..dtypes import float_result, promote, ufunc_result
from ..registry import Aval, ShapeRuleError
from ..shapes import broadcast, fmt, normalize_axis

BROADCAST_FIX = ("make the sizes equal, or 1 where one operand should repeat "
                 "(e.g. reshape, or index with [:, None] to add an axis)")


def broadcast_shape(avals: list[Aval]) -> tuple:
    shape = broadcast([a.shape for a in avals])
    if shape is None:
        shapes = " and ".join(fmt(a.shape) for a in avals)
        raise ShapeRuleError(f"shapes {shapes} cannot broadcast", BROADCAST_FIX)
    return shape


def elementwise(*avals: Aval) -> tuple:
    """Broadcast the shapes, promote the dtypes (NumPy 2, Python scalars weak)."""
    return broadcast_shape(list(avals)), promote(*avals)


def true_divide(*avals: Aval) -> tuple:
    return broadcast_shape(list(avals)), float_result(promote(*avals))


def compare(*avals: Aval) -> tuple:
    return broadcast_shape(list(avals)), np.dtype(bool)


def same(x: Aval, **_: Any) -> tuple:
    return x.shape, x.dtype


def to_float(x: Aval, **_: Any) -> tuple:
    return x.shape, float_result(x.dtype)


def like_ufunc(name: str, *weak: Any) -> Any:
    """The rule of a unary op whose kernel is NumPy's ufunc ``name`` (after the Python scalars ``weak``,
    e.g. ``logaddexp(0, x)``): x's shape, and the dtype NumPy's ufunc gives x's dtype."""
    def rule(x: Aval, **_: Any) -> tuple:
        return x.shape, ufunc_result(name, *weak, x.dtype)

    rule.__name__ = rule.__qualname__ = f"like_{name}"
    return rule


def shifted_exp(x: Aval, **_: Any) -> tuple:
    """softmax, log_softmax and logsumexp compute ``exp(x - max(x))``: the dtype NumPy gives that."""
    return x.shape, shifted_exp_dtype(x.dtype)


def shifted_exp_dtype(dtype: np.dtype) -> np.dtype:
    return ufunc_result("exp", ufunc_result("subtract", dtype, dtype))


def binary_ufunc(name: str, fn: Any = None) -> Any:
    """The rule of an elementwise op whose kernel is NumPy's ufunc ``name`` (or ``fn``, e.g. the ``**``
    operator) on both operands: broadcast shapes, a weak int that must fit (``promote``), and the dtype
    NumPy computes for these dtypes and weak values."""
    def rule(*avals: Aval, **_: Any) -> tuple:
        shape = broadcast_shape(list(avals))
        promote(*avals)  # a weak Python int must fit the integer dtype it meets
        return shape, ufunc_result(fn or name, *[a.weak_value if a.weak else a.dtype for a in avals])

    rule.__name__ = rule.__qualname__ = f"like_{name}"
    return rule


def axis_attrs(avals: list[Aval], axis: Any = None, keepdims: bool = False) -> dict:
    """Normaliser for reductions: axis -> sorted tuple of non-negative axes (or None)."""
    try:
        axes = normalize_axis(axis, avals[0].ndim)
    except ValueError as exc:
        raise ShapeRuleError(str(exc), "use an axis between -ndim and ndim-1") from None
    return {"axis": axes, "keepdims": bool(keepdims)}


def one_axis(avals: list[Aval], axis: Any = -1) -> dict:
    """Normaliser for ops along a single axis (softmax, concatenate)."""
    try:
        if isinstance(axis, (tuple, list)):
            raise ValueError("a single axis is needed")
        (a,) = normalize_axis(axis, max(avals[0].ndim, 1))  # an int: 1.5 is refused, not truncated
    except (ValueError, TypeError) as exc:
        raise ShapeRuleError(f"bad axis {axis!r}: {exc}", "give one int axis") from None
    return {"axis": a}


def reduced_shape(shape: tuple, axis: Optional[tuple], keepdims: bool) -> tuple:
    axes = range(len(shape)) if axis is None else axis
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)
