"""``rg.compare``: run one Python function both ways -- traced and compiled (static)
and define-by-run (dynamic) -- check that they agree, and measure what each costs.

The agreement check maps every node of the traced graph onto the Variable the
dynamic run made at the same place (walking both from the loss, operand slot by
operand slot), then compares values in forward order and gradients in backward
order, naming the first node that differs. Timings interleave the two engines
(static sample, dynamic sample, ...), so drifts in machine load hit both alike.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from .compiler import compile as rg_compile
from .compiler import grad as rg_grad
from .dynamic import Variable, record
from .ir.errors import GraphError
from .ir.trace import trace

# Tolerance by dtype: the engines run the same kernels, so only summation order may differ.
RTOL = {np.dtype("float64"): 1e-10, np.dtype("float32"): 1e-4, np.dtype("float16"): 1e-2}
SAMPLE_SECONDS = 5e-3  # a timed sample repeats the step until it lasts about this long


@dataclass
class Timing:
    """Seconds per step over the timed samples: median, quartiles, extremes."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    samples: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Timing":
        q1, med, q3 = np.percentile(seconds, [25, 50, 75])
        return cls(float(med), float(q1), float(q3), float(min(seconds)), float(max(seconds)), len(seconds))


@dataclass
class ComparisonReport:
    """What ``rg.compare`` found. ``str(report)`` is a table; see ``to_dict`` / ``to_markdown``."""

    name: str
    wrt: list[str]
    agree: bool
    divergence: Optional[str]          # the first node whose value or gradient differs (None when they agree)
    rtol: float
    max_value_diff: float              # the loss, static vs dynamic
    max_grad_diff: float               # over the wrt gradients
    trace_seconds: float
    compile_seconds: float
    static: Timing
    dynamic: Timing
    steps_per_sample: int
    static_peak_bytes: int
    dynamic_peak_bytes: int
    forward_ops: int                   # op nodes in the compiled forward program
    adjoint_ops: int                   # op nodes in the compiled backward program
    dynamic_ops: int                   # ops the dynamic run recorded
    step: Any = field(default=None, repr=False, compare=False)            # the compiled static step
    dynamic_output: Any = field(default=None, repr=False, compare=False)  # the dynamic loss (grads retained)

    @property
    def speedup(self) -> float:
        """Dynamic step time over static step time (medians): > 1 means the static engine is faster."""
        return self.dynamic.median / self.static.median

    def to_dict(self) -> dict:
        """Plain data (JSON-ready): every field but the live objects, plus ``speedup``."""
        data = {k: v for k, v in asdict(self).items() if k not in ("step", "dynamic_output")}
        data["speedup"] = self.speedup
        return data

    def rows(self) -> list[tuple[str, str, str]]:
        """The table as (measure, static, dynamic) rows."""
        def spread(t: Timing) -> str:
            return f"{_t(t.q1)} .. {_t(t.q3)}"

        return [
            ("trace + compile", f"{_t(self.trace_seconds)} + {_t(self.compile_seconds)}", "-"),
            ("step (forward + backward), median", _t(self.static.median), _t(self.dynamic.median)),
            ("step, interquartile range", spread(self.static), spread(self.dynamic)),
            ("peak memory of a step", _bytes(self.static_peak_bytes), _bytes(self.dynamic_peak_bytes)),
            ("op nodes: forward / adjoint", f"{self.forward_ops} / {self.adjoint_ops}",
             f"{self.dynamic_ops} recorded"),
        ]

    def _summary(self) -> list[str]:
        check = (f"values and gradients agree (rtol {self.rtol:g})" if self.agree
                 else f"ENGINES DISAGREE: {self.divergence}")
        return [check,
                f"max |difference|: loss {self.max_value_diff:.3g}, gradients {self.max_grad_diff:.3g}",
                f"speedup (dynamic step / static step): {self.speedup:.2f}x "
                f"({self.static.samples} interleaved samples of {self.steps_per_sample} step(s) each)"]

    def __str__(self) -> str:
        rows = [("", "static", "dynamic"), *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"revgraph compare: {self.name} (wrt {', '.join(self.wrt)})"]
        for i, r in enumerate(rows):
            lines.append("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(r, widths))))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines + self._summary())

    def to_markdown(self) -> str:
        """The table as GitHub Markdown."""
        lines = [f"**{self.name}** (wrt {', '.join(f'`{w}`' for w in self.wrt)})", "",
                 "| | static | dynamic |", "|---|---:|---:|"]
        lines += [f"| {m} | {s} | {d} |" for m, s, d in self.rows()]
        return "\n".join(lines + [""] + [f"- {s}" for s in self._summary()]) + "\n"


def compare(fn: Callable[..., Any], feeds: Optional[Mapping[str, Any]] = None, /, *,
            wrt: Union[None, str, Sequence[str]] = None, repeat: int = 20, **more_feeds: Any) -> ComparisonReport:
    """Run ``fn`` statically and dynamically on its feeds; check they agree and time both.

    ``fn`` takes its inputs by parameter name and returns a scalar loss. Feeds are keywords, or a
    mapping given after ``fn`` (or both): the keywords ``wrt=`` and ``repeat=`` are always compare's
    options, so a parameter named ``wrt`` or ``repeat`` is fed through the mapping. ``wrt`` names the
    parameters to differentiate (default: every float feed); ``repeat`` is the number of timed samples.

    >>> def model(x, W): return rg.sum(rg.relu(x @ W))
    >>> report = rg.compare(model, x=np.ones((2, 3)), W=np.ones((3, 4)))
    >>> report.agree, report.speedup > 0
    (True, True)
    >>> print(report)                               # a table
    >>> def scaled(x, repeat): return rg.sum(x * repeat)
    >>> rg.compare(scaled, {"x": np.ones(2), "repeat": np.full(2, 3.0)}, wrt="repeat", repeat=5).agree
    True
    """
    name = getattr(fn, "__name__", "fn")
    feeds = _feeds(feeds, more_feeds, name)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise GraphError(f"rg.compare({name}): repeat must be a positive int (the number of timed samples), "
                         f"got {repeat!r}; an input named 'repeat' is fed through the feeds mapping: "
                         f"rg.compare({name}, {{'repeat': ...}})")
    start = time.perf_counter()
    graph = trace(fn, **feeds)
    trace_seconds = time.perf_counter() - start
    loss = _loss_of(graph, name)
    wrt_names = _wrt_names(wrt, feeds, name)
    wrt_tensors = [graph.tensor(w) for w in wrt_names]
    start = time.perf_counter()
    step = rg_compile(loss, wrt=wrt_tensors)
    compile_seconds = time.perf_counter() - start
    rtol = RTOL.get(np.dtype(loss.dtype), 1e-10)

    check = _Check(graph, loss, fn, feeds, rtol)
    static_step, dynamic_step = _steps(step, fn, feeds, wrt_names)
    static_out, dynamic_out = static_step(), dynamic_step()  # warm-up, and the results compared
    value_diff = _maxdiff(static_out[0], dynamic_out[0])
    grad_diff = max((_maxdiff(s, d) for s, d in zip(static_out[1], dynamic_out[1])), default=0.0)
    number = _steps_per_sample(static_step, dynamic_step)
    static_times, dynamic_times = _interleaved(static_step, dynamic_step, number, repeat)
    static_peak, dynamic_peak = _peak(static_step), _peak(dynamic_step)
    step.forward(**feeds)  # leave the step holding this run, for drawing with values
    step.backward()
    fwd, back = step.plan.programs["forward"], step.plan.programs["backward"]
    return ComparisonReport(
        name=name, wrt=wrt_names, agree=check.divergence is None, divergence=check.divergence, rtol=rtol,
        max_value_diff=value_diff, max_grad_diff=grad_diff, trace_seconds=trace_seconds,
        compile_seconds=compile_seconds, static=Timing.of(static_times), dynamic=Timing.of(dynamic_times),
        steps_per_sample=number, static_peak_bytes=static_peak, dynamic_peak_bytes=dynamic_peak,
        forward_ops=len(fwd.body), adjoint_ops=len(back.body), dynamic_ops=check.dynamic_ops,
        step=step, dynamic_output=check.dynamic_loss)


def write_markdown(report: ComparisonReport, path: Any) -> None:
    """Write ``report.to_markdown()`` to ``path`` between the markers ``<!-- revgraph compare NAME -->`` and
    ``<!-- end revgraph compare -->``: a file that already holds that section (a doc) gets it replaced in
    place, any other existing file gets it appended, a new file holds just the section."""
    from pathlib import Path

    path = Path(path)
    start, end = f"<!-- revgraph compare {report.name} -->", "<!-- end revgraph compare -->"
    section = f"{start}\n{report.to_markdown()}{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text[text.index(start):]:
        i = text.index(start)
        j = text.index(end, i) + len(end)
        text = text[:i] + section + text[j:]
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    path.write_text(text, encoding="utf-8")


# -- inputs -----------------------------------------------------------------------------------------------
def _feeds(feeds: Any, more_feeds: dict, name: str) -> dict:
    """The feeds mapping and the keyword feeds as one dict of arrays (a name given both ways is an error)."""
    if feeds is None:
        feeds = {}
    if not isinstance(feeds, Mapping):
        raise GraphError(f"rg.compare({name}): the argument after the function is a mapping of feeds "
                         f"(input name -> value), got {type(feeds).__name__}")
    twice = sorted(set(feeds) & set(more_feeds))
    if twice:
        raise GraphError(f"rg.compare({name}): {twice} fed twice, in the feeds mapping and as keywords; give each once")
    return {k: np.asarray(v) for k, v in {**feeds, **more_feeds}.items()}


def _loss_of(graph: Any, name: str) -> Any:
    from .ir.tensor import Tensor

    loss = graph.outputs
    if not isinstance(loss, Tensor) or loss.shape != () or loss.dtype.kind != "f":
        got = (f"a tensor of shape {loss.shape} and dtype {loss.dtype}" if isinstance(loss, Tensor)
               else type(loss).__name__)
        raise GraphError(f"rg.compare({name}): the function must return one scalar float loss, got {got}; "
                         "reduce it with rg.sum or rg.mean")
    return loss


def _wrt_names(wrt: Any, feeds: dict, name: str) -> list[str]:
    if wrt is None:
        names = [k for k, v in feeds.items() if v.dtype.kind == "f"]
    else:
        names = [wrt] if isinstance(wrt, str) else list(wrt)
    for w in names:
        if w not in feeds:
            raise GraphError(f"rg.compare({name}): wrt {w!r} is not a parameter of the function; "
                             f"its parameters are {list(feeds)}")
        if feeds[w].dtype.kind != "f":
            raise GraphError(f"rg.compare({name}): cannot differentiate with respect to {w!r} of dtype "
                             f"{feeds[w].dtype}; only float inputs have gradients")
    if not names:
        raise GraphError(f"rg.compare({name}): no float input to differentiate; pass wrt=")
    return names


# -- the two steps -----------------------------------------------------------------------------------------
def _steps(step: Any, fn: Callable, feeds: dict, wrt: list[str]) -> tuple[Callable, Callable]:
    """One forward + backward each, returning ``(loss, grads)``. The dynamic step makes Variables of
    the wrt inputs only (the others stay plain arrays, as data would in a define-by-run framework)."""
    def static_step() -> tuple:
        value = step.forward(**feeds)
        return value, step.backward()

    def dynamic_step() -> tuple:
        params = {k: Variable(v) for k, v in feeds.items() if k in wrt}
        loss = fn(**{**feeds, **params})
        loss.backward()
        return loss.data, [params[w].grad.data if params[w].grad is not None else np.zeros_like(params[w].data)
                           for w in wrt]

    return static_step, dynamic_step


def _steps_per_sample(*steps: Callable) -> int:
    """How many steps make a sample of about SAMPLE_SECONDS for the faster engine (best of three calls)."""
    fastest = float("inf")
    for s in steps:
        for _ in range(3):
            start = time.perf_counter()
            s()
            fastest = min(fastest, time.perf_counter() - start)
    return max(1, min(1000, math.ceil(SAMPLE_SECONDS / max(fastest, 1e-9))))


def _interleaved(static_step: Callable, dynamic_step: Callable, number: int, repeat: int) -> tuple[list, list]:
    """Alternate samples of the two engines; the collector is paused while timing, as timeit does."""
    times: tuple[list, list] = ([], [])
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for out, s in zip(times, (static_step, dynamic_step)):
                start = time.perf_counter()
                for _ in range(number):
                    s()
                out.append((time.perf_counter() - start) / number)
    finally:
        if enabled:
            gc.enable()
    return times


def _peak(step: Callable) -> int:
    """Peak bytes allocated while one step runs, above what was allocated before it (tracemalloc)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        if not tracing:
            tracemalloc.stop()


def _maxdiff(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _t(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _bytes(n: int) -> str:
    for unit, scale in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


# -- the agreement check, node by node -------------------------------------------------------------------
class _Check:
    """Maps each node of the traced graph onto the Variable a dynamic run made at the same place and
    compares them: values in forward order, then gradients in backward order. ``divergence`` names
    the first node that differs (None when every node agrees)."""

    def __init__(self, graph: Any, loss: Any, fn: Callable, feeds: dict, rtol: float) -> None:
        self.graph, self.rtol = graph, rtol
        params = {k: Variable(v, name=k) for k, v in feeds.items()}
        out = fn(**params)
        if not isinstance(out, Variable):
            raise GraphError(f"rg.compare: in the dynamic run {getattr(fn, '__name__', 'fn')} returned "
                             f"{type(out).__name__}, not a Variable; compute the loss from the inputs")
        out.backward(retain_grad=True)
        self.dynamic_loss = out
        self.dynamic_ops = sum(1 for v in record(out).variables.values() if v.creator is not None)
        self.divergence = self._match(loss.id, out) or self._compare(loss)

    def _match(self, root: int, out: Variable) -> Optional[str]:
        """Pair static node ids with dynamic Variables (or plain values, for constants), slot by slot."""
        G = self.graph.nx
        self.pairs: dict[int, Any] = {}
        stack = [(root, out)]
        while stack:
            nid, var = stack.pop()
            if nid in self.pairs:
                continue
            self.pairs[nid] = var
            d = G.nodes[nid]
            if d["op"] == "constant":
                continue
            node = var.creator if isinstance(var, Variable) else None
            dyn_op = "a plain value" if not isinstance(var, Variable) else node.op if node else "an input"
            static_op = "an input" if d["op"] == "input" else d["op"]
            operands = self.graph.operands(nid)
            if dyn_op != static_op or (node is not None and len(node.inputs) != len(operands)):
                return (f"the engines computed different things at node {d['name']!r}: the traced graph has "
                        f"{static_op} there, the dynamic run {dyn_op} (does the function branch on its inputs' "
                        "types or values?)")
            if node is not None:
                stack.extend(zip(operands, node.inputs))
        return None

    def _compare(self, loss: Any) -> Optional[str]:
        G = self.graph.nx
        order = sorted(n for n in self.pairs if G.nodes[n]["op"] != "constant")  # ids: creation = forward order
        ops = [n for n in order if G.nodes[n]["op"] != "input"]
        values = rg_compile([self.graph.tensor(n) for n in ops])(**{v.name: v.data for v in self._inputs()})
        for n, value in zip(ops, values):
            bad = self._differs(value, self.pairs[n].data)
            if bad:
                return f"forward: the value of node {self.graph.describe(n)} differs: {bad}"
        floats = [n for n in order if G.nodes[n]["dtype"].kind == "f"]
        work = self.graph.copy()
        grads = rg_grad(work.tensor(loss.id), [work.tensor(n) for n in floats])
        grad_values = rg_compile(grads)(**{v.name: v.data for v in self._inputs()})
        for n, g in reversed(list(zip(floats, grad_values))):
            var = self.pairs[n]
            dyn = var.grad.data if var.grad is not None else np.zeros_like(var.data)
            bad = self._differs(g, dyn)
            if bad:
                users = sorted({self.graph.describe(c) for c in G.successors(n) if c in self.pairs})
                return (f"backward: the gradient of node {self.graph.describe(n)} differs: {bad}; it receives its "
                        f"gradient through the VJP rule(s) of {', '.join(users)}")
        return None

    def _inputs(self) -> list[Variable]:
        G = self.graph.nx
        return [self.pairs[n] for n in self.pairs if G.nodes[n]["op"] == "input"]

    def _differs(self, static: Any, dynamic: Any) -> Optional[str]:
        s, d = np.asarray(static), np.asarray(dynamic)
        if s.shape != d.shape:
            return f"shape {s.shape} (static) vs {d.shape} (dynamic)"
        if s.size == 0:
            return None
        diff = _maxdiff(s, d)
        scale = max(1.0, float(np.max(np.abs(s.astype(np.float64)))))
        if not diff <= self.rtol * scale:  # also catches NaN in one engine only
            if np.array_equal(s, d, equal_nan=True):
                return None
            return f"max |static - dynamic| = {diff:.3g} (static {_brief(s)}, dynamic {_brief(d)})"
        return None


def _brief(a: np.ndarray) -> str:
    return repr(a.item()) if a.size == 1 else f"array of shape {a.shape}, first {a.ravel()[0]!r}"
