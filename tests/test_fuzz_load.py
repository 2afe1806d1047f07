"""Fuzzing rg.load with damaged and hostile files: only GraphError may escape, each case
well under a second, and whatever loads is a valid graph that compiles.

Example counts come from the hypothesis profile (tests/conftest.py): `default` in CI,
`thorough` before closing an issue."""

from __future__ import annotations

import copy
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import revgraph as rg
from revgraph import demos
from revgraph.ir import serialize
from revgraph.ir.registry import all_ops
from optable import OP_CASES
import hostile

# No deadline: a test must not assert a time (a loaded machine trips one); bounded time for hostile files is
# tests/test_hostile_scale.py's job, each case forked under a CPU-time limit.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seed_graphs():
    graphs = []
    for build in (demos.apple, demos.mlp):
        g, y, wrt, _ = build()
        rg.grad(y, wrt)
        graphs.append(g)
    g = rg.Graph("shapes")
    x = g.input("x", shape=(None, 4), dtype="float32")
    k = g.input("k", shape=(3,), dtype="int64")
    parts = [x[1:, None, ..., ::2].reshape((-1, 2)), rg.concatenate([x, x * 2.0], axis=0)[:, :2]]
    y = rg.sum(parts[0]) + rg.sum(parts[1]) + rg.sum(rg.transpose(x) * g.constant(np.ones((4, 1), np.float32)))
    y = y + rg.sum(rg.where(k > 1, 1.0, 0.0)) + rg.mean(x, axis=(0, 1), keepdims=True).sum()
    rg.grad(y.rename("y"), x)
    g.outputs = {"y": y, "parts": parts}
    graphs.append(g)
    g = rg.Graph("ops")  # one node (at least) of every op in the table, with its attributes
    seen = set()
    for cid, fn, specs in OP_CASES:
        # a row joins only with an (op, attributes) the graph lacks: the complex rows repeat their real-part
        # wrapping (add, mul, stack, real, imag), and a graph twice the size doubles every fuzz example's compile
        trial = rg.Graph("row")
        fn(*[trial.input(f"x{i}", shape=s) for i, (s, _) in enumerate(specs)])
        kinds = {(d["op"], repr(sorted(d["attrs"].items()))) for _, d in trial.nx.nodes(data=True)}
        if kinds <= seen:
            continue
        seen |= kinds
        fn(*[g.input(f"{cid}_{i}", shape=s) for i, (s, _) in enumerate(specs)])
    graphs.append(g)
    return graphs


SEEDS = [json.loads(serialize.dumps(g)) for g in _seed_graphs()]
SEED_TEXTS = [serialize.dumps(g).encode() for g in _seed_graphs()]

SPECIAL = [None, True, False, 0, 1, -1, 2, 3, -(2 ** 63), 2 ** 63, 2 ** 64 + 1, 10 ** 30, -10 ** 30, 0.5, 1e308, "",
           "float64", "float32", "int64", "bool", "object", "O", "<U3", "f8,i4", "input", "constant", "mul", "getitem",
           "concat_part", "nope", "x", {"tuple": []}, {"tuple": [0]}, {"slice": [None, None, 0]}, {"ellipsis": True},
           {"float": "nan"}, {"tensor": 0}, {"tensor": -1}, {"list": []}, [], {}, [None], [-1], [2 ** 40, 2 ** 40]]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(SPECIAL) | st.sampled_from(sorted(all_ops())),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


def _paths(obj, prefix=()):
    """Every (container, key) in the document."""
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        out.append((obj, k))
        out.extend(_paths(v))
    return out


@st.composite
def mutated_docs(draw):
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        container, key = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["delete", "replace", "replace", "wrap", "duplicate"]))
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = copy.deepcopy(draw(json_values))  # SPECIAL holds shared dicts and lists
        elif action == "wrap":
            container[key] = draw(st.sampled_from([[container[key]], {"tuple": [container[key]]}, {"x": container[key]}]))
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        else:
            container[key + "_"] = copy.deepcopy(container[key])
    return doc


def assert_graph_error_or_valid_graph(data):
    """Load ``data``: a GraphError is fine; a graph that loads must be valid and compile."""
    try:
        g = serialize.loads(data)
    except rg.GraphError:
        return None
    g.check()
    serialize.loads(serialize.dumps(g))
    sinks = [rg.ir.Tensor(g, n) for n in g.nx if g.nx.out_degree(n) == 0]
    if sinks:
        rg.compile(sinks)
    return g


@FUZZ
@given(mutated_docs())
def test_mutated_documents_raise_only_graph_error(doc):
    assert_graph_error_or_valid_graph(json.dumps(doc))


@st.composite
def structural_damage(draw):
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    nodes, edges = doc["graph"]["nodes"], doc["graph"]["edges"]
    ids = [n["id"] for n in nodes] + [-1, 10 ** 6]
    kind = draw(st.sampled_from(["rewire", "self_loop", "add_edge", "drop_edge", "op", "shape", "dtype", "slot"]))
    if kind == "rewire" and edges:
        e = draw(st.sampled_from(edges))
        e[draw(st.sampled_from(["source", "target"]))] = draw(st.sampled_from(ids))
    elif kind == "self_loop":
        n = draw(st.sampled_from(nodes))["id"]
        edges.append({"source": n, "target": n, "key": draw(st.integers(0, 3)), "slot": 0})
        edges[-1]["slot"] = edges[-1]["key"]
    elif kind == "add_edge":
        k = draw(st.integers(-1, 4))
        edges.append({"source": draw(st.sampled_from(ids)), "target": draw(st.sampled_from(ids)), "key": k, "slot": k})
    elif kind == "drop_edge" and edges:
        edges.pop(draw(st.integers(0, len(edges) - 1)))
    elif kind == "op":
        draw(st.sampled_from(nodes))["op"] = draw(st.sampled_from(sorted(all_ops()) + ["input", "constant", "Mul"]))
    elif kind == "shape":
        node = draw(st.sampled_from(nodes))
        node["shape"] = draw(st.lists(st.one_of(st.none(), st.integers(-3, 5), st.sampled_from([2 ** 62, 2 ** 63, 10 ** 40])),
                                      max_size=5))
    elif kind == "dtype":
        draw(st.sampled_from(nodes))["dtype"] = draw(st.sampled_from(["float32", "int8", "bool", "uint64", ">f8",
                                                                      "float16", "complex128", "object", "V3"]))
    elif kind == "slot" and edges:
        draw(st.sampled_from(edges))["slot"] = draw(st.integers(-1, 3))
    return doc


@FUZZ
@given(structural_damage())
def test_structural_damage_raises_only_graph_error(doc):
    assert_graph_error_or_valid_graph(json.dumps(doc))


@FUZZ
@given(st.sampled_from(SEED_TEXTS), st.data())
def test_damaged_bytes_raise_only_graph_error(text, data):
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "non_utf8"]))
    at = data.draw(st.integers(0, len(text) - 1))
    if kind == "truncate":
        text = text[:at]
    elif kind == "flip":
        text = text[:at] + bytes([data.draw(st.integers(0, 255))]) + text[at + 1:]
    elif kind == "insert":
        text = text[:at] + data.draw(st.binary(min_size=1, max_size=8)) + text[at:]
    else:
        text = text[:at] + data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + text[at:]
    assert_graph_error_or_valid_graph(text)


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(1, 200_000), st.data())
def test_deep_nesting_raises_only_graph_error(doc, depth, data):
    doc = copy.deepcopy(doc)
    container, key = data.draw(st.sampled_from(_paths(doc)))
    container[key] = "@@NEST@@"
    opener, closer = data.draw(st.sampled_from([("[", "]"), ('{"tuple": [', "]}"), ('{"a": ', "}")]))
    text = json.dumps(doc).replace('"@@NEST@@"', opener * depth + "0" + closer * depth)
    assert_graph_error_or_valid_graph(text)


def test_deep_nesting_at_the_top_is_a_graph_error():
    for text in ("[" * 1_000_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        try:
            serialize.loads(text)
        except rg.GraphError as exc:
            assert "nested too deeply" in str(exc) or "not a revgraph graph" in str(exc) or "not valid JSON" in str(exc)
        else:
            raise AssertionError("loaded")


# -- hostile files (issue 11 items 5-8): duplicates, extreme numbers, impossible shapes ------------------
EXTREME_INTS = [0, 1, -1, 2, 3, 10, 63, 64, 2 ** 31, 2 ** 62, 2 ** 63 - 1, -(2 ** 63)]
EXTREME_FLOATS = [0.0, -0.0, 0.5, 1 / 3, -8.0, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan")]
WEAK_OPS = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "less", "equal", "where"]
HUGE_SHAPES = [[0, 2 ** 62, 2 ** 62], [2 ** 20, 2 ** 20], [2 ** 31] * 3, [2 ** 63 - 1], [1] * 65, [0] * 64,
               [2 ** 62, 0, 2 ** 62], [None, 2 ** 62, 2 ** 62]]


@st.composite
def hostile_files(draw):
    """The bytes of a file with duplicated keys or edges, weak numbers at their extremes, big ints or huge shapes."""
    kind = draw(st.sampled_from(["dup_key", "dup_edge", "weak_pair", "big_int", "huge_shape"]))
    if kind == "weak_pair":
        op = draw(st.sampled_from(WEAK_OPS))
        numbers = st.sampled_from(EXTREME_INTS) | st.sampled_from(EXTREME_FLOATS) | st.booleans()
        a, b = draw(numbers), draw(numbers)
        try:
            if op == "where":
                g = rg.Graph("w")
                x = g.input("x")
                c = rg.where(g.constant(bool(a)), g.constant(a), g.constant(b))  # folded at declaration
                g.outputs = x + c
                return serialize.dumps(g).encode()
            return hostile.weak_pair_file(op, a, b)
        except rg.GraphError:  # e.g. no rule for these operand types: nothing to load
            return b"{}"
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    nodes, edges = doc["graph"]["nodes"], doc["graph"]["edges"]
    if kind == "dup_edge" and edges:
        e = draw(st.sampled_from(edges))
        for _ in range(draw(st.integers(1, 1000))):
            edges.insert(draw(st.integers(0, len(edges))), dict(e))
    elif kind == "big_int":
        container, key = draw(st.sampled_from(_paths(doc)))
        container[key] = draw(st.sampled_from([2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30, 10 ** 4000, -(10 ** 30)]))
    elif kind == "huge_shape":
        node = draw(st.sampled_from(nodes))
        node["shape"] = list(draw(st.sampled_from(HUGE_SHAPES)))
        if "value" in node and draw(st.booleans()):
            node["value"]["shape"] = [0 if d is None else d for d in node["shape"]]
    text = json.dumps(doc)
    if kind == "dup_key":
        starts = [i for i in range(len(text)) if text.startswith('{"', i)]
        at = draw(st.sampled_from(starts)) + 1
        key = draw(st.sampled_from(["op", "id", "shape", "axis", "nodes", "k"]))
        n = draw(st.integers(1, 2000))
        text = text[:at] + "".join(f'"{key}{i}": {i}, ' for i in range(n)) + f'"{key}{n - 1}": 0, ' + text[at:]
    return text.encode()


@FUZZ
@given(hostile_files())
def test_hostile_files_raise_only_allowed_errors(data):
    """Load, compile and run: only GraphError, FeedError or check_finite's FloatingPointError may escape."""
    try:
        with np.errstate(all="ignore"):
            hostile.load_and_run(data)
            hostile.load_and_run(data, optimize=False, check_finite=True)
    except hostile.ALLOWED:
        pass
