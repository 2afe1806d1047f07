"""Execution order: networkx's lexicographical topological sort keyed on node
id (creation order), over only the nodes the requested outputs depend on, so
the order -- and the generated code -- is deterministic."""

from __future__ import annotations

from typing import Any, Iterable

import networkx as nx

from ..ir.errors import GraphError
from ..ir.graph import Graph


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
    return _reach(roots, graph.nx.pred)


def descendants(graph: Graph, roots: Iterable[int]) -> set[int]:
    """``roots`` and every node that depends on them."""
    return _reach(roots, graph.nx.succ)


def topological(graph: Graph, nodes: set[int]) -> list[int]:
    """``nodes`` in dependency order, ties broken by creation order. A cycle is a GraphError listing it."""
    sub = graph.nx.subgraph(nodes)
    try:
        return list(nx.lexicographical_topological_sort(sub, key=lambda n: n))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(sub)
        names = " -> ".join(repr(graph.nx.nodes[u]["name"]) for u, *_ in cycle)
        first = graph.nx.nodes[cycle[0][0]]["name"]
        raise GraphError(f"graph {graph.name!r} has a cycle: {names} -> {first!r}; a computation graph must be "
                         "acyclic (was the graph edited by hand or loaded from a bad file?)", node=cycle[0][0]) from None


def schedule(graph: Graph, outputs: Iterable[int]) -> list[int]:
    """Every node the outputs need, in execution order."""
    return topological(graph, ancestors(graph, outputs))
