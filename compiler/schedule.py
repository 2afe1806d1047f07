"""Execution order: a lexicographical topological sort keyed on node id
(creation order), over only the nodes the requested outputs depend on, so
the order -- and the generated code -- is deterministic.

The sort is ``ir.order.heap_kahn`` (Kahn's algorithm with a heap over networkx's
adjacency dicts): the same order as ``nx.lexicographical_topological_sort``, without
the per-call cost of a subgraph view (which dominated compile time at 10^5 nodes)."""

from __future__ import annotations

from typing import Any, Iterable

import networkx as nx

from ..ir.errors import GraphError
from ..ir.graph import Graph
from ..ir.order import heap_kahn


def _reach(roots: Iterable[int], neighbours: Any) -> set[int]:
    """``roots`` and every node reachable through ``neighbours`` (iterative: deep chains are fine)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for m in neighbours[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


def ancestors(graph: Graph, roots: Iterable[int]) -> set[int]:
    """``roots`` and every node they depend on."""
    return _reach(roots, graph.nx._pred)  # the plain dicts behind G.pred: no view objects per step


def descendants(graph: Graph, roots: Iterable[int]) -> set[int]:
    """``roots`` and every node that depends on them."""
    return _reach(roots, graph.nx._succ)


def topological(graph: Graph, nodes: set[int]) -> list[int]:
    """``nodes`` in dependency order, ties broken by creation order. A cycle is a GraphError listing it."""
    nodes = nodes if isinstance(nodes, (set, frozenset)) else set(nodes)
    pred, succ = graph.nx._pred, graph.nx._succ
    # Fast path: ids are creation order and an op's operands exist before it, so unless a pass rewired
    # an edge, every operand has a smaller id than its consumer. Then ascending ids are a dependency
    # order, and exactly the one the heap below would pick (ties by creation order) -- without the heap.
    upward = True
    for n in nodes:
        for p in pred[n]:
            if p > n:
                upward = False
                break
        if not upward:
            break
    if upward:
        return sorted(nodes)
    order = heap_kahn(pred, succ, nodes)
    if len(order) < len(nodes):
        cycle = nx.find_cycle(graph.nx.subgraph(nodes))
        names = " -> ".join(repr(graph.nx.nodes[u]["name"]) for u, *_ in cycle)
        first = graph.nx.nodes[cycle[0][0]]["name"]
        raise GraphError(f"graph {graph.name!r} has a cycle: {names} -> {first!r}; a computation graph must be "
                         "acyclic (was the graph edited by hand or loaded from a bad file?)", node=cycle[0][0])
    return order


def schedule(graph: Graph, outputs: Iterable[int]) -> list[int]:
    """Every node the outputs need, in execution order."""
    return topological(graph, ancestors(graph, outputs))
