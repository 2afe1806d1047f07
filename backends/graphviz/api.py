"""``rg.to_dot`` and ``rg.render``: the public drawing functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import graphviz

from ...ir.errors import GraphError
from .draw import check_which, draw
from .sources import resolve_highlight, scene_args

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL = ("install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian/Ubuntu), "
           "`brew install graphviz` (macOS), `conda install graphviz`, or see https://graphviz.org/download/")


class DotNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` program is not installed (a RuntimeError)."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def to_dot(obj: Any, which: str = "forward", *, values: bool = False, highlight: Any = None) -> graphviz.Digraph:
    """The picture of ``obj`` as a ``graphviz.Digraph``.

    ``obj``: a Graph, a Tensor (its ancestry), ``rg.compile(...)``'s result.
    ``which``: ``"forward"``, ``"adjoint"`` or ``"joint"``. ``values=True`` on a step (or a
    compiled function) that has run labels every edge with its value; on the forward
    view after a backward (or of a function computing ``rg.grad`` tensors) it is the
    textbook figure: gradients under the values, in red, on reversed edges.
    ``highlight``: a tensor, node name, node id, an error carrying ``.node``, or a list.

    >>> dot = rg.to_dot(step, which="forward", values=True)
    >>> dot.render("textbook", format="svg")        # or rg.render(step, "textbook.svg", ...)
    """
    check_which(which)
    args = scene_args(obj, bool(values))
    return draw(which=which, highlight=resolve_highlight(args["graph"], highlight), **args)


def render(obj: Any, path: Union[str, Path], which: str = "forward", *, values: bool = False,
           highlight: Any = None) -> Path:
    """Draw ``obj`` into ``path``; the format comes from the suffix (.svg, .png, .pdf, .dot).

    Writing .dot needs nothing else; the others run Graphviz's ``dot``. Without it, the
    .dot file is written next to ``path`` and :class:`DotNotFound` says how to install it.

    >>> rg.render(step, "joint.svg", which="joint")
    PosixPath('joint.svg')
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise GraphError(f"cannot tell the format of {str(path)!r} from its suffix; use one of "
                         f"{', '.join(sorted(FORMATS))}")
    dot = to_dot(obj, which, values=values, highlight=highlight)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(dot.source, encoding="utf-8")
        return path
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot.source, encoding="utf-8")
        raise DotNotFound(f"cannot write {str(path)!r}: Graphviz's `dot` program was not found on PATH. "
                          f"Wrote {str(fallback)!r} instead; {INSTALL}, then run "
                          f"`dot -T{fmt} {fallback} -o {path}`") from None
    path.write_bytes(data)
    return path
