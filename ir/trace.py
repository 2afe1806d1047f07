"""``rg.trace``: capture a Python function of tensors as a Graph.

The function is called once with symbolic inputs named after its parameters;
Python control flow runs at trace time, so an ``if`` on a *value* cannot be
captured (a Tensor refuses ``bool()``, pointing at ``rg.where``) and a loop is
unrolled for the sizes seen.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .dtypes import as_dtype
from .errors import GraphError
from .graph import Graph
from .tensor import Tensor


def trace(fn: Callable[..., Any], **example_feeds: Any) -> Graph:
    """The Graph of ``fn``, with inputs shaped and typed like ``example_feeds``; ``g.outputs`` holds what fn returned.

    >>> def model(x, W): return rg.sum(rg.relu(x @ W))
    >>> g = rg.trace(model, x=np.ones((2, 3)), W=np.ones((3, 4)))
    >>> rg.compile(g.outputs)(x=np.ones((2, 3)), W=np.ones((3, 4)))
    24.0
    """
    if not callable(fn):
        raise GraphError(f"rg.trace needs a function, got {type(fn).__name__}")
    params = _parameters(fn)
    missing = [p for p in params if p not in example_feeds]
    extra = [k for k in example_feeds if k not in params]
    if missing or extra:
        raise GraphError(f"rg.trace({getattr(fn, '__name__', 'fn')}): give one example per parameter "
                         f"{params}; missing {missing}, unknown {extra}")
    g = Graph(getattr(fn, "__name__", "traced"))
    inputs = {}
    for name in params:
        arr = np.asarray(example_feeds[name])
        dtype = as_dtype(arr.dtype, what=f"example for {name!r}")
        inputs[name] = g.input(name, shape=arr.shape, dtype=dtype)
    out = fn(**inputs)
    _check_outputs(out, fn)
    g.outputs = out
    return g


def _parameters(fn: Callable[..., Any]) -> list[str]:
    sig = inspect.signature(fn)
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise GraphError(f"rg.trace: parameter *{p.name} of {fn.__name__} cannot be traced; name each input")
        names.append(p.name)
    return names


def _check_outputs(out: Any, fn: Callable[..., Any]) -> None:
    items = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, (list, tuple)) else [out]
    for item in items:
        if not isinstance(item, Tensor):
            raise GraphError(f"rg.trace: {getattr(fn, '__name__', 'fn')} returned {type(item).__name__}; it must "
                             "return Tensors computed from its inputs (a Tensor, or a list/tuple/dict of them)")
