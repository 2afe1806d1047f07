"""NumPy kernels of the shape/combination ops (ir/ops/combine.py) and of advanced indexing
(ir/ops/indexing.py), merged into ``kernels.TEMPLATES`` / ``kernels.HELPERS``."""

from __future__ import annotations

import numpy as np

from . import kernels as K

ARRAY = "array"  # the mark of an index-array operand in an ``index`` key (ir/ops/indexing.py)


def _key(key: tuple, arrays: tuple) -> tuple:
    """The NumPy index: the key with each ``"array"`` mark replaced by the next array."""
    it = iter(arrays)
    return tuple(next(it) if isinstance(i, str) else i for i in key)


def index_grad(g, x, *arrays, key):
    """Zeros shaped like x with g *added* at x[key]: repeated indices accumulate (np.add.at)."""
    xp = K.xp
    shape = xp.shape(x)
    dtype = xp.result_type(g)
    if len(arrays) == 1 and key[0] == ARRAY and arrays[0].dtype.kind in "iu" and len(shape) > 1 \
            and arrays[0].size >= ROWS_MIN and dtype.kind == "f" and all(i == slice(None) for i in key[1:]):
        return _rows_add(g, arrays[0], shape, dtype)
    out = xp.zeros(shape, dtype=dtype)
    # A boolean mask selects each element once, but it may sit next to integer arrays that repeat:
    # as its positions (what NumPy does with a mask), every case is one np.add.at.
    it, full = iter(arrays), []
    for i in key:
        if not isinstance(i, str):
            full.append(i)
            continue
        a = next(it)
        full.extend(xp.nonzero(a) if a.dtype == np.bool_ else (a,))
    xp.add.at(out, tuple(full), g)
    return out


# x[idx] picking whole rows is the common case (embeddings, gathers of samples). np.add.at walks it row by
# row; from ROWS_MIN indices on, narrow rows go faster as one bincount over flat positions and wide rows
# as a sort and np.add.reduceat of each run of equal indices (measured ~2x and ~3x, 5000 indices).
ROWS_MIN = 64
NARROW_ROW = 16


def _rows_add(g, idx, shape, dtype):
    xp = K.xp
    rows, width = shape[0], int(np.prod(shape[1:], dtype=np.int64))
    flat_idx = xp.reshape(idx, (-1,)) % rows  # negative indices count from the end, as in x[idx]
    g = xp.reshape(xp.broadcast_to(g, xp.shape(idx) + tuple(shape[1:])), (-1, width))
    if width < NARROW_ROW:
        pos = (flat_idx[:, None] * width + xp.arange(width)).reshape(-1)
        out = xp.bincount(pos, weights=xp.reshape(g, (-1,)), minlength=rows * width)
        return xp.reshape(out.astype(dtype, copy=False), shape)
    order = xp.argsort(flat_idx, kind="stable")
    ordered = flat_idx[order]
    starts = xp.flatnonzero(xp.concatenate(([True], ordered[1:] != ordered[:-1])))
    out = xp.zeros((rows, width), dtype=dtype)
    out[ordered[starts]] = xp.add.reduceat(g[order], starts, axis=0)
    return xp.reshape(out, shape)


def _index_subscript(key: tuple, names: list) -> str:
    it = iter(names)
    return ", ".join(next(it) if isinstance(i, str) else K.subscript((i,)) for i in key)


HELPERS = {f.__name__: f for f in (index_grad,)}

TEMPLATES = {
    "index": lambda a, k: f"{a[0]}[{_index_subscript(k['key'], a[1:])}]",
    "index_grad": lambda a, k: f"index_grad({', '.join(a)}, key={K.literal(k['key'])})",
}


def diagonal_grad(g, x, offset, axis1, axis2):
    """Zeros shaped like x with g on the diagonal (offset, axis1, axis2): the adjoint of np.diagonal."""
    xp = K.xp
    out = xp.zeros(xp.shape(x), dtype=xp.result_type(g))
    planes = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a writable view of out
    n = xp.shape(xp.diagonal(planes, offset, -2, -1))[-1]
    rows = xp.arange(n) + max(-offset, 0)
    planes[..., rows, rows + offset] = g
    return out


HELPERS[diagonal_grad.__name__] = diagonal_grad


def _kw(k: dict, *names: str) -> str:
    return ", ".join(f"{n}={K.literal(k[n])}" for n in names)


TEMPLATES.update({
    "stack": lambda a, k: f"xp.stack(({', '.join(a)},), axis={K.literal(k['axis'])})",
    "tile": lambda a, k: f"xp.tile({a[0]}, {K.literal(k['reps'])})",
    "repeat": lambda a, k: f"xp.repeat({a[0]}, {K.literal(k['repeats'][0] if len(k['repeats']) == 1 else k['repeats'])}"
                           f", axis={K.literal(k['axis'])})",
    "roll": lambda a, k: f"xp.roll({a[0]}, {K.literal(k['shift'][0] if k['axis'] is None else k['shift'])}, "
                         f"axis={K.literal(k['axis'])})",
    "flip": lambda a, k: f"xp.flip({a[0]}, axis={K.literal(k['axis'])})",
    "pad": lambda a, k: f"xp.pad({a[0]}, {K.literal(k['pad_width'])}, constant_values={K.literal(k['constant_values'])})",
    "diag": lambda a, k: f"xp.diag({a[0]}, {K.literal(k['k'])})",
    "diagonal": lambda a, k: f"xp.diagonal({a[0]}, {_kw(k, 'offset', 'axis1', 'axis2')})",
    "diagonal_grad": lambda a, k: f"diagonal_grad({a[0]}, {a[1]}, {_kw(k, 'offset', 'axis1', 'axis2')})",
    "triu": lambda a, k: f"xp.triu({a[0]}, {K.literal(k['k'])})",
    "tril": lambda a, k: f"xp.tril({a[0]}, {K.literal(k['k'])})",
    "einsum": lambda a, k: f"einsum({K.literal(k['subscripts'])}, {', '.join(a)})",
})


def tile_grad(g, x, reps):
    """Sum tile's copies back: (r0*d0, r1*d1, ...) -> (r0, d0, r1, d1, ...) summed over the r's."""
    xp = K.xp
    shape = (1,) * (len(reps) - xp.ndim(x)) + tuple(xp.shape(x))
    split = tuple(n for r, d in zip(reps, shape) for n in (r, d))
    summed = xp.sum(xp.reshape(g, split), axis=tuple(range(0, 2 * len(reps), 2)))
    return xp.reshape(summed, xp.shape(x))


def repeat_grad(g, x, repeats, axis):
    """Sum repeat's copies back: (..., d*r, ...) -> (..., d, r, ...) summed over r."""
    xp = K.xp
    (r,) = repeats
    if axis is None:
        return xp.reshape(xp.sum(xp.reshape(g, (-1, r)), axis=1), xp.shape(x))
    shape = xp.shape(x)
    return xp.sum(xp.reshape(g, shape[:axis] + (shape[axis], r) + shape[axis + 1:]), axis=axis + 1)


# Above this many elements in an operand, np.einsum's path search (~7 us) pays off: it contracts through
# BLAS (tensordot); below, its C loop is faster (16x16 @ 16x16: 3 us vs 9 us; 64x64: 156 us vs 19 us).
EINSUM_OPTIMIZE_SIZE = 512


def einsum(subscripts, *operands):
    xp = K.xp
    if len(operands) > 1 and max(xp.size(o) for o in operands) > EINSUM_OPTIMIZE_SIZE:
        return xp.einsum(subscripts, *operands, optimize=True)
    return xp.einsum(subscripts, *operands)


def merge_axes(x, groups):
    """x with each run of ``groups`` adjacent axes merged (a reshape read from x's run-time shape)."""
    xp = K.xp
    shape, out, at = xp.shape(x), [], 0
    for k in groups:
        n = 1
        for d in shape[at:at + k]:
            n *= d
        out.append(n)
        at += k
    return xp.reshape(x, tuple(out))


HELPERS.update({f.__name__: f for f in (tile_grad, repeat_grad, einsum, merge_axes)})
TEMPLATES.update({
    "tile_grad": lambda a, k: f"tile_grad({a[0]}, {a[1]}, {K.literal(k['reps'])})",
    "merge_axes": lambda a, k: f"merge_axes({a[0]}, {K.literal(k['groups'])})",
    "repeat_grad": lambda a, k: f"repeat_grad({a[0]}, {a[1]}, {K.literal(k['repeats'])}, {K.literal(k['axis'])})",
})
