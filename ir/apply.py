"""``apply(op, *operands, **attrs)``: the one entry point every op function and
operator goes through. It picks a *frontend* from the operand types:

* any ``Tensor``     -> build a node in its graph (define-and-run);
* any object whose class carries ``_rg_frontend`` (dynamic Variables)
                     -> that frontend (define-by-run);
* only plain values  -> compute at once with the eager evaluator a backend
                        registered (NumPy), returning an ndarray.

ir/ knows no backend: the eager evaluator is registered from outside.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .errors import GraphError
from .registry import Aval, OpDef, ShapeRuleError, get

_eager: Optional[Callable[[str, list, dict], Any]] = None


def set_eager_evaluator(fn: Callable[[str, list, dict], Any]) -> None:
    """Register how ops on plain NumPy values compute (the numpy backend does this)."""
    global _eager
    _eager = fn


def apply(op: str, /, *operands: Any, **attrs: Any) -> Any:
    """Apply op ``op`` to ``operands`` in whichever frontend they belong to; ``name=`` names the node
    in a graph (positional-only ``op`` keeps that keyword free).

    >>> apply("add", x, 1.0, name="x_plus_one")
    """
    opdef = get(op)
    if opdef.arity != len(operands):
        opdef.check_arity(len(operands))  # variadic ops (arity None) are checked here too
    frontend = None
    for o in operands:
        t = type(o)
        if t in _PLAIN_TYPES:  # skips the failing attribute lookup below (an exception inside getattr)
            continue
        f = getattr(t, "_rg_frontend", None)
        if f is None:
            continue
        if frontend is None:
            frontend = f
        elif f is not frontend:
            kinds = sorted({type(o).__name__ for o in operands if hasattr(type(o), "_rg_frontend")})
            raise GraphError(f"{op}: cannot mix {' and '.join(kinds)} operands; a symbolic Tensor and a dynamic "
                             "Variable live in different engines -- use one or the other (rg.trace turns a function "
                             "into a graph)")
    if frontend is not None:
        return frontend.apply(opdef, operands, attrs)
    return eager_apply(opdef, operands, attrs)


# Operand types that are certainly plain values (no frontend): checked by identity before looking for one.
_PLAIN_TYPES = frozenset({bool, int, float, complex, str, bytes, type(None), list, tuple, np.ndarray, np.bool_,
                          np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                          np.uint64, np.uint32, np.uint16, np.uint8, np.complex128, np.complex64})


def eager_apply(opdef: OpDef, operands: tuple, attrs: dict) -> Any:
    """Compute ``opdef`` on plain values with the registered evaluator."""
    values = [o if isinstance(o, (bool, int, float)) else np.asarray(o) for o in operands]
    attrs.pop("name", None)  # names only mean something in a graph
    # The shape rule's verdict depends only on the operands' shapes and dtypes (a Python number: its type and
    # value) and the attributes, so it is kept per signature (like the dynamic engine's plans).
    key = _signature(opdef, values, attrs)
    plan = _EAGER_PLANS.get(key) if key is not None else None
    if plan is None or plan[0] is not opdef:
        avals = [aval_of_value(v) for v in values]
        plan = (opdef, declare(opdef, avals, attrs, lambda: [repr_operand(v) for v in values])[0])
        if key is not None:
            if len(_EAGER_PLANS) >= _EAGER_PLANS_MAX:
                _EAGER_PLANS.clear()
            _EAGER_PLANS[key] = plan
    if _eager is None:
        raise RuntimeError("no eager evaluator registered; import revgraph (not revgraph.ir alone)")
    return _eager(opdef.name, values, plan[1])


# signature -> (opdef, normalised attributes); bounded, so a long session cannot grow it forever
_EAGER_PLANS: dict[tuple, tuple] = {}
_EAGER_PLANS_MAX = 4096


def _signature(opdef: OpDef, values: list, attrs: dict) -> Optional[tuple]:
    sig: list = [opdef.name]
    for v in values:
        sig.append((v.shape, v.dtype) if type(v) is np.ndarray else (type(v), v))
    if attrs:
        sig.append(tuple(attrs.items()))
    try:
        key = tuple(sig)
        hash(key)
    except TypeError:  # an unhashable attribute (a slice before Python 3.12): no caching
        return None
    return key


def aval_of_value(v: Any) -> Aval:
    """The abstract value of a concrete operand (a Python scalar stays weak)."""
    if isinstance(v, (bool, int, float)):
        return Aval((), np.asarray(v).dtype, v)
    return Aval(tuple(v.shape), v.dtype)


def repr_operand(v: Any) -> str:
    if isinstance(v, (bool, int, float)):
        return repr(v)
    return f"array{tuple(v.shape)}"


def declare(opdef: OpDef, avals: list[Aval], attrs: dict, names: Any, node_name: str = "") -> tuple:
    """Normalise the attributes and run the shape rule: ``(attrs, shape, dtype)``.
    A failure becomes a GraphError naming the op, its operands, their shapes and the fix.
    ``names`` labels the operands (a list, or a function making it: only errors need it)."""
    try:
        attrs = opdef.prepare(avals, attrs)
        shape, dtype = opdef.infer(*avals, **attrs)
        return attrs, shape, dtype
    except ShapeRuleError as exc:
        from .shapes import fmt

        names = names() if callable(names) else names
        ops = ", ".join(f"{n}: shape {fmt(a.shape)} {a.dtype}" for n, a in zip(names, avals))
        where = f" declaring {node_name!r}" if node_name else ""
        fix = f" Fix: {exc.fix}." if exc.fix else ""
        raise GraphError(f"{opdef.name}{where} with operands ({ops}): {exc.detail}.{fix}") from None
