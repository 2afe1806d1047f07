"""``rg.custom_vjp``: a function of NumPy arrays becomes one op with a gradient the user writes.

    @rg.custom_vjp
    def logaddexp(x, y):                 # computes on NumPy arrays
        return np.logaddexp(x, y)

    @logaddexp.defvjp
    def _(g, out, x, y):                 # rg ops, so it builds nodes, records, and differentiates again
        return g * rg.exp(x - out), g * rg.exp(y - out)   # one gradient per input (the gradient itself for one)

Calling it on Tensors builds one node (op ``"logaddexp"``, drawn as one box), on Variables computes and
records it, on arrays just computes. The op is a registry entry like any other: its shape/dtype rule
calls the function on sample arrays of the operands' shapes (sizes declared None are tried at two
values; ``shape_rule=`` replaces this), its VJP rules call the user's VJP (once per node: the operands'
rules share one call), and the backends run the function itself. A saved graph names the op; loading it
in a process where the op is not defined is refused -- a graph file is data, never code.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

import numpy as np

from .apply import apply
from .dtypes import NUMERIC_KINDS
from .errors import GraphError
from .registry import Aval, OpDef, ShapeRuleError, all_ops, register, unregister

_CUSTOM: dict[str, "CustomVJP"] = {}


def implementation(name: str) -> Optional[Callable]:
    """The NumPy function of custom op ``name`` (None when ``name`` is no custom op): what backends run."""
    c = _CUSTOM.get(name)
    return None if c is None else c.fn


def implementations() -> dict[str, Callable]:
    return {name: c.fn for name, c in _CUSTOM.items()}


def forget(name: str) -> None:
    """Remove custom op ``name`` from the registry (a test's cleanup; redefining simply replaces)."""
    if name in _CUSTOM:
        del _CUSTOM[name]
        unregister(name)


class CustomVJP:
    """A custom op made by ``rg.custom_vjp`` (see the module docstring). Call it like the function."""

    def __init__(self, fn: Callable, name: Optional[str] = None, shape_rule: Optional[Callable] = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "")
        self.shape_rule = shape_rule
        self._vjp: Optional[Callable] = None
        self._last: tuple = ((), None)  # (operand identities, gradients) of the latest VJP call
        self.arity = _arity(fn, self.name)
        _register(self)

    def defvjp(self, vjp: Callable) -> Callable:
        """Set the VJP ``vjp(g, out, *inputs)``, written with rg ops; it returns the gradient (one input)
        or a tuple with one entry per input (None: no gradient). Returns ``vjp``."""
        self._vjp = vjp
        return vjp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise GraphError(f"custom op {self.name!r} takes its operands positionally, got keyword(s) "
                             f"{sorted(kwargs)}; bind options first (functools.partial) and decorate that")
        return apply(self.name, *args)

    def __repr__(self) -> str:
        return f"<rg.custom_vjp op {self.name!r} of {self.arity} operand(s)>"

    # -- what the registry entry calls -----------------------------------------------------------
    def _infer(self, *avals: Aval) -> tuple:
        if self.shape_rule is not None:
            shape, dtype = self.shape_rule(*avals)
            return tuple(shape), np.dtype(dtype)
        return _sample_shape(self, avals)

    def _gradients(self, g: Any, out: Any, inputs: tuple) -> tuple:
        if self._vjp is None:
            raise GraphError(f"custom op {self.name!r} has no VJP: define one with @{self.name}.defvjp "
                             "(a function vjp(g, out, *inputs) written with rg ops)")
        key = (id(g), id(out), *map(id, inputs))
        if self._last[0] != key:  # the operands' rules of one node share a single call
            grads = self._vjp(g, out, *inputs)
            if self.arity == 1:
                grads = (grads,)
            elif not isinstance(grads, (tuple, list)) or len(grads) != self.arity:
                got = f"a {type(grads).__name__}" + (f" of {len(grads)}" if isinstance(grads, (tuple, list)) else "")
                raise GraphError(f"the VJP of custom op {self.name!r} returned {got}; it must return a tuple of "
                                 f"{self.arity} gradients (one per input, None for no gradient)")
            self._last = (key, (g, out, inputs, tuple(grads)))  # holding the operands keeps their ids unique
        return self._last[1][3]


def custom_vjp(fn: Optional[Callable] = None, *, name: Optional[str] = None,
               shape_rule: Optional[Callable] = None) -> Any:
    """Make ``fn`` (a function of NumPy arrays returning one array) an op whose VJP you define with
    ``@f.defvjp``. ``name=`` names the op (default: the function's name; it must be an identifier);
    ``shape_rule(*avals) -> (shape, dtype)`` replaces calling ``fn`` on sample arrays to learn them.

    >>> @rg.custom_vjp
    ... def cube(x): return x ** 3
    >>> @cube.defvjp
    ... def _(g, out, x): return g * 3.0 * x * x
    >>> rg.grad(rg.sum(cube(x)), x)
    """
    if fn is None:
        return lambda f: CustomVJP(f, name, shape_rule)
    return CustomVJP(fn, name, shape_rule)


def _arity(fn: Callable, name: str) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise GraphError(f"rg.custom_vjp: cannot read the signature of {fn!r}; decorate a Python function") from None
    kinds = [p.kind for p in params]
    if any(k in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
           for k in kinds) or not kinds:
        raise GraphError(f"rg.custom_vjp: {name!r} must take a fixed number (at least one) of positional array "
                         "operands (no *args, **kwargs or keyword-only parameters)")
    return len(kinds)


def _register(c: CustomVJP) -> None:
    if not c.name.isidentifier():
        raise GraphError(f"rg.custom_vjp: op name {c.name!r} is not an identifier; pass name='my_op'")
    existing = all_ops().get(c.name)
    if existing is not None and c.name not in _CUSTOM:
        raise GraphError(f"rg.custom_vjp: {c.name!r} is already a revgraph op; pass another name= (e.g. "
                         f"name='my_{c.name}')")
    forget(c.name)  # redefining a custom op (a notebook cell run again) replaces it

    def rule(i: int) -> Callable:
        return lambda g, out, *xs: c._gradients(g, out, xs)[i]

    module = getattr(c.fn, "__module__", "?")
    register(OpDef(c.name, c.arity, c._infer, vjp=tuple(rule(i) for i in range(c.arity)),
                   doc=f"custom_vjp op: {module}.{getattr(c.fn, '__qualname__', c.name)}"))
    _CUSTOM[c.name] = c


def _sample_shape(c: CustomVJP, avals: tuple) -> tuple:
    """Call the function on sample operands to learn its result's shape and dtype; a size declared None
    is tried at 2 and at 3, and a result size that follows it is None."""
    unknown = any(d is None for a in avals for d in a.shape)
    results = [_sample_call(c, avals, k) for k in ((2, 3) if unknown else (2,))]
    shapes = [r.shape for r in results]
    if len({len(s) for s in shapes}) != 1:
        raise ShapeRuleError(f"custom op {c.name!r} returns results of different ranks for different sizes",
                             "pass shape_rule= to rg.custom_vjp")
    shape = tuple(d if all(s[i] == d for s in shapes) else None for i, d in enumerate(shapes[0]))
    return shape, results[0].dtype


def _sample_call(c: CustomVJP, avals: tuple, k: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    args = [a.weak_value if a.weak else
            rng.uniform(0.5, 1.5, size=tuple(k if d is None else d for d in a.shape)).astype(a.dtype)
            for a in avals]
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(c.fn(*args))
    except Exception as exc:  # the user's function failed on sample values: say how to avoid the sampling
        raise ShapeRuleError(f"calling {c.name!r} on sample arrays to learn its result's shape failed "
                             f"({type(exc).__name__}: {exc})", "pass shape_rule= to rg.custom_vjp") from None
    if out.dtype.kind not in NUMERIC_KINDS:
        raise ShapeRuleError(f"custom op {c.name!r} returned dtype {out.dtype}; it must return one numeric array",
                             "return an ndarray of numbers")
    return out
