"""The backward pass of a compiled step, told as the textbook tells it: one step per node.

The adjoint pass (compiler/autodiff.py) walks the forward nodes in reverse topological
order; at each node it totals the gradients that arrived (an ``accumulate`` node when the
value fed several consumers) and applies the op's VJP rule to each operand. Its book
(``graph.nx.graph["adjoint"][order]``) records which adjoint node carries the gradient back
along each forward edge and each node's total. :func:`walkthrough` replays that walk on the
values of the step's last run and pairs every step with the lines of generated backward code
that compute what it sends, so a page can show the pass one node at a time.
"""

from __future__ import annotations

import linecache
from typing import Any

import numpy as np

from ...compiler.runtime import CompiledStep
from ...compiler.schedule import topological
from ...ir.errors import GraphError
from ..graphviz.sources import step_values
from ..graphviz.text import value_text

FULL_VALUE_LIMIT = 2000  # elements shown in full when a value is clicked; beyond that, the first ones


def walkthrough(step: CompiledStep) -> dict:
    """The steps of ``step``'s last backward pass, as plain data (JSON-ready).

    >>> data = walkthrough(step)            # after step.forward(**feeds); step.backward()
    >>> [s["name"] for s in data["steps"]]  # doctest: +SKIP
    ['price', 'price', 'add_1', 'mul_2', 'mul_1']
    """
    if not isinstance(step, CompiledStep):
        raise GraphError(f"the backward-pass player explains a compiled step, got a {type(step).__name__}: "
                         "compile one with rg.compile(loss, wrt=[...])")
    if step.last_dout is None:
        raise GraphError(f"the step of {step.graph.name!r} has not run its backward pass: call "
                         "step.forward(**feeds) and step.backward() first, or pass the feeds to rg.explain")
    graph, plan = step.graph, step.plan
    G = graph.nx
    dout = plan.options["dout"]
    order = G.nodes[dout]["adjoint"]
    book = G.graph.get("adjoint", {}).get(order, {"edges": {}, "totals": {}})
    known = step_values(step)["values"]

    def value_of(t: int) -> Any:
        if t in known:
            return known[t]
        if t in G and G.nodes[t]["op"] == "constant":  # e.g. a seed of ones the simplifier folded away
            return np.asarray(G.nodes[t]["value"])
        return None

    code_lines = _backward_lines(step)
    claimed: set[int] = set()
    output = plan.options["output"]
    steps = [_seed_step(G, output, book["totals"].get(output, dout), value_of)]
    claimed.add(book["totals"].get(output, dout))
    sends_of: dict[int, list] = {}
    for (u, v, slot), t in book["edges"].items():
        sends_of.setdefault(v, []).append((slot, u, t))
    walk = [n for n in reversed(topological(graph, set(book["totals"]))) if n in book["totals"]]
    for n in walk:
        total = book["totals"][n]
        if G.nodes[total]["op"] == "accumulate" and total not in claimed:
            steps.append(_accumulate_step(G, n, total, book, value_of, code_lines, claimed))
        if n in sends_of:
            steps.append(_op_step(graph, n, total, sorted(sends_of[n]), value_of, code_lines, claimed))
    return {"graph": graph.name, "order": order, "steps": steps,
            "code": code_lines["text"], "wrt": [G.nodes[w]["name"] for w in plan.options["wrt"]]}


def _seed_step(G: Any, output: int, seed: int, value_of: Any) -> dict:
    name = G.nodes[output]["name"]
    return {"kind": "seed", "rule": "seed", "node": f"n{output}", "name": name, "op": G.nodes[output]["op"],
            "upstream": _shown(value_of(seed)), "upstream_edges": [], "lines": [],
            "sends": [{"edge": f"grad_out_{output}", "to": name, "slot": None, **_shown(value_of(seed))}]}


def _accumulate_step(G: Any, n: int, total: int, book: dict, value_of: Any, lines: dict, claimed: set) -> dict:
    """The gradients sent back along each use of ``n``, summed into its total."""
    branches = sorted((e for e in book["edges"] if e[0] == n), key=lambda e: (e[1], e[2]))
    code = _claim(G, [total], lines, claimed)
    return {"kind": "accumulate", "rule": "accumulate", "node": f"n{n}", "name": G.nodes[n]["name"],
            "op": G.nodes[n]["op"], "upstream": _shown(value_of(total)), "lines": code,
            "upstream_edges": [f"grad_{u}_{v}_{s}" for u, v, s in branches],
            "branches": [{"from": G.nodes[v]["name"], **_shown(value_of(book["edges"][(u, v, s)]))}
                         for u, v, s in branches],
            "sends": []}


def _op_step(graph: Any, n: int, total: int, sends: list, value_of: Any, lines: dict, claimed: set) -> dict:
    """Node ``n`` applies its op's VJP rule to the total gradient it received."""
    G = graph.nx
    upstream = sorted((n, v, s) for v, ks in G.succ[n].items() for s in ks)
    code = _claim(G, [t for _, _, t in sends], lines, claimed)
    return {"kind": "op", "rule": G.nodes[n]["op"], "node": f"n{n}", "name": G.nodes[n]["name"],
            "op": G.nodes[n]["op"], "upstream": _shown(value_of(total)), "lines": code,
            "upstream_edges": [f"grad_{u}_{v}_{s}" for u, v, s in upstream] + [f"grad_out_{n}"],
            "operands": [G.nodes[o]["name"] for o in graph.operands(n)],
            "sends": [{"edge": f"grad_{u}_{n}_{slot}", "to": G.nodes[u]["name"], "slot": slot, **_shown(value_of(t))}
                      for slot, u, t in sends]}


def _claim(G: Any, targets: list[int], lines: dict, claimed: set) -> list[int]:
    """Line numbers of the backward code computing ``targets`` that no earlier step computed:
    the targets and the adjoint nodes they are built from, each counted for the first step needing it."""
    mine = {a for a in ancestors_within(G, targets, lines["line_of"]) if a not in claimed}
    claimed |= mine
    return sorted(lines["line_of"][a] for a in mine)


def ancestors_within(G: Any, targets: list[int], allowed: dict) -> set[int]:
    """``targets`` and their ancestors, walking only through nodes in ``allowed`` (the backward code's)."""
    seen, todo = set(), [t for t in targets if t in allowed]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(p for p in G.pred[n] if p in allowed)
    return seen


def _backward_lines(step: CompiledStep) -> dict:
    """The backward program's source lines, and the line computing each node."""
    fn = step._fns["backward"]
    text = [line.rstrip("\n") for line in linecache.getlines(fn.__code__.co_filename)]
    line_of = {nid: ln for (program, ln), nid in step._lowered.line_map.items() if program == "backward"}
    return {"text": text, "line_of": line_of}


def _shown(value: Any) -> dict:
    """A value as the page shows it: a short text, its shape, and the full values (capped) on click."""
    if value is None:
        return {"text": "?", "shape": None, "full": ""}
    arr = np.asarray(value)
    flat = arr.reshape(-1)[:FULL_VALUE_LIMIT]
    full = np.array2string(arr if arr.size <= FULL_VALUE_LIMIT else flat, separator=", ", threshold=FULL_VALUE_LIMIT)
    if arr.size > FULL_VALUE_LIMIT:
        full = f"the first {FULL_VALUE_LIMIT} of {arr.size} values (flattened):\n{full}"
    return {"text": value_text(arr), "shape": list(arr.shape), "full": full}

