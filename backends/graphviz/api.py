"""``rg.to_dot`` and ``rg.render``: the public drawing functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import graphviz

from ...ir.errors import GraphError
from . import style
from .draw import MAX_NODES, check_which, draw
from .run import DOT_SECONDS, pipe_bounded
from .sources import resolve_highlight, scene_args

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL = ("install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian/Ubuntu), "
           "`brew install graphviz` (macOS), `conda install graphviz`, or see https://graphviz.org/download/")


class DotNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` program is not installed (a RuntimeError)."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def to_dot(obj: Any, which: str = "forward", *, values: bool = False, highlight: Any = None, expand: Any = None,
           max_nodes: int = MAX_NODES, simplified: Union[bool, str] = True) -> graphviz.Digraph:
    """The picture of ``obj`` as a ``graphviz.Digraph``.

    ``obj``: a Graph, a Tensor (its ancestry), ``rg.compile(...)``'s result.
    ``which``: ``"forward"``, ``"adjoint"`` or ``"joint"``. ``values=True`` on a step (or a
    compiled function) that has run labels every edge with its value; on the forward
    view after a backward (or of a function computing ``rg.grad`` tensors) it is the
    textbook figure: gradients under the values, in red, on reversed edges.
    ``highlight``: a tensor, node name, node id, an error carrying ``.node``, or a list.
    A view of more than ``max_nodes`` nodes is a summary (name scopes and runs of same-shaped
    ops collapsed into boxes, the title saying what); ``expand="all"`` draws every node,
    ``expand="layer1"`` (or a list of scope names) draws those scopes in full.
    On a step, the adjoint and joint views say what the simplifier removed; ``simplified=False``
    draws the adjoint graph as the adjoint pass emitted it (the textbook's, where add passes the
    gradient through), ``simplified="both"`` that and what runs side by side.

    >>> dot = rg.to_dot(step, which="forward", values=True)
    >>> dot.render("textbook", format="svg")        # or rg.render(step, "textbook.svg", ...)
    """
    return _build(obj, which, values, highlight, expand, max_nodes, (), simplified)


def _build(obj: Any, which: str, values: bool, highlight: Any, expand: Any, max_nodes: int,
           notes: tuple, simplified: Union[bool, str] = True) -> graphviz.Digraph:
    check_which(which)
    if simplified not in (True, False, "both"):
        raise GraphError(f"simplified={simplified!r}: give True (what runs), False (before simplification) or 'both'")
    if simplified == "both":
        return side_by_side([_build(obj, which, values, highlight, expand, max_nodes, notes, flag)
                             for flag in (True, False)])  # dot stacks the later cluster on top
    args = scene_args(obj, bool(values), simplified=bool(simplified))
    found = list(args.pop("notes", ())) + list(args.pop("adjoint_notes", ()) if which != "forward" else [])
    args.pop("adjoint_notes", None)
    return draw(which=which, highlight=resolve_highlight(args["graph"], highlight), expand=expand,
                max_nodes=max_nodes, notes=[*found, *notes], prefix="" if simplified else "t", **args)


def side_by_side(parts: list[graphviz.Digraph]) -> graphviz.Digraph:
    """Several pictures (with distinct DOT ids) as clusters of one picture, each keeping its title."""
    whole = graphviz.Digraph("revgraph", graph_attr={**style.GRAPH, "newrank": "true"}, node_attr=style.NODE,
                             edge_attr=style.EDGE)
    for i, part in enumerate(parts):
        with whole.subgraph(name=f"cluster_part{i}") as c:
            c.attr(style="rounded", color=style.GREY)
            c.body += list(part.body)
    return whole


def render(obj: Any, path: Union[str, Path], which: str = "forward", *, values: bool = False,
           highlight: Any = None, expand: Any = None, simplified: Union[bool, str] = True,
           timeout: float = DOT_SECONDS) -> Path:
    """Draw ``obj`` into ``path``; the format comes from the suffix (.svg, .png, .pdf, .dot).

    Writing .dot needs nothing else; the others run Graphviz's ``dot``, for at most ``timeout``
    seconds: a layout that takes longer is replaced by a smaller summary that says so. Without
    `dot`, the .dot file is written next to ``path`` and :class:`DotNotFound` says how to install it.

    >>> rg.render(step, "joint.svg", which="joint")
    PosixPath('joint.svg')
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise GraphError(f"cannot tell the format of {str(path)!r} from its suffix; use one of "
                         f"{', '.join(sorted(FORMATS))}")
    dot = to_dot(obj, which, values=values, highlight=highlight, expand=expand, simplified=simplified)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(dot.source, encoding="utf-8")
        return path
    try:
        data = pipe_bounded(dot, fmt, timeout, lambda n, note: _build(obj, which, values, highlight, None, n, (note,),
                                                                            simplified))
    except graphviz.ExecutableNotFound:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot.source, encoding="utf-8")
        raise DotNotFound(f"cannot write {str(path)!r}: Graphviz's `dot` program was not found on PATH. "
                          f"Wrote {str(fallback)!r} instead; {INSTALL}, then run "
                          f"`dot -T{fmt} {fallback} -o {path}`") from None
    path.write_bytes(data)
    return path
