"""How each kind of node and edge looks. One place, so every view (and the dynamic
engine's pictures) speaks the same visual language:

* forward: inputs are blue rounded boxes, constants grey boxes, ops white ellipses
  (textbook symbols), the output has a double outline; edges black;
* adjoint: nodes and edges in the colour of their derivative order (1st red,
  2nd purple, ...), the seed a filled box, accumulations of fan-out a Σ node,
  gradient outputs double-outlined; forward values the adjoint reads
  (residuals) dashed grey, and the edges carrying them dashed;
* highlighted nodes: a thick gold outline and a note;
* summaries: a 3-D box stands for many collapsed nodes.
"""

from __future__ import annotations

import html

FONT = "Helvetica"
BLACK = "#222222"
GREY = "#777777"
HIGHLIGHT = "#e6a100"
ORDER_COLORS = ["#d62728", "#8e44ad", "#e67e22", "#2e8b57", "#1f5fbf"]  # 1st, 2nd, ... derivative
ORDER_FILLS = ["#fde8e8", "#f1e6f7", "#fdf0e3", "#e4f4ea", "#e3ecf9"]

GRAPH = {"rankdir": "LR", "fontname": FONT, "nodesep": "0.35", "ranksep": "0.7", "labelloc": "t",
         "fontsize": "16", "ordering": "in"}
NODE = {"fontname": FONT, "fontsize": "12"}
EDGE = {"fontname": FONT, "fontsize": "10", "color": BLACK, "fontcolor": BLACK}


def order_color(order: int) -> str:
    """Outline/edge colour of derivative order ``order`` (0 = forward, black)."""
    return BLACK if order <= 0 else ORDER_COLORS[(order - 1) % len(ORDER_COLORS)]


def order_fill(order: int) -> str:
    return "white" if order <= 0 else ORDER_FILLS[(order - 1) % len(ORDER_FILLS)]


def node_style(kind: str, order: int) -> dict:
    """Graphviz attributes for a node of ``kind`` (input, constant, op, output, seed,
    accumulate, gradient, zeros, residual) at derivative ``order``."""
    col, fill = order_color(order), order_fill(order)
    styles = {
        "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe", "color": "#3b6fb6"},
        "constant": {"shape": "box", "style": "filled", "fillcolor": "#eeeeee", "color": GREY},
        "op": {"shape": "ellipse", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col},
        "output": {"shape": "ellipse", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col,
                   "peripheries": "2"},
        "seed": {"shape": "box", "style": "rounded,filled", "fillcolor": col, "color": col, "fontcolor": "white"},
        "accumulate": {"shape": "ellipse", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col},
        "gradient": {"shape": "ellipse", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col,
                     "peripheries": "2"},
        "zeros": {"shape": "box", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col,
                  "peripheries": "2"},
        "residual": {"shape": "box", "style": "rounded,dashed", "color": GREY, "fontcolor": GREY},
        "box": {"shape": "box3d", "style": "filled", "fillcolor": fill, "color": col, "fontcolor": col},
    }
    return dict(styles[kind])


def edge_style(kind: str, order: int) -> dict:
    """``forward``, ``adjoint`` (solid, order colour), ``residual`` (dashed: a value read
    from the forward pass or a lower order), ``gradient`` (the textbook's reversed red edge)."""
    col = order_color(order)
    if kind == "forward":
        return {}
    if kind == "adjoint":
        return {"color": col, "fontcolor": col}
    if kind == "residual":
        return {"color": GREY, "fontcolor": GREY, "style": "dashed", "constraint": "false"}
    if kind == "gradient":
        return {"color": col, "fontcolor": col, "dir": "back"}
    raise ValueError(f"unknown edge kind {kind!r}")


def highlighted(attrs: dict) -> dict:
    return {**attrs, "color": HIGHLIGHT, "penwidth": "3"}


def legend_label(rows: list[tuple[str, str]]) -> str:
    """An HTML-like table of (colour, text) rows. Only fixed text and numbers reach it
    (never user names), and each is still escaped."""
    cells = "".join(f'<TR><TD BGCOLOR="{html.escape(c)}" WIDTH="14"></TD>'
                    f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10">{html.escape(t)}</FONT></TD></TR>' for c, t in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{cells}</TABLE>>'
