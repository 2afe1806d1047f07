"""The graph a Variable recorded, as an ordinary revgraph ``Graph``.

``record(y)`` walks back from ``y`` through the creators and rebuilds the same
computation as Graph nodes: one node per Variable (same op names and
normalised attributes, built through the Graph's own shape rules), an
``input`` for each leaf Variable and a ``constant`` for each plain value an op
was given. It also returns what the dynamic run holds, keyed by node id:
values, the gradients still held in ``.grad``, and the gradient carried back
along each edge into a node whose gradient is held (recomputed with the same
VJP rules) -- what the drawing core needs to picture the dynamic graph in the
same styles as the static one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ..ir.apply import apply
from ..ir.graph import Graph
from .backward import KEEP_SIZE, _fit, _rules
from .mode import no_grad
from .variable import Variable


@dataclass
class Recorded:
    """A recorded dynamic computation as a Graph plus what the run holds, by node id."""

    graph: Graph
    outputs: list[int]
    variables: dict[int, Variable]          # node id -> the Variable it stands for (inputs and ops)
    values: dict[int, Any] = field(default_factory=dict)       # every node's value
    grads: dict[int, Any] = field(default_factory=dict)        # node id -> gradient held in .grad
    edge_grads: dict[tuple, Any] = field(default_factory=dict)  # (operand, consumer, slot) -> gradient

    def node_of(self, var: Variable) -> Optional[int]:
        """The node id standing for ``var`` (None when it is not part of the recording)."""
        for nid, v in self.variables.items():
            if v is var:
                return nid
        return None


def record(*outputs: Variable, name: str = "dynamic") -> Recorded:
    """Rebuild the graph behind ``outputs`` as a revgraph Graph (see the module docstring).

    After ``backward(create_graph=True)`` the recorded backward pass is included too: its nodes are
    tagged ``adjoint=1`` (the seed with ``role="seed"``) and each gradient node lists the node it is the
    gradient of in ``grad_of`` -- as the static adjoint pass tags its nodes, so the same views draw it.

    >>> x = dy.Variable(np.array(2.0), name="x"); y = rg.exp(x) * x
    >>> rec = dy.record(y); [d["op"] for _, d in rec.graph.nx.nodes(data=True)]
    ['input', 'exp', 'mul']
    """
    for o in outputs:
        if not isinstance(o, Variable):
            raise TypeError(f"dy.record takes Variables, got {type(o).__name__}")
    graph = Graph(name)
    rec = Recorded(graph, [], {})
    node_of: dict[int, int] = {}  # id(Variable) -> node id
    forward = _topological(outputs)
    in_forward = {id(v) for v in forward}
    recorded_grads = [v for v in forward if v.grad is not None and v.grad.creator is not None]
    for var in _topological(outputs + tuple(v.grad for v in recorded_grads)):  # forward ones come first
        if id(var) in in_forward:
            nid = _add(graph, var, node_of, rec)
        else:
            with graph.tagging(adjoint=1, **({"role": "seed"} if var.creator is None else {})):
                nid = _add(graph, var, node_of, rec)
        node_of[id(var)] = nid
        rec.variables[nid] = var
        rec.values[nid] = var.data
        grad = _held_grad(var)
        if grad is not None:
            rec.grads[nid] = grad.data
    rec.outputs = [node_of[id(o)] for o in outputs]
    if recorded_grads:
        _book(rec, node_of, recorded_grads)
    _edge_gradients(rec, node_of)
    return rec


def _held_grad(var: Variable) -> Optional[Variable]:
    """``var.grad``, or the small gradient a plain ``backward()`` kept on its creator (see backward.KEEP_SIZE)."""
    if var.grad is not None:
        return var.grad
    return getattr(var.creator, "kept_grad", None) if var.creator is not None else None


def _book(rec: Recorded, node_of: dict, recorded_grads: list[Variable]) -> None:
    """Tag the recorded backward pass as the static adjoint pass tags its own: ``grad_of`` on each
    gradient, and the book of totals (forward node -> its gradient node, the output -> its seed)."""
    G = rec.graph.nx
    totals = G.graph.setdefault("adjoint", {}).setdefault(1, {"edges": {}, "totals": {}})["totals"]
    for v in recorded_grads:
        G.nodes[node_of[id(v.grad)]].setdefault("grad_of", []).append(node_of[id(v)])
        totals[node_of[id(v)]] = node_of[id(v.grad)]
    seeds = [n for n, d in G.nodes(data=True) if d.get("role") == "seed"]
    if len(seeds) == 1 and len(rec.outputs) == 1:
        totals[rec.outputs[0]] = seeds[0]


def _topological(outputs: tuple) -> list[Variable]:
    """Variables behind ``outputs``, operands before their consumers (an iterative post-order walk,
    operands in slot order, so the order follows how the program evaluated them)."""
    order: list[Variable] = []
    done: set[int] = set()
    stack: list[tuple[Variable, bool]] = [(o, False) for o in reversed(outputs)]
    while stack:
        var, expanded = stack.pop()
        if id(var) in done:
            continue
        if expanded or var.creator is None:
            done.add(id(var))
            order.append(var)
            continue
        stack.append((var, True))
        for x in reversed(var.creator.inputs):
            if isinstance(x, Variable) and id(x) not in done:
                stack.append((x, False))
    return order


def _add(graph: Graph, var: Variable, node_of: dict, rec: Recorded) -> int:
    if var.creator is None:
        return graph.input(_fresh(graph, var.name or "x"), shape=var.data.shape, dtype=var.data.dtype).id
    node = var.creator
    operands = []
    for x in node.inputs:
        if isinstance(x, Variable):
            operands.append(graph.tensor(node_of[id(x)]))
        else:
            c = graph.constant(x)
            rec.values[c.id] = x
            operands.append(c)
    tensor = apply(node.op, *operands, **node.attrs)
    if var.name:
        tensor.rename(_fresh(graph, var.name))
    return tensor.id


def _fresh(graph: Graph, name: str) -> str:
    """``name`` itself while it is free in ``graph``, else the graph's next ``name_<k>``."""
    return name if name not in graph else graph.fresh_name(name)


def _edge_gradients(rec: Recorded, node_of: dict) -> None:
    """For each op node whose output gradient is held, the gradient its VJP rules send to each operand."""
    with no_grad():
        for nid, var in rec.variables.items():
            node = var.creator
            grad = _held_grad(var)
            if node is None or grad is None or rec.graph.nx.nodes[nid]["adjoint"]:
                continue
            rules = _rules(node.opdef, len(node.inputs))
            for slot, (x, rule) in enumerate(zip(node.inputs, rules)):
                if rule is None or not isinstance(x, Variable) or x.data.dtype.kind not in "fc":
                    continue
                gx = rule(grad, var, *node.inputs, **node.attrs)
                if gx is not None:
                    rec.edge_grads[(node_of[id(x)], nid, slot)] = _fit(gx, x).data


def scene(var: Variable, values: bool = False) -> dict:
    """Keyword arguments for the drawing core (``backends.graphviz.draw.draw``) picturing ``var``'s graph."""
    rec = record(var, name=f"{var.name} (dynamic)" if var.name else "dynamic")
    args: dict = {"graph": rec.graph, "outputs": rec.outputs,
                  "no_adjoint": "the dynamic engine records its backward pass as a graph only when asked: call "
                                "y.backward(create_graph=True), then draw the adjoint or joint view of y"}
    if values:
        args.update(values=rec.values, edge_grads=rec.edge_grads,
                    output_grads={n: rec.grads[n] for n in rec.outputs if n in rec.grads})
        missing = [n for n, v in rec.variables.items() if v.creator is not None and n not in rec.grads
                   and v.data.dtype.kind in "fc" and getattr(v.creator, "kept_grad", None) is None
                   and any(n2 in rec.grads for n2 in rec.outputs)]
        if missing:
            args["notes"] = [f"gradients of {len(missing)} tensor(s) of more than {KEEP_SIZE} elements are not kept "
                             "by backward(): y.backward(retain_grad=True) keeps them for this picture"]
    return args
