"""Dead-code elimination: drop every node the program roots do not depend on.

Inputs stay (feeding an input the outputs do not need is allowed and ignored, so the
program must still know the name), and so do constants the adjoint pass's book refers to
(a seed of ones the simplifier took out of the program is still the output's gradient in
the drawings)."""

from __future__ import annotations

from .rewrite import Rewriter


def dce(rw: Rewriter) -> None:
    """Remove nodes that no root depends on (inputs excepted)."""
    live = rw.live()
    keep = rw.book_constants()
    dead = [n for n, op in rw.G.nodes(data="op") if n not in live and op != "input" and n not in keep]
    for n in dead:
        rw.remove(n)
        rw.note("dead node")
