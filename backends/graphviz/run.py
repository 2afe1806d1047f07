"""Running Graphviz's ``dot`` with a time limit, so every picture comes back in bounded time.

``dot``'s layout time grows much faster than the graph (a few hundred nodes with long edges
can take minutes). A layout that does not finish in time is killed and the picture is drawn
again as a much smaller summary that says what happened; if even that does not finish, a
one-node picture says so. The ``graphviz`` package's own ``pipe`` has no time limit.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Callable

import graphviz

from .text import esc, label

DOT_SECONDS = 20.0  # rg.render's default limit for one layout
SMALL = 60  # the node budget of the summary drawn when a layout ran out of time


def pipe(dot: graphviz.Digraph, fmt: str, timeout: float) -> bytes:
    """``dot -T<fmt>`` on the Digraph's source, killed after ``timeout`` seconds
    (``subprocess.TimeoutExpired``); a failing ``dot`` raises ``graphviz.CalledProcessError``."""
    exe = shutil.which("dot")
    if exe is None:
        raise graphviz.ExecutableNotFound(["dot"])
    done = subprocess.run([exe, f"-T{fmt}"], input=dot.source.encode("utf-8"), capture_output=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise graphviz.CalledProcessError(done.returncode, [exe, f"-T{fmt}"], output=done.stdout, stderr=done.stderr)
    return done.stdout


def pipe_bounded(dot: graphviz.Digraph, fmt: str, timeout: float,
                 redraw: Callable[[int, str], graphviz.Digraph]) -> bytes:
    """``pipe``, and when the layout runs out of time, ``redraw(SMALL, note)`` (a summary of at most
    SMALL nodes, the note in its title), then a one-node picture as the last resort."""
    try:
        return pipe(dot, fmt, timeout)
    except subprocess.TimeoutExpired:
        pass
    note = f"the full layout did not finish in {timeout:g} s (Graphviz's dot was stopped): a smaller summary"
    small = redraw(SMALL, note)
    try:
        return pipe(small, fmt, timeout)
    except subprocess.TimeoutExpired:
        last = graphviz.Digraph("revgraph")
        last.node("note", label(esc(f"no layout finished in {timeout:g} s; draw a part of the graph "
                                    "(rg.to_dot(tensor) draws its ancestry) or save it as .dot")), shape="box")
        return pipe(last, fmt, timeout)
