"""Reductions (sum, mean, max, min, prod, var, std, logsumexp) over ``axis`` None/int/tuple with
``keepdims``, the scan cumsum, and argmax/argmin. The gradient of a reduction is the output gradient
put back on the reduced axes and broadcast over the input."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..apply import apply
from .. import batch as batch_rules
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import is_static, size
from . import _rules as R
from .elementwise import equal, exp, sqrt, where
from .internal import broadcast_like, cast, reshape_like, size_of

__all__ = ["sum", "mean", "max", "argmax", "min", "argmin", "prod", "var", "std", "cumsum", "logsumexp"]


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
               vjp=(lambda g, out, x, axis, keepdims: spread(g, x, axis, keepdims),), fresh=True,
               complex_ok=True, batch=batch_rules.reduction(batch_rules.SUM)))
register(OpDef("mean", 1, _mean_rule, attrs=_axis_attrs, normalize=R.axis_attrs,
               vjp=(lambda g, out, x, axis, keepdims: spread(g / _count(x, axis), x, axis, keepdims),), fresh=True,
               complex_ok=True, batch=batch_rules.reduction(batch_rules.MEAN)))
register(OpDef("max", 1, _max_rule, attrs=_axis_attrs, normalize=R.axis_attrs, vjp=(_max_vjp,), fresh=True,
               grad_note="to the maximum; tied maxima share the gradient equally", batch=batch_rules.keeps_rows))


def _argmax_attrs(avals: list, axis: Any = None, keepdims: bool = False) -> dict:
    # A 1-tuple is accepted: it is this normaliser's own output (Graph.check and rg.load re-normalise).
    if axis is not None and isinstance(axis, (tuple, list)) and len(axis) != 1:
        raise ShapeRuleError(f"argmax takes one axis or None, got {axis!r}", "give an int axis")
    return R.axis_attrs(avals, axis, keepdims)


def _arg_rule(name: str) -> Any:
    def rule(x: Aval, axis: Any, keepdims: bool) -> tuple:
        if any(x.shape[a] == 0 for a in (range(x.ndim) if axis is None else axis)):
            raise ShapeRuleError(f"{name} over an axis of size 0 has no index", f"take {name} over a non-empty axis")
        return R.reduced_shape(x.shape, axis, keepdims), np.dtype(np.int64)
    return rule


register(OpDef("argmax", 1, _arg_rule("argmax"), attrs=_axis_attrs, normalize=_argmax_attrs,
               doc="Index of the maximum; zero gradient.", fresh=True))


register(OpDef("min", 1, _max_rule, attrs=_axis_attrs, normalize=R.axis_attrs, vjp=(_max_vjp,), fresh=True,
               grad_note="to the minimum; tied minima share the gradient equally", batch=batch_rules.keeps_rows))
register(OpDef("argmin", 1, _arg_rule("argmin"),
               attrs=_axis_attrs, normalize=_argmax_attrs, doc="Index of the minimum; zero gradient.", fresh=True))


# -- prod: the gradient is the product of the others, exact also where x holds zeros ----------------------
def _prod_vjp(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """d prod / dx_j = prod_{k != j} x_k, without dividing by a zero. With p the product of the non-zero
    entries, z the number of zeros and s the sum of the zero entries (0, but its gradient is 1 to each):
    no zero: p / x_j; one zero: p at the zero, p / x_j * s elsewhere (0); two: p / x_j * (s - x_j) at the
    zeros (0), 0 elsewhere; more: 0. Each branch is the product of the others as a function, so the
    second derivatives are exact at the zeros too."""
    zero = equal(x, 0)
    nonzero = where(zero, 1, x)
    others = apply("prod", nonzero, axis=axis, keepdims=True) / nonzero  # the non-zero others' product
    count = apply("sum", zero, axis=axis, keepdims=True)
    s = apply("sum", where(zero, x, 0), axis=axis, keepdims=True)
    one = others * where(zero, 1, s)
    two = others * where(zero, s - x, 0)
    grad = where(equal(count, 0), others, where(equal(count, 1), one, where(equal(count, 2), two, 0)))
    return grad * restore_axes(g, x, axis, keepdims)


register(OpDef("prod", 1, _sum_rule, attrs=_axis_attrs, normalize=R.axis_attrs, vjp=(_prod_vjp,), fresh=True, complex_ok=True,
               grad_note="the product of the other entries, computed without division by zero: exact (to second "
                         "order) with one, two or more zeros"))


# -- var and std ------------------------------------------------------------------------------------------
def _var_attrs(avals: list, axis: Any = None, keepdims: bool = False, ddof: Any = 0) -> dict:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)) or not np.isfinite(ddof):
        raise ShapeRuleError(f"ddof={ddof!r} must be a number", "give ddof as an int, e.g. ddof=1")
    return {**R.axis_attrs(avals, axis, keepdims), "ddof": int(ddof) if float(ddof).is_integer() else float(ddof)}


def _var_rule(x: Aval, axis: Any = None, keepdims: bool = False, ddof: Any = 0) -> tuple:
    return R.reduced_shape(x.shape, axis, keepdims), R.float_result(x.dtype)


def _centred(x: Any, axis: Any, ddof: Any) -> Any:
    """(x - mean) / (N - ddof): the variance's gradient is twice this."""
    return (x - apply("mean", x, axis=axis, keepdims=True)) / (_count(x, axis) - ddof)


def _var_vjp(g: Any, out: Any, x: Any, axis: Any, keepdims: bool, ddof: Any) -> Any:
    return _centred(x, axis, ddof) * (restore_axes(g, x, axis, keepdims) * 2)


def _std_vjp(g: Any, out: Any, x: Any, axis: Any, keepdims: bool, ddof: Any) -> Any:
    sd = restore_axes(out, x, axis, keepdims)
    return _centred(x, axis, ddof) * restore_axes(g, x, axis, keepdims) / where(sd > 0, sd, 1)  # 0 where std = 0


_var_defaults = {**_axis_attrs, "ddof": 0}
register(OpDef("var", 1, _var_rule, attrs=_var_defaults, normalize=_var_attrs, vjp=(_var_vjp,), fresh=True,
               grad_note="2 (x - mean) / (N - ddof)"))
register(OpDef("std", 1, _var_rule, attrs=_var_defaults, normalize=_var_attrs, vjp=(_std_vjp,), fresh=True,
               grad_note="(x - mean) / ((N - ddof) std); 0 where std = 0 (all entries equal)"))


# -- logsumexp ----------------------------------------------------------------------------------------------
def _logsumexp_vjp(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    return exp(x - restore_axes(out, x, axis, keepdims)) * restore_axes(g, x, axis, keepdims)  # softmax weights


register(OpDef("logsumexp", 1, lambda x, axis, keepdims: _max_rule(x, axis, keepdims)[:1] + (R.shifted_exp_dtype(x.dtype),),
               attrs=_axis_attrs, normalize=R.axis_attrs, vjp=(_logsumexp_vjp,), fresh=True,
               grad_note="softmax(x) along the axes; computed shifted by the maximum, so no overflow",
               batch=batch_rules.keeps_rows))


# -- cumsum: the gradient is the reversed cumulative sum of g ---------------------------------------------------
def _cumsum_attrs(avals: list, axis: Any = None) -> dict:
    if axis is None:
        return {"axis": None}
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]  # rg.load re-normalises: accept this normaliser's own output
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ShapeRuleError(f"cumsum takes one int axis or None, got {axis!r}", "give an int axis")
    return R.one_axis(avals, int(axis)) if avals[0].ndim else {"axis": None}


def _cumsum_rule(x: Aval, axis: Any = None) -> tuple:
    dtype = accumulated_dtype(x.dtype)
    return ((size(tuple(x.shape)),) if axis is None else tuple(x.shape)), dtype


def _cumsum_vjp(g: Any, out: Any, x: Any, axis: Any) -> Any:
    along = 0 if axis is None else axis
    rev = apply("flip", apply("cumsum", apply("flip", g, axis=along), axis=along), axis=along)
    if axis is None:  # NumPy flattens: back to x's shape
        return apply("reshape", rev, shape=tuple(x.shape)) if is_static(tuple(x.shape)) else reshape_like(rev, x)
    return rev


register(OpDef("cumsum", 1, _cumsum_rule, attrs={"axis": None}, normalize=_cumsum_attrs, vjp=(_cumsum_vjp,),
               fresh=True, complex_ok=True, grad_note="the reversed cumulative sum of the output gradient"))


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


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient equally. ``rg.min(x, axis=1)``"""
    return apply("min", x, axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Index of the minimum over ``axis`` (flattened when None), as int64; zero gradient."""
    return apply("argmin", x, axis=axis, keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Product over ``axis``; its gradient stays finite and exact where x holds zeros. ``rg.prod(x, axis=0)``"""
    return apply("prod", x, axis=axis, keepdims=keepdims)


def var(x: Any, axis: Any = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
    """Variance over ``axis``, dividing by N - ddof. ``rg.var(x, ddof=1)``"""
    return apply("var", x, axis=axis, keepdims=keepdims, ddof=ddof)


def std(x: Any, axis: Any = None, *, ddof: float = 0, keepdims: bool = False) -> Any:
    """Standard deviation over ``axis``, dividing by N - ddof. ``rg.std(x, axis=0, ddof=1)``"""
    return apply("std", x, axis=axis, keepdims=keepdims, ddof=ddof)


def cumsum(x: Any, axis: Any = None) -> Any:
    """Cumulative sum along ``axis`` (None: of the flattened x, as NumPy). ``rg.cumsum(x, axis=1)``"""
    return apply("cumsum", x, axis=axis)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over ``axis`` without overflow (SciPy's ``logsumexp``); its gradient is the softmax."""
    return apply("logsumexp", x, axis=axis, keepdims=keepdims)
