"""The ``revgraph`` command line (also ``python -m revgraph``)."""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

# The pictures `revgraph demo` writes: file stem, view, with values.
PICTURES = [("forward", "forward", False), ("adjoint", "adjoint", False), ("joint", "joint", False),
            ("textbook", "forward", True)]


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
    _write_pictures(step, Path(args.out))
    return 0


def _write_pictures(step: Any, out: Path) -> None:
    """Write the demo's pictures as SVG; without Graphviz's `dot`, as .dot files, saying how to get SVG."""
    from .backends.graphviz import DotNotFound, render
    from .backends.graphviz.api import INSTALL

    out.mkdir(parents=True, exist_ok=True)
    try:
        paths = [render(step, out / f"{stem}.svg", which, values=values) for stem, which, values in PICTURES]
    except DotNotFound:
        paths = [render(step, out / f"{stem}.dot", which, values=values) for stem, which, values in PICTURES]
        print(f"Graphviz's `dot` program was not found, so the pictures are .dot files. To get SVG, {INSTALL}; "
              f"then run `revgraph demo` again, or `dot -Tsvg {paths[-1]} -o {paths[-1].with_suffix('.svg')}`.")
    print("pictures:")
    for path in paths:
        print(f"  {path}")


def _load_python(path: Path) -> tuple[Any, Any]:
    """A Python file defining ``build() -> (outputs, wrt)``."""
    namespace = runpy.run_path(str(path), run_name="revgraph_model")
    build = namespace.get("build")
    if not callable(build):
        raise SystemExit(f"revgraph render: {path} defines no build() function; define build() -> (outputs, wrt)")
    result = build()
    if not (isinstance(result, tuple) and len(result) == 2):
        raise SystemExit(f"revgraph render: build() in {path} returned {type(result).__name__}; "
                         "return a pair (outputs, wrt), with wrt None or a list of tensors")
    return result


def _load_json(path: Path) -> tuple[Any, Any]:
    """A graph saved with ``g.save`` (validated on load); its recorded outputs and wrt, else its final nodes."""
    from .ir.serialize import load

    graph = load(path)
    outputs = graph.outputs
    if outputs is None:  # saved without g.outputs: draw every forward node nothing else consumes
        sinks = [n for n in graph.nx if graph.nx.out_degree(n) == 0 and not graph.nx.nodes[n]["adjoint"]]
        outputs = [graph.tensor(n) for n in sorted(sinks)]
    return outputs, graph.wrt


# How `revgraph render` reads each kind of model file, by suffix.
LOADERS: dict[str, Callable[[Path], tuple[Any, Any]]] = {".py": _load_python, ".json": _load_json}


def load_model(path: Path) -> tuple[Any, Any]:
    """``(outputs, wrt)`` from a model file, by its suffix."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise SystemExit(f"revgraph render: cannot read {str(path)!r}; give one of: {', '.join(sorted(LOADERS))}")
    if not path.is_file():
        raise SystemExit(f"revgraph render: no such file {str(path)!r}")
    return loader(path)


def cmd_render(args: argparse.Namespace) -> int:
    from .backends.graphviz import render
    from .compiler import compile
    from .ir import Tensor

    outputs, wrt = load_model(Path(args.file))
    flat = [outputs] if isinstance(outputs, Tensor) else list(outputs.values() if isinstance(outputs, dict) else outputs)
    if not flat or not all(isinstance(t, Tensor) for t in flat):
        raise SystemExit("revgraph render: build() must return Tensors as outputs")
    graph = flat[0].graph
    if args.wrt:
        wrt = [graph.tensor(name) for name in args.wrt]
    if args.which == "forward" and not wrt:
        graph.outputs = flat
        obj: Any = graph
    elif not wrt:
        raise SystemExit(f"revgraph render: --which {args.which} draws gradients: name them with --wrt NAME "
                         "(or return them from build())")
    else:
        obj = compile(flat[0] if len(flat) == 1 else flat, wrt=wrt)
    path = render(obj, args.output, args.which)
    print(path)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """`revgraph explain MODEL -o backprop.html`: the backward-pass player of a demo or a model file."""
    from .backends.html import explain
    from .compiler import compile
    from .demos import DEMOS
    from .ir import Tensor

    if args.model in DEMOS:
        graph, out, wrt, feeds = DEMOS[args.model]()
    else:
        path = Path(args.model)
        outputs, wrt = load_model(path)
        out = outputs if isinstance(outputs, Tensor) else (list(outputs.values()) if isinstance(outputs, dict)
                                                           else list(outputs))
        if not isinstance(out, Tensor):
            if len(out) != 1:
                raise SystemExit(f"revgraph explain: {path} has {len(out)} outputs; the player needs one output "
                                 "to differentiate (a loss)")
            out = out[0]
        if args.wrt:
            wrt = [out.graph.tensor(name) for name in args.wrt]
        if not wrt:
            raise SystemExit("revgraph explain: name the tensors to differentiate with --wrt NAME ... "
                             "(or return them from build())")
        feeds = _model_feeds(path, out.graph)
    step = compile(out, wrt=wrt)
    print(explain(step, args.output, lang=args.lang, **feeds))
    return 0


def _model_feeds(path: Path, graph: Any) -> dict:
    """Feeds for a model file: its ``feeds()`` function when a .py file has one, else sample values
    (normal(0, 1) floats, zeros for integers, size 2 for dimensions declared None; seeded, so
    the page is the same every time)."""
    if path.suffix.lower() == ".py":
        namespace = runpy.run_path(str(path), run_name="revgraph_model")
        if callable(namespace.get("feeds")):
            return dict(namespace["feeds"]())
    rng = np.random.default_rng(0)
    feeds = {}
    for n, d in sorted(graph.nx.nodes(data=True)):
        if d["op"] == "input" and not d["adjoint"]:
            shape = tuple(2 if s is None else s for s in d["shape"])
            dtype = np.dtype(d["dtype"])
            feeds[d["name"]] = rng.normal(size=shape).astype(dtype) if dtype.kind in "fc" else np.zeros(shape, dtype)
    return feeds


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
    report = compare(fn, feeds(), wrt=ns.get("WRT"), repeat=args.repeat)
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

    from . import __version__

    parser = argparse.ArgumentParser(prog="revgraph", description="Reverse-mode autodiff as a graph compiler.")
    parser.add_argument("--version", action="version", version=f"revgraph {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a textbook example: value, gradients and pictures",
                          description="Run a textbook example: print its value and gradients, and draw its "
                                      "forward, adjoint, joint and textbook pictures as SVG.")
    demo.add_argument("name", nargs="?", default="apple_orange", choices=sorted(DEMOS),
                      help="which example (default: apple_orange)")
    demo.add_argument("--out", default="revgraph-out", metavar="DIR",
                      help="where to write the pictures (default: ./revgraph-out)")
    demo.set_defaults(func=cmd_demo)

    rend = sub.add_parser("render", help="draw a model's forward, adjoint or joint graph",
                          description="Draw a model. FILE is a graph saved with g.save (.json) or a Python "
                                      "file defining build() -> (outputs, wrt).")
    rend.add_argument("file", metavar="FILE",
                      help="the model: a .json graph file (g.save) or a .py file defining build() -> (outputs, wrt)")
    rend.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="the picture to write; the format from its suffix (.svg, .png, .pdf, .dot)")
    rend.add_argument("--which", default="forward", choices=["forward", "adjoint", "joint"],
                      help="which graph to draw (default: forward)")
    rend.add_argument("--wrt", nargs="+", metavar="NAME", help="names of the tensors to differentiate with respect to")
    rend.set_defaults(func=cmd_render)
    cmp_ = sub.add_parser("compare", help="run a function statically and dynamically: agreement, time, memory",
                          description="Trace and compile FILE's function (static), run it define-by-run (dynamic), "
                                      "check both agree node by node and time them (exit status 1 when they "
                                      "disagree). FILE defines the function (default name: model), feeds() "
                                      "returning example inputs, and optionally WRT, the names to differentiate.")
    cmp_.add_argument("target", metavar="FILE.py[:FUNCTION]", help="the file and function to compare")
    cmp_.add_argument("--repeat", type=int, default=20, help="timed samples per engine (default: 20)")
    cmp_.add_argument("--markdown", metavar="OUT.md", help="also write the table as Markdown (an existing file "
                      "gets its section for this function replaced, or appended)")
    cmp_.add_argument("--svg", metavar="DIR", help="draw static-forward.svg, static-adjoint.svg and dynamic.svg")
    cmp_.set_defaults(func=cmd_compare)

    exp = sub.add_parser("explain", help="write the backward-pass player: one HTML page stepping through backprop",
                         description="Write a self-contained HTML page that steps through the backward pass node by "
                                     "node: the textbook figure, the local rule at each node, the gradients it "
                                     "sends, and the generated code that computes them. MODEL is a demo name "
                                     f"({', '.join(sorted(DEMOS))}), a graph saved with g.save (.json), or a .py "
                                     "file defining build() -> (output, wrt) and optionally feeds().")
    exp.add_argument("model", metavar="MODEL", help="a demo name, a .json graph file or a .py file with build()")
    exp.add_argument("-o", "--output", default="backprop.html", metavar="OUT.html",
                     help="the page to write (default: backprop.html)")
    exp.add_argument("--lang", choices=["en", "ko"], default=None,
                     help="the page's language (default: the reader's browser language; the page has a switch)")
    exp.add_argument("--wrt", nargs="+", metavar="NAME", help="names of the tensors to differentiate with respect to")
    exp.set_defaults(func=cmd_explain)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .ir import FeedError, GraphError
    from .backends.graphviz import DotNotFound

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (GraphError, FeedError, DotNotFound) as exc:
        print(f"revgraph {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
