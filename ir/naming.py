"""``name=`` on every public op function, given in one place.

Each ``rg.*`` op function is wrapped by :func:`with_name` when the package exports it
(``ir/ops/__init__.py`` wraps everything listed in ``PUBLIC``), so an op family added
later gets the keyword without writing it. The wrapper builds the result as usual and
then names it: a Tensor's node is renamed (names stay unique; a taken name is refused
*before* anything is built), a dynamic Variable gets ``.name``, a plain array ignores it.
Composite functions (built from several ops) name their final result.

>>> y = rg.tanh(x @ W, name="hidden")
>>> y.name
'hidden'
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional

from .errors import GraphError


def with_name(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with a keyword-only ``name=`` that names its result (see the module docstring)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: leave it alone
        return fn
    if "name" in sig.parameters or getattr(fn, "_rg_named", False):
        return fn  # it handles name= itself

    @functools.wraps(fn)
    def named(*args: Any, name: Optional[str] = None, **kwargs: Any) -> Any:
        if name is None:
            return fn(*args, **kwargs)
        _check_free(name, fn.__name__, args, kwargs)
        return name_result(fn(*args, **kwargs), name, fn.__name__)

    params = list(sig.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    params.insert(at, inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"))
    named.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]  (help() shows name=)
    named._rg_named = True  # type: ignore[attr-defined]
    return named


def name_result(result: Any, name: str, what: str = "op") -> Any:
    """Give ``result`` (a Tensor, a dynamic Variable or a plain value) the name ``name``."""
    from .tensor import Tensor

    if not isinstance(name, str):
        raise GraphError(f"{what}: name={name!r} must be a string")
    if isinstance(result, Tensor):
        return result.rename(name)
    if isinstance(result, (tuple, list)):
        raise GraphError(f"{what}: name={name!r} names one result, and this op returns {len(result)}; "
                         "name each with .rename(...)")
    if hasattr(type(result), "_rg_frontend") and hasattr(result, "name"):  # a dynamic Variable
        result.name = name
    return result  # a plain NumPy result has no name to carry


def _check_free(name: Any, what: str, args: tuple, kwargs: dict) -> None:
    """Refuse a name the operands' graph already uses, before the op builds anything."""
    from .tensor import Tensor

    if not isinstance(name, str):
        raise GraphError(f"{what}: name={name!r} must be a string")
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(t, Tensor):
                if name in t.graph:
                    raise GraphError(f"{what}: name {name!r} is already used in graph {t.graph.name!r}; "
                                     "names must be unique")
                return
