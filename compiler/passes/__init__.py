"""Simplification passes: small functions over the graph, run in a named, ordered pipeline.

Each pass takes a ``Rewriter`` (the compile's own copy of the graph plus the program roots)
and edits it in place; ``optimize`` runs ``PIPELINE`` in order and records, per pass, what it
changed and the forward/adjoint node counts before and after (``step.stats``).

>>> g = rg.Graph(); x = g.input("x")
>>> step = rg.compile(x * 1.0 + 0.0, wrt=x)
>>> [(s["pass"], s["changed"]) for s in step.stats["passes"]]
[('dce', 0), ('fold', 0), ('simplify', 2), ('cse', 0), ('simplify', 0), ('dce', 3)]
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from ...ir.graph import Graph
from .cse import cse
from .dce import dce
from .fold import fold
from .rewrite import Rewriter
from .simplify import RULES, simplify

Pass = Callable[[Rewriter], None]

# The order matters: folding exposes constants to the algebraic rules; the rules expose
# duplicates to CSE; CSE can make a rule match again (x - x's operands now one node); DCE last.
PIPELINE: list[tuple[str, Pass]] = [
    ("dce", dce),
    ("fold", fold),
    ("simplify", simplify),
    ("cse", cse),
    ("simplify", simplify),
    ("dce", dce),
]


def counts(rw: Rewriter) -> dict[str, int]:
    """Live node counts: forward (adjoint tag 0) and adjoint (emitted by rg.grad)."""
    G = rw.G
    live = rw.live()
    adjoint = sum(1 for n in live if G._node[n]["adjoint"])
    return {"forward": len(live) - adjoint, "adjoint": adjoint}


def optimize(graph: Graph, roots: Iterable[int], protected: Iterable[int] = (), pipeline: Optional[list] = None,
             after_each: Optional[Callable[[Graph], None]] = None,
             keep_layers: bool = True) -> tuple[list[int], list[dict]]:
    """Run the passes on ``graph`` (edited in place: pass the compile's own copy).

    ``protected`` nodes keep their identity (the caller refers to them by id). ``keep_layers=False``
    lets rules split a textbook layer op (``softmax_cross_entropy``) when that saves work; programs
    people draw and read keep them whole. Returns the remapped roots and one record per pass:
    ``{"pass", "changed", "rewrites": {name: count}, "forward": (before, after), "adjoint": (before, after)}``.
    ``after_each(graph)`` runs after every pass (the tests call ``Graph.check`` there).
    """
    rw = Rewriter(graph, roots, protected)
    rw.keep_layers = keep_layers
    records = []
    before = counts(rw)
    # Passes that found nothing to do and have seen no change since: running one again would find
    # nothing again (each pass walks in execution order, so it leaves no match behind for itself),
    # so it is recorded as changing nothing without another walk over every node.
    idle: set = set()
    for name, run in PIPELINE if pipeline is None else pipeline:
        rw.counts = {}
        if run not in idle:
            run(rw)
            idle = idle | {run} if not rw.counts else set()
        # A pass that rewrote nothing left the graph as it was: skip recounting (a walk over every node).
        after = counts(rw) if rw.counts else before
        records.append({"pass": name, "changed": sum(rw.counts.values()), "rewrites": dict(rw.counts),
                        "forward": (before["forward"], after["forward"]),
                        "adjoint": (before["adjoint"], after["adjoint"])})
        before = after
        if after_each is not None:
            after_each(graph)
    rw.finish()
    return rw.roots, records


__all__ = ["PIPELINE", "RULES", "Rewriter", "optimize", "dce", "cse", "fold", "simplify", "counts"]
