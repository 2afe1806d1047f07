"""Lower a Plan for Dask: the numpy backend's code generator with the Dask kernels, each program
wrapped so that it builds a task graph on dask arrays and computes it in one go.

The generated function runs on the caller's side and only *builds* the graph (every op is a dask
array operation; nothing is computed). The wrapper then hands all the results to one
``dask.compute`` call, so work the results share (the forward values a loss and its gradients
both read) is computed once; dask runs it on the active ``dask.distributed`` Client when there is
one, else on its threaded scheduler.
"""

from __future__ import annotations

from typing import Any, Callable

import dask
import dask.array as da
import numpy as np

from ...compiler.plan import Lowered, Plan, Program
from ...ir.errors import GraphError
from ..numpy.codegen import KernelSet, lower as lower_code
from . import kernels

DASK_KERNELS = KernelSet(kernels.expression, kernels.inplace_expression, kernels.namespace)


def lower(plan: Plan) -> Lowered:
    """Generate the programs of ``plan`` against dask.array and wrap them (see ``DaskProgram``)."""
    if plan.options.get("check_finite"):
        raise GraphError("check_finite=True is not available on the Dask backend (checking each value would compute "
                         "it on its own); run the graph on a slice of the data with backend='numpy' and check_finite=True")
    _check_kernels(plan)
    code = lower_code(plan, DASK_KERNELS)
    lazy = bool(plan.options.get("backend_options", {}).get("lazy", False))
    functions = {}
    for name, program in plan.programs.items():
        finish = _lazy if lazy else (_persist_residuals if name == "forward" else _compute)
        functions[name] = DaskProgram(code.functions[name], program, finish)
    return Lowered(functions, code.source, code.line_map, array_types=(da.Array,))


def _check_kernels(plan: Plan) -> None:
    """Every op of every program has a Dask kernel, or a GraphError names the first that has none."""
    G = plan.graph.nx
    for program in plan.programs.values():
        for nid in program.body:
            op = G._node[nid]["op"]
            if not kernels.available(op):
                raise kernels.unavailable_error(op, plan.graph.describe(nid))


class DaskProgram:
    """A generated program on dask arrays, callable as the numpy backend's (``fn(*args)``, or
    ``fn(args)`` for a boxed program, which empties ``args``).

    ``build`` runs the generated code and returns its results as dask arrays (fed NumPy arrays
    become one-chunk dask arrays first; dask arrays are taken as they are, chunks and all); a call
    builds and then finishes: computes everything in one ``dask.compute``, or for the forward
    program of a step persists the residuals where they were computed (on the workers, under a
    Client) and fetches only the value, or with ``lazy=True`` returns the dask arrays."""

    def __init__(self, fn: Callable, program: Program, finish: Callable[[tuple], tuple]) -> None:
        self.fn, self.program, self.finish = fn, program, finish

    def build(self, args: list) -> tuple:
        """The program's results as dask arrays (nothing computed). A boxed program's ``args`` is emptied."""
        fed = len(args) if self.program.fed < 0 else self.program.fed
        values = [_as_dask(a) for a in args[:fed]] + list(args[fed:])
        if self.program.boxed:
            args.clear()  # the references are handed over, as to the numpy backend's boxed program
            return self.fn(values)
        return self.fn(*values)

    def __call__(self, *args: Any) -> tuple:
        return self.finish(self.build(args[0] if self.program.boxed else list(args)))


def _as_dask(value: Any) -> Any:
    if isinstance(value, da.Array):
        return value
    # name=False: a random graph key instead of a hash of the whole array (which would read all of it).
    return da.from_array(np.asarray(value), chunks=-1, name=False)


def _lazy(values: tuple) -> tuple:
    return tuple(values)


def _compute(values: tuple) -> tuple:
    """All results from one ``dask.compute``: shared work runs once."""
    return tuple(_as_result(v) for v in dask.compute(*values))


def _persist_residuals(values: tuple) -> tuple:
    """The value and the residuals computed together; the residuals stay where they were computed
    (persisted dask arrays) for the backward program, only the value comes back as NumPy."""
    kept = dask.persist(*values)
    return (_as_result(dask.compute(kept[0])[0]), *kept[1:])


def _as_result(value: Any) -> Any:
    """0-d results as NumPy scalars, as the numpy backend returns them."""
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
