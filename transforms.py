"""``rg.jacobian``, ``rg.hessian``, ``rg.hvp``: derivatives beyond one VJP, on graph Tensors (they add
nodes, like ``rg.grad``) and on dynamic Variables (they compute, recording while recording is on, so
the results differentiate again).

Both engines have reverse mode only, so a Jacobian is one VJP per element of ``y``, each seeded with
that element's one-hot (built at run time by ``getitem_grad``, so the graph holds no m x m
constant), stacked to ``y.shape + x.shape``. Its cost is ``y.size`` backward passes: in a graph,
``y.size`` copies of the adjoint nodes (a 10^4-element ``y`` over a 100-node model is about 10^6
nodes -- use ``hvp`` or a VJP when that is too many). ``hvp`` is two passes whatever the size.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from .compiler import grad as graph_grad
from .dynamic import Variable
from .dynamic.grads import vjp as dynamic_vjp
from .dynamic.mode import MODE
from .ir.errors import GraphError
from .ir.ops import concatenate, expand_dims, sum as rg_sum
from .ir.shapes import fmt
from .ir.tensor import Tensor

Operand = Union[Tensor, Variable]


def jacobian(y: Operand, x: Union[Operand, Sequence[Operand]]) -> Any:
    """d y / d x, of shape ``y.shape + x.shape`` (a list when ``x`` is a list).

    >>> g = rg.Graph(); x = g.input("x", shape=(3,))
    >>> J = rg.jacobian(rg.sin(x) * 2.0, x)       # shape (3, 3), diagonal 2 cos(x)
    """
    single = not isinstance(x, (list, tuple))
    xs = [x] if single else list(x)
    _check(y, xs, "jacobian")
    if any(d is None or d == 0 for d in y.shape):
        raise GraphError(f"rg.jacobian: output {y.name or ''!r} has shape {fmt(y.shape)} with a size fixed only at run "
                         "time (or none at all); a Jacobian takes one VJP per output element, so declare the output's "
                         "shape")
    rows = [_vjp(y, xs, _one_hot(y, index)) for index in np.ndindex(*y.shape)]
    results = [_stack([row[k] for row in rows], tuple(y.shape)) for k in range(len(xs))]
    return results[0] if single else results


def hessian(y: Operand, x: Operand) -> Any:
    """The matrix of second derivatives of a scalar ``y``, of shape ``x.shape + x.shape``.

    >>> H = rg.hessian(rg.sum(x ** 3.0), x)        # diag(6x)
    """
    _check(y, [x], "hessian")
    _need_scalar(y, "hessian")
    return jacobian(_vjp(y, [x], None)[0], x)


def hvp(y: Operand, x: Operand, v: Any) -> Any:
    """The Hessian of a scalar ``y`` times ``v`` (``x``'s shape), in two reverse passes.

    >>> Hv = rg.hvp(rg.sum(x ** 3.0), x, np.ones(3))   # 6x
    """
    _check(y, [x], "hvp")
    _need_scalar(y, "hvp")
    (gx,) = _vjp(y, [x], None)
    return _vjp(rg_sum(gx * v), [x], None)[0]


def _vjp(y: Operand, xs: list, seed: Any) -> list:
    if isinstance(y, Tensor):
        return graph_grad(y, xs, seed=seed)
    seed = np.ones(y.shape, y.dtype) if seed is None else seed
    return dynamic_vjp(y, xs, seed, create_graph=MODE.recording)


def _one_hot(y: Operand, index: tuple) -> Any:
    """A seed of y's shape with a one at ``index``: run-time zeros in a graph, an array for a Variable."""
    if isinstance(y, Variable):
        e = np.zeros(y.shape, y.dtype)
        e[index] = 1
        return e
    from .ir.apply import apply

    one = y.graph.constant(np.ones((), y.dtype), name=y.graph.fresh_name("one"))
    return apply("getitem_grad", one, y, index=index) if index else one


def _stack(rows: list, shape: tuple) -> Any:
    """Rows in C order of ``shape`` stacked into one value of shape ``shape + row.shape``."""
    if not shape:
        return rows[0]
    n = shape[0]
    chunk = len(rows) // n
    parts = [_stack(rows[i * chunk:(i + 1) * chunk], shape[1:]) for i in range(n)]
    return concatenate([expand_dims(p, 0) for p in parts], axis=0) if n > 1 else expand_dims(parts[0], 0)


def _check(y: Any, xs: list, what: str) -> None:
    kinds = {type(o) for o in [y, *xs]}
    if not (kinds <= {Tensor} or kinds <= {Variable}):
        names = ", ".join(sorted(k.__name__ for k in kinds))
        raise GraphError(f"rg.{what}: y and x must be all graph Tensors or all dynamic Variables, got {names}")
    if isinstance(y, Variable):
        for x in xs:
            if x.data.dtype.kind not in "fc":
                raise GraphError(f"rg.{what}: cannot differentiate with respect to a Variable of dtype "
                                 f"{x.data.dtype}; only float Variables have gradients")


def _need_scalar(y: Operand, what: str) -> None:
    if any(d != 1 for d in y.shape):
        name = f" {y.name!r}" if y.name else ""
        raise GraphError(f"rg.{what}: output{name} has shape {fmt(tuple(y.shape))}; a Hessian is of a scalar "
                         "output -- reduce it first (rg.sum), or use rg.jacobian of its gradient")
