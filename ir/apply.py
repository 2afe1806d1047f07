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

from .dtypes import PY_SCALARS, weak_dtype
from .errors import GraphError
from .registry import Aval, OpDef, ShapeRuleError, get
from .shapes import too_big

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
    """Compute ``opdef`` on plain values with the registered evaluator. When every operand is a
    Python number, they are computed as NumPy values of their dtypes (``1 / 0`` is inf with NumPy's
    warning, ``10 ** 2**62`` wraps in int64 at once): Python's own arithmetic would raise, go
    complex, or compute a huge int for minutes."""
    values = [o if isinstance(o, PY_SCALARS) else np.asarray(o) for o in operands]
    attrs.pop("name", None)  # names only mean something in a graph
    avals = [aval_of_value(v) for v in values]
    attrs = declare(opdef, avals, attrs, lambda: [repr_operand(v) for v in values])[0]
    if _eager is None:
        raise RuntimeError("no eager evaluator registered; import revgraph (not revgraph.ir alone)")
    if all(a.weak for a in avals):
        values = [np.asarray(v, dtype=a.dtype) for v, a in zip(values, avals)]
    return _eager(opdef.name, values, attrs)


def aval_of_value(v: Any) -> Aval:
    """The abstract value of a concrete operand (a Python scalar stays weak; an int beyond int64 is a
    GraphError, see ``ir.dtypes.weak_dtype``)."""
    if isinstance(v, PY_SCALARS):
        return Aval((), weak_dtype(v, "operand"), v)
    return Aval(tuple(v.shape), v.dtype)


def repr_operand(v: Any) -> str:
    if isinstance(v, PY_SCALARS):
        return repr(v)
    return f"array{tuple(v.shape)}"


def declare(opdef: OpDef, avals: list[Aval], attrs: dict, names: Any, node_name: str = "") -> tuple:
    """Normalise the attributes and run the shape rule: ``(attrs, shape, dtype)``.
    A failure becomes a GraphError naming the op, its operands, their shapes and the fix.
    ``names`` labels the operands (a list, or a function making it: only errors need it).

    The verdict depends only on the operands' shapes, dtypes and weak values and on the attributes,
    and a graph repeats a few hundred such signatures, so verdicts are kept per signature."""
    key = _signature(opdef, avals, attrs)
    kept = _DECLARED.get(key) if key is not None else None
    if kept is not None and kept[0] is opdef:
        return dict(kept[1]), kept[2], kept[3]
    given = attrs
    try:
        for k, v in attrs.items():
            big = _int_beyond_int64(v)
            if big is not None:  # no kernel takes it (NumPy converts to C long); a file cannot hold it either
                raise ShapeRuleError(f"attribute {k}: the int {big} does not fit int64", "give a smaller value")
        if not opdef.complex_ok and any(a.dtype.kind == "c" for a in avals):
            raise ShapeRuleError(f"{opdef.name} is not defined for complex operands (NumPy's would order or round "
                                 "complex numbers, or the op has no complex gradient rule here)",
                                 "take rg.real, rg.imag, rg.abs or rg.angle of the complex operand first")
        attrs = opdef.prepare(avals, attrs)
        shape, dtype = opdef.infer(*avals, **attrs)
        reason = too_big(shape, np.dtype(dtype).itemsize)
        if reason:
            raise ShapeRuleError(f"the result's {reason}", "make the operands smaller")
    except ShapeRuleError as exc:
        fix = f" Fix: {exc.fix}." if exc.fix else ""
        raise GraphError(f"{_where(opdef, avals, names, node_name)}: {exc.detail}.{fix}") from None
    except GraphError:
        raise
    except (TypeError, ValueError, LookupError, AttributeError, ArithmeticError) as exc:
        # The rules were written for sane attribute values; an odd one (None where a size goes, an
        # array, a float axis) must still be the user's GraphError, not a crash inside a rule.
        attrs_text = ", ".join(f"{k}={_short(v)}" for k, v in given.items())
        raise GraphError(f"{_where(opdef, avals, names, node_name)}: attributes ({attrs_text}) are not valid "
                         f"for {opdef.name} ({type(exc).__name__}: {str(exc)[:120]}). Fix: give the attribute "
                         f"values op {opdef.name!r} documents (its defaults: {opdef.attrs!r})") from None
    if key is not None:
        if len(_DECLARED) >= _DECLARED_MAX:
            _DECLARED.clear()
        _DECLARED[key] = (opdef, dict(attrs), shape, dtype)
    return attrs, shape, dtype


# signature -> (opdef, normalised attributes, shape, dtype); bounded, so a long session cannot grow it forever
_DECLARED: dict[tuple, tuple] = {}
_DECLARED_MAX = 8192


def _int_beyond_int64(v: Any) -> Optional[str]:
    """The text of an int beyond int64 inside an attribute value (tuples and slices too), else None."""
    if type(v) is int:
        return None if -(2 ** 63) <= v < 2 ** 63 else (str(v) if v.bit_length() <= 128 else f"of {v.bit_length()} bits")
    if type(v) is tuple:
        for x in v:
            found = _int_beyond_int64(x)
            if found:
                return found
    elif type(v) is slice:
        return _int_beyond_int64((v.start, v.stop, v.step))
    return None


def _where(opdef: OpDef, avals: list[Aval], names: Any, node_name: str) -> str:
    from .shapes import fmt

    names = names() if callable(names) else names
    ops = ", ".join(f"{n}: shape {fmt(a.shape)} {a.dtype}" for n, a in zip(names, avals))
    where = f" declaring {node_name!r}" if node_name else ""
    return f"{opdef.name}{where} with operands ({ops})"


def _short(v: Any, limit: int = 60) -> str:
    try:
        text = repr(v)
    except Exception:  # a repr that fails (a huge int) must not hide the real error
        text = f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _signature(opdef: OpDef, avals: list[Aval], attrs: dict) -> Optional[tuple]:
    """What a shape rule sees, as a key: a weak value with its type (True, 1 and 1.0 promote differently)
    and every attribute value with its type, all the way down (``axis=1.0`` is refused where ``axis=1``
    is fine, though ``1.0 == 1``)."""
    sig: list = [opdef.name]
    try:
        for a in avals:
            w = a.weak_value
            sig.append((a.shape, a.dtype) if w is None else (a.shape, a.dtype, typed_key(w)))
        if attrs:
            sig.append(tuple((k, typed_key(v)) for k, v in attrs.items()))
        key = tuple(sig)
        hash(key)
    except Exception:  # an unhashable attribute (a list, an array) or one that cannot be keyed: no keeping
        return None
    return key


def typed_key(v: Any) -> Any:
    """A hashable key for an attribute value that tells apart values equal across types (``1``,
    ``1.0``, ``True``, ``np.int64(1)``) and ``0.0`` from ``-0.0``; tuples and slices item by item
    (slices are not hashable before Python 3.12). Raises TypeError for unhashable values."""
    t = type(v)
    if t is tuple:
        return (tuple, tuple([typed_key(x) for x in v]))
    if t is slice:
        return (slice, typed_key(v.start), typed_key(v.stop), typed_key(v.step))
    if isinstance(v, (float, np.floating)):
        return (t, float(v).hex())
    hash(v)
    return (t, v)
