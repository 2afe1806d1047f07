"""NumPy functions on Tensors and dynamic Variables: ``np.exp(t)``, ``np.sum(t, axis=0)``,
``np.concatenate([t, t])``, ``np.linalg.inv(t)`` build (or record) revgraph's op, so NumPy code
traces unchanged.

NumPy hands a call whose operands define ``__array_ufunc__`` / ``__array_function__`` to them
(NEP 13, NEP 18). The mapping is by name, read from the registry and the public op modules at
call time, so an op another module adds joins as soon as its name is NumPy's:

* a ufunc (``np.exp``, ``np.add``, ``np.matmul``) -> the registered public op of the same name and
  arity, or of the name in ``UFUNC_ALIASES`` (``subtract`` -> ``sub``);
* any other function of module ``numpy`` / ``numpy.linalg`` / ``numpy.fft`` -> the public function
  of that name in ``rg`` / ``rg.linalg`` / ``rg.fft`` (whose signatures follow NumPy's), or of the
  name in ``FUNCTION_ALIASES``, or a small adapter in ``_ADAPTERS`` (``np.shape``, ``np.dot``
  while no ``rg.dot`` exists);
* anything else is a GraphError naming the NumPy function.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
from typing import Any, Callable, Optional

import numpy as np

from .errors import GraphError

# NumPy names that differ from the registry's.
UFUNC_ALIASES = {"subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div", "negative": "neg",
                 "power": "pow", "absolute": "abs", "conjugate": "conj"}
FUNCTION_ALIASES = {"amax": "max", "absolute": "abs", "subtract": "sub", "multiply": "mul", "divide": "div",
                    "true_divide": "div", "negative": "neg", "power": "pow", "conjugate": "conj"}

# NumPy module -> the revgraph module holding its functions (imported when first needed).
NAMESPACES = {"numpy": ".ops", "numpy.linalg": ".ops.linalg", "numpy.fft": ".ops.fft"}


def _dot(a: Any, b: Any) -> Any:
    """np.dot where it agrees with matmul (a scalar operand, or no operand above 2-D with b 2-D)."""
    from .apply import apply

    if _ndim(a) == 0 or _ndim(b) == 0:
        return apply("mul", a, b)
    if _ndim(a) > 2 and _ndim(b) >= 2:
        raise GraphError(f"np.dot of a {_ndim(a)}-D and a {_ndim(b)}-D operand (an outer product over the batch "
                         "axes) has no revgraph op; use np.matmul / rg.matmul for batched products")
    return apply("matmul", a, b)


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(type(x), "_rg_frontend") else np.ndim(x)


def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Any:
    """np.trace: rg.linalg.trace over axes ``axis1``, ``axis2`` (rg.trace is the function tracer)."""
    from .ops import linalg, transpose

    nd = a.ndim
    pair = (axis1 % nd, axis2 % nd)
    moved = transpose(a, tuple(i for i in range(nd) if i not in pair) + pair)
    return linalg.trace(moved, offset=offset, dtype=dtype)


# Functions with no op of their own: what they read, or a composition.
_ADAPTERS: dict[str, Callable] = {
    "shape": lambda x: tuple(x.shape),
    "ndim": lambda x: x.ndim,
    "size": lambda x, axis=None: x.size if axis is None else x.shape[axis],
    "dot": _dot,
    "trace": _trace,
}


def array_ufunc(self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``__array_ufunc__`` of Tensor and Variable: the registry's op of the ufunc's name."""
    from .apply import apply

    where = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if method != "__call__":
        raise GraphError(f"{where} on {_describe(inputs)} has no revgraph op (only plain ufunc calls are traced); "
                         f"use the rg function instead (np.add.reduce -> rg.sum, ...)")
    out = kwargs.pop("out", None)
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise GraphError(f"{where}(..., out=...) on {_describe(inputs)}: a traced op makes a new value and cannot "
                         "write into an array; drop out= and use the result")
    if kwargs:
        raise GraphError(f"{where} on {_describe(inputs)}: keyword(s) {sorted(kwargs)} are not supported by the "
                         f"revgraph op; call it without them")
    op = _ufunc_op(ufunc)
    if op is None:
        raise _unknown(where, inputs, _registry_names())
    return apply(op, *inputs)


def _ufunc_op(ufunc: Any) -> Optional[str]:
    from .registry import lookup

    for name in (ufunc.__name__, UFUNC_ALIASES.get(ufunc.__name__)):
        opdef = lookup(name) if name else None
        if opdef is not None and not opdef.internal and opdef.arity == ufunc.nin:
            return name
    return None


def array_function(self: Any, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    """``__array_function__`` of Tensor and Variable: the rg function of the NumPy function's name."""
    module = getattr(func, "__module__", "") or ""
    where = f"{'np' if module == 'numpy' else module.replace('numpy', 'np')}.{func.__name__}"
    fn = _function(module, func.__name__)
    if fn is None:
        raise _unknown(where, args, _namespace_names(module))
    try:
        _signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        params = [p.replace(annotation=inspect.Parameter.empty) for p in _signature(fn).parameters.values()]
        raise GraphError(f"{where} on {_describe(args)}: {exc}; revgraph's {func.__name__} takes "
                         f"{func.__name__}{inspect.Signature(params)}") from None
    return fn(*args, **kwargs)


def _function(module: str, name: str) -> Optional[Callable]:
    ns = _namespace(module)
    if ns is None:
        return None
    public = getattr(ns, "__all__", None) or getattr(ns, "PUBLIC", ())
    for n in (name, FUNCTION_ALIASES.get(name)):
        if n and n in public and callable(getattr(ns, n, None)):
            return getattr(ns, n)
    return _ADAPTERS.get(name) if module == "numpy" else None


def _namespace(module: str) -> Any:
    target = NAMESPACES.get(module)
    if target is None:
        return None
    full = importlib.util.resolve_name(target, __package__)
    try:
        ns = importlib.import_module(full)
    except ModuleNotFoundError as exc:  # a family not written yet (rg.fft); other import errors propagate
        if exc.name != full:
            raise
        return None
    return _PublicView(ns) if target == ".ops" else ns


class _PublicView:
    """``ir.ops`` seen through its ``PUBLIC`` list (the names ``rg`` re-exports)."""

    def __init__(self, ns: Any) -> None:
        self._ns = ns
        self.__all__ = list(getattr(ns, "PUBLIC", ()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ns, name)


_SIGNATURES: dict[Callable, inspect.Signature] = {}


def _signature(fn: Callable) -> inspect.Signature:
    sig = _SIGNATURES.get(fn)
    if sig is None:
        sig = _SIGNATURES[fn] = inspect.signature(fn)
    return sig


def _registry_names() -> list[str]:
    from .registry import all_ops

    return [n for n, d in all_ops().items() if not d.internal]


def _namespace_names(module: str) -> list[str]:
    ns = _namespace(module)
    names = list(getattr(ns, "__all__", ())) if ns is not None else []
    return names + (list(_ADAPTERS) if module == "numpy" else [])


def _unknown(where: str, operands: Any, names: list[str]) -> GraphError:
    short = where.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(short, names, n=3)
    hint = f" (close revgraph ops: {', '.join(close)})" if close else ""
    return GraphError(f"{where} has no revgraph op{hint}, so it cannot be traced on {_describe(operands)}; "
                      "write it with rg ops, or apply it to plain arrays outside the traced function")


def _describe(operands: Any) -> str:
    """The traced operands of a call, named, with shapes (lists are looked into once)."""
    seen = []
    for o in operands:
        for x in (o if isinstance(o, (list, tuple)) else (o,)):
            if hasattr(type(x), "_rg_frontend"):
                label = getattr(x, "name", None)
                seen.append(f"{type(x).__name__} {label!r} shape {tuple(x.shape)}" if label
                            else f"{type(x).__name__} shape {tuple(x.shape)}")
    return ", ".join(seen) or "its operands"
