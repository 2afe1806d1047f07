"""``Variable``: a NumPy array that records the op that made it (define-by-run).

Every operator and ``rg.*`` op function reaches ``ir.apply``, which hands
operands containing a Variable to ``_DynamicFrontend``. The frontend runs the
op's shape rule (``ir.apply.declare``: the same attribute normalisation and the
same GraphError messages as the static graph), computes the value with the
NumPy kernel built from the very template the code generator inlines, and --
unless inside ``dy.no_grad()`` -- records a ``Node`` as the result's creator.

References (DeZero's design, so a graph is freed as soon as the user drops its
outputs, without waiting for the cycle collector): a Variable holds its creator
strongly, a Node holds its inputs strongly and its output only *weakly*. The
recorded graph is therefore alive exactly as long as something the user holds
reaches it from the output side.
"""

from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from ..backends.numpy.kernels import kernel
from ..ir.apply import aval_of_value, declare, typed_key
from ..ir.dtypes import INT64_MAX, INT64_MIN, NUMERIC_KINDS, PY_SCALARS, weak_dtype
from ..ir.errors import GraphError
from ..ir.methods import ArrayMethods
from ..ir.registry import OpDef, get
from ..ir.shapes import fmt
from .mode import MODE

_ndarray = np.ndarray
_INT_MIN, _INT_MAX = INT64_MIN, INT64_MAX  # a Python int operand must fit int64 (ir.dtypes.weak_dtype)
_asarray = np.asarray
_ref = weakref.ref


class Node:
    """One recorded application of an op: the creator of a Variable.

    ``op`` (name), ``attrs`` (normalised), ``inputs`` (Variables and the plain
    values they were combined with), ``output`` (the Variable, while it lives),
    and ``generation`` (that of its deepest input; the output's is one more).
    """

    # kept_grad (set by a plain backward, absent until then): the output's gradient when it is small
    # (at most KEEP_SIZE elements), kept for pictures after the Variable's own .grad was released.
    __slots__ = ("opdef", "attrs", "inputs", "_output", "generation", "kept_grad")

    def __init__(self, opdef: OpDef, attrs: dict, inputs: tuple, output: "Variable", generation: int) -> None:
        self.opdef = opdef
        self.attrs = attrs
        self.inputs = inputs
        self._output = _ref(output)
        self.generation = generation

    @property
    def op(self) -> str:
        return self.opdef.name

    @property
    def output(self) -> Optional["Variable"]:
        """The Variable this op made, or None once nothing holds it any more."""
        return self._output()

    def __repr__(self) -> str:
        return f"<dy.Node {self.opdef.name} generation={self.generation}>"


# -- the frontend -------------------------------------------------------------------------------------
# Plans: (op, operand shapes/dtypes or scalar types, attrs) -> (opdef, kernel, normalised attrs).
# Computing one costs the shape rule and the attribute normaliser; a model repeats the same few
# hundred signatures, so they are computed once. Bounded, so a long session cannot grow it forever.
_PLANS: dict[tuple, tuple] = {}
_PLANS_MAX = 8192


def _plan(opdef: OpDef, values: list, operands: tuple, attrs: dict, name: Optional[str]) -> tuple:
    avals = [aval_of_value(v) for v in values]
    labels = [_label(o, v) for o, v in zip(operands, values)]
    nattrs, _, _ = declare(opdef, avals, dict(attrs), labels, name or "")
    return opdef, _on_scalars(kernel(opdef.name, len(values), nattrs), values, opdef), nattrs


def _on_scalars(k: Any, values: list, opdef: OpDef) -> Any:
    """The kernel of an elementwise op on 0-d float arrays (and Python numbers) fed NumPy scalars instead:
    the same dtype and ufunc loop, so the same values, but an op on 0-d arrays costs about eight times one
    on scalars (the static engine's generated code computes on scalars for the same reason). The result is
    made a 0-d array again by ``_finish``. Anything else: the kernel as it is."""
    if not opdef.elementwise or not 1 <= len(values) <= 2:
        return k
    arrays = [type(v) is _ndarray for v in values]
    if not any(arrays) or any(a and (v.ndim or v.dtype.kind not in "fc") for a, v in zip(arrays, values)):
        return k
    if len(values) == 1:
        return lambda a: k(a[()])
    if all(arrays):
        return lambda a, b: k(a[()], b[()])
    return (lambda a, b: k(a[()], b)) if arrays[0] else (lambda a, b: k(a, b[()]))


def _label(o: Any, v: Any) -> str:
    if isinstance(o, Variable):
        return f"Variable {o.name!r}" if o.name else "Variable"
    return repr(v) if isinstance(v, PY_SCALARS) else f"array{tuple(v.shape)}"


def _plain(o: Any) -> Any:
    """A non-Variable operand as the kernels take it: Python scalars stay (weak), the rest become arrays.
    A Python int beyond int64 is a GraphError here, not only when a plan is made (plans are kept per type)."""
    if isinstance(o, PY_SCALARS) and not isinstance(o, np.generic):
        if type(o) is int and not _INT_MIN <= o <= _INT_MAX:
            weak_dtype(o, "operand")  # raises the GraphError
        return o
    try:
        arr = _asarray(o)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind not in NUMERIC_KINDS:
        raise GraphError(f"cannot use {type(o).__name__} {o!r:.40} as an operand next to a dynamic Variable; "
                         "use a Variable, a number or a numeric array")
    return arr


class _DynamicFrontend:
    """Computes at once with the NumPy kernels and records the creating op."""

    def apply(self, opdef: OpDef, operands: tuple, attrs: dict) -> "Variable":
        try:
            # The hot path: no attributes, Variables and Python numbers only (what operators and VJP rules
            # mostly do). Anything else takes the general path below; both end in _finish.
            if not attrs and len(operands) == 2:
                a, b = operands
                ta, tb = type(a), type(b)
                if ta is Variable and tb is Variable:
                    va, vb = a.data, b.data
                    ga, gb = a.generation, b.generation
                    plan = _PLANS.get((opdef.name, va.shape, va.dtype, vb.shape, vb.dtype))
                    if plan is not None and plan[0] is opdef:
                        return _finish(opdef, plan, plan[1](va, vb), operands, ga if ga > gb else gb, None)
                elif ta is Variable and (tb is float or tb is int and _INT_MIN <= b <= _INT_MAX):
                    va = a.data
                    plan = _PLANS.get((opdef.name, va.shape, va.dtype, tb))
                    if plan is not None and plan[0] is opdef:
                        return _finish(opdef, plan, plan[1](va, b), operands, a.generation, None)
                elif tb is Variable and (ta is float or ta is int and _INT_MIN <= a <= _INT_MAX):
                    vb = b.data
                    plan = _PLANS.get((opdef.name, ta, vb.shape, vb.dtype))
                    if plan is not None and plan[0] is opdef:
                        return _finish(opdef, plan, plan[1](a, vb), operands, b.generation, None)
            elif not attrs and len(operands) == 1 and type(operands[0]) is Variable:
                a = operands[0]
                va = a.data
                plan = _PLANS.get((opdef.name, va.shape, va.dtype))
                if plan is not None and plan[0] is opdef:
                    return _finish(opdef, plan, plan[1](va), operands, a.generation, None)
            return self._general(opdef, operands, attrs)
        except GraphError:
            raise
        except (ValueError, TypeError, IndexError, OverflowError) as exc:  # from inside a NumPy kernel (labels
            # out of range; a Python int too big for an int8 operand, when a plan made for a small one is reused)
            raise _kernel_error(opdef, operands, exc) from exc

    def _general(self, opdef: OpDef, operands: tuple, attrs: dict) -> "Variable":
        name = attrs.pop("name", None) if attrs else None
        values = []
        sig: list = [opdef.name]  # the same key layout as the hot path above
        generation = 0
        converted = False
        for o in operands:
            if isinstance(o, Variable):
                d = o.data
                values.append(d)
                sig.append(d.shape)
                sig.append(d.dtype)
                if o.generation > generation:
                    generation = o.generation
                continue
            v = _plain(o)
            values.append(v)
            if type(v) is _ndarray:
                converted = True
                sig.append(v.shape)
                sig.append(v.dtype)
            else:
                converted = converted or v is not o
                sig.append(type(v))
        try:
            if attrs:  # each value with its type: axis=1.0 must not reuse the plan made for axis=1
                sig.append(tuple([(k, typed_key(v)) for k, v in attrs.items()]))
            key: Optional[tuple] = tuple(sig)
            plan = _PLANS.get(key)
        except TypeError:  # an unhashable attribute (a list, an array): no caching
            key, plan = None, None
        if plan is None or plan[0] is not opdef:
            plan = _plan(opdef, values, operands, attrs, name)
            if key is not None:
                if len(_PLANS) >= _PLANS_MAX:
                    _PLANS.clear()
                _PLANS[key] = plan
        inputs = operands if not converted else tuple(
            o if isinstance(o, Variable) else v for o, v in zip(operands, values))
        return _finish(opdef, plan, plan[1](*values), inputs, generation, name)


def _kernel_error(opdef: OpDef, operands: tuple, exc: Exception) -> GraphError:
    described = []
    for o in operands:
        v = o.data if isinstance(o, Variable) else o
        described.append(f"{_label(o, v)}: shape {fmt(np.shape(v))} {np.result_type(v)}")
    return GraphError(f"{opdef.name} with operands ({', '.join(described)}) failed while computing: {exc}")


def _finish(opdef: OpDef, plan: tuple, out: Any, inputs: tuple, generation: int, name: Optional[str]) -> "Variable":
    """Wrap a kernel's result and, while recording, give it its creator."""
    if type(out) is not _ndarray:  # NumPy returns scalars for 0-d results; .data is always an array
        out = _asarray(out)
    var = _new_variable(Variable)
    var.data = out
    var.name = name
    var.grad = None
    if MODE.recording:
        node = _new_node(Node)
        node.opdef = opdef
        node.attrs = plan[2]
        node.inputs = inputs
        node._output = _ref(var)
        node.generation = generation
        var.creator = node
        var.generation = generation + 1
    else:
        var.creator = None
        var.generation = 0
    return var


# -- Variable -------------------------------------------------------------------------------------------
def _as_data(data: Any) -> np.ndarray:
    if isinstance(data, _ndarray) or isinstance(data, (*PY_SCALARS, np.generic)):
        arr = _asarray(data)
        if arr.dtype.kind in NUMERIC_KINDS:
            return arr
        raise TypeError(f"dy.Variable needs numbers; got an array of dtype {arr.dtype} "
                        "(use a bool, integer, float or complex dtype)")
    hint = " (convert it first: dy.Variable(np.array(...)))" if isinstance(data, (list, tuple)) else ""
    raise TypeError(f"dy.Variable wraps a NumPy array or a number, got {type(data).__name__}{hint}")


class Variable(ArrayMethods):
    """A value that records how it was computed, for ``backward()``.

    >>> from revgraph import dynamic as dy
    >>> x = dy.Variable(np.array(3.0))
    >>> y = x * x + x
    >>> y.backward(); x.grad
    Variable(7.0)
    """

    __slots__ = ("data", "name", "grad", "creator", "generation", "__weakref__")
    _rg_frontend = _DynamicFrontend()

    def __init__(self, data: Any, name: Optional[str] = None) -> None:
        # the common case first: an ndarray of numbers is taken as it is (what _as_data would do, sooner)
        self.data = data if type(data) is _ndarray and data.dtype.kind in NUMERIC_KINDS else _as_data(data)
        self.name = name
        self.grad: Optional[Variable] = None
        self.creator: Optional[Node] = None
        self.generation = 0

    # -- differentiation ---------------------------------------------------------------------------
    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Reverse mode over the recorded ops: fills ``.grad`` of every Variable this one depends on.

        Gradients add up across calls until ``cleargrad()``. Intermediate gradients are freed unless
        ``retain_grad``; ``create_graph=True`` records the backward pass too, so ``x.grad`` can be
        differentiated again. A non-scalar output is seeded with ones.

        >>> y = x ** 4.0; y.backward(create_graph=True)
        >>> gx = x.grad; x.cleargrad(); gx.backward()     # x.grad is now the second derivative
        """
        _backward(self, retain_grad, create_graph)

    def _rg_scene(self, values: bool = False) -> dict:
        """What the drawing core needs to picture the recorded graph (``rg.to_dot(variable)`` calls this).

        With ``values=True`` edges carry values, and the gradients still held: leaves' always, every
        edge's after ``backward(retain_grad=True)``."""
        from .record import scene

        return scene(self, values)

    def cleargrad(self) -> None:
        """Forget the gradient accumulated so far."""
        self.grad = None

    def unchain_backward(self) -> None:
        """Cut the recorded graph behind this Variable (DeZero's truncated BPTT): every Variable it was
        computed from forgets its creator, so a later backward stops here and the old graph can be freed."""
        seen, todo = set(), [self]
        while todo:
            v = todo.pop()
            node, v.creator = v.creator, None
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            todo.extend(x for x in node.inputs if isinstance(x, Variable) and x.creator is not None)

    # -- what the value is ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        """Rows along the first axis, each a recorded ``getitem`` (so gradients flow through a loop over rows)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d Variable")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:  # concrete values: Python control flow works (the point of define-by-run)
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.asarray(variable)``: the value (not recorded: ops on it are plain NumPy)."""
        data = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return data.copy() if copy and data is self.data else data

    def __repr__(self) -> str:
        if self.data.ndim == 0:
            text = repr(self.data.item())
        elif self.data.size <= 8:
            text = np.array2string(self.data, separator=", ").replace("\n", "")
        else:
            text = f"shape={fmt(self.data.shape)}"
        named = f", name={self.name!r}" if self.name else ""
        dtype = "" if self.data.dtype == np.float64 else f", dtype={self.data.dtype}"
        return f"Variable({text}{dtype}{named})"

    # -- operators (installed below by _install_operators) -----------------------------------

    __hash__ = object.__hash__  # identity: Variables are used as dict keys; elementwise == is rg.equal


from ..ir.apply import apply as _apply  # noqa: E402


def _operator(op: str, reflected: bool) -> Any:
    """``Variable.__mul__`` and friends. When the other operand is a Variable, a Python number or an
    ndarray the frontend is certainly ours, so the op goes straight to it (the same code ``ir.apply``
    would reach, minus the dispatch); anything else takes the general path through ``ir.apply``."""
    opdef = get(op)
    direct = _DynamicFrontend.apply
    frontend = Variable._rg_frontend

    def method(self: Variable, o: Any) -> Variable:
        operands = (o, self) if reflected else (self, o)
        t = type(o)
        if t is Variable or t is float or t is int or t is _ndarray:
            return direct(frontend, opdef, operands, {})
        return _apply(op, *operands)

    method.__name__ = f"__{'r' if reflected else ''}{op}__"
    return method


def _unary(op: str) -> Any:
    opdef = get(op)
    direct = _DynamicFrontend.apply
    frontend = Variable._rg_frontend

    def method(self: Variable) -> Variable:
        return direct(frontend, opdef, (self,), {})

    method.__name__ = f"__{op}__"
    return method


def _install_operators() -> None:
    for dunder, op in [("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"), ("pow", "pow"),
                       ("matmul", "matmul")]:
        setattr(Variable, f"__{dunder}__", _operator(op, reflected=False))
        setattr(Variable, f"__r{dunder}__", _operator(op, reflected=True))
    for dunder, op in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")]:
        setattr(Variable, f"__{dunder}__", _operator(op, reflected=False))
    for dunder, op in [("neg", "neg"), ("abs", "abs")]:
        setattr(Variable, f"__{dunder}__", _unary(op))


_install_operators()


def as_variable(x: Any) -> Variable:
    """``x`` itself if it is a Variable, else a new leaf Variable wrapping it."""
    return x if isinstance(x, Variable) else Variable(x)


_new_variable = Variable.__new__
_new_node = Node.__new__

from .backward import backward as _backward  # noqa: E402  (backward.py imports this module's classes)
