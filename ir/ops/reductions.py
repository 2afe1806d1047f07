"""Reductions (sum, mean, max) over ``axis`` None/int/tuple with ``keepdims``,
and argmax. The gradient of a reduction is the output gradient put back on
the reduced axes and broadcast over the input."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..apply import apply
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import is_static, size
from . import _rules as R
from .elementwise import equal
from .internal import broadcast_like, cast, size_of

__all__ = ["sum", "mean", "max", "argmax"]


def _reduce_rule(x: Aval, axis: Any = None, keepdims: bool = False) -> tuple:
    return R.reduced_shape(x.shape, axis, keepdims), x.dtype


def accumulated_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype NumPy's sum, prod and cumsum give: bools and small integers widen to the platform
    integer (int64; uint64 for unsigned), floats keep theirs -- asked of NumPy itself."""
    return np.sum(np.zeros(1, dtype)).dtype


def _sum_rule(x: Aval, axis: Any = None, keepdims: bool = False) -> tuple:
    return R.reduced_shape(x.shape, axis, keepdims), accumulated_dtype(x.dtype)


def _mean_rule(x: Aval, axis: Any = None, keepdims: bool = False) -> tuple:
    return R.reduced_shape(x.shape, axis, keepdims), R.float_result(x.dtype)


def _max_rule(x: Aval, axis: Any = None, keepdims: bool = False) -> tuple:
    axes = range(x.ndim) if axis is None else axis
    if any(x.shape[a] == 0 for a in axes):
        raise ShapeRuleError("max over an axis of size 0 has no value", "reduce over a non-empty axis")
    return _reduce_rule(x, axis, keepdims)


def restore_axes(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Put the reduced axes back as size 1 so ``g`` broadcasts against ``x``."""
    if keepdims or axis is None:
        return g  # a scalar or a keepdims result already broadcasts
    return apply("expand_dims", g, axis=axis)


def spread(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """The output gradient of a reduction, broadcast back over the input's shape."""
    g = restore_axes(g, x, axis, keepdims)
    if is_static(tuple(x.shape)):
        return apply("broadcast_to", g, shape=tuple(x.shape))
    return broadcast_like(g, x)


def _count(x: Any, axis: Any) -> Any:
    """How many elements a mean averages: a Python int when known, else read at run time."""
    dims = [x.shape[a] for a in (range(x.ndim) if axis is None else axis)]
    n = size(tuple(dims))
    return n if n is not None else size_of(x, axis)


def _max_vjp(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    # ties share the gradient equally: divide by the number of maxima
    hit = cast(equal(x, restore_axes(out, x, axis, keepdims)), x.dtype)
    share = hit / apply("sum", hit, axis=axis, keepdims=True)
    return share * restore_axes(g, x, axis, keepdims)


_axis_attrs = {"axis": None, "keepdims": False}
register(OpDef("sum", 1, _sum_rule, attrs=_axis_attrs, normalize=R.axis_attrs,
               vjp=(lambda g, out, x, axis, keepdims: spread(g, x, axis, keepdims),), fresh=True))
register(OpDef("mean", 1, _mean_rule, attrs=_axis_attrs, normalize=R.axis_attrs,
               vjp=(lambda g, out, x, axis, keepdims: spread(g / _count(x, axis), x, axis, keepdims),), fresh=True))
register(OpDef("max", 1, _max_rule, attrs=_axis_attrs, normalize=R.axis_attrs, vjp=(_max_vjp,), fresh=True))


def _argmax_attrs(avals: list, axis: Any = None, keepdims: bool = False) -> dict:
    # A 1-tuple is accepted: it is this normaliser's own output (Graph.check and rg.load re-normalise).
    if axis is not None and isinstance(axis, (tuple, list)) and len(axis) != 1:
        raise ShapeRuleError(f"argmax takes one axis or None, got {axis!r}", "give an int axis")
    return R.axis_attrs(avals, axis, keepdims)


register(OpDef("argmax", 1, lambda x, axis, keepdims: (R.reduced_shape(x.shape, axis, keepdims), np.dtype(np.int64)),
               attrs=_axis_attrs, normalize=_argmax_attrs, doc="Index of the maximum; zero gradient.", fresh=True))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Sum over ``axis`` (None = all). ``rg.sum(x, axis=0)``"""
    return apply("sum", x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Mean over ``axis`` (None = all)."""
    return apply("mean", x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return apply("max", x, axis=axis, keepdims=keepdims)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Index of the maximum over ``axis`` (flattened when None), as int64; zero gradient."""
    return apply("argmax", x, axis=axis, keepdims=keepdims)
