"""Dead-code elimination: drop every node the program roots do not depend on.

Inputs stay (feeding an input the outputs do not need is allowed and ignored, so the
program must still know the name)."""

from __future__ import annotations

from .rewrite import Rewriter


def dce(rw: Rewriter) -> None:
    """Remove nodes that no root depends on (inputs excepted)."""
    live = rw.live()
    dead = [n for n, op in rw.G.nodes(data="op") if n not in live and op != "input"]
    for n in dead:
        rw.remove(n)
        rw.note("dead node")
