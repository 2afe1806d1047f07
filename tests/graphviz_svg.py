"""Reading the SVG that Graphviz's `dot` produced, for the drawing tests: nodes and edges
by their stable ids (``n<node id>``), with their text, colour and dash."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import revgraph as rg

NS = {"s": "http://www.w3.org/2000/svg"}
RED = "#d62728"


@dataclass
class Item:
    title: str  # "n5" for a node, "n0->n5" for an edge
    texts: list[str]
    stroke: str
    dashed: bool
    stroke_width: str


def svg(obj, which="forward", **kw) -> str:
    return rg.to_dot(obj, which, **kw).pipe(format="svg").decode("utf-8")


def parse(text: str, cls: str) -> list[Item]:
    root = ET.fromstring(text)
    items = []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") != cls:
            continue
        title = g.find("s:title", NS).text
        # (a node with a tooltip wraps its shapes and text in <g><a>: look at descendants)
        shapes = [e for e in g.iter() if e.tag.split("}")[1] in ("path", "ellipse", "polygon")]
        first = shapes[0] if shapes else None
        items.append(Item(title=title, texts=[t.text or "" for t in g.iter("{http://www.w3.org/2000/svg}text")],
                          stroke=first.get("stroke", "") if first is not None else "",
                          dashed=first is not None and first.get("stroke-dasharray") is not None,
                          stroke_width=first.get("stroke-width", "1") if first is not None else ""))
    return items


def nodes(text: str) -> dict[str, Item]:
    return {item.title: item for item in parse(text, "node")}


def edges(text: str) -> list[Item]:
    return parse(text, "edge")


def edge_labels(text: str, u: int, v: str | int, stroke: str) -> list[str]:
    """The labels of the edges from node u to v drawn in colour ``stroke``."""
    target = v if isinstance(v, str) else f"n{v}"
    return [t for e in edges(text) if e.title == f"n{u}->{target}" and e.stroke == stroke for t in e.texts]
