"""The fused training step: one generated program computes the loss and the gradients and then updates
the parameters in place with the optimizer's formulas, written as lines of the same function
(``opt.compile(loss, model)``; the lines themselves come from each optimizer's ``_update_lines``).

The parameters are the model's live arrays (bound by name into the program's namespace, and fed to it
as the graph inputs they are); the optimizer's state (velocities, moments) are the very arrays of
``opt.state``, and Adam's iteration count is ``opt.iter``, so fused steps and ``opt.update`` calls
can be mixed and agree. The gradients never leave the program unless asked (``grads=True``).
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Mapping, Optional

import numpy as np

from ..compiler.autodiff import grad
from ..compiler.pipeline import _compile_function, _common_graph
from ..ir.errors import FeedError, GraphError
from ..ir.gcpause import cyclic_gc_paused
from ..ir.ops import mean, var
from ..ir.registry import get as get_op
from ..ir.tensor import Tensor

# Locals and globals the update lines use themselves: a parameter's name never becomes one of them.
_RESERVED = {"opt", "lr", "lr_t", "momentum", "decay_rate", "beta1", "beta2", "weight_decay", "clip_norm",
             "sq", "norm", "scale", "xp", "float", "args"}


class TrainStep:
    """A compiled training step: ``step(**feeds)`` runs the loss, the gradients and the optimizer's update
    of every parameter (in place) in one generated function, and returns the loss.

    >>> step = rg.optim.SGD(lr=0.1).compile(loss, model)
    >>> step(x=xb, t=tb)                     # the model's parameters have moved
    >>> print(step.source)                   # ... W0 -= lr * dW0 ...
    """

    def __init__(self, function: Any, optimizer: Any, names: list[str], with_grads: bool) -> None:
        self.function, self.optimizer = function, optimizer
        self._names, self._with_grads = names, with_grads
        self._live: dict[str, np.ndarray] = {}

    @property
    def source(self) -> str:
        """The generated code: the loss, the gradients, then the update lines."""
        return self.function.source

    @property
    def graph(self) -> Any:
        """The graph compiled (the loss and its gradients)."""
        return self.function.graph

    def __call__(self, /, **feeds: Any) -> Any:
        """Run one training step on ``feeds`` (the inputs other than the parameters); returns the loss, or
        ``(loss, {name: gradient})`` when compiled with ``grads=True`` (the gradients before clipping and
        weight decay, as the program computed them)."""
        clash = [k for k in feeds if k in self._live]
        if clash:
            raise FeedError(f"{clash[0]!r} is a parameter of this training step, bound to the model's live array; "
                            "feed only the other inputs (the step updates the parameters itself)")
        out = self.function.call_with({**feeds, **self._live})
        if self._with_grads:
            return out[0], dict(zip(self._names, out[1:]))
        return out[0]

    def __repr__(self) -> str:
        return (f"<revgraph.optim.TrainStep of {self.graph.name!r}: {type(self.optimizer).__name__}, "
                f"{len(self._names)} parameter(s)>")


def compile_step(optimizer: Any, loss: Tensor, params: Any, *, grads: bool = False,
                 optimize: bool = True) -> TrainStep:
    """``optimizer.compile(loss, params)``: see :meth:`revgraph.optim.Optimizer.compile`."""
    if not isinstance(loss, Tensor):
        raise GraphError(f"compile needs the loss as a graph Tensor, got {type(loss).__name__}")
    graph = _common_graph([loss])
    if loss.shape != () or loss.dtype.kind != "f":
        raise GraphError(f"the loss {loss.name!r} must be a float scalar to train on; it has shape {loss.shape} "
                         f"and dtype {loss.dtype} (sum or average it first)")
    tensors, arrays = _params(graph, params)
    names = list(tensors)
    for name in names:
        t, a = tensors[name], arrays[name]
        if not isinstance(a, np.ndarray) or not a.flags.writeable or a.dtype.kind != "f":
            raise GraphError(f"parameter {name!r} must be a writable float NumPy array (updated in place); got "
                             f"{type(a).__name__}{' of ' + str(a.dtype) if isinstance(a, np.ndarray) else ''}")
        if t.op != "input" or tuple(t.shape) != a.shape or t.dtype != a.dtype:
            raise GraphError(f"parameter {name!r}: node {t.name!r} ({t.op}, shape {tuple(t.shape)}, {t.dtype}) is not "
                             f"a graph input like its array (shape {a.shape}, {a.dtype})")
    with cyclic_gc_paused():
        work = graph.copy()
        y = Tensor(work, loss.id)
        flat = [y, *grad(y, [Tensor(work, tensors[n].id) for n in names])]
        running = _running_stats(params, graph)
        for x, axes, *_ in running:  # the batch statistics each BatchNorm's running averages follow
            flat += [mean(Tensor(work, x), axis=axes), var(Tensor(work, x), axis=axes)]
        made: dict = {}

        def finish(plan: Any) -> None:  # the update lines, written once the passes settled the gradients
            program = plan.programs["call"]
            made["globals"], program.epilogue = _epilogue(plan.graph, program, optimizer, names,
                                                          [tensors[n].id for n in names], arrays, running)
            program.returns = program.results[:1 + len(names) if grads else 1]

        options = {"optimize": optimize}
        function = _compile_function(work, flat, list, "numpy", options, own=True, keep_layers=False, finish=finish)
    function._fns["call"].__globals__.update(made["globals"])  # the live arrays and the state, by name
    step = TrainStep(function, optimizer, names, grads)
    step._live = {tensors[n].name: arrays[n] for n in names}
    return step


def _params(graph: Any, params: Any) -> tuple[dict, dict]:
    """``params`` -> (name -> graph input, name -> live array): a model (its inputs in this graph and its
    ``params``) or a dict name -> (Tensor, array)."""
    if hasattr(params, "inputs") and hasattr(params, "params"):
        tensors, arrays = params.inputs(graph), params.params
        if not tensors:
            raise GraphError(f"none of the model's parameters is an input of graph {graph.name!r}: build the loss "
                             "by calling the model on a tensor of that graph")
        return tensors, {k: arrays[k] for k in tensors}
    if isinstance(params, Mapping) and params and all(isinstance(v, tuple) and len(v) == 2 for v in params.values()):
        return {k: v[0] for k, v in params.items()}, {k: v[1] for k, v in params.items()}
    raise GraphError("params must be an rg.nn model (its parameters) or a dict name -> (graph input, live array); "
                     f"got {type(params).__name__}")


def _running_stats(params: Any, graph: Any) -> list[tuple]:
    """``(x, axes, running_mean, running_var, momentum)`` for each training-mode BatchNorm call of a model on
    ``graph`` (layers with ``batch_statistics``), in the order the calls were built."""
    found = []
    for m in params.modules() if hasattr(params, "modules") else ():
        if hasattr(m, "batch_statistics"):
            found += [(x, axes, m.running_mean, m.running_var, m.momentum) for x, axes in m.batch_statistics(graph)]
    return sorted(found, key=lambda item: item[0])


def identifier(name: str, taken: set) -> str:
    """A readable Python name for parameter ``name``: ``"fc1.W"`` -> ``fc1_W``, ``"0.W"`` -> ``W0`` (a leading
    layer number moves to the end); never a keyword, a generated value's name (``v12``) or one already taken."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII)
    lead = re.match(r"(\d+)_(.+)", text)
    if lead:
        text = lead.group(2) + lead.group(1)
    if not text or not text.isidentifier() or text[0].isdigit():
        text = "p_" + text
    if keyword.iskeyword(text) or re.fullmatch(r"v\d+", text) or text in _RESERVED:
        text = "p_" + text
    base, k = text, 2
    while text in taken or "d" + text in taken:
        text, k = f"{base}_{k}", k + 1
    taken.update({text, "d" + text})
    return text


def _epilogue(graph: Any, program: Any, opt: Any, names: list[str], inputs: list[int],
              arrays: dict, running: list) -> tuple[dict, tuple]:
    """The update lines (indented for the program's function) and the globals they read."""
    G = graph.nx
    taken = set(_RESERVED)
    idents = [identifier(n, taken) for n in names]
    slots = {i: {k: _fresh(f"{k}_{i}", taken) for k in opt.slots} for i in idents}
    glob: dict[str, Any] = {"opt": opt, "float": float}
    for n, i in zip(names, idents):
        glob[i] = arrays[n]
        for key, var in slots[i].items():
            glob[var] = opt._slot(n, key, arrays[n])
    grads = program.results[1:]
    title = f"rg.optim.{type(opt).__name__}: every parameter updated in place"
    lines = [f"# -- {title} " + "-" * max(4, 96 - len(title)),
             f"global {', '.join(idents + [v for i in idents for v in slots[i].values()])}",
             f"{', '.join(opt.hyper)} = {', '.join('opt.' + h for h in opt.hyper)}"]
    param_ids = set(inputs)
    for n, i, g in zip(names, idents, grads):
        copy = ".copy()" if _may_alias(G, g, param_ids) else ""  # an update must not move another's gradient
        lines.append(f"d{i} = v{g}{copy}".ljust(40) + f"# the gradient of {_comment(n)}")
    if opt.clip_norm is not None:
        lines += [f"clip_norm = opt.clip_norm", "sq = 0"]
        lines += [f"sq += float(xp.sum(d{i} * d{i}))" for i in idents]
        lines += ["norm = float(xp.sqrt(sq))", "if norm > clip_norm:  # clip_grads: scale all down together",
                  "    scale = clip_norm / (norm + 1e-6)"] + [f"    d{i} = d{i} * scale" for i in idents]
    lines += opt._begin_lines()
    if opt.weight_decay:
        lines.append("weight_decay = opt.weight_decay")
    for i in idents:
        if opt.weight_decay:
            lines.append(f"d{i} = d{i} + weight_decay * {i}")
        lines += opt._update_lines(i, f"d{i}", slots[i])
    stats = program.results[1 + len(names):]
    if running:
        lines.append("# BatchNorm's running averages follow the batch: running = momentum * running + (1 - momentum) * batch")
    for k, (_, _, r_mean, r_var, m) in enumerate(running):
        rm, rv = _fresh(f"running_mean_{k + 1}", taken), _fresh(f"running_var_{k + 1}", taken)
        glob[rm], glob[rv] = r_mean, r_var
        mean_id, var_id = stats[2 * k], stats[2 * k + 1]
        lines += [f"{rm}[...] = {m!r} * {rm} + (1 - {m!r}) * v{mean_id}", f"{rv}[...] = {m!r} * {rv} + (1 - {m!r}) * v{var_id}"]
    return glob, tuple("    " + line for line in lines)


def _fresh(text: str, taken: set) -> str:
    """``text``, or ``text_2``, ... : the first not taken (then taken)."""
    name, k = text, 2
    while name in taken:
        name, k = f"{text}_{k}", k + 1
    taken.add(name)
    return name


def _may_alias(G: Any, nid: int, params: set) -> bool:
    """Whether value ``nid`` may be (a view of) a parameter's array: a parameter itself, or an op result that
    is not always fresh and reads one."""
    seen, stack = set(), [nid]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        d = G._node[n]
        if n in params:
            return True
        if d["op"] in ("input", "constant"):
            continue
        try:
            fresh = get_op(d["op"]).returns_fresh(len(G._pred[n]), d["attrs"])
        except GraphError:
            fresh = False
        if not fresh:
            stack.extend(G._pred[n])
    return False


def _comment(name: str) -> str:
    """A parameter's name for a comment: escaped like repr, so nothing can leave the comment."""
    return repr(str(name))[1:-1] if not str(name).isidentifier() or len(name) > 60 else name
