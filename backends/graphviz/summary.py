"""The summary picture of a view too big to lay out in full (more than ``max_nodes`` nodes).

Nodes made inside a name scope (``with g.scope("layer1"):``) collapse into one box per scope;
the other op nodes collapse into runs -- consecutive nodes (in creation order, which is a
topological order) of one derivative order with the same shape and dtype -- one box each,
labelled with the count and the ops inside. Inputs, outputs, seeds and gradients stay nodes,
and so do the nodes of scopes named in ``expand``. If there are still more than ``BOXES``
boxes, neighbouring runs are merged until there are not, so the picture has a bounded size
whatever the graph. The title says what was collapsed and how to draw every node.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Optional

import graphviz

from . import style
from .text import esc, label, short, tooltip, type_text

BOXES = 10  # at most this many boxes per derivative order (neighbouring runs merge beyond)
KEPT = ("input", "seed", "output", "gradient", "zeros")  # kinds drawn as themselves when there are few


class Summary:
    """One summary picture of a scene (``draw._Scene``)."""

    def __init__(self, scene: Any, expanded: set[str], max_nodes: int) -> None:
        self.s, self.G, self.expanded = scene, scene.G, expanded
        kept = [n for n in scene.shown if self._expanded(n) or (scene._kind(n) in KEPT or n in scene.highlight)]
        self.kept = set(kept if len(kept) <= max_nodes // 2 else [n for n in kept if self._expanded(n)])
        self.unit: dict[int, str] = {n: f"{scene.p}n{n}" for n in self.kept}
        self.boxes: dict[str, dict] = {}
        self._collapse()

    def _expanded(self, n: int) -> bool:
        scope = self.G.nodes[n].get("scope")
        return bool(scope) and any(scope == e or scope.startswith(e + "/") for e in self.expanded)

    def _key(self, n: int) -> tuple:
        d = self.G.nodes[n]
        if d.get("scope"):
            return ("scope", d["scope"])
        return ("run", d["shape"], str(d["dtype"]))

    def _collapse(self) -> None:
        runs: dict[int, list[tuple[tuple, list[int]]]] = defaultdict(list)  # order -> [(key, members)]
        for n in self.s.shown:
            if n in self.kept:
                continue
            seq, key = runs[self.s.order[n]], self._key(n)
            if seq and seq[-1][0] == key:
                seq[-1][1].append(n)
            else:
                seq.append((key, [n]))
        for order, seq in sorted(runs.items()):
            step = -(-len(seq) // BOXES)  # merge neighbouring runs so at most BOXES remain
            for i in range(0, len(seq), step):
                group = seq[i:i + step]
                members = [n for _, ms in group for n in ms]
                if len(members) == 1 and len(group) == 1:
                    self.kept.add(members[0])
                    self.unit[members[0]] = f"{self.s.p}n{members[0]}"
                    continue
                box = f"{self.s.p}box{order}_{i // step}"
                self.boxes[box] = {"order": order, "members": members, "keys": [k for k, _ in group]}
                for n in members:
                    self.unit[n] = box

    # -- drawing --------------------------------------------------------------------------
    def build(self, title: Optional[str]) -> graphviz.Digraph:
        s = self.s
        dot = graphviz.Digraph("revgraph", graph_attr=dict(style.GRAPH), node_attr=style.NODE, edge_attr=style.EDGE)
        dot.attr(label=label(esc(short(title if title is not None else s._title(), 200)), *self._notes()))
        orders = sorted({s.order[n] for n in s.shown})
        for order in sorted(orders, reverse=True) if s.which == "joint" else orders:
            if s.which == "joint":
                name = "forward" if order == 0 else f"adjoint (order {order})"
                with dot.subgraph(name=f"cluster_{s.p}order{order}") as c:
                    c.attr(label=name, color=style.order_color(order), fontcolor=style.order_color(order),
                           style="rounded")
                    self._units(c, order)
            else:
                self._units(dot, order)
        self._edges(dot)
        s._legend(dot)
        return dot

    def _notes(self) -> list[str]:
        s = self.s
        collapsed = sum(len(b["members"]) for b in self.boxes.values())
        scopes = list(dict.fromkeys(k[1] for b in self.boxes.values() for k in b["keys"] if k[0] == "scope"))
        what = "name scopes" + (" and runs of same-shaped ops" if any(k[0] == "run" for b in self.boxes.values()
                                                                        for k in b["keys"]) else "") \
            if scopes else "runs of same-shaped ops"
        lines = [f"summary of {len(s.shown)} nodes: {collapsed} collapsed into {len(self.boxes)} boxes ({what}), "
                 f"{len(self.kept)} drawn as themselves"]
        if scopes:
            shown = ", ".join(short(x, 24) for x in scopes[:6]) + (f", … ({len(scopes)} scopes)" if len(scopes) > 6 else "")
            lines.append(f"collapsed scopes: {shown}; expand=\"{short(scopes[0], 24)}\" draws one in full")
        lines.append("rg.to_dot(..., expand=\"all\") draws every node")
        return [esc(line) for line in lines + s.notes]

    def _units(self, dot: graphviz.Digraph, order: int) -> None:
        s = self.s
        s._place(dot, [n for n in s.shown if n in self.kept and s.order[n] == order], str(order))
        for box, b in self.boxes.items():
            if b["order"] == order:
                dot.node(box, label(*self._box_lines(b)), tooltip=tooltip(self._range(b)),
                         **style.node_style("box", order))

    def _box_lines(self, b: dict) -> list[str]:
        ops = Counter(self.G.nodes[n]["op"] for n in b["members"])
        top = ", ".join(f"{op} ×{k}" for op, k in ops.most_common(4)) + (", …" if len(ops) > 4 else "")
        lines = [f"{len(b['members'])} ops collapsed", esc(top)]
        scopes = [k[1] for k in b["keys"] if k[0] == "scope"]
        runs = {(k[1], k[2]) for k in b["keys"] if k[0] == "run"}
        if scopes:
            lines.append("scope " + esc(short(scopes[0])) if len(scopes) == 1 else
                         f"{len(scopes)} scopes: {esc(short(scopes[0], 20))} … {esc(short(scopes[-1], 20))}")
        if len(runs) == 1:
            shape, dtype = next(iter(runs))
            lines.append(esc(type_text(shape, dtype)))
        elif runs:
            lines.append(f"{len(runs)} shapes")
        return lines

    def _range(self, b: dict) -> str:
        first, last = self.G.nodes[b["members"][0]]["name"], self.G.nodes[b["members"][-1]]["name"]
        return f"{short(first)} … {short(last)}"

    def _edges(self, dot: graphviz.Digraph) -> None:
        s = self.s
        counts: Counter = Counter()
        for v in s.shown:
            for u in self.G.pred[v]:
                if u not in s.shown_set or v in s.residual:
                    continue
                a, b = self.unit[u], self.unit[v]
                if a == b:
                    continue
                ov = s.order[v]
                kind = "forward" if ov == 0 else ("residual" if s._is_read(u, v) else "adjoint")
                counts[(a, b, kind, ov, u if a not in self.boxes else None)] += len(self.G[u][v])
        for (a, b, kind, ov, u), k in sorted(counts.items(), key=lambda item: str(item[0])):
            attrs = style.edge_style(kind, ov)
            text = (s._edge_text(u) if u is not None and kind != "residual" else "") + (f" ×{k}" if k > 1 else "")
            if kind == "adjoint" and s.which == "joint":
                dot.edge(b, a, label(esc(text) if u is None else text), dir="back", **attrs)
            else:
                dot.edge(a, b, label(esc(text) if u is None else text), **attrs)
