"""``rg.trace``: capture a Python function of tensors as a Graph.

The function is called once with symbolic inputs named after its parameters;
Python control flow runs at trace time, so an ``if`` on a *value* cannot be
captured (a Tensor refuses ``bool()``, pointing at ``rg.where``) and a loop is
unrolled for the sizes seen.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from .dtypes import as_dtype
from .errors import GraphError
from .graph import Graph
from .tensor import Tensor


def trace(fn: Callable[..., Any], /, **example_feeds: Any) -> Graph:
    """The Graph of ``fn``, with inputs shaped and typed like ``example_feeds``; ``g.outputs`` holds what fn returned.
    Every parameter without a default needs an example; one with a default (or bound by functools.partial)
    becomes an input only when given one, else keeps its value. A function taking ``**kwargs`` gets every
    other example as an input of that name (``fn(**feeds)``: e.g. a model's ``**model.params``).

    >>> def model(x, W): return rg.sum(rg.relu(x @ W))
    >>> g = rg.trace(model, x=np.ones((2, 3)), W=np.ones((3, 4)))
    >>> rg.compile(g.outputs)(x=np.ones((2, 3)), W=np.ones((3, 4)))
    24.0
    """
    if not callable(fn):
        raise GraphError(f"rg.trace needs a function, got {type(fn).__name__}")
    required, optional, any_keyword = _parameters(fn)
    missing = [p for p in required if p not in example_feeds]
    extra = [k for k in example_feeds if k not in required and k not in optional]
    if any_keyword:  # fn(**feeds): every other example is an input too, passed by its name
        optional, extra = optional + extra, []
    if missing or extra:
        raise GraphError(f"rg.trace({_name(fn)}): give one example per parameter {required}"
                         f"{f' (and optionally {optional}, which have defaults)' if optional else ''}; "
                         f"missing {missing}, unknown {extra}")
    g = Graph(_name(fn))
    inputs = {}
    for name in [p for p in required + optional if p in example_feeds]:
        arr = np.asarray(example_feeds[name])
        dtype = as_dtype(arr.dtype, what=f"example for {name!r}")
        inputs[name] = g.input(name, shape=arr.shape, dtype=dtype)
    out = fn(**inputs)  # parameters with defaults not given keep them (functools.partial's keywords too)
    _check_outputs(out, fn)
    g.outputs = out
    return g


def _name(fn: Callable[..., Any]) -> str:
    """A function's name; a functools.partial is named after the function it wraps."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__name__", "traced")


def _parameters(fn: Callable[..., Any]) -> tuple[list[str], list[str], bool]:
    """(parameters the examples must give, parameters with defaults they may give, whether fn takes **kwargs)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise GraphError(f"rg.trace: cannot read the parameters of {_name(fn)!r}; wrap it in a def") from None
    required, optional, any_keyword = [], [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            any_keyword = True
            continue
        if p.kind is p.VAR_POSITIONAL:
            raise GraphError(f"rg.trace: parameter *{p.name} of {_name(fn)} cannot be traced; name each input")
        if p.kind is p.POSITIONAL_ONLY:
            raise GraphError(f"rg.trace: parameter {p.name} of {_name(fn)} is positional-only; inputs are "
                             "passed by name (drop the '/')")
        (required if p.default is p.empty else optional).append(p.name)
    return required, optional, any_keyword


def _check_outputs(out: Any, fn: Callable[..., Any]) -> None:
    items = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, (list, tuple)) else [out]
    for item in items:
        if not isinstance(item, Tensor):
            raise GraphError(f"rg.trace: {_name(fn)} returned {type(item).__name__}; it must "
                             "return Tensors computed from its inputs (a Tensor, or a list/tuple/dict of them)")
