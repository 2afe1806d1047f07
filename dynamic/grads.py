"""Functional gradients over a recorded graph: ``vjp(y, xs, seed)`` returns the gradients of ``y``
(seeded with ``seed``) with respect to ``xs`` without touching any ``.grad`` -- what ``rg.jacobian``,
``rg.hessian`` and ``rg.hvp`` need on Variables (one walk per Jacobian row; a parameter's
accumulated ``.grad`` must not change behind the user's back).

The walk is ``backward``'s (decreasing generation from a heap, the registry's VJP rules, the central
un-broadcast), with the gradients kept in a dict keyed by Variable identity instead of on ``.grad``.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Sequence

import numpy as np

from ..ir.errors import GraphError
from .backward import _fit, _rules
from .mode import MODE
from .variable import Variable


def vjp(y: Variable, xs: Sequence[Variable], seed: Any, create_graph: bool = False) -> list:
    """The gradients of ``y`` with respect to ``xs`` for output gradient ``seed`` (zeros where ``y``
    does not depend on an ``x``); ``create_graph`` records the walk so the results differentiate again.

    >>> x = dy.Variable(np.array([1.0, 2.0])); y = x * x
    >>> vjp(y, [x], np.array([1.0, 0.0]))
    [Variable([2., 0.])]
    """
    if y.data.dtype.kind not in "fc":
        raise GraphError(f"vjp: output {y.name or 'Variable'} has dtype {y.data.dtype}; only a float output "
                         "can be differentiated")
    seed = seed if isinstance(seed, Variable) else Variable(np.asarray(seed, dtype=y.data.dtype))
    if seed.data.shape != y.data.shape:
        raise GraphError(f"vjp: seed of shape {seed.data.shape} for output of shape {y.data.shape}; the seed must "
                         "have the output's shape")
    saved = MODE.recording
    MODE.recording = create_graph
    try:
        held = _walk(y, seed, {id(x) for x in xs})
    finally:
        MODE.recording = saved
    grads = [held.get(id(x), (None, None))[1] for x in xs]
    return [Variable(np.zeros_like(x.data)) if gx is None else gx for x, gx in zip(xs, grads)]


def _walk(y: Variable, seed: Variable, wanted: set) -> dict:
    """{id(v): (v, gradient)} for ``y`` and everything it depends on that ``wanted`` may need."""
    held: dict[int, tuple] = {id(y): (y, seed)}
    if y.creator is None:
        return held
    heap = [(-y.creator.generation, 0, y.creator)]
    queued = {y.creator}
    pushed = 0
    while heap:
        node = heappop(heap)[2]
        out = node.output
        if out is None or id(out) not in held:
            continue
        g = held[id(out)][1] if id(out) in wanted else held.pop(id(out))[1]  # intermediates are freed as we go
        for x, rule in zip(node.inputs, _rules(node.opdef, len(node.inputs))):
            if rule is None or not isinstance(x, Variable) or x.data.dtype.kind not in "fc":
                continue
            gx = rule(g, out, *node.inputs, **node.attrs)
            if gx is None:
                continue
            gx = _fit(gx, x)
            prev = held.get(id(x))
            held[id(x)] = (x, gx if prev is None else prev[1] + gx)
            if x.creator is not None and x.creator not in queued:
                queued.add(x.creator)
                pushed += 1
                heappush(heap, (-x.creator.generation, pushed, x.creator))
    return held
