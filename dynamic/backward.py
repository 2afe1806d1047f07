"""Reverse mode over the ops a Variable recorded.

The recorded ops are visited in decreasing generation order from a heap: a
Node's generation is that of its deepest input, and every consumer of its
output is at least one generation later, so when a Node leaves the heap all
the gradient its output will ever receive is already summed. Each Node is
visited once (diamonds are correct), and the walk is a loop, not recursion
(a 100 000-op chain is fine).

The gradient rules are the registry's VJP rules -- the same functions the
static adjoint pass calls on Tensors -- and every result is un-broadcast by
the same central ``unbroadcast``. Without ``create_graph`` the walk runs under
``no_grad``, so it computes values and records nothing.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import numpy as np

from ..ir.errors import GraphError
from ..ir.ops.internal import unbroadcast
from ..ir.registry import OpDef
from .mode import MODE
from .variable import Node, Variable

KEEP_SIZE = 6  # gradients of at most this many elements stay on their Node after a plain backward()

# (op name, arity) -> (opdef, per-operand VJP rules): `vjp_rule` builds a closure for variadic ops.
_RULES: dict[tuple, tuple] = {}


def _rules(opdef: OpDef, arity: int) -> tuple:
    """The VJP rule of each operand (None where no gradient flows), cached per op and arity."""
    if opdef.vjp is None:
        return (None,) * arity
    entry = _RULES.get((opdef.name, arity))
    if entry is None or entry[0] is not opdef:
        entry = _RULES[(opdef.name, arity)] = (opdef, tuple(opdef.vjp_rule(i) for i in range(arity)))
    return entry[1]


def backward(y: Variable, retain_grad: bool = False, create_graph: bool = False) -> None:
    """Fill ``.grad`` of everything ``y`` depends on (see ``Variable.backward``)."""
    if y.data.dtype.kind not in "fc":
        raise GraphError(f"backward: output {y.name or 'Variable'} has dtype {y.data.dtype}; only a float output "
                         "can be differentiated (compute the loss in float64 or float32)")
    if y.grad is None:
        seed = np.empty(y.data.shape, y.data.dtype)  # np.ones, minus its Python-level layers
        seed.fill(1)
        y.grad = Variable(seed, name=f"d{y.name}" if y.name else "dout")
    if y.creator is None:
        return
    saved = MODE.recording  # what `with no_grad()` / `enable_grad()` do, without a generator per call
    MODE.recording = create_graph
    try:
        _walk(y.creator, retain_grad)
    finally:
        MODE.recording = saved


def _walk(start: Node, retain_grad: bool) -> None:
    # heap entries: (-generation, tie-breaker, node); the tie-breaker keeps Nodes from being compared
    heap = [(-start.generation, 0, start)]
    queued = {start}
    pushed = 0
    while heap:
        node = heappop(heap)[2]
        out = node._output()
        g = out.grad
        inputs = node.inputs
        attrs = node.attrs
        vjp = node.opdef.vjp  # a tuple of per-operand rules (what vjp_rule(i) returns), or variadic
        rules = vjp if type(vjp) is tuple else _rules(node.opdef, len(inputs))
        for x, rule in zip(inputs, rules):
            if rule is None or not isinstance(x, Variable):
                continue
            xd = x.data
            if xd.dtype.kind not in "fc":
                continue
            gx = rule(g, out, *inputs, **attrs) if attrs else rule(g, out, *inputs)
            if gx is None:
                continue
            if type(gx) is not Variable:
                gx = _fit(gx, x)
            else:
                gd = gx.data
                if gd.shape != xd.shape or (gd.dtype is not xd.dtype and gd.dtype != xd.dtype):
                    gx = _fit(gx, x)
            x.grad = gx if x.grad is None else x.grad + gx  # out of place: earlier .grad objects stay valid
            creator = x.creator
            if creator is not None and creator not in queued:
                queued.add(creator)
                pushed += 1
                heappush(heap, (-creator.generation, pushed, creator))
        if not retain_grad:
            if g.data.size <= KEEP_SIZE:  # small: kept on the Node for pictures (values=True after backward())
                node.kept_grad = g
            out.grad = None


def _fit(gx: Any, x: Variable) -> Variable:
    """The rule's result as a gradient of ``x``: un-broadcast (centrally) when shape or dtype differ."""
    if not isinstance(gx, Variable):  # a rule gave a plain value (it never used g)
        gx = Variable(np.asarray(gx))
    if gx.data.shape != x.data.shape or gx.data.dtype != x.data.dtype:
        gx = unbroadcast(gx, x)
    return gx
