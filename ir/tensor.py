"""``Tensor``: a handle on one node of a Graph, with NumPy-style operators.

Every operator goes through ``apply``, the same path as ``rg.add`` and friends,
so a Tensor and a dynamic Variable behave alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .apply import apply, declare, eager_apply
from .dtypes import NUMERIC_KINDS, PY_SCALARS, weak_dtype
from .errors import GraphError
from .methods import ArrayMethods
from .registry import Aval, OpDef
from .shapes import Shape, fmt

if TYPE_CHECKING:
    from .graph import Graph


class _GraphFrontend:
    """Builds a node in the operands' graph; plain values become constants."""

    def apply(self, opdef: OpDef, operands: tuple, attrs: dict) -> "Tensor":
        graph = None
        for o in operands:  # the operands' one graph (a plain loop: this runs for every node built)
            if isinstance(o, Tensor):
                if graph is None:
                    graph = o.graph
                elif o.graph is not graph:
                    names = ", ".join(f"{o.name!r} (graph {o.graph.name!r})" for o in operands if isinstance(o, Tensor))
                    raise GraphError(f"{opdef.name}: operands {names} belong to different graphs; build the whole "
                                     "computation in one Graph")
        name = attrs.pop("name", None)
        avals = [_aval(graph, o) for o in operands]
        labels = lambda: [o.name if isinstance(o, Tensor) else _short(o) for o in operands]  # noqa: E731 (errors only)
        try:
            attrs, shape, dtype = declare(opdef, avals, attrs, labels, name or "")
        except GraphError as exc:
            hint = _scalar_input_hint(graph, operands)
            if not hint:
                raise
            raise GraphError(f"{exc} {hint}", node=exc.node) from None
        if _all_weak(avals):
            # Only Python scalars (e.g. `y - 1` inside pow's VJP rule for a weak exponent): the program would
            # compute a Python scalar, which stays weak, so fold it into a constant now -- a node would
            # declare a strong dtype (float64) and upcast float32 tensors it meets, unlike the program.
            # (computed with NumPy on the operands' dtypes, then handed back as the Python scalar it stays)
            value = eager_apply(opdef, tuple(a.weak_value for a in avals), dict(attrs))
            return graph.constant(np.asarray(value).item(), name=name)
        tensors = [o if isinstance(o, Tensor) else _as_constant(graph, o) for o in operands]
        return graph._add(opdef.name, tensors, attrs, shape, dtype, name=name)


def _all_weak(avals: list) -> bool:
    for a in avals:  # a plain loop: no generator per node built
        if a.weak_value is None:
            return False
    return True


def _scalar_input_hint(graph: "Graph", operands: tuple) -> str:
    """When a shape rule refuses an input of shape (): it was most likely declared without shape=."""
    scalars = [o.name for o in operands if isinstance(o, Tensor) and o.shape == () and o.op == "input"]
    if not scalars:
        return ""
    name = scalars[0]
    return (f"Note: input {name!r} was declared as a scalar (g.input({name!r}) has shape () unless told "
            f"otherwise); give it its shape: g.input({name!r}, shape=(...)), e.g. shape=(2, 3).")


def _as_constant(graph: "Graph", o: Any) -> "Tensor":
    """A plain operand as a constant node; Python scalars share one node per value (``Graph._scalar``)."""
    if isinstance(o, PY_SCALARS) and not isinstance(o, np.generic):
        return graph._scalar(o)
    return graph.constant(o)


_SCALAR_DTYPES = {float: np.asarray(0.5).dtype, bool: np.asarray(True).dtype, complex: np.asarray(1j).dtype}


def _aval(graph: "Graph", o: Any) -> Aval:
    if isinstance(o, Tensor):
        d = graph.nx._node[o.id]
        return Aval(d["shape"], d["dtype"], d["value"] if d.get("weak") else None)
    if isinstance(o, PY_SCALARS):
        # np.asarray(o).dtype, without making an array for every `x * 0.99` (ints vary with their size).
        dtype = _SCALAR_DTYPES.get(type(o)) or weak_dtype(o, "operand")
        return Aval((), dtype, o)
    try:
        arr = np.asarray(o)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind not in NUMERIC_KINDS:
        raise GraphError(f"cannot use {type(o).__name__} {_short(o)} as an operand; use a Tensor, a number or a numeric array")
    return Aval(arr.shape, arr.dtype)


def _short(o: Any) -> str:
    try:
        text = repr(o)
    except ValueError:  # an int of more than 4 300 digits
        text = f"<{type(o).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


class Tensor(ArrayMethods):
    """A symbolic value in a Graph. Build with ``g.input``, ``g.constant`` or ops on tensors.

    >>> g = rg.Graph(); x = g.input("x", shape=(2, 3))
    >>> (x.T @ x).shape
    (3, 3)
    """

    __slots__ = ("graph", "id")
    _rg_frontend = _GraphFrontend()

    def __init__(self, graph: "Graph", nid: int) -> None:
        self.graph = graph
        self.id = nid

    # -- what the node is ----------------------------------------------------------
    @property
    def _data(self) -> dict:
        return self.graph.nx._node[self.id]  # networkx's plain node-data dict (no view object)

    @property
    def name(self) -> str:
        """The node's name (unique in its graph). Assigning renames: ``t.name = "price"``."""
        return self._data["name"]

    @name.setter
    def name(self, name: str) -> None:
        self.graph.rename(self.id, name)

    @property
    def shape(self) -> Shape:
        return self._data["shape"]

    @property
    def dtype(self) -> np.dtype:
        return self._data["dtype"]

    @property
    def op(self) -> str:
        return self._data["op"]

    @property
    def ndim(self) -> int:
        return len(self._data["shape"])

    @property
    def size(self) -> int:
        """The number of elements (a GraphError when a size is fixed only at run time)."""
        if any(d is None for d in self.shape):
            raise GraphError(f"the size of {self.name!r} with shape {fmt(self.shape)} is not known while declaring "
                             "(a size declared None is fixed when the program runs); declare the shape, or write code that "
                             "does not need it (rg.mean instead of rg.sum(x) / x.size)")
        return int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise GraphError(f"symbolic tensor {self.name!r} has no value until the program runs, so it cannot become a "
                         "NumPy array; compile it (rg.compile) and call the result, or use np functions / rg ops "
                         "on it, which build nodes")

    def __repr__(self) -> str:
        return f"<Tensor {self.name!r} {self.op} shape={fmt(self.shape)} dtype={self.dtype}>"

    def __hash__(self) -> int:
        return hash((id(self.graph), self.id))

    def __eq__(self, other: Any) -> bool:  # identity of the node, not elementwise: use rg.equal
        return isinstance(other, Tensor) and other.graph is self.graph and other.id == self.id

    def __bool__(self) -> bool:
        raise GraphError(f"the truth value of symbolic tensor {self.name!r} is unknown until the program runs; "
                         "Python `if`/`while` on it cannot be traced -- use rg.where(cond, a, b) instead")

    def __iter__(self):
        raise GraphError(f"symbolic tensor {self.name!r} cannot be iterated; index it (x[i]) instead")

    def __len__(self) -> int:
        if not self.shape or self.shape[0] is None:
            raise GraphError(f"len() of {self.name!r} with shape {fmt(self.shape)} is not known while declaring")
        return self.shape[0]

    def rename(self, name: str) -> "Tensor":
        """Give the node a (unique) name, for pictures, errors and feeds; returns the tensor. The same as
        ``t.name = "price"``, or ``name="price"`` on the op that made it (every ``rg.*`` op takes ``name=``).

        >>> price = (apple * num * tax).rename("price")
        """
        self.graph.rename(self.id, name)
        return self
