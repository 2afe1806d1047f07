"""``rg.gradcheck``: check revgraph's gradients against central differences, in float64.

A non-scalar output is checked through a random projection: the gradient of
``sum(output * u)`` for a random ``u`` (a vector-Jacobian product) against the
central differences of that same scalar, element by element of each ``wrt``
input. When the check fails, gradcheck *localises* the fault: it evaluates
every forward node, then checks each op's own VJP rules on the values that op
actually saw (in forward order) and names the first op whose local gradient
disagrees -- ``err.node`` is that node, a Tensor of the checked graph, so
``rg.render(..., highlight=err.node)`` can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ..ir.apply import apply
from ..ir.errors import GradcheckError, GraphError
from ..ir.graph import Graph
from ..ir.ops.internal import unbroadcast
from ..ir.registry import get
from ..ir.shapes import fmt
from ..ir.tensor import Tensor
from ..ir.trace import trace
from .pipeline import compile as compile_graph
from .pipeline import flatten
from .schedule import ancestors, descendants, topological

F64 = np.dtype("float64")


def is_float(dtype: Any) -> bool:
    """A real float: this checker recomputes in float64 (complex graphs are checked by their own tests)."""
    return np.dtype(dtype).kind == "f"


@dataclass
class InputCheck:
    """The comparison for one ``wrt`` input: errors, and the worst element with both values there."""

    name: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple
    analytic: float  # revgraph's gradient at worst_index
    numeric: float  # the central difference at worst_index
    ok: bool


@dataclass
class GradcheckReport:
    """What ``rg.gradcheck`` found, per ``wrt`` input (``report["W"]``); ``str(report)`` is a table."""

    inputs: dict[str, InputCheck]
    eps: float
    rtol: float
    atol: float
    projected: bool  # a non-scalar output was checked through a random projection

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.inputs.values())

    def __getitem__(self, name: str) -> InputCheck:
        return self.inputs[name]

    def __str__(self) -> str:
        how = "random projection of the outputs" if self.projected else "scalar output"
        lines = [f"gradcheck ({how}; eps={self.eps:g}, rtol={self.rtol:g}, atol={self.atol:g}): "
                 f"{'ok' if self.ok else 'FAILED'}",
                 f"  {'input':<16} {'shape':<12} {'max abs err':>12} {'max rel err':>12}  worst at  (analytic vs numeric)"]
        for c in self.inputs.values():
            flag = "" if c.ok else "  <-- fails"
            lines.append(f"  {c.name[:16]:<16} {fmt(c.shape):<12} {c.max_abs_error:12.3e} {c.max_rel_error:12.3e}  "
                         f"{c.worst_index}  ({c.analytic:.6g} vs {c.numeric:.6g}){flag}")
        return "\n".join(lines)


def gradcheck(outputs: Any, wrt: Any = None, feeds: Optional[dict] = None, *, eps: float = 1e-6,
              rtol: float = 1e-5, atol: float = 1e-8, seed: int = 0) -> GradcheckReport:
    """Compare the gradients of ``outputs`` w.r.t. the inputs ``wrt`` with central differences (float64).

    ``outputs``: a Tensor, a list/tuple/dict of Tensors, or a Python function of
    tensors (traced like ``rg.trace`` with ``feeds`` as examples). ``wrt``: input
    Tensors or input names (None: every float input). Float32 graphs are checked
    in a float64 replica. ``seed`` seeds the random projections. Each input element
    costs two runs of the forward program. Returns a GradcheckReport; raises
    rg.GradcheckError naming the input, the worst element and the first op whose
    VJP disagrees (``err.node``, ``err.report``).

    >>> g = rg.Graph(); x = g.input("x", shape=(3,))
    >>> rg.gradcheck(rg.sin(x) * x, x, {"x": np.array([0.1, 0.2, 0.3])}).ok
    True
    """
    graph, outs, wrts = _resolve(outputs, wrt, feeds)
    feeds = dict(feeds or {})
    # The float64 replica (the user's own graph when it is float64 already) and the id maps both ways.
    g64, to64 = _float64_replica(graph, [t.id for t in outs + wrts])
    from64 = {v: k for k, v in to64.items()}
    feeds64 = {k: _as_feed(g64, k, v) for k, v in feeds.items()}
    work = g64.copy()  # the projection nodes go into a copy: the user's graph is left as built
    rng = np.random.default_rng(seed)
    loss, projected = _projected_loss(work, [to64[t.id] for t in outs], feeds64, rng)
    w64 = [Tensor(work, to64[w.id]) for w in wrts]

    _, analytic = compile_graph(loss, wrt=w64).value_and_grad(**feeds64)
    value_of = compile_graph(loss)
    report = GradcheckReport({}, eps, rtol, atol, projected)
    for w, a in zip(w64, analytic):
        numeric = central_differences(lambda fd: value_of(**fd), feeds64, w.name, eps)
        report.inputs[w.name] = _compare(w.name, np.asarray(a, F64), numeric, rtol, atol)
    if report.ok:
        return report
    bad = next(c for c in report.inputs.values() if not c.ok)
    message = (f"gradcheck: the gradient w.r.t. input {bad.name!r} disagrees with central differences at index "
               f"{bad.worst_index}: revgraph {bad.analytic:.8g}, numeric {bad.numeric:.8g} "
               f"(abs error {bad.max_abs_error:.3g}, rel error {bad.max_rel_error:.3g}; rtol={rtol:g}, atol={atol:g}).")
    culprit = localise(work, loss, w64, feeds64, eps, rtol, atol, rng, only=set(from64))
    node = None
    if culprit is None:
        message += (" No single op's VJP rule disagrees on the values it saw: suspect the adjoint pass itself "
                    "(accumulation, un-broadcasting), or a point where the function is not smooth.")
    else:
        nid, detail = culprit
        node = Tensor(graph, from64[nid])
        message += f" First op whose local gradient disagrees: {graph.describe(node.id)}: {detail}."
    raise GradcheckError(message + "\n" + str(report), node=node, report=report)


# -- what is checked ---------------------------------------------------------------------------------
def _resolve(outputs: Any, wrt: Any, feeds: Optional[dict]) -> tuple[Graph, list[Tensor], list[Tensor]]:
    """The graph, its float outputs and the wrt inputs, from whatever the user passed."""
    if feeds is not None and not isinstance(feeds, dict):
        raise GraphError(f"gradcheck: feeds must be a dict of input name -> value, got {type(feeds).__name__}")
    if callable(outputs) and not isinstance(outputs, Tensor):
        outputs = trace(outputs, **(feeds or {})).outputs
    flat, _ = flatten(outputs)
    graph = flat[0].graph
    if any(t.graph is not graph for t in flat):
        raise GraphError("gradcheck: the outputs come from different graphs; check one graph at a time")
    outs = [t for t in flat if is_float(t.dtype)]
    if not outs:
        raise GraphError("gradcheck: no output is a float tensor, so there is no gradient to check "
                         f"(outputs: {', '.join(graph.describe(t.id) for t in flat)})")
    needed = ancestors(graph, [t.id for t in outs])
    if wrt is None:
        wrts = [t for t in graph.inputs if t.id in needed and is_float(t.dtype)]
    else:
        wrts = [graph.tensor(w) for w in ([wrt] if isinstance(wrt, (str, Tensor)) else list(wrt))]
    for w in wrts:
        if w.graph is not graph:
            raise GraphError(f"gradcheck: wrt tensor {w.name!r} belongs to graph {w.graph.name!r}, not {graph.name!r}")
        if w.op != "input":
            raise GraphError(f"gradcheck perturbs fed inputs, but {graph.describe(w.id)} is not an input; "
                             "check the gradient w.r.t. the inputs it is computed from")
        if not is_float(w.dtype):
            raise GraphError(f"gradcheck: cannot differentiate with respect to {graph.describe(w.id)}: only float "
                             "inputs have gradients", node=w.id)
    if not wrts:
        raise GraphError("gradcheck: no float input to check; pass wrt= (inputs or their names)")
    return graph, outs, wrts


def _float64_replica(graph: Graph, roots: list[int]) -> tuple[Graph, dict[int, int]]:
    """``graph`` itself when every float node is float64; else a replay of it with float inputs and
    float constants in float64 (same names), so differences are taken in float64. Returns the id map."""
    nodes = ancestors(graph, roots)
    G = graph.nx
    if all(G.nodes[n]["dtype"] == F64 for n in nodes if is_float(G.nodes[n]["dtype"])):
        return graph, {n: n for n in nodes}
    new = Graph(graph.name)
    made: dict[int, Tensor] = {}
    for n in topological(graph, nodes):
        d = G.nodes[n]
        if d["op"] == "input":
            made[n] = new.input(d["name"], d["shape"], F64 if is_float(d["dtype"]) else d["dtype"])
        elif d["op"] == "constant":
            value = d["value"]
            if not d.get("weak") and is_float(d["dtype"]):
                value = np.asarray(value, F64)
            made[n] = new.constant(value, name=d["name"])
        else:
            operands = tuple(made[o] for o in graph.operands(n))
            made[n] = apply(d["op"], *operands, **d["attrs"], name=d["name"])
    return new, {n: t.id for n, t in made.items()}


def _as_feed(graph: Graph, name: str, value: Any) -> Any:
    """Float inputs are fed as float64 copies (the replica's dtype); other feeds pass through."""
    if name in graph and graph.tensor(name).op == "input" and is_float(graph.tensor(name).dtype):
        return np.array(value, dtype=F64)
    return value


def _projected_loss(work: Graph, out_ids: list[int], feeds: dict, rng: np.random.Generator) -> tuple[Tensor, bool]:
    """One scalar: the output itself when it is a single scalar, else sum_k sum(out_k * u_k), u_k random."""
    outs = [Tensor(work, n) for n in out_ids]
    if len(outs) == 1 and outs[0].shape == ():
        return outs[0], False
    values = compile_graph(outs)(**feeds)  # run-time shapes (sizes declared None)
    terms = [apply("sum", o * work.constant(rng.standard_normal(np.shape(v)), name=work.fresh_name("projection")))
             for o, v in zip(outs, values)]
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    return loss, True


# -- numbers -----------------------------------------------------------------------------------------
def central_differences(f: Callable[[dict], Any], feeds: dict, name: str, eps: float) -> np.ndarray:
    """d f(feeds) / d feeds[name], element by element: (f(x + eps) - f(x - eps)) / 2 eps, in float64."""
    x = np.array(feeds[name], dtype=F64)
    shifted = dict(feeds)
    shifted[name] = x
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + eps
        plus = float(f(shifted))
        x[idx] = orig - eps
        minus = float(f(shifted))
        x[idx] = orig
        out[idx] = (plus - minus) / (2 * eps)
    return out


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray, rtol: float, atol: float) -> InputCheck:
    """np.allclose-style: element i passes when |a - n| <= atol + rtol |n|; the worst is the largest excess."""
    if analytic.shape != numeric.shape:
        analytic = np.broadcast_to(analytic, numeric.shape)
    if numeric.size == 0:
        return InputCheck(name, numeric.shape, 0.0, 0.0, (), 0.0, 0.0, True)
    abs_err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel_err = np.divide(abs_err, scale, out=np.zeros_like(abs_err), where=scale > 0)
    excess = abs_err - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(excess), np.inf, excess)  # a NaN is the worst element there is
    worst = np.unravel_index(int(np.argmax(excess)), numeric.shape)
    worst = tuple(int(i) for i in worst)
    return InputCheck(name, numeric.shape, float(np.max(abs_err)), float(np.max(rel_err)), worst,
                      float(analytic[worst]), float(numeric[worst]), bool(np.all(excess <= 0)))


# -- localising a fault ------------------------------------------------------------------------------
def localise(graph: Graph, loss: Tensor, wrt: Sequence[Tensor], feeds: dict, eps: float, rtol: float,
             atol: float, rng: np.random.Generator, only: Optional[set] = None) -> Optional[tuple[int, str]]:
    """The first op (forward order) whose VJP rule, applied to the values it saw, disagrees with central
    differences of the op alone: ``(node id, detail)``, or None. ``only`` limits the ops considered."""
    G = graph.nx
    needed = ancestors(graph, [loss.id])
    relevant = {n for n in needed & descendants(graph, [w.id for w in wrt]) if is_float(G.nodes[n]["dtype"])}
    order = [n for n in topological(graph, needed) if G.nodes[n]["op"] not in ("input", "constant")]
    values = dict(zip(order, compile_graph([Tensor(graph, n) for n in order])(**feeds))) if order else {}
    for n in needed:
        d = G.nodes[n]
        if d["op"] == "input":
            values[n] = feeds[d["name"]]
        elif d["op"] == "constant":
            values[n] = d["value"]
    for n in order:
        if n not in relevant or (only is not None and n not in only):
            continue
        detail = _check_op(graph, n, values, relevant, eps, rtol, atol, rng)
        if detail:
            return n, detail
    return None


def _check_op(graph: Graph, n: int, values: dict, relevant: set, eps: float, rtol: float, atol: float,
              rng: np.random.Generator) -> Optional[str]:
    """Check each VJP rule of node ``n`` (for operands on a path from wrt) on the values it saw."""
    d = graph.nx.nodes[n]
    opdef, attrs = get(d["op"]), d["attrs"]
    operands = graph.operands(n)
    xs = [np.asarray(values[o]) for o in operands]
    out = np.asarray(values[n])
    g = rng.standard_normal(out.shape)

    def projected_op(operand_values: dict) -> float:  # <g, op(operands)>: the op alone, seen through g
        return float(np.sum(g * apply(d["op"], *[operand_values[j] for j in range(len(xs))], **attrs)))

    for i, o in enumerate(operands):
        rule = opdef.vjp_rule(i)
        if o not in relevant or rule is None:
            continue
        local = rule(g, out, *xs, **attrs)  # eager: the rule's op functions compute on NumPy arrays
        analytic = np.zeros(xs[i].shape) if local is None else np.asarray(unbroadcast(np.asarray(local), xs[i]), F64)
        numeric = central_differences(projected_op, dict(enumerate(xs)), i, eps)
        check = _compare(graph.nx.nodes[o]["name"], analytic, numeric, rtol, atol)
        if not check.ok:
            return (f"its VJP rule for operand {i} ({graph.describe(o)}) gives {check.analytic:.8g} at index "
                    f"{check.worst_index}, central differences of the op give {check.numeric:.8g}")
    return None
