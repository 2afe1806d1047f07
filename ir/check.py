"""The IR linter behind ``Graph.check()``: the invariants every pass must keep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from .apply import declare
from .errors import GraphError
from .registry import Aval, get

if TYPE_CHECKING:
    from .graph import Graph


def check_graph(g: "Graph") -> None:
    """Raise GraphError on the first broken invariant: a cycle, an unknown op, a wrong
    operand count or slot numbering, a repeated name, or a shape/dtype the rules disagree with."""
    G = g.nx
    if not nx.is_directed_acyclic_graph(G):
        cycle = nx.find_cycle(G)
        names = " -> ".join(repr(G.nodes[u]["name"]) for u, *_ in cycle)
        raise GraphError(f"graph {g.name!r} has a cycle: {names}; a computation graph must be acyclic")
    seen: dict[str, int] = {}
    for nid, d in G.nodes(data=True):
        name = d.get("name")
        if name in seen:
            raise GraphError(f"graph {g.name!r}: nodes {seen[name]} and {nid} share the name {name!r}", node=nid)
        seen[name] = nid
        slots = sorted(k for _, _, k in G.in_edges(nid, keys=True))
        if slots != list(range(len(slots))):
            raise GraphError(f"node {nid} {name!r}: operand slots {slots} are not 0..n-1", node=nid)
        op = d["op"]
        if op in ("input", "constant"):
            if slots:
                raise GraphError(f"{op} node {nid} {name!r} has operands", node=nid)
            continue
        opdef = get(op)
        try:
            opdef.check_arity(len(slots))
        except GraphError as exc:
            raise GraphError(f"node {nid} {name!r}: {exc}", node=nid) from None
        operands = g.operands(nid)
        avals = [Aval(G.nodes[o]["shape"], G.nodes[o]["dtype"],
                      G.nodes[o]["value"] if G.nodes[o].get("weak") else None) for o in operands]
        attrs, shape, dtype = declare(opdef, avals, dict(d["attrs"]), [G.nodes[o]["name"] for o in operands], name)
        if tuple(shape) != tuple(d["shape"]) or dtype != d["dtype"]:
            raise GraphError(f"node {nid} {name!r} ({op}) records shape {d['shape']} {d['dtype']} but its "
                             f"operands give {tuple(shape)} {dtype}", node=nid)
