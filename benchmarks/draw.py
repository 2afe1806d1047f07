"""``python -m benchmarks.draw [--smoke] [--rounds N] [--write docs/benchmarks.md]``

Time to draw (build the picture and run Graphviz's ``dot`` to SVG) the graphs that used to
hang a notebook: the shared-constant chain ``h = rg.tanh(h * 0.9 + 0.1)`` of 300 layers, in
the forward and joint views, and a 10 000-op chain, plus the Jupyter display
(``step._repr_svg_()``) of both steps. Each case runs in a fresh subprocess (so nothing is
cached between rounds); the median over rounds is reported with the range. ``--write``
replaces the "Drawing" section of the given markdown file (between its markers) and keeps
the rest, so it can run after ``python -m benchmarks --write docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from .sections import replace_section

BEGIN, END = "<!-- benchmarks.draw: begin -->", "<!-- benchmarks.draw: end -->"
FULL = {"layers": 300, "ops": 10_000}
SMOKE = {"layers": 30, "ops": 300}
# (case, what, goal in seconds)
CASES = [("chain-forward", "render the {layers}-layer shared-constant chain, forward view", 5.0),
         ("chain-joint", "render the {layers}-layer shared-constant chain, joint view", 5.0),
         ("big-forward", "render a {ops}-op graph, forward view", 5.0),
         ("big-joint", "render a {ops}-op graph (with its gradient), joint view", 5.0),
         ("chain-notebook", "Jupyter display of the {layers}-layer step (_repr_svg_)", 2.0),
         ("big-notebook", "Jupyter display of the {ops}-op step (_repr_svg_)", 2.0)]

WORKER = r"""
import json, sys, time, tempfile, os
import revgraph as rg
case, layers, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = layers if case.startswith("chain") else ops // 3
g = rg.Graph("chain")
x = h = g.input("x", shape=(3,))
for _ in range(n):
    h = rg.tanh(h * 0.9 + 0.1)
step = rg.compile(rg.sum(h), wrt=[x])
t0 = time.perf_counter()
if case.endswith("notebook"):
    svg = step._repr_svg_()
    assert svg and "<svg" in svg
else:
    with tempfile.TemporaryDirectory() as d:
        rg.render(step, os.path.join(d, "out.svg"), which=case.split("-")[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "nodes": len(step.graph)}))
"""


def run_case(case: str, sizes: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", WORKER, case, str(sizes["layers"]), str(sizes["ops"])],
                         capture_output=True, text=True, timeout=600, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: dict, sizes: dict) -> str:
    rows = ["| what | median (min-max) | goal | |", "|---|---|---|---|"]
    for case, what, goal in CASES:
        times = results[case]
        med = statistics.median(times)
        rows.append(f"| {what.format(**sizes)} | {med:.2f} s ({min(times):.2f}-{max(times):.2f} s) | "
                    f"≤ {goal:g} s | {'met' if med <= goal else 'NOT met'} |")
    return "\n".join(rows)


def section(text: str, rounds: int, command: str) -> str:
    return (f"{BEGIN}\n## Drawing (benchmarks/draw.py)\n\n"
            "Build the picture and run Graphviz's `dot` to SVG, each case in a fresh subprocess, "
            f"{rounds} round(s). Views over 400 nodes are drawn as summaries (runs of same-shaped ops and name "
            "scopes collapsed into boxes), small constants inside their readers' nodes, and `dot` runs with a "
            f"time limit.\n\n{text}\n\nCommand: `{command}`\n{END}\n")


def write(path: str, body: str) -> None:
    replace_section(path, body, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.draw", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="small sizes, one round (CI)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--write", default="", help="replace the Drawing section of this markdown file")
    args = p.parse_args(argv)
    sizes, rounds = (SMOKE, 1) if args.smoke else (FULL, args.rounds)
    results: dict[str, list[float]] = {case: [] for case, _, _ in CASES}
    for _ in range(rounds):
        for case, _, _ in CASES:
            results[case].append(run_case(case, sizes)["seconds"])
    text = table(results, sizes)
    print(text)
    if args.write:
        command = "python -m benchmarks.draw" + (" --smoke" if args.smoke else f" --rounds {rounds}") + \
                  f" --write {args.write}"
        write(args.write, section(text, rounds, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
