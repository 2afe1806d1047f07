"""Batch-separable graphs on Dask: the numpy backend's compiled program once per chunk of rows, the
chunks' results added up by a tree reduction.

When the first result of a program is a sum or a mean over the batch of the batched feeds
(compiler/batch.py reads that from the ops' facts) and the other results are its gradients with respect
to inputs that are not batched, every result is linear in the per-row terms: the result for the whole
batch is the sum over chunks of the chunk's result, weighted by 1 (a sum) or by the chunk's share of the
rows (a mean: the chunk's program divides by its own row count, the weight turns that into the whole's).
So each chunk costs what the numpy backend costs for it -- one task, in which dask also fuses whatever
makes the chunk (``map_blocks`` generating the data) -- instead of one task per op and chunk.
"""

from __future__ import annotations

import math
import string
from typing import Any, Callable, Optional

import dask.array as da
import numpy as np

from ...compiler.batch import output_kind
from ...compiler.memory import plan_program
from ...compiler.plan import Plan, Program
from ...ir.batch import MEAN, SUM
from ..numpy import kernels as numpy_kernels
from ..numpy.codegen import lower as numpy_lower


def numpy_program(plan: Plan, name: str) -> Callable:
    """Program ``name`` of ``plan`` as the numpy backend generates it (its own memory plan: in place where
    NumPy can), a plain function of NumPy arrays that pickles to the workers."""
    program = plan.programs[name]
    memory = {name: plan_program(plan.graph, program, inplace=plan.options["optimize"],
                                 writes_into=numpy_kernels.writes_into)}
    twin = Plan(plan.graph, {name: program}, options=plan.options, memory=memory)
    return numpy_lower(twin).functions[name]


class ChunkedProgram:
    """A program of a plan whose first result is a batch sum or mean and the others its gradients with
    respect to inputs that are not batched, runnable chunk by chunk (``run``); ``wrt`` are those inputs."""

    def __init__(self, plan: Plan, name: str, wrt: list[int]) -> None:
        self.plan, self.program, self.wrt = plan, plan.programs[name], set(wrt)
        self._fn: Optional[Callable] = None
        self._kinds: dict[frozenset, Optional[str]] = {}
        G = plan.graph.nx
        results = [G._node[r] for r in self.program.results]
        dtypes = {np.dtype(d["dtype"]) for d in results}
        self.shapes = [tuple(d["shape"]) for d in results]
        self.dtype = dtypes.pop() if len(dtypes) == 1 else None  # the results travel as one vector of it
        self.static = self.dtype is not None and all(None not in s for s in self.shapes)

    def kind(self, args: list) -> Optional[str]:
        """SUM or MEAN when ``args`` (in parameter order) make the program separable, else None."""
        batched = frozenset(p for p, a in zip(self.program.params, args) if isinstance(a, da.Array) and a.ndim >= 1)
        if not self.static or not batched or batched & self.wrt or sum(np.ndim(a) for a in args) > 48:
            return None  # (48: the index letters blockwise is given)
        if len({a.shape[0] for a in args if isinstance(a, da.Array) and a.ndim >= 1}) != 1:
            return None  # batched feeds of different lengths: the op-by-op path says what is wrong
        if batched not in self._kinds:
            kind = output_kind(self.plan.graph, self.program.results[0], set(batched))
            self._kinds[batched] = kind if kind in (SUM, MEAN) else None
        return self._kinds[batched]

    def run(self, args: list, kind: str) -> da.Array:
        """The results end to end in one vector (see ``split``), a dask array: the numpy program on each chunk
        of rows, weighted, tree-summed."""
        if self._fn is None:
            self._fn = numpy_program(self.plan, self.program.name)
        letters = iter(string.ascii_letters.replace("i", "").replace("z", ""))
        pairs, batched, axes = [], [], ""
        for a in args:
            batched.append(isinstance(a, da.Array) and a.ndim >= 1)
            if batched[-1]:  # row chunks, each whole along its other axes (an index of the output: no contraction)
                own = "".join(next(letters) for _ in range(a.ndim - 1))
                if any(len(c) > 1 for c in a.chunks[1:]):
                    a = a.rechunk({k: -1 for k in range(1, a.ndim)})
                pairs += [a, "i" + own]
                axes += own
            else:  # NumPy values go into each chunk's task as they are (a dask operand would keep dask
                pairs += [a, "" if isinstance(a, da.Array) else None]  # from fusing the making of the chunk in)
        rows = next(a for a, b in zip(args, batched) if b).shape[0]
        size = sum(math.prod(s) for s in self.shapes)
        parts = da.blockwise(_run_chunk, "i" + axes + "z", *pairs, fn=self._fn, batched=tuple(batched), lead=len(axes) + 1,
                             weight=1 / rows if kind == MEAN else None, dtype=self.dtype, concatenate=True,
                             new_axes={"z": size}, adjust_chunks={k: 1 for k in "i" + axes},
                             meta=np.empty((0,) * (len(axes) + 2), self.dtype))
        return parts.sum(axis=tuple(range(len(axes) + 1)))  # a tree reduction over the chunks (dask's split_every)

    def split(self, total: Any) -> list:
        """The results, cut from the summed vector ``total`` (NumPy: copies, 0-d ones as NumPy scalars; or
        dask arrays)."""
        out, start = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            part = total[start:start + n].reshape(shape)
            out.append(part if isinstance(part, da.Array) else part[()] if part.ndim == 0 else part.copy())
            start += n
        return out


def _run_chunk(*blocks: Any, fn: Callable, batched: tuple, lead: int, weight: Optional[float]) -> np.ndarray:
    """One chunk: the numpy program on its rows and the whole of the other inputs, its results weighted
    (a mean: the chunk's rows times ``weight``, one over the batch) and laid end to end in one row (behind
    ``lead`` axes of size 1: the batch axis and the batched inputs' other axes)."""
    rows = next(b for b, is_batched in zip(blocks, batched) if is_batched).shape[0]
    results = fn(*blocks)
    flat = np.concatenate([np.ravel(r) for r in results])
    if weight is not None:
        flat *= rows * weight
    return flat.reshape((1,) * lead + flat.shape)

