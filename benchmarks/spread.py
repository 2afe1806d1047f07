"""``python -m benchmarks.spread RUN.json [RUN.json ...] [--write docs/benchmarks.md]``

The targets across several full runs of ``python -m benchmarks --json RUN.json``: each target's figure in
every run (that run's median over its rounds), the spread across runs, and whether the target held in all
of them. ``--write`` replaces the "Spread across runs" section of the markdown file (between its markers).
"""

from __future__ import annotations

import argparse
import json
import sys

from .__main__ import targets
from .sections import replace_section

BEGIN, END = "<!-- benchmarks.spread: begin -->", "<!-- benchmarks.spread: end -->"


def load(path: str) -> dict:
    """A run's results as ``python -m benchmarks`` holds them: {(workload, size): {impl: [samples]}}."""
    with open(path, encoding="utf-8") as f:
        pairs = json.load(f)
    return {(w, tuple(size) if isinstance(size, list) else size): by for (w, size), by in pairs}


def section(paths: list[str]) -> str:
    runs = []
    for path in paths:
        values: list = []
        targets(load(path), values)
        runs.append(values)
    head = " | ".join(f"run {i + 1}" for i in range(len(runs)))
    out = [BEGIN, "## Spread across runs (benchmarks/spread.py)\n",
           f"Each target in {len(runs)} full runs of `python -m benchmarks` (each figure that run's median over its "
           "rounds), one run after another on the same machine.\n",
           f"| target | {head} | spread (min-max) | goal | held in every run |",
           "|---|" + "---|" * len(runs) + "---|---|---|"]
    for i, (name, _, goal, fmt) in enumerate(runs[0]):
        got = [run[i][1] if i < len(run) and run[i][0] == name else None for run in runs]
        seen = [v for v in got if v is not None]
        cells = " | ".join("" if v is None else fmt.format(v) for v in got)
        spread = f"{fmt.format(min(seen))}-{fmt.format(max(seen))}" if seen else ""
        held = "" if not seen else ("yes" if all(v <= goal for v in seen) and len(seen) == len(got) else "no")
        out.append(f"| {name} | {cells} | {spread} | ≤ {fmt.format(goal)} | {held} |")
    return "\n".join(out + ["", "Command: `python -m benchmarks.spread " + " ".join(paths) + "`", END]) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.spread", description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="JSON files written by python -m benchmarks --json")
    p.add_argument("--write", default="", help="replace the spread section of this markdown file")
    args = p.parse_args(argv)
    text = section(args.runs)
    print(text)
    if args.write:
        replace_section(args.write, text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
