"""Kahn's topological sort with a heap over networkx's adjacency dicts: dependency order, ties
broken by smallest node id (creation order) -- the order of ``nx.lexicographical_topological_sort``,
without a subgraph view per call. The compiler schedules with it; loading a file checks with it."""

from __future__ import annotations

import heapq
from typing import Any


def heap_kahn(pred: Any, succ: Any, nodes: set[int]) -> list[int]:
    """``nodes`` in dependency order (edges outside ``nodes`` ignored). A node on or behind a cycle
    is never ready, so the order comes back shorter than ``nodes`` exactly when there is a cycle."""
    waiting: dict[int, int] = {}  # node -> operands (distinct, inside ``nodes``) not yet placed
    ready = []
    for n in nodes:
        k = 0
        for p in pred[n]:
            if p in nodes:
                k += 1
        if k:
            waiting[n] = k
        else:
            ready.append(n)
    heapq.heapify(ready)
    order = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for m in succ[n]:
            if m in waiting:
                waiting[m] -= 1
                if not waiting[m]:
                    del waiting[m]
                    heapq.heappush(ready, m)
    return order
