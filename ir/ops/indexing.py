"""Advanced indexing: integer arrays and boolean masks (``x[idx]``, ``x[mask]``, ``x[:, [0, 2]]``), mixed
with basic slices by NumPy's rules, and its adjoint, a scatter-add.

In the IR the index arrays are *operands* (constants when the user gave NumPy values or lists, or any
integer/bool tensor of the graph), and the attribute ``index`` is the index with each array's place
marked by the string ``"array"``: ``x[:, idx]`` is ``index(x, idx, key=(slice(None), "array"))``.
A boolean mask given as a constant is turned into its integer positions (``mask.nonzero()``) when the
node is built, so its size is static; a mask computed in the graph stays boolean and its count is a
size fixed at run time (``None``).

``index_grad(g, x, *arrays)`` is zeros shaped like x with g *added* at x[index]: repeated indices
accumulate. It is its own op with its own VJP (an ``index`` of the incoming gradient), so gradients of
gradients go through it.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..apply import apply
from ..errors import GraphError
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import broadcast, fmt
from . import _rules as R

__all__ = ["getitem", "take"]

ARRAY = "array"  # marks the place of an index-array operand in the ``index`` attribute


# -- the index template: normalising and checking -----------------------------------------------------
def _template_item(item: Any) -> Any:
    if item is None or item is Ellipsis or (isinstance(item, str) and item == ARRAY):
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
    if not isinstance(item, (bool, np.bool_, np.ndarray)) and hasattr(item, "__index__"):
        return int(item)
    raise ShapeRuleError(f"index item {item!r} is not an int, a slice, None, ... or {ARRAY!r}",
                         "give index arrays as operands, marked by 'array' in the index")


def _index_attrs(avals: list, key: Any = ()) -> dict:
    """x, then the index arrays: expand ``...`` and check the arrays match the ``"array"`` marks."""
    x, arrays = avals[0], avals[1:]
    items = tuple(_template_item(i) for i in (key if isinstance(key, tuple) else (key,)))
    marks = sum(isinstance(i, str) for i in items)
    if marks != len(arrays):
        raise ShapeRuleError(f"the index marks {marks} array place(s) but the op has {len(arrays)} index array(s)",
                             "give one 'array' mark per index-array operand")
    if sum(i is Ellipsis for i in items) > 1:
        raise ShapeRuleError("an index can hold only one ...")
    used = _axes_used(items, arrays)
    if used > x.ndim:
        raise ShapeRuleError(f"too many indices ({used} axes) for {x.ndim} dimension(s)",
                             "index at most as many axes as x has")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + (slice(None),) * (x.ndim - used) + items[at + 1:]
    return {"key": items}


def _axes_used(items: tuple, arrays: list) -> int:
    """How many axes of x the index consumes (a boolean mask consumes as many as it has)."""
    n, k = 0, 0
    for i in items:
        if isinstance(i, str):
            arr = arrays[k]
            k += 1
            n += arr.ndim if arr.dtype == np.bool_ else 1
        elif i is not None and i is not Ellipsis:
            n += 1
    return n


def _index_rule(x: Aval, *arrays: Aval, key: tuple) -> tuple:
    if not arrays:
        raise ShapeRuleError("advanced indexing needs at least one index array", "use getitem for basic slicing")
    out: list = []          # the result's axes, with the advanced block inserted below
    block_at: Optional[int] = None
    advanced: list = []      # shapes that broadcast together into the advanced block
    positions: list = []     # item positions of the advanced indices (ints count when arrays are present)
    axis, k = 0, 0
    for pos, item in enumerate(key):
        if item is None:
            out.append(1)
            continue
        if isinstance(item, str):
            arr = arrays[k]
            k += 1
            if arr.dtype == np.bool_:
                if arr.ndim == 0:
                    raise ShapeRuleError("a 0-d boolean mask is not supported", "index with a mask of x's shape")
                for j, m in enumerate(arr.shape):
                    d = x.shape[axis + j]
                    if m is not None and d is not None and m != d:
                        raise ShapeRuleError(f"the boolean mask of shape {fmt(arr.shape)} does not match axis "
                                             f"{axis + j} of size {d}", "give a mask of the indexed axes' shape")
                advanced.append((None,))  # how many are True is known only when the program runs
                axis += arr.ndim
            elif arr.dtype.kind in "iu":
                advanced.append(arr.shape)
                axis += 1
            else:
                raise ShapeRuleError(f"index array {k - 1} has dtype {arr.dtype}",
                                     "index with integer or boolean arrays (cast with .astype('int64'))")
            positions.append(pos)
            if block_at is None:
                block_at = len(out)
            continue
        d = x.shape[axis]
        if isinstance(item, int):
            if d is not None and not -d <= item < d:
                raise ShapeRuleError(f"index {item} is out of bounds for axis {axis} of size {d}")
            positions.append(pos)
            advanced.append(())
            if block_at is None:
                block_at = len(out)
        else:
            out.append(None if d is None else len(range(*item.indices(d))))
        axis += 1
    joint = broadcast(advanced)
    if joint is None:
        shapes = " and ".join(fmt(s) for s in advanced if s)
        raise ShapeRuleError(f"index arrays of shapes {shapes} cannot broadcast together", R.BROADCAST_FIX)
    if positions != list(range(positions[0], positions[-1] + 1)):
        block_at = 0  # separated advanced indices: NumPy puts their axes first
    return tuple(out[:block_at]) + joint + tuple(out[block_at:]) + x.shape[axis:], x.dtype


def _index_vjp(g: Any, out: Any, x: Any, *arrays: Any, index: int, key: tuple) -> Any:
    if index != 0:
        return None  # index arrays get no gradient
    return apply("index_grad", g, x, *arrays, key=key)


register(OpDef("index", None, _index_rule, vjp=_index_vjp, attrs={"key": ()}, normalize=_index_attrs,
                  doc="Advanced indexing x[idx], x[mask], x[:, [0, 2]] (rg.getitem); index arrays are operands.",
                  fresh=True, complex_ok=True))  # advanced indexing always copies (basic getitem is a view)


def _index_grad_attrs(avals: list, key: Any = ()) -> dict:
    return _index_attrs(avals[1:], key)  # the same checks, on x and the arrays


def _index_grad_rule(g: Aval, x: Aval, *arrays: Aval, key: tuple) -> tuple:
    want, _ = _index_rule(x, *arrays, key=key)
    joint = broadcast([want, g.shape]) if len(g.shape) <= len(want) else None  # g must not grow x[index]
    if joint is None or any(j is not None and w is not None and j != w for j, w in zip(joint, want)):
        raise ShapeRuleError(f"the gradient of shape {fmt(g.shape)} does not fit x[index] of shape {fmt(want)}")
    return x.shape, g.dtype


def _index_grad_vjp(gg: Any, out: Any, g: Any, x: Any, *arrays: Any, index: int, key: tuple) -> Any:
    if index != 0:
        return None  # x only lends its shape; the arrays are integers
    return apply("index", gg, *arrays, key=key)


register(OpDef("index_grad", None, _index_grad_rule, vjp=_index_grad_vjp, attrs={"key": ()},
                  normalize=_index_grad_attrs, internal=True,
                  doc="Zeros shaped like x with g added at x[index] (repeated indices accumulate): "
                      "the adjoint of advanced indexing.", fresh=True, complex_ok=True))


# -- the public function -------------------------------------------------------------------------------
def _frontend_object(o: Any) -> bool:
    return getattr(type(o), "_rg_frontend", None) is not None


def is_advanced(index: Any) -> bool:
    """True when ``index`` holds an array, a list, a boolean, or a Tensor/Variable (not basic slicing)."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray, bool, np.bool_)) or _frontend_object(i) for i in items)


def _constant_value(t: Any) -> Any:
    """The value of a constant Tensor (so a constant mask gets a static size), else None."""
    data = getattr(t, "_data", None)
    if isinstance(data, dict) and data.get("op") == "constant" and not data.get("weak"):
        return np.asarray(data["value"])
    return None


def _as_index_array(item: Any) -> Any:
    """A NumPy value (list, array, bool) as an array; a Tensor/Variable as itself, or its value when it
    is a constant boolean mask (so that mask's size is static)."""
    if _frontend_object(item):
        value = _constant_value(item)
        return value if value is not None and value.dtype == np.bool_ else item
    arr = np.asarray(item)
    if arr.size == 0 and arr.dtype.kind == "f":  # [] is an empty integer index, as in NumPy
        arr = arr.astype(np.int64)
    return arr.astype(np.int64, copy=False) if arr.dtype.kind in "iu" else arr  # others: the rule refuses them


def _expand_ellipsis(items: list, ndim: int) -> list:
    """``...`` as the full slices it stands for (a boolean mask covers as many axes as it has)."""
    used = sum(i.ndim if getattr(i, "dtype", None) == np.bool_ else 0 if i is None or i is Ellipsis else 1
               for i in items)
    if sum(i is Ellipsis for i in items) > 1:
        raise GraphError("getitem: an index can hold only one ...")
    for at, i in enumerate(items):
        if i is Ellipsis:
            return items[:at] + [slice(None)] * max(ndim - used, 0) + items[at + 1:]
    return items


def _split_index(x: Any, index: Any) -> tuple:
    """The key with ``"array"`` marks and the array operands. Constant masks become their positions and
    constant integers are checked against x's known sizes now (NumPy would raise IndexError)."""
    raw = index if isinstance(index, tuple) else (index,)
    items = [_as_index_array(i) if is_advanced((i,)) else i for i in raw]
    items = _expand_ellipsis(items, x.ndim)
    shape, key, arrays, axis = tuple(x.shape), [], [], 0
    for item in items:
        if not (isinstance(item, np.ndarray) or _frontend_object(item)):
            key.append(item)
            axis += item is not None
            continue
        key.append(ARRAY)
        arrays.append(item)
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            _check_mask(x, item, axis)
            positions = item.nonzero()  # a constant mask: its size is known now
            key[-1:] = [ARRAY] * len(positions)
            arrays[-1:] = list(positions)
            axis += item.ndim
            continue
        if isinstance(item, np.ndarray) and item.dtype.kind in "iu" and axis < len(shape):
            _check_bounds(x, item, axis)
        axis += getattr(item, "ndim", 1) if getattr(item, "dtype", None) == np.bool_ else 1
    return tuple(key), arrays


def _check_mask(x: Any, mask: np.ndarray, axis: int) -> None:
    if mask.ndim == 0:
        raise GraphError(f"getitem of {_describe(x)}: a boolean scalar index is not supported; "
                         "index with a boolean mask of x's shape")
    dims = tuple(x.shape)[axis:axis + mask.ndim]
    if len(dims) < mask.ndim or any(d is not None and d != m for d, m in zip(dims, mask.shape)):
        raise GraphError(f"getitem of {_describe(x)}: the boolean mask of shape {fmt(mask.shape)} does not match "
                         f"axes {axis}.. of sizes {fmt(dims)}; give a mask of the indexed axes' shape")


def _check_bounds(x: Any, arr: np.ndarray, axis: int) -> None:
    d = tuple(x.shape)[axis]
    if d is not None and arr.size and (arr.min() < -d or arr.max() >= d):
        bad = arr[(arr < -d) | (arr >= d)].flat[0]
        raise GraphError(f"getitem of {_describe(x)}: index {bad} is out of bounds for axis {axis} of size {d}; "
                         f"use indices in [-{d}, {d})")


def _describe(x: Any) -> str:
    name = getattr(x, "name", None)
    return f"{name!r} (shape {fmt(tuple(x.shape))})" if isinstance(name, str) else f"shape {fmt(tuple(x.shape))}"


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` as NumPy: basic slicing (ints, slices, None, ...) or advanced indexing with integer
    arrays, lists and boolean masks, mixed with slices. Repeated indices accumulate in the gradient.

    >>> x[:, [0, 2]]            # columns 0 and 2
    >>> x[x > 0]                # a mask computed in the graph: its size is fixed at run time
    """
    if not is_advanced(index):
        return apply("getitem", x, index=index)
    if not hasattr(x, "ndim"):
        x = np.asarray(x)
    key, arrays = _split_index(x, index)
    return apply("index", x, *arrays, key=key)


def take(x: Any, indices: Any, axis: Optional[int] = None) -> Any:
    """np.take: elements (``axis=None``: of the flattened x) or slices along ``axis`` at integer ``indices``.

    >>> rg.take(W, labels, axis=0)   # rows; repeated labels add up in the gradient
    """
    if axis is None:
        return getitem(apply("reshape", x, shape=(-1,)), (np.asarray(indices) if isinstance(indices, list) else indices,))
    nd = x.ndim
    if isinstance(axis, bool) or not -nd <= int(axis) < nd:
        raise GraphError(f"take: axis {axis!r} is out of range for x of shape {fmt(tuple(x.shape))}")
    idx = np.asarray(indices) if isinstance(indices, list) else indices
    return getitem(x, (slice(None),) * (int(axis) % nd) + (idx,))
