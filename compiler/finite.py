"""``rg.compile(..., check_finite=True)``: the error raised when a value first stops being finite.

Backends emit a check after every op (and on every parameter) only when the plan
asks for it (``plan.options["check_finite"]``); without it the generated code has
no checks at all. In the spirit of JAX's ``debug_nans``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..ir.graph import Graph
from ..ir.shapes import fmt
from ..ir.tensor import Tensor


def describe_nonfinite(value: Any) -> str:
    """``nan`` / ``-inf`` / ``nan, inf`` and how many of the values."""
    v = np.asarray(value)
    kinds = [k for k, n in (("nan", np.isnan(v).sum()), ("inf", np.isposinf(v).sum()), ("-inf", np.isneginf(v).sum()))
             if n]
    bad = int((~np.isfinite(v)).sum())
    return f"{', '.join(kinds)} ({bad} of {v.size} value(s))"


def nonfinite_error(graph: Graph, nid: int, value: Any, operand_values: Optional[dict] = None) -> FloatingPointError:
    """A FloatingPointError naming the op, the node and its operands; ``err.node`` is the node as a Tensor."""
    d = graph.nx.nodes[nid]
    where = "backward (adjoint)" if d.get("adjoint") else "forward"
    if d["op"] == "input":
        msg = (f"check_finite: input {d['name']!r} (shape {fmt(d['shape'])} {d['dtype']}) holds "
               f"{describe_nonfinite(value)} on entering the {where} program; check the values fed")
    else:
        parts = []
        for o in graph.operands(nid):
            od = graph.nx.nodes[o]
            got = (operand_values or {}).get(o)
            state = "" if got is None else (" (finite)" if np.all(np.isfinite(got)) else f" (already {describe_nonfinite(got)})")
            parts.append(f"{od['name']!r}{state}")
        msg = (f"check_finite: op {d['op']!r} at node {d['name']!r} (shape {fmt(d['shape'])} {d['dtype']}, {where} "
               f"pass) produced {describe_nonfinite(value)}, the first non-finite result; its operands: "
               f"{', '.join(parts) or 'none'}")
    err = FloatingPointError(msg)
    err.node = Tensor(graph, nid)  # type: ignore[attr-defined]  (draw the graph with it highlighted)
    return err
