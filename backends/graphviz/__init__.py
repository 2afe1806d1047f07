"""The Graphviz backend: draws forward, adjoint and joint graphs (``rg.to_dot``,
``rg.render``), and registers the picture notebooks show for graphs and programs."""

from __future__ import annotations

import subprocess
from typing import Any, Optional

import graphviz

from ...ir.errors import GraphError
from ...ir.graph import set_drawer
from .api import DotNotFound, _build, render, to_dot
from .run import pipe_bounded
from .draw import WHICH, draw
from .sources import resolve_highlight, scene_args, step_values


NOTEBOOK_SECONDS = 0.8  # per layout: a cell showing a graph of any size returns within about 2 s


def _notebook_bundle(obj: Any, include: Optional[list] = None, exclude: Optional[list] = None) -> dict:
    """What Jupyter shows: the joint view when there are adjoint nodes, else the forward view, as SVG.
    ``dot`` runs with a time limit (a summary replaces a layout that takes longer), and displaying
    never raises: without `dot` (or a picture) the text repr is shown."""
    bundle = {"text/plain": repr(obj)}
    if (include and "image/svg+xml" not in include) or (exclude and "image/svg+xml" in exclude):
        return bundle
    try:
        args = scene_args(obj, False)
        G = args["graph"].nx
        nodes = G if args.get("nodes") is None else args["nodes"]
        which = "joint" if any(G.nodes[n]["adjoint"] for n in nodes) else "forward"
        redraw = lambda n, note: _build(obj, which, False, None, None, n, (note,))  # noqa: E731
        svg = pipe_bounded(to_dot(obj, which), "svg", NOTEBOOK_SECONDS, redraw)
        bundle["image/svg+xml"] = svg.decode("utf-8")
    except (GraphError, graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError, subprocess.SubprocessError):
        pass
    return bundle


set_drawer(_notebook_bundle)

__all__ = ["to_dot", "render", "draw", "DotNotFound", "WHICH", "resolve_highlight", "step_values"]
