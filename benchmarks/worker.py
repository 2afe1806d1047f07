"""One measurement in a fresh process: ``python -m benchmarks.worker '<json job>'`` prints one
JSON line. Build (and first call) time, a check of value and gradients against hand-written
NumPy, the peak memory of one step above the resident set after parameters, inputs and a
warm-up (W3), then per-call times in batches."""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import sys
import time

import numpy as np

from .impls import IMPLS, IMPORTS, Unavailable
from .phases import timing_phases
from .workloads import DATA, numpy_impl


def rss_bytes(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def check(got, want, what: str) -> None:
    value, grads = got
    ref_value, ref_grads = want
    np.testing.assert_allclose(np.asarray(value), ref_value, rtol=1e-7, atol=1e-10, err_msg=f"{what}: value")
    if len(grads) != len(ref_grads):
        raise AssertionError(f"{what}: {len(grads)} gradients, expected {len(ref_grads)}")
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-7, atol=1e-10, err_msg=f"{what}: gradient {i}")


def measure(job: dict) -> dict:
    workload, impl, size = job["workload"], job["impl"], job["size"]
    size = tuple(size) if isinstance(size, list) else size
    data = DATA[workload](size)
    want = numpy_impl(workload, size, data)()
    try:  # the import is not part of the build time
        importlib.import_module(IMPORTS.get(impl, "numpy"))
    except ImportError:
        pass
    with timing_phases() if job.get("phases") else contextlib.nullcontext({}) as phases:
        t0 = time.perf_counter()
        try:
            step = IMPLS[impl](workload, size, data)
        except Unavailable as exc:
            return {"skipped": str(exc)}
        t1 = time.perf_counter()
        first = step()
        t2 = time.perf_counter()
    build_s = t2 - t0
    check(first, want, f"{impl} on {workload}")
    del first, want
    out: dict = {"build_s": build_s}
    if job.get("phases"):
        out["phases"] = {**phases, "build": (t1 - t0) - phases.get("compile", 0.0), "first call": t2 - t1,
                         "total": build_s}
    if job.get("memory"):
        step()  # warm-up beyond the first call
        gc.collect()
        if reset_peak():
            base = rss_bytes("VmRSS")
            result = step()
            out["peak_above_bytes"] = rss_bytes("VmHWM") - base
            del result
    times = []
    inner = job.get("inner") or calibrate(step, job.get("batch_s", 0.05))
    for _ in range(job.get("batches", 5)):
        t = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - t) / inner)
    out.update(per_call_s=float(np.median(times)), inner=inner)
    return out


def calibrate(step, batch_s: float) -> int:
    """Calls per batch so one batch takes about ``batch_s``."""
    t = time.perf_counter()
    step()
    one = max(time.perf_counter() - t, 1e-7)
    return max(1, min(100_000, int(batch_s / one)))


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    try:
        result = measure(job)
    except Exception as exc:  # reported in the table, not hidden
        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result))
