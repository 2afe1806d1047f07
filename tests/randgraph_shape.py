"""Random-graph generators of the shape/combination ops and of advanced indexing, merged into
tests/randgraph.py's SMOOTH table (all of them are smooth: linear in each operand, or products).

Every form drawn here also builds with every input size declared None (``spec.build(unknown_sizes=True)``):
split points rather than section counts, at most one letter on two axes of one
einsum operand, masks as constants (a mask computed in the graph has a run-time size; tests cover it)."""

from __future__ import annotations

import string
from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st

from randgraph import MAX_NDIM, Ref, _Builder


def _same_shape(b: _Builder, x: Ref) -> Optional[Ref]:
    return b.pick(lambda v: v.shape == b.shape(x))


def _stack(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim < MAX_NDIM)
    y = x and _same_shape(b, x)
    return y and b.add("stack", [x, y] if b.choice([True, False]) else [y, x, y],
                       axis=b.draw(st.integers(-b.shape(x).__len__() - 1, len(b.shape(x)))))


def _vstack(b: _Builder) -> Any:
    x = b.pick(lambda v: 1 <= v.ndim <= 2)
    if x is None:
        return None
    tail = b.shape(x)[-1:]
    y = b.pick(lambda v: 1 <= v.ndim <= 2 and v.shape[-1:] == tail)
    return y and b.add("vstack", [x, y])


def _hstack(b: _Builder) -> Any:
    x = b.pick(lambda v: 1 <= v.ndim <= 2)
    if x is None:
        return None
    s = b.shape(x)
    y = b.pick(lambda v: v.ndim == len(s) and (v.ndim == 1 or v.shape[0] == s[0]))
    return y and b.add("hstack", [x, y])


def _split(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        x = b.pick(lambda v: v.ndim >= 1 and max(v.shape) >= 2)
        if x is None:
            return None
        s = b.shape(x)
        axis = b.choice([i for i, d in enumerate(s) if d >= 2])
        points = sorted(b.draw(st.sets(st.integers(1, s[axis] - 1), min_size=1, max_size=2)))
        part = b.draw(st.integers(0, len(points)))
        return b.add(fn, x, points, axis=axis, part=part)
    return gen


def _tile(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    n = b.draw(st.integers(1, 3))
    return b.add("tile", x, tuple(b.draw(st.integers(1, 2)) for _ in range(n)))


def _repeat(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    s = b.shape(x)
    kind = b.choice(["flat", "axis", "each"]) if s else "flat"
    if kind == "flat":
        return b.add("repeat", x, b.draw(st.integers(1, 3)))
    axis = b.draw(st.integers(-len(s), len(s) - 1))
    if kind == "axis":
        return b.add("repeat", x, b.draw(st.integers(0, 3)), axis=axis)
    counts = [b.draw(st.integers(0, 2)) for _ in range(s[axis])]
    return b.add("repeat", x, counts, axis=axis)


def _roll(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    s = b.shape(x)
    if not s or b.choice([True, False]):
        return b.add("roll", x, b.draw(st.integers(-5, 5)))
    axes = tuple(b.draw(st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=2)))
    return b.add("roll", x, tuple(b.draw(st.integers(-3, 3)) for _ in axes), axis=axes)


def _flip(b: _Builder) -> Any:
    x = b.pick()
    if x is None:
        return None
    n = len(b.shape(x))
    axis = b.choice([None] + ([b.draw(st.integers(-n, n - 1))] if n else []))
    return b.add("flip", x, axis=axis)


def _fliplr(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 2)
    return x and b.add("fliplr", x)


def _flipud(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    return x and b.add("flipud", x)


def _pad(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    widths = tuple((b.draw(st.integers(0, 1)), b.draw(st.integers(0, 2))) for _ in b.shape(x))
    return b.add("pad", x, b.choice([widths, 1]), constant_values=b.choice([0, 0.5]))


def _moveaxis(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 2)
    if x is None:
        return None
    n = len(b.shape(x))
    return b.add("moveaxis", x, b.draw(st.integers(-n, n - 1)), b.draw(st.integers(-n, n - 1)))


def _swapaxes(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 2)
    if x is None:
        return None
    n = len(b.shape(x))
    return b.add("swapaxes", x, b.draw(st.integers(-n, n - 1)), b.draw(st.integers(-n, n - 1)))


def _ravel(b: _Builder) -> Any:
    x = b.pick()
    return x and b.add("ravel", x)


def _diag(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim in (1, 2))
    if x is None:
        return None
    return b.add("diag", x, b.draw(st.integers(-1, 1)))


def _diagonal(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 2)
    if x is None:
        return None
    n = len(b.shape(x))
    a1, a2 = b.draw(st.permutations(range(n)))[:2]
    return b.add("diagonal", x, b.draw(st.integers(-1, 1)), a1, a2)


def _tri(fn: str) -> Any:
    def gen(b: _Builder) -> Any:
        x = b.pick(lambda v: v.ndim >= 2)
        return x and b.add(fn, x, b.draw(st.integers(-1, 1)))
    return gen


def _outer(b: _Builder) -> Any:
    x, y = b.pick(), b.pick()
    return x and y and b.add("outer", x, y)


def _last_axis_partner(b: _Builder, x: Ref, axis: int) -> Optional[Ref]:
    s = b.shape(x)
    return b.pick(lambda v: v.ndim >= 1 and v.shape[axis] == s[-1])


def _inner(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    y = x and _last_axis_partner(b, x, -1)
    return y and b.add("inner", x, y)


def _dot(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    k = b.shape(x)[-1]
    y = b.pick(lambda v: (v.ndim == 1 and v.shape[0] == k) or (v.ndim >= 2 and v.shape[-2] == k))
    if y is None or b.choice([True, False]):
        y = b.rng.normal(size=(k, b.draw(st.integers(1, 3)))) / np.sqrt(k)
    return b.add("dot", x, y)


def _tensordot(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    sx = b.shape(x)
    i = b.draw(st.integers(0, len(sx) - 1))
    y = b.pick(lambda v: sx[i] in v.shape)
    if y is None:
        return None
    j = b.choice([k for k, d in enumerate(b.shape(y)) if d == sx[i]])
    return b.add("tensordot", x, y, axes=([i], [j]) if b.choice([True, False]) else (i, j))


def _kron(b: _Builder) -> Any:
    x, y = b.pick(lambda v: v.ndim <= 2 and v.size <= 8), b.pick(lambda v: v.ndim <= 2 and v.size <= 8)
    return x and y and b.add("kron", x, y)


def _einsum(b: _Builder) -> Any:
    """One or two operands; letters shared where sizes agree; maybe one diagonal letter per operand;
    an explicit output (a random subset, in random order) or NumPy's implicit one."""
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    ops = [x] + ([y] if (y := b.pick(lambda v: v.ndim >= 1)) is not None and b.choice([True, False]) else [])
    letters = iter(string.ascii_lowercase)
    size_of: dict = {}
    terms = []
    for op in ops:
        term = ""
        for d in b.shape(op):
            reuse = [c for c, n in size_of.items() if n == d and term.count(c) == 0]
            diag = [c for c in dict.fromkeys(term) if size_of[c] == d] if not any(term.count(c) > 1 for c in term) else []
            pick = b.choice(["new", "reuse", "diag"])
            if pick == "reuse" and reuse:
                c = b.choice(reuse)
            elif pick == "diag" and diag:
                c = b.choice(diag)
            else:
                c = next(letters)
                size_of[c] = d
            term += c
        terms.append(term)
    lhs = ",".join(terms)
    if b.choice([True, False]):
        return b.add("einsum", lhs, *ops)
    pool = sorted(set(lhs) - {","})
    out = b.draw(st.permutations(pool))[: b.draw(st.integers(0, len(pool)))]
    return b.add("einsum", f"{lhs}->{''.join(out)}", *ops)


def _index(b: _Builder) -> Any:
    """Integer arrays (with repeats, negative), lists and constant masks, mixed with slices."""
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    s = b.shape(x)
    items: list = []
    for d in s[: b.draw(st.integers(1, len(s)))]:
        kind = b.choice(["array", "list", "mask", "slice", "int"])
        if kind == "array":
            items.append(b.rng.integers(-d, d, size=b.choice([(2,), (3,), (2, 2)])))
        elif kind == "list":
            items.append([int(i) for i in b.rng.integers(0, d, size=2)])
        elif kind == "mask":
            items.append(b.rng.random(d) < 0.6)
        elif kind == "int":
            items.append(b.draw(st.integers(-d, d - 1)))
        else:
            items.append(slice(None, None, b.choice([None, -1])))
    if not any(isinstance(i, (list, np.ndarray)) for i in items):
        items[0] = b.rng.integers(0, s[0], size=3)
    try:
        np.broadcast_shapes(*[np.shape(np.nonzero(i)[0]) if getattr(i, "dtype", None) == bool else np.shape(i)
                              for i in items if isinstance(i, (list, np.ndarray))])
    except ValueError:
        return None  # index arrays that do not broadcast together
    return b.add("getitem", x, tuple(items))


def _take(b: _Builder) -> Any:
    x = b.pick(lambda v: v.ndim >= 1)
    if x is None:
        return None
    s = b.shape(x)
    axis = b.choice([None] + list(range(len(s))))
    n = int(np.prod(s)) if axis is None else s[axis]
    return b.add("take", x, b.rng.integers(0, n, size=b.choice([(3,), (2, 2)])), axis=axis)


SHAPE_GENERATORS = {
    "stack": _stack, "vstack": _vstack, "hstack": _hstack, "split": _split("split"),
    "array_split": _split("array_split"), "tile": _tile, "repeat": _repeat, "roll": _roll, "flip": _flip,
    "fliplr": _fliplr, "flipud": _flipud, "pad": _pad, "moveaxis": _moveaxis, "swapaxes": _swapaxes,
    "ravel": _ravel, "diag": _diag, "diagonal": _diagonal, "triu": _tri("triu"), "tril": _tri("tril"),
    "outer": _outer, "inner": _inner, "dot": _dot, "tensordot": _tensordot, "kron": _kron, "einsum": _einsum,
    "index": _index, "take": _take,
}
