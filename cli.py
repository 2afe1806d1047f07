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


def build_parser() -> argparse.ArgumentParser:
    from .demos import DEMOS

    parser = argparse.ArgumentParser(prog="revgraph", description="Reverse-mode autodiff as a graph compiler.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a textbook example: forward value and every gradient",
                          description="Run a textbook example and print its value and gradients.")
    demo.add_argument("name", nargs="?", default="apple_orange", choices=sorted(DEMOS),
                      help="which example (default: apple_orange)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
