"""The drawing core: one function from a Graph (plus optional values and per-edge
gradients) to a ``graphviz.Digraph``. It knows nothing of compiled programs or
tensors, so any engine that can describe its computation as a Graph -- the
compiler's steps, or a dynamic tape -- gets the same pictures.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Optional, Sequence

import re

import graphviz

from ...ir.errors import GraphError
from ...ir.graph import Graph
from ...ir.registry import all_ops
from . import style
from .text import OP_SYMBOLS, attrs_text, esc, label, short, tooltip, type_text, value_text

REV = True
WHICH = ("forward", "adjoint", "joint")
MAX_NODES = 400  # above this many nodes, a view is drawn as a summary (dot's layout time grows fast)
INLINE_SIZE = 6  # constants of at most this many elements are written inside their consumers' nodes
EdgeKey = tuple  # (operand id, consumer id, operand slot)


def draw(graph: Graph, which: str = "forward", *, nodes: Optional[Iterable[int]] = None,
         values: Optional[Mapping[int, Any]] = None, edge_grads: Optional[Mapping[EdgeKey, Any]] = None,
         outputs: Sequence[int] = (), output_grads: Optional[Mapping[int, Any]] = None,
         highlight: Optional[Mapping[int, str]] = None, title: Optional[str] = None,
         expand: Any = None, max_nodes: int = MAX_NODES, notes: Sequence[str] = (),
         no_adjoint: str = "", prefix: str = "") -> graphviz.Digraph:
    """Draw ``graph`` (restricted to ``nodes``) as a Digraph.

    ``which``: ``"forward"`` (nodes of derivative order 0), ``"adjoint"`` (the adjoint
    nodes plus the forward values they read, as residuals) or ``"joint"`` (both, each
    in its own cluster). ``values`` maps node ids to arrays: every edge is labelled with
    the value flowing along it. ``edge_grads`` maps forward edges ``(u, v, slot)`` to the
    gradient flowing back along them: the forward view draws each under its edge, in
    red, on a reversed edge (the textbook figure). ``outputs`` get a double outline (and,
    with values, an edge out carrying their value and ``output_grads``). ``highlight``
    maps node ids to a note.

    Small constants (at most ``INLINE_SIZE`` elements) are written inside the node that reads
    them (``× 0.9``), never as one hub node every layer reads. A view of more than ``max_nodes``
    nodes is drawn as a summary (``summary.py``: name scopes, else runs of same-shaped ops, as
    one box each with a count) unless ``expand="all"``; ``expand="layer1"`` (or a list of scope
    names) draws those scopes in full. ``notes`` are lines added to the title (what a pass
    simplified); ``no_adjoint`` replaces the advice given when there is no adjoint to draw.

    >>> g = rg.Graph("sq"); x = g.input("x"); y = x * x
    >>> draw(g, "forward", values={x.id: 3.0, y.id: 9.0}, edge_grads={(x.id, y.id, 0): 3.0, (x.id, y.id, 1): 3.0},
    ...      outputs=[y.id], output_grads={y.id: 1.0}).render("sq", format="svg")
    """
    check_which(which)
    scene = _Scene(graph, which, nodes, values, edge_grads, outputs, output_grads, highlight or {}, no_adjoint)
    scene.notes, scene.p = list(notes), prefix
    expanded = _expanded(expand)
    if expanded is not True and (len(scene.shown) > max_nodes or expanded):
        from .summary import Summary

        return Summary(scene, expanded or set(), max_nodes).build(title)
    return scene.build(title)


def _expanded(expand: Any) -> Any:
    """``expand`` as True (draw every node), or the set of scope names drawn in full."""
    if expand is None or expand is False:
        return set()
    if expand is True or expand == "all":
        return True
    if isinstance(expand, str):
        return {expand}
    if isinstance(expand, (list, tuple, set, frozenset)) and all(isinstance(e, str) for e in expand):
        return set(expand)
    raise GraphError(f"expand={expand!r}: give 'all' (every node), a scope name, or a list of scope names")


def check_which(which: str) -> None:
    if which not in WHICH:
        raise GraphError(f"which={which!r} is not a view; choose one of {', '.join(map(repr, WHICH))}")


class _Scene:
    """One picture being built: which nodes are shown, as what, with which labels."""

    def __init__(self, graph, which, nodes, values, edge_grads, outputs, output_grads, highlight, no_adjoint=""):
        self.g, self.G, self.which, self.ops = graph, graph.nx, which, all_ops()
        self.no_adjoint, self.notes, self.p = no_adjoint, [], ""  # p: a prefix for DOT ids (two pictures in one)
        self._select(sorted(self.G if nodes is None else set(nodes)))
        self.values = values
        self.edge_grads = edge_grads if which == "forward" else None
        self.outputs = [o for o in outputs if o in self.shown_set]
        self.output_grads = output_grads or {}
        self.fan_out_totals = self._fan_out_totals()
        self.highlight = self._check_highlight(highlight)
        self.differentiated = self._differentiated()
        self.passes = self._passes() if which != "forward" else {}
        self._ranks: Optional[dict[int, int]] = None  # see _estimate_ranks (joint views only)
        self.inlined = self._inline()
        self.shown = [n for n in self.shown if n not in self.inlined]
        self.shown_set -= self.inlined

    def _select(self, universe: list[int]) -> None:
        """The nodes of the view, each node's derivative order, and the residuals."""
        self.order = {n: self.G.nodes[n]["adjoint"] for n in universe}
        forward = {n for n in universe if self.order[n] == 0}
        adjoint = {n for n in universe if self.order[n] > 0}
        if self.which != "forward" and not adjoint:
            advice = self.no_adjoint or ("differentiate first (rg.grad(y, wrt), or rg.compile(y, wrt=[...])), "
                                         "or draw which='forward'")
            raise GraphError(f"graph {self.g.name!r} has no adjoint nodes to draw in the {self.which} view: {advice}")
        # Forward values the adjoint nodes read: drawn in the adjoint view as residuals.
        read = {u for n in adjoint for u in self.G.pred[n] if self.G.nodes[u]["adjoint"] == 0}
        self.order.update({n: 0 for n in read})
        self.residual = read if self.which == "adjoint" else set()
        shown = {"forward": forward, "adjoint": adjoint | read, "joint": forward | adjoint | read}[self.which]
        self.shown, self.shown_set = sorted(shown), shown

    def _passes(self) -> dict[int, list[tuple[int, int]]]:
        """Gradients an op passed on unchanged (add's VJP is the identity): gradient node -> [(op, operand)],
        from the adjoint pass's book, so the picture can say so where no node of its own shows it."""
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for book in self.G.graph.get("adjoint", {}).values():
            totals = book.get("totals", {})
            for (x, n, _), t in sorted(book.get("edges", {}).items()):
                if (t == totals.get(n) and t in self.shown_set and n in self.G and x in self.G and x != n
                        and self.G.nodes[n]["op"] not in ("input", "constant")):
                    out[t].append((n, x))
        return out

    def _pass_lines(self, t: int) -> list[str]:
        by_op: dict[int, list[int]] = defaultdict(list)
        for n, x in self.passes.get(t, []):
            by_op[n].append(x)
        lines = []
        for n, xs in sorted(by_op.items()):
            d = self.G.nodes[n]
            names = ", ".join(esc(short(self.G.nodes[x]["name"], 20)) for x in xs[:3]) + (" …" if len(xs) > 3 else "")
            lines.append(f"{esc(OP_SYMBOLS.get(d['op'], d['op']))} ({esc(short(d['name'], 20))}) passes it on to {names}")
        return lines

    def _inline(self) -> set[int]:
        """Small constants read by shown nodes: written inside each reader's node (``× 0.9``)
        instead of drawn as a node of their own, which every layer sharing it would point at."""
        out = set()
        for n in self.shown:
            d = self.G.nodes[n]
            if (d["op"] == "constant" and d.get("role") is None and n not in self.outputs and n not in self.highlight
                    and _size(d["shape"]) <= INLINE_SIZE and any(v in self.shown_set for v in self.G.succ[n])):
                out.add(n)
        return out

    def inline_text(self, n: int) -> str:
        """What a node reading inlined constants shows: ``× 0.9``, ``1 −``, or ``where(·, ·, 0)``."""
        d = self.G.nodes[n]
        slots = self.g.operands(n)
        if not any(u in self.inlined for u in slots):
            return ""
        shown = [self._constant_text(u) if u in self.inlined else "·" for u in slots]
        symbol = OP_SYMBOLS.get(d["op"])
        if symbol and len(slots) == 2 and len(symbol) == 1:
            return f"{symbol} {shown[1]}" if slots[1] in self.inlined else f"{shown[0]} {symbol}"
        return f"{d['op']}({', '.join(shown)})"

    def _constant_text(self, u: int) -> str:
        d = self.G.nodes[u]
        value = esc(value_text(d["value"]))
        return value if _AUTO_CONSTANT.match(d["name"]) else f"{esc(short(d['name']))}={value}"

    def _differentiated(self) -> dict[int, str]:
        """For each derivative order, the name of the tensor it differentiated: the last node
        whose total gradient is the seed, in the adjoint pass's book (an op like add passes
        the seed on unchanged). None when one order had several seeds."""
        names: dict[int, str] = {}
        for order, book in self.G.graph.get("adjoint", {}).items():
            seeded = {n: t for n, t in book.get("totals", {}).items()
                      if t in self.G and self.G.nodes[t].get("role") == "seed"}
            if len(set(seeded.values())) == 1 and max(seeded) in self.G:
                names[order] = self.G.nodes[max(seeded)]["name"]
        return names

    def _check_highlight(self, highlight: Mapping[int, str]) -> dict[int, str]:
        for n in highlight:
            if n not in self.shown_set:
                where = "the adjoint or joint view" if self.G.nodes[n]["adjoint"] else "the forward or joint view"
                raise GraphError(f"cannot highlight {self.g.describe(n)}: it is not in the {self.which} view; "
                                 f"draw {where}")
        return dict(highlight)

    # -- the whole picture --------------------------------------------------------------
    def build(self, title: Optional[str], flip: bool = False) -> graphviz.Digraph:
        """The Digraph. A joint view is laid out once (``dot -Tplain``, under a time limit) to check that
        the forward cluster came out on top: dot's cluster order follows its initial node order, which no
        attribute pins, so when the adjoint landed on top the clusters are declared the other way round."""
        dot = self._build(title, flip)
        if self.which == "joint" and not flip and len(self.shown) <= JOINT_CHECK_NODES and _adjoint_on_top(dot, self):
            return self._build(title, True)
        return dot

    def _build(self, title: Optional[str], flip: bool) -> graphviz.Digraph:
        dot = graphviz.Digraph("revgraph", graph_attr=dict(style.GRAPH), node_attr=style.NODE, edge_attr=style.EDGE)
        dot.attr(label=label(esc(short(title if title is not None else self._title(), 200)), *map(esc, self.notes)))
        if self.values is not None:
            dot.attr("edge", fontsize="12")  # the numbers are the point of the picture
        if self.which == "joint":
            dot.attr(newrank="true")  # rank constraints across the two clusters (gradients under their values)
            self._joint_nodes(dot, flip)
        else:
            self._place(dot, self.shown, "")
        self._edges(dot)
        if self.which == "joint":
            self._align(dot)
        self._legend(dot)
        return dot

    def _title(self) -> str:
        what = {"forward": "forward graph", "adjoint": "adjoint graph (the backward pass, as a graph of ops)",
                "joint": "forward (black) and adjoint (coloured) graphs"}[self.which]
        if self.which == "forward" and self.values is not None:
            what = "forward values and gradients" if self.edge_grads else "forward values"
        return f"{self.g.name}: {what}"

    def _joint_nodes(self, dot: graphviz.Digraph, flip: bool = False) -> None:
        by_order: dict[int, list[int]] = defaultdict(list)
        for n in self.shown:
            by_order[self.order[n]].append(n)
        for order in sorted(by_order, reverse=not flip):  # usually dot stacks later clusters above: forward on top
            name = "forward" if order == 0 else ("adjoint" if order == 1 else f"adjoint ({_ordinal(order)} derivative)")
            with dot.subgraph(name=f"cluster_{self.p}order{order}") as c:
                c.attr(label=name, color=style.order_color(order), fontcolor=style.order_color(order),
                       style="rounded")
                self._place(c, by_order[order], str(order))

    def _place(self, dot: graphviz.Digraph, nodes: list[int], prefix: str) -> None:
        """Draw ``nodes``; those made inside ``with g.scope(...)`` in one labelled cluster per scope."""
        by_scope: dict[str, list[int]] = defaultdict(list)
        for n in nodes:
            by_scope[self.G.nodes[n].get("scope", "")].append(n)
        for n in by_scope.pop("", []):
            self._node(dot, n)
        for i, (scope, members) in enumerate(sorted(by_scope.items())):
            with dot.subgraph(name=f"cluster_{self.p}scope{prefix}_{i}") as c:
                c.attr(label=label(esc(short(scope))), style="rounded,dashed", color=style.GREY, fontcolor=style.GREY,
                       tooltip=tooltip(scope))
                for n in members:
                    self._node(c, n)

    # -- nodes --------------------------------------------------------------------------
    def _kind(self, n: int) -> str:
        d = self.G.nodes[n]
        if n in self.residual and d["op"] != "constant":
            return "residual"
        if d.get("role") in ("seed", "zeros"):
            return d["role"]
        if d["op"] in ("input", "constant"):
            return d["op"]
        if d.get("grad_of"):
            return "gradient"
        if d["op"] == "accumulate":
            return "accumulate"
        return "output" if n in self.outputs else "op"

    def _node(self, dot: graphviz.Digraph, n: int) -> None:
        kind = self._kind(n)
        attrs = style.node_style(kind, self.order[n])
        if n in self.highlight:
            attrs = style.highlighted(attrs)
        nid = f"{self.p}n{n}"  # also the SVG id: the player finds nodes by it
        dot.node(nid, label(*self._lines(n, kind)), id=nid, tooltip=tooltip(self.G.nodes[n]["name"]), **attrs)

    def _lines(self, n: int, kind: str) -> list[str]:
        d = self.G.nodes[n]
        name = esc(short(d["name"]))
        if kind in ("input", "residual"):
            lines = [name] + (["(forward value)"] if kind == "residual" else [])
        elif kind in ("constant", "zeros"):
            lines = [name, esc(value_text(d["value"])) if "value" in d else "zeros"]
        elif kind == "seed":
            y = self.differentiated.get(self.order[n])
            lines = [name, f"seed ∂{esc(short(y))}/∂{esc(short(y))}" if y is not None else "seed"]
        else:
            symbol = self.inline_text(n) or esc(OP_SYMBOLS.get(d["op"], d["op"]))
            opdef = self.ops.get(d["op"])  # a graph loaded from elsewhere may name an op we lack: still draw it
            extra = esc(attrs_text(d["attrs"], opdef.attrs if opdef else {}))
            lines = [symbol, name, extra]
            if d["op"] == "accumulate":
                lines.append(f"sum of {self.G.in_degree(n)} gradients")
        for w in d.get("grad_of", []):
            wname = esc(short(self.G.nodes[w]["name"]))
            y = self.differentiated.get(self.order[n])
            lines.append(f"= ∂{esc(short(y))}/∂{wname}" if y is not None else f"= gradient of {wname}")
        lines += self._pass_lines(n)
        if self.values is not None and n in self.values and not self._value_on_edges(n):
            lines.append(f"= {esc(value_text(self.values[n]))}")
        if n in self.fan_out_totals:
            lines.append(f"Σ∂ = {esc(value_text(self.fan_out_totals[n]))}")
        if n in self.highlight:
            lines.append(f"⚠ {esc(self.highlight[n])}")
        return lines

    def _fan_out_totals(self) -> dict[int, Any]:
        """For a tensor used more than once, the sum of the gradients its edges carry back."""
        parts: dict[int, list] = defaultdict(list)
        for (u, v, _), grad in (self.edge_grads or {}).items():
            if u in self.shown_set and v in self.shown_set:
                parts[u].append(grad)
        return {u: sum(gs[1:], gs[0]) for u, gs in parts.items() if len(gs) > 1}

    def _value_on_edges(self, n: int) -> bool:
        """Whether an edge drawn out of ``n`` is labelled with its value (else the node shows it).
        Outputs get such an edge in the forward view; residual reads are unlabelled."""
        if self.which == "forward" and n in self.outputs:
            return True
        return any(v in self.shown_set and not self._is_read(n, v) for v in self.G.succ[n])

    def _is_read(self, u: int, v: int) -> bool:
        """A residual read: a value of the forward pass (or a lower order) used by an adjoint node."""
        return self.order[u] < self.order[v] and self.G.nodes[u]["op"] != "constant"

    # -- edges --------------------------------------------------------------------------
    def _edges(self, dot: graphviz.Digraph) -> None:
        shown = self.shown_set
        for v in self.shown:
            for u, _, slot in sorted(self.G.in_edges(v, keys=True), key=lambda e: e[2]):
                if u not in shown or v in self.residual:  # residuals are values read, not a computation here
                    continue
                ov = self.order[v]
                kind = "forward" if ov == 0 else ("residual" if self._is_read(u, v) else "adjoint")
                attrs = style.edge_style(kind, ov)
                if kind == "residual" and self.which == "adjoint":
                    attrs["constraint"] = "true"  # each residual just before the node that reads it
                text = "" if kind == "residual" else self._edge_text(u)
                if kind == "residual" and self.which == "joint" and self._far(u, v):
                    self._stub(dot, u, v, attrs)
                elif kind == "adjoint" and self.which == "joint":
                    # Drawn from consumer to operand with the arrow reversed: gradients flow right to left.
                    dot.edge(f"{self.p}n{v}", f"{self.p}n{u}", label(text), dir="back", **attrs)
                else:
                    dot.edge(f"{self.p}n{u}", f"{self.p}n{v}", label(text), **attrs)
                grad = None if self.edge_grads is None else self.edge_grads.get((u, v, slot))
                if grad is not None:
                    dot.edge(f"{self.p}n{u}", f"{self.p}n{v}", label(esc(value_text(grad))), id=f"{self.p}grad_{u}_{v}_{slot}",
                             **style.edge_style("gradient", 1))
        if self.which == "forward" and self.values is not None:
            self._output_tails(dot)

    def _far(self, u: int, v: int) -> bool:
        """Whether the residual read u -> v would span more than STUB_RANKS ranks of the joint layout."""
        if self._ranks is None:
            self._ranks = self._estimate_ranks()
        return abs(self._ranks.get(u, 0) - self._ranks.get(v, 0)) > STUB_RANKS

    def _estimate_ranks(self) -> dict[int, int]:
        """Where each node lands along the picture (left to right), as the joint layout places them: forward
        nodes at their depth; a total gradient at its forward node's rank (``_align``); other adjoint nodes
        one rank left of the adjoint values they read (gradients flow right to left), or beside the
        forward values they read when they read none."""
        ranks: dict[int, int] = {}
        anchors = {t: n for order, book in self.G.graph.get("adjoint", {}).items()
                   for n, t in book.get("totals", {}).items() if n in self.shown_set and t in self.shown_set}
        for n in self.shown:  # ids are a topological order
            preds = [u for u in self.G.pred[n] if u in self.shown_set]
            if self.order[n] == 0:
                ranks[n] = 1 + max((ranks[u] for u in preds if self.order[u] == 0), default=-1)
            elif n in anchors and anchors[n] in ranks:
                ranks[n] = ranks[anchors[n]]
            else:
                adj = [ranks[u] for u in preds if self.order[u] > 0 and u in ranks]
                ranks[n] = min(adj) - 1 if adj else max((ranks.get(u, 0) for u in preds), default=0)
        return ranks

    def _stub(self, dot: graphviz.Digraph, u: int, v: int, attrs: dict) -> None:
        """A small "reads x" note beside the adjoint node instead of an edge across the picture."""
        stub = f"{self.p}read{u}_{v}"
        dot.node(stub, label(f"reads {esc(short(self.G.nodes[u]['name'], 24))}"), shape="plaintext",
                 fontsize="10", fontcolor=style.GREY, tooltip=tooltip(self.G.nodes[u]["name"]))
        dot.edge(stub, f"{self.p}n{v}", **{**attrs, "constraint": "true"})

    def _edge_text(self, u: int) -> str:
        if self.values is not None and u in self.values:
            return esc(value_text(self.values[u]))
        d = self.G.nodes[u]
        return esc(type_text(d["shape"], d["dtype"]))

    def _output_tails(self, dot: graphviz.Digraph) -> None:
        for o in self.outputs:
            if o not in self.values:
                continue
            dot.node(f"{self.p}out{o}", "", shape="point", width="0.08")
            dot.edge(f"{self.p}n{o}", f"{self.p}out{o}", label(esc(value_text(self.values[o]))))
            if self.edge_grads is not None and o in self.output_grads:
                dot.edge(f"{self.p}n{o}", f"{self.p}out{o}", label(esc(value_text(self.output_grads[o]))),
                         id=f"{self.p}grad_out_{o}",
                         **style.edge_style("gradient", 1))

    # -- layout and legend --------------------------------------------------------------
    def _align(self, dot: graphviz.Digraph) -> None:
        """Put each total gradient at the rank of the node it is the gradient of (the latest
        such node when several share it), so each backward pass sits under what it
        differentiates. From the adjoint pass's book, one entry per derivative order."""
        anchor: dict[int, int] = {}
        for order, book in sorted(self.G.graph.get("adjoint", {}).items()):
            for n, t in book.get("totals", {}).items():
                if n in self.shown_set and t in self.shown_set and self.order[n] < self.order[t] == order:
                    anchor[t] = max(anchor.get(t, n), n)
        for t, n in sorted(anchor.items()):
            with dot.subgraph() as s:
                s.attr(rank="same")
                s.node(f"{self.p}n{n}")
                s.node(f"{self.p}n{t}")

    def _legend(self, dot: graphviz.Digraph) -> None:
        rows: list[tuple[str, str]] = []
        if self.which == "forward" and self.values is not None:
            rows.append((style.BLACK, "black, above: value flowing forward"))
            if self.edge_grads:
                rows.append((style.order_color(1), "red, below: gradient flowing back"))
        elif self.which != "forward":
            kinds = {self._kind(n) for n in self.shown}
            rows += [(fill, kind) for kind, fill in [("input", "#dbeafe"), ("constant", "#eeeeee")] if kind in kinds]
            for k in sorted({self.order[n] for n in self.shown if self.order[n] > 0}):
                rows.append((style.order_color(k), f"{_ordinal(k)} derivative (adjoint order {k})"))
            if any(self._is_read(u, v) for u, v in self.G.edges(self.shown) if v in self.shown_set):
                rows.append((style.GREY, "dashed: a forward value the adjoint reads (residual)"))
        if self.highlight:
            rows.append((style.HIGHLIGHT, "highlighted"))
        if rows:
            dot.node(f"{self.p}legend", style.legend_label(rows), shape="plaintext")


_AUTO_CONSTANT = re.compile(r"constant_\d+\Z")
STUB_RANKS = 3  # in a joint view, a residual read spanning more ranks is drawn as a "reads x" stub
JOINT_CHECK_NODES = 200  # joint views up to this size are laid out once to put the forward graph on top


def _adjoint_on_top(dot: graphviz.Digraph, scene: "_Scene") -> bool:
    """Whether dot puts the adjoint nodes above the forward ones (plain output: y grows upwards)."""
    from .run import pipe

    try:
        plain = pipe(dot, "plain", timeout=2.0).decode("utf-8", "replace")
    except Exception:  # no dot, a slow layout: keep the usual order
        return False
    ys: dict[bool, list[float]] = {False: [], True: []}
    prefix = f"node {scene.p}n"
    for line in plain.splitlines():
        if line.startswith(prefix):
            parts = line.split()
            try:
                n = int(parts[1][len(scene.p) + 1:])
            except ValueError:
                continue
            if n in scene.order:
                ys[scene.order[n] > 0].append(float(parts[3]))
    return bool(ys[False] and ys[True]) and sum(ys[True]) / len(ys[True]) > sum(ys[False]) / len(ys[False])


def _size(shape: tuple) -> float:
    size = 1
    for dim in shape:
        if dim is None:
            return float("inf")
        size *= dim
    return size


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"
