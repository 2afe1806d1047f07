"""Common-subexpression elimination across the forward and adjoint halves.

Two nodes compute the same value when they apply the same op with the same attributes to
the same operands (structural hashing, walked in execution order so operands are already
merged). Constants are compared by value when small: weak Python scalars and arrays of at
most ``SMALL`` elements (a gradient's ``1.0`` seeds, ``0.5`` factors and the like). The
kept node is the forward one when there is a choice, so the adjoint reads a residual
rather than recomputing it.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ...ir.registry import get
from .rewrite import Rewriter

SMALL = 16  # constants up to this many elements are merged by value


def _constant_key(d: dict) -> Optional[tuple]:
    value = d["value"]
    if d.get("weak"):
        return ("weak", type(value).__name__, repr(value), d["dtype"].str)
    if np.size(value) <= SMALL:
        arr = np.asarray(value)
        return ("array", arr.dtype.str, arr.shape, arr.tobytes())
    return None


def _key(rw: Rewriter, nid: int) -> Optional[tuple]:
    d = rw.N[nid]
    if d["op"] == "input":
        return None
    if d["op"] == "constant":
        return _constant_key(d)
    if get(d["op"]).random:  # two dropout masks are two draws, not one value
        return None
    attrs = d["attrs"]  # most ops (elementwise) have none: skip sorting and printing an empty dict
    return (d["op"], repr(sorted(attrs.items())) if attrs else "", tuple(rw.operands(nid)), d["shape"], d["dtype"].str)


def cse(rw: Rewriter) -> None:
    """Merge structurally equal nodes into one."""
    seen: dict[tuple, int] = {}
    for nid in rw.order():
        key = _key(rw, nid)
        if key is None:
            continue
        first = seen.get(key)
        if first is None:
            seen[key] = nid
            continue
        keep, drop = sorted((first, nid), key=lambda n: (rw.N[n]["adjoint"], n))
        seen[key] = keep
        rw.replace(drop, keep, "common subexpression")
