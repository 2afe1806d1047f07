"""``python -m benchmarks.ops [--smoke] [--rounds N] [--budget S] [--only tan,prod] [--write docs/benchmarks.md]``

The per-op micro-suite: what one op costs inside a compiled program against the bare NumPy call it
wraps, on a small (16 elements) and a large (10^5) array (10^5 rather than 10^6: the op's own work
already dwarfs the per-op overhead there, and a full run -- every row, three rounds -- stays within a
few minutes; the elapsed time is printed at the end). The compiled per-op time is the marginal
cost of one more op line: a program of K independent applications of the op (compiled without the
simplification passes, so CSE keeps all K) minus a program of one, divided by K - 1; so the program's
entry (feed checks, argument binding) is left out, and what remains is the line the code generator
wrote for the op. "overhead" is that time minus the NumPy call's; the reference row ``neg`` shows the
per-op overhead every op pays. The dynamic engine's column is one ``rg.<op>(Variable)`` call (it
computes and records a node) over the NumPy call. Medians over rounds, the rounds interleaved op by op.
``--write`` replaces the "Ops" section of the markdown file (between its markers) and keeps the rest.
Values are checked against NumPy before anything is timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from typing import Any, Callable

import numpy as np

from .sections import replace_section

BEGIN, END = "<!-- benchmarks.ops: begin -->", "<!-- benchmarks.ops: end -->"
K = 8  # independent applications per program (the marginal per-op cost is measured between 1 and K)
FULL_SIZES, SMOKE_SIZES = (16, 100_000), (16, 1_000)
BUDGET = 0.08  # seconds of timing per measurement (calibration plus three repeats)


def _rows() -> list[tuple[str, Callable, Callable, int, str]]:
    """(op, rg function, NumPy function, operands, domain): every op of ir/ops/math.py, the new reductions,
    the complex ops and rg.fft, with ``neg`` and ``exp`` as reference rows."""
    import revgraph as rg

    def unary(name: str, domain: str = "any", np_fn: Any = None) -> tuple:
        return (name, getattr(rg, name), np_fn or getattr(np, name), 1, domain)

    def binary(name: str, domain: str = "any") -> tuple:
        return (name, getattr(rg, name), getattr(np, name), 2, domain)

    rows = [unary("neg", np_fn=np.negative), unary("exp")]
    rows += [unary(n) for n in ("tan", "sinh", "cosh", "arctan", "arcsinh", "expm1", "exp2", "floor", "ceil",
                                "sinc", "deg2rad", "rad2deg", "nan_to_num", "isnan", "isfinite")]
    rows += [unary(n, "unit") for n in ("arcsin", "arccos", "arctanh")]
    rows += [unary("arccosh", "gt1")] + [unary(n, "pos") for n in ("log1p", "log2", "log10", "reciprocal")]
    rows += [unary("round"), unary("softplus", np_fn=lambda x: np.logaddexp(0, x)),
             unary("leaky_relu", np_fn=lambda x: np.where(x > 0, x, x * 0.01)),
             ("clip", lambda x: rg.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), 1, "any")]
    rows += [binary(n) for n in ("arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin")]
    rows += [binary(n, "pos") for n in ("mod", "fmod")]
    rows += [unary(n) for n in ("min", "prod", "var", "std", "cumsum")]
    # complex numbers and rg.fft (complex operands; the 2-D transforms see the array as 4 rows)
    rows += [unary(n, "complex") for n in ("real", "imag", "conj", "angle")]
    rows += [("abs_complex", rg.abs, np.abs, 1, "complex")]
    rows += [(f"fft.{n}", getattr(rg.fft, n), getattr(np.fft, n), 1, "complex") for n in ("fft", "ifft", "fftshift")]
    rows += [("fft.rfft", rg.fft.rfft, np.fft.rfft, 1, "any"), ("fft.irfft", rg.fft.irfft, np.fft.irfft, 1, "complex")]
    rows += [(f"fft.{n}", lambda x, f=getattr(rg.fft, n): f(rg.reshape(x, (4, -1))),
              lambda x, f=getattr(np.fft, n): f(x.reshape(4, -1)), 1, "complex")
             for n in ("fft2", "ifft2", "fftn", "ifftn")]
    return rows


def _sample(n: int, domain: str, rng: np.random.Generator) -> np.ndarray:
    return {"any": lambda: rng.normal(size=n), "pos": lambda: rng.uniform(0.5, 2.0, size=n),
            "complex": lambda: rng.normal(size=n) + 1j * rng.normal(size=n),
            "unit": lambda: rng.uniform(-0.9, 0.9, size=n), "gt1": lambda: rng.uniform(1.2, 3.0, size=n)}[domain]()


def _best(fn: Callable[[], Any], budget: float) -> float:
    """Seconds per call: the best of 3 repeats of as many calls as fit in ``budget`` / 3."""
    calls = 1
    while True:
        t = timeit.timeit(fn, number=calls)
        if t >= budget / 10 or calls >= 1 << 20:
            break
        calls *= 4
    n = max(1, int(calls * (budget / 3) / max(t, 1e-9)))
    return min(timeit.repeat(fn, number=n, repeat=3)) / n


def measure(row: tuple, n: int, budget: float) -> dict:
    """Seconds per call of the bare NumPy call, of one op line in a compiled program, and of the dynamic op."""
    import revgraph as rg
    from revgraph import dynamic as dy

    name, rg_fn, np_fn, arity, domain = row
    rng = np.random.default_rng(0)
    values = [_sample(n, domain, rng) for _ in range(arity)]
    g = rg.Graph(name)
    xs = [g.input(f"x{i}", shape=(n,), dtype=v.dtype) for i, v in enumerate(values)]
    feeds = {x.name: v for x, v in zip(xs, values)}
    one = rg.compile(rg_fn(*xs), optimize=False)
    many = rg.compile([rg_fn(*xs) for _ in range(K)], optimize=False)
    expected = np_fn(*values)
    for got in (one(**feeds), *many(**feeds)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"benchmarks.ops: {name} differs from NumPy")
    variables = [dy.Variable(v) for v in values]
    t_np = _best(lambda: np_fn(*values), budget)
    t_one = _best(lambda: one(**feeds), budget)
    t_many = _best(lambda: many(**feeds), budget)
    t_dy = _best(lambda: rg_fn(*variables), budget)
    per_op = max((t_many - t_one) / (K - 1), 0.0)
    return {"numpy": t_np, "compiled": per_op, "dynamic": t_dy}


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}" if seconds < 1e-4 else f"{seconds * 1e6:.0f}"


def table(results: dict, sizes: tuple) -> str:
    head = "| op | " + " | ".join(f"n = {n:,}: NumPy µs, compiled ×, overhead µs, dynamic ×" for n in sizes) + " |"
    rows = [head, "|---|" + "---|" * len(sizes)]
    for name, by_size in results.items():
        cells = []
        for n in sizes:
            runs = by_size[n]
            t_np = statistics.median(r["numpy"] for r in runs)
            t_rg = statistics.median(r["compiled"] for r in runs)
            t_dy = statistics.median(r["dynamic"] for r in runs)
            cells.append(f"{_us(t_np)}, {t_rg / t_np:.2f}×, {(t_rg - t_np) * 1e6:+.2f}, {t_dy / t_np:.1f}×")
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def section(text: str, rounds: int, command: str) -> str:
    return (f"{BEGIN}\n## Ops (benchmarks/ops.py)\n\n"
            "One op inside a compiled program against the bare NumPy call, per call: the marginal cost of one more "
            f"op line ({K} independent applications minus one, compiled with optimize=False), so the program's entry "
            "is left out; overhead = that minus NumPy's time; dynamic = one `rg.<op>(Variable)` (compute and record) "
            f"over NumPy. Medians over {rounds} round(s).\n\n{text}\n\nCommand: `{command}`\n{END}\n")


def write(path: str, body: str) -> None:
    replace_section(path, body, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ops", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="small sizes, one round, tiny time budget (CI)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--budget", type=float, default=BUDGET, help="seconds of timing per measurement")
    p.add_argument("--only", default="", help="comma-separated op names, e.g. tan,prod")
    p.add_argument("--write", default="", help="replace the Ops section of this markdown file")
    args = p.parse_args(argv)
    sizes, rounds, budget = (SMOKE_SIZES, 1, 0.003) if args.smoke else (FULL_SIZES, args.rounds, args.budget)
    start = timeit.default_timer()
    rows = [r for r in _rows() if not args.only or r[0] in args.only.split(",")]
    results: dict = {r[0]: {n: [] for n in sizes} for r in rows}
    for _ in range(rounds):
        for row in rows:
            for n in sizes:
                results[row[0]][n].append(measure(row, n, budget))
    text = table(results, sizes)
    print(text)
    print(f"({len(rows)} ops, {rounds} round(s): {timeit.default_timer() - start:.0f} s)", file=sys.stderr)
    if args.write:
        command = "python -m benchmarks.ops" + (" --smoke" if args.smoke else f" --rounds {rounds}") + \
                  f" --write {args.write}"
        write(args.write, section(text, rounds, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
