"""``rg.compile``: schedule the graph, differentiate when asked, split the
forward and backward programs, and hand the plan to a backend by name.
Backends register themselves; the compiler never imports one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from ..ir.dtypes import is_float
from ..ir.errors import GraphError
from ..ir.gcpause import cyclic_gc_paused
from ..ir.tensor import Tensor
from .autodiff import grad
from .memory import WritesInto, choose_residuals, never, place_late, plan_program
from .passes import optimize as run_passes
from .passes.rewrite import Rewriter
from .plan import Lowered, Plan, Program
from .runtime import CompiledFunction, CompiledStep, _Compiled
from .schedule import ancestors, topological


@dataclass(frozen=True)
class Backend:
    """A registered backend: how it lowers a plan, which ops it can write into a given buffer (for the
    memory plan), the runtime classes wrapping what it returns, and the keyword options ``rg.compile``
    accepts for it (handed over in ``plan.options["backend_options"]``)."""

    lower: Callable[[Plan], Lowered]
    writes_into: WritesInto = never
    function_class: type = CompiledFunction
    step_class: type = CompiledStep
    options: frozenset = frozenset()


_BACKENDS: dict[str, Backend] = {}

# value_and_grad() fuses forward and backward into one program (compiled on first use) only for
# graphs up to this size: there the per-call overhead it saves matters; on big graphs the time is
# in the arrays, and a second compile would cost more than it could ever save.
FUSE_MAX_NODES = 5000


def register_backend(name: str, lower: Callable[[Plan], Lowered], writes_into: WritesInto = never, *,
                     function_class: type = CompiledFunction, step_class: type = CompiledStep,
                     options: Sequence[str] = ()) -> None:
    """Make ``rg.compile(..., backend=name)`` lower plans with ``lower``. ``writes_into(op)`` says
    whether the backend can write ``op``'s result into a given buffer (``out=``); the memory plan
    then lets it overwrite a dying operand (elementwise ops) or a dead buffer (any fresh result).
    The default, never, keeps every result in its own new array. ``function_class`` / ``step_class``
    (subclasses of the runtime's) wrap what ``lower`` returns; ``options`` are the extra keywords
    ``rg.compile`` accepts for this backend.

    >>> register_backend("numpy", lower, writes_into=kernels.writes_into)
    """
    _BACKENDS[name] = Backend(lower, writes_into, function_class, step_class, frozenset(options))


def _backend(name: str, options: dict) -> Backend:
    if name not in _BACKENDS:
        raise GraphError(f"unknown backend {name!r}; registered backends: {', '.join(sorted(_BACKENDS))}")
    b = _BACKENDS[name]
    unknown = sorted(set(options) - b.options)
    if unknown:
        known = ", ".join(sorted(b.options)) or "none"
        raise GraphError(f"rg.compile got unknown keyword {unknown[0]!r} for backend {name!r} "
                         f"(options of that backend: {known})")
    return b


def compile(outputs: Any, wrt: Union[None, Tensor, Sequence[Tensor]] = None, *, backend: str = "numpy",
            optimize: bool = True, check_finite: bool = False, **backend_options: Any) -> Any:
    """Compile ``outputs`` (a Tensor, list/tuple or dict of Tensors) into a callable.

    Without ``wrt``: ``f(**feeds)`` returns the outputs in the structure given.
    With ``wrt``: a step with ``forward(**feeds)`` and ``backward(dout=1.0)``
    returning the gradients in ``wrt`` order. ``optimize=True`` runs the simplification
    passes (compiler/passes) on the compile's own copy of the graph; ``step.stats`` says what
    each changed. ``optimize=False`` keeps the raw graph.

    >>> step = rg.compile(price, wrt=[apple, tax])
    >>> step.forward(apple=100, apple_num=2, tax=1.1)
    >>> step.backward()

    ``check_finite=True`` checks every op's result (forward and backward): the first NaN or
    Inf raises FloatingPointError naming the op, the node and its operands (``err.node``).
    Off by default, and then the generated code holds no checks.

    Other keywords are the backend's own options (``backend="dask", lazy=True``).
    """
    _backend(backend, backend_options)  # an unknown backend or option fails before any work
    options = {"optimize": optimize, **({"check_finite": True} if check_finite else {}),
               **({"backend_options": backend_options} if backend_options else {})}
    flat, rebuild = flatten(outputs)
    graph = _common_graph(flat)
    with cyclic_gc_paused():
        if wrt is None:
            return _compile_function(graph, flat, rebuild, backend, options)
        if len(flat) != 1:
            raise GraphError(f"rg.compile with wrt= needs one output to differentiate (got {len(flat)}); "
                             "sum them into one loss, or compile rg.grad(...) tensors without wrt")
        wrt_list = [wrt] if isinstance(wrt, Tensor) else list(wrt)
        return _compile_step(graph, flat[0], wrt_list, isinstance(wrt, Tensor), backend, options)


def _optimize(work: Any, roots: list[int], protected: list[int], optimize: bool,
              keep_layers: bool = True) -> tuple[list[int], dict]:
    """Run the passes on ``work`` (the compile's own copy) when asked; the stats record either way."""
    if not optimize:
        return roots, {"optimize": False, "passes": []}
    roots, records = run_passes(work, roots, protected, keep_layers=keep_layers)
    return roots, {"optimize": True, "passes": records}


def _compile_function(graph: Any, flat: list[Tensor], rebuild: Callable, backend: str,
                      options: dict, own: bool = False, keep_layers: bool = True,
                      finish: Optional[Callable[[Plan], None]] = None) -> CompiledFunction:
    ids = [t.id for t in flat]
    optimize = options["optimize"]
    if optimize and not own:  # the passes edit the graph: work on a copy, never on the user's
        graph = graph.copy()
    ids, stats = _optimize(graph, ids, [], optimize, keep_layers)
    order = topological(graph, ancestors(graph, ids))
    params = [n for n in order if graph.nx.nodes[n]["op"] == "input"]
    body = [n for n in order if graph.nx.nodes[n]["op"] not in ("input", "constant")]
    plan = Plan(graph, {"call": Program("call", params, body, ids)}, options={**options, "stats": stats})
    b = _backend(backend, options.get("backend_options", {}))
    _plan_memory(plan, b)
    if finish is not None:  # the last word before lowering (rg.optim's fused step adds its update lines)
        finish(plan)
    return b.function_class(plan, b.lower(plan), rebuild)


def _plan_memory(plan: Plan, backend: Backend, handed: frozenset = frozenset()) -> None:
    """Liveness and frees always; writing into dying operands' buffers only when optimising, and
    not under check_finite (its error names the operands' values, which must still be there).
    A program fed another's results (a step's backward: the residuals, handed over in the list it
    empties) owns those that program made for it alone (``handed``: also those of a forward planned
    before), so it may write into them as into its own arrays."""
    inplace = plan.options["optimize"] and not plan.options.get("check_finite")
    writes_into = backend.writes_into
    for name, program in plan.programs.items():
        owned = handed.intersection(program.params[program.fed:]) if program.fed >= 0 else frozenset()
        plan.memory[name] = memory = plan_program(plan.graph, program, inplace=inplace, writes_into=writes_into,
                                                  owned_params=owned)
        handed = handed | memory.exclusive


def _compile_step(graph: Any, y: Tensor, wrt: list[Tensor], single: bool, backend: str,
                  options: dict) -> CompiledStep:
    optimize = options["optimize"]
    for w in wrt:
        if not isinstance(w, Tensor) or w.graph is not graph:
            raise GraphError(f"wrt must hold tensors of graph {graph.name!r}; got {w!r}")
    if not is_float(y.dtype):
        raise GraphError(f"cannot differentiate output {y.name!r} of dtype {y.dtype}: it is not a float tensor", node=y.id)
    # Differentiate in a copy, so the user's graph is left as they built it and
    # compiling twice gives the same program.
    work = graph.copy()
    y2, wrt2 = Tensor(work, y.id), [Tensor(work, w.id) for w in wrt]
    with work.tagging(adjoint=1 + work.nx.nodes[y.id]["adjoint"], role="seed"):
        dout = work.input(work.fresh_name("dout"), shape=y.shape, dtype=y.dtype)
    grads = grad(y2, wrt2, seed=dout)
    roots, stats = _optimize(work, [y.id] + [g.id for g in grads], [y.id, dout.id] + [w.id for w in wrt], optimize)
    grads = [Tensor(work, r) for r in roots[1:]]
    G = work.nx
    is_kind = lambda n, *ops: G._node[n]["op"] in ops  # noqa: E731
    # Forward: what the output needs, plus every input (the backward may read inputs y ignores).
    needed_back = ancestors(work, [g.id for g in grads])
    fwd_nodes = ancestors(work, [y.id]) | {n for n in needed_back if is_kind(n, "input") and n != dout.id}
    fwd_order = topological(work, fwd_nodes)
    back_nodes = {n for n in needed_back if n not in fwd_nodes}
    # Residuals: forward values the backward program reads (constants live in both namespaces).
    residuals = sorted({u for n in back_nodes for u in G._pred[n] if u in fwd_nodes and not is_kind(u, "constant")}
                       | {g.id for g in grads if g.id in fwd_nodes and not is_kind(g.id, "constant")})
    recomputed: list[int] = []
    if optimize:  # rebuild cheap values in the backward rather than keep them (compiler/memory.py)
        residuals, recomputed = choose_residuals(work, residuals, keep={g.id for g in grads})
        back_nodes |= set(recomputed)
    back_order = place_late(work, topological(work, back_nodes), set(recomputed))
    fwd = Program("forward", [n for n in fwd_order if is_kind(n, "input")],
                  [n for n in fwd_order if not is_kind(n, "input", "constant")], [y.id] + residuals)
    back = Program("backward", [dout.id] + residuals,
                   [n for n in back_order if not is_kind(n, "input", "constant")], [g.id for g in grads], boxed=True,
                   fed=1)
    plan = Plan(work, {"forward": fwd, "backward": back},
                options={"output": y.id, "wrt": [w.id for w in wrt], "dout": dout.id, "residuals": residuals,
                         "single": single, "stats": stats, "recomputed": recomputed, **options})
    b = _backend(backend, options.get("backend_options", {}))
    _plan_memory(plan, b)
    step = b.step_class(plan, b.lower(plan))
    if y.shape == () and len(work) <= FUSE_MAX_NODES:
        step.enable_fused(lambda: _compile_fused(graph, y, wrt, single, backend, options))
        if optimize and not options.get("check_finite"):  # (check_finite's errors name nodes of step.graph)
            step.enable_backward_at_one(lambda: _compile_backward_at_one(plan, backend))
    if optimize:  # for pictures of the adjoint graph before simplification (step.unoptimized())
        step._make_unoptimized = lambda: _compile_step(graph, y, wrt, single, backend, {**options, "optimize": False})
    return step


def _compile_backward_at_one(plan: Plan, backend: str) -> Optional[_Compiled]:
    """The step's backward program for ``dout = 1`` (what ``step.backward()`` runs with dout left out,
    compiled on its first use): the same residuals in, the same gradients out, the seed a constant 1 so
    the passes drop the multiplications by it -- as ``value_and_grad``'s fused program does. x * 1 is x
    exactly, so the gradients are those of the general program bit for bit. None when the passes leave
    the gradients needing a forward value that is not a residual (the general program then serves)."""
    opts = plan.options
    work = plan.graph.copy()
    back = plan.programs["backward"]
    dout, residuals = opts["dout"], list(opts["residuals"])
    rw = Rewriter(work, back.results)
    one = rw.add_constant(dout, np.ones((), work.nx.nodes[dout]["dtype"]))
    rw.replace(dout, one, "seed")
    keep = set(residuals)
    roots, _ = run_passes(work, rw.roots, [opts["output"], *residuals, *opts["wrt"]])
    G = work.nx
    body = _reach_from(roots, G._pred, keep)
    if any(G._node[n]["op"] == "input" for n in body if n not in keep):
        return None
    order = topological(work, body)
    program = Program("backward", residuals, [n for n in order if n not in keep and G._node[n]["op"] not in
                                              ("input", "constant")], roots, boxed=True, fed=0)
    one_plan = Plan(work, {"backward": program}, options={k: v for k, v in opts.items() if k != "stats"})
    b = _backend(backend, opts.get("backend_options", {}))
    _plan_memory(one_plan, b, handed=frozenset(plan.memory["forward"].exclusive))
    return _Compiled(one_plan, b.lower(one_plan))


def _reach_from(roots: list[int], pred: dict, stop: set[int]) -> set[int]:
    """``roots`` and what they depend on, not looking past the nodes in ``stop``."""
    seen = set(roots)
    stack = [r for r in roots if r not in stop]
    while stack:
        for m in pred[stack.pop()]:
            if m not in seen:
                seen.add(m)
                if m not in stop:
                    stack.append(m)
    return seen


def _compile_fused(graph: Any, y: Tensor, wrt: list[Tensor], single: bool, backend: str,
                   options: dict) -> CompiledFunction:
    """One program computing the value and the gradients for ``dout = 1`` (what
    ``step.value_and_grad()`` runs; compiled on its first use). The seed is then a constant 1,
    so the simplifier removes the multiplications by it, and there is one call, not two."""
    work = graph.copy()
    y2 = Tensor(work, y.id)
    grads = grad(y2, [Tensor(work, w.id) for w in wrt])
    rebuild = (lambda vals: (vals[0], vals[1])) if single else (lambda vals: (vals[0], vals[1:]))
    # Nobody draws this program (the step's forward and adjoint graphs are what pictures show), so
    # layer ops may be split where that saves work (softmax_cross_entropy sharing its log_softmax).
    return _compile_function(work, [y2, *grads], rebuild, backend, options, own=True, keep_layers=False)


def flatten(outputs: Any) -> tuple[list[Tensor], Callable[[list], Any]]:
    """Flatten a Tensor / list / tuple / dict of Tensors; ``rebuild(values)`` restores the structure."""
    if isinstance(outputs, Tensor):
        return [outputs], lambda vals: vals[0]
    if isinstance(outputs, (list, tuple)):
        items = list(outputs)
        kind = type(outputs)
        _check_tensors(items)
        if kind is list:
            return items, list
        if hasattr(kind, "_fields"):  # a namedtuple
            return items, lambda vals: kind(*vals)
        return items, kind
    if isinstance(outputs, dict):
        keys = list(outputs)
        items = [outputs[k] for k in keys]
        _check_tensors(items)
        return items, lambda vals: dict(zip(keys, vals))
    raise GraphError(f"outputs must be a Tensor, a list/tuple or a dict of Tensors, got {type(outputs).__name__}")


def _check_tensors(items: list) -> None:
    if not items:
        raise GraphError("no outputs given; pass at least one Tensor")
    for t in items:
        if not isinstance(t, Tensor):
            raise GraphError(f"outputs must be Tensors of a Graph, got {type(t).__name__} {t!r}")


def _common_graph(flat: list[Tensor]) -> Any:
    graphs = {id(t.graph): t.graph for t in flat}
    if len(graphs) > 1:
        raise GraphError("outputs come from different graphs: " + ", ".join(f"{t.name!r} ({t.graph.name!r})" for t in flat))
    return flat[0].graph
