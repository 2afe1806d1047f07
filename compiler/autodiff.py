"""The adjoint pass: ``rg.grad`` emits the backward computation as ordinary
nodes in the same graph.

Walk the nodes on a path from ``wrt`` to ``y`` in reverse topological order;
for each, sum the gradient contributions it received (one ``accumulate`` node
when there are several), then apply its op's VJP rule to each operand that
needs a gradient, un-broadcasting the result to the operand's shape. Because
the rules are written with the public op functions, the result is a graph
like any other: it compiles, draws, and can be differentiated again.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..ir.dtypes import is_float
from ..ir.errors import GraphError
from ..ir.ops.internal import accumulate, unbroadcast, zeros_like
from ..ir.registry import get
from ..ir.shapes import fmt, is_static
from ..ir.tensor import Tensor
from .schedule import ancestors, descendants, topological

TensorOrList = Union[Tensor, Sequence[Tensor]]


def grad(y: Tensor, wrt: TensorOrList, seed: Any = None) -> TensorOrList:
    """Gradient tensors of ``y`` with respect to ``wrt`` (one tensor or a list).

    ``seed`` is the output gradient (a VJP); it defaults to ones for a ``y`` of one element
    (a scalar, or shape ``(1,)``, ``(1, 1)``...).

    >>> g = rg.Graph(); x = g.input("x")
    >>> dx = rg.grad(x * x * x, x)            # 3x²
    >>> d2x = rg.grad(dx, x)                  # 6x
    >>> rg.compile([dx, d2x])(x=2.0)
    [12.0, 12.0]
    """
    single = isinstance(wrt, Tensor)
    wrts = [wrt] if single else list(wrt)
    graph = _check(y, wrts)
    G = graph.nx
    relevant = {n for n in ancestors(graph, [y.id]) & descendants(graph, [w.id for w in wrts])
                if is_float(G._node[n]["dtype"])}
    order = 1 + max(G._node[n]["adjoint"] for n in relevant | {y.id})
    with graph.tagging(adjoint=order):
        contributions: dict[int, list[Tensor]] = defaultdict(list)
        contributions[y.id].append(_seed(y, seed))
        totals = _backward(graph, relevant, contributions, _record(graph, order))
        results = [_gradient_of(w, totals.get(w.id)) for w in wrts]
    return results[0] if single else results


def _record(graph: Any, order: int) -> dict:
    """Where the adjoint pass notes, for pictures, which adjoint node carries the gradient
    back along each forward edge ``(operand, consumer, slot)`` and each node's total gradient.
    Kept in the networkx graph attributes under ``"adjoint"``, keyed by derivative order."""
    book = graph.nx.graph.setdefault("adjoint", {})
    return book.setdefault(order, {"edges": {}, "totals": {}})


def _backward(graph: Any, relevant: set[int], contributions: dict, record: dict) -> dict[int, Tensor]:
    """Reverse walk: total each node's gradient, then push it through the node's VJP rules."""
    G = graph.nx
    totals: dict[int, Tensor] = {}
    for n in reversed(topological(graph, relevant)):
        parts = contributions.pop(n, [])
        if not parts:
            continue
        if len(parts) == 1:
            total = parts[0]
        else:  # fan-out: the tensor fed several consumers, sum what each sent back
            with graph.tagging(role="accumulate"):
                total = accumulate(*parts)
        totals[n] = total
        record["totals"][n] = total.id
        data = G._node[n]  # (networkx's plain dicts, no view objects: once per node)
        if data["op"] in ("input", "constant"):
            continue
        opdef = get(data["op"])
        operands = [Tensor(graph, o) for o in graph.operands(n)]
        out = Tensor(graph, n)
        if "scope" in data:  # its gradient nodes join the forward node's name scope (pictures group them)
            with graph.tagging(scope=data["scope"]):
                _push(graph, n, opdef, operands, out, total, relevant, contributions, record)
        else:
            _push(graph, n, opdef, operands, out, total, relevant, contributions, record)
    return totals


def _push(graph: Any, n: int, opdef: Any, operands: list, out: Tensor, total: Tensor, relevant: set[int],
          contributions: dict, record: dict) -> None:
    """Apply node ``n``'s VJP rules to its total gradient: one contribution per operand needing one."""
    attrs = graph.nx._node[n]["attrs"]
    every = opdef.vjp_all(total, out, *operands, **attrs) if opdef.vjp_all is not None else None
    for i, x in enumerate(operands):
        if every is not None:
            gx = every[i] if x.id in relevant else None
        else:
            rule = opdef.vjp_rule(i) if x.id in relevant else None
            if rule is None:
                continue
            gx = rule(total, out, *operands, **attrs)
        if gx is not None:
            gx = unbroadcast(gx, x)
            record["edges"][(x.id, n, i)] = gx.id
            contributions[x.id].append(gx)


def _check(y: Any, wrts: list) -> Any:
    if not isinstance(y, Tensor):
        raise GraphError(f"rg.grad: y must be a Tensor of a Graph, got {type(y).__name__}")
    for w in wrts:
        if not isinstance(w, Tensor):
            raise GraphError(f"rg.grad: wrt must hold Tensors, got {type(w).__name__}")
        if w.graph is not y.graph:
            raise GraphError(f"rg.grad: wrt tensor {w.name!r} belongs to graph {w.graph.name!r}, but y "
                             f"{y.name!r} to graph {y.graph.name!r}")
        if not is_float(w.dtype):
            raise GraphError(f"rg.grad: cannot differentiate with respect to {w.name!r} of dtype {w.dtype}: only "
                             "float tensors have gradients (declare it with dtype='float64' or 'float32')", node=w.id)
    if not is_float(y.dtype):
        raise GraphError(f"rg.grad: output {y.name!r} has dtype {y.dtype}; only a float output can be differentiated",
                         node=y.id)
    return y.graph


def _seed(y: Tensor, seed: Any) -> Tensor:
    graph = y.graph
    with graph.tagging(role="seed"):
        if seed is None:
            if any(d != 1 for d in y.shape):  # a size-1 output (shape (1,), (1, 1)) is seeded with ones, as autograd does
                raise GraphError(f"rg.grad: output {y.name!r} has shape {fmt(y.shape)}, not a scalar; pass "
                                 f"seed= with that shape (the output gradient), or reduce it first (rg.sum)", node=y.id)
            return graph.constant(np.ones(y.shape, y.dtype), name=graph.fresh_name("dout"))
        if not isinstance(seed, Tensor):
            seed = graph.constant(np.asarray(seed, dtype=y.dtype), name=graph.fresh_name("dout"))
    if len(seed.shape) != len(y.shape) or any(a is not None and b is not None and a != b
                                              for a, b in zip(seed.shape, y.shape)):
        raise GraphError(f"rg.grad: seed {seed.name!r} has shape {fmt(seed.shape)} but output {y.name!r} has "
                         f"shape {fmt(y.shape)}; the seed must have the output's shape", node=seed.id)
    return seed


def _gradient_of(w: Tensor, total: Optional[Tensor]) -> Tensor:
    """Label the gradient node with the tensor it belongs to; zeros when y does not depend on w."""
    graph = w.graph
    if total is None:
        with graph.tagging(role="zeros"):
            if is_static(w.shape):
                total = graph.constant(np.zeros(w.shape, w.dtype), name=graph.fresh_name("zeros"))
            else:
                total = zeros_like(w)
    graph.nx.nodes[total.id].setdefault("grad_of", []).append(w.id)
    return total
