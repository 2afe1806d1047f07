"""Where compile time goes: W4 (as the workloads define it) built, differentiated, optimised,
planned and lowered with each phase of ``rg.compile`` timed on its own.

``python -m benchmarks.phases 100000`` prints one JSON line: seconds per phase. The phases are
timed by wrapping the pipeline's own steps (the functions ``compiler/pipeline.py`` calls), so
nothing here re-implements the compiler; ``split`` is what is left of ``rg.compile`` (copying the
graph, scheduling and splitting forward from backward, choosing residuals).
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import json
import sys
import time

import numpy as np

from .workloads import w4_build, w4_data


class Clock:
    """Accumulated seconds per phase; ``wrap(module, name, phase)`` times a module function."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._undo: list = []

    def wrap(self, module, name: str, phase: str) -> None:
        inner = getattr(module, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - t

        setattr(module, name, timed)
        self._undo.append((module, name, inner))

    def wrap_backend(self, pipeline, backend: str, phase: str) -> None:
        """Time a registered backend's ``lower`` (code generation), which the pipeline calls through its table."""
        registered = pipeline._BACKENDS[backend]
        holder = type("Holder", (), {"lower": staticmethod(registered.lower)})
        self.wrap(holder, "lower", phase)
        pipeline._BACKENDS[backend] = dataclasses.replace(registered, lower=holder.lower)
        self._undo.append((_Table(pipeline._BACKENDS), backend, registered))

    def restore(self) -> None:
        for module, name, inner in reversed(self._undo):
            setattr(module, name, inner)


class _Table:
    """A dict seen through setattr, so ``restore`` puts table entries back like module attributes."""

    def __init__(self, table: dict) -> None:
        self.__dict__["_table"] = table

    def __setattr__(self, name: str, value) -> None:
        self._table[name] = value


def phases(n: int) -> dict[str, float]:
    import revgraph as rg
    from revgraph.backends.numpy import codegen
    from revgraph.compiler import pipeline

    clock = Clock()
    clock.wrap(pipeline, "grad", "grad")
    clock.wrap(pipeline, "run_passes", "passes")
    clock.wrap(pipeline, "_plan_memory", "memory plan")
    clock.wrap_backend(pipeline, "numpy", "codegen")
    # CPython's compile() of the generated text, inside codegen (a part of it, reported apart)
    codegen.compile = lambda *a, _c=builtins.compile, **k: _timed(clock, "python compile()", _c, *a, **k)
    data = w4_data(n)
    try:
        t0 = time.perf_counter()
        g, x, loss = w4_build(rg, n)
        t1 = time.perf_counter()
        step = rg.compile(loss, wrt=[x])
        t2 = time.perf_counter()
        in_compile = dict(clock.seconds)  # the first call lowers programs of its own (backward at dout = 1)
        step.forward(**data)
        step.backward()
        t3 = time.perf_counter()
    finally:
        clock.restore()
        with contextlib.suppress(AttributeError):
            del codegen.compile
    s = in_compile
    out = {"build": t1 - t0, **s}
    out["split"] = (t2 - t1) - sum(s.get(k, 0.0) for k in ("grad", "passes", "memory plan", "codegen"))
    out["first call"] = t3 - t2
    out["total"] = t3 - t0
    out["nodes"] = len(step.plan.graph)
    return out


def _timed(clock: Clock, phase: str, fn, *args, **kwargs):
    t = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        clock.seconds[phase] = clock.seconds.get(phase, 0.0) + time.perf_counter() - t


if __name__ == "__main__":
    print(json.dumps(phases(int(sys.argv[1]))))
