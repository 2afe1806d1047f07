"""Constant folding: a node whose operands are all constants becomes a constant, computed
with the backend's own kernels through ``ir.apply.eager_apply`` (the compiler never imports
a backend), with NumPy's semantics on the declared dtypes (Python numbers included).
Results larger than their largest operand and ``LIMIT`` elements are left to run time, so
folding never bloats the program with big arrays; so are nodes whose operands' sizes multiply
to more than ``WORK`` (the iteration space of any op -- a matrix product, a contraction -- is
at most that product), so folding a file's constants takes bounded time. A fold that meets a
floating-point error (overflow, division by zero, an invalid value) is left to run time too,
where NumPy warns as usual and ``check_finite`` names the node."""

from __future__ import annotations

import numpy as np

from ...ir.apply import declare, eager_apply
from ...ir.registry import Aval, get
from ...ir.shapes import size
from .rewrite import Rewriter

LIMIT = 4096  # fold results up to this many elements (or up to the largest operand's size)
WORK = 1 << 24  # fold only when the operands' sizes multiply to at most this


def fold(rw: Rewriter) -> None:
    """Replace all-constant subexpressions by their values."""
    G = rw.G
    for nid in rw.order():
        d = G._node[nid]
        if d["op"] in ("input", "constant") or get(d["op"]).random:
            continue
        pred = G._pred[nid]  # the distinct operands, read without building the slot-ordered list
        if not pred or not _all_constants(G, pred):
            continue
        ops = rw.operands(nid)
        n = size(d["shape"])
        sizes = [int(np.size(G._node[o]["value"])) for o in ops]
        if n is None or n > max([LIMIT] + sizes) or not _bounded_work(sizes):
            continue
        try:
            with np.errstate(all="raise"):
                value = eager_apply(get(d["op"]), tuple(G._node[o]["value"] for o in ops), dict(d["attrs"]))
                value = np.array(value, dtype=d["dtype"])
        except (ValueError, TypeError, ArithmeticError):
            continue  # e.g. labels out of range, 1 / 0: let the program meet it, at its node, when it runs
        if value.shape != d["shape"]:
            continue
        value.setflags(write=False)
        weak = _as_weak(rw, nid, ops, value)
        rw.replace(nid, rw.add_constant(nid, value if weak is None else weak), "folded constant")


def _bounded_work(sizes: list) -> bool:
    work = 1
    for n in sizes:
        work *= max(n, 1)
        if work > WORK:
            return False
    return True


def _all_constants(G, ids) -> bool:
    for o in ids:  # a plain loop rather than all(...) over a generator: it runs for every node
        if G._node[o]["op"] != "constant":
            return False
    return True


def _as_weak(rw: Rewriter, nid: int, ops: list, value: np.ndarray):
    """A Python scalar standing for ``value`` when every operand was one (``3 - 1`` -> ``2``) and no
    consumer's declared dtype depends on the difference; else None (the constant stays a strong array,
    so consumers keep the dtypes they were declared with). Weak scalars merge with the user's own
    ``x ** 2`` in CSE."""
    G = rw.G
    if value.shape != () or not all(G._node[o].get("weak") for o in ops):
        return None
    scalar = value.item()
    if np.asarray(scalar).dtype != value.dtype:
        return None
    for v in G._succ[nid]:
        operands = rw.operands(v)
        avals = [Aval((), value.dtype, scalar) if o == nid else rw.aval(o) for o in operands]
        _, shape, dtype = declare(get(G._node[v]["op"]), avals, dict(G._node[v]["attrs"]),
                                  [G._node[o]["name"] for o in operands])
        if tuple(shape) != G._node[v]["shape"] or dtype != G._node[v]["dtype"]:
            return None
    return scalar
