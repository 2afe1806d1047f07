"""The Graphviz backend: draws forward, adjoint and joint graphs (``rg.to_dot``,
``rg.render``), and registers the picture notebooks show for graphs and programs."""

from __future__ import annotations

from typing import Any, Optional

import graphviz

from ...ir.errors import GraphError
from ...ir.graph import set_drawer
from .api import DotNotFound, render, to_dot
from .draw import WHICH, draw
from .sources import resolve_highlight, scene_args, step_values


def _notebook_bundle(obj: Any, include: Optional[list] = None, exclude: Optional[list] = None) -> dict:
    """What Jupyter shows: the joint view when there are adjoint nodes, else the forward view, as SVG.
    Displaying never raises: without `dot` (or a picture) the text repr is shown."""
    bundle = {"text/plain": repr(obj)}
    try:
        args = scene_args(obj, False)
        G = args["graph"].nx
        nodes = G if args.get("nodes") is None else args["nodes"]
        which = "joint" if any(G.nodes[n]["adjoint"] for n in nodes) else "forward"
        bundle.update(to_dot(obj, which)._repr_mimebundle_(include, exclude))
    except (GraphError, graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        pass
    return bundle


set_drawer(_notebook_bundle)

__all__ = ["to_dot", "render", "draw", "DotNotFound", "WHICH", "resolve_highlight", "step_values"]
