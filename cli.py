"""The ``revgraph`` command line (also ``python -m revgraph``)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import numpy as np


def _fmt(value: object) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.6g}"
    if arr.size <= 6:
        return np.array2string(arr, precision=4, separator=", ")
    return f"array of shape {arr.shape}, mean {arr.mean():.4g}"


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demos

    step, value, grads = demos.run(args.name)
    out_name = step.graph.nx.nodes[step.plan.options["output"]]["name"]
    wrt_names = [step.graph.nx.nodes[w]["name"] for w in step.plan.options["wrt"]]
    labels = [out_name] + [f"d{out_name}/d{n}" for n in wrt_names]
    width = max(len(label) for label in labels)
    print(f"{step.graph.name}: forward value and gradients")
    for label, v in zip(labels, [value, *grads]):
        print(f"  {label.ljust(width)} = {_fmt(v)}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """`revgraph compare FILE.py[:FUNCTION]`: run the function statically and dynamically, print the table."""
    import runpy
    from pathlib import Path

    from .compare import compare, write_markdown

    path, func = args.target, "model"
    if ":" in args.target and not args.target.endswith(".py"):
        path, func = args.target.rsplit(":", 1)
    if not Path(path).is_file():
        print(f"revgraph compare: no file {path!r}; give a Python file defining the function and feeds()",
              file=sys.stderr)
        return 2
    ns = runpy.run_path(path, run_name="__revgraph_compare__")
    fn, feeds = ns.get(func), ns.get("feeds")
    if not callable(fn) or not callable(feeds):
        names = sorted(k for k, v in ns.items() if callable(v) and getattr(v, "__module__", None) == "__revgraph_compare__")
        missing = f"function {func!r}" if not callable(fn) else "function feeds() returning example inputs"
        print(f"revgraph compare: {path} has no {missing}; its functions: {', '.join(names) or 'none'} "
              "(name the function with FILE.py:FUNCTION)", file=sys.stderr)
        return 2
    report = compare(fn, wrt=ns.get("WRT"), repeat=args.repeat, **feeds())
    report.name = f"{Path(path).name}:{func}"
    print(report)
    if args.markdown:
        write_markdown(report, args.markdown)
        print(f"wrote {args.markdown}")
    if args.svg:
        from . import render

        out = Path(args.svg)
        out.mkdir(parents=True, exist_ok=True)
        for target, file, which in [(report.step, "static-forward.svg", "forward"),
                                    (report.step, "static-adjoint.svg", "adjoint"),
                                    (report.dynamic_output, "dynamic.svg", "forward")]:
            render(target, out / file, which=which, values=True)
            print(f"wrote {out / file}")
    return 0 if report.agree else 1


def build_parser() -> argparse.ArgumentParser:
    from .demos import DEMOS

    parser = argparse.ArgumentParser(prog="revgraph", description="Reverse-mode autodiff as a graph compiler.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a textbook example: forward value and every gradient",
                          description="Run a textbook example and print its value and gradients.")
    demo.add_argument("name", nargs="?", default="apple_orange", choices=sorted(DEMOS),
                      help="which example (default: apple_orange)")
    demo.set_defaults(func=cmd_demo)
    cmp_ = sub.add_parser("compare", help="run a function statically and dynamically: agreement, time, memory",
                          description="Trace and compile FILE's function (static), run it define-by-run (dynamic), "
                                      "check both agree node by node and time them. FILE defines the function "
                                      "(default name: model), feeds() returning example inputs, and optionally "
                                      "WRT, the names to differentiate.")
    cmp_.add_argument("target", metavar="FILE.py[:FUNCTION]", help="the file and function to compare")
    cmp_.add_argument("--repeat", type=int, default=20, help="timed samples per engine (default: 20)")
    cmp_.add_argument("--markdown", metavar="OUT.md", help="also write the table as Markdown (an existing file "
                      "gets its section for this function replaced, or appended)")
    cmp_.add_argument("--svg", metavar="DIR", help="draw static-forward.svg, static-adjoint.svg and dynamic.svg")
    cmp_.set_defaults(func=cmd_compare)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
