"""Where compile time goes: each phase of ``rg.compile`` timed on its own while a benchmark builds its
step (``python -m benchmarks`` does this for revgraph on W4; ``python -m benchmarks.phases N`` prints W4's
phases at N layers as one JSON line).

The phases are timed by wrapping the pipeline's own steps (the functions ``compiler/pipeline.py`` calls),
so nothing here re-implements the compiler: ``grad`` (the adjoint pass), ``passes`` (simplification),
``memory plan``, ``codegen`` (of which ``python compile()``, CPython compiling the generated text) and
``split`` (the rest of ``rg.compile``: copying the graph, scheduling, splitting forward from backward,
choosing residuals). ``build`` is the time spent outside ``rg.compile`` (declaring the graph).
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import json
import sys
import time
import types
from typing import Iterator

PHASES = ("build", "grad", "passes", "split", "memory plan", "codegen", "python compile()", "first call", "total")


@contextlib.contextmanager
def timing_phases() -> Iterator[dict]:
    """Time the pipeline's phases inside the block; the dict yielded holds, after it, the seconds per phase
    of the steps compiled there (``compile``: the whole of ``rg.compile``'s work; ``split``: what the other
    phases leave of it). Programs compiled later, on first use, count in the first call."""
    from revgraph.backends.numpy import codegen
    from revgraph.compiler import pipeline

    seconds: dict[str, float] = {}
    undo = []

    def wrap(module, name: str, phase: str, inner=None) -> None:
        inner = inner or getattr(module, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - t

        undo.append((module, name, module.__dict__.get(name)))
        setattr(module, name, timed)

    compile_step = pipeline._compile_step

    def step_then_snapshot(*args, **kwargs):  # phases of later compiles (dout = 1 backward, fused) stay out
        t = time.perf_counter()
        try:
            return compile_step(*args, **kwargs)
        finally:
            seconds["compile"] = seconds.get("compile", 0.0) + time.perf_counter() - t
            snapshot.update(seconds)

    snapshot: dict[str, float] = {}
    undo.append((pipeline, "_compile_step", compile_step))
    pipeline._compile_step = step_then_snapshot
    wrap(pipeline, "grad", "grad")
    wrap(pipeline, "run_passes", "passes")
    wrap(pipeline, "_plan_memory", "memory plan")
    # code generation: the registered backend's lower, which the pipeline calls through its table
    registered = pipeline._BACKENDS["numpy"]
    holder = types.SimpleNamespace(lower=registered.lower)
    wrap(holder, "lower", "codegen")
    pipeline._BACKENDS["numpy"] = dataclasses.replace(registered, lower=holder.lower)
    wrap(codegen, "compile", "python compile()", builtins.compile)  # the builtin, as codegen's global
    try:
        yield seconds
    finally:
        pipeline._BACKENDS["numpy"] = registered
        for module, name, old in reversed(undo):
            if old is None:
                delattr(module, name)
            else:
                setattr(module, name, old)
        seconds.clear()
        seconds.update(snapshot)
        seconds["split"] = seconds.get("compile", 0.0) - sum(seconds.get(k, 0.0) for k in
                                                               ("grad", "passes", "memory plan", "codegen"))


def phases(n: int) -> dict[str, float]:
    """W4's phases at ``n`` layers (built, compiled, one forward + backward)."""
    from .impls import make_revgraph
    from .workloads import w4_data

    data = w4_data(n)
    with timing_phases() as seconds:
        t0 = time.perf_counter()
        step = make_revgraph("W4", n, data)
        t1 = time.perf_counter()
        step()
        t2 = time.perf_counter()
    return {**seconds, "build": (t1 - t0) - seconds["compile"], "first call": t2 - t1, "total": t2 - t0}


if __name__ == "__main__":
    print(json.dumps(phases(int(sys.argv[1]))))
