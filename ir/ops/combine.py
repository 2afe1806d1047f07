"""Shape and combination ops with NumPy's names and signatures.

One registry entry each for the ops users think of as one thing (stack, tile, repeat, roll, flip, pad,
diag, diagonal, triu, tril, einsum), with VJPs in rg ops: stack's is an index, tile's a reshape-sum,
roll's a roll, flip's a flip, pad's a slice, einsum's an einsum. The rest are written with those and the
core ops, where that is one readable node or two: moveaxis and swapaxes are a transpose; ravel and flatten
a reshape; vstack/hstack a concatenate; outer a product of two reshapes; inner, dot, tensordot an einsum
(or a matmul); kron an einsum and a reshape.

A multi-output op (split, array_split) is several ``getitem`` nodes, one basic slice per part: each part
is an ordinary tensor, its gradient the slice's adjoint, and no tuple-valued node exists in the IR.
"""

from __future__ import annotations

import string
from typing import Any, Optional, Sequence

import numpy as np

from ..apply import apply
from ..errors import GraphError
from ..registry import Aval, OpDef, ShapeRuleError, register
from ..shapes import broadcast, fmt, normalize_axis
from . import _rules as R
from .internal import ones_like, reshape_like
from .reductions import accumulated_dtype
from .shape_ops import concatenate, getitem, reshape, transpose

__all__ = ["stack", "vstack", "hstack", "split", "array_split", "tile", "repeat", "roll", "flip", "fliplr",
           "flipud", "pad", "moveaxis", "swapaxes", "ravel", "diag", "diagonal", "triu", "tril", "outer",
           "inner", "dot", "tensordot", "kron", "einsum"]


# Normalisers return attributes in alphabetical order: a loaded graph's (sorted JSON) then gives the same
# generated source, whose comments list the attributes in dict order.


def _int(v: Any, what: str) -> int:
    if isinstance(v, (bool, np.bool_)) or not hasattr(v, "__index__"):
        raise ShapeRuleError(f"{what} {v!r} is not an int", f"give {what} as an int")
    return int(v)


def _ints(v: Any, what: str) -> tuple:
    items = tuple(v) if isinstance(v, (tuple, list, np.ndarray)) else (v,)
    return tuple(_int(i, what) for i in items)


def _axis(axis: Any, ndim: int) -> int:
    a = _int(axis, "axis")
    if not -ndim <= a < ndim:
        raise ShapeRuleError(f"axis {a} is out of range for {ndim} dimension(s)", f"use an axis in [-{ndim}, {ndim})")
    return a % ndim


def _prod(dims: Sequence[Optional[int]]) -> Optional[int]:
    n = 1
    for d in dims:
        if d is None:
            return None
        n *= d
    return n


# -- stack ----------------------------------------------------------------------------------------------
def _stack_attrs(avals: list, axis: Any = 0) -> dict:
    return {"axis": _axis(axis, avals[0].ndim + 1)}


def _stack_rule(*xs: Aval, axis: int) -> tuple:
    if len({x.ndim for x in xs}) > 1:
        raise ShapeRuleError(f"stack needs operands of one shape, got {' and '.join(fmt(x.shape) for x in xs)}",
                             "reshape or broadcast the operands to the same shape")
    shape = []
    for a, dims in enumerate(zip(*(x.shape for x in xs))):
        known = {d for d in dims if d is not None}
        if len(known) > 1:
            raise ShapeRuleError(f"stack needs operands of one shape; sizes along axis {a} differ: {sorted(known)}",
                                 "reshape or broadcast the operands to the same shape")
        shape.append(known.pop() if known else None)
    return tuple(shape[:axis]) + (len(xs),) + tuple(shape[axis:]), R.promote(*xs)


register(OpDef("stack", None, _stack_rule, attrs={"axis": 0}, normalize=_stack_attrs,
               vjp=lambda g, out, *xs, index, axis: getitem(g, (slice(None),) * axis + (index,)),
               doc="Join tensors of one shape along a new axis.", fresh=True, complex_ok=True))


# -- tile -------------------------------------------------------------------------------------------------
def _tile_attrs(avals: list, reps: Any = 1) -> dict:
    reps = _ints(reps, "reps")
    if any(r < 0 for r in reps):
        raise ShapeRuleError(f"reps {reps!r} holds a negative count", "give counts >= 0")
    n = max(avals[0].ndim, len(reps))
    return {"reps": (1,) * (n - len(reps)) + reps}


def _tile_rule(x: Aval, reps: tuple) -> tuple:
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    return tuple(None if d is None else d * r for d, r in zip(shape, reps)), x.dtype


register(OpDef("tile", 1, _tile_rule, attrs={"reps": 1}, normalize=_tile_attrs,
               vjp=(lambda g, out, x, reps: apply("tile_grad", g, x, reps=reps),),
               doc="Repeat the whole of x reps times along each axis (np.tile).", fresh=True, complex_ok=True))


def _tile_grad_rule(g: Aval, x: Aval, reps: tuple) -> tuple:
    want, _ = _tile_rule(x, reps)
    if len(g.shape) != len(want) or any(a is not None and b is not None and a != b for a, b in zip(g.shape, want)):
        raise ShapeRuleError(f"the gradient of shape {fmt(g.shape)} is not tile's result shape {fmt(want)}")
    return x.shape, accumulated_dtype(g.dtype)  # a sum, as np.sum computes it


# The gradient of tile is a reshape-sum, (r0*d0, r1*d1, ...) -> (r0, d0, r1, d1, ...) summed over the r's;
# one op that reads x's sizes when it runs, so sizes fixed at run time (None) are fine.
register(OpDef("tile_grad", 2, _tile_grad_rule, attrs={"reps": 1}, internal=True,
               normalize=lambda avals, reps=1: _tile_attrs(avals[1:], reps),
               vjp=(lambda gg, out, g, x, reps: tile(gg, reps), None),
               doc="Each copy's gradient summed back onto x: the adjoint of tile (a reshape-sum).",
               fresh=lambda n_operands, attrs: bool(attrs["reps"]), complex_ok=True))  # a sum over no axis may be g itself


# -- repeat ----------------------------------------------------------------------------------------------
def _repeat_attrs(avals: list, repeats: Any = 1, axis: Any = None) -> dict:
    reps = _ints(repeats, "repeats")
    if any(r < 0 for r in reps):
        raise ShapeRuleError(f"repeats {reps!r} holds a negative count", "give counts >= 0")
    if not reps:
        raise ShapeRuleError("repeats is empty", "give one count, or one per element along the axis")
    return {"axis": None if axis is None else _axis(axis, avals[0].ndim), "repeats": reps}


def _repeat_rule(x: Aval, repeats: tuple, axis: Optional[int]) -> tuple:
    shape = (_prod(x.shape),) if axis is None else x.shape
    a = 0 if axis is None else axis
    d = shape[a]
    if len(repeats) > 1:
        if d is not None and d != len(repeats):
            raise ShapeRuleError(f"{len(repeats)} repeat counts for an axis of size {'?' if d is None else d}",
                                 "give one count, or one per element along the axis")
        n: Optional[int] = sum(repeats)
    else:
        n = None if d is None else d * repeats[0]
    return shape[:a] + (n,) + shape[a + 1:], x.dtype


def _repeat_vjp(g: Any, out: Any, x: Any, repeats: tuple, axis: Optional[int]) -> Any:
    if len(repeats) == 1:
        return apply("repeat_grad", g, x, repeats=repeats, axis=axis)
    # element i was copied repeats[i] times: scatter-add the copies back
    owner = np.repeat(np.arange(len(repeats)), repeats)
    if axis is None:
        return reshape_like(apply("index_grad", g, reshape(x, (-1,)), owner, key=("array",)), x)
    return apply("index_grad", g, x, owner, key=(slice(None),) * axis + ("array",))


register(OpDef("repeat", 1, _repeat_rule, attrs={"repeats": 1, "axis": None}, normalize=_repeat_attrs,
               vjp=(_repeat_vjp,), doc="Repeat each element (np.repeat); axis=None works on the flattened x.",
               fresh=True, complex_ok=True))


def _repeat_grad_rule(g: Aval, x: Aval, repeats: tuple, axis: Optional[int]) -> tuple:
    if len(repeats) != 1:
        raise ShapeRuleError("repeat_grad takes one repeat count")
    want, _ = _repeat_rule(x, repeats, axis)
    if len(g.shape) != len(want) or any(a is not None and b is not None and a != b for a, b in zip(g.shape, want)):
        raise ShapeRuleError(f"the gradient of shape {fmt(g.shape)} is not repeat's result shape {fmt(want)}")
    return x.shape, accumulated_dtype(g.dtype)  # a sum, as np.sum computes it


# (..., d*r, ...) -> (..., d, r, ...) summed over r, reading x's sizes when it runs.
register(OpDef("repeat_grad", 2, _repeat_grad_rule, attrs={"repeats": 1, "axis": None}, internal=True,
               normalize=lambda avals, repeats=1, axis=None: _repeat_attrs(avals[1:], repeats, axis),
               vjp=(lambda gg, out, g, x, repeats, axis: repeat(gg, repeats, axis), None),
               doc="The copies' gradients summed back onto x: the adjoint of repeat with one count.", fresh=True, complex_ok=True))


# -- roll -------------------------------------------------------------------------------------------------
def _roll_attrs(avals: list, shift: Any = 0, axis: Any = None) -> dict:
    shifts = _ints(shift, "shift")
    if axis is None:
        if len(shifts) != 1:
            raise ShapeRuleError(f"shift {shifts!r} has several counts but no axis", "give axis=, one per shift")
        return {"axis": None, "shift": shifts}
    axes = tuple(_axis(a, avals[0].ndim) for a in _ints(axis, "axis"))
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ShapeRuleError(f"{len(shifts)} shifts for {len(axes)} axes", "give one shift per axis, or one for all")
    return {"axis": axes, "shift": shifts}


register(OpDef("roll", 1, R.same, attrs={"shift": 0, "axis": None}, normalize=_roll_attrs,
               vjp=(lambda g, out, x, shift, axis: roll(g, tuple(-s for s in shift), axis),),
               doc="Shift elements cyclically along axes (np.roll).", fresh=True, complex_ok=True))


# -- flip -------------------------------------------------------------------------------------------------
def _flip_attrs(avals: list, axis: Any = None) -> dict:
    try:
        axes = normalize_axis(axis, avals[0].ndim)
    except ValueError as exc:
        raise ShapeRuleError(str(exc), "use axes between -ndim and ndim-1") from None
    return {"axis": tuple(range(avals[0].ndim)) if axes is None else axes}


register(OpDef("flip", 1, R.same, attrs={"axis": None}, normalize=_flip_attrs,
               vjp=(lambda g, out, x, axis: flip(g, axis),),
               doc="Reverse the order along axes (a view of x: never declared fresh).", complex_ok=True))


# -- pad --------------------------------------------------------------------------------------------------
def _pad_attrs(avals: list, pad_width: Any = 0, constant_values: Any = 0) -> dict:
    ndim = avals[0].ndim
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=object), (ndim, 2))
    except ValueError:
        raise ShapeRuleError(f"pad_width {pad_width!r} does not give (before, after) for {ndim} axes",
                             "give an int, (before, after), or one (before, after) per axis") from None
    pairs = tuple((_int(b, "pad width"), _int(a, "pad width")) for b, a in widths)
    if any(w < 0 for p in pairs for w in p):
        raise ShapeRuleError(f"pad_width {pairs!r} holds a negative width", "give widths >= 0")
    c = constant_values
    if isinstance(c, (np.generic, np.ndarray)) and np.ndim(c) == 0:
        c = c.item()
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not np.isfinite(c):
        raise ShapeRuleError(f"constant_values {c!r} is not one finite number",
                             "give one number (per-axis values are not supported)")
    return {"constant_values": c, "pad_width": pairs}


def _pad_rule(x: Aval, pad_width: tuple, constant_values: Any) -> tuple:
    return tuple(None if d is None else d + b + a for d, (b, a) in zip(x.shape, pad_width)), x.dtype


register(OpDef("pad", 1, _pad_rule, attrs={"pad_width": 0, "constant_values": 0}, normalize=_pad_attrs,
               vjp=(lambda g, out, x, pad_width, constant_values:
                    getitem(g, tuple(slice(b, -a if a else None) for b, a in pad_width)),),
               doc="Pad with a constant (np.pad, mode='constant'); the gradient is the middle slice.", fresh=True, complex_ok=True))


# -- diag, diagonal, triu, tril ---------------------------------------------------------------------------
def _k_attrs(avals: list, k: Any = 0) -> dict:
    return {"k": _int(k, "k")}


def _diag_rule(v: Aval, k: int) -> tuple:
    if v.ndim != 1:
        raise ShapeRuleError(f"diag builds a matrix from a 1-D operand, got {v.ndim}-D", "use diagonal for matrices")
    n = None if v.shape[0] is None else v.shape[0] + abs(k)
    return (n, n), v.dtype


register(OpDef("diag", 1, _diag_rule, attrs={"k": 0}, normalize=_k_attrs,
               vjp=(lambda g, out, v, k: diagonal(g, k),), doc="A matrix with v on its k-th diagonal.", fresh=True, complex_ok=True))


def _diagonal_attrs(avals: list, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> dict:
    nd = avals[-1].ndim  # diagonal_grad's x is its last operand
    if nd < 2:
        raise ShapeRuleError(f"diagonal needs at least 2 axes, got {nd}", "give a matrix (or a stack of them)")
    a1, a2 = _axis(axis1, nd), _axis(axis2, nd)
    if a1 == a2:
        raise ShapeRuleError(f"axis1 and axis2 are both {a1}", "give two different axes")
    return {"axis1": a1, "axis2": a2, "offset": _int(offset, "offset")}


def _diag_len(d1: Optional[int], d2: Optional[int], k: int) -> Optional[int]:
    if d1 is None or d2 is None:
        return None
    return max(0, min(d1, d2 - k) if k >= 0 else min(d1 + k, d2))


def _diagonal_rule(x: Aval, offset: int, axis1: int, axis2: int) -> tuple:
    rest = tuple(d for i, d in enumerate(x.shape) if i not in (axis1, axis2))
    return rest + (_diag_len(x.shape[axis1], x.shape[axis2], offset),), x.dtype


register(OpDef("diagonal", 1, _diagonal_rule, attrs={"offset": 0, "axis1": 0, "axis2": 1}, normalize=_diagonal_attrs,
               vjp=(lambda g, out, x, **a: apply("diagonal_grad", g, x, **a),),
               doc="The diagonal over axis1 and axis2, appended as the last axis (a view of x: not fresh).", complex_ok=True))


def _diagonal_grad_rule(g: Aval, x: Aval, offset: int, axis1: int, axis2: int) -> tuple:
    want, _ = _diagonal_rule(x, offset, axis1, axis2)
    joint = broadcast([want, g.shape]) if len(g.shape) <= len(want) else None  # g must not grow the diagonal
    if joint is None or any(j is not None and w is not None and j != w for j, w in zip(joint, want)):
        raise ShapeRuleError(f"the gradient of shape {fmt(g.shape)} does not fit the diagonal of shape {fmt(want)}")
    return x.shape, g.dtype


register(OpDef("diagonal_grad", 2, _diagonal_grad_rule, attrs={"offset": 0, "axis1": 0, "axis2": 1},
               normalize=_diagonal_attrs, internal=True,
               vjp=(lambda gg, out, g, x, **a: diagonal(gg, **a), None),
               doc="Zeros shaped like x with g on the diagonal: the adjoint of diagonal.", fresh=True, complex_ok=True))


def _tri_rule(x: Aval, k: int) -> tuple:
    if x.ndim < 2:
        raise ShapeRuleError(f"needs a matrix (or a stack of them), got {x.ndim}-D", "reshape to 2-D")
    return x.shape, x.dtype


register(OpDef("triu", 1, _tri_rule, attrs={"k": 0}, normalize=_k_attrs, vjp=(lambda g, out, x, k: triu(g, k),),
               doc="Zeros below the k-th diagonal.", fresh=True, complex_ok=True))
register(OpDef("tril", 1, _tri_rule, attrs={"k": 0}, normalize=_k_attrs, vjp=(lambda g, out, x, k: tril(g, k),),
               doc="Zeros above the k-th diagonal.", fresh=True, complex_ok=True))


# -- einsum -----------------------------------------------------------------------------------------------
LETTERS = string.ascii_letters


def _parse_subscripts(text: Any, ndims: list) -> tuple:
    """``"ij,jk"`` -> (["ij", "jk"], "ik"): explicit output, NumPy's implicit one otherwise (letters used
    once, in alphabetical order, after ``...`` when an operand has it). Each term may hold one ``...``."""
    if not isinstance(text, str):
        raise ShapeRuleError(f"subscripts {text!r} is not a string", "give subscripts such as 'ij,jk->ik'")
    text = text.replace(" ", "")
    lhs, arrow, out = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ShapeRuleError(f"subscripts {text!r} name {len(terms)} operand(s), {len(ndims)} given",
                             "give one comma-separated term per operand")
    for t in terms + [out]:
        body = t.replace("...", "", 1)
        if any(c not in LETTERS for c in body):
            raise ShapeRuleError(f"subscripts {text!r} hold {t!r}", "use letters, ',' , '->' and at most one '...' per term")
    for t, nd in zip(terms, ndims):
        letters = len(t.replace("...", ""))
        if letters > nd or ("..." not in t and letters != nd):
            raise ShapeRuleError(f"term {t!r} has {letters} letter(s) for an operand of {nd} dimension(s)",
                                 "give one letter per axis (or ... for the leading ones)")
    if not arrow:
        used = "".join(t.replace("...", "") for t in terms)
        once = "".join(sorted(c for c in set(used) if used.count(c) == 1))
        out = ("..." if any("..." in t for t in terms) else "") + once
    body = out.replace("...", "")
    if len(set(body)) != len(body):
        raise ShapeRuleError(f"output {out!r} repeats a letter", "name each output axis once")
    missing = [c for c in body if c not in lhs]
    if missing:
        raise ShapeRuleError(f"output letter {missing[0]!r} is on no operand", "use only letters of the operands")
    return terms, out


def _einsum_attrs(avals: list, subscripts: Any = "") -> dict:
    terms, out = _parse_subscripts(subscripts, [a.ndim for a in avals])
    return {"subscripts": ",".join(terms) + "->" + out}


def _axes_of(term: str, ndim: int) -> list:
    """Each axis's letter, with ``.0``, ``.1``, ... for the axes under ``...`` (counted from the right)."""
    if "..." not in term:
        return list(term)
    head, tail = term.split("...")
    n = ndim - len(head) - len(tail)
    return list(head) + [f".{n - 1 - i}" for i in range(n)] + list(tail)


def _einsum_rule(*xs: Aval, subscripts: str) -> tuple:
    lhs, out = subscripts.split("->")
    sizes: dict = {}
    for x, term in zip(xs, lhs.split(",")):
        for letter, d in zip(_axes_of(term, x.ndim), x.shape):
            if d is None:
                sizes.setdefault(letter, None)
                continue
            seen = sizes.get(letter)
            if letter.startswith("."):   # ... axes broadcast as NumPy's
                if seen is None or seen == 1:
                    sizes[letter] = d
                elif d != 1 and d != seen:
                    raise ShapeRuleError(f"the axes under ... do not broadcast ({seen} vs {d})", R.BROADCAST_FIX)
            elif seen is not None and seen != d:
                raise ShapeRuleError(f"letter {letter!r} stands for sizes {seen} and {d}",
                                     "give the axes a letter names the same size")
            else:
                sizes[letter] = d
    n_ell = max([int(k[1:]) + 1 for k in sizes if k.startswith(".")], default=0)
    if "..." not in out and n_ell:
        raise ShapeRuleError("the operands have axes under ... but the output has no ...",
                             "put ... in the output, or sum those axes first")
    out_axes = _axes_of(out, n_ell + len(out.replace("...", ""))) if "..." in out else list(out)
    return tuple(sizes.get(a, 1) for a in out_axes), R.promote(*xs)


def _fresh(used: str) -> str:
    for c in LETTERS:
        if c not in used:
            return c
    raise GraphError("einsum: no letter is left to write this gradient (52 in use)")


def _einsum_vjp(g: Any, out: Any, *xs: Any, index: int, subscripts: str) -> Any:
    """d/dx_i of einsum(terms -> out) is einsum(out, other terms -> term_i) of g and the other operands.
    A letter only x_i has is brought back by multiplying with ones of x_i's shape; a letter x_i has on
    two axes (a diagonal) by diagonal_grad, and further repeats by identity matrices."""
    lhs, out_term = subscripts.split("->")
    terms = lhs.split(",")
    target = terms[index]
    ops, subs = [g], [out_term]
    for j, (x, t) in enumerate(zip(xs, terms)):
        if j != index:
            ops.append(x)
            subs.append(t)
    have = "".join(subs)
    if any(c not in have for c in target.replace("...", "")):
        ops.append(ones_like(xs[index]))
        subs.append(target)
    letters = target.replace("...", "")
    twice = [c for c in dict.fromkeys(letters) if letters.count(c) > 1]
    if len(twice) == 1 and letters.count(twice[0]) == 2 and "..." not in subscripts:
        # one letter on two axes (a diagonal): the einsum with that letter once, last, put on the diagonal
        c = twice[0]
        p1, p2 = (i for i, t in enumerate(target) if t == c)
        rest = target.replace(c, "")
        return apply("diagonal_grad", einsum(",".join(subs) + "->" + rest + c, *ops), xs[index],
                     offset=0, axis1=p1, axis2=p2)
    # axes under ... that x_i lacks stay in the result, to be summed by the central un-broadcast
    used, result = set(subscripts), "..." if "..." not in target and "..." in "".join(subs) else ""
    for pos, c in enumerate(target):
        if c in target[:pos] and c != ".":  # a repeated letter: the identity ties the copy to the first
            d = _letter_size(xs[index], target, c)
            fresh = _fresh("".join(used))
            used.add(fresh)
            ops.append(np.eye(d, dtype=xs[index].dtype))
            subs.append(c + fresh)
            c = fresh
        result += c
    return einsum(",".join(subs) + "->" + result, *ops)


def _letter_size(x: Any, term: str, letter: str) -> int:
    for a, d in zip(_axes_of(term, x.ndim), x.shape):
        if a == letter and d is not None:
            return d
    raise GraphError(f"einsum: the gradient through the repeated letter {letter!r} of {term!r} needs its size; "
                     "declare that size (it is None)")


register(OpDef("einsum", None, _einsum_rule, attrs={"subscripts": ""}, normalize=_einsum_attrs, vjp=_einsum_vjp,
               doc="Einstein summation (np.einsum): explicit 'ij,jk->ik', implicit output, ... broadcasting.", complex_ok=True))
# einsum is not declared fresh: NumPy returns a view for a pure permutation or diagonal ('ij->ji', 'ii->i').


# -- merge_axes (internal) ----------------------------------------------------------------------------
def _merge_attrs(avals: list, groups: Any = ()) -> dict:
    groups = _ints(groups, "group size")
    if any(k < 1 for k in groups) or sum(groups) != avals[0].ndim:
        raise ShapeRuleError(f"groups {groups!r} do not split {avals[0].ndim} axes into runs of >= 1",
                             "give run lengths that add up to the number of axes")
    return {"groups": groups}


def _merge_rule(x: Aval, groups: tuple) -> tuple:
    out, at = [], 0
    for k in groups:
        out.append(_prod(x.shape[at:at + k]))
        at += k
    return tuple(out), x.dtype


# A reshape that merges runs of adjacent axes, reading their sizes when it runs (kron's last step, where
# several sizes may be None); its gradient is x's own run-time shape back.
register(OpDef("merge_axes", 1, _merge_rule, attrs={"groups": ()}, normalize=_merge_attrs, internal=True,
               vjp=(lambda g, out, x, groups: reshape_like(g, x),),
               doc="x with each run of `groups` adjacent axes merged into one (a reshape; a view).", complex_ok=True))


# -- public functions -------------------------------------------------------------------------------------
def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join tensors of one shape along a new axis. ``rg.stack([a, b], axis=1)``"""
    return apply("stack", *arrays, axis=axis)


def _atleast(x: Any, n: int) -> Any:
    """x with leading axes of size 1 up to n axes."""
    if x.ndim >= n:
        return x
    return apply("expand_dims", x, axis=tuple(range(n - x.ndim)))


def _as_operand(x: Any) -> Any:
    return x if hasattr(x, "ndim") and hasattr(x, "shape") else np.asarray(x)


def vstack(tup: Sequence[Any]) -> Any:
    """Stack rows (1-D operands become rows). ``rg.vstack([a, b])``"""
    return concatenate([_atleast(_as_operand(x), 2) for x in tup], axis=0)


def hstack(tup: Sequence[Any]) -> Any:
    """Stack columns: along axis 1, or axis 0 for 1-D operands. ``rg.hstack([a, b])``"""
    xs = [_atleast(_as_operand(x), 1) for x in tup]
    return concatenate(xs, axis=0 if xs and xs[0].ndim == 1 else 1)


def _split_points(x: Any, sections: Any, axis: int, even: bool, what: str) -> list:
    nd = x.ndim
    if isinstance(axis, bool) or not -nd <= int(axis) < nd:
        raise GraphError(f"{what}: axis {axis!r} is out of range for shape {fmt(tuple(x.shape))}")
    d = x.shape[int(axis) % nd]
    if isinstance(sections, (list, tuple, np.ndarray)):
        return [int(i) for i in sections]
    n = int(sections)
    if n <= 0:
        raise GraphError(f"{what}: {n} sections; give a count >= 1 or a list of split points")
    if d is None:
        raise GraphError(f"{what}: x {fmt(tuple(x.shape))} has a run-time size along axis {axis}; split into "
                         "sections needs it known -- give the split points as a list instead")
    if even and d % n:
        raise GraphError(f"{what}: axis {axis} of size {d} does not divide into {n} equal sections; "
                         "use rg.array_split for unequal parts")
    q, r = divmod(d, n)
    points, at = [], 0
    for i in range(n - 1):
        at += q + (1 if i < r else 0)
        points.append(at)
    return points


def _split(x: Any, points: list, axis: int) -> list:
    a = int(axis) % x.ndim
    bounds = [None] + points + [None]
    return [getitem(x, (slice(None),) * a + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Equal sections, or parts between split points; a list of tensors, each a slice of x (a ``getitem``
    node). ``a, b = rg.split(x, 2, axis=1)``"""
    return _split(x, _split_points(x, indices_or_sections, axis, True, "split"), axis)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """As split, but n sections need not be equal (the first ones are one longer)."""
    return _split(x, _split_points(x, indices_or_sections, axis, False, "array_split"), axis)


def tile(x: Any, reps: Any) -> Any:
    """Repeat the whole of x (np.tile). ``rg.tile(x, (2, 1))``"""
    return apply("tile", x, reps=reps)


def repeat(x: Any, repeats: Any, axis: Optional[int] = None) -> Any:
    """Repeat each element (np.repeat): one count, or one per element along ``axis``."""
    return apply("repeat", x, repeats=repeats, axis=axis)


def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    """Shift cyclically (np.roll); axis=None rolls the flattened x. ``rg.roll(x, 1, axis=0)``"""
    return apply("roll", x, shift=shift, axis=axis)


def flip(x: Any, axis: Any = None) -> Any:
    """Reverse along ``axis`` (all axes when None)."""
    return apply("flip", x, axis=axis)


def fliplr(x: Any) -> Any:
    """Reverse the columns (axis 1)."""
    return flip(x, 1)


def flipud(x: Any) -> Any:
    """Reverse the rows (axis 0)."""
    return flip(x, 0)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Any:
    """np.pad with a constant: ``rg.pad(x, ((1, 1), (0, 2)))``; only ``mode='constant'``."""
    if mode != "constant":
        raise GraphError(f"pad: mode {mode!r} is not supported; only mode='constant' (with constant_values=)")
    return apply("pad", x, pad_width=pad_width, constant_values=constant_values)


def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    """Move axes to new positions (a transpose). ``rg.moveaxis(x, 0, -1)``"""
    nd = x.ndim
    try:
        src = [int(a) % nd if -nd <= int(a) < nd else None for a in np.atleast_1d(source)]
        dst = [int(a) % nd if -nd <= int(a) < nd else None for a in np.atleast_1d(destination)]
    except (TypeError, ValueError, ZeroDivisionError):
        src = dst = [None]
    if None in src or None in dst or len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise GraphError(f"moveaxis: source {source!r} and destination {destination!r} must be distinct axes of "
                         f"{nd} dimension(s), as many of each")
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes (a transpose)."""
    nd = x.ndim
    perm = list(range(nd))
    try:
        a, b = int(axis1) % nd, int(axis2) % nd
        if not (-nd <= int(axis1) < nd and -nd <= int(axis2) < nd):
            raise ValueError
    except (TypeError, ValueError, ZeroDivisionError):
        raise GraphError(f"swapaxes: axes {axis1!r}, {axis2!r} out of range for {nd} dimension(s)") from None
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


def ravel(x: Any) -> Any:
    """The elements as one axis (a reshape)."""
    return reshape(x, (-1,))


def diag(v: Any, k: int = 0) -> Any:
    """np.diag: a matrix with the 1-D v on its k-th diagonal, or the k-th diagonal of a matrix."""
    v = _as_operand(v)
    if v.ndim == 2:
        return diagonal(v, k)
    return apply("diag", v, k=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal over axis1 and axis2, as the last axis (np.diagonal)."""
    return apply("diagonal", x, offset=offset, axis1=axis1, axis2=axis2)


def triu(x: Any, k: int = 0) -> Any:
    """Zeros below the k-th diagonal of the last two axes."""
    return apply("triu", x, k=k)


def tril(x: Any, k: int = 0) -> Any:
    """Zeros above the k-th diagonal of the last two axes."""
    return apply("tril", x, k=k)


def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation as np.einsum: ``rg.einsum("ij,jk->ik", a, b)``, ``rg.einsum("ii", a)``,
    ``rg.einsum("...ij,...jk", a, b)``. Its gradient is an einsum too."""
    return apply("einsum", *operands, subscripts=subscripts)


def outer(a: Any, b: Any) -> Any:
    """Every product a_i * b_j of the flattened operands, as a matrix."""
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Sum of products over the last ``axes`` axes of a and the first of b, or over the axes given as
    two sequences (an einsum). ``rg.tensordot(a, b, axes=([1], [0]))``"""
    a, b = _as_operand(a), _as_operand(b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise GraphError(f"tensordot: axes={n} for operands of {a.ndim} and {b.ndim} dimension(s)")
        pa, pb = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            pa, pb = ([int(i) for i in np.atleast_1d(s)] for s in axes)
        except (TypeError, ValueError):
            raise GraphError(f"tensordot: axes {axes!r} is neither an int nor two sequences of axes") from None
        if len(pa) != len(pb) or not all(-a.ndim <= i < a.ndim for i in pa) or not all(-b.ndim <= i < b.ndim for i in pb):
            raise GraphError(f"tensordot: axes {axes!r} do not pair axes of shapes {fmt(tuple(a.shape))} and "
                             f"{fmt(tuple(b.shape))}")
        pa, pb = [i % a.ndim for i in pa], [i % b.ndim for i in pb]
    if a.ndim + b.ndim - len(pa) > len(LETTERS):
        raise GraphError("tensordot: too many axes for one einsum")
    la = list(LETTERS[:a.ndim])
    lb = list(LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(pa, pb):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in pa] + [c for j, c in enumerate(lb) if j not in pb]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes (np.inner); a product when either operand is 0-d."""
    a, b = _as_operand(a), _as_operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


def dot(a: Any, b: Any) -> Any:
    """np.dot: a product for 0-d operands, a matmul up to 2-D (or with a 1-D b), else the sum over a's last
    and b's second-to-last axes."""
    a, b = _as_operand(a), _as_operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1 or (a.ndim <= 2 and b.ndim <= 2):
        return apply("matmul", a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def kron(a: Any, b: Any) -> Any:
    """Kronecker product: blocks a_ij * b (an einsum of the two, then its axis pairs merged).

    >>> rg.kron(np.eye(2), W)    # block-diagonal copies of W
    """
    a, b = _as_operand(a), _as_operand(b)
    n = max(a.ndim, b.ndim)
    if n == 0:
        return a * b
    a, b = _atleast(a, n), _atleast(b, n)
    la, lb = LETTERS[:n], LETTERS[n:2 * n]
    pairs = "".join(x + y for x, y in zip(la, lb))
    return apply("merge_axes", einsum(f"{la},{lb}->{pairs}", a, b), groups=(2,) * n)
