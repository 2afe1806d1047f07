"""Linear algebra and shape ops: matmul (1-D and batched, as np.matmul),
transpose, reshape, broadcast_to, concatenate, getitem (basic slicing),
expand_dims, squeeze."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..apply import apply
from .. import batch as batch_rules
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import as_shape, broadcast, fmt, is_static, normalize_axis, size
from ..errors import GraphError
from . import _rules as R
from .internal import reshape_like

__all__ = ["matmul", "transpose", "reshape", "broadcast_to", "concatenate", "getitem", "expand_dims", "squeeze"]


def _int(v: Any) -> int:
    """An int attribute item: ints and NumPy integers; a bool or a float (2.5) is refused, not truncated."""
    if isinstance(v, (bool, np.bool_)) or not hasattr(v, "__index__"):
        raise TypeError(f"{v!r} is not an int")
    return int(v)


# -- matmul -------------------------------------------------------------------------------
def _matmul_rule(a: Aval, b: Aval) -> tuple:
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeRuleError("matmul does not take scalars", "use * to scale by a scalar")
    a2 = (1,) + a.shape if a.ndim == 1 else a.shape
    b2 = b.shape + (1,) if b.ndim == 1 else b.shape
    k1, k2 = a2[-1], b2[-2]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ShapeRuleError(f"the inner sizes differ: {k1} (last axis of the left) vs {k2} "
                             "(first matrix axis of the right)", "transpose one operand or fix its size")
    batch = broadcast([a2[:-2], b2[:-2]])
    if batch is None:
        raise ShapeRuleError(f"batch shapes {fmt(a2[:-2])} and {fmt(b2[:-2])} cannot broadcast", R.BROADCAST_FIX)
    rows = (a2[-2],) if a.ndim > 1 else ()   # a 1-D operand's unit axis is dropped again
    cols = (b2[-1],) if b.ndim > 1 else ()
    return batch + rows + cols, R.promote(a, b)


def _mT(x: Any) -> Any:
    """Swap the last two axes."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return apply("transpose", x, axes=tuple(axes))


def _as_matrices(g: Any, a: Any, b: Any) -> tuple:
    """Give 1-D operands (and the matching output gradient) their implied unit axis."""
    if a.ndim == 1:
        a, g = expand_dims(a, 0), expand_dims(g, -2)
    if b.ndim == 1:
        b, g = expand_dims(b, -1), expand_dims(g, -1)
    return g, a, b


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    g2, a2, b2 = _as_matrices(g, a, b)
    da = matmul(g2, _mT(b2))                        # dA = dout @ Bᵀ
    return squeeze(da, -2) if a.ndim == 1 else da   # batch axes are summed centrally


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    g2, a2, b2 = _as_matrices(g, a, b)
    db = matmul(_mT(a2), g2)                        # dB = Aᵀ @ dout
    return squeeze(db, -1) if b.ndim == 1 else db


register(OpDef("matmul", 2, _matmul_rule, vjp=(_matmul_vjp_a, _matmul_vjp_b), fresh=True, complex_ok=True,
               batch=batch_rules.matmul))


# -- transpose ------------------------------------------------------------------------------
def _transpose_attrs(avals: list, axes: Any = None) -> dict:
    ndim = avals[0].ndim
    if axes is None:
        return {"axes": tuple(reversed(range(ndim)))}
    try:
        perm = tuple(_int(a) % ndim if ndim else _int(a) for a in axes)
    except (TypeError, ValueError):
        raise ShapeRuleError(f"axes {axes!r} is not a tuple of ints", "give a permutation such as (1, 0)") from None
    if sorted(perm) != list(range(ndim)) or any(not -ndim <= int(a) < ndim for a in axes):
        raise ShapeRuleError(f"axes {tuple(axes)!r} is not a permutation of {ndim} axes", "give each axis once")
    return {"axes": perm}


register(OpDef("transpose", 1, lambda x, axes: (tuple(x.shape[a] for a in axes), x.dtype), attrs={"axes": None},
               normalize=_transpose_attrs,
               vjp=(lambda g, out, x, axes: transpose(g, tuple(np.argsort(axes).tolist())),), complex_ok=True, view=True,
               batch=batch_rules.transpose))


# -- reshape --------------------------------------------------------------------------------
def _reshape_attrs(avals: list, shape: Any = ()) -> dict:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(_int(d) for d in shape)
    except (TypeError, ValueError):
        raise ShapeRuleError(f"shape {shape!r} is not a tuple of ints", "give sizes, with one -1 to infer") from None
    if sum(d == -1 for d in dims) > 1 or any(d < -1 for d in dims):
        raise ShapeRuleError(f"shape {dims!r} may hold one -1 and otherwise sizes >= 0", "use at most one -1")
    return {"shape": dims}


def _reshape_rule(x: Aval, shape: tuple) -> tuple:
    n_in, known = size(x.shape), size(tuple(d for d in shape if d != -1))
    if -1 in shape:
        if n_in is None:
            return tuple(None if d == -1 else d for d in shape), x.dtype
        if known == 0 or n_in % known:
            raise ShapeRuleError(f"cannot reshape {n_in} elements into {shape!r}", "make the sizes multiply to the same count")
        return tuple(n_in // known if d == -1 else d for d in shape), x.dtype
    if n_in is not None and n_in != known:
        raise ShapeRuleError(f"cannot reshape {n_in} elements into {shape!r} ({known} elements)",
                             "make the sizes multiply to the same count, or use -1 for one size")
    return shape, x.dtype


def _reshape_vjp(g: Any, out: Any, x: Any, shape: tuple) -> Any:
    return reshape(g, tuple(x.shape)) if is_static(tuple(x.shape)) else reshape_like(g, x)


register(OpDef("reshape", 1, _reshape_rule, attrs={"shape": ()}, normalize=_reshape_attrs, vjp=(_reshape_vjp,),
               complex_ok=True, view=True))


# -- broadcast_to -------------------------------------------------------------------------
def _broadcast_to_attrs(avals: list, shape: Any = ()) -> dict:
    try:
        target = as_shape(shape)
    except GraphError as exc:
        raise ShapeRuleError(str(exc)) from None
    if not is_static(target):
        raise ShapeRuleError(f"target shape {fmt(target)} must be fully known", "give every size")
    return {"shape": target}


def _broadcast_to_rule(x: Aval, shape: tuple) -> tuple:
    joint = broadcast([x.shape, shape]) if len(shape) >= x.ndim else None
    # a size fixed at run time (None) may be 1 there, so it may meet a target size of 1 (checked when run)
    if joint is None or any(j is not None and j != t for j, t in zip(joint, shape)):
        raise ShapeRuleError(f"cannot broadcast {fmt(x.shape)} to {fmt(shape)}", R.BROADCAST_FIX)
    return shape, x.dtype


register(OpDef("broadcast_to", 1, _broadcast_to_rule, attrs={"shape": ()}, normalize=_broadcast_to_attrs,
               vjp=(lambda g, out, x, shape: g,), complex_ok=True))   # summed back to x's shape centrally


# -- concatenate --------------------------------------------------------------------------
def _concat_attrs(avals: list, axis: Any = 0) -> dict:
    return R.one_axis(avals, axis)


def _concat_rule(*xs: Aval, axis: int) -> tuple:
    ndim = xs[0].ndim
    if ndim == 0 or any(x.ndim != ndim for x in xs):
        raise ShapeRuleError("concatenate needs operands of one rank >= 1", "reshape the operands to the same rank")
    out = []
    for a in range(ndim):
        dims = [x.shape[a] for x in xs]
        if a == axis:
            out.append(None if None in dims else sum(dims))  # Python ints: np.sum wrapped at 2**63
            continue
        known = {d for d in dims if d is not None}
        if len(known) > 1:
            raise ShapeRuleError(f"sizes along axis {a} differ: {sorted(known)}", f"only axis {axis} may differ")
        out.append(known.pop() if known else None)
    return tuple(out), R.promote(*xs)


def _concat_vjp(g: Any, out: Any, *xs: Any, index: int, axis: int) -> Any:
    sizes = [x.shape[axis] for x in xs]
    if None in sizes:
        return apply("concat_part", g, *xs, part=index, axis=axis)
    start = sum(sizes[:index])
    return getitem(g, (slice(None),) * axis + (slice(start, start + sizes[index]),))


register(OpDef("concatenate", None, _concat_rule, attrs={"axis": 0}, normalize=_concat_attrs, vjp=_concat_vjp,
               fresh=True, complex_ok=True))


# -- getitem (basic slicing) ----------------------------------------------------------------
def _index_item(item: Any) -> Any:
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        parts = []
        for p in (item.start, item.stop, item.step):
            if p is not None and (isinstance(p, bool) or not hasattr(p, "__index__")):
                raise ShapeRuleError(f"slice bound {p!r} is not an int", "use ints or None in slices")
            parts.append(None if p is None else int(p))
        if parts[2] == 0:
            raise ShapeRuleError("slice step cannot be zero")
        return slice(*parts)
    if not isinstance(item, bool) and hasattr(item, "__index__") and not isinstance(item, np.ndarray):
        return int(item)
    raise ShapeRuleError(f"index {item!r} is not basic slicing",
                         "use ints, slices, None and ... (advanced indexing with arrays is not supported)")


def _getitem_attrs(avals: list, index: Any = ()) -> dict:
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_item(i) for i in items)
    if sum(i is Ellipsis for i in items) > 1:
        raise ShapeRuleError("an index can hold only one ...")
    n_real = sum(i is not None and i is not Ellipsis for i in items)
    if n_real > avals[0].ndim:
        raise ShapeRuleError(f"too many indices ({n_real}) for {avals[0].ndim} dimension(s)")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + (slice(None),) * (avals[0].ndim - n_real) + items[at + 1:]
    return {"index": items}


def _getitem_rule(x: Aval, index: tuple) -> tuple:
    out, axis = [], 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        d = x.shape[axis]
        if isinstance(item, int):
            if d is not None and not -d <= item < d:
                raise ShapeRuleError(f"index {item} is out of bounds for axis {axis} of size {d}")
        else:
            out.append(None if d is None else len(range(*item.indices(d))))
        axis += 1
    return tuple(out) + x.shape[axis:], x.dtype


register(OpDef("getitem", 1, _getitem_rule, attrs={"index": ()}, normalize=_getitem_attrs,
               vjp=(lambda g, out, x, index: apply("getitem_grad", g, x, index=index),), complex_ok=True))


# -- expand_dims / squeeze ------------------------------------------------------------------
def _expand_attrs(avals: list, axis: Any = 0) -> dict:
    n = len(axis) if isinstance(axis, (tuple, list)) else 1
    try:
        return {"axis": normalize_axis(axis, avals[0].ndim + n)}
    except ValueError as exc:
        raise ShapeRuleError(str(exc)) from None


def _expand_rule(x: Aval, axis: tuple) -> tuple:
    dims = iter(x.shape)
    return tuple(1 if i in axis else next(dims) for i in range(x.ndim + len(axis))), x.dtype


def _squeeze_attrs(avals: list, axis: Any = None) -> dict:
    x = avals[0]
    try:
        axes = normalize_axis(axis, x.ndim)
    except ValueError as exc:
        raise ShapeRuleError(str(exc)) from None
    if axes is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    return {"axis": axes}


def _squeeze_rule(x: Aval, axis: tuple) -> tuple:
    bad = [a for a in axis if x.shape[a] not in (1, None)]
    if bad:
        raise ShapeRuleError(f"cannot squeeze axis {bad[0]} of size {x.shape[bad[0]]}", "squeeze only axes of size 1")
    return tuple(d for i, d in enumerate(x.shape) if i not in axis), x.dtype


register(OpDef("expand_dims", 1, _expand_rule, attrs={"axis": 0}, normalize=_expand_attrs,
               vjp=(lambda g, out, x, axis: squeeze(g, axis),), complex_ok=True))
register(OpDef("squeeze", 1, _squeeze_rule, attrs={"axis": None}, normalize=_squeeze_attrs,
               vjp=(lambda g, out, x, axis: expand_dims(g, axis),), complex_ok=True))


# -- public functions ---------------------------------------------------------------------
def matmul(a: Any, b: Any) -> Any:
    """Matrix product with np.matmul's rules (1-D operands, batching). ``x @ W``"""
    return apply("matmul", a, b)


def transpose(x: Any, axes: Optional[tuple] = None) -> Any:
    """Permute axes (reverse them when ``axes`` is None). ``rg.transpose(x)`` or ``x.T``"""
    return apply("transpose", x, axes=axes)


def reshape(x: Any, shape: Any) -> Any:
    """Reshape; one size may be -1. ``rg.reshape(x, (-1, 784))``"""
    return apply("reshape", x, shape=shape)


def broadcast_to(x: Any, shape: Any) -> Any:
    """Broadcast to a fully known shape; the gradient is summed back."""
    return apply("broadcast_to", x, shape=shape)


def concatenate(xs: Any, axis: int = 0) -> Any:
    """Join a sequence of tensors along ``axis``. ``rg.concatenate([a, b], axis=1)``"""
    return apply("concatenate", *xs, axis=axis)


def getitem(x: Any, index: Any) -> Any:
    """Basic slicing (ints, slices, None, ...): ``x[1:, None]``."""
    return apply("getitem", x, index=index)


def expand_dims(x: Any, axis: Any) -> Any:
    """Insert axes of size 1."""
    return apply("expand_dims", x, axis=axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    """Remove axes of size 1 (all of them when ``axis`` is None)."""
    return apply("squeeze", x, axis=axis)
