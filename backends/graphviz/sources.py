"""What to draw for each kind of object: a Graph, a Tensor (its ancestry), a compiled
function or a compiled step (whose last run supplies values and per-edge gradients).
Everything here only gathers arguments for :func:`draw.draw`."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from ...compiler.pipeline import compile as rg_compile
from ...compiler.runtime import CompiledFunction, CompiledStep
from ...ir.errors import GraphError
from ...ir.tensor import Tensor
from ...ir.graph import Graph


IDENTITIES = ("x*1", "x+0", "x-0", "x/1", "x**1", "-(-x)", "reshape to its own shape", "sum_to_like to its own shape")


def scene_args(obj: Any, values: bool, simplified: bool = True) -> dict:
    """Keyword arguments for ``draw`` describing ``obj`` (graph, nodes, outputs, values...).
    ``simplified=False`` on a step draws its adjoint graph as the adjoint pass emitted it.

    Other engines join in with a method ``_rg_scene(values) -> dict`` of such arguments
    (the dynamic engine's Variables describe their recorded graph so)."""
    if hasattr(type(obj), "_rg_scene"):
        return obj._rg_scene(values)
    if isinstance(obj, CompiledStep):
        if not simplified:
            return _unsimplified(obj, values)
        args = _step(obj, values)
        args["adjoint_notes"] = simplification_notes(obj.stats)
        return args
    if isinstance(obj, CompiledFunction):
        p = obj.plan.programs["call"]
        args = {"graph": obj.graph, "nodes": p.params + p.body + obj.plan.constants_of("call"), "outputs": p.results}
        if values:
            args.update(function_values(obj))
        return args
    if isinstance(obj, Tensor):
        _no_values(obj.graph, values)
        return {"graph": obj.graph, "nodes": nx.ancestors(obj.graph.nx, obj.id) | {obj.id}, "outputs": [obj.id]}
    if isinstance(obj, Graph):
        _no_values(obj, values)
        return {"graph": obj, "outputs": _output_ids(obj.outputs)}
    raise GraphError(f"cannot draw a {type(obj).__name__}; draw a Graph, a Tensor, or what rg.compile returned")


def simplification_notes(stats: dict) -> list[str]:
    """What the passes changed, for the adjoint picture's title: ``simplified: 2 identity nodes removed (x*1 ×2)``."""
    if not stats.get("optimize"):
        return []
    totals: dict[str, int] = {}
    for record in stats.get("passes", []):
        for what, k in record.get("rewrites", {}).items():
            totals[what] = totals.get(what, 0) + k
    if not totals:
        return ["simplified: nothing to remove (simplified=False draws the same graph)"]
    identities = {w: k for w, k in totals.items() if w in IDENTITIES}
    parts = []
    if identities:
        n = sum(identities.values())
        kinds = ", ".join(f"{w} ×{k}" for w, k in sorted(identities.items()))
        parts.append(f"{n} identity node{'s' if n != 1 else ''} removed ({kinds})")
    said = {"dead node": "dead node{s} removed", "folded constant": "constant{s} folded",
            "common subexpression": "common subexpression{s} merged"}
    parts += [f"{k} " + said.get(w, w + " ×{s}").format(s="s" if k != 1 else "") if w in said else f"{w} ×{k}"
              for w, k in sorted(totals.items()) if w not in IDENTITIES]
    return ["simplified: " + "; ".join(parts), "simplified=False draws the adjoint graph before simplification"]


def _unsimplified(step: CompiledStep, values: bool) -> dict:
    """The step's adjoint as the adjoint pass emitted it: the step compiled with optimize=False,
    run on the same feeds (and dout) when values are drawn."""
    raw = step.unoptimized()
    if values and raw is not step:
        if step.last_feeds is None:
            _step(step, values)  # raises: the step has not run
        raw.forward(**step.last_feeds)
        if step.last_dout is not None:
            raw.backward(step.last_dout)
    args = _step(raw, values)
    args["adjoint_notes"] = ["before simplification: the adjoint graph as the adjoint pass emitted it"]
    return args


def _no_values(graph: Graph, values: bool) -> None:
    if values:
        raise GraphError(f"values=True draws the values of a run, and graph {graph.name!r} has not run: compile it "
                         "with rg.compile(loss, wrt=[...]), call step.forward(**feeds) and step.backward(), "
                         "then draw the step")


def _output_ids(outputs: Any) -> list[int]:
    if isinstance(outputs, Tensor):
        return [outputs.id]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return [o.id for o in outputs if isinstance(o, Tensor)]
    return []


def _step(step: CompiledStep, values: bool) -> dict:
    plan = step.plan
    f, b = plan.programs["forward"], plan.programs["backward"]
    nodes = set(f.params + f.body + plan.constants_of("forward") + b.params + b.body + plan.constants_of("backward"))
    args: dict = {"graph": step.graph, "nodes": nodes, "outputs": [plan.options["output"]]}
    if values:
        args.update(step_values(step))
    return args


def step_values(step: CompiledStep) -> dict:
    """The values of the step's last run: every node's value, and the gradient carried back
    along each forward edge (from the adjoint pass's book), recomputed from
    ``step.last_feeds`` and ``step.last_dout`` by compiling the nodes as outputs."""
    if step.last_feeds is None:
        raise GraphError(f"values=True draws the values of the last run, and the step of {step.graph.name!r} has "
                         "not run: call step.forward(**feeds) (and step.backward()) first")
    plan, graph = step.plan, step.graph
    G = graph.nx
    f, b = plan.programs["forward"], plan.programs["backward"]
    dout = plan.options["dout"]
    ran_back = step.last_dout is not None
    ids = f.params + f.body + ([dout] + b.body if ran_back else [])
    feeds = dict(step.last_feeds)
    if ran_back:
        feeds[G.nodes[dout]["name"]] = step.last_dout
    constants = plan.constants_of("forward") + (plan.constants_of("backward") if ran_back else [])
    values = _compute(graph, ids, constants, feeds)
    out: dict = {"values": values}
    if ran_back:
        out.update(_gradients(graph, G.nodes[dout]["adjoint"], values, [plan.options["output"]]))
    return out


def function_values(f: CompiledFunction) -> dict:
    """The values of a compiled function's last call; when it computes gradients (``rg.grad``
    tensors among its outputs), also the gradient carried back along each forward edge."""
    if f.last_feeds is None:
        raise GraphError(f"values=True draws the values of the last call, and the function of {f.graph.name!r} has "
                         "not been called: call it with its feeds first")
    p, G = f.plan.programs["call"], f.graph.nx
    values = _compute(f.graph, p.params + p.body, f.plan.constants_of("call"), f.last_feeds)
    orders = sorted({G.nodes[n]["adjoint"] for n in values} - {0})
    out: dict = {"values": values}
    if orders:  # the first derivative's book, for the forward edges
        out.update(_gradients(f.graph, orders[0], values, [o for o in p.results if G.nodes[o]["adjoint"] == 0]))
    return out


def _compute(graph: Graph, ids: list[int], constants: list[int], feeds: dict) -> dict[int, Any]:
    """Every node's value, by compiling the nodes as outputs of the graph."""
    values: dict[int, Any] = dict(zip(ids, rg_compile([Tensor(graph, n) for n in ids])(**feeds))) if ids else {}
    for n in constants:
        values[n] = np.asarray(graph.nx.nodes[n]["value"])
    return values


def _gradients(graph: Graph, order: int, values: dict, outputs: list[int]) -> dict:
    """From the adjoint pass's book of ``order``: the gradient along each edge, and at each output (its seed)."""
    book = graph.nx.graph.get("adjoint", {}).get(order, {})
    edges, totals = book.get("edges", {}), book.get("totals", {})
    def value(t: Any) -> Any:  # a constant the simplifier took out of the program (a seed of ones) keeps its value
        if t in values or t not in graph.nx or graph.nx.nodes[t]["op"] != "constant":
            return values.get(t)
        return np.asarray(graph.nx.nodes[t]["value"])

    edge_grads = {e: value(t) for e, t in edges.items()}
    output_grads = {o: value(totals[o]) for o in outputs if o in totals}
    return {"edge_grads": {e: v for e, v in edge_grads.items() if v is not None},
            "output_grads": {o: v for o, v in output_grads.items() if v is not None}}


def resolve_highlight(graph: Graph, highlight: Any) -> dict[int, str]:
    """Node ids and notes from ``highlight``: a Tensor (matched by node id, so a tensor of
    the graph a step was compiled from works), a node name, an int node id, an error
    carrying ``.node``, or a list of these."""
    if highlight is None:
        return {}
    items = list(highlight) if isinstance(highlight, (list, tuple, set, frozenset)) else [highlight]
    found: dict[int, str] = {}
    for item in items:
        note = "highlighted"
        if isinstance(item, BaseException):
            note = type(item).__name__
            if getattr(item, "node", None) is None:
                raise GraphError(f"highlight: the {note} carries no node to highlight ({item})")
            item = item.node
        found[_node_id(graph, item)] = note
    return found


def _node_id(graph: Graph, item: Any) -> int:
    G = graph.nx
    if isinstance(item, Tensor):
        if item.graph is graph or (item.id in G and G.nodes[item.id]["name"] == item.name):
            return item.id
        raise GraphError(f"highlight: tensor {item.name!r} of graph {item.graph.name!r} is not in graph "
                         f"{graph.name!r}; pass a tensor of the graph being drawn, or its name")
    if isinstance(item, str):
        for n, name in G.nodes(data="name"):
            if name == item:
                return n
        raise GraphError(f"highlight: graph {graph.name!r} has no node named {item!r}")
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool) and int(item) in G:
        return int(item)
    raise GraphError(f"highlight: {item!r} is not a node of graph {graph.name!r}; pass a Tensor, a node name, "
                     "a node id, or a list of them")
