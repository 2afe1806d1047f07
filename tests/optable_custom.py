"""Op-table rows of rg.custom_vjp ops (appended to OP_CASES by tests/optable.py): a custom op is held
to every check a built-in one is -- values, first and second derivatives, float32, both engines."""

from __future__ import annotations

import numpy as np

import revgraph as rg
from opcase import ANY, case


@rg.custom_vjp
def table_logaddexp(x, y):
    """Two operands, broadcasting; the VJP returns a tuple."""
    return np.logaddexp(x, y)


@table_logaddexp.defvjp
def _(g, out, x, y):
    return g * rg.exp(x - out), g * rg.exp(y - out)


@rg.custom_vjp
def table_cube(x):
    """One operand: the VJP returns the gradient itself."""
    return x * x * x


@table_cube.defvjp
def _(g, out, x):
    return g * 3.0 * x * x


CUSTOM_CASES = [
    case("custom_vjp_two_inputs", table_logaddexp, [((2, 3), ANY), ((1, 3), ANY)], numpy=np.logaddexp),
    case("custom_vjp_one_input", lambda x: table_cube(rg.sin(x)), [((2, 3), ANY)],
         numpy=lambda x: np.sin(x) ** 3),
]
