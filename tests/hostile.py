"""Hostile graph files and a time-boxed runner, shared by tests/test_hostile_scale.py, the load
fuzzers (tests/test_fuzz_load.py) and the hostile campaign run before closing the issue.

Each builder returns the bytes of a file that a careless loader handles in quadratic time, with
a huge allocation, or with a Python-number exception: duplicated keys and edges, numbers that
Python's own arithmetic cannot take (``10 ** 2**62``), shapes beyond what NumPy can hold.
``run_bounded`` runs a case in a forked child and reports a hang instead of hanging (its limit is the
case's CPU time, with a wall-clock backstop, so a loaded machine does not turn slow cases into hangs).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import resource
import signal
import traceback
from typing import Any, Callable

import numpy as np

import revgraph as rg
from revgraph.ir import serialize
from revgraph.ir.apply import declare
from revgraph.ir.registry import Aval, get

# What a hostile input may raise: the user's errors and check_finite's documented FloatingPointError.
ALLOWED = (rg.GraphError, rg.FeedError, FloatingPointError)


def seed_doc() -> dict:
    """A small valid document: y = x * 2.0 + 1.0 (inputs, weak constants, two ops, four edges)."""
    g = rg.Graph("seed")
    x = g.input("x", shape=(3,))
    g.outputs = (x * 2.0 + 1.0).rename("y")
    return json.loads(serialize.dumps(g))


def dumps(doc: dict) -> bytes:
    return json.dumps(doc).encode()


# -- item 5: sizes that make a careless loader quadratic ------------------------------------------
def duplicated_keys(n: int) -> bytes:
    """A node's attribute object with ``n`` distinct keys and then the last one again."""
    keys = ", ".join(f'"k{i}": 0' for i in range(n)) + f', "k{n - 1}": 1'
    text = dumps(seed_doc()).decode()
    return text.replace('"attrs": {}', '"attrs": {' + keys + "}", 1).encode()


def many_keys(n: int) -> bytes:
    """``n`` distinct unknown keys in one node (no duplicate): an unknown-key error."""
    doc = seed_doc()
    node = doc["graph"]["nodes"][-1]
    node.update({f"k{i}": i for i in range(n)})
    return dumps(doc)


def duplicated_edges(n: int) -> bytes:
    """``n`` distinct edges into one node (slots 0..n-1) and then the last one again."""
    doc = seed_doc()
    edges = doc["graph"]["edges"]
    u, v = edges[0]["source"], edges[0]["target"]
    edges += [{"source": u, "target": v, "key": k, "slot": k} for k in range(10, 10 + n)]
    edges.append(dict(edges[-1]))
    return dumps(doc)


def repeated_edge(n: int) -> bytes:
    """One edge listed ``n`` times."""
    doc = seed_doc()
    doc["graph"]["edges"] += [dict(doc["graph"]["edges"][0]) for _ in range(n)]
    return dumps(doc)


def many_operands(n: int) -> bytes:
    """An ``accumulate`` node reading one input ``n`` times (valid; a fan-in of ``n`` edges)."""
    g = rg.Graph("fan_in")
    x = g.input("x", shape=(2,))
    g._add("accumulate", [x] * n, {}, (2,), np.dtype("float64"), name="acc")
    return serialize.dumps(g).encode()


def padded_to(text: bytes, nbytes: int) -> bytes:
    """``text`` with white space appended up to ``nbytes`` (a big file that is otherwise small)."""
    return text + b" " * max(0, nbytes - len(text))


# -- item 6: weak Python numbers Python's arithmetic cannot take ------------------------------------
WEAK_CASES = {  # id -> (op, a, b): each gives inf, nan or a wrapped int in NumPy, not an exception
    "pow_10_2e62": ("pow", 10, 2 ** 62),
    "mul_2e62_4": ("mul", 2 ** 62, 4),
    "pow_neg_cube_root": ("pow", -8.0, 1 / 3),
    "div_1_0": ("div", 1, 0),
    "pow_1e308_2": ("pow", 1e308, 2.0),
    "sub_min_int": ("sub", -(2 ** 63), 1),
}
UFUNCS = {"pow": np.power, "mul": np.multiply, "div": np.true_divide, "sub": np.subtract}


def numpy_value(op: str, a: Any, b: Any) -> Any:
    """What NumPy computes for ``op`` on the two numbers as arrays of their dtypes."""
    with np.errstate(all="ignore"):
        return UFUNCS[op](np.asarray(a), np.asarray(b))


def weak_pair_graph(op: str, a: Any, b: Any) -> rg.Graph:
    """y = x + op(a, b) with ``a`` and ``b`` weak Python numbers and the op a node of its own (as a
    file can hold it: building it with rg ops would fold it at declaration)."""
    g = rg.Graph(f"weak_{op}")
    x = g.input("x")
    ca, cb = g.constant(a), g.constant(b)
    avals = [Aval((), ca.dtype, a), Aval((), cb.dtype, b)]
    _, shape, dtype = declare(get(op), avals, {}, ["a", "b"])
    c = g._add(op, [ca, cb], {}, shape, dtype, name="c")
    g.outputs = (x + c).rename("y")
    return g


def weak_pair_file(op: str, a: Any, b: Any) -> bytes:
    return serialize.dumps(weak_pair_graph(op, a, b)).encode()


# -- item 7: shapes beyond NumPy, and static shapes asking for terabytes -----------------------------
def empty_huge_constant() -> bytes:
    """A constant of shape [0, 2**62, 2**62]: no element, but no NumPy array can have that shape."""
    g = rg.Graph("c")
    g.constant(np.ones(0)).rename("k")
    doc = json.loads(serialize.dumps(g))
    node = doc["graph"]["nodes"][0]
    node["shape"] = node["value"]["shape"] = [0, 2 ** 62, 2 ** 62]
    return dumps(doc)


def huge_concatenate() -> bytes:
    """concatenate of two bool inputs of shape (2**62,): the result would have 2**63 elements."""
    g = rg.Graph("cat")
    a = g.input("a", shape=(2 ** 62,), dtype=bool)
    g._add("concatenate", [a, a], {"axis": 0}, (2 ** 63 - 1,), np.dtype(bool), name="ab")
    return serialize.dumps(g).encode()


def terabyte_static_shapes() -> bytes:
    """A few hundred bytes whose static shapes ask for 8 TiB: one (2**20, 2**20) float64 input, and
    the relu of it (static shapes a compiled program would allocate)."""
    g = rg.Graph("tb")
    x = g.input("x", shape=(2 ** 20, 2 ** 20))
    rg.relu(x).rename("y")
    return serialize.dumps(g).encode()


# -- the largest seed: every op, its gradients and their gradients ----------------------------------------
def every_op_seed() -> bytes:
    """The file of tests/test_save_load.py's every-op graph (every registered op and its gradient) with the
    gradient of the sum of those gradients added: about 7 700 nodes and 1.9 MB, the largest seed the
    campaign damages (its damaged copies were the two "hangs" of the first campaign, on a loaded machine)."""
    import test_save_load  # the op table's graph; imported here so that loading this module stays cheap

    g, _, ins = test_save_load.every_op_graph()
    grads = [t for t in g.outputs["grads"] if t.dtype.kind == "f"]
    total = rg.sum(grads[0])
    for t in grads[1:]:
        total = total + rg.sum(t)
    rg.grad(total, [x for x in ins if x.dtype.kind == "f"])
    return serialize.dumps(g).encode()


def damaged(data: bytes, kind: str, at: int) -> bytes:
    """``data`` (a graph file) with one structural defect: ``kind`` names it, ``at`` picks where."""
    doc = json.loads(data)
    nodes, edges = doc["graph"]["nodes"], doc["graph"]["edges"]
    node, edge = nodes[at % len(nodes)], edges[at % len(edges)]
    if kind == "op":
        node["op"] = "exp" if node["op"] != "exp" else "log"
    elif kind == "drop_edge":
        edges.remove(edge)
    elif kind == "rewire":
        edge["source"] = nodes[(at * 7919) % len(nodes)]["id"]
    elif kind == "duplicate_edge":
        edges.append(dict(edge))
    elif kind == "shape":
        node["shape"] = [3, None, 2 ** 62]
    elif kind == "dtype":
        node["dtype"] = "int8" if node["dtype"] != "int8" else "float32"
    elif kind == "truncate":
        return data[: len(data) * (at % 97 + 1) // 100]
    else:
        raise ValueError(f"unknown damage {kind!r}")
    return dumps(doc)


DAMAGES = ["op", "drop_edge", "rewire", "duplicate_edge", "shape", "dtype", "truncate"]


def fuzz_pipeline(data: bytes) -> str:
    """What the load fuzzers do with a file: load it (a GraphError ends the case), lint it, save and load
    it again, compile its sinks; then load, compile and run it optimised and (with check_finite) not."""
    try:
        g = serialize.loads(data)
    except rg.GraphError:
        return "refused"
    g.check()
    serialize.loads(serialize.dumps(g))
    sinks = [rg.ir.Tensor(g, n) for n in g.nx if g.nx.out_degree(n) == 0]
    if sinks:
        rg.compile(sinks)
    with np.errstate(all="ignore"):
        for options in ({}, {"optimize": False, "check_finite": True}):
            try:
                load_and_run(data, **options)
            except ALLOWED:
                pass
    return "loaded"


# -- running a case with a time limit ----------------------------------------------------------------
def _child(conn: Any, fn: Callable, args: tuple, cpu_limit: float) -> None:
    # The case's own CPU time is what is limited: on a loaded machine (seven engineers on two cores) wall
    # time says more about the neighbours than about the case. The kernel stops the child with SIGXCPU.
    resource.setrlimit(resource.RLIMIT_CPU, (max(1, math.ceil(cpu_limit)), resource.RLIM_INFINITY))
    try:
        result = fn(*args)
        conn.send(("ok", repr(result)[:200]))
    except BaseException as exc:  # reported to the parent, which decides what is allowed
        conn.send(("raised", type(exc).__name__, str(exc)[:500], isinstance(exc, ALLOWED),
                   traceback.format_exc()[-2000:]))
    finally:
        conn.close()


def run_bounded(fn: Callable, *args: Any, timeout: float = 10.0, wall_factor: float = 6.0) -> tuple:
    """Run ``fn(*args)`` in a forked child: ``("ok", repr)``, ``("raised", type name, message,
    allowed?, traceback)`` or ``("hang", timeout)`` when it used more than ``timeout`` seconds of CPU
    time, or did not finish within ``wall_factor * timeout`` seconds of wall time (a case that blocks
    rather than computes); the child is then killed. A C-level loop (a Python int power) cannot be
    interrupted by a signal in the same process, hence a process."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, timeout), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout * wall_factor):
            try:
                return parent.recv()
            except EOFError:
                proc.join(5)
                if proc.exitcode == -signal.SIGXCPU:
                    return ("hang", timeout)
                return ("raised", "ChildDied", f"exit code {proc.exitcode}", False, "")
        return ("hang", timeout)
    finally:
        proc.kill()
        proc.join()
        parent.close()


def load_and_run(data: bytes, check_finite: bool = False, optimize: bool = True,
                 max_static_bytes: int = 1 << 26) -> Any:
    """Load a file, compile every sink, run it on ones (the whole path a file's numbers take). The
    static-shape limit is small: the ones fed must fit in memory."""
    g = serialize.loads(data, max_static_bytes=max_static_bytes)
    sinks = [rg.ir.Tensor(g, n) for n in g.nx if g.nx.out_degree(n) == 0 and g.nx.nodes[n]["op"] != "input"]
    if not sinks:
        return g
    f = rg.compile(sinks, optimize=optimize, check_finite=check_finite)
    feeds = {}
    for n, d in g.nx.nodes(data=True):
        if d["op"] == "input":
            shape = tuple(1 if s is None else s for s in d["shape"])
            feeds[d["name"]] = np.ones(shape, d["dtype"])
    return f(**feeds)
