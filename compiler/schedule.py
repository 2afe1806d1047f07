"""Execution order: networkx's lexicographical topological sort keyed on node
id (creation order), over only the nodes the requested outputs depend on, so
the order -- and the generated code -- is deterministic."""

from __future__ import annotations

from typing import Iterable

import networkx as nx

from ..ir.errors import GraphError
from ..ir.graph import Graph


def ancestors(graph: Graph, roots: Iterable[int]) -> set[int]:
    """``roots`` and every node they depend on (iterative: deep chains are fine)."""
    pred = graph.nx.pred
    seen = set(roots)
    stack = list(seen)
    while stack:
        for p in pred[stack.pop()]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def descendants(graph: Graph, roots: Iterable[int]) -> set[int]:
    """``roots`` and every node that depends on them."""
    succ = graph.nx.succ
    seen = set(roots)
    stack = list(seen)
    while stack:
        for s in succ[stack.pop()]:
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return seen


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
