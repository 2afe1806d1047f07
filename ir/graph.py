"""``Graph``: a static computational graph stored in a ``networkx.MultiDiGraph``.

Nodes are ints in creation order (so orderings and generated code are
deterministic). Each node's data holds:

* ``op``     -- ``"input"``, ``"constant"`` or a registered op name
* ``name``   -- unique in the graph; any string (it is data, never code)
* ``shape``  -- a tuple of ints, ``None`` for sizes fixed at run time
* ``dtype``  -- a ``numpy.dtype``
* ``attrs``  -- the op's normalised attributes
* ``value``  -- constants only; ``weak`` marks a Python scalar (NumPy 2 weak promotion)
* ``adjoint``-- 0 for the forward graph, k for nodes emitted by the k-th ``rg.grad``
* ``role``   -- ``"seed"``, ``"accumulate"`` or None; ``grad_of`` lists the tensors
  whose gradient this node is.

There is one edge per operand, keyed by its operand slot, so ``x + x`` is two
edges into one node.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections import defaultdict
from typing import Any, Callable, Iterator, Optional

import networkx as nx
import numpy as np

from .dtypes import PY_SCALARS, as_dtype, weak_dtype
from .errors import GraphError
from .shapes import Shape, as_shape, fmt, too_big


# How notebooks draw graphs and compiled programs: ir/ knows no drawing backend, so the
# graphviz backend registers a function ``(obj, include, exclude) -> mimebundle`` on import.
_drawer: Optional[Callable[..., dict]] = None


def set_drawer(fn: Callable[..., dict]) -> None:
    """Register the function notebooks use to display graphs and programs (backends/graphviz does)."""
    global _drawer
    _drawer = fn


def mimebundle(obj: Any, include: Any = None, exclude: Any = None) -> dict:
    """What a notebook shows for ``obj``: the registered drawer's picture, else its repr."""
    if _drawer is None:
        return {"text/plain": repr(obj)}
    return _drawer(obj, include, exclude)


class Graph:
    """A static computational graph.

    >>> import revgraph as rg
    >>> g = rg.Graph("demo")
    >>> x = g.input("x")
    >>> y = x * x + 1.0
    >>> rg.compile(y)(x=3.0)
    10.0
    """

    def __init__(self, name: str = "graph") -> None:
        self.name = str(name)
        self.nx = nx.MultiDiGraph()
        self.outputs: Any = None  # set by rg.trace or by the user
        self.wrt: Any = None
        self._next_id = 0
        self._by_name: dict[str, int] = {}
        self._counters: dict[str, int] = defaultdict(int)
        self._tags: dict[str, Any] = {"adjoint": 0}
        # Shared weak scalar constants (see ``_scalar``) and the networkx graph that table describes.
        self._scalars: dict[tuple, int] = {}
        self._scalars_of: Any = self.nx

    # -- declaring -----------------------------------------------------------------
    def input(self, name: str, shape: Any = (), dtype: Any = "float64") -> "Tensor":
        """Declare an input fed at run time. ``None`` in ``shape`` = size fixed at run time.

        >>> x = rg.Graph().input("x", shape=(None, 784), dtype="float32")
        """
        if not isinstance(name, str):
            raise GraphError(f"input name {name!r} must be a string")
        shape = as_shape(shape, what=f"input {name!r}")
        dtype = as_dtype(dtype, what=f"input {name!r}")
        reason = too_big(shape, dtype.itemsize)
        if reason:
            raise GraphError(f"input {name!r}: no {dtype} array can have this shape: {reason}")
        return self._add("input", [], {}, shape, dtype, name=name)

    def constant(self, value: Any, name: Optional[str] = None) -> "Tensor":
        """Declare a constant (a copy of ``value`` is kept; the program reads it, never its text).

        >>> c = rg.Graph().constant([[1.0, 2.0]])
        """
        weak = isinstance(value, PY_SCALARS) and not isinstance(value, np.generic)
        if weak:
            arr = np.asarray(value, dtype=weak_dtype(value, f"constant {name or ''!r}"))  # no int beyond int64
            data: Any = value
        else:
            try:
                arr = np.array(value, copy=True)
            except Exception as exc:
                raise GraphError(f"constant {name or ''!r}: cannot make an array of {type(value).__name__}: {exc}") from None
            as_dtype(arr.dtype, what=f"constant {name or type(value).__name__}")
            arr.setflags(write=False)
            data = arr
        t = self._add("constant", [], {}, arr.shape, arr.dtype, name=name, value=data, weak=weak)
        if weak and _AUTO_CONSTANT.match(t.name):  # shareable by later `x * value` (see ``_scalar``)
            self._shared_scalars().setdefault(_scalar_key(value, self._tags), t.id)
        return t

    def _scalar(self, value: Any) -> "Tensor":
        """The weak constant for a Python scalar operand (``x * 0.99``), shared: one node per value,
        Python type and tag set (forward/adjoint, role), so a chain of ``* 0.99`` reads one ``0.99``
        instead of making (and later merging) thousands. Any unnamed weak constant of the graph with
        that key is reused (the first made), so the choice depends only on the graph's nodes: a copy
        or a saved and loaded graph grows exactly as the original does.

        >>> g = rg.Graph(); g._scalar(0.5) == g._scalar(0.5)
        True
        """
        nid = self._shared_scalars().get(_scalar_key(value, self._tags))
        if nid is not None:
            return Tensor(self, nid)
        return self.constant(value)  # registers itself

    def _shared_scalars(self) -> dict[tuple, int]:
        """Key -> the first unnamed weak constant with that key. Kept up to date as nodes are made;
        rebuilt from the nodes when it may be stale: the table was made for another networkx graph
        (``rg.load`` swaps it in), or a shared constant was renamed or removed."""
        if self._scalars_of is not self.nx:
            table: dict[tuple, int] = {}
            for nid, d in self.nx._node.items():
                if d["op"] == "constant" and d.get("weak") and _AUTO_CONSTANT.match(d["name"]):
                    key = _scalar_key(d["value"], {k: v for k, v in d.items() if k not in _NOT_TAGS})
                    if nid < table.get(key, nid + 1):
                        table[key] = nid
            self._scalars, self._scalars_of = table, self.nx
        return self._scalars

    def _add(self, op: str, operands: list["Tensor"], attrs: dict, shape: Shape, dtype: np.dtype,
             name: Optional[str] = None, **extra: Any) -> "Tensor":
        """Create a node (the one place nodes are made). Operands must belong to this graph."""
        G = self.nx
        if getattr(G, "frozen", False):  # what nx.is_frozen checks, without its call on every node
            raise GraphError(f"graph {self.name!r} is a read-only view; build on the graph it was taken from")
        for t in operands:
            if t.graph is not self:
                raise GraphError(f"{t.name!r} belongs to graph {t.graph.name!r}, not {self.name!r}; "
                                 "tensors of two graphs cannot be mixed")
            if t.id not in G._succ:  # (networkx would silently make a node without data)
                raise GraphError(f"operand node {t.id} is no longer in graph {self.name!r} (it was removed); "
                                 "build on tensors of the graph as it is now")
        if name is None:
            name = self.fresh_name(op)
        elif not isinstance(name, str):
            raise GraphError(f"node name {name!r} must be a string")
        elif name in self._by_name:
            raise GraphError(f"name {name!r} is already used in graph {self.name!r} "
                             f"(by a {G.nodes[self._by_name[name]]['op']} node); names must be unique")
        nid = self._next_id
        self._next_id += 1
        # Written straight into networkx's own dicts, exactly as MultiDiGraph.add_node/add_edge would
        # (node data; one keyed edge {slot: {"slot": slot}} per operand): those public calls re-check
        # and re-create per edge what is known here, and were a third of building a graph of 10^5 nodes.
        if type(dtype) not in _DTYPE_CLASSES:  # (np.dtype(d) of a dtype costs 0.6 us: the plain ones pass as they are)
            dtype = np.dtype(dtype)
        data = {"op": op, "name": name, "shape": shape if type(shape) is tuple else tuple(shape), "dtype": dtype,
                "attrs": attrs, **self._tags}
        data.update(extra)
        G._node[nid] = data
        succ, pred = G._succ, G._pred
        succ[nid] = {}
        mine = pred[nid] = {}
        for slot, t in enumerate(operands):
            u = t.id
            slots = mine.get(u)
            if slots is None:  # first edge u -> nid: the key dict is shared by succ[u] and pred[nid]
                slots = mine[u] = succ[u][nid] = {}
            slots[slot] = {"slot": slot}
        cache = getattr(G, "__networkx_cache__", None)  # what every networkx mutation does: drop cached
        if cache:                                         # conversions of the graph (networkx >= 3.3)
            cache.clear()
        self._by_name[name] = nid
        return Tensor(self, nid)

    def fresh_name(self, op: str) -> str:
        """An unused node name for op ``op`` (``mul_3``): what nodes built without ``name=`` are called.

        >>> g.fresh_name("dout")                  # doctest: +SKIP
        'dout_1'
        """
        while True:
            self._counters[op] += 1
            name = f"{op}_{self._counters[op]}"
            if name not in self._by_name:
                return name

    def rename(self, nid: int, name: str) -> None:
        """Rename node ``nid``; names stay unique."""
        if not isinstance(name, str):
            raise GraphError(f"node name {name!r} must be a string")
        old = self.nx.nodes[nid]["name"]
        if name == old:
            return
        if name in self._by_name:
            raise GraphError(f"name {name!r} is already used in graph {self.name!r}; names must be unique")
        del self._by_name[old]
        self._by_name[name] = nid
        self.nx.nodes[nid]["name"] = name
        op = self.nx.nodes[nid]["op"]
        if old == f"{op}_{self._counters.get(op, 0)}":  # the newest automatic name: free it, so naming a node
            self._counters[op] -= 1                      # as it is made (name=) leaves no gap (mul_1, mul_2, ...)
        if self.nx.nodes[nid].get("weak"):  # a renamed constant is no longer shared (see ``_scalar``)
            self._scalars_of = None

    def remove_node(self, nid: int) -> None:
        """Delete node ``nid`` and its edges (compiler passes do this on the compile's own copy)."""
        if nx.is_frozen(self.nx):
            raise GraphError(f"graph {self.name!r} is a read-only view; edit the graph it was taken from")
        self._by_name.pop(self.nx.nodes[nid]["name"], None)
        if self.nx.nodes[nid].get("weak"):  # the table of shared scalars may name it (see ``_scalar``)
            self._scalars_of = None
        self.nx.remove_node(nid)

    @contextlib.contextmanager
    def tagging(self, **tags: Any) -> Iterator[None]:
        """Nodes created inside the block carry ``tags`` (the adjoint pass marks its nodes so)."""
        saved = self._tags
        self._tags = {**saved, **tags}  # a new dict: a tag dict is never changed once made (see ``_scalar_key``)
        try:
            yield
        finally:
            self._tags = saved

    @contextlib.contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Nodes made inside the block belong to the name scope ``name`` (nested scopes join with ``/``):
        every picture groups them in one labelled cluster, and summaries of big graphs collapse each
        scope into one box. The scope is saved with the node; the adjoint pass puts each gradient
        node in the scope of the forward node it differentiates.

        >>> with g.scope("layer1"):
        ...     h = rg.tanh(x @ W1 + b1)
        """
        if not isinstance(name, str) or not name:
            raise GraphError(f"scope name {name!r} must be a non-empty string")
        outer = self._tags.get("scope")
        with self.tagging(scope=f"{outer}/{name}" if outer else name):
            yield

    # -- reading -------------------------------------------------------------------
    def node(self, nid: int) -> dict:
        """The data dict of node ``nid``."""
        return self.nx.nodes[nid]

    def operands(self, nid: int) -> list[int]:
        """Operand node ids of ``nid`` in slot order."""
        # networkx's plain dict {operand: {slot: data}} (no view objects: this is on every hot path)
        pred = self.nx._pred[nid]
        if len(pred) == 1:  # one operand tensor (in one slot, or several as in x + x)
            for u, slots in pred.items():
                return [u] * len(slots)
        if len(pred) == 2:  # the most common case, a binary op on two tensors: no list building
            (a, sa), (b, sb) = pred.items()
            if len(sa) == 1 and len(sb) == 1:
                if 0 in sa and 1 in sb:
                    return [a, b]
                if 1 in sa and 0 in sb:
                    return [b, a]
        # Slots are 0..k-1 in a well-formed graph: place each operand at its slot (no sort); anything
        # else (a hand-edited graph the checker is about to reject) falls back to sorting by slot.
        out: list = [None] * sum(len(slots) for slots in pred.values())
        for u, slots in pred.items():
            for slot in slots:
                if not (type(slot) is int and 0 <= slot < len(out)) or out[slot] is not None:
                    pairs = sorted((slot, u) for u, slots in pred.items() for slot in slots)
                    return [u for _, u in pairs]
                out[slot] = u
        return out

    def tensor(self, key: Any) -> "Tensor":
        """The tensor of a node, by name or id."""
        if isinstance(key, Tensor):
            return key
        if isinstance(key, str):
            if key not in self._by_name:
                raise GraphError(f"graph {self.name!r} has no node named {key!r}")
            return Tensor(self, self._by_name[key])
        if isinstance(key, (int, np.integer)) and int(key) in self.nx:
            return Tensor(self, int(key))
        raise GraphError(f"graph {self.name!r} has no node {key!r}")

    @property
    def inputs(self) -> list["Tensor"]:
        """The graph's inputs, in declaration order."""
        return [Tensor(self, n) for n, op in self.nx.nodes(data="op") if op == "input"]

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def __contains__(self, key: Any) -> bool:
        if isinstance(key, Tensor):
            return key.graph is self
        return key in self._by_name

    def __repr__(self) -> str:
        n_adj = sum(1 for _, a in self.nx.nodes(data="adjoint") if a)
        return f"<revgraph.Graph {self.name!r}: {len(self) - n_adj} forward node(s), {n_adj} adjoint node(s)>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return mimebundle(self, include, exclude)  # Jupyter: the graph as SVG

    def _repr_svg_(self) -> Optional[str]:
        return mimebundle(self).get("image/svg+xml")

    def describe(self, nid: int) -> str:
        """``mul_3 (mul, shape (2, 3) float32)`` -- how errors name a node."""
        d = self.nx.nodes[nid]
        return f"{d['name']!r} ({d['op']}, shape {fmt(d['shape'])} {d['dtype']})"

    # -- structure -----------------------------------------------------------------
    def copy(self, name: Optional[str] = None) -> "Graph":
        """An independent copy with the same node ids (so ``Tensor(copy, t.id)`` maps a tensor)."""
        new = Graph.__new__(Graph)
        new.name = self.name if name is None else name
        new.nx = _copy_nx(self.nx)
        new.outputs = _retarget(self.outputs, new)
        new.wrt = _retarget(self.wrt, new)
        new._next_id = self._next_id
        new._by_name = dict(self._by_name)
        new._counters = defaultdict(int, self._counters)
        new._tags = {"adjoint": 0}
        new._scalars = dict(self._scalars)
        new._scalars_of = new.nx if self._scalars_of is self.nx else None
        return new

    def view(self, nodes: Any, name: Optional[str] = None) -> "Graph":
        """A read-only Graph over ``nodes`` (sharing node data): for drawing and inspection."""
        view = Graph.__new__(Graph)
        view.name = self.name if name is None else name
        view.nx = self.nx.subgraph(nodes)
        view.outputs, view.wrt = None, None
        view._next_id = self._next_id
        view._by_name = {view.nx.nodes[n]["name"]: n for n in view.nx}
        view._counters = defaultdict(int)
        view._tags = {"adjoint": 0}
        view._scalars, view._scalars_of = {}, None
        return view

    def save(self, path: Any) -> None:
        """Save as JSON (validated on ``rg.load``; never pickle). Atomic: a failure leaves any old file intact.

        >>> g.save("model.json"); g2 = rg.load("model.json")
        """
        from .serialize import save

        save(self, path)

    def check(self) -> None:
        """The IR linter: acyclic, known ops, operand counts and slots, unique names,
        shapes and dtypes agreeing with the shape rules. Raises GraphError."""
        from .check import check_graph

        check_graph(self)


# Names the graph gives constants itself: only such weak constants are shared (see ``Graph._scalar``).
_AUTO_CONSTANT = re.compile(r"constant_[0-9]+\Z")
# Node data that is not a tag (tags are what ``Graph.tagging`` set when the node was made).
_NOT_TAGS = frozenset({"op", "name", "shape", "dtype", "attrs", "value", "weak", "grad_of"})


def _scalar_key(value: Any, tags: dict) -> tuple:
    # repr tells 0.0 from -0.0 (== does not); the type tells 1 from 1.0 from True; NaN matches itself.
    # The sorted tags are kept for the last tag dict seen (tag dicts are never changed once made).
    global _last_tags
    last = _last_tags  # (one tuple, read and replaced whole: threads building graphs see a consistent pair)
    if last[0] is not tags:
        last = _last_tags = (tags, tuple(sorted(tags.items())))
    return type(value), repr(value), last[1]


_last_tags: tuple = (None, ())
# The classes of NumPy's plain dtypes (float64, int8, bool, ...): a dtype of one of these needs no np.dtype() call.
_DTYPE_CLASSES = frozenset(type(np.dtype(c)) for c in "?bBhHiIlLqQefdg")


def _copy_nx(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """What ``G.copy()`` makes (same node, edge and neighbour order), with node data one level deeper
    (attrs and grad_of lists are not shared) and graph-level notes (the adjoint pass's book) deep-copied.
    Built straight into networkx's dicts: ``G.copy()`` re-adds every edge through ``add_edges_from``,
    which took most of the time of copying a graph of 10^5 nodes."""
    H = nx.MultiDiGraph()
    H.graph = copy.deepcopy(G.graph)
    node, succ, pred = H._node, H._succ, H._pred
    for n, d in G._node.items():
        d = node[n] = dict(d)
        d["attrs"] = dict(d["attrs"])
        if "grad_of" in d:
            d["grad_of"] = list(d["grad_of"])
        succ[n], pred[n] = {}, {}
    for u, nbrs in G._succ.items():
        mine = succ[u]
        for v, slots in nbrs.items():  # one key dict per (u, v), shared by succ[u][v] and pred[v][u]
            mine[v] = pred[v][u] = {k: dict(e) for k, e in slots.items()}
    return H


def _retarget(obj: Any, graph: Graph) -> Any:
    """Map tensors inside a (nested) output structure onto ``graph`` by node id."""
    if isinstance(obj, Tensor):
        return Tensor(graph, obj.id)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_retarget(o, graph) for o in obj)
    if isinstance(obj, dict):
        return {k: _retarget(v, graph) for k, v in obj.items()}
    return obj


from .tensor import Tensor  # noqa: E402  (Tensor's methods need Graph defined first)
