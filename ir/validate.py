"""Reading a graph file that may come from anyone: parse, check, build.

Every value is checked for its type before it is used; the graph's structure
(ids, edges, slots, cycles, names) before any op rule runs; then each node
through its op's own rules (``ir.apply.declare``): the attributes must already
be in the op's normal form and the shape and dtype the rules infer must equal
the stored ones. Anything wrong is a ``GraphError`` naming the entry (node index,
name, key). Nothing is unpickled, evaluated or imported: JSON is parsed by the
standard library, dtypes are checked names, constants are raw bytes read with
``np.frombuffer``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import defaultdict
from typing import Any, Union

import networkx as nx
import numpy as np

from .apply import declare
from .dtypes import as_dtype
from .errors import GraphError
from .graph import Graph
from .order import heap_kahn
from .registry import Aval, get
from .shapes import fmt, static_bytes, too_big
from .tensor import Tensor

FORMAT = "revgraph.graph"
VERSION = 1
DEFAULT_LIMITS = {"max_nodes": 100_000, "max_edges": 1_000_000, "max_constant_bytes": 256 << 20,
                  "max_file_bytes": 512 << 20, "max_static_bytes": 64 << 30}
NODE_KEYS = frozenset({"op", "name", "shape", "dtype", "attrs", "value", "weak", "adjoint", "role", "grad_of",
                       "scope"})
TOP_KEYS = frozenset({"format", "version", "name", "next_id", "counters", "outputs", "wrt", "graph"})
MAX_INT = 2 ** 63 - 1  # sizes, ids and attribute ints must fit in int64
MAX_NDIM = 64  # NumPy's limit
MAX_DEPTH = 32  # nesting of attribute values and output structures
_DTYPE_NAME = re.compile(r"[<>|=]?[a-z][a-z0-9]{0,15}")  # float64, int8, bool, >f8 -- no structured dtypes
_SCALARS = {"bool": bool, "int": int, "float": float, "complex": complex}


def _err(where: str, key: str, detail: str, node: Any = None) -> GraphError:
    return GraphError(f"graph file: {where}, key {key!r}: {detail}", node=node)


# -- parsing -----------------------------------------------------------------------------------
def _pairs(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):  # find the first repeated key in one pass (a count per key was O(n**2))
        seen: set = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {dup!r} appears twice in one object")
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_document(data: Union[bytes, str], limits: dict) -> dict:
    """The file's JSON object, with its envelope checked (format, version, keys)."""
    if len(data) > limits["max_file_bytes"]:
        raise GraphError(f"graph file is larger than max_file_bytes={limits['max_file_bytes']}")
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GraphError(f"graph file is not UTF-8 text (bad byte at offset {exc.start}); "
                             "it was damaged or is not a revgraph graph") from None
    try:
        doc = json.loads(data, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except RecursionError:
        raise GraphError("graph file is nested too deeply to be a revgraph graph") from None
    except ValueError as exc:
        raise GraphError(f"graph file is not valid JSON ({exc}); it may be truncated or damaged") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GraphError(f"graph file: not a revgraph graph (its 'format' should be {FORMAT!r})")
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        raise _err("file", "version", f"{version!r} is not a format version (an int >= 1)")
    if version > VERSION:
        raise _err("file", "version", f"written by a newer revgraph (format version {version}); this one reads "
                   f"version {VERSION}: upgrade revgraph")
    _exact_keys(doc, TOP_KEYS, "file")
    return doc


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _exact_keys(obj: dict, allowed: frozenset, where: str, required: Any = None, node: Any = None) -> None:
    missing = sorted((allowed if required is None else required) - set(obj))
    if missing:
        raise _err(where, missing[0], "missing", node)
    unknown = sorted(set(obj) - allowed, key=str)
    if unknown:
        raise _err(where, str(unknown[0]), f"unknown key; expected only {sorted(allowed)}", node)


def _typed(obj: dict, key: str, kind: Any, what: str, where: str, node: Any = None) -> Any:
    v = obj[key]
    ok = _is_int(v) if kind is int else isinstance(v, kind)
    if not ok:
        raise _err(where, key, f"{type(v).__name__} {_short(v)} is not {what}", node)
    return v


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _bounded_int(v: Any, where: str, key: str, lo: int = 0, node: Any = None) -> int:
    if not _is_int(v) or not lo <= v <= MAX_INT:
        raise _err(where, key, f"{_short(v)} is not an int in [{lo}, 2**63)", node)
    return v


def decode_dtype(v: Any, where: str, key: str, node: Any = None) -> np.dtype:
    """A dtype from its name (``float64``, ``>f8``); only bool, integer and float dtypes."""
    if not isinstance(v, str) or not _DTYPE_NAME.fullmatch(v):
        raise _err(where, key, f"{_short(v)} is not a dtype name such as 'float64'", node)
    try:
        return as_dtype(np.dtype(v), what=f"dtype {v!r}")
    except (TypeError, ValueError) as exc:  # GraphError is a ValueError
        raise _err(where, key, str(exc), node) from None


def decode_shape(v: Any, where: str, key: str, allow_none: bool = True, node: Any = None) -> tuple:
    if not isinstance(v, list) or len(v) > MAX_NDIM:
        raise _err(where, key, f"{_short(v)} is not a shape (a list of at most {MAX_NDIM} sizes)", node)
    for d in v:
        if d is None and allow_none:
            continue
        _bounded_int(d, where, key, node=node)
    return tuple(v)


def decode_attr(v: Any, where: str, key: str, depth: int = 0, node: Any = None) -> Any:
    """The inverse of ``serialize.encode_attr``: plain scalars, and tagged tuples, slices, ``...``."""
    if depth > MAX_DEPTH:
        raise _err(where, key, "attribute value nested too deeply", node)
    if v is None or isinstance(v, (bool, str)):
        return v
    if _is_int(v):
        if abs(v) > MAX_INT:
            raise _err(where, key, f"int {_short(v)} does not fit in int64", node)
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, dict) and len(v) == 1:
        (tag, body), = v.items()
        if tag == "tuple" and isinstance(body, list):
            return tuple(decode_attr(b, where, key, depth + 1, node) for b in body)
        if tag == "slice" and isinstance(body, list) and len(body) == 3 and all(b is None or _is_int(b) for b in body):
            return slice(*(None if b is None else decode_attr(b, where, key, depth + 1, node) for b in body))
        if tag == "ellipsis" and body is True:
            return Ellipsis
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
    raise _err(where, key, f"{_short(v)} is not an attribute value (null, bool, int, float, string, "
               "{'tuple': [...]}, {'slice': [start, stop, step]}, {'ellipsis': true})", node)


# -- nodes -----------------------------------------------------------------------------------------
def _human(n: int) -> str:
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if x < 1024:
            return f"{x:.3g} {unit}"
        x /= 1024
    return f"{x:.3g} EiB"


def _node_record(i: int, rec: Any, budget: list) -> tuple[int, dict]:
    """One entry of ``graph.nodes``: its id and its node data, every field type-checked."""
    where = f"node {i}"
    if not isinstance(rec, dict):
        raise _err(where, "nodes", f"{type(rec).__name__} is not a node object")
    if "id" not in rec:
        raise _err(where, "id", "missing")
    nid = _bounded_int(rec["id"], where, "id")
    name = rec.get("name")
    if not isinstance(name, str):
        raise _err(where, "name", f"{_short(name)} is not a string", nid)
    where = f"node {i} {name!r}"
    op = rec.get("op")
    is_const = op == "constant"
    required = {"id", "op", "name", "shape", "dtype", "attrs", "adjoint"} | ({"value", "weak"} if is_const else set())
    allowed = required | {"role", "grad_of", "scope"}
    _exact_keys(rec, frozenset(allowed), where, required, nid)
    if not isinstance(op, str) or len(op) > 64:
        raise _err(where, "op", f"{_short(op)} is not an op name", nid)
    if op not in ("input", "constant"):
        try:
            get(op)
        except GraphError as exc:  # "unknown op 'mull'; did you mean mul?"
            raise _err(where, "op", str(exc), nid) from None
    data = {"op": op, "name": name,
            "shape": decode_shape(rec["shape"], where, "shape", allow_none=not is_const, node=nid),
            "dtype": decode_dtype(rec["dtype"], where, "dtype", nid)}
    reason = too_big(data["shape"], data["dtype"].itemsize)
    if reason:
        raise _err(where, "shape", f"no {data['dtype']} array can have this shape: {reason}", nid)
    attrs = _typed(rec, "attrs", dict, "an object of attributes", where, nid)
    if op in ("input", "constant") and attrs:
        raise _err(where, "attrs", f"{op} nodes have no attributes", nid)
    data["attrs"] = {k: decode_attr(v, where, f"attrs.{k}", node=nid) for k, v in attrs.items()}
    data["adjoint"] = _bounded_int(rec["adjoint"], where, "adjoint", node=nid)
    if "role" in rec:
        role = rec["role"]
        if role is not None and not isinstance(role, str):
            raise _err(where, "role", f"{_short(role)} is not null or a string", nid)
        data["role"] = role
    if "scope" in rec:  # the name scope a node was made in (``with g.scope(...)``): any non-empty string
        scope = _typed(rec, "scope", str, "a string (the name scope)", where, nid)
        if not scope:
            raise _err(where, "scope", "is empty (a node outside every scope has no scope key)", nid)
        data["scope"] = scope
    if "grad_of" in rec:
        grad_of = _typed(rec, "grad_of", list, "a list of node ids", where, nid)
        data["grad_of"] = [_bounded_int(g, where, "grad_of", node=nid) for g in grad_of]
    if is_const:
        weak = _typed(rec, "weak", bool, "true or false", where, nid)
        data["value"] = _constant(rec["value"], weak, data, where, nid, budget)
        data["weak"] = weak
    return nid, data


def _constant(v: Any, weak: bool, node: dict, where: str, nid: int, budget: list) -> Any:
    """A constant's value from dtype + shape + base64 of its raw bytes (``np.frombuffer``: no pickle)."""
    key = "value"
    if not isinstance(v, dict):
        raise _err(where, key, f"{type(v).__name__} is not a constant value object", nid)
    _exact_keys(v, frozenset({"dtype", "shape", "data"} | ({"scalar"} if weak else set())), where + " value", node=nid)
    dtype = decode_dtype(v["dtype"], where, "value.dtype", nid)
    shape = decode_shape(v["shape"], where, "value.shape", allow_none=False, node=nid)
    reason = too_big(shape, dtype.itemsize)
    if reason:
        raise _err(where, "value.shape", f"no {dtype} array can have this shape: {reason}", nid)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    if nbytes > budget[0]:
        raise _err(where, "value.data", f"{nbytes} bytes of constants exceed max_constant_bytes (what is left of it: "
                   f"{budget[0]}); pass a larger max_constant_bytes= to rg.load if you trust the file", nid)
    data = v["data"]
    if not isinstance(data, str) or len(data) > 4 * ((nbytes + 2) // 3):
        raise _err(where, "value.data", f"expected base64 of {nbytes} bytes", nid)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _err(where, "value.data", "is not valid base64", nid) from None
    if len(raw) != nbytes:
        raise _err(where, "value.data", f"holds {len(raw)} bytes; dtype {dtype} and shape {shape} need {nbytes}", nid)
    if dtype.kind == "b" and raw.translate(None, b"\x00\x01"):
        raise _err(where, "value.data", "a bool constant holds bytes other than 0 and 1", nid)
    budget[0] -= nbytes
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    arr.setflags(write=False)
    if node["dtype"] != dtype or node["shape"] != shape:
        raise _err(where, "shape" if node["shape"] != shape else "dtype", f"the node records {node['shape']} "
                   f"{node['dtype']} but its value is {shape} {dtype}", nid)
    if not weak:
        return arr
    scalar = v["scalar"]
    kind = _SCALARS.get(scalar) if isinstance(scalar, str) else None
    if kind is None or shape != () or np.asarray(kind(0)).dtype != dtype:
        raise _err(where, "value.scalar", f"a weak constant is a Python bool, int or float scalar of its dtype; "
                   f"got {_short(scalar)} with shape {shape} {dtype}", nid)
    return kind(arr.item())


# -- the graph ----------------------------------------------------------------------------------
def build_graph(doc: dict, limits: dict) -> Graph:
    """A validated Graph from a parsed document (see the module docstring)."""
    sk = doc["graph"]
    if not isinstance(sk, dict):
        raise _err("file", "graph", "is not a node-link object")
    _exact_keys(sk, frozenset({"directed", "multigraph", "graph", "nodes", "edges"}), "graph")
    if sk["directed"] is not True or sk["multigraph"] is not True:
        raise _err("graph", "directed", "a revgraph graph is a directed multigraph (directed and multigraph true)")
    nodes = _typed(sk, "nodes", list, "a list of nodes", "graph")
    edges = _typed(sk, "edges", list, "a list of edges", "graph")
    if len(nodes) > limits["max_nodes"]:
        raise _err("graph", "nodes", f"{len(nodes)} nodes exceed max_nodes={limits['max_nodes']}; pass a larger "
                   "max_nodes= to rg.load if you trust the file")
    if len(edges) > limits["max_edges"]:
        raise _err("graph", "edges", f"{len(edges)} edges exceed max_edges={limits['max_edges']}")
    budget = [limits["max_constant_bytes"]]
    static = 0  # bytes the nodes' static shapes ask for, in all (what compiling and running would allocate)
    records: dict[int, dict] = {}
    index: dict[int, int] = {}  # node id -> position in the file, for messages
    names: dict[str, int] = {}
    for i, rec in enumerate(nodes):
        nid, data = _node_record(i, rec, budget)
        nbytes = static_bytes(data["shape"], data["dtype"].itemsize)
        static += nbytes
        if static > limits["max_static_bytes"]:
            raise _err(f"node {i} {data['name']!r}", "shape", f"its static shape {fmt(data['shape'])} {data['dtype']} "
                       f"asks for {nbytes} bytes ({_human(nbytes)}), which takes the graph's static shapes to "
                       f"{static} bytes in all, over max_static_bytes={limits['max_static_bytes']}; pass a larger "
                       "max_static_bytes= to rg.load if you trust the file", nid)
        if nid in records:
            raise _err(f"node {i} {data['name']!r}", "id", f"id {nid} is used by node {index[nid]} too", nid)
        if data["name"] in names:
            raise _err(f"node {i} {data['name']!r}", "name", f"the name is used by node {index[names[data['name']]]} "
                       "too; names must be unique", nid)
        records[nid], index[nid], names[data["name"]] = data, i, nid
    links = [_edge(j, e, records) for j, e in enumerate(edges)]
    first: dict = {}  # edge -> its index; one pass (a count per edge was O(n**2) in the number of edges)
    for j, link in enumerate(links):
        if first.setdefault(link, j) != j:
            raise _err(f"edge {j}", "key", f"edge {link[0]} -> {link[1]} in slot {link[2]} is listed twice "
                       f"(first as edge {first[link]})")
    G = _networkx_graph(records, links)
    for nid in _checked_order(G, index):
        _check_node(G, nid, index[nid], _operands(G, nid, index))
    return _assemble(doc, G, sk["graph"], index)


def _networkx_graph(records: dict, links: list) -> nx.MultiDiGraph:
    """The MultiDiGraph the file describes (what ``nx.node_link_graph`` makes: nodes in id order, one
    keyed edge ``{slot: {"slot": slot}}`` per operand), written straight into networkx's dicts as
    ``Graph._add`` does -- the public per-edge calls were a third of loading a large graph."""
    G = nx.MultiDiGraph()
    for n in sorted(records):
        G._node[n] = records[n]
        G._succ[n] = {}
        G._pred[n] = {}
    for u, v, k in links:
        slots = G._pred[v].get(u)
        if slots is None:  # the key dict is shared by succ[u][v] and pred[v][u]
            slots = G._pred[v][u] = G._succ[u][v] = {}
        slots[k] = {"slot": k}
    return G


def _checked_order(G: nx.MultiDiGraph, index: dict) -> list[int]:
    """A topological order (smallest id first among the ready, so messages are deterministic and
    name the first bad node along the data flow); a cycle is a GraphError naming it."""
    order = heap_kahn(G._pred, G._succ, set(G._node))
    if len(order) != len(G):
        cycle = nx.find_cycle(G.subgraph(set(G._node) - set(order)))
        path = " -> ".join(f"node {index[u]} {G.nodes[u]['name']!r}" for u, *_ in cycle)
        u = cycle[0][0]
        raise _err(f"node {index[u]} {G.nodes[u]['name']!r}", "edges", f"the graph has a cycle: {path}; "
                   "a computation graph must be acyclic", u)
    return order


def _operands(G: nx.MultiDiGraph, nid: int, index: dict) -> list[int]:
    """Node ``nid``'s operands in slot order; its slots must be 0..n-1, each once."""
    by_slot = {k: u for u, slots in G._pred[nid].items() for k in slots}
    if sorted(by_slot) != list(range(len(by_slot))) or len(by_slot) != sum(map(len, G._pred[nid].values())):
        slots = sorted(k for slots in G._pred[nid].values() for k in slots)
        raise _err(f"node {index[nid]} {G.nodes[nid]['name']!r}", "edges",
                   f"operand slots {slots} are not 0..{len(slots) - 1}, each once", nid)
    return [by_slot[k] for k in range(len(by_slot))]


def _edge(j: int, e: Any, records: dict) -> tuple[int, int, int]:
    where = f"edge {j}"
    if not isinstance(e, dict):
        raise _err(where, "edges", f"{type(e).__name__} is not an edge object")
    _exact_keys(e, frozenset({"source", "target", "key", "slot"}), where)
    u, v = _bounded_int(e["source"], where, "source"), _bounded_int(e["target"], where, "target")
    k = _bounded_int(e["key"], where, "key")
    if e["slot"] != k or not _is_int(e["slot"]):
        raise _err(where, "slot", f"slot {_short(e['slot'])} differs from key {k}; an edge's key is its operand slot")
    for end, n in (("source", u), ("target", v)):
        if n not in records:
            raise _err(where, end, f"no node has id {n}")
    return u, v, k


def _check_node(G: nx.MultiDiGraph, nid: int, i: int, operands: list[int]) -> None:
    """The node's op accepts its operands and attributes, and infers the shape and dtype it records."""
    d = G._node[nid]
    where = f"node {i} {d['name']!r}"
    if d["op"] in ("input", "constant"):
        if operands:
            raise _err(where, "edges", f"a {d['op']} node takes no operands, it has {len(operands)}", nid)
        return
    opdef = get(d["op"])
    try:
        opdef.check_arity(len(operands))
    except GraphError as exc:
        raise _err(where, "edges", str(exc), nid) from None
    data = [G._node[o] for o in operands]
    avals = [Aval(od["shape"], od["dtype"], od["value"] if od.get("weak") else None) for od in data]
    try:
        attrs, shape, dtype = declare(opdef, avals, dict(d["attrs"]), lambda: [od["name"] for od in data], d["name"])
    except GraphError as exc:
        raise _err(where, "attrs", str(exc), nid) from None
    except Exception as exc:  # the op's rules were written for sane data; a file may hold anything
        raise _err(where, "attrs", f"op {d['op']!r} rejects these operands or attributes "
                   f"({type(exc).__name__}: {exc})", nid) from None
    if repr(sorted(attrs.items())) != repr(sorted(d["attrs"].items())):
        raise _err(where, "attrs", f"attributes {d['attrs']!r} are not in op {d['op']!r}'s normal form "
                   f"{attrs!r}", nid)
    d["attrs"] = dict(attrs)  # in the normaliser's order (the file's keys are sorted), as a built graph has them
    if tuple(shape) != d["shape"]:
        raise _err(where, "shape", f"records {d['shape']} but op {d['op']!r} infers {tuple(shape)} from its operands",
                   nid)
    if dtype != d["dtype"]:
        raise _err(where, "dtype", f"records {d['dtype']} but op {d['op']!r} infers {dtype} from its operands", nid)


def _assemble(doc: dict, G: nx.MultiDiGraph, graph_data: Any, index: dict) -> Graph:
    name = doc["name"]
    if not isinstance(name, str):
        raise _err("file", "name", f"{_short(name)} is not a string")
    for nid, d in G.nodes(data=True):
        for g in d.get("grad_of", ()):
            if g not in G:
                raise _err(f"node {index[nid]} {d['name']!r}", "grad_of", f"no node has id {g}", nid)
    next_id = _bounded_int(doc["next_id"], "file", "next_id")
    if G and next_id <= max(G):
        raise _err("file", "next_id", f"{next_id} is not above the largest node id {max(G)}")
    counters = doc["counters"]
    if not isinstance(counters, dict):
        raise _err("file", "counters", f"{_short(counters)} is not an object")
    for op, n in counters.items():
        _bounded_int(n, "file", f"counters.{op}")
    g = Graph(name)
    g.nx = G
    book = _book(graph_data, G)
    if book:
        G.graph["adjoint"] = book
    g._next_id = next_id
    g._by_name = {d["name"]: nid for nid, d in G.nodes(data=True)}
    g._counters = defaultdict(int, counters)
    g.outputs = _structure(doc["outputs"], g, "outputs", 0)
    g.wrt = _structure(doc["wrt"], g, "wrt", 0)
    return g


def _book(data: Any, G: nx.MultiDiGraph) -> dict:
    """The adjoint pass's per-edge records, every id checked against the graph."""
    if not isinstance(data, dict):
        raise _err("graph", "graph", f"{_short(data)} is not an object")
    _exact_keys(data, frozenset({"adjoint"}), "graph.graph")
    entries = data["adjoint"]
    if not isinstance(entries, list):
        raise _err("graph.graph", "adjoint", "is not a list")
    book: dict = {}
    for j, ent in enumerate(entries):
        where = f"graph.graph.adjoint[{j}]"
        if not isinstance(ent, dict):
            raise _err(where, "adjoint", "is not an object")
        _exact_keys(ent, frozenset({"order", "edges", "totals"}), where)
        order = _bounded_int(ent["order"], where, "order", lo=1)
        if order in book:
            raise _err(where, "order", f"order {order} appears twice")
        edges, totals = {}, {}
        for row in _rows(ent, "edges", 4, where, G):
            x, n, slot, g = row
            if not G.has_edge(x, n, key=slot):
                raise _err(where, "edges", f"no edge {x} -> {n} in slot {slot}")
            edges[(x, n, slot)] = g
        for n, t in _rows(ent, "totals", 2, where, G):
            totals[n] = t
        book[order] = {"edges": edges, "totals": totals}
    return book


def _rows(ent: dict, key: str, width: int, where: str, G: nx.MultiDiGraph) -> list:
    rows = ent[key]
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == width and all(_is_int(v) for v in r)
                                             for r in rows):
        raise _err(where, key, f"is not a list of [{width} ints] rows")
    for r in rows:
        ids = [r[0], r[1], r[3]] if width == 4 else r
        if any(i not in G for i in ids):
            raise _err(where, key, f"row {r} names a node id that does not exist")
    return rows


def _structure(v: Any, g: Graph, key: str, depth: int) -> Any:
    """``outputs`` / ``wrt``: null, {'tensor': id}, {'list': [...]}, {'tuple': [...]}, {'dict': [[k, v], ...]}."""
    if v is None:
        return None
    if depth > MAX_DEPTH:
        raise _err("file", key, "nested too deeply")
    if isinstance(v, dict) and len(v) == 1:
        (tag, body), = v.items()
        if tag == "tensor" and _is_int(body):
            if body not in g.nx:
                raise _err("file", key, f"no node has id {body}")
            return Tensor(g, body)
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_structure(b, g, key, depth + 1) for b in body]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                            for p in body):
            if len({p[0] for p in body}) != len(body):
                raise _err("file", key, "a dict key appears twice")
            return {k: _structure(b, g, key, depth + 1) for k, b in body}
    raise _err("file", key, f"{_short(v)} is not null, {{'tensor': id}}, {{'list': [...]}}, {{'tuple': [...]}} "
               "or {'dict': [[key, value], ...]}")
