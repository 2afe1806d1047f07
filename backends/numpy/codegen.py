"""Lower a Plan to plain, readable Python: one straight-line function per
program, ``v<node id>`` for every value (never a user's name), kernels inlined
from their templates, constants bound in the namespace, user names only in
escaped comments."""

from __future__ import annotations

import linecache
import sys
from typing import Any

import numpy as np

from ...compiler.finite import nonfinite_error
from ...compiler.plan import Lowered, Plan, Program
from ...ir.graph import Graph
from ...ir.shapes import fmt
from .kernels import expression, namespace

COMMENT_COLUMN = 32


def lower(plan: Plan) -> Lowered:
    """Generate, compile and return the functions of ``plan``."""
    graph = plan.graph
    ns = namespace()
    constants = sorted({c for name in plan.programs for c in plan.constants_of(name)})
    for c in constants:
        ns[var(c)] = graph.nx.nodes[c]["value"]
    functions, sources, line_map = {}, [], {}
    header = _constants_header(graph, constants)
    check = bool(plan.options.get("check_finite"))
    if check:
        ns["_finite"] = _finite_checker(graph)
    for name, program in plan.programs.items():
        lines, lines_nodes = _function(graph, program, check)
        src = "\n".join(lines) + "\n"
        filename = f"<revgraph {name} {id(plan):x}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)  # tracebacks show the code
        exec(compile(src, filename, "exec"), ns)
        functions[name] = ns[name]
        sources.append(src)
        line_map.update({(name, ln): nid for ln, nid in lines_nodes.items()})
    return Lowered(functions, header + "\n\n".join(sources), line_map)


def var(nid: int) -> str:
    return f"v{nid}"


def safe_text(text: Any, limit: int = 40) -> str:
    """User text made safe for a comment: escaped like repr (no newlines or control
    characters survive), and shortened."""
    body = repr(str(text))[1:-1]
    return body if len(body) <= limit else body[: limit - 3] + "..."


def _describe_operand(graph: Graph, nid: int) -> str:
    d = graph.nx.nodes[nid]
    if d["op"] == "constant" and d.get("weak"):
        return repr(d["value"])
    return safe_text(d["name"], 24)


def _function(graph: Graph, program: Program, check: bool = False) -> tuple[list[str], dict[int, int]]:
    G = graph.nx
    lines = [f"def {program.name}({', '.join(var(p) for p in program.params)}):"]
    for p in program.params:
        d = G.nodes[p]
        lines.append(f"    # {var(p)}: {safe_text(d['name'])} {fmt(d['shape'])} {d['dtype']}")
    lines += [_finite_line(G, p) for p in program.params if check and _is_float(G, p)]
    line_nodes = {}
    for nid in program.body:
        d = G.nodes[nid]
        operands = graph.operands(nid)
        code = f"    {var(nid)} = {expression(d['op'], [var(o) for o in operands], d['attrs'])}"
        what = f"{d['op']}({', '.join(_describe_operand(graph, o) for o in operands)})"
        lines.append(f"{code.ljust(COMMENT_COLUMN)}  # {safe_text(d['name'])} = {what}")
        line_nodes[len(lines)] = nid
        if check and _is_float(G, nid):
            lines.append(_finite_line(G, nid))
    results = ", ".join(var(r) for r in program.results)
    lines.append(f"    return ({results},)" if len(program.results) == 1 else f"    return ({results})")
    return lines, line_nodes


# -- check_finite: one call after each float result, only when the plan asks --------------------
def _is_float(G: Any, nid: int) -> bool:
    return G.nodes[nid]["dtype"].kind == "f"  # bool and int values cannot be NaN or Inf


def _finite_line(G: Any, nid: int) -> str:
    return f"    _finite({var(nid)}, {nid})"


def _finite_checker(graph: Graph) -> Any:
    def _finite(value: Any, nid: int) -> None:
        if not np.all(np.isfinite(value)):
            operands = sys._getframe(1).f_locals  # the generated function's v<id> values, to say which were finite
            values = {o: operands.get(var(o)) for o in graph.operands(nid)}
            for o in values:
                if values[o] is None and graph.nx.nodes[o]["op"] == "constant":
                    values[o] = graph.nx.nodes[o]["value"]
            raise nonfinite_error(graph, nid, value, values)

    return _finite


def _constants_header(graph: Graph, constants: list[int]) -> str:
    if not constants:
        return ""
    lines = ["# constants, bound in the namespace (never written into the code):"]
    for c in constants:
        d = graph.nx.nodes[c]
        value = d["value"]
        shown = repr(value) if d.get("weak") or np.size(value) == 1 else f"array {fmt(d['shape'])}"
        lines.append(f"#   {var(c)} = {safe_text(shown, 30)}  {d['dtype']}  ({safe_text(d['name'])})")
    return "\n".join(lines) + "\n\n"
