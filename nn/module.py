"""``Module``: named parameters (live NumPy arrays) and sub-modules; one model for both engines.

A module's ``forward`` is written with rg ops. Called on a graph Tensor it builds the graph, each
parameter entering as a graph input named by its full name (``"fc1.W"``); called on a ``dy.Variable``
it computes at once, each parameter a Variable wrapping the very array in ``model.params``; called on a
NumPy array it just computes. So the same object trains statically (feed ``**model.params``) and
dynamically (read ``model.grads()``), and an optimizer updating ``model.params`` in place serves both.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np

from ..dynamic import Variable
from ..ir.errors import GraphError
from ..ir.graph import Graph
from ..ir.tensor import Tensor


# Parameters bound to given operands by ``Module.bound`` (full name -> Tensor, Variable or array).
_BOUND: contextvars.ContextVar[dict] = contextvars.ContextVar("revgraph_nn_bound", default={})


class Module:
    """Base of every layer and model.

    >>> class Affine(rg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.add_param("W", np.zeros((2, 3))); self.add_param("b", np.zeros(3))
    ...     def forward(self, x):
    ...         return x @ self.p("W", x) + self.p("b", x)
    >>> sorted(Affine().params)
    ['W', 'b']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_prefix", "")
        object.__setattr__(self, "_variables", {})
        # graph -> {local name: node id}. Ids, not Tensors: a Tensor holds its graph, and a value holding its weak
        # key keeps the entry (and the whole graph) alive as long as the module lives.
        object.__setattr__(self, "_inputs", weakref.WeakKeyDictionary())
        object.__setattr__(self, "training", True)

    # -- structure ---------------------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if "_modules" not in self.__dict__:
            raise GraphError(f"{type(self).__name__}.__init__ must call super().__init__() before setting {key!r}")
        if isinstance(value, Module):
            self._modules[key] = value
            value._set_prefix(self._join(key))
        object.__setattr__(self, key, value)

    def _join(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def _set_prefix(self, prefix: str) -> None:
        object.__setattr__(self, "_prefix", prefix)
        for key, child in self._modules.items():
            child._set_prefix(self._join(key))

    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register a parameter (a float array, kept as given: the live array) under ``name``."""
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise GraphError(f"{type(self).__name__}: parameter {name!r} must be a float NumPy array, got "
                             f"{type(value).__name__}{'' if not isinstance(value, np.ndarray) else ' of ' + str(value.dtype)}")
        if name in self._params or name in self._modules:
            raise GraphError(f"{type(self).__name__}: {name!r} is already a parameter or sub-module")
        self._params[name] = value
        return value

    def modules(self) -> Iterator["Module"]:
        """This module and every sub-module, depth first."""
        yield self
        for child in self._modules.values():
            yield from child.modules()

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every parameter, by full name (``"fc1.W"``) -> the live array (update it in place)."""
        out = {self._join(k): v for k, v in self._params.items()}
        for child in self._modules.values():
            out.update(child.params)
        return out

    # -- modes ---------------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout drops, batch norm uses batch statistics), for this module and its children."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    # -- running ---------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``forward``; on graph Tensors inside the name scope of this module (pictures draw each layer as a
        labelled cluster, nested as the modules are: ``Sequential/0: Linear``)."""
        graph = next((a.graph for a in args if isinstance(a, Tensor)), None)
        if graph is None:
            return self.forward(*args, **kwargs)
        local = self._prefix.rsplit(".", 1)[-1]
        with graph.scope(f"{local}: {type(self).__name__}" if local else type(self).__name__):
            return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - every layer defines it
        raise NotImplementedError(f"{type(self).__name__} defines no forward()")

    def p(self, name: str, like: Any) -> Any:
        """Parameter ``name`` as an operand for the engine ``like`` runs on: a graph input of ``like``'s graph,
        a Variable wrapping the live array, or the array itself."""
        try:
            value = self._params[name]
        except KeyError:
            raise GraphError(f"{type(self).__name__} has no parameter {name!r}; it has {sorted(self._params)}") from None
        bound = _BOUND.get()
        if bound and self._join(name) in bound:
            return bound[self._join(name)]
        if isinstance(like, Tensor):
            return self._graph_input(like.graph, name, value)
        if isinstance(like, Variable):
            var = self._variables.get(name)
            if var is None or var.data is not value:
                var = self._variables[name] = Variable(value, name=self._join(name))
            return var
        return value

    def _graph_input(self, graph: Graph, name: str, value: np.ndarray) -> Tensor:
        bound = self._inputs.setdefault(graph, {})
        if name not in bound:
            full = self._join(name)
            same = [n for n, d in graph.nx.nodes(data=True) if d["name"] == full]
            if not same:
                bound[name] = graph.input(full, shape=value.shape, dtype=value.dtype).id
            else:  # an input of that name already (rg.trace of a function taking **model.params): bind to it
                d = graph.nx.nodes[same[0]]
                if d["op"] != "input" or tuple(d["shape"]) != value.shape or d["dtype"] != value.dtype:
                    raise GraphError(f"graph {graph.name!r} already has a node named {full!r} ({d['op']}, shape "
                                     f"{tuple(d['shape'])}, {d['dtype']}), which is not an input like this "
                                     f"parameter (shape {value.shape}, {value.dtype}): rename that node")
                bound[name] = same[0]
        return Tensor(graph, bound[name])

    @contextlib.contextmanager
    def bound(self, operands: dict) -> Iterator["Module"]:
        """Within the block, the parameters named in ``operands`` (full names) are those operands instead:
        the model as a function of its parameters (``rg.compare``, ``rg.trace`` of ``f(x, **params)``).

        >>> with model.bound(params):              # params: full name -> Tensor / Variable / array
        ...     y = model(x)
        """
        unknown = sorted(set(operands) - set(self.params))
        if unknown:
            raise GraphError(f"{type(self).__name__}.bound: {unknown} are not parameters of this model; it has "
                             f"{sorted(self.params)}")
        token = _BOUND.set({**_BOUND.get(), **operands})
        try:
            yield self
        finally:
            _BOUND.reset(token)

    def inputs(self, graph: Graph) -> dict[str, Tensor]:
        """The graph inputs this model's parameters became in ``graph``, by full name, in ``params`` order:
        ``rg.compile(loss, wrt=list(model.inputs(g).values()))``."""
        found: dict[str, Tensor] = {}
        for m in self.modules():
            for k, nid in m._inputs.get(graph, {}).items():
                found[m._join(k)] = Tensor(graph, nid)
        return {k: found[k] for k in self.params if k in found}

    def grads(self) -> dict[str, np.ndarray]:
        """After a dynamic backward: each parameter's gradient by full name (zeros where none arrived)."""
        out = {}
        for m in self.modules():
            for k, value in m._params.items():
                var = m._variables.get(k)
                grad = None if var is None or var.grad is None else var.grad.data
                out[m._join(k)] = np.zeros_like(value) if grad is None else np.asarray(grad)
        return out

    def cleargrads(self) -> None:
        """Forget the dynamic gradients (DeZero's ``cleargrads``)."""
        for m in self.modules():
            for var in m._variables.values():
                var.cleargrad()

    def calibrate(self, batches: Any) -> "Module":
        """Run ``batches`` (input arrays) through the model on NumPy in training mode, so every BatchNorm's
        running averages follow them (use after training with a compiled static step); restores the mode."""
        modes = [(m, m.training) for m in self.modules()]
        self.train()
        try:
            for xb in batches:
                self(np.asarray(xb))
        finally:
            for m, mode in modes:
                object.__setattr__(m, "training", mode)
        return self

    # -- files -------------------------------------------------------------------------------------------
    def save(self, path: Union[str, Path]) -> None:
        """Write the parameters to an ``.npz`` file (arrays only, by full name)."""
        np.savez(path, **self.params)

    def load(self, path: Union[str, Path]) -> "Module":
        """Read parameters saved by :meth:`save` into the live arrays (same shapes and dtypes), in place.
        The file is read with ``allow_pickle=False``: an object array is refused, never unpickled."""
        params = self.params
        try:
            with np.load(path, allow_pickle=False) as data:
                stored = {k: data[k] for k in data.files}
        except ValueError as exc:
            raise GraphError(f"cannot load {str(path)!r}: it holds an object array, which would need unpickling "
                             f"(refused: files are data, never code) ({exc})") from None
        except (OSError, EOFError) as exc:
            raise GraphError(f"cannot load {str(path)!r}: {exc}") from None
        if sorted(stored) != sorted(params):
            raise GraphError(f"{str(path)!r} holds parameters {sorted(stored)}, the model has {sorted(params)}")
        for k, arr in stored.items():
            if arr.shape != params[k].shape:
                raise GraphError(f"{str(path)!r}: parameter {k!r} has shape {arr.shape}, the model's {params[k].shape}")
            params[k][...] = arr
        return self

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items())
        return f"{type(self).__name__}({self._extra()}{inner}{chr(10) if inner else ''})"

    def _extra(self) -> str:
        return ""


class Sequential(Module):
    """Layers applied in order; named ``"0"``, ``"1"``, ... (parameters ``"0.W"``, ...).

    >>> model = rg.nn.Sequential(rg.nn.Linear(4, 8), rg.nn.ReLU(), rg.nn.Linear(8, 3))
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise GraphError(f"Sequential: layer {i} is a {type(layer).__name__}, not an rg.nn.Module")
            setattr(self, str(i), layer)
        object.__setattr__(self, "layers", list(layers))

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x
