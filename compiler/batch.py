"""Is a graph batch-separable? The kind (ir/batch.py) of an output when some inputs are batched along axis 0:
a sum or a mean over the batch means the graph may run chunk by chunk of rows, each chunk's result weighted
(1 for a sum, its share of the rows for a mean) and added up -- and so may its gradients with respect to
inputs that are not batched, which are linear in the output. Read from the ops' declared facts
(``OpDef.batch_kind``); no op is named here."""

from __future__ import annotations

from typing import Optional

from ..ir import registry
from ..ir.batch import ROWS
from ..ir.graph import Graph
from ..ir.registry import Aval
from .schedule import ancestors, topological


def output_kind(graph: Graph, output: int, batched: set[int]) -> Optional[str]:
    """The kind of node ``output`` when the inputs ``batched`` are split along axis 0 (each declared with
    axis 0 of size None, so no size of the batch is built into the graph): ``ROWS``, ``SUM``, ``MEAN``,
    or None when it does not depend on them -- or when the graph is not separable (an op with no rule for
    its operands, a random op, a batched input of a declared size).

    >>> output_kind(g, loss.id, {x.id, t.id})        # softmax_cross_entropy(relu(x @ W + b) @ V, t)
    'mean'
    """
    G = graph.nx
    kinds: dict[int, Optional[str]] = {}
    for n in topological(graph, ancestors(graph, [output])):
        d = G._node[n]
        if d["op"] in ("input", "constant"):
            if n in batched and (not d["shape"] or d["shape"][0] is not None):
                return None
            kinds[n] = ROWS if n in batched else None
            continue
        operands = graph.operands(n)
        opdef = registry.lookup(d["op"])
        if opdef is None or opdef.random:  # a random op draws anew for every chunk
            return None
        ks = [kinds[o] for o in operands]
        if all(k is None for k in ks):
            kinds[n] = None
            continue
        avals = [Aval(G._node[o]["shape"], G._node[o]["dtype"]) for o in operands]
        kinds[n] = opdef.batch_kind(ks, avals, d["attrs"])
        if kinds[n] is None:
            return None
    return kinds[output]
