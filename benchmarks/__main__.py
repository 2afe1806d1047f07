"""``python -m benchmarks [--smoke] [--rounds N] [--only W1,W3] [--write docs/benchmarks.md]``

Runs every (workload, size, implementation) in a fresh subprocess, round after round, the
implementations' order rotating each round (interleaved, so drift in the machine's load hits
all alike). Reports medians over rounds with the spread (min-max), and each implementation's
ratio to hand-written NumPy measured in the same run. Threads are pinned to 1 for every
framework; glibc's mmap threshold is fixed so freed arrays go back to the OS (memory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from .nets import w5_tight_minimum
from .phases import PHASES

W6_FULL = (30, 32, 100, 10)

IMPL_ORDER = ["numpy", "numpy-scalars", "revgraph", "revgraph-vg", "revgraph-dynamic", "autograd", "jax", "torch",
              "dezero"]

# (workload, size). Sizes: W2 batch; W3 (layers, width, batch); W4 layers; W4-chain ops; W5 batch;
# W6 (time steps, batch, hidden, inputs).
ONLY_FOR = {"numpy-scalars": {"W1"},  # implementations that exist for some workloads only
            "dezero": {"W5", "W6"}}   # DeZero: the nets of its own book (W5's peer in the issue)
FULL = [("W1", 0), ("W2", 100), ("W2-onehot", 100), ("W3", (16, 1024, 256)), ("W4", 1_000), ("W4", 10_000),
        ("W4", 100_000), ("W4-chain", 100_000), ("W5", 100), ("W6", W6_FULL)]
SMOKE = [("W1", 0), ("W2", 10), ("W2-onehot", 10), ("W3", (2, 32, 4)), ("W4", 100), ("W4-chain", 100), ("W5", 4),
         ("W6", (3, 4, 8, 2))]
# Rows left out of the full run to keep it under 15 minutes: on big W4 graphs value_and_grad is forward +
# backward (the fused program is for graphs up to 5 000 nodes), and the old chain is context only.
LEFT_OUT = {("revgraph-vg", "W4", 10_000), ("revgraph-vg", "W4", 100_000),
            *((i, "W4-chain", 100_000) for i in ("revgraph-vg", "autograd", "jax", "torch"))}

# Peers too slow to build at these sizes (figures from the issue, measured on this machine).
TOO_SLOW = {("jax", "W4", 10_000): "JAX jit took 89 s to compile at N = 10 000",
            ("jax", "W4", 100_000): "JAX jit compile time grows past minutes",
            ("autograd", "W4", 100_000): "autograd takes ~9 s per call at N = 100 000"}

ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
       "NUMEXPR_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "131072",
       "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
       "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_job(job: dict, timeout: float) -> dict:
    env = {**os.environ, **ENV}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(job)], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=root)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(lines[-1])


def run(cases: list, impls: list[str], rounds: int, smoke: bool, timeout: float) -> dict:
    """results[(workload, size)][impl] = list of per-round measurement dicts (or a skip/error); revgraph's
    W4 measurements carry the compile time by phase (benchmarks/phases.py)."""
    results: dict = {case: {impl: [] for impl in impls} for case in cases}
    for r in range(rounds):
        for case in cases:
            w, size = case
            here = [i for i in impls if w in ONLY_FOR.get(i, {w})]
            order = here[r % len(here):] + here[:r % len(here)]  # rotate: interleaved
            for impl in order:
                prev = results[case][impl]
                if prev and ("skipped" in prev[-1] or "error" in prev[-1]):
                    continue
                if (impl, w, size) in LEFT_OUT and not smoke:
                    continue
                if (impl, w, size) in TOO_SLOW and not smoke:
                    prev.append({"skipped": TOO_SLOW[(impl, w, size)]})
                    continue
                job = {"workload": w, "impl": impl, "size": size, "memory": w in ("W3", "W5"),
                       "phases": impl == "revgraph" and w == "W4",
                       "batches": 1 if smoke else 5, "batch_s": 0.01 if smoke else 0.2}
                if w.startswith("W4") and size >= 10_000 and not smoke:
                    job.update(inner=1, batches=3)
                out = run_job(job, timeout)
                prev.append(out)
                status = out.get("skipped") or out.get("error") or f"{out['per_call_s'] * 1e3:.4g} ms/call"
                print(f"round {r + 1}/{rounds} {w} {size} {impl}: {status}", file=sys.stderr, flush=True)
    return results


def summarise(samples: list, key: str):
    vals = [s[key] for s in samples if key in s]
    if not vals:
        return None
    return float(np.median(vals)), float(min(vals)), float(max(vals))


def fmt_time(s: float) -> str:
    return f"{s * 1e6:.3g} µs" if s < 1e-3 else f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def table(results: dict, impls: list[str]) -> str:
    """A markdown table per case: median (min-max) per call, × NumPy, build+first call, peak memory."""
    out = []
    for (w, size), by_impl in results.items():
        out.append(f"\n### {w}, size {size}\n")
        out.append("| implementation | per call: median (min-max) | × hand-written NumPy | build + first call | "
                   "peak above params+inputs (W3, W5) |")
        out.append("|---|---|---|---|---|")
        base = summarise(by_impl.get("numpy", []), "per_call_s")
        for impl in impls:
            if w not in ONLY_FOR.get(impl, {w}):
                continue
            samples = by_impl.get(impl, [])
            if not samples and (impl, w, size) in LEFT_OUT:
                continue
            skip = next((s.get("skipped") or s.get("error") for s in samples if "skipped" in s or "error" in s), None)
            t = summarise(samples, "per_call_s")
            if t is None:
                out.append(f"| {impl} | not run: {skip or 'no sample'} | | | |")
                continue
            ratio = f"{t[0] / base[0]:.2f}×" if base else ""
            b = summarise(samples, "build_s")
            m = summarise(samples, "peak_above_bytes")
            mem = f"{m[0] / 2**20:.1f} MiB" if m else ""
            if m and w in ("W3", "W5"):
                tight = tight_minimum(size) if w == "W3" else w5_tight_minimum(size)
                mem += f" ({m[0] / tight:.2f}× the tight {tight / 2**20:.1f} MiB)"
            out.append(f"| {impl} | {fmt_time(t[0])} ({fmt_time(t[1])}-{fmt_time(t[2])}) | {ratio} | "
                       f"{fmt_time(b[0]) if b else ''} | {mem} |")
    return "\n".join(out) + "\n"


def _median(results: dict, case: tuple, impl: str, key: str):
    m = summarise(results.get(case, {}).get(impl, []), key)
    return None if m is None else m[0]


def targets(results: dict, values: list | None = None) -> str:
    """The issue's targets, each on its headline row (static: forward() + backward(); dynamic: the
    DeZero-style loop), with the figure measured in this run (or why it is missing). ``values``, when
    given, collects ``(name, value, goal, fmt)`` per target (benchmarks/spread.py compares runs with it)."""
    rows = []

    def ratio(case, impl, base_impl="numpy", key="per_call_s"):
        a, b = _median(results, case, impl, key), _median(results, case, base_impl, key)
        return None if a is None or b is None else a / b

    def row(name, value, target, fmt="{:.2f}×"):
        got = "not measured" if value is None else fmt.format(value)
        ok = "" if value is None else ("met" if value <= target else "not met")
        rows.append(f"| {name} | {got} | ≤ {fmt.format(target)} | {ok} |")
        if values is not None:
            values.append((name, value, target, fmt))

    w1, w2, w2h = ("W1", 0), ("W2", 100), ("W2-onehot", 100)
    w3 = ("W3", (16, 1024, 256))
    row("W1 static, forward() + backward(), × hand-written NumPy", ratio(w1, "revgraph"), 1.10)
    row("W1 static, forward() + backward(), × value_and_grad()", ratio(w1, "revgraph", "revgraph-vg"), 1.20)
    row("W1 dynamic per call (DeZero-style loop)", _median(results, w1, "revgraph-dynamic", "per_call_s"), 23e-6,
        fmt="{:.3g} s")
    row("W2 static, integer labels, forward() + backward(), × NumPy", ratio(w2, "revgraph"), 1.02)
    row("W2 static, integer labels, forward() + backward(), × value_and_grad()", ratio(w2, "revgraph", "revgraph-vg"),
        1.20)
    row("W2 static, one-hot labels, forward() + backward(), × NumPy", ratio(w2h, "revgraph"), 1.02)
    row("W3 static, forward() + backward(), × NumPy", ratio(w3, "revgraph"), 0.95)
    peak = _median(results, w3, "revgraph", "peak_above_bytes")
    row("W3 static peak memory, × the tight minimum", None if peak is None else peak / tight_minimum(w3[1]), 1.05)
    for n, limit in ((10_000, 1.0), (100_000, 10.0)):
        row(f"W4 build + grad + compile + first call, N = {n}", _median(results, ("W4", n), "revgraph", "build_s"),
            limit, fmt="{:.3g} s")
        row(f"W4 static per call, N = {n}, × NumPy", ratio(("W4", n), "revgraph"), 1.2)
        row(f"W4 dynamic per call, N = {n}, × NumPy", ratio(("W4", n), "revgraph-dynamic"), 10.0)
    b1, b2 = _median(results, ("W4", 10_000), "revgraph", "build_s"), _median(results, ("W4", 100_000), "revgraph", "build_s")
    if b1 and b2:
        import math
        row("W4 build-time exponent k (time ∝ N^k, 10^4 → 10^5)", math.log10(b2 / b1), 1.1, fmt="{:.2f}")
    w5, w6 = ("W5", 100), ("W6", W6_FULL)
    row("W5 static (SimpleConvNet step), forward() + backward(), × the book's layers in NumPy", ratio(w5, "revgraph"),
        0.70)
    row("W5 static, forward() + backward(), × DeZero", ratio(w5, "revgraph", "dezero"), 1.0)
    peak = _median(results, w5, "revgraph", "peak_above_bytes")
    row("W5 static peak memory, × the tight minimum", None if peak is None else peak / w5_tight_minimum(w5[1]), 1.10)
    row("W6 static (LSTM step, 30 steps), forward() + backward(), × hand-written NumPy", ratio(w6, "revgraph"), 1.0)
    head = ["\n## Targets (from the issue), this run\n", "| target | measured (median over rounds) | goal | |",
            "|---|---|---|---|"]
    return "\n".join(head + rows) + "\n"


def phase_table(results: dict) -> str:
    """W4's compile time by phase (median (min-max) over rounds), per size."""
    by_n = {size: [s["phases"] for s in by.get("revgraph", []) if "phases" in s]
            for (w, size), by in results.items() if w == "W4"}
    by_n = {n: samples for n, samples in by_n.items() if samples}
    if not by_n:
        return ""
    out = ["\n## W4 compile time by phase (revgraph, forward() + backward())\n",
           "Each phase of `rg.compile` timed apart while the W4 measurement above builds its step "
           "(benchmarks/phases.py wraps the pipeline's own steps): declaring the graph (`build`), the adjoint pass, "
           "the simplification passes, `split` (copying the graph, scheduling, splitting forward from backward, "
           "choosing residuals), the memory plan, code generation (of which CPython's `compile()` of the generated "
           "text), and the first forward + backward.\n",
           "| phase | " + " | ".join(f"N = {n}" for n in by_n) + " |", "|---|" + "---|" * len(by_n)]
    for phase in PHASES:
        cells = []
        for samples in by_n.values():
            m = summarise(samples, phase)
            cells.append("" if m is None else f"{fmt_time(m[0])} ({fmt_time(m[1])}-{fmt_time(m[2])})")
        out.append(f"| {phase} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def tight_minimum(size) -> float:
    """All gradients plus one activation, in bytes (float64)."""
    layers, width, batch = size
    return 8.0 * (layers * (width * width + width) + batch * width)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one round (CI)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W3")
    p.add_argument("--impls", default=",".join(IMPL_ORDER))
    p.add_argument("--write", default="", help="write the markdown table to this file")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json", default="", help="also save the raw measurements here")
    args = p.parse_args(argv)
    cases = SMOKE if args.smoke else FULL
    if args.only:
        cases = [c for c in cases if c[0] in args.only.split(",")]
    impls = [i for i in args.impls.split(",") if i]
    rounds = 1 if args.smoke else args.rounds
    t0 = time.time()
    results = run(cases, impls, rounds, args.smoke, args.timeout)
    text = targets(results) + phase_table(results) + table(results, impls)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([[list(c), by] for c, by in results.items()], f, indent=1)
    errors = [(c, i, s["error"]) for c, by in results.items() for i, ss in by.items() for s in ss if "error" in s]
    if args.write:
        with open(args.write, "w") as f:
            f.write(report(text, args, time.time() - t0))
    for c, i, e in errors:
        print(f"ERROR {c} {i}: {e}", file=sys.stderr)
    if args.smoke:  # the per-op micro-suite at tiny sizes too (python -m benchmarks.ops), so CI keeps it working
        from . import ops

        errors += [("ops", "", "")] if ops.main(["--smoke"]) else []
    return 1 if errors else 0


def report(text: str, args, seconds: float) -> str:
    import numpy

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cmd = "python -m benchmarks" + (f" --rounds {args.rounds}" if args.rounds != 3 else "") + \
        (f" --only {args.only}" if args.only else "") + f" --write {args.write}"
    return (f"# Benchmarks\n\nGenerated by `{cmd}` (from the repository root, after "
            f"`pip install -e '.[bench]'`), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, in {seconds:.0f} s.\n\n"
            f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, NumPy {numpy.__version__}. One thread per framework.\n"
            f"{METHOD}{text}")


METHOD = """
## Workloads and method

Headline rows are what the README shows users: **revgraph** is `step.forward(**feeds)` then `step.backward()`;
**revgraph-vg** is the same step through `step.value_and_grad(**feeds)`; **revgraph-dynamic** is the DeZero-style
loop (the parameters are `dy.Variable(np.array(v))` made once; each step calls `cleargrad()` on each, builds the
loss, runs `loss.backward()` and reads every `.grad`, a Variable). Hand-written NumPy is the baseline: the
tightest code a careful person would write (in-place bias adds and activations, buffers reused where NumPy lets
one, nothing computed that the gradients do not need).

- **W1** — the textbook apple-and-orange graph, `price = (apple*apple_num + orange*orange_num)*tax`, 0-d float64
  arrays: one forward + backward (all five gradients) per call. revgraph's generated code computes on NumPy
  scalars (a fed 0-d array becomes a scalar of the same dtype); `numpy-scalars` is the hand-written code on
  scalars, for context (the baseline stays the 0-d-array version).
- **W2** — the textbook two-layer net, batch 100, 784 → 50 → 10, ReLU, softmax with cross-entropy, **integer
  labels** (`t`: int64 class indices; the hand-written SoftmaxWithLoss gathers `y[arange(n), t]` and subtracts 1
  there in its backward): one step (loss and the four parameter gradients). **W2-onehot**: the same with one-hot
  labels.
- **W3** — 16 layers of `tanh(h @ W + b)`, width 1024, batch 256, loss `sum(h)`, float64: one step, and the peak
  resident memory during one step above the resident set after parameters, inputs and a warm-up step, in a fresh
  process (VmHWM reset through /proc/self/clear_refs), with `MALLOC_MMAP_THRESHOLD_=131072`. The tight minimum is
  all gradients plus one activation (130 MiB).
- **W4** — N layers of `h = sin(h) * 1.0001 + h * 0.5` on 16 float64 values, loss `sum(h)`: every `h` feeds two
  ops and the two constants are shared by all N layers (4 forward and about 5 adjoint nodes per layer, about
  9·10^5 nodes at N = 10^5). Build + grad + compile + first call (for hand-written NumPy and the eager peers: the
  first call), and the steady per-call time. **W4-chain** — the earlier W4, kept for context: a chain of N single
  elementwise ops (sin, ×0.99, +0.01, tanh, repeated) on 8 numbers.
- **W5** — one training step of the book's SimpleConvNet (ch. 7): conv 30 filters 5×5 (pad 0, stride 1) → ReLU →
  max pool 2×2 → Affine 100 → ReLU → Affine 10 → softmax with loss, on (100, 1, 28, 28) float64 random images with
  integer labels (seed 0, weights 0.01·N(0, 1) as the book): loss and the six parameter gradients. Hand-written
  NumPy is the book's own layers (Convolution, Relu, Pooling, Affine, SoftmaxWithLoss on im2col/col2im,
  benchmarks/nets.py), written tight: im2col fills its matrix one kernel offset at a time straight into the
  layout the product needs, ReLU in place, and no input gradient for the first layer (the book computes it and
  throws it away). Peak memory as W3's; the tight minimum is every parameter gradient plus the largest set that
  must be alive at once, pooling's input (N × 30 × 24 × 24, the ReLU'd convolution) with its output (N × 30 × 12 ×
  12) — the convolution output's gradient, from which the filter gradient is taken, is the same size (19.8 MiB
  at N = 100). DeZero is its PyPI release 0.0.13 (`np.int` restored for it, `@` mapped to its `F.matmul`).
- **W6** — one LSTM training step with truncated BPTT: 30 time steps from a fed state (h0, c0) (no gradient into
  it), batch 32, hidden 100, input size 10, fused gate weights Wx (10, 400), Wh (100, 400), b (400) (gates f, i,
  o sigmoid, u tanh; c = f·c + i·u, h = o·tanh(c)), a linear read-out of the last h, loss the mean squared error
  against a target (float64): loss and the five parameter gradients. Hand-written NumPy is the usual hand-written
  LSTM: each step's gates cached in one (32, 400) array (activations in place), the backward step by step with
  the gate gradients written into one (32, 400) array and the weight gradients accumulated in place per step.

Every implementation differentiates with respect to the parameters only (W2, W3: not the data `x`, `t`), as
hand-written code does: revgraph static through `wrt=`, revgraph dynamic by wrapping only the parameters in
`dy.Variable` (data stay ndarrays), torch by `requires_grad_()` on the parameters, autograd and JAX by
`value_and_grad` over a parameter list.

Each (workload, size, implementation) runs in a fresh subprocess (`python -m benchmarks.worker`), with
OMP/OPENBLAS/MKL_NUM_THREADS=1, `torch.set_num_threads(1)` and XLA's single-threaded CPU flags. The value and
gradients are checked against the hand-written NumPy result (rtol 1e-7) before anything is timed. Per-call time:
median of 5 batches after calibration (W4 at N ≥ 10^4: 3 single calls). Rounds rotate the implementations'
order (interleaved); the table shows the median over rounds and the spread (min-max). Ratios are to hand-written
NumPy (or, where the target says so, to value_and_grad) from the same run. The machine is shared (2 cores):
spreads show how noisy it was.
"""


if __name__ == "__main__":
    sys.exit(main())
