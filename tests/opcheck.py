"""Running one op-table row through either engine: its value, first derivatives (a vector-Jacobian
product with a random projection of the output) and second derivatives (the gradient of
<first derivatives, r> for random directions r), as arrays. Shared by tests/test_ops_table.py
(against NumPy and central differences) and tests/test_dynamic_ops.py (dynamic against static)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

import revgraph as rg
from revgraph import dynamic as dy
from opcase import sample


def row_inputs(fn: Callable, specs: list, seed: int, dtype: Any = np.float64) -> tuple:
    """Operand values, a projection of the output (1.0 for a scalar output) and second-order
    directions, all sampled in float64 and then given ``dtype`` (so float32 runs see the same numbers)."""
    rng = np.random.default_rng(seed)
    values = [sample(shape, dom, rng) for shape, dom in specs]
    out_shape = np.shape(fn(*values))
    proj = rng.normal(size=out_shape) if out_shape else 1.0
    second = [rng.normal(size=shape) for shape, _ in specs]
    cast = lambda a: a if isinstance(a, float) else np.asarray(a, dtype=dtype)
    return [cast(v) for v in values], cast(proj), [cast(r) for r in second]


def static_graph(fn: Callable, specs: list, dtype: Any = np.float64) -> tuple:
    g = rg.Graph("op")
    xs = [g.input(f"x{i}", shape=shape, dtype=dtype) for i, (shape, _) in enumerate(specs)]
    return g, xs, fn(*xs)


def static_results(fn: Callable, specs: list, values: list, proj: Any, second: Optional[list],
                   dtype: Any = np.float64) -> list:
    """[value, d/dx0, ..., and with ``second``: d/dx0 <grads, second>, ...] compiled."""
    g, xs, out = static_graph(fn, specs, dtype)
    grads = rg.grad(rg.sum(out * proj), xs)
    wanted = [out, *grads]
    if second is not None:
        wanted += rg.grad(sum(rg.sum(d * r) for d, r in zip(grads, second)), xs)
    return rg.compile(wanted)(**{x.name: v for x, v in zip(xs, values)})


def dynamic_results(fn: Callable, values: list, proj: Any, second: Optional[list]) -> list:
    """The same list as ``static_results``, from dy.Variables (``create_graph`` for second order)."""
    xs = [dy.Variable(v) for v in values]
    out = fn(*xs)
    rg.sum(out * proj).backward(create_graph=second is not None)
    # no gradient reaches x (floor, sign ...): None, where the static engine gives zeros
    grads = [x.grad if x.grad is not None else dy.Variable(np.zeros_like(x.data)) for x in xs]
    result = [out.data, *[g.data for g in grads]]
    if second is not None:
        for x in xs:
            x.cleargrad()
        sum(rg.sum(d * r) for d, r in zip(grads, second)).backward()
        result += [x.grad.data if x.grad is not None else np.zeros_like(x.data) for x in xs]
    return result


def labels(n_inputs: int, second: bool) -> list[str]:
    first = [f"d/dx{i}" for i in range(n_inputs)]
    return ["value", *first] + ([f"d2 (d/dx{i} of <grad, r>)" for i in range(n_inputs)] if second else [])


def scaled_close(actual: Any, expected: Any, rtol: float, what: str) -> None:
    """allclose with an absolute floor proportional to the result's size (float32 rounding is relative)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=rtol * max(scale, 1e-3), err_msg=what)
