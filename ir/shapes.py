"""Static shapes. A size may be ``None``: fixed only when the program runs.

Broadcasting follows NumPy; ``None`` against a known size ``n > 1`` gives ``n``
(the run time check happens in the kernel), ``None`` against ``None`` gives
``None``.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from .errors import GraphError

Shape = tuple[Optional[int], ...]


def as_shape(shape: Any, *, what: str = "shape") -> Shape:
    """Normalise ``()``, ``5``, ``[None, 3]`` to a tuple of non-negative ints or None."""
    if shape is None:
        return ()
    if isinstance(shape, (int,)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise GraphError(f"{what}: {shape!r} is not a shape; give a tuple of ints, with None for sizes fixed at run time") from None
    out = []
    for d in dims:
        if d is None:
            out.append(None)
            continue
        if isinstance(d, bool) or not hasattr(d, "__index__"):
            raise GraphError(f"{what}: size {d!r} in {shape!r} is not an int or None")
        d = int(d)
        if d < 0:
            raise GraphError(f"{what}: size {d} in {tuple(dims)!r} is negative; sizes are >= 0 (None = fixed at run time)")
        if d > MAX_SIZE:
            raise GraphError(f"{what}: size {d} in {tuple(dims)!r} is larger than 2**63 - 1, NumPy's largest size")
        out.append(d)
    return tuple(out)


MAX_SIZE = 2 ** 63 - 1  # NumPy's limit (intp) on every size, and on an array's bytes
MAX_NDIM = 64  # NumPy's limit on the number of axes


def too_big(shape: Shape, itemsize: int) -> Optional[str]:
    """Why no NumPy array can have ``shape`` with items of ``itemsize`` bytes, or None when one can.
    NumPy's own rule: each size, and the product of the non-zero sizes times the item size, must fit
    in intp -- so ``(0, 2**62, 2**62)`` is refused although it holds no element. Sizes fixed at run
    time (None) are left out: they are checked when the program runs."""
    if len(shape) > MAX_NDIM:
        return f"shape has {len(shape)} axes, more than NumPy's {MAX_NDIM}"
    n = itemsize
    for d in shape:
        if d is None or d == 0:
            continue
        if d > MAX_SIZE:
            return f"size {d} is larger than 2**63 - 1"
        n *= d
        if n > MAX_SIZE:
            return f"shape {fmt(shape)} needs more than 2**63 - 1 bytes, more than any NumPy array can hold"
    return None


def static_bytes(shape: Shape, itemsize: int) -> int:
    """The bytes of an array of ``shape`` counting only the known sizes (None counts as 1)."""
    n = itemsize
    for d in shape:
        if d is not None:
            n *= d
    return n


def fmt(shape: Shape) -> str:
    """``(None, 3)`` prints as ``(?, 3)``: the ``?`` reads as 'fixed at run time'."""
    inner = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def is_static(shape: Shape) -> bool:
    return None not in shape  # same as all(d is not None ...), without a generator (called for every node)


def size(shape: Shape) -> Optional[int]:
    """Number of elements, or None when a size is unknown."""
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def broadcast(shapes: Sequence[Shape]) -> Optional[Shape]:
    """The broadcast shape, or None when the shapes cannot broadcast."""
    # Fast path (most ops in a graph): the non-scalar shapes are all equal and fully known.
    first: Optional[tuple] = None
    for s in shapes:  # a plain loop: this runs for every node a graph builds
        if not s:
            continue
        if first is None:
            first = tuple(s)
            if None in first:
                break
        elif tuple(s) != first:
            break
    else:
        return () if first is None else first
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Optional[int]] = []
    for axis in range(-ndim, 0):
        dims = [s[axis] for s in shapes if len(s) >= -axis]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            return None
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_axis(axis: Any, ndim: int) -> Optional[tuple[int, ...]]:
    """``None`` stays None (all axes); an int or tuple becomes a sorted tuple of
    non-negative axes. Raises ValueError (turned into GraphError by callers) when out of range."""
    if axis is None:
        return None
    axes: Iterable[Any] = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, bool) or not hasattr(a, "__index__"):
            raise ValueError(f"axis {a!r} is not an int")
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for {ndim} dimension(s)")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(out))
