"""The editing toolkit every pass uses: a ``Rewriter`` over the compile's own copy of a graph.

Passes never renumber: a surviving node keeps its id, name and tags. Replacing node A by node B
moves A's consumers onto B, hands A's ``grad_of`` labels to B, and remembers A -> B so that the
program roots and the adjoint pass's per-edge book (``graph.nx.graph["adjoint"]``, read by the
drawings) can be remapped once the pipeline is done (``finish``).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np

from ...ir.apply import declare
from ...ir.graph import Graph
from ...ir.registry import Aval, get
from ...ir.tensor import Tensor
from ..schedule import ancestors, topological


class Rewriter:
    """Edits ``graph`` in place while keeping ``roots`` (the values the programs return) valid."""

    def __init__(self, graph: Graph, roots: Iterable[int], protected: Iterable[int] = ()) -> None:
        self.graph = graph
        self.G = graph.nx
        self.N = graph.nx._node  # node id -> data dict (networkx's plain dict: passes read it for every node)
        self.roots = list(roots)
        self._root_at: dict[int, list[int]] = {}  # root id -> its places in self.roots
        for i, r in enumerate(self.roots):
            self._root_at.setdefault(r, []).append(i)
        self.protected = set(protected)  # nodes the caller refers to by id (the output, wrt): never replaced
        self.replaced: dict[int, int] = {}  # old id -> the id now computing its value
        self.counts: dict[str, int] = {}    # what the current pass did, by rewrite name
        self.keep_layers = True  # rules that split a layer op (softmax_cross_entropy) stay off (see optimize)
        # Caches (graphs of 10^5 nodes go through several passes): dropped by the edits that change them.
        self._live: Optional[set[int]] = None
        self._order: Optional[list[int]] = None
        self._operands: dict[int, list[int]] = {}

    # -- reading -------------------------------------------------------------------------
    def live(self) -> set[int]:
        """The nodes the roots depend on."""
        if self._live is None:
            self._live = ancestors(self.graph, self.roots)
        return self._live

    def order(self) -> list[int]:
        """The live nodes in execution order."""
        if self._order is None:
            self._order = topological(self.graph, self.live())
        return self._order

    def operands(self, nid: int) -> list[int]:
        ops = self._operands.get(nid)
        if ops is None:
            ops = self._operands[nid] = self.graph.operands(nid)
        return ops

    def _changed(self, *consumers: int) -> None:
        self._live = self._order = None
        for c in consumers:
            self._operands.pop(c, None)

    def aval(self, nid: int) -> Aval:
        d = self.N[nid]
        return Aval(d["shape"], d["dtype"], d["value"] if d.get("weak") else None)

    def constant_value(self, nid: int) -> Any:
        """The value of a constant node, or None when ``nid`` is not a constant."""
        d = self.N[nid]
        return d["value"] if d["op"] == "constant" else None

    def same_type(self, a: int, b: int) -> bool:
        """Equal declared shape and dtype (the condition for one node to stand in for another)."""
        da, db = self.N[a], self.N[b]
        return da["shape"] == db["shape"] and da["dtype"] == db["dtype"]

    # -- editing -------------------------------------------------------------------------
    def note(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def replace(self, old: int, new: int, what: str) -> None:
        """Make every consumer of ``old`` read ``new`` instead (``new`` must not depend on ``old``)."""
        if old == new or old in self.protected:
            return
        G = self.G
        edges = list(G.out_edges(old, keys=True))
        for _, v, key in edges:
            G.remove_edge(old, v, key)
            G.add_edge(new, v, key=key, slot=key)
        self._changed(*(v for _, v, _ in edges))
        grad_of = G._node[old].pop("grad_of", None)
        if grad_of:
            G._node[new].setdefault("grad_of", []).extend(w for w in grad_of if w not in G._node[new].get("grad_of", ()))
        for i in self._root_at.pop(old, ()):  # by position: scanning the roots per replace was O(replaces x roots)
            self.roots[i] = new
            self._root_at.setdefault(new, []).append(i)
        self.replaced[old] = new
        self.note(what)

    def set_operand(self, nid: int, slot: int, new: int) -> None:
        """Point operand ``slot`` of ``nid`` at ``new``."""
        G = self.G
        old = self.operands(nid)[slot]
        G.remove_edge(old, nid, slot)
        G.add_edge(new, nid, key=slot, slot=slot)
        self._changed(nid)

    def infer(self, op: str, operands: list[int], attrs: dict) -> tuple:
        """``(attrs, shape, dtype)`` the rules give ``op`` on these operands."""
        return declare(get(op), [self.aval(o) for o in operands], dict(attrs),
                       [self.N[o]["name"] for o in operands])

    def add_node(self, like: int, op: str, operands: list[int], attrs: dict) -> int:
        """A new node computing ``op``, tagged like node ``like`` (forward or adjoint alike)."""
        attrs, shape, dtype = self.infer(op, operands, attrs)
        tags = {k: self.N[like][k] for k in ("adjoint", "role") if k in self.N[like]}
        with self.graph.tagging(**tags):
            t = self.graph._add(op, [Tensor(self.graph, o) for o in operands], attrs, shape, dtype)
        return t.id

    def add_constant(self, like: int, value: Any) -> int:
        """A new constant tagged like ``like`` (a Python scalar stays weak, an array is kept read-only)."""
        tags = {k: self.N[like][k] for k in ("adjoint", "role") if k in self.N[like]}
        with self.graph.tagging(**tags):
            return self.graph.constant(value).id

    def remove(self, nid: int) -> None:
        """Delete a node no live node reads (the live set and order stay as they are)."""
        self.graph.remove_node(nid)
        self._operands.pop(nid, None)

    def book_constants(self) -> set[int]:
        """Constant nodes the adjoint pass's book (per-edge and total gradients) refers to."""
        ids = set()
        for rec in self.G.graph.get("adjoint", {}).values():
            ids.update(self.resolve(g) for g in rec.get("edges", {}).values())
            ids.update(self.resolve(g) for g in rec.get("totals", {}).values())
        return {n for n in ids if n in self.N and self.N[n]["op"] == "constant"}

    # -- after the last pass --------------------------------------------------------------
    def resolve(self, nid: int) -> int:
        """The node that now computes the value ``nid`` computed."""
        seen = []
        while nid in self.replaced:
            seen.append(nid)
            nid = self.replaced[nid]
        for s in seen:  # path compression
            self.replaced[s] = nid
        return nid

    def finish(self) -> None:
        """Remap the adjoint book (per-edge gradient nodes, per-node totals) through the
        replacements and drop entries whose node is gone."""
        G, r = self.G, self.resolve
        if self.replaced:
            for n, grad_of in G.nodes(data="grad_of"):
                if grad_of:
                    G._node[n]["grad_of"] = list(dict.fromkeys(r(w) for w in grad_of))
        book = G.graph.get("adjoint")
        if not book:
            return
        nodes = G._node
        for order, rec in book.items():
            if not self.replaced:  # nothing to remap (and no two entries can meet): only drop removed nodes
                rec["edges"] = {(x, n, i): gid for (x, n, i), gid in rec.get("edges", {}).items()
                                if x in nodes and n in nodes and gid in nodes}
                rec["totals"] = {n: gid for n, gid in rec.get("totals", {}).items() if n in nodes and gid in nodes}
                continue
            edges = {}
            for (x, n, i), gid in rec.get("edges", {}).items():
                key, gid = (r(x), r(n), i), r(gid)
                if key[0] in G and key[1] in G and gid in G:
                    edges.setdefault(key, gid)
            totals = {}
            for n, gid in rec.get("totals", {}).items():
                n, gid = r(n), r(gid)
                if n in G and gid in G:
                    totals.setdefault(n, gid)
            rec["edges"], rec["totals"] = edges, totals
